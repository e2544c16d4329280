//! Point-lock claims already verified. Every hop of one part checks the same scalar
//! against the same point (one generator multiplication, ~30 µs), and the answer is a
//! pure function of the two, so the network verifies each pair once and remembers it
//! in a small direct-mapped table, and in a [`PointMemo`] shared with other networks
//! that see the same claims (a simulation's arms). Outcomes are exactly those of
//! checking every time.

use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;

use crate::boomerang::PointMemo;

use crate::lock::{check_claim, ClaimError, HtlcLock};
use crate::{PaymentHash, PaymentPreimage};

use super::Network;

/// Slots of the table (a power of two).
const SLOTS: usize = 1024;

/// Verified `(point, scalar)` pairs, one per slot.
#[derive(Clone, Debug, Default)]
pub(super) struct VerifiedClaims {
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

impl Network {
    /// Shares verified point-lock claims with other networks through `memo`.
    pub fn share_point_memo(&mut self, memo: Arc<PointMemo>) {
        self.verified_claims.shared = Some(memo);
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
                if self.verified_claims.opens(point, &preimage.0) {
                    Ok(())
                } else {
                    Err(ClaimError::WrongScalar)
                }
            }
            _ => check_claim(payment_hash, lock, preimage, sender_secret),
        }
    }
}
