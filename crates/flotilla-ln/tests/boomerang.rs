//! Boomerang: point-locked parts on the receiver's committed polynomial; the receiver
//! claims k equal parts without a round trip, and a receiver that claims more loses
//! everything to the refund.

mod common;

use std::time::Duration;

use common::*;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::boomerang::BoomerangPolynomial;
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::failure::FailureCode;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{BoomerangRefund, Msg};
use flotilla_ln::network::PeerError;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::PartId;
use flotilla_ln::PaymentPreimage;
use flotilla_route::{Path, Timestamp};

const A: u64 = 20_000_000;
const RECEIVER: usize = FAN_RECEIVER;
const K: u16 = 2;

fn invoice(k: &PaymentKeys) -> RedundantInvoice {
    RedundantInvoice {
        payment_secret: k.secret,
        amount_msat: A,
        lock: LockKind::Boomerang,
        preimage: None,
        min_final_cltv_expiry_delta: 18,
        expires_at: Timestamp::from_secs(3_600),
    }
}

/// Registers a boomerang payment of A in K parts and sends `n` parts of A/K, part i over
/// 0 — (i+1) — 9.
fn start(d: &mut Driver, g: &Graph, k: &PaymentKeys, n: usize) -> (RedundantSender, Vec<Path>) {
    let poly = BoomerangPolynomial::from_seed(&k.secret.0, K);
    let commitments = poly.commitments();
    d.net
        .register_boomerang(NodeIdx(RECEIVER as u32), invoice(k), poly)
        .unwrap();
    let id = [0xBB; 32];
    let mut s = RedundantSender::boomerang(id, A, k.secret, commitments);
    let mut paths = Vec::new();
    for i in 0..n {
        let idx = s.add_part(A / K as u64, [0; 32]);
        let p = path(g, &[0, i + 1, RECEIVER], A / K as u64, 18);
        d.send_redundant(s.part(idx, PartId(i as u64), &p)).unwrap();
        paths.push(p);
    }
    (s, paths)
}

fn settled(d: &Driver, id: u64) -> Option<(PaymentPreimage, u64)> {
    match d.outcome(id) {
        Some(Outcome::Settled { preimage, fee_msat }) => Some((preimage, fee_msat)),
        _ => None,
    }
}

#[test]
fn the_receiver_claims_the_first_k_parts_without_a_round_trip() {
    let (mut d, g) = fan(4, None);
    let k = keys(1);
    let (mut s, _) = start(&mut d, &g, &k, 4);
    d.run();
    assert!(d.claim_requests.is_empty(), "no claim request");
    let mut fees = 0;
    let mut settled_parts = 0;
    for i in 0..4u64 {
        match settled(&d, i) {
            Some((scalar, fee)) => {
                settled_parts += 1;
                fees += fee;
                // The sender learns the scalar; k of them reveal nothing.
                assert_eq!(s.learn(i as u16, &scalar), None);
            }
            None => assert_eq!(
                d.failure(i).code,
                FailureCode::IncorrectOrUnknownPaymentDetails
            ),
        }
    }
    assert_eq!(settled_parts, K as usize);
    assert_eq!(
        d.received(RECEIVER),
        vec![(flotilla_ln::PaymentHash([0xBB; 32]), A, 2)]
    );
    assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
    assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    assert_eq!(d.net.live_htlcs(), 0);
    d.net.check_invariants().unwrap();
}

#[test]
fn fewer_than_k_parts_are_held_and_fail_at_the_timeout() {
    let (mut d, g) = fan(2, None);
    let k = keys(2);
    start(&mut d, &g, &k, 1);
    d.run();
    assert!(d.events.is_empty(), "one part of two is held, not claimed");
    d.advance(Duration::from_secs(60), 0);
    assert_eq!(d.failure(0).code, FailureCode::MppTimeout);
    assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, 0);
}

#[test]
fn the_sender_can_cancel_held_parts() {
    let (mut d, g) = fan(2, None);
    let k = keys(3);
    start(&mut d, &g, &k, 1);
    d.run();
    let mut out = Vec::new();
    let clock = d.clock;
    let n = d
        .net
        .cancel_redundant(NodeIdx(RECEIVER as u32), [0xBB; 32], &clock, &mut out);
    assert_eq!(n, 1);
    for o in out {
        if let flotilla_ln::output::Output::Message { from, to, msg } = o {
            d.queue.push_back((from, to, msg));
        }
    }
    d.run();
    assert_eq!(d.failure(0).code, FailureCode::MppTimeout);
    assert_eq!(d.net.live_htlcs(), 0);
}

#[test]
fn parts_of_the_wrong_size_or_point_are_refused() {
    let (mut d, g) = fan(3, None);
    let k = keys(4);
    let poly = BoomerangPolynomial::from_seed(&k.secret.0, K);
    let c = poly.commitments();
    d.net
        .register_boomerang(NodeIdx(RECEIVER as u32), invoice(&k), poly)
        .unwrap();
    let mut s = RedundantSender::boomerang([0xBB; 32], A, k.secret, c);
    // Not A/k.
    let idx = s.add_part(A / 4, [0; 32]);
    let p = path(&g, &[0, 1, RECEIVER], A / 4, 18);
    d.send_redundant(s.part(idx, PartId(0), &p)).unwrap();
    // A point from another polynomial.
    let other = BoomerangPolynomial::from_seed(&[9; 32], K).commitments();
    let mut s2 = RedundantSender::boomerang([0xBB; 32], A, k.secret, other);
    s2.add_part(A / 2, [0; 32]);
    let idx = s2.add_part(A / 2, [0; 32]);
    let p = path(&g, &[0, 2, RECEIVER], A / 2, 18);
    d.send_redundant(s2.part(idx, PartId(1), &p)).unwrap();
    d.run();
    for i in 0..2 {
        assert_eq!(
            d.failure(i).code,
            FailureCode::IncorrectOrUnknownPaymentDetails
        );
    }
    // A plain registration of a boomerang payment, or k not dividing A, is refused.
    assert!(d
        .net
        .register_redundant(NodeIdx(RECEIVER as u32), invoice(&keys(5)))
        .is_err());
    assert!(d
        .net
        .register_boomerang(
            NodeIdx(RECEIVER as u32),
            invoice(&keys(6)),
            BoomerangPolynomial::from_seed(&[1; 32], 3)
        )
        .is_err());
}

#[test]
fn hops_without_ptlc_support_refuse_point_locks() {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[1].supports_ptlc = false;
    let (mut d, g) = fan(3, Some(configs));
    let k = keys(7);
    start(&mut d, &g, &k, 3);
    d.run();
    let f = d.failure(0);
    assert_eq!(f.code, FailureCode::RequiredNodeFeatureMissing);
    assert_eq!(f.origin_hop, 0);
    // The two other parts make up A.
    assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
}

/// A receiver that claims every part it holds gets k + 1 claims through (it knows
/// every scalar), but the k + 1st scalar tells the sender P(0), and the refund takes
/// every claimed part back: it keeps nothing.
#[test]
fn a_cheating_receiver_that_claims_k_plus_one_keeps_nothing() {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[RECEIVER].behaviour = Behaviour::CheatingReceiver;
    let (mut d, g) = fan(4, Some(configs));
    let k = keys(8);
    let before: Vec<(u64, u64)> = (1..=3)
        .map(|i| (d.balance(0, i), d.balance(i, RECEIVER)))
        .collect();
    // Hold all three parts first (the third arrives with the first k).
    let (mut s, paths) = start(&mut d, &g, &k, 3);
    d.run();
    let node = NodeIdx(RECEIVER as u32);
    let claimed: Vec<u64> = (0..3).filter(|i| settled(&d, *i).is_some()).collect();
    assert_eq!(claimed.len(), 3, "the cheater claimed all three");
    assert_eq!(d.net.receiver(node).redundant.pending_refunds(), 1);
    // The sender learns the scalars; the third reveals P(0).
    let mut p0 = None;
    for &i in &claimed {
        let (scalar, _) = settled(&d, i).unwrap();
        if let Some(sec) = s.learn(i as u16, &scalar) {
            p0 = Some(sec);
        }
    }
    let p0 = p0.expect("k + 1 scalars reveal P(0)");
    // A claim with a wrong secret is refused by the first hop and moves nothing.
    let wrong = BoomerangPolynomial::from_seed(&[3; 32], K).secret();
    let htlc = d.net.node(NodeIdx(0)).reverse_claimable(PartId(0)).unwrap();
    let bad = Msg::BoomerangRefund(BoomerangRefund {
        htlc,
        amount_msat: paths[0].hops[0].amount_msat,
        p0: wrong.secret_bytes(),
    });
    let mut out = Vec::new();
    assert_eq!(
        d.net
            .deliver(NodeIdx(1), NodeIdx(0), bad, &d.clock, &mut out),
        Err(PeerError::WrongRefundSecret(htlc))
    );
    assert!(out.is_empty());
    // The true P(0): one claim per part over its first hop.
    assert_eq!(d.claim_reverse(0, &claimed, &p0), 3);
    // The first delivery pays the sender back; the receiver has not paid yet.
    let paid_out = d.net.ledger(NodeIdx(0)).paid_out_msat;
    assert!(d.step());
    assert!(d.net.ledger(NodeIdx(0)).paid_out_msat < paid_out);
    assert_eq!(d.net.ledger(node).paid_in_msat, 3 * A / 2);
    d.run();
    let back: u64 = d.refunds().iter().map(|r| r.1).sum();
    assert_eq!(back, 3 * A / 2);
    assert!(d.refunds().iter().all(|r| !r.2), "no hop refused");
    assert_eq!(d.net.receiver(node).redundant.kept_msat(&k.secret), 0);
    assert_eq!(d.net.receiver(node).redundant.pending_refunds(), 0);
    assert_eq!(d.net.ledger(node).paid_in_msat, 0);
    assert_eq!(
        d.net.ledger(NodeIdx(0)).paid_out_msat,
        0,
        "fees come back too"
    );
    for i in 1..=3 {
        assert_eq!(
            (d.balance(0, i), d.balance(i, RECEIVER)),
            before[i - 1],
            "every channel is back where it started"
        );
    }
    assert_eq!(d.net.counters().refunds, 6, "one refund per hop");
    // Each clause is claimed once.
    assert_eq!(d.claim_reverse(0, &claimed, &p0), 0);
    d.net.check_invariants().unwrap();
}

/// A part stuck at a hodl hop: the receiver claims the k parts that arrived, and the
/// sender pays exactly A plus their fees; the stuck part returns at expiry.
#[test]
fn a_part_stuck_at_a_hodl_hop_costs_nothing_but_time() {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[1].behaviour = Behaviour::Hodl;
    let (mut d, g) = fan(3, Some(configs));
    let k = keys(9);
    start(&mut d, &g, &k, 3);
    d.run();
    let fees: u64 = [1, 2].iter().map(|&i| settled(&d, i).unwrap().1).sum();
    assert_eq!(d.outcome(0), None, "still stuck");
    assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
    d.advance(Duration::from_secs(3_600 * 24), 200);
    assert!(matches!(d.outcome(0), Some(Outcome::Failed { .. })));
    assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
    assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    assert_eq!(d.net.live_htlcs(), 0);
}

/// The sender refunds the parts it has seen settle. When it learns P(0), fulfils of
/// other claimed parts may still be on their way: a later refund takes those back, and
/// the receiver keeps nothing. (A refund once counted every claimed part as refunded and
/// refused the second one, so the receiver kept the late parts.)
#[test]
fn a_refund_covers_its_parts_and_a_later_one_the_parts_settled_since() {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[RECEIVER].behaviour = Behaviour::CheatingReceiver;
    let (mut d, g) = fan(4, Some(configs));
    let k = keys(10);
    let (mut s, _) = start(&mut d, &g, &k, 4);
    d.run();
    let node = NodeIdx(RECEIVER as u32);
    let mut p0 = None;
    for i in 0..4u64 {
        let (scalar, _) = settled(&d, i).expect("the cheater claimed every part");
        p0 = p0.or(s.learn(i as u16, &scalar));
    }
    let p0 = p0.expect("k + 1 scalars reveal P(0)");
    let book = |d: &Driver| d.net.receiver(node).redundant.clone();
    // The first three parts, as if the fourth's fulfil were still on its way.
    assert_eq!(d.claim_reverse(0, &[0, 1, 2], &p0), 3);
    d.run();
    assert_eq!(book(&d).kept_msat(&k.secret), A / 2);
    assert_eq!(
        book(&d).pending_refunds(),
        1,
        "the fourth part is still kept"
    );
    assert_eq!(d.claim_reverse(0, &[3], &p0), 1);
    d.run();
    assert_eq!(book(&d).kept_msat(&k.secret), 0);
    assert_eq!(book(&d).pending_refunds(), 0);
    assert_eq!(d.net.ledger(node).paid_in_msat, 0);
    assert_eq!(d.claim_reverse(0, &[3], &p0), 0, "claimed already");
    d.net.check_invariants().unwrap();
}
