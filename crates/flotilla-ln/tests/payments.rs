//! End-to-end payments over small networks: settle, fees, balances, zero-fee hubs, hodl
//! nodes, and both onion modes agreeing.

mod common;

use std::time::Duration;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::config::{Behaviour, NodeConfig, PolicyOverride};
use flotilla_ln::failure::{FailureCode, FailureData};
use flotilla_ln::onion::OnionMode;
use flotilla_route::{FailureKind, PathFailure};

#[test]
fn single_hop_payment_settles() {
    let mut d = Driver::line(2, 1_000_000);
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(1), k.hash, invoice(&k, Some(50_000_000)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1], 50_000_000, 18);
    let before = d.balance(0, 1);
    d.pay(1, &p, &k, 50_000_000).unwrap();
    d.run();
    assert_eq!(
        d.outcome(1),
        Some(Outcome::Settled {
            preimage: k.preimage,
            fee_msat: 0
        })
    );
    assert_eq!(d.received(1), vec![(k.hash, 50_000_000, 1)]);
    assert_eq!(d.balance(0, 1), before - 50_000_000);
    assert_eq!(d.balance(1, 0), 100_000_000 + 50_000_000);
    assert_eq!(d.net.live_htlcs(), 0);
    // One add, one fulfil.
    assert_eq!(d.steps, 3);
}

#[test]
fn multi_hop_payment_pays_each_forwarder_its_fee() {
    let mut d = Driver::line(4, 1_000_000);
    let k = keys(2);
    let amount = 100_000_000;
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(amount)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1, 2, 3], amount, 18);
    // Node 2 charges 1000 + 100 ppm of 100 M = 11,000; node 1 on 100,011,000: 11,001.
    assert_eq!(p.hops[1].amount_msat, amount + 11_000);
    assert_eq!(p.hops[0].amount_msat, amount + 22_001);
    let start: Vec<(u64, u64)> = (0..3)
        .map(|i| (d.balance(i, i + 1), d.balance(i + 1, i)))
        .collect();
    d.pay(7, &p, &k, amount).unwrap();
    d.run();
    assert_eq!(
        d.outcome(7),
        Some(Outcome::Settled {
            preimage: k.preimage,
            fee_msat: 22_001
        })
    );
    assert_eq!(d.net.fees_earned(NodeIdx(1)), 11_001);
    assert_eq!(d.net.fees_earned(NodeIdx(2)), 11_000);
    assert_eq!(d.net.fees_earned(NodeIdx(0)), 0);
    assert_eq!(d.net.fees_earned(NodeIdx(3)), 0);
    // Every channel moved exactly its hop's amount.
    for (i, hop) in p.hops.iter().enumerate() {
        assert_eq!(d.balance(i, i + 1), start[i].0 - hop.amount_msat, "hop {i}");
        assert_eq!(d.balance(i + 1, i), start[i].1 + hop.amount_msat, "hop {i}");
    }
    // Each forwarder's net gain is its fee; the sender lost amount + fees.
    let gain = |n: usize| {
        let l = d.net.ledger(NodeIdx(n as u32));
        l.paid_in_msat as i64 - l.paid_out_msat as i64
    };
    assert_eq!(gain(1), 11_001);
    assert_eq!(gain(2), 11_000);
    assert_eq!(gain(0), -(amount as i64 + 22_001));
    assert_eq!(gain(3), amount as i64);
    assert_eq!(d.net.counters().added, 3);
    assert_eq!(d.net.counters().fulfilled, 3);
}

#[test]
fn zero_fee_hub_forwards_for_free() {
    let g = line(3, 1_000_000);
    let b = balances(&g, 0.9);
    let mut configs = vec![NodeConfig::default(); 3];
    configs[1].policy_override = Some(PolicyOverride::zero_fee());
    let mut d = Driver::new(g, b, Some(configs));
    // The router's view: the network's graph, with the override applied.
    let g = d.graph();
    let out = edge(&g, 1, 2);
    assert_eq!(g.policy(out).unwrap().fee_base_msat, 0);
    assert_eq!(g.policy(out).unwrap().fee_rate_ppm, 0);
    // The hub's other direction is also its policy; node 2's is untouched.
    assert_eq!(g.policy(edge(&g, 2, 1)).unwrap().fee_base_msat, 1_000);
    let k = keys(3);
    d.net
        .register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(10_000_000)))
        .unwrap();
    let p = path(&g, &[0, 1, 2], 10_000_000, 18);
    assert_eq!(p.fee_msat(), 0);
    d.pay(1, &p, &k, 10_000_000).unwrap();
    d.run();
    assert!(matches!(
        d.outcome(1),
        Some(Outcome::Settled { fee_msat: 0, .. })
    ));
    assert_eq!(d.net.fees_earned(NodeIdx(1)), 0);
}

#[test]
fn stale_router_view_of_a_fee_increase_gets_fee_insufficient() {
    // The router uses the original graph; the hub raised its fees (override).
    let g0 = line(3, 1_000_000);
    let b = balances(&g0, 0.9);
    let mut configs = vec![NodeConfig::default(); 3];
    configs[1].policy_override = Some(PolicyOverride {
        fee_base_msat: Some(5_000),
        ..Default::default()
    });
    let p = path(&g0, &[0, 1, 2], 10_000_000, 18);
    let mut d = Driver::new(g0, b, Some(configs));
    let k = keys(4);
    d.net
        .register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(10_000_000)))
        .unwrap();
    d.pay(1, &p, &k, 10_000_000).unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::FeeInsufficient);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data.htlc_msat, Some(p.hops[0].amount_msat));
}

#[test]
fn hodl_forwarder_holds_until_expiry_then_upstream_fails_the_part() {
    let g = line(4, 1_000_000);
    let b = balances(&g, 0.9);
    let mut configs = vec![NodeConfig::default(); 4];
    configs[2].behaviour = Behaviour::Hodl;
    let mut d = Driver::new(g, b, Some(configs));
    let k = keys(5);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(1_000_000)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1, 2, 3], 1_000_000, 18);
    d.pay(1, &p, &k, 1_000_000).unwrap();
    d.run();
    assert_eq!(d.outcome(1), None, "held");
    assert_eq!(d.net.live_htlcs(), 2);
    assert_eq!(d.timers.len(), 1);
    // The HTLC 1 → 2 expires at height + 18 + 40 blocks, 600 s each.
    let blocks = p.hops[1].cltv_expiry;
    assert_eq!(blocks, 58);
    d.advance(Duration::from_secs(600 * blocks as u64 - 1), 0);
    assert_eq!(d.outcome(1), None, "not yet");
    d.advance(Duration::from_secs(1), blocks);
    let Some(Outcome::Failed {
        failure,
        path_failure,
    }) = d.outcome(1)
    else {
        panic!("expected a failure")
    };
    assert_eq!(failure.code, FailureCode::PermanentChannelFailure);
    assert_eq!(failure.origin_hop, 0, "node 1 timed its HTLC out");
    assert_eq!(
        path_failure,
        PathFailure {
            hop: 1,
            kind: FailureKind::ChannelUnusable
        }
    );
    assert_eq!(d.net.live_htlcs(), 0);
    assert_eq!(d.net.counters().failed, 2);
}

#[test]
fn modeled_and_real_onions_give_the_same_outcomes() {
    // A settle, a forwarding failure (with channel update), a receiver failure (with
    // htlc_msat and height), an MPP timeout, a payload error: identical in both modes.
    fn scenario(real: bool) -> Vec<Option<Outcome>> {
        let g = line(4, 1_000_000);
        let b = balances(&g, 0.9);
        let mut configs = vec![NodeConfig::default(); 4];
        configs[2].policy_override = Some(PolicyOverride {
            cltv_expiry_delta: Some(144),
            ..Default::default()
        });
        let p_stale = path(&g, &[0, 1, 2, 3], 2_000_000, 18);
        let mut d = Driver::new(g, b, Some(configs));
        if real {
            d.net.enable_real_onions(42);
            assert_eq!(d.net.onion_mode(), OnionMode::Real);
        }
        let g = d.graph();
        let k = keys(6);
        d.net
            .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(2_000_000)))
            .unwrap();
        let p = path(&g, &[0, 1, 2, 3], 2_000_000, 18);
        d.pay(1, &p, &k, 2_000_000).unwrap();
        d.run();
        d.pay(2, &p_stale, &keys(7), 2_000_000).unwrap();
        d.run();
        let unknown = keys(8);
        d.pay(3, &p, &unknown, 2_000_000).unwrap();
        d.run();
        let k9 = keys(9);
        d.net
            .register_invoice(NodeIdx(3), k9.hash, invoice(&k9, Some(4_000_000)))
            .unwrap();
        d.pay(4, &p, &k9, 4_000_000).unwrap();
        d.run();
        d.advance(Duration::from_secs(61), 0);
        let p1 = path(&g, &[0, 1], 1_000_000, 18);
        d.send(flotilla_ln::sender::SendPart {
            id: flotilla_ln::sender::PartId(5),
            path: &p1,
            payment_hash: k.hash,
            payment_data: None,
            keysend_preimage: None,
        })
        .unwrap();
        d.run();
        (1..=5).map(|i| d.outcome(i)).collect()
    }
    let modeled = scenario(false);
    let real = scenario(true);
    assert_eq!(modeled, real);
    assert!(matches!(modeled[0], Some(Outcome::Settled { .. })));
    let codes: Vec<FailureCode> = modeled[1..]
        .iter()
        .map(|o| match o {
            Some(Outcome::Failed { failure, .. }) => failure.code,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            FailureCode::IncorrectCltvExpiry,
            FailureCode::IncorrectOrUnknownPaymentDetails,
            FailureCode::MppTimeout,
            FailureCode::IncorrectOrUnknownPaymentDetails,
        ]
    );
}

#[test]
fn real_onion_failure_data_survives_the_round_trip() {
    let mut d = Driver::line(3, 1_000_000);
    d.net.enable_real_onions(7);
    let g = d.graph();
    let k = keys(10);
    let p = path(&g, &[0, 1, 2], 3_000_000, 18);
    d.pay(1, &p, &k, 3_000_000).unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::IncorrectOrUnknownPaymentDetails);
    assert_eq!(f.origin_hop, 1);
    assert_eq!(
        f.data,
        FailureData {
            htlc_msat: Some(3_000_000),
            height: Some(HEIGHT),
            ..Default::default()
        }
    );
}

#[test]
fn locked_liquidity_is_amount_times_hold_time_over_every_htlc() {
    // A hodl node holds the 1 → 2 HTLC until it expires; both HTLCs of the part (0 → 1
    // and 1 → 2) are locked from the send until then.
    let g = line(4, 1_000_000);
    let b = balances(&g, 0.9);
    let mut configs = vec![NodeConfig::default(); 4];
    configs[2].behaviour = Behaviour::Hodl;
    let mut d = Driver::new(g, b, Some(configs));
    let k = keys(6);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(1_000_000)))
        .unwrap();
    let g = d.graph();
    let p = path(&g, &[0, 1, 2, 3], 1_000_000, 18);
    d.pay(1, &p, &k, 1_000_000).unwrap();
    d.run();
    let held = Duration::from_secs(600 * p.hops[1].cltv_expiry as u64);
    d.advance(held, p.hops[1].cltv_expiry);
    let locked = d
        .events
        .iter()
        .find_map(|(_, e)| match e {
            flotilla_ln::output::Event::PartFailed {
                locked_msat_micros, ..
            } => Some(*locked_msat_micros),
            _ => None,
        })
        .expect("the part failed");
    let expected = (p.hops[0].amount_msat + p.hops[1].amount_msat) as u128 * held.as_micros();
    assert_eq!(locked, expected);
}
