//! The locks an HTLC can carry, and the check every hop applies to a claim.
//!
//! Three lock types (see DESIGN.md, "Redundant overpayment"):
//!
//! | [`LockKind`] | HTLC `payment_hash` | second hash every hop sees | claimed with | proof of payment |
//! |---|---|---|---|---|
//! | `Hash` | the receiver's H(r) | — | r | r |
//! | `SenderHash` | the sender's H(s_i), one per part | — | s_i | none |
//! | `H2tlc` | the receiver's H(r) | H(s_i) | r **and** s_i | r |
//!
//! A `SenderHash` HTLC is an ordinary hash-locked HTLC to every hop (no hop changes): only
//! the sender and receiver know that its hash is the sender's. An `H2tlc` HTLC carries
//! [`HtlcLock::H2tlc`] in the HTLC itself (and in `update_add_htlc`), so hops must
//! understand it: a node whose [`crate::config::NodeConfig::supports_h2tlc`] is false
//! fails such an add with `required_node_feature_missing`.
//!
//! [`check_claim`] is the rule every hop applies to `update_fulfill_htlc`: the preimage
//! must hash to the HTLC's `payment_hash` and, for an `H2tlc`, the sender secret must hash
//! to its second hash.

use bitcoin::hashes::{sha256, Hash};

use crate::invoice::payment_hash_of;
use crate::{PaymentHash, PaymentPreimage};

/// The lock type of a payment part (what the final payload announces).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum LockKind {
    /// Today's HTLC: the receiver's hash.
    #[default]
    Hash,
    /// Each part locked to its own sender-chosen hash H(s_i).
    SenderHash,
    /// The receiver's hash and a per-part sender hash H(s_i) (Spear-style).
    H2tlc,
}

impl LockKind {
    /// The byte that stands for it in the redundant TLV record.
    pub fn to_byte(self) -> u8 {
        match self {
            LockKind::Hash => 0,
            LockKind::SenderHash => 1,
            LockKind::H2tlc => 2,
        }
    }

    /// The lock a byte stands for.
    pub fn from_byte(b: u8) -> Option<LockKind> {
        match b {
            0 => Some(LockKind::Hash),
            1 => Some(LockKind::SenderHash),
            2 => Some(LockKind::H2tlc),
            _ => None,
        }
    }

    /// Its name in arm names and logs (`hash`, `sender_hash`, `h2tlc`).
    pub fn name(self) -> &'static str {
        match self {
            LockKind::Hash => "hash",
            LockKind::SenderHash => "sender_hash",
            LockKind::H2tlc => "h2tlc",
        }
    }
}

/// The lock as hops see it, part of every HTLC and `update_add_htlc`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum HtlcLock {
    /// Claimable with the preimage of `payment_hash` (also what a `SenderHash` part is).
    #[default]
    Hash,
    /// Claimable only with the preimage of `payment_hash` and a secret whose SHA-256 is
    /// `sender_hash`.
    H2tlc {
        /// H(s_i).
        sender_hash: PaymentHash,
    },
}

impl HtlcLock {
    /// The second hash, if any.
    pub fn sender_hash(&self) -> Option<PaymentHash> {
        match *self {
            HtlcLock::Hash => None,
            HtlcLock::H2tlc { sender_hash } => Some(sender_hash),
        }
    }
}

/// SHA-256 of a sender secret: the hash a part is locked to.
pub fn sender_hash_of(secret: &[u8; 32]) -> PaymentHash {
    PaymentHash(sha256::Hash::hash(secret).to_byte_array())
}

/// Why a claim does not open a lock.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ClaimError {
    /// The preimage does not hash to `payment_hash`.
    #[error("preimage does not match the payment hash")]
    WrongPreimage,
    /// An `H2tlc` claim without a sender secret.
    #[error("h2tlc claim without the sender secret")]
    MissingSenderSecret,
    /// The sender secret does not hash to the HTLC's second hash.
    #[error("sender secret does not match the second hash")]
    WrongSenderSecret,
}

/// Whether `preimage` (and `sender_secret`) open an HTLC locked to `payment_hash` and
/// `lock`. A sender secret given for a plain hash lock is ignored.
pub fn check_claim(
    payment_hash: &PaymentHash,
    lock: &HtlcLock,
    preimage: &PaymentPreimage,
    sender_secret: Option<&[u8; 32]>,
) -> Result<(), ClaimError> {
    if payment_hash_of(preimage) != *payment_hash {
        return Err(ClaimError::WrongPreimage);
    }
    if let HtlcLock::H2tlc { sender_hash } = lock {
        let s = sender_secret.ok_or(ClaimError::MissingSenderSecret)?;
        if sender_hash_of(s) != *sender_hash {
            return Err(ClaimError::WrongSenderSecret);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h2tlc_needs_both_secrets() {
        let r = PaymentPreimage([1; 32]);
        let s = [2u8; 32];
        let h = payment_hash_of(&r);
        let lock = HtlcLock::H2tlc {
            sender_hash: sender_hash_of(&s),
        };
        assert_eq!(check_claim(&h, &lock, &r, Some(&s)), Ok(()));
        assert_eq!(
            check_claim(&h, &lock, &r, None),
            Err(ClaimError::MissingSenderSecret)
        );
        assert_eq!(
            check_claim(&h, &lock, &r, Some(&[3; 32])),
            Err(ClaimError::WrongSenderSecret)
        );
        assert_eq!(
            check_claim(&h, &lock, &PaymentPreimage(s), Some(&s)),
            Err(ClaimError::WrongPreimage)
        );
        // A sender-hash part is a plain hash lock on H(s).
        let hs = sender_hash_of(&s);
        assert_eq!(
            check_claim(&hs, &HtlcLock::Hash, &PaymentPreimage(s), None),
            Ok(())
        );
        for k in [LockKind::Hash, LockKind::SenderHash, LockKind::H2tlc] {
            assert_eq!(LockKind::from_byte(k.to_byte()), Some(k));
        }
        assert_eq!(LockKind::from_byte(3), None);
    }
}
