//! Bad input never panics: malformed payloads and onions become BOLT 4 failures, driver
//! mistakes become typed errors, and the invariants hold throughout.

mod common;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::failure::{FailureCode, FailureData};
use flotilla_ln::msg::{Msg, UpdateFulfillHtlc};
use flotilla_ln::network::PeerError as DeliverError;
use flotilla_ln::onion::real::{build_onion, RealOnion};
use flotilla_ln::onion::tlv;
use flotilla_ln::onion::{ModeledHop, ModeledOnion, Onion};
use flotilla_ln::payload::{HopPayload, PaymentData};
use flotilla_ln::sender::build_payloads;
use flotilla_ln::PaymentPreimage;
use flotilla_route::{FailureKind, PathFailure};
use proptest::prelude::*;

const AMOUNT: u64 = 4_000_000;

fn setup() -> (
    Driver,
    flotilla_ln::invoice::PaymentKeys,
    flotilla_route::Path,
    Vec<HopPayload>,
) {
    let d = Driver::line(4, 1_000_000);
    let g = d.graph();
    let mut d = d;
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(AMOUNT)))
        .unwrap();
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let payloads = build_payloads(
        &g,
        &p,
        HEIGHT,
        Some(PaymentData {
            payment_secret: k.secret,
            total_msat: AMOUNT,
        }),
        None,
    )
    .unwrap();
    (d, k, p, payloads)
}

fn hops(payloads: &[HopPayload]) -> Vec<ModeledHop> {
    payloads.iter().cloned().map(ModeledHop::Payload).collect()
}

#[test]
fn final_payload_missing_amount_is_invalid_onion_payload() {
    let (mut d, k, p, payloads) = setup();
    let mut h = hops(&payloads);
    // Only outgoing_cltv_value (type 4) in the final payload.
    let mut bytes = vec![4u8, 4];
    bytes.extend_from_slice(&(HEIGHT + 18).to_be_bytes());
    h[2] = ModeledHop::Encoded(bytes.into());
    d.send_custom(1, &p, k.hash, Onion::Modeled(ModeledOnion::new(h)))
        .unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::InvalidOnionPayload);
    assert_eq!(f.origin_hop, 2);
    assert_eq!(f.data, FailureData::default());
    assert_eq!(d.net.live_htlcs(), 0);
}

#[test]
fn forward_payload_without_a_channel_is_invalid_onion_payload() {
    let (mut d, k, p, payloads) = setup();
    let mut h = hops(&payloads);
    let mut fwd = payloads[1].clone();
    fwd.short_channel_id = None;
    h[1] = ModeledHop::Encoded(tlv::encode(&fwd).into());
    d.send_custom(1, &p, k.hash, Onion::Modeled(ModeledOnion::new(h)))
        .unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure,
        path_failure,
    }) = d.outcome(1)
    else {
        panic!()
    };
    assert_eq!(failure.code, FailureCode::InvalidOnionPayload);
    assert_eq!(failure.origin_hop, 1);
    assert_eq!(
        path_failure,
        PathFailure {
            hop: 1,
            kind: FailureKind::ChannelUnusable
        }
    );
}

#[test]
fn forward_payload_with_final_fields_is_invalid() {
    let (mut d, k, p, payloads) = setup();
    let mut bad = payloads.clone();
    bad[0].payment_data = payloads[2].payment_data;
    d.send_custom(
        1,
        &p,
        k.hash,
        Onion::Modeled(ModeledOnion::from_payloads(bad)),
    )
    .unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::InvalidOnionPayload);
    assert_eq!(f.origin_hop, 0);
}

#[test]
fn onion_tampered_at_a_later_hop_is_reported_by_the_hop_before() {
    let (mut d, k, p, payloads) = setup();
    let onion = ModeledOnion::from_payloads(payloads.clone()).tampered_at(1);
    d.send_custom(1, &p, k.hash, Onion::Modeled(onion)).unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure,
        path_failure,
    }) = d.outcome(1)
    else {
        panic!()
    };
    // Node 2 could not read its layer and said so, unencrypted, to node 1, which turned
    // it into a failure of its own (BOLT 2 update_fail_malformed_htlc).
    assert_eq!(failure.code, FailureCode::InvalidOnionHmac);
    assert_eq!(failure.origin_hop, 0);
    assert_eq!(
        path_failure,
        PathFailure {
            hop: 1,
            kind: FailureKind::ChannelUnusable
        }
    );
    // Tampered for the first hop: the sender hears it directly.
    let onion = ModeledOnion::from_payloads(payloads).tampered();
    d.send_custom(2, &p, k.hash, Onion::Modeled(onion)).unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure,
        path_failure,
    }) = d.outcome(2)
    else {
        panic!()
    };
    assert_eq!(failure.code, FailureCode::InvalidOnionHmac);
    assert_eq!(path_failure.hop, 0);
    assert_eq!(d.net.live_htlcs(), 0);
}

#[test]
fn tampered_real_onion_is_invalid_onion_hmac() {
    let (mut d, k, p, payloads) = setup();
    d.net.enable_real_onions(3);
    let g = d.graph();
    let route: Vec<_> = p
        .nodes(&g)
        .zip(payloads)
        .map(|(n, pl)| (d.net.onion_pubkey(n).unwrap(), pl))
        .collect();
    let session = flotilla_ln::invoice::node_key_from_seed(999);
    let built = build_onion(&session, &route, &k.hash.0).unwrap();
    let mut bytes = built.onion.as_bytes().to_vec();
    bytes[100] ^= 1;
    let onion = Onion::Real(RealOnion::from_bytes(&bytes).unwrap());
    d.send_custom(1, &p, k.hash, onion).unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::InvalidOnionHmac);
    assert_eq!(f.origin_hop, 0);
    // The untampered onion goes through (the sender lacks the secrets to decode a
    // failure, but a settle needs none).
    d.send_custom(2, &p, k.hash, Onion::Real(built.onion))
        .unwrap();
    d.run();
    assert!(matches!(d.outcome(2), Some(Outcome::Settled { .. })));
}

#[test]
fn real_onion_on_a_modeled_network_is_refused_cleanly() {
    let (mut d, k, p, _) = setup();
    let junk = RealOnion::from_bytes(&[0u8; 1366]).unwrap();
    d.send_custom(1, &p, k.hash, Onion::Real(junk)).unwrap();
    d.run();
    assert_eq!(d.failure(1).code, FailureCode::InvalidOnionHmac);
}

#[test]
fn final_amount_and_expiry_below_the_onion_get_their_own_codes() {
    let (mut d, k, p, payloads) = setup();
    // The final payload promises 1 msat more than the last HTLC carries (as if the
    // penultimate hop had skimmed it); the secret and total are right, so the
    // payment-details check passes and the onion check answers.
    let mut final_more = payloads.clone();
    final_more[2].amt_to_forward += 1;
    d.send_custom(
        1,
        &p,
        k.hash,
        Onion::Modeled(ModeledOnion::from_payloads(final_more)),
    )
    .unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::FinalIncorrectHtlcAmount);
    assert_eq!(f.origin_hop, 2);
    assert_eq!(
        f.data,
        FailureData {
            htlc_msat: Some(AMOUNT),
            ..Default::default()
        }
    );
    let mut later = payloads;
    later[2].outgoing_cltv_value += 5;
    d.send_custom(
        2,
        &p,
        k.hash,
        Onion::Modeled(ModeledOnion::from_payloads(later)),
    )
    .unwrap();
    d.run();
    let f = d.failure(2);
    assert_eq!(f.code, FailureCode::FinalIncorrectCltvExpiry);
    assert_eq!(
        f.data,
        FailureData {
            cltv_expiry: Some(HEIGHT + 18),
            ..Default::default()
        }
    );
}

#[test]
fn misdelivered_and_replayed_messages_are_typed_errors_that_change_nothing() {
    let (mut d, k, p, _) = setup();
    d.pay(1, &p, &k, AMOUNT).unwrap();
    let (from, to, add) = d.queue.pop_front().unwrap();
    let id = add.htlc().unwrap();
    let mut out = Vec::new();
    // Delivered to a node that does not share the channel.
    let e = d
        .net
        .deliver(NodeIdx(2), from, add.clone(), &d.clock, &mut out)
        .unwrap_err();
    assert!(matches!(e, DeliverError::UnknownChannel { .. }), "{e:?}");
    // A fulfil with a preimage that does not open the HTLC: refused and counted.
    let wrong = Msg::FulfillHtlc(UpdateFulfillHtlc {
        htlc: id,
        preimage: PaymentPreimage([7; 32]),
        sender_secret: None,
    });
    let e = d
        .net
        .deliver(from, to, wrong, &d.clock, &mut out)
        .unwrap_err();
    assert_eq!(e, DeliverError::WrongPreimage(id));
    assert_eq!(d.net.counters().overclaim_attempts, 1);
    assert!(out.is_empty());
    // The add is still on its way: the two ends differ by exactly it.
    d.net.check_invariants().unwrap();
    // Delivered properly, then again: the replay reuses a live id and is refused.
    d.net
        .deliver(to, from, add.clone(), &d.clock, &mut out)
        .unwrap();
    let e = d
        .net
        .deliver(to, from, add, &d.clock, &mut out)
        .unwrap_err();
    assert_eq!(e, DeliverError::DuplicateHtlc(id));
    for o in out.drain(..) {
        if let flotilla_ln::output::Output::Message { from, to, msg } = o {
            d.queue.push_back((from, to, msg));
        }
    }
    d.run();
    assert!(matches!(d.outcome(1), Some(Outcome::Settled { .. })));
    // The HTLC is gone: resolving it again names nothing.
    let again = Msg::FulfillHtlc(UpdateFulfillHtlc {
        htlc: id,
        preimage: k.preimage,
        sender_secret: None,
    });
    assert_eq!(
        d.net.deliver(from, to, again, &d.clock, &mut out),
        Err(DeliverError::UnknownHtlc {
            msg: "update_fulfill_htlc",
            htlc: id
        })
    );
    d.net.check_invariants().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random bytes as any hop's payload: a failure or a settle, never a panic, and the
    /// invariants hold after every step (the driver checks).
    #[test]
    fn random_payload_bytes_never_panic(hop in 0usize..3, bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (mut d, k, p, payloads) = setup();
        let mut h = hops(&payloads);
        h[hop] = ModeledHop::Encoded(bytes.into());
        d.send_custom(1, &p, k.hash, Onion::Modeled(ModeledOnion::new(h))).unwrap();
        d.run();
        prop_assert!(d.outcome(1).is_some());
        prop_assert_eq!(d.net.live_htlcs(), 0);
    }
}
