//! Onions in two modes with one interface.
//!
//! An onion tells each hop what to do with an HTLC and nothing more. flotilla carries it in
//! one of two forms with identical observable semantics:
//!
//! - **modeled** ([`ModeledOnion`]): the sender's list of per-hop payloads behind one
//!   `Arc`, plus the index of the hop it is addressed to. Peeling is an index increment
//!   and an `Arc` clone: no allocation, no cryptography, so a simulated hop costs tens of
//!   nanoseconds. A hop can only look at its own entry, which is what Sphinx guarantees.
//! - **real** ([`real::RealOnion`]): a BOLT 4 Sphinx packet built at the sender and peeled
//!   hop by hop with the hop's node key ([`real`], on `fiber-sphinx`).
//!
//! Failures travel back the same way: [`FailReason::Modeled`] is the plain [`Failure`]
//! whose `origin_hop` grows by one at every hop that relays it (so the sender reads the
//! erring node's position exactly as it would after decrypting a real failure onion);
//! [`FailReason::Real`] is the encrypted failure onion.
//!
//! Payloads are checked the same way in both modes: a modeled hop may carry raw TLV bytes
//! ([`ModeledHop::Encoded`]) that are decoded with [`tlv`], and every decoded payload is
//! checked against its position with [`tlv::check_position`].

pub mod real;
pub mod tlv;

use std::sync::Arc;

use bitcoin::secp256k1::SecretKey;

use crate::failure::{Failure, FailureCode};
use crate::payload::HopPayload;
use crate::PaymentHash;
use real::SharedSecret;
use tlv::PayloadError;

/// Which onion form a [`crate::network::Network`] uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum OnionMode {
    /// Plain per-hop payload structs; fast.
    #[default]
    Modeled,
    /// BOLT 4 Sphinx packets and failure onions.
    Real,
}

/// One hop's entry in a modeled onion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ModeledHop {
    /// A payload as a struct (what every honest sender builds).
    Payload(HopPayload),
    /// The payload's TLV stream as bytes, decoded at the hop with [`tlv::decode_hop`]:
    /// lets tests and fuzzers hand a hop a malformed payload in modeled mode.
    Encoded(Box<[u8]>),
}

/// A modeled onion: every hop's entry, shared, and the position of the hop it is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModeledOnion {
    hops: Arc<[ModeledHop]>,
    index: u32,
    /// Position of the hop that finds this onion tampered with, if any.
    tampered_at: Option<u32>,
}

impl ModeledOnion {
    /// An onion whose first entry is for the first hop.
    pub fn new(hops: impl Into<Arc<[ModeledHop]>>) -> Self {
        ModeledOnion {
            hops: hops.into(),
            index: 0,
            tampered_at: None,
        }
    }

    /// An onion from plain payloads (forwarding payloads, then the final one).
    pub fn from_payloads(payloads: Vec<HopPayload>) -> Self {
        let hops: Vec<ModeledHop> = payloads.into_iter().map(ModeledHop::Payload).collect();
        Self::new(hops)
    }

    /// The same onion marked as tampered with: the hop it reaches answers
    /// `invalid_onion_hmac`, as it would for a real packet whose bytes were changed.
    pub fn tampered(self) -> Self {
        let at = self.index;
        self.tampered_at(at as usize)
    }

    /// The same onion, tampered with so that the hop at position `hop` (0 = the first
    /// hop's far node) answers `invalid_onion_hmac`: a corrupting forwarder upstream.
    pub fn tampered_at(mut self, hop: usize) -> Self {
        self.tampered_at = Some(hop as u32);
        self
    }

    /// Position of the hop this onion is addressed to (0 = the first hop's far node).
    pub fn index(&self) -> usize {
        self.index as usize
    }

    /// Number of hops the sender wrote entries for.
    pub fn len(&self) -> usize {
        self.hops.len()
    }

    /// Whether there are no entries at all.
    pub fn is_empty(&self) -> bool {
        self.hops.is_empty()
    }

    /// The onion for the next hop: the same entries, one position further.
    fn next(&self) -> ModeledOnion {
        ModeledOnion {
            hops: Arc::clone(&self.hops),
            index: self.index + 1,
            tampered_at: self.tampered_at,
        }
    }
}

/// The onion an `update_add_htlc` carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Onion {
    /// See [`ModeledOnion`].
    Modeled(ModeledOnion),
    /// A BOLT 4 Sphinx packet.
    Real(real::RealOnion),
}

/// The reason an `update_fail_htlc` carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// The failure in the clear; `origin_hop` counts the hops that relayed it so far.
    Modeled(Failure),
    /// An encrypted BOLT 4 failure onion.
    Real(real::FailureOnion),
}

/// What a hop learns from its layer of the onion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeeledHop {
    /// The hop's payload, already checked against its position.
    pub payload: HopPayload,
    /// The onion to hand the next hop; `None` when this hop is the final one.
    pub next: Option<Onion>,
    /// Real mode: the hop's shared secret with the sender, kept with the HTLC to build or
    /// wrap its failure onion.
    pub shared_secret: Option<SharedSecret>,
}

/// Why a hop could not use its layer. Each maps to one BOLT 4 failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeelError {
    /// The packet is unusable (BADONION codes). BOLT 2 answers with
    /// `update_fail_malformed_htlc`; the previous hop turns it into a failure.
    #[error("unusable onion: {code}")]
    BadOnion {
        /// `invalid_onion_version`, `invalid_onion_hmac` or `invalid_onion_key`.
        code: FailureCode,
        /// The failure's data (zeros in modeled mode, which has no packet bytes).
        sha256_of_onion: [u8; 32],
    },
    /// The layer authenticated but the payload is invalid or incomplete:
    /// `invalid_onion_payload`.
    #[error("invalid onion payload: {error}")]
    InvalidPayload {
        /// What is wrong with it.
        error: PayloadError,
        /// Real mode: the shared secret, to build the failure onion.
        shared_secret: Option<SharedSecret>,
    },
    /// A real onion reached a network without real-onion keys (or the reverse).
    #[error("this network does not process {0} onions")]
    Unsupported(&'static str),
}

impl PeelError {
    /// The BOLT 4 failure code the hop answers with.
    pub fn failure_code(&self) -> FailureCode {
        match self {
            PeelError::BadOnion { code, .. } => *code,
            PeelError::InvalidPayload { .. } => FailureCode::InvalidOnionPayload,
            // No key can authenticate a packet the hop cannot process.
            PeelError::Unsupported(_) => FailureCode::InvalidOnionHmac,
        }
    }
}

/// Peels one layer. `node_secret` is the hop's key, needed in real mode only;
/// `payment_hash` is the HTLC's, the associated data every real HMAC covers.
pub fn peel(
    onion: &Onion,
    node_secret: Option<&SecretKey>,
    payment_hash: &PaymentHash,
) -> Result<PeeledHop, PeelError> {
    match onion {
        Onion::Modeled(m) => peel_modeled(m),
        Onion::Real(r) => {
            let key = node_secret.ok_or(PeelError::Unsupported("real"))?;
            match real::peel_onion(key, r, &payment_hash.0) {
                Ok(p) => Ok(PeeledHop {
                    payload: p.payload,
                    next: p.next.map(Onion::Real),
                    shared_secret: Some(p.shared_secret),
                }),
                Err(real::OnionError::InvalidPayload {
                    error,
                    shared_secret,
                }) => Err(PeelError::InvalidPayload {
                    error,
                    shared_secret: Some(shared_secret),
                }),
                Err(real::OnionError::BadOnion {
                    code,
                    sha256_of_onion,
                }) => Err(PeelError::BadOnion {
                    code,
                    sha256_of_onion,
                }),
                Err(other) => Err(PeelError::BadOnion {
                    code: other
                        .failure_code()
                        .unwrap_or(FailureCode::InvalidOnionHmac),
                    sha256_of_onion: r.sha256(),
                }),
            }
        }
    }
}

/// The modeled peel: the entry at `index`, checked like a decoded TLV payload.
fn peel_modeled(m: &ModeledOnion) -> Result<PeeledHop, PeelError> {
    let bad = || PeelError::BadOnion {
        code: FailureCode::InvalidOnionHmac,
        sha256_of_onion: [0; 32],
    };
    if m.tampered_at == Some(m.index) {
        return Err(bad());
    }
    // A node past the last entry is not on the sender's path: no layer is for it, which
    // Sphinx reports as an HMAC mismatch.
    let entry = m.hops.get(m.index()).ok_or_else(bad)?;
    let is_final = m.index() + 1 == m.hops.len();
    let payload = match entry {
        ModeledHop::Payload(p) => {
            tlv::check_position(p, is_final).map_err(|error| PeelError::InvalidPayload {
                error,
                shared_secret: None,
            })?;
            p.clone()
        }
        ModeledHop::Encoded(bytes) => {
            tlv::decode_hop(bytes, is_final).map_err(|error| PeelError::InvalidPayload {
                error,
                shared_secret: None,
            })?
        }
    };
    Ok(PeeledHop {
        payload,
        next: (!is_final).then(|| Onion::Modeled(m.next())),
        shared_secret: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> PaymentHash {
        PaymentHash([7; 32])
    }

    #[test]
    fn modeled_onion_peels_in_order() {
        let o = Onion::Modeled(ModeledOnion::from_payloads(vec![
            HopPayload::forward(5, 1_000, 120),
            HopPayload::final_hop(1_000, 100, None, None),
        ]));
        let first = peel(&o, None, &hash()).unwrap();
        assert_eq!(first.payload.short_channel_id, Some(5));
        let next = first.next.expect("a forwarding hop has a next onion");
        let last = peel(&next, None, &hash()).unwrap();
        assert!(last.payload.is_final());
        assert!(last.next.is_none());
    }

    #[test]
    fn modeled_payload_in_wrong_position_is_invalid() {
        // A final-hop payload at a forwarding position lacks short_channel_id.
        let o = Onion::Modeled(ModeledOnion::from_payloads(vec![
            HopPayload::final_hop(1_000, 100, None, None),
            HopPayload::final_hop(1_000, 100, None, None),
        ]));
        let e = peel(&o, None, &hash()).unwrap_err();
        assert_eq!(e.failure_code(), FailureCode::InvalidOnionPayload);
        assert!(matches!(
            e,
            PeelError::InvalidPayload {
                error: PayloadError::MissingField { tlv_type: 6 },
                ..
            }
        ));
    }

    #[test]
    fn encoded_payload_missing_amount_is_invalid() {
        // Only outgoing_cltv_value (type 4, value 100).
        let bytes: Box<[u8]> = vec![4u8, 1, 100].into();
        let o = Onion::Modeled(ModeledOnion::new(vec![ModeledHop::Encoded(bytes)]));
        let e = peel(&o, None, &hash()).unwrap_err();
        assert!(matches!(
            e,
            PeelError::InvalidPayload {
                error: PayloadError::MissingField { tlv_type: 2 },
                ..
            }
        ));
    }

    #[test]
    fn tampered_and_overrun_onions_are_bad() {
        let m = ModeledOnion::from_payloads(vec![HopPayload::final_hop(1, 1, None, None)]);
        let e = peel(&Onion::Modeled(m.clone().tampered()), None, &hash()).unwrap_err();
        assert_eq!(e.failure_code(), FailureCode::InvalidOnionHmac);
        let past = m.next();
        let e = peel(&Onion::Modeled(past), None, &hash()).unwrap_err();
        assert_eq!(e.failure_code(), FailureCode::InvalidOnionHmac);
    }
}
