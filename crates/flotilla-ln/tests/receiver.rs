//! The receiving side: MPP sets, the one indistinguishable refusal, probing, keysend.

mod common;

use std::time::Duration;

use common::*;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::failure::{FailureCode, FailureData};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::onion::real::canonical_failure_data;
use flotilla_ln::payload::PaymentData;
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_ln::PaymentPreimage;
use flotilla_route::{FailureKind, Path, PathFailure};

/// 0 reaches 3 over 0-1-3, 0-2-3 and directly 0-3.
fn diamond() -> (Driver, Graph) {
    let g = graph(
        4,
        &[
            (0, 1, 1_000_000),
            (1, 3, 1_000_000),
            (0, 2, 1_000_000),
            (2, 3, 1_000_000),
            (0, 3, 1_000_000),
        ],
    );
    let b = balances(&g, 0.9);
    let d = Driver::new(g, b, None);
    let g = (*d.graph()).clone();
    (d, g)
}

fn unknown(htlc_msat: u64, height: u32) -> FailureData {
    FailureData {
        htlc_msat: Some(htlc_msat),
        height: Some(height),
        ..Default::default()
    }
}

#[test]
fn mpp_completes_out_of_order() {
    let (mut d, g) = diamond();
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(30_000_000)))
        .unwrap();
    let paths = [
        path(&g, &[0, 1, 3], 10_000_000, 18),
        path(&g, &[0, 2, 3], 10_000_000, 18),
        path(&g, &[0, 3], 10_000_000, 18),
    ];
    for (i, p) in paths.iter().enumerate() {
        d.pay(i as u64, p, &k, 30_000_000).unwrap();
    }
    // Deliver the adds in reverse order: the direct part arrives first.
    let mut q: Vec<_> = d.queue.drain(..).collect();
    q.reverse();
    d.queue.extend(q);
    d.run();
    for i in 0..3 {
        assert_eq!(
            d.outcome(i),
            Some(Outcome::Settled {
                preimage: k.preimage,
                fee_msat: paths[i as usize].fee_msat()
            })
        );
    }
    assert_eq!(d.received(3), vec![(k.hash, 30_000_000, 3)]);
    // A part arriving after completion fails, indistinguishable from an unknown hash.
    d.pay(9, &paths[2], &k, 30_000_000).unwrap();
    d.run();
    let f = d.failure(9);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.data, unknown(10_000_000, HEIGHT));
}

#[test]
fn mpp_times_out_and_fails_every_part() {
    let (mut d, g) = diamond();
    let k = keys(2);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(30_000_000)))
        .unwrap();
    let p1 = path(&g, &[0, 1, 3], 10_000_000, 18);
    let p2 = path(&g, &[0, 3], 10_000_000, 18);
    d.pay(1, &p1, &k, 30_000_000).unwrap();
    d.run();
    d.advance(Duration::from_secs(5), 0);
    d.pay(2, &p2, &k, 30_000_000).unwrap();
    d.run();
    // The timer runs from the first part: 60 s after it, not after the last.
    d.advance(Duration::from_secs(54), 0);
    assert_eq!(d.outcome(1), None);
    d.advance(Duration::from_secs(1), 0);
    for (id, hops) in [(1, 2), (2, 1)] {
        let Some(Outcome::Failed {
            failure,
            path_failure,
        }) = d.outcome(id)
        else {
            panic!("part {id}")
        };
        assert_eq!(failure.code, FailureCode::MppTimeout);
        assert_eq!(failure.data, FailureData::default());
        assert_eq!(failure.origin_hop, hops - 1, "the receiver");
        assert_eq!(
            path_failure,
            PathFailure {
                hop: hops - 1,
                kind: FailureKind::Destination
            }
        );
    }
    assert_eq!(d.net.live_htlcs(), 0);
    assert_eq!(d.net.receiver(NodeIdx(3)).open_sets(), 0);
    assert!(!d.net.receiver(NodeIdx(3)).is_paid(&k.hash));
}

#[test]
fn mismatched_total_msat_fails_the_whole_set() {
    let (mut d, g) = diamond();
    let k = keys(3);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(20_000_000)))
        .unwrap();
    let p1 = path(&g, &[0, 1, 3], 10_000_000, 18);
    let p2 = path(&g, &[0, 3], 7_000_000, 18);
    d.pay(1, &p1, &k, 30_000_000).unwrap();
    d.run();
    assert_eq!(d.outcome(1), None, "held");
    d.pay(2, &p2, &k, 20_000_000).unwrap();
    d.run();
    let f1 = d.failure(1);
    let f2 = d.failure(2);
    assert_eq!(f1.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f1.data, unknown(10_000_000, HEIGHT));
    assert_eq!(f2.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f2.data, unknown(7_000_000, HEIGHT));
    assert_eq!(d.net.receiver(NodeIdx(3)).open_sets(), 0);
}

#[test]
fn wrong_secret_fails_alone_and_like_an_unknown_hash() {
    let (mut d, g) = diamond();
    let k = keys(4);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(20_000_000)))
        .unwrap();
    let p = path(&g, &[0, 1, 3], 10_000_000, 18);
    d.pay(1, &p, &k, 20_000_000).unwrap();
    d.run();
    let wrong = PaymentKeys {
        secret: keys(99).secret,
        ..k
    };
    let p2 = path(&g, &[0, 3], 10_000_000, 18);
    d.pay(2, &p2, &wrong, 20_000_000).unwrap();
    d.run();
    let f = d.failure(2);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.data, unknown(10_000_000, HEIGHT));
    assert_eq!(f.origin_hop, 0);
    assert_eq!(canonical_failure_data(f.code, &f.data), f.data);
    // The open set survived: the right second part completes it.
    assert_eq!(d.outcome(1), None);
    d.pay(3, &p2, &k, 20_000_000).unwrap();
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert!(matches!(d.outcome(3), Some(Outcome::Settled { .. })));
}

/// The prober (node 1) saw an HTLC with `k.hash` and `amount` go by towards node 2 and
/// replays it to node 2 directly, without the secret.
fn probe(receiver: Behaviour) -> (Driver, PaymentKeys, Path) {
    let g = line(3, 1_000_000);
    let b = balances(&g, 0.9);
    let mut c = vec![NodeConfig::default(); 3];
    c[2].behaviour = receiver;
    let mut d = Driver::new(g, b, Some(c));
    let g = d.graph();
    let k = keys(5);
    d.net
        .register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(5_000_000)))
        .unwrap();
    let replay = path(&g, &[1, 2], 5_000_000, 18);
    (d, k, replay)
}

fn send_bare(d: &mut Driver, id: u64, p: &Path, k: &PaymentKeys, data: Option<PaymentData>) {
    d.send(SendPart {
        id: PartId(id),
        path: p,
        payment_hash: k.hash,
        payment_data: data,
        keysend_preimage: None,
    })
    .unwrap();
    d.run();
}

#[test]
fn probing_hop_learns_nothing_from_a_replay() {
    let (mut d, k, replay) = probe(Behaviour::Honest);
    // Replay of the real hash and amount, no secret.
    send_bare(&mut d, 1, &replay, &k, None);
    // Replay with a guessed secret.
    let guess = Some(PaymentData {
        payment_secret: keys(77).secret,
        total_msat: 5_000_000,
    });
    send_bare(&mut d, 2, &replay, &k, guess);
    // A hash nobody knows.
    send_bare(&mut d, 3, &replay, &keys(6), None);
    let (a, b, c) = (d.outcome(1), d.outcome(2), d.outcome(3));
    assert_eq!(a, c, "the known hash answers exactly like an unknown one");
    assert_eq!(b, c);
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.data, unknown(5_000_000, HEIGHT));
    assert!(!d.net.receiver(NodeIdx(2)).is_paid(&k.hash));
    // The real payment still goes through afterwards.
    let g = d.graph();
    let p = path(&g, &[0, 1, 2], 5_000_000, 18);
    d.pay(4, &p, &k, 5_000_000).unwrap();
    d.run();
    assert!(matches!(d.outcome(4), Some(Outcome::Settled { .. })));
}

#[test]
fn a_legacy_receiver_gives_the_probe_away() {
    let (mut d, k, replay) = probe(Behaviour::LegacyReceiver);
    send_bare(&mut d, 1, &replay, &k, None);
    // Without the secret check the replay is claimed: the prober learns the preimage.
    assert_eq!(
        d.outcome(1),
        Some(Outcome::Settled {
            preimage: k.preimage,
            fee_msat: 0
        })
    );
}

#[test]
fn amounts_outside_invoice_to_twice_invoice_are_refused() {
    let (mut d, g) = diamond();
    let k = keys(7);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(10_000_000)))
        .unwrap();
    let low = path(&g, &[0, 3], 9_999_999, 18);
    d.pay(1, &low, &k, 9_999_999).unwrap();
    d.run();
    assert_eq!(d.failure(1).data, unknown(9_999_999, HEIGHT));
    let high = path(&g, &[0, 3], 20_000_001, 18);
    d.pay(2, &high, &k, 20_000_001).unwrap();
    d.run();
    assert_eq!(
        d.failure(2).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );
    // Twice the amount exactly is allowed (an overpayment BOLT 4 tolerates).
    let twice = path(&g, &[0, 3], 20_000_000, 18);
    d.pay(3, &twice, &k, 20_000_000).unwrap();
    d.run();
    assert!(matches!(d.outcome(3), Some(Outcome::Settled { .. })));
}

#[test]
fn final_expiry_too_close_or_expired_invoice_look_unknown() {
    let (mut d, g) = diamond();
    let k = keys(8);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(1_000_000)))
        .unwrap();
    let short = path(&g, &[0, 3], 1_000_000, 10);
    d.pay(1, &short, &k, 1_000_000).unwrap();
    d.run();
    assert_eq!(d.failure(1).data, unknown(1_000_000, HEIGHT));
    let k2 = keys(9);
    d.net
        .register_invoice(NodeIdx(3), k2.hash, invoice(&k2, Some(1_000_000)))
        .unwrap();
    d.advance(Duration::from_secs(3_601), 0);
    let ok = path(&g, &[0, 3], 1_000_000, 18);
    d.pay(2, &ok, &k2, 1_000_000).unwrap();
    d.run();
    let f = d.failure(2);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.data, unknown(1_000_000, HEIGHT));
}

fn keysend(d: &mut Driver, id: u64, p: &Path, pre: PaymentPreimage, data: Option<PaymentData>) {
    let hash = flotilla_ln::invoice::payment_hash_of(&pre);
    d.send(SendPart {
        id: PartId(id),
        path: p,
        payment_hash: hash,
        payment_data: data,
        keysend_preimage: Some(pre),
    })
    .unwrap();
}

#[test]
fn keysend_settles_without_an_invoice() {
    let (mut d, g) = diamond();
    let pre = PaymentPreimage([42; 32]);
    let p = path(&g, &[0, 1, 3], 3_000_000, 18);
    keysend(&mut d, 1, &p, pre, None);
    d.run();
    assert_eq!(
        d.outcome(1),
        Some(Outcome::Settled {
            preimage: pre,
            fee_msat: p.fee_msat()
        })
    );
    assert_eq!(d.received(3).len(), 1);
    // Keysend with a preimage that does not match the hash.
    let k = keys(10);
    d.send(SendPart {
        id: PartId(2),
        path: &p,
        payment_hash: k.hash,
        payment_data: None,
        keysend_preimage: Some(PaymentPreimage([1; 32])),
    })
    .unwrap();
    d.run();
    assert_eq!(d.failure(2).data, unknown(3_000_000, HEIGHT));
}

#[test]
fn keysend_mpp_uses_the_senders_secret_and_total() {
    let (mut d, g) = diamond();
    let pre = PaymentPreimage([43; 32]);
    let data = Some(PaymentData {
        payment_secret: keys(11).secret,
        total_msat: 20_000_000,
    });
    let p1 = path(&g, &[0, 1, 3], 10_000_000, 18);
    let p2 = path(&g, &[0, 2, 3], 10_000_000, 18);
    keysend(&mut d, 1, &p1, pre, data);
    d.run();
    assert_eq!(d.outcome(1), None, "held for the rest");
    // A stranger's part with another secret does not join the set.
    let other = Some(PaymentData {
        payment_secret: keys(12).secret,
        total_msat: 20_000_000,
    });
    let p3 = path(&g, &[0, 3], 10_000_000, 18);
    keysend(&mut d, 3, &p3, pre, other);
    d.run();
    assert_eq!(
        d.failure(3).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );
    keysend(&mut d, 2, &p2, pre, data);
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert!(matches!(d.outcome(2), Some(Outcome::Settled { .. })));
    let hash = flotilla_ln::invoice::payment_hash_of(&pre);
    assert_eq!(d.received(3), vec![(hash, 20_000_000, 2)]);
}

#[test]
fn keysend_refused_looks_like_an_unknown_payment() {
    let g = line(2, 1_000_000);
    let b = balances(&g, 0.9);
    let mut c = vec![NodeConfig::default(); 2];
    c[1].accept_keysend = false;
    let mut d = Driver::new(g, b, Some(c));
    let g = d.graph();
    let p = path(&g, &[0, 1], 1_500_000, 18);
    keysend(&mut d, 1, &p, PaymentPreimage([44; 32]), None);
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.data, unknown(1_500_000, HEIGHT));
    assert_eq!(f.origin_hop, 0);
}
