//! The locks an HTLC can carry, and the check every hop applies to a claim.
//!
//! Four lock types (see DESIGN.md, "Redundant overpayment"):
//!
//! | [`LockKind`] | HTLC `payment_hash` | second hash every hop sees | claimed with | proof of payment |
//! |---|---|---|---|---|
//! | `Hash` | the receiver's H(r) | — | r | r |
//! | `SenderHash` | the sender's H(s_i), one per part | — | s_i | none |
//! | `H2tlc` | the receiver's H(r) | H(s_i) | r **and** s_i | r |
//! | `Boomerang` | H(point), an id only | the point P(i)·G | the scalar P(i) | — |
//!
//! A `SenderHash` HTLC is an ordinary hash-locked HTLC to every hop (no hop changes): only
//! the sender and receiver know that its hash is the sender's. An `H2tlc` HTLC carries
//! [`HtlcLock::H2tlc`] in the HTLC itself (and in `update_add_htlc`), so hops must
//! understand it: a node whose [`crate::config::NodeConfig::supports_h2tlc`] is false
//! fails such an add with `required_node_feature_missing`. A `Boomerang` part is a
//! point-locked HTLC (a PTLC, [`HtlcLock::Point`]); hops need PTLC support
//! ([`crate::config::NodeConfig::supports_ptlc`]) and check a claim with one generator
//! multiplication ([`crate::boomerang`]).
//!
//! [`check_claim`] is the rule every hop applies to `update_fulfill_htlc`: the preimage
//! must hash to the HTLC's `payment_hash` and, for an `H2tlc`, the sender secret must hash
//! to its second hash; for a `Point` lock the 32 claimed bytes must be the point's
//! discrete logarithm.

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::PublicKey;

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
    /// Point locks P(i)·G on a receiver's committed polynomial (Boomerang): the receiver
    /// claims k equal parts without a round trip; claiming k + 1 lets the sender take
    /// every claimed part back.
    Boomerang,
}

impl LockKind {
    /// The byte that stands for it in the redundant TLV record.
    pub fn to_byte(self) -> u8 {
        match self {
            LockKind::Hash => 0,
            LockKind::SenderHash => 1,
            LockKind::H2tlc => 2,
            LockKind::Boomerang => 3,
        }
    }

    /// The lock a byte stands for.
    pub fn from_byte(b: u8) -> Option<LockKind> {
        match b {
            0 => Some(LockKind::Hash),
            1 => Some(LockKind::SenderHash),
            2 => Some(LockKind::H2tlc),
            3 => Some(LockKind::Boomerang),
            _ => None,
        }
    }

    /// Its name in arm names and logs (`hash`, `sender_hash`, `h2tlc`, `boomerang`).
    pub fn name(self) -> &'static str {
        match self {
            LockKind::Hash => "hash",
            LockKind::SenderHash => "sender_hash",
            LockKind::H2tlc => "h2tlc",
            LockKind::Boomerang => "boomerang",
        }
    }

    /// The lock with this name.
    pub fn from_name(name: &str) -> Option<LockKind> {
        [
            LockKind::Hash,
            LockKind::SenderHash,
            LockKind::H2tlc,
            LockKind::Boomerang,
        ]
        .into_iter()
        .find(|k| k.name() == name)
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
    /// Claimable only with the scalar whose multiple of G is `point` (a PTLC); the
    /// HTLC's `payment_hash` is H(point), an identifier that locks nothing.
    Point {
        /// P(i)·G.
        point: PublicKey,
    },
}

impl HtlcLock {
    /// The second hash, if any.
    pub fn sender_hash(&self) -> Option<PaymentHash> {
        match *self {
            HtlcLock::H2tlc { sender_hash } => Some(sender_hash),
            _ => None,
        }
    }

    /// A point lock's `payment_hash`: SHA-256 of the compressed point.
    pub fn point_id(point: &PublicKey) -> PaymentHash {
        PaymentHash(sha256::Hash::hash(&point.serialize()).to_byte_array())
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
    /// The claimed scalar is not the point's discrete logarithm.
    #[error("scalar does not open the point lock")]
    WrongScalar,
}

/// Whether `preimage` (and `sender_secret`) open an HTLC locked to `payment_hash` and
/// `lock`. A sender secret given for a plain hash lock is ignored. For a point lock the
/// preimage's bytes are the claimed scalar.
pub fn check_claim(
    payment_hash: &PaymentHash,
    lock: &HtlcLock,
    preimage: &PaymentPreimage,
    sender_secret: Option<&[u8; 32]>,
) -> Result<(), ClaimError> {
    if let HtlcLock::Point { point } = lock {
        return if crate::boomerang::opens_point(point, &preimage.0) {
            Ok(())
        } else {
            Err(ClaimError::WrongScalar)
        };
    }
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
        // A point lock opens with its scalar only.
        let poly = crate::boomerang::BoomerangPolynomial::from_seed(&[1; 32], 2);
        let point = poly.commitments().point(3).unwrap();
        let lock = HtlcLock::Point { point };
        let id = HtlcLock::point_id(&point);
        let scalar = PaymentPreimage(poly.share(3).unwrap().secret_bytes());
        assert_eq!(check_claim(&id, &lock, &scalar, None), Ok(()));
        assert_eq!(
            check_claim(
                &id,
                &lock,
                &PaymentPreimage(poly.share(4).unwrap().secret_bytes()),
                None
            ),
            Err(ClaimError::WrongScalar)
        );
        assert_eq!(
            check_claim(&id, &lock, &PaymentPreimage([0; 32]), None),
            Err(ClaimError::WrongScalar)
        );
        for k in [
            LockKind::Hash,
            LockKind::SenderHash,
            LockKind::H2tlc,
            LockKind::Boomerang,
        ] {
            assert_eq!(LockKind::from_byte(k.to_byte()), Some(k));
            assert_eq!(LockKind::from_name(k.name()), Some(k));
        }
        assert_eq!(LockKind::from_byte(4), None);
        assert_eq!(LockKind::from_name("ptlc"), None);
    }
}
