//! `cancel_htlc` under the full commitment mode, over a line of four nodes
//! 0 — 1 — 2 — 3 (sender 0, receiver 3) driven in FIFO order, as a TCP stream delivers:
//! a cancel can never overtake its add on a link, yet it stops the part at the first
//! hop where the add still waits for its commitment exchange, because the cancel needs
//! none. Also: a cancel that reaches the receiver holding the part makes it fail the
//! part, through an ordinary commitment exchange. Every step checks every node's books
//! and both ends of every idle channel; every run ends with the value back where it was.

mod common;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::failure::FailureCode;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::Msg;
use flotilla_ln::node::{CancelCounters, CommitMode};
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::PartId;
use flotilla_route::Timestamp;

const A: u64 = 10_000_000;
const PAYMENT_ID: [u8; 32] = [0xCF; 32];

/// Nodes 0 — 1 — 2 — 3 in full mode, a redundant h2tlc payment of A registered at 3,
/// and one part of A/2 sent from 0 (its add and commitment_signed queued, undelivered):
/// the receiver will hold it and wait for more. Also each channel's balance on the
/// paying side before the part went out.
fn line_with_half_sent(k: &PaymentKeys) -> (Driver, Vec<u64>) {
    let mut d = Driver::line(4, 1_000_000);
    d.net.set_commit_mode(CommitMode::Full);
    d.net
        .register_redundant(
            NodeIdx(3),
            RedundantInvoice {
                payment_secret: k.secret,
                amount_msat: A,
                lock: LockKind::H2tlc,
                preimage: Some(k.preimage),
                min_final_cltv_expiry_delta: 18,
                expires_at: Timestamp::from_secs(3_600),
            },
        )
        .unwrap();
    let before = balances_now(&d);
    let g = d.graph();
    let p = path(&g, &[0, 1, 2, 3], A / 2, 18);
    let mut s = RedundantSender::new(PAYMENT_ID, A, LockKind::H2tlc, k.secret, Some(k.hash));
    let idx = s.add_part(A / 2, RedundantSender::derive_secret(9, &PAYMENT_ID, 0));
    d.send_redundant(s.part(idx, PartId(0), &p)).unwrap();
    (d, before)
}

fn counters(d: &Driver, i: u32) -> CancelCounters {
    d.net.node(NodeIdx(i)).cancel_counters()
}

/// Runs the queue to the end; panics if an `update_add_htlc` to `never` is delivered.
fn run_without_adds_to(d: &mut Driver, never: u32) {
    while let Some((_, to, msg)) = d.queue.front() {
        assert!(
            !(matches!(msg, Msg::AddHtlc(_)) && to.0 == never),
            "the part reached node {never}"
        );
        d.step();
    }
}

fn balances_now(d: &Driver) -> Vec<u64> {
    vec![d.balance(0, 1), d.balance(1, 2), d.balance(2, 3)]
}

fn assert_cancelled_and_restored(d: &Driver, before: &[u64]) {
    assert!(matches!(d.outcome(0), Some(Outcome::Failed { .. })));
    assert_eq!(d.failure(0).code, FailureCode::MppTimeout);
    assert_eq!(balances_now(d), before, "every hop got its value back");
    assert_eq!(d.net.live_htlcs(), 0);
    assert!(d
        .net
        .nodes()
        .iter()
        .all(|n| n.ends().iter().all(|e| e.commit_idle())));
    d.net.check_invariants().unwrap();
}

#[test]
fn a_cancel_stops_the_part_at_the_first_hop_still_committing_it() {
    let k = keys(1);
    let (mut d, before) = line_with_half_sent(&k);
    // The cancel goes right behind the add and its commitment_signed on the same link:
    // it cannot overtake them, but node 1 acts on the add only after the exchange.
    assert!(d.cancel_part(0, 0));
    run_without_adds_to(&mut d, 2);
    assert_eq!(counters(&d, 0).sent, 1);
    assert_eq!(counters(&d, 1).stopped_on_arrival, 1);
    assert_eq!(counters(&d, 1).relayed, 0);
    assert_eq!(d.net.node(NodeIdx(1)).cancels_ahead(), 0);
    assert_eq!(d.net.held_parts(NodeIdx(3), &k.secret), 0);
    assert_cancelled_and_restored(&d, &before);
}

#[test]
fn a_cancel_relayed_by_a_hop_that_forwarded_stops_the_part_at_the_next() {
    let k = keys(2);
    let (mut d, before) = line_with_half_sent(&k);
    // Run until node 1 has forwarded: its add to node 2 is in the queue.
    while !d
        .queue
        .iter()
        .any(|(_, to, m)| matches!(m, Msg::AddHtlc(_)) && to.0 == 2)
    {
        assert!(d.step(), "node 1 forwards the part");
    }
    assert!(d.cancel_part(0, 0));
    run_without_adds_to(&mut d, 3);
    assert_eq!(counters(&d, 1).relayed, 1);
    assert_eq!(counters(&d, 2).stopped_on_arrival, 1);
    assert_eq!(counters(&d, 3), CancelCounters::default());
    assert_cancelled_and_restored(&d, &before);
}

#[test]
fn a_cancel_reaching_the_receiver_that_holds_the_part_makes_it_fail_it() {
    let k = keys(3);
    let (mut d, before) = line_with_half_sent(&k);
    d.run();
    assert_eq!(d.net.held_parts(NodeIdx(3), &k.secret), 1);
    assert!(d.cancel_part(0, 0));
    d.run();
    assert_eq!(counters(&d, 1).relayed + counters(&d, 2).relayed, 2);
    assert_eq!(counters(&d, 3).stopped_held, 1);
    assert_eq!(d.net.held_parts(NodeIdx(3), &k.secret), 0);
    assert_cancelled_and_restored(&d, &before);
}

#[test]
fn a_cancel_after_the_part_failed_changes_nothing() {
    let k = keys(4);
    let (mut d, before) = line_with_half_sent(&k);
    d.run();
    // The receiver gives up on the incomplete payment (its timeout), failing the part.
    d.advance(std::time::Duration::from_secs(3_600), 0);
    assert!(matches!(d.outcome(0), Some(Outcome::Failed { .. })));
    assert!(!d.cancel_part(0, 0), "no part left to cancel");
    d.run();
    assert_eq!(balances_now(&d), before);
    assert_eq!(d.net.live_htlcs(), 0);
    d.net.check_invariants().unwrap();
}
