//! Starting a redundant payment in the event loop: the receiver's registration (for
//! `boomerang`, its polynomial) and the sender's session, from the scenario.

use std::sync::Arc;

use flotilla_graph::NodeIdx;
use flotilla_ln::boomerang::{BoomerangPolynomial, PointMemo};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::network::Network;
use flotilla_ln::receiver::RegisterError;
use flotilla_ln::redundant::RedundantInvoice;
use flotilla_ln::redundant_session::{
    RedundancyStrategy, RedundantLimits, RedundantPayment, RedundantSession,
};
use flotilla_route::Timestamp;

use crate::scenario::SenderConfig;
use crate::workload::PaymentSpec;

/// The sender's limits for a redundant payment of `amount_msat` (see the scenario's
/// `redundant_part_sat` and `redundant_base_parts`).
pub fn redundant_limits(
    sender: &SenderConfig,
    strategy: RedundancyStrategy,
    retry: bool,
    amount_msat: u64,
    excluded_nodes: &[NodeIdx],
) -> RedundantLimits {
    let (max_part_msat, max_base_parts) = if sender.redundant_base_parts > 0 {
        // k = clamp(⌈A / 1 msat⌉, 1, v) = v for any A ≥ v msat.
        (1, sender.redundant_base_parts)
    } else {
        (sender.redundant_part_sat * 1000, sender.max_parts.max(1))
    };
    RedundantLimits {
        strategy,
        retry,
        max_part_msat,
        max_base_parts,
        max_parts_in_flight: 3 * max_base_parts.max(1),
        max_attempts: sender.max_attempts,
        timeout_micros: sender.timeout_secs * 1_000_000,
        max_fee_msat: sender.fee_limit_msat(amount_msat),
        final_cltv_delta: sender.final_cltv_delta,
        min_route_probability: sender.min_route_probability,
        excluded_nodes: excluded_nodes.to_vec(),
        min_part_msat: sender.min_part_sat * 1000,
        base_split: false,
        hedge_hop_micros: None,
        tree_copies: false,
    }
}

/// Registers redundant payment `id` (`spec`, paid to an invoice with `keys`) at its
/// receiver and returns the sender's session. `boomerang` draws the receiver's
/// polynomial from the payment's preimage (each payment its own) with the degree the
/// sender's sizing gives; an amount with no equal split fails registration. The
/// sender's points come from `memo` when another arm computed them already.
///
/// With `points_ahead`, the points of every part the session may send (indices below
/// `limits.max_attempts`) go into `memo` first, each computed from the receiver's
/// polynomial as P(x)·G: one generator multiplication, where the sender's computation
/// from the commitments costs k point multiplications and k additions (about 25 times
/// as long at k = 25). The point is the same either way, so no outcome changes; it
/// pays off where a payment sends many parts and most of those it may send (the paper
/// arms: k + E or k + R parts, every one drawn in the first place or likely replaced).
#[allow(clippy::too_many_arguments)]
pub fn start_redundant(
    net: &mut Network,
    id: u64,
    spec: &PaymentSpec,
    keys: &PaymentKeys,
    lock: LockKind,
    limits: RedundantLimits,
    secret_seed: u64,
    memo: &Arc<PointMemo>,
    points_ahead: bool,
    now: Timestamp,
) -> Result<RedundantSession, RegisterError> {
    let invoice = RedundantInvoice {
        payment_secret: keys.secret,
        amount_msat: spec.amount_msat,
        lock,
        preimage: (lock == LockKind::H2tlc).then_some(keys.preimage),
        min_final_cltv_expiry_delta: limits.final_cltv_delta,
        expires_at: now + 3_600_000_000,
    };
    let commitments = if lock == LockKind::Boomerang {
        let degree = RedundantSession::boomerang_degree(spec.amount_msat, &limits)
            .ok_or(RegisterError::BadPolynomial)?;
        let poly =
            BoomerangPolynomial::from_seed(&keys.preimage.0, degree).with_memo(Arc::clone(memo));
        let c = poly.commitments();
        if points_ahead {
            put_points_ahead(&poly, limits.max_attempts);
        }
        net.register_boomerang(spec.destination, invoice, poly)?;
        Some(c)
    } else {
        net.register_redundant(spec.destination, invoice)?;
        None
    };
    Ok(RedundantSession::new(
        RedundantPayment {
            id,
            source: spec.source,
            target: spec.destination,
            amount_msat: spec.amount_msat,
            lock,
            payment_id: RedundantSession::payment_id_for(id, &keys.secret.0),
            payment_secret: keys.secret,
            payment_hash: (lock == LockKind::H2tlc).then_some(keys.hash),
            commitments,
            secret_seed,
        },
        limits,
        now,
    ))
}

/// Computes the points of parts 0 … `parts` − 1 from the receiver's polynomial (share·G),
/// which puts them in its memo for the sender (see [`start_redundant`]).
fn put_points_ahead(poly: &BoomerangPolynomial, parts: u32) {
    for index in 0..u16::try_from(parts).unwrap_or(u16::MAX) {
        poly.point(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_ln::boomerang::BoomerangCommitments;

    #[test]
    fn points_put_ahead_are_the_ones_the_sender_computes_and_it_reads_them() {
        let memo = Arc::new(PointMemo::default());
        let poly = BoomerangPolynomial::from_seed(&[9; 32], 25).with_memo(Arc::clone(&memo));
        put_points_ahead(&poly, 60);
        assert_eq!(memo.len(), 60);
        let sender = poly.commitments();
        // The same commitments without a memo: the sender's own k multiplications.
        let own = BoomerangCommitments::from_points(sender.points().to_vec()).unwrap();
        for i in 0..60 {
            assert_eq!(sender.point(i), own.point(i), "part {i}");
        }
        // Every lookup was a hit: nothing new in the memo.
        assert_eq!(memo.len(), 60);
        assert_eq!(sender.point(60), own.point(60));
        assert_eq!(memo.len(), 61);
    }
}
