//! What a driver may observe (which part an HTLC carries, a node's routing volume) and
//! the forwarder's short circuit: a node that learnt a preimage elsewhere claims its
//! incoming HTLC and keeps the outgoing one.

mod common;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::msg::Msg;
use flotilla_ln::network::PeerError as DeliverError;
use flotilla_ln::sender::{PartId, SendPart};

#[test]
fn every_htlc_of_a_part_names_it_and_forwards_are_counted() {
    let mut d = Driver::line(4, 1_000_000);
    let g = d.graph();
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(5_000_000)))
        .unwrap();
    let p = path(&g, &[0, 1, 2, 3], 5_000_000, 18);
    d.pay(42, &p, &k, 5_000_000).unwrap();
    let mut seen = 0;
    while let Some((_, _, msg)) = d.queue.front().cloned() {
        if let Msg::AddHtlc(add) = &msg {
            assert_eq!(d.net.part_of(add), Some(PartId(42)));
            seen += 1;
        }
        d.step();
    }
    assert_eq!(seen, 3);
    assert!(matches!(d.outcome(42), Some(Outcome::Settled { .. })));
    for n in [1, 2] {
        let l = d.net.ledger(NodeIdx(n));
        assert_eq!(l.forwards, 1);
        assert_eq!(l.forwarded_msat, p.hops[n as usize].amount_msat);
        assert_eq!(
            l.fees_earned_msat,
            p.hops[n as usize - 1].amount_msat - p.hops[n as usize].amount_msat
        );
    }
    assert_eq!(d.net.ledger(NodeIdx(0)).forwards, 0);
}

/// Node 1 forwards 0's payment to 3 (via 2) but holds its `update_add_htlc` back,
/// replays the hash and amount to 3 itself, and returns the held message's HTLC.
fn replay_at_node_1(receiver: Behaviour) -> (Driver, flotilla_ln::msg::HtlcRef, PartId) {
    let g = line(4, 1_000_000);
    let b = balances(&g, 0.9);
    let mut c = vec![NodeConfig::default(); 4];
    c[3].behaviour = receiver;
    let mut d = Driver::new(g, b, Some(c));
    let g = d.graph();
    let k = keys(2);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(5_000_000)))
        .unwrap();
    let p = path(&g, &[0, 1, 2, 3], 5_000_000, 18);
    d.pay(1, &p, &k, 5_000_000).unwrap();
    // Deliver until node 1 emits its outgoing add, then take it out of the queue.
    let held = loop {
        let (from, _, msg) = d.queue.front().cloned().expect("node 1 forwards");
        if from == NodeIdx(1) {
            if let Msg::AddHtlc(add) = &msg {
                let add = add.clone();
                d.queue.pop_front();
                d.held_add = Some(msg);
                break add;
            }
        }
        d.step();
    };
    // The probe: node 1 → 2 → 3, the replayed hash and outgoing amount, no secret.
    let probe = path(&g, &[1, 2, 3], held.amount_msat, 18);
    d.send(SendPart {
        id: PartId(99),
        path: &probe,
        payment_hash: k.hash,
        payment_data: None,
        keysend_preimage: None,
    })
    .unwrap();
    d.run();
    (d, held.htlc, PartId(99))
}

#[test]
fn the_short_circuit_settles_the_sender_and_keeps_the_downstream_amount() {
    let (mut d, held, probe) = replay_at_node_1(Behaviour::LegacyReceiver);
    let Some(Outcome::Settled { preimage, .. }) = d.outcome(probe.0) else {
        panic!("{:?}", d.outcome(probe.0));
    };
    let node2_fees = d.net.ledger(NodeIdx(2)).fees_earned_msat;
    let r = d.short_circuit(1, held, preimage);
    assert_eq!(r, Ok(()));
    d.run();
    // The sender's part settled with the proof of payment, as if nothing happened.
    assert_eq!(
        d.outcome(1),
        Some(Outcome::Settled {
            preimage,
            fee_msat: path(&d.graph(), &[0, 1, 2, 3], 5_000_000, 18).fee_msat()
        })
    );
    // The receiver was paid once (by the probe); the real HTLC never left node 1, so
    // node 2 earned only the probe's fee, never the payment's.
    assert_eq!(d.received(3).len(), 1);
    assert_eq!(d.net.ledger(NodeIdx(2)).fees_earned_msat, node2_fees);
    assert_eq!(d.net.live_htlcs(), 0);
    d.net.check_invariants().unwrap();
}

#[test]
fn an_honest_receiver_settles_no_probe_and_the_short_circuit_is_refused() {
    let (mut d, held, probe) = replay_at_node_1(Behaviour::Honest);
    let f = d.failure(probe.0);
    assert_eq!(
        f.code,
        flotilla_ln::failure::FailureCode::IncorrectOrUnknownPaymentDetails
    );
    // A guessed preimage opens nothing; the refusal changes nothing and is counted.
    let r = d.short_circuit(1, held, keys(3).preimage);
    assert!(matches!(r, Err(DeliverError::WrongPreimage(_))), "{r:?}");
    assert_eq!(d.net.counters().overclaim_attempts, 1);
    // Only the node that offered the HTLC may take it back.
    let r = d.short_circuit(2, held, keys(2).preimage);
    assert!(matches!(r, Err(DeliverError::UnknownHtlc { .. })), "{r:?}");
    d.net.check_invariants().unwrap();
}

#[test]
fn a_released_forward_completes_the_payment_after_a_fruitless_probe() {
    let g = line(4, 1_000_000);
    let (mut d, held, probe) = replay_at_node_1(Behaviour::Honest);
    assert!(matches!(d.outcome(probe.0), Some(Outcome::Failed { .. })));
    let n1 = d.net.node(NodeIdx(1));
    let h = *n1.htlc(n1.htlc_by_wire(held, true).unwrap()).unwrap();
    let onion_msg = d.held_add.take().unwrap();
    d.queue.push_back((NodeIdx(1), NodeIdx(2), onion_msg));
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert_eq!(
        h.amount_msat,
        path(&g, &[0, 1, 2, 3], 5_000_000, 18).hops[1].amount_msat
    );
}
