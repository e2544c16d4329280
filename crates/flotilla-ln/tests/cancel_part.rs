//! `cancel_htlc` driven by hand over a line of four nodes 0 — 1 — 2 — 3 (sender 0,
//! receiver 3): the cancel overtaking the part's add (the part stops at the first hop
//! that had not forwarded it and never reaches the receiver), arriving after the
//! receiver held it (the receiver fails it), after the part was failed (ignored
//! everywhere), twice (one stop, the rest ignored), and naming an HTLC its peer cannot
//! have sent (refused, nothing changed). Every step is checked by the hand driver (each
//! node's books, both ends of every channel), every run ends with no HTLC left.

mod common;
#[path = "common/nodes.rs"]
mod nodes;

use common::{balances, graph, keys, path};
use flotilla_graph::{ChannelIdx, NodeIdx};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{CancelHtlc, HtlcRef, Msg};
use flotilla_ln::node::{CancelCounters, PeerError};
use flotilla_ln::output::Event;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::PartId;
use flotilla_route::Timestamp;
use nodes::{is, Nodes};

const SAT: u64 = 1_000_000;
const A: u64 = 10_000_000;
const PAYMENT_ID: [u8; 32] = [0xCD; 32];

/// Nodes 0 — 1 — 2 — 3 (channels 0, 1, 2), 90% on the lower node's side.
fn line4() -> Nodes {
    let g = graph(4, &[(0, 1, SAT), (1, 2, SAT), (2, 3, SAT)]);
    let b = balances(&g, 0.9);
    Nodes::new(g, b, None)
}

/// One part of A/2 of a redundant h2tlc payment of A from 0 to 3 (registered at 3 if
/// `register`): the receiver holds it and waits for more.
fn send_half(n: &mut Nodes, k: &PaymentKeys, register: bool) {
    if register {
        n.node_mut(3)
            .register_redundant(RedundantInvoice {
                payment_secret: k.secret,
                amount_msat: A,
                lock: LockKind::H2tlc,
                preimage: Some(k.preimage),
                min_final_cltv_expiry_delta: 18,
                expires_at: Timestamp::from_secs(3_600),
            })
            .unwrap();
    }
    let g = (**n.graph()).clone();
    let p = path(&g, &[0, 1, 2, 3], A / 2, 18);
    let mut s = RedundantSender::new(PAYMENT_ID, A, LockKind::H2tlc, k.secret, Some(k.hash));
    let idx = s.add_part(A / 2, RedundantSender::derive_secret(9, &PAYMENT_ID, 0));
    let part = s.part(idx, PartId(0), &p);
    n.command(0, |node, clock, out| node.send_redundant(part, clock, out))
        .expect("the part starts");
    n.senders.insert(PAYMENT_ID, s);
}

fn cancel(n: &mut Nodes) -> bool {
    n.command(0, |node, _, out| node.cancel_part(PartId(0), out))
}

fn counters(n: &Nodes, i: usize) -> CancelCounters {
    n.node(i).cancel_counters()
}

fn adds_to(n: &Nodes, to: usize) -> usize {
    n.delivered
        .iter()
        .filter(|m| m.1.ix() == to && m.2.name() == "update_add_htlc")
        .count()
}

fn failed_with(n: &Nodes) -> Vec<String> {
    n.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::PartFailed { failure, .. } => Some(failure.code.name().to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_cancel_overtaking_the_add_stops_the_part_at_that_hop() {
    let mut n = line4();
    let k = keys(1);
    send_half(&mut n, &k, true);
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 1));
    // Node 1 forwarded it; the add 1 → 2 is on its way when the sender cancels.
    assert!(cancel(&mut n));
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    // Node 1 had forwarded: it passes the cancel on, naming its own HTLC to 2.
    n.deliver_where(|m| is(m, "cancel_htlc", 1, 2));
    assert_eq!(n.node(2).cancels_ahead(), 1);
    assert_eq!(n.node(2).live_htlcs(), 0);
    // The add comes after its cancel: node 2 fails it back at once, forwards nothing.
    n.deliver_where(|m| is(m, "update_add_htlc", 1, 2));
    assert!(n.find(|m| is(m, "update_add_htlc", 2, 3)).is_none());
    assert!(n.find(|m| is(m, "update_fail_htlc", 2, 1)).is_some());
    assert_eq!(n.node(2).cancels_ahead(), 0);
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(failed_with(&n), vec!["mpp_timeout"]);
    assert_eq!(adds_to(&n, 3), 0, "the part never reached the receiver");
    assert_eq!(counters(&n, 0).sent, 1);
    assert_eq!(counters(&n, 1).relayed, 1);
    assert_eq!(counters(&n, 2).stopped_on_arrival, 1);
    assert_eq!(counters(&n, 3), CancelCounters::default());
    n.check_quiescent().unwrap();
    assert_eq!(n.node(0).ledger().paid_out_msat, 0);
}

#[test]
fn a_cancel_reaching_the_first_hop_first_stops_the_part_there() {
    let mut n = line4();
    let k = keys(2);
    send_half(&mut n, &k, true);
    assert!(cancel(&mut n));
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 1));
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(adds_to(&n, 2), 0);
    assert_eq!(counters(&n, 1).stopped_on_arrival, 1);
    n.check_quiescent().unwrap();
}

#[test]
fn a_cancel_after_the_receiver_held_the_part_makes_it_fail_the_part() {
    let mut n = line4();
    let k = keys(3);
    send_half(&mut n, &k, true);
    for (a, b) in [(0, 1), (1, 2), (2, 3)] {
        n.deliver_where(|m| is(m, "update_add_htlc", a, b));
    }
    assert_eq!(n.node(3).held_parts(&k.secret), 1);
    assert!(n.pool.is_empty(), "half of A is held, nothing else happens");
    assert!(cancel(&mut n));
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    n.deliver_where(|m| is(m, "cancel_htlc", 1, 2));
    n.deliver_where(|m| is(m, "cancel_htlc", 2, 3));
    assert_eq!(n.node(3).held_parts(&k.secret), 0);
    assert!(n.find(|m| is(m, "update_fail_htlc", 3, 2)).is_some());
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(counters(&n, 3).stopped_held, 1);
    assert_eq!(
        counters(&n, 1).relayed + counters(&n, 2).relayed,
        2,
        "both forwarders passed it on"
    );
    assert_eq!(n.node(3).receiver().redundant.settled_msat(&k.secret), 0);
    n.check_quiescent().unwrap();
}

#[test]
fn a_cancel_after_the_part_failed_changes_nothing() {
    let mut n = line4();
    let k = keys(4);
    // No registration: the receiver refuses the part.
    send_half(&mut n, &k, false);
    for (a, b) in [(0, 1), (1, 2), (2, 3)] {
        n.deliver_where(|m| is(m, "update_add_htlc", a, b));
    }
    // The failure is on its way back (3 → 2 delivered, 2 → 1 travelling): node 1 still
    // has its HTLC to 2 offered and passes the cancel on; node 2 is already failing.
    n.deliver_where(|m| is(m, "update_fail_htlc", 3, 2));
    assert!(cancel(&mut n));
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    n.deliver_where(|m| is(m, "cancel_htlc", 1, 2));
    assert_eq!(counters(&n, 2).ignored, 1);
    assert!(n.find(|m| m.2.name() == "cancel_htlc").is_none());
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(
        failed_with(&n),
        vec!["incorrect_or_unknown_payment_details"]
    );
    n.check_quiescent().unwrap();
    // Once it is gone the sender has nothing to cancel, and a late cancel for the old
    // HTLC is ignored without a change.
    assert!(!cancel(&mut n));
    let before = n.fingerprint();
    let old = HtlcRef {
        channel: ChannelIdx(0),
        id: 0,
    };
    n.hand(
        NodeIdx(0),
        NodeIdx(1),
        Msg::CancelHtlc(CancelHtlc { htlc: old }),
    )
    .unwrap();
    assert!(n.pool.is_empty());
    let after = n.fingerprint();
    // Only node 1's count of ignored cancels moved.
    assert_eq!(before[0], after[0]);
    assert_eq!(before[2..], after[2..]);
    assert_eq!(counters(&n, 1).ignored, 1);
    n.check_quiescent().unwrap();
}

#[test]
fn a_cancel_sent_twice_stops_the_part_once() {
    let mut n = line4();
    let k = keys(5);
    send_half(&mut n, &k, true);
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 1));
    assert!(cancel(&mut n));
    assert!(cancel(&mut n), "the first HTLC is still offered");
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    n.deliver_where(|m| is(m, "cancel_htlc", 0, 1));
    n.deliver_where(|m| is(m, "cancel_htlc", 1, 2));
    n.deliver_where(|m| is(m, "cancel_htlc", 1, 2));
    // Two cancels for one add not yet arrived: remembered once.
    assert_eq!(n.node(2).cancels_ahead(), 1);
    n.deliver_where(|m| is(m, "update_add_htlc", 1, 2));
    assert_eq!(n.node(2).cancels_ahead(), 0);
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(counters(&n, 2).stopped_on_arrival, 1);
    assert_eq!(counters(&n, 0).sent, 2);
    assert_eq!(counters(&n, 1).relayed, 2);
    n.check_quiescent().unwrap();
    // And again after everything resolved: ignored at the first hop.
    n.hand(
        NodeIdx(0),
        NodeIdx(1),
        Msg::CancelHtlc(CancelHtlc {
            htlc: HtlcRef {
                channel: ChannelIdx(0),
                id: 0,
            },
        }),
    )
    .unwrap();
    assert!(n.pool.is_empty());
    n.check_quiescent().unwrap();
}

#[test]
fn a_cancel_for_an_htlc_the_peer_cannot_have_sent_is_refused() {
    let mut n = line4();
    let far = HtlcRef {
        channel: ChannelIdx(0),
        id: 1_000_000,
    };
    let e = n.refuse(
        NodeIdx(0),
        NodeIdx(1),
        Msg::CancelHtlc(CancelHtlc { htlc: far }),
    );
    assert!(matches!(e, PeerError::UnknownHtlc { .. }), "{e}");
    // Over a channel the two do not share.
    let other = HtlcRef {
        channel: ChannelIdx(2),
        id: 0,
    };
    let e = n.refuse(
        NodeIdx(0),
        NodeIdx(1),
        Msg::CancelHtlc(CancelHtlc { htlc: other }),
    );
    assert!(matches!(e, PeerError::UnknownChannel { .. }), "{e}");
    assert_eq!(n.node(1).cancels_ahead(), 0);
}

#[test]
fn a_completed_payment_is_not_disturbed_by_a_cancel_of_a_settling_part() {
    let mut n = line4();
    let k = keys(6);
    send_half(&mut n, &k, true);
    // A second half on the same path completes A: the receiver asks, the sender reveals
    // (the driver's user answers), the receiver claims both.
    let g = (**n.graph()).clone();
    let p = path(&g, &[0, 1, 2, 3], A / 2, 18);
    let mut s = n.senders.remove(&PAYMENT_ID).unwrap();
    let idx = s.add_part(A / 2, RedundantSender::derive_secret(9, &PAYMENT_ID, 1));
    let part = s.part(idx, PartId(1), &p);
    n.command(0, |node, clock, out| node.send_redundant(part, clock, out))
        .unwrap();
    n.senders.insert(PAYMENT_ID, s);
    while n.find(|m| m.2.name() == "update_fulfill_htlc").is_none() {
        n.deliver(0);
    }
    // Part 0 is being fulfilled back; a cancel for it now changes nothing.
    assert!(cancel(&mut n));
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![true]);
    assert_eq!(n.outcomes(1), vec![true]);
    assert_eq!(n.node(3).receiver().redundant.settled_msat(&k.secret), A);
    n.check_quiescent().unwrap();
}
