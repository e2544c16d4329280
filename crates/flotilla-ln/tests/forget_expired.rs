//! Receivers forget expired invoices and their paid hashes, so a long run's memory stays
//! flat (the soak found both books growing by an entry per payment), without changing
//! what any HTLC gets: an HTLC for an expired invoice is refused as unknown either way.

mod common;

use std::time::Duration;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::failure::FailureCode;
use flotilla_ln::lock::LockKind;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::PartId;
use flotilla_route::Timestamp;

const AMOUNT: u64 = 10_000_000;

fn receiver(d: &Driver) -> &flotilla_ln::receiver::Receiver {
    d.net.receiver(NodeIdx(2))
}

#[test]
fn paid_and_unpaid_invoices_are_forgotten_after_expiry() {
    let mut d = Driver::line(3, 1_000_000);
    let g = d.graph();
    let p = path(&g, &[0, 1, 2], AMOUNT, 18);
    // Invoice 1 is paid, invoice 2 never is; both expire at 3,600 s.
    for i in [1, 2] {
        let k = keys(i);
        d.net
            .register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(AMOUNT)))
            .unwrap();
    }
    d.pay(1, &p, &keys(1), AMOUNT).unwrap();
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert!(receiver(&d).is_paid(&keys(1).hash));
    assert_eq!(
        receiver(&d).remembered(),
        2,
        "one paid hash, one open invoice"
    );

    // Before expiry a second payment of the paid hash is refused as unknown.
    d.pay(2, &p, &keys(1), AMOUNT).unwrap();
    d.run();
    assert_eq!(
        d.failure(2).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );

    // After expiry both are forgotten at the next HTLC the receiver sees, and paying
    // either is refused exactly as before.
    d.advance(Duration::from_secs(7_200), 12);
    d.pay(3, &p, &keys(1), AMOUNT).unwrap();
    d.run();
    assert_eq!(receiver(&d).remembered(), 0);
    assert!(!receiver(&d).is_paid(&keys(1).hash));
    assert_eq!(
        d.failure(3).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );
    d.pay(4, &p, &keys(2), AMOUNT).unwrap();
    d.run();
    assert_eq!(
        d.failure(4).code,
        FailureCode::IncorrectOrUnknownPaymentDetails
    );
}

#[test]
fn an_open_set_keeps_its_invoice_until_its_timer() {
    let mut d = Driver::line(3, 1_000_000);
    let g = d.graph();
    let k = keys(5);
    let mut rec = invoice(&k, Some(AMOUNT));
    rec.expires_at = Timestamp::from_secs(2);
    d.net.register_invoice(NodeIdx(2), k.hash, rec).unwrap();
    // Half the amount arrives before expiry: the set is open.
    let half = path(&g, &[0, 1, 2], AMOUNT / 2, 18);
    d.pay(1, &half, &k, AMOUNT).unwrap();
    d.run();
    assert_eq!(receiver(&d).open_sets(), 1);
    // Registering another invoice after expiry prunes, but not the open set's invoice.
    d.clock.now = Timestamp::from_secs(10);
    d.pay(2, &path(&g, &[0, 1, 2], 1_000, 18), &keys(6), 1_000)
        .unwrap();
    d.run();
    let k7 = keys(7);
    d.net
        .register_invoice(NodeIdx(2), k7.hash, invoice(&k7, None))
        .unwrap();
    assert!(receiver(&d).invoice(&k.hash).is_some());
    // The set's timer fails the part; the invoice goes at the next prune.
    d.advance(Duration::from_secs(120), 0);
    assert_eq!(d.failure(1).code, FailureCode::MppTimeout);
    d.pay(3, &path(&g, &[0, 1, 2], 1_000, 18), &keys(6), 1_000)
        .unwrap();
    d.run();
    assert!(receiver(&d).invoice(&k.hash).is_none());
}

#[test]
fn redundant_registrations_are_forgotten_after_expiry() {
    // Sender 0 reaches receiver 3 over 0 — 1 — 3 and 0 — 2 — 3.
    let g = graph(
        4,
        &[
            (0, 1, 1_000_000),
            (1, 3, 1_000_000),
            (0, 2, 1_000_000),
            (2, 3, 1_000_000),
        ],
    );
    let b = balances(&g, 0.9);
    let mut d = Driver::new(g, b, None);
    let g = d.graph();
    let r = NodeIdx(3);
    for (i, lock) in [(1u8, LockKind::H2tlc), (2, LockKind::SenderHash)] {
        let k = keys(i);
        d.net
            .register_redundant(
                r,
                RedundantInvoice {
                    payment_secret: k.secret,
                    amount_msat: AMOUNT,
                    lock,
                    preimage: Some(k.preimage),
                    min_final_cltv_expiry_delta: 18,
                    expires_at: Timestamp::from_secs(3_600),
                },
            )
            .unwrap();
    }
    // Payment 1: two halves, claimed; payment 2 never sent.
    let k = keys(1);
    let id = [9u8; 32];
    let mut s = RedundantSender::new(id, AMOUNT, LockKind::H2tlc, k.secret, Some(k.hash));
    for (j, mid) in [1usize, 2].into_iter().enumerate() {
        let idx = s.add_part(AMOUNT / 2, RedundantSender::derive_secret(1, &id, j as u16));
        let p = path(&g, &[0, mid, 3], AMOUNT / 2, 18);
        d.send_redundant(s.part(idx, PartId(j as u64), &p)).unwrap();
    }
    d.run();
    let req = d.claim_requests.pop().expect("a claim request");
    let secrets = s.answer(&req.parts).unwrap();
    d.reveal(3, req.payment_id, secrets).unwrap();
    d.run();
    let book = &d.net.receiver(r).redundant;
    assert!(book.is_paid(&k.secret));
    assert_eq!(book.settled_msat(&k.secret), AMOUNT);
    assert!(book.remembered() > 0);

    // After expiry, the next part the receiver sees prunes both registrations.
    d.advance(Duration::from_secs(7_200), 12);
    let k3 = keys(3);
    let mut s3 = RedundantSender::new([3; 32], AMOUNT, LockKind::SenderHash, k3.secret, None);
    let idx = s3.add_part(AMOUNT, [3; 32]);
    let p = path(&g, &[0, 1, 3], AMOUNT, 18);
    d.send_redundant(s3.part(idx, PartId(10), &p)).unwrap();
    d.run();
    let book = &d.net.receiver(r).redundant;
    assert_eq!(book.remembered(), 0);
    assert!(!book.is_paid(&k.secret));
    assert_eq!(book.overpaid(), None);
    d.net.check_invariants().unwrap();
}
