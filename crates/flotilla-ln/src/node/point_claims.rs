//! Point-lock claims already verified. Every hop of one part checks the same scalar
//! against the same point (one generator multiplication, ~30 µs), and the answer is a
//! pure function of the two, so a node verifies each pair once and remembers it in a
//! small direct-mapped table, and in a [`PointMemo`] it may share with other nodes that
//! see the same claims (a simulation's nodes and arms). Outcomes are exactly those of
//! checking every time: the memo is a cache, not state.

use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;

use crate::boomerang::PointMemo;

use crate::lock::{check_claim, ClaimError, HtlcLock};
use crate::{PaymentHash, PaymentPreimage};

use super::Node;

/// Slots of the table (a power of two).
const SLOTS: usize = 1024;

/// Verified `(point, scalar)` pairs, one per slot (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct VerifiedClaims {
    slots: Vec<Option<(PublicKey, [u8; 32])>>,
    shared: Option<Arc<PointMemo>>,
}

impl VerifiedClaims {
    fn slot(point: &PublicKey) -> usize {
        let b = point.serialize();
        (u16::from_le_bytes([b[1], b[2]]) as usize) & (SLOTS - 1)
    }

    fn opens(&mut self, point: &PublicKey, scalar: &[u8; 32]) -> bool {
        if self.slots.is_empty() {
            self.slots = vec![None; SLOTS];
        }
        let i = Self::slot(point);
        if self.slots[i] == Some((*point, *scalar)) {
            return true;
        }
        let ok = match &self.shared {
            Some(m) => m.opens(point, scalar),
            None => crate::boomerang::opens_point(point, scalar),
        };
        if ok {
            self.slots[i] = Some((*point, *scalar));
        }
        ok
    }
}

/// A table of verified claims several nodes share (one simulated network's nodes: a
/// lock, uncontended in a single-threaded driver).
pub type SharedClaims = Arc<std::sync::Mutex<VerifiedClaims>>;

impl VerifiedClaims {
    /// A table backed by `memo` (shared with other networks), if any.
    pub fn shared(memo: Option<Arc<PointMemo>>) -> SharedClaims {
        Arc::new(std::sync::Mutex::new(VerifiedClaims {
            slots: Vec::new(),
            shared: memo,
        }))
    }
}

impl Node {
    /// Makes this node use `claims` (shared with other nodes) for point-lock checks.
    pub fn share_verified_claims(&mut self, claims: SharedClaims) {
        self.verified_claims = claims;
    }

    /// [`check_claim`], with point locks verified once per `(point, scalar)`.
    pub(super) fn claim_opens(
        &mut self,
        payment_hash: &PaymentHash,
        lock: &HtlcLock,
        preimage: &PaymentPreimage,
        sender_secret: Option<&[u8; 32]>,
    ) -> Result<(), ClaimError> {
        match lock {
            HtlcLock::Point { point } => {
                let ok = self
                    .verified_claims
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .opens(point, &preimage.0);
                if ok {
                    Ok(())
                } else {
                    Err(ClaimError::WrongScalar)
                }
            }
            _ => check_claim(payment_hash, lock, preimage, sender_secret),
        }
    }
}
