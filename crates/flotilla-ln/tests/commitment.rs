//! The full commitment mode: updates locked in by `commitment_signed` /
//! `revoke_and_ack`, between nodes that keep their own books. The FIFO driver delivers
//! every message in the order it was sent (as a TCP stream does) and checks every
//! invariant after every step.

mod common;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::failure::FailureCode;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::msg::{Msg, UpdateFulfillHtlc};
use flotilla_ln::network::PeerError;
use flotilla_ln::node::CommitMode;

fn full_line(n: usize) -> Driver {
    let mut d = Driver::line(n, 1_000_000);
    d.net.set_commit_mode(CommitMode::Full);
    d
}

/// Names of the messages left in the queue, in order.
fn queued(d: &Driver) -> Vec<&'static str> {
    d.queue.iter().map(|(_, _, m)| m.name()).collect()
}

/// Two nodes in full mode and a payment of 10,000 sat (keys from `seed`) from node 0
/// to node 1's invoice, whose first message — the add — is taken off the queue
/// undelivered: (driver, keys, (from, to, add)).
fn one_hop_add(seed: u8) -> (Driver, PaymentKeys, (NodeIdx, NodeIdx, Msg)) {
    let mut d = full_line(2);
    let k = keys(seed);
    let amount = 10_000_000;
    d.net
        .register_invoice(NodeIdx(1), k.hash, invoice(&k, Some(amount)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1], amount, 18);
    d.pay(1, &p, &k, amount).unwrap();
    let add = d.queue.pop_front().unwrap();
    (d, k, add)
}

#[test]
fn a_payment_settles_through_the_full_exchange() {
    let mut d = full_line(4);
    let k = keys(1);
    let amount = 100_000_000;
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(amount)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1, 2, 3], amount, 18);
    let before = d.balance(0, 1);
    d.pay(1, &p, &k, amount).unwrap();
    // The add goes out with its commitment_signed, batched.
    assert_eq!(queued(&d), ["update_add_htlc", "commitment_signed"]);
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert_eq!(d.received(3), vec![(k.hash, amount, 1)]);
    assert_eq!(d.balance(0, 1), before - p.hops[0].amount_msat);
    assert_eq!(d.net.live_htlcs(), 0);
    // Every exchange finished, so the ends are compared on every channel again.
    assert!(d
        .net
        .nodes()
        .iter()
        .all(|n| n.ends().iter().all(|e| e.commit_idle())));
    d.net.check_invariants().unwrap();
    // Per hop: add, signature, revoke, signature, revoke on the way out; the same five
    // with a fulfil on the way back. Three hops: 30 messages, one step each, plus the send.
    assert_eq!(d.steps, 31);
}

#[test]
fn a_failure_travels_back_after_each_exchange_and_returns_the_value() {
    let mut d = full_line(3);
    let k = keys(2);
    // No invoice: the receiver refuses the unknown hash.
    let g = d.graph();
    let p = path(&g, &[0, 1, 2], 20_000_000, 18);
    let before = (d.balance(0, 1), d.balance(1, 2));
    d.pay(1, &p, &k, 20_000_000).unwrap();
    d.run();
    assert_eq!(
        d.failure(1).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );
    assert_eq!((d.balance(0, 1), d.balance(1, 2)), before);
    assert_eq!(d.net.live_htlcs(), 0);
    d.net.check_invariants().unwrap();
}

#[test]
fn a_fulfil_for_an_add_not_yet_committed_is_refused() {
    let (mut d, k, (from, to, add)) = one_hop_add(3);
    // The receiver has the add but the exchange has not locked it in: a fulfil now
    // (with the right preimage) is a protocol error and changes nothing.
    let Msg::AddHtlc(a) = &add else {
        panic!("{add:?}")
    };
    let htlc = a.htlc;
    let mut out = Vec::new();
    d.net.deliver(to, from, add, &d.clock, &mut out).unwrap();
    assert!(
        out.is_empty(),
        "an add is not acted on before it is committed"
    );
    let before = format!("{:?}", d.net.node(NodeIdx(0)));
    let early = Msg::FulfillHtlc(UpdateFulfillHtlc {
        htlc,
        preimage: k.preimage,
        sender_secret: None,
    });
    let e = d
        .net
        .deliver(from, to, early, &d.clock, &mut out)
        .unwrap_err();
    assert!(matches!(e, PeerError::NotCommitted { .. }), "{e:?}");
    assert_eq!(before, format!("{:?}", d.net.node(NodeIdx(0))));
    assert!(out.is_empty());
    // The honest exchange then completes.
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    d.net.check_invariants().unwrap();
}

#[test]
fn an_add_that_skips_or_repeats_an_id_is_refused_on_arrival() {
    let (mut d, _, (from, to, add)) = one_hop_add(4);
    let Msg::AddHtlc(honest) = &add else {
        panic!("{add:?}")
    };
    assert_eq!(honest.htlc.id, 0);
    let mut out = Vec::new();
    let books = |d: &Driver| {
        let e = &d.net.node(NodeIdx(1)).ends()[0];
        (e.local, e.remote, e.accepted_below, d.net.live_htlcs())
    };
    let before = books(&d);
    // A jump: id 5 where 0 was owed. (A committed add that broke a rule could only be
    // ignored, so the order is checked when the add arrives.)
    let mut jump = honest.clone();
    jump.htlc.id = 5;
    let e = d
        .net
        .deliver(to, from, Msg::AddHtlc(jump), &d.clock, &mut out)
        .unwrap_err();
    assert!(
        matches!(e, PeerError::AddOutOfOrder { expected: 0, .. }),
        "{e:?}"
    );
    assert_eq!(before, books(&d));
    // The honest add, then the same add again: the repeat is refused.
    d.net
        .deliver(to, from, add.clone(), &d.clock, &mut out)
        .unwrap();
    let e = d
        .net
        .deliver(to, from, add, &d.clock, &mut out)
        .unwrap_err();
    assert!(
        matches!(e, PeerError::AddOutOfOrder { expected: 1, .. }),
        "{e:?}"
    );
    assert!(out.is_empty());
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    d.net.check_invariants().unwrap();
}

#[test]
fn an_add_beyond_the_limits_is_refused_on_arrival_counting_the_adds_not_yet_committed() {
    let (mut d, _, (from, to, add)) = one_hop_add(5);
    let Msg::AddHtlc(honest) = &add else {
        panic!("{add:?}")
    };
    let mut out = Vec::new();
    let books = |d: &Driver| {
        let e = &d.net.node(NodeIdx(1)).ends()[0];
        (e.local, e.remote, e.accepted_below, d.net.live_htlcs())
    };
    let before = books(&d);
    // Node 0 holds 900,000 sat less its 1% reserve: 890,000 sat it may offer. Two adds
    // of 500,000 sat each fit alone; the second is refused as it arrives, because the
    // first, waiting in the inbox for its commitment, is counted.
    let big = |id: u64| {
        let mut a = honest.clone();
        a.htlc.id = id;
        a.amount_msat = 500_000_000;
        Msg::AddHtlc(a)
    };
    d.net
        .deliver(to, from, big(0), &d.clock, &mut out)
        .expect("the first fits");
    let e = d
        .net
        .deliver(to, from, big(1), &d.clock, &mut out)
        .unwrap_err();
    assert!(matches!(e, PeerError::AddRefused { .. }), "{e:?}");
    assert!(out.is_empty());
    // Nothing changed: the next add must still carry id 1, and the books are as they
    // were (the first add is not acted on before its commitment).
    assert_eq!(before, books(&d));
    let mut small = honest.clone();
    small.htlc.id = 1;
    d.net
        .deliver(to, from, Msg::AddHtlc(small), &d.clock, &mut out)
        .expect("id 1 is still owed");
}

#[test]
fn commitment_messages_are_refused_in_collapsed_mode() {
    let mut d = Driver::line(2, 1_000_000);
    let g = d.graph();
    let c = edge(&g, 0, 1).channel();
    let mut out = Vec::new();
    let e = d
        .net
        .deliver(
            NodeIdx(1),
            NodeIdx(0),
            Msg::CommitmentSigned { channel: c },
            &d.clock,
            &mut out,
        )
        .unwrap_err();
    assert!(matches!(e, PeerError::Unexpected(_)), "{e:?}");
    assert!(out.is_empty());
}
