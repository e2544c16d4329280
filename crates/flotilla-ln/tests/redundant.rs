//! Redundant overpayment with the hash-based locks: send more than A, claim exactly A,
//! fail the rest; cheating receivers and hops without h2tlc support.

mod common;

use std::time::Duration;

use common::*;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::failure::FailureCode;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::network::PeerError as DeliverError;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender, RevealError};
use flotilla_ln::sender::PartId;
use flotilla_ln::PaymentPreimage;
use flotilla_route::{Path, Timestamp};

const A: u64 = 20_000_000;
const RECEIVER: usize = FAN_RECEIVER;

fn invoice_for(k: &PaymentKeys, lock: LockKind) -> RedundantInvoice {
    RedundantInvoice {
        payment_secret: k.secret,
        amount_msat: A,
        lock,
        preimage: (lock == LockKind::H2tlc).then_some(k.preimage),
        min_final_cltv_expiry_delta: 18,
        expires_at: Timestamp::from_secs(3_600),
    }
}

/// Registers the payment at the receiver and sends one part per amount, part i over
/// 0 — (i+1) — 9. Returns the sender's state and the paths.
fn start(
    d: &mut Driver,
    g: &Graph,
    k: &PaymentKeys,
    lock: LockKind,
    amounts: &[u64],
) -> (RedundantSender, Vec<Path>) {
    d.net
        .register_redundant(NodeIdx(RECEIVER as u32), invoice_for(k, lock))
        .unwrap();
    let id = [0xAA; 32];
    let mut s = RedundantSender::new(id, A, lock, k.secret, Some(k.hash));
    let mut paths = Vec::new();
    for (i, &amt) in amounts.iter().enumerate() {
        let idx = s.add_part(amt, RedundantSender::derive_secret(7, &id, i as u16));
        let p = path(g, &[0, i + 1, RECEIVER], amt, 18);
        d.send_redundant(s.part(idx, PartId(i as u64), &p)).unwrap();
        paths.push(p);
    }
    (s, paths)
}

fn settled_fee(d: &Driver, id: u64) -> u64 {
    match d.outcome(id) {
        Some(Outcome::Settled { fee_msat, .. }) => fee_msat,
        other => panic!("part {id}: expected settled, got {other:?}"),
    }
}

fn three_halves(lock: LockKind) {
    let (mut d, g) = fan(3, None);
    let k = keys(1);
    let (mut s, _) = start(&mut d, &g, &k, lock, &[A / 2, A / 2, A / 2]);
    // Step until the claim request: it comes when the second part is held.
    while d.claim_requests.is_empty() {
        assert!(d.step(), "no claim request");
    }
    assert_eq!(d.claim_requests[0].parts.len(), 2);
    assert_eq!(d.claim_requests[0].sender, Some(NodeIdx(0)));
    assert_eq!(d.claim_requests[0].receiver, NodeIdx(RECEIVER as u32));
    d.run();
    assert_eq!(d.claim_requests.len(), 1, "one claim request per payment");
    assert_eq!(d.net.held_parts(NodeIdx(RECEIVER as u32), &k.secret), 3);
    assert!(d.events.is_empty(), "nothing settles before the secrets");
    let req = d.claim_requests[0].clone();
    let secrets = s.answer(&req.parts).unwrap();
    assert_eq!(secrets.len(), 2);
    d.reveal(RECEIVER, req.payment_id, secrets.clone()).unwrap();
    d.run();
    let claimed: Vec<u64> = secrets.iter().map(|(i, _)| *i as u64).collect();
    let mut fees = 0;
    for i in 0..3u64 {
        if claimed.contains(&i) {
            fees += settled_fee(&d, i);
            if let Some(Outcome::Settled { preimage, .. }) = d.outcome(i) {
                match lock {
                    // h2tlc keeps the receiver's preimage as proof of payment.
                    LockKind::H2tlc => assert_eq!(preimage, k.preimage),
                    _ => assert_eq!(
                        preimage.0,
                        secrets[claimed.iter().position(|c| *c == i).unwrap()].1
                    ),
                }
            }
        } else {
            assert_eq!(
                d.failure(i).code,
                FailureCode::IncorrectOrUnknownPaymentDetails
            );
        }
    }
    let r = &d.received(RECEIVER);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].1, r[0].2), (A, 2));
    // The sender paid A plus the fees of the two settled parts, the receiver got A.
    assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
    assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    assert_eq!(d.net.live_htlcs(), 0);
    assert_eq!(d.net.counters().overclaim_attempts, 0);
    // Secrets are revealed once: a second request gets nothing.
    assert_eq!(s.answer(&req.parts), None);
    // A second reveal finds the payment complete.
    assert_eq!(
        d.reveal(RECEIVER, req.payment_id, secrets),
        Err(RevealError::UnknownPayment)
    );
    d.net.check_invariants().unwrap();
}

#[test]
fn sender_hash_three_halves_settle_exactly_a() {
    three_halves(LockKind::SenderHash);
}

#[test]
fn h2tlc_three_halves_settle_exactly_a() {
    three_halves(LockKind::H2tlc);
}

#[test]
fn the_claim_request_waits_for_a_subset_worth_exactly_a() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut d, g) = fan(3, None);
        let k = keys(3);
        // 12 + 9 ≥ 20 but no subset of them is 20: only the third part makes one.
        let amounts = [12_000_000, 9_000_000, 8_000_000];
        let (mut s, _) = start(&mut d, &g, &k, lock, &amounts);
        d.run();
        assert_eq!(d.claim_requests.len(), 1, "one request, once answerable");
        let req = d.claim_requests[0].clone();
        assert_eq!(req.parts.len(), 3, "{:?}", req.parts);
        let secrets = s.answer(&req.parts).unwrap();
        let mut idx: Vec<u16> = secrets.iter().map(|p| p.0).collect();
        idx.sort_unstable();
        assert_eq!(idx, vec![0, 2], "12 + 8 = 20 exactly");
        d.reveal(RECEIVER, req.payment_id, secrets).unwrap();
        d.run();
        assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(d.net.live_htlcs(), 0);
    }
}

#[test]
fn uneven_parts_settle_an_exact_subset() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut d, g) = fan(4, None);
        let k = keys(2);
        let amounts = [12_000_000, 5_000_000, 8_000_000, 3_000_000];
        let (mut s, _) = start(&mut d, &g, &k, lock, &amounts);
        d.run();
        // 12 + 5 < 20 ≤ 12 + 5 + 8: the request names the first three parts.
        let req = d.claim_requests[0].clone();
        assert_eq!(
            req.parts,
            vec![(0, 12_000_000), (1, 5_000_000), (2, 8_000_000)]
        );
        let secrets = s.answer(&req.parts).unwrap();
        let mut idx: Vec<u16> = secrets.iter().map(|p| p.0).collect();
        idx.sort_unstable();
        assert_eq!(idx, vec![0, 2], "12 + 8 = 20 exactly");
        d.reveal(RECEIVER, req.payment_id, secrets).unwrap();
        d.run();
        let fees = settled_fee(&d, 0) + settled_fee(&d, 2);
        for i in [1, 3] {
            assert_eq!(
                d.failure(i).code,
                FailureCode::IncorrectOrUnknownPaymentDetails
            );
        }
        assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
        assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(d.net.live_htlcs(), 0);
    }
}

#[test]
fn wrong_reveals_change_nothing() {
    let (mut d, g) = fan(3, None);
    let k = keys(3);
    let (s, _) = start(&mut d, &g, &k, LockKind::SenderHash, &[A / 2, A / 2, A / 2]);
    d.run();
    let id = d.claim_requests[0].payment_id;
    let sec = |i: u16| RedundantSender::derive_secret(7, &id, i);
    let _ = s;
    // Too little, too much, a wrong secret, an unknown part, a part twice.
    assert_eq!(
        d.reveal(RECEIVER, id, vec![(0, sec(0))]),
        Err(RevealError::AmountMismatch {
            revealed: A / 2,
            due: A
        })
    );
    assert_eq!(
        d.reveal(RECEIVER, id, vec![(0, sec(0)), (1, sec(1)), (2, sec(2))]),
        Err(RevealError::AmountMismatch {
            revealed: 3 * A / 2,
            due: A
        })
    );
    assert_eq!(
        d.reveal(RECEIVER, id, vec![(0, sec(0)), (1, sec(2))]),
        Err(RevealError::WrongSecret(1))
    );
    assert_eq!(
        d.reveal(RECEIVER, id, vec![(0, sec(0)), (5, sec(5))]),
        Err(RevealError::UnknownPart(5))
    );
    assert_eq!(
        d.reveal(RECEIVER, id, vec![(0, sec(0)), (0, sec(0))]),
        Err(RevealError::DuplicatePart(0))
    );
    assert_eq!(
        d.reveal(RECEIVER, [1; 32], vec![(0, sec(0))]),
        Err(RevealError::UnknownPayment)
    );
    d.run();
    assert!(d.events.is_empty());
    assert_eq!(d.net.held_parts(NodeIdx(RECEIVER as u32), &k.secret), 3);
    // The right answer still works.
    d.reveal(RECEIVER, id, vec![(2, sec(2)), (1, sec(1))])
        .unwrap();
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    assert!(matches!(d.outcome(2), Some(Outcome::Settled { .. })));
    assert!(matches!(d.outcome(0), Some(Outcome::Failed { .. })));
}

#[test]
fn late_part_after_completion_fails() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut d, g) = fan(4, None);
        let k = keys(4);
        let (mut s, _) = start(&mut d, &g, &k, lock, &[A / 2, A / 2]);
        d.run();
        let req = d.claim_requests[0].clone();
        let secrets = s.answer(&req.parts).unwrap();
        d.reveal(RECEIVER, req.payment_id, secrets).unwrap();
        d.run();
        assert_eq!(d.received(RECEIVER).len(), 1);
        // A third part arrives after completion.
        let idx = s.add_part(A / 2, RedundantSender::derive_secret(7, &req.payment_id, 2));
        let p = path(&g, &[0, 3, RECEIVER], A / 2, 18);
        d.send_redundant(s.part(idx, PartId(2), &p)).unwrap();
        d.run();
        let f = d.failure(2);
        assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
        assert_eq!(f.origin_hop, 1, "the receiver");
        assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(d.claim_requests.len(), 1);
        assert_eq!(d.net.live_htlcs(), 0);
    }
}

#[test]
fn unanswered_claim_request_fails_every_part_after_mpp_timeout() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut d, g) = fan(3, None);
        let k = keys(5);
        start(&mut d, &g, &k, lock, &[A / 2, A / 2, A / 2]);
        d.run();
        assert_eq!(d.claim_requests.len(), 1);
        d.advance(Duration::from_secs(59), 0);
        assert!(d.events.is_empty(), "still held");
        d.advance(Duration::from_secs(1), 0);
        for i in 0..3 {
            assert_eq!(d.failure(i).code, FailureCode::MppTimeout);
        }
        assert_eq!(d.net.live_htlcs(), 0);
        assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, 0);
        // An answer that comes too late claims nothing.
        let id = d.claim_requests[0].payment_id;
        let sec = |i: u16| RedundantSender::derive_secret(7, &id, i);
        assert_eq!(
            d.reveal(RECEIVER, id, vec![(0, sec(0)), (1, sec(1))]),
            Err(RevealError::UnknownPayment)
        );
        assert_eq!(d.net.held_parts(NodeIdx(RECEIVER as u32), &k.secret), 0);
    }
}

#[test]
fn h2tlc_through_a_hop_without_support_fails_with_required_node_feature_missing() {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[1].supports_h2tlc = false;
    for lock in [LockKind::H2tlc, LockKind::SenderHash] {
        let (mut d, g) = fan(2, Some(configs.clone()));
        let k = keys(6);
        start(&mut d, &g, &k, lock, &[A / 2, A / 2]);
        d.run();
        match lock {
            LockKind::H2tlc => {
                let f = d.failure(0);
                assert_eq!(f.code, FailureCode::RequiredNodeFeatureMissing);
                assert_eq!(f.origin_hop, 0, "the hop without support");
                // The part over a supporting hop is held, alone below A.
                assert_eq!(d.outcome(1), None);
                assert!(d.claim_requests.is_empty());
                d.advance(Duration::from_secs(60), 0);
                assert_eq!(d.failure(1).code, FailureCode::MppTimeout);
            }
            _ => {
                // sender_hash needs no hop change: both parts arrive.
                assert_eq!(d.claim_requests.len(), 1);
                assert_eq!(d.outcome(0), None);
            }
        }
    }
}

/// A receiver that tries to claim every held part: each claim it was not given is refused
/// at the lock check, counted, and moves nothing.
fn cheating_receiver(lock: LockKind) {
    let mut configs = vec![NodeConfig::default(); 10];
    configs[RECEIVER].behaviour = Behaviour::CheatingReceiver;
    let (mut d, g) = fan(3, Some(configs));
    let k = keys(8);
    let (mut s, _) = start(&mut d, &g, &k, lock, &[A / 2, A / 2, A / 2]);
    d.run();
    let node = NodeIdx(RECEIVER as u32);
    // Before any secret: direct claims with guesses (for h2tlc the receiver knows its
    // preimage, so only the sender secret is missing).
    let held = d.net.receiver(node).redundant.held(&k.secret);
    assert_eq!(held.len(), 3);
    let before = d.balance(0, 1) + d.balance(0, 2) + d.balance(0, 3);
    for p in &held {
        let e = match lock {
            LockKind::H2tlc => {
                assert_eq!(
                    d.claim_held(RECEIVER, p.htlc, k.preimage, None),
                    Err(DeliverError::WrongSenderSecret(wire_of(&d, p.htlc)))
                );
                d.claim_held(RECEIVER, p.htlc, k.preimage, Some([0x55; 32]))
            }
            _ => d.claim_held(RECEIVER, p.htlc, k.preimage, None),
        };
        let want = match lock {
            LockKind::H2tlc => DeliverError::WrongSenderSecret(wire_of(&d, p.htlc)),
            _ => DeliverError::WrongPreimage(wire_of(&d, p.htlc)),
        };
        assert_eq!(e, Err(want));
    }
    let direct = match lock {
        LockKind::H2tlc => 6,
        _ => 3,
    };
    assert_eq!(d.net.counters().overclaim_attempts, direct);
    d.run();
    assert!(d.events.is_empty(), "nothing moved");
    assert_eq!(d.balance(0, 1) + d.balance(0, 2) + d.balance(0, 3), before);
    assert_eq!(d.net.ledger(node).paid_in_msat, 0);
    // The sender reveals two secrets; the cheater re-uses both (and a guess) on the
    // third part before failing it.
    let req = d.claim_requests[0].clone();
    let secrets = s.answer(&req.parts).unwrap();
    d.reveal(RECEIVER, req.payment_id, secrets.clone()).unwrap();
    d.run();
    assert_eq!(d.net.counters().overclaim_attempts, direct + 3);
    // Re-using a revealed secret on the remaining part directly: not held any more.
    let rest: Vec<u64> = (0..3u64)
        .filter(|i| !secrets.iter().any(|(j, _)| *j as u64 == *i))
        .collect();
    assert_eq!(rest.len(), 1);
    let mut fees = 0;
    for i in 0..3u64 {
        if rest.contains(&i) {
            assert_eq!(
                d.failure(i).code,
                FailureCode::IncorrectOrUnknownPaymentDetails
            );
        } else {
            fees += settled_fee(&d, i);
        }
    }
    assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
    assert_eq!(d.net.ledger(node).paid_in_msat, A);
    assert_eq!(d.net.receiver(node).redundant.settled_msat(&k.secret), A);
    assert_eq!(d.net.live_htlcs(), 0);
    d.net.check_invariants().unwrap();
}

#[test]
fn cheating_receiver_cannot_overclaim_sender_hash() {
    cheating_receiver(LockKind::SenderHash);
}

#[test]
fn cheating_receiver_cannot_overclaim_h2tlc() {
    cheating_receiver(LockKind::H2tlc);
}

#[test]
fn claim_with_a_secret_from_another_part_is_refused() {
    // sender_hash: a revealed s_j is the preimage of part j only.
    let (mut d, g) = fan(3, None);
    let k = keys(9);
    start(&mut d, &g, &k, LockKind::SenderHash, &[A / 2, A / 2, A / 2]);
    d.run();
    let id = d.claim_requests[0].payment_id;
    let held = d
        .net
        .receiver(NodeIdx(RECEIVER as u32))
        .redundant
        .held(&k.secret);
    let s0 = RedundantSender::derive_secret(7, &id, 0);
    let p1 = held.iter().find(|p| p.part_index == 1).unwrap();
    assert_eq!(
        d.claim_held(RECEIVER, p1.htlc, PaymentPreimage(s0), None),
        Err(DeliverError::WrongPreimage(wire_of(&d, p1.htlc)))
    );
    // With its own secret a held part can be claimed directly (the honest path does the
    // same through the reveal).
    let p0 = held.iter().find(|p| p.part_index == 0).unwrap();
    d.claim_held(RECEIVER, p0.htlc, PaymentPreimage(s0), None)
        .unwrap();
    d.run();
    assert!(matches!(d.outcome(0), Some(Outcome::Settled { .. })));
    assert_eq!(d.net.counters().overclaim_attempts, 1);
    // Not held any more.
    assert_eq!(
        d.claim_held(RECEIVER, p0.htlc, PaymentPreimage(s0), None),
        Err(DeliverError::NotHeld(p0.htlc))
    );
}

#[test]
fn real_onions_carry_the_redundant_payload() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut d, g) = fan(3, None);
        d.net.enable_real_onions(42);
        let k = keys(10);
        let (mut s, _) = start(&mut d, &g, &k, lock, &[A / 2, A / 2, A / 2]);
        d.run();
        // The receiver read the record from its Sphinx layer: it held the parts and
        // asked once two of them reached A.
        let req = d.claim_requests[0].clone();
        assert_eq!(req.parts.len(), 2);
        let secrets = s.answer(&req.parts).unwrap();
        d.reveal(RECEIVER, req.payment_id, secrets).unwrap();
        d.run();
        let r = d.received(RECEIVER);
        assert_eq!((r[0].1, r[0].2), (A, 2));
        let failed: Vec<_> = (0..3)
            .filter_map(|i| match d.outcome(i) {
                Some(Outcome::Failed { failure, .. }) => Some(failure.code),
                _ => None,
            })
            .collect();
        // The failure onion decodes at the sender.
        assert_eq!(failed, vec![FailureCode::IncorrectOrUnknownPaymentDetails]);
        assert_eq!(d.net.live_htlcs(), 0);
    }
}

#[test]
fn plain_hash_lock_cannot_be_registered_redundant() {
    let (mut d, _) = fan(1, None);
    let k = keys(11);
    let mut inv = invoice_for(&k, LockKind::Hash);
    assert!(d.net.register_redundant(NodeIdx(9), inv).is_err());
    inv.lock = LockKind::H2tlc;
    inv.preimage = None;
    assert!(d.net.register_redundant(NodeIdx(9), inv).is_err());
}

/// A part stuck at a hodl hop: the receiver claims A from the others, the stuck part
/// comes back failed only when its HTLC expires, and the sender pays exactly A plus
/// the settled parts' fees, never the stuck part.
#[test]
fn a_part_stuck_at_a_hodl_hop_costs_nothing_but_time() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let mut configs = vec![NodeConfig::default(); 10];
        configs[1].behaviour = Behaviour::Hodl;
        let (mut d, g) = fan(3, Some(configs));
        let k = keys(12);
        let (mut s, _) = start(&mut d, &g, &k, lock, &[A / 2, A / 2, A / 2]);
        d.run();
        let req = d.claim_requests[0].clone();
        assert_eq!(
            req.parts.len(),
            2,
            "parts 1 and 2 arrived; part 0 is held at the hodl hop"
        );
        let secrets = s.answer(&req.parts).unwrap();
        d.reveal(RECEIVER, req.payment_id, secrets).unwrap();
        d.run();
        let fees = settled_fee(&d, 1) + settled_fee(&d, 2);
        assert_eq!(d.outcome(0), None, "still stuck");
        assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
        // The hodl hop lets go only at expiry (CLTV blocks later).
        d.advance(Duration::from_secs(3_600 * 24), 200);
        assert!(matches!(d.outcome(0), Some(Outcome::Failed { .. })));
        assert_eq!(d.net.ledger(NodeIdx(0)).paid_out_msat, A + fees);
        assert_eq!(d.net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(d.net.live_htlcs(), 0);
    }
}

/// The receiver's HTLC `id` as peers name it.
fn wire_of(d: &Driver, id: flotilla_ln::htlc::HtlcId) -> flotilla_ln::msg::HtlcRef {
    d.net
        .node(NodeIdx(RECEIVER as u32))
        .htlc(id)
        .expect("held")
        .wire
}
