//! One test per forwarding failure: the exact code, the erring node's position, the data
//! BOLT 4 attaches, and what the scorer learns. The path is 0 → 1 → 2 → 3 unless said
//! otherwise; node 1 (position 0) is the hop that refuses.

mod common;

use common::*;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::channel::AddError;
use flotilla_ln::config::{NodeConfig, PolicyOverride};
use flotilla_ln::failure::{ChannelUpdateRef, Failure, FailureCode, FailureData};
use flotilla_ln::onion::real::canonical_failure_data;
use flotilla_ln::onion::{ModeledOnion, Onion};
use flotilla_ln::payload::PaymentData;
use flotilla_ln::sender::{build_payloads, SendError};
use flotilla_route::{FailureKind, Path, PathFailure};

const AMOUNT: u64 = 2_000_000;

/// The channel update node 1 attaches for its channel to node 2.
fn update_1_2(g: &Graph, disabled: bool) -> ChannelUpdateRef {
    let e = edge(g, 1, 2);
    ChannelUpdateRef {
        short_channel_id: g.channel(e.channel()).scid.0,
        direction: e.direction() as u8,
        disabled,
    }
}

/// Runs one payment 0 → 1 → 2 → 3 over `path` in a network built from `g`, `configs`;
/// returns the failure and what the scorer learns.
fn fail_with(
    g: Graph,
    share: f64,
    configs: Vec<NodeConfig>,
    p: &Path,
) -> (Failure, PathFailure, Driver) {
    let b = balances(&g, share);
    let mut d = Driver::new(g, b, Some(configs));
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(AMOUNT)))
        .unwrap();
    d.pay(1, p, &k, AMOUNT).unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure,
        path_failure,
    }) = d.outcome(1)
    else {
        panic!("expected a failure, got {:?}", d.outcome(1))
    };
    // The data is exactly what a real failure onion would decode to.
    assert_eq!(
        canonical_failure_data(failure.code, &failure.data),
        failure.data
    );
    assert_eq!(d.net.live_htlcs(), 0);
    (failure, path_failure, d)
}

fn configs() -> Vec<NodeConfig> {
    vec![NodeConfig::default(); 4]
}

fn override1(o: PolicyOverride) -> Vec<NodeConfig> {
    let mut c = configs();
    c[1].policy_override = Some(o);
    c
}

fn at_hop_1(kind: FailureKind) -> PathFailure {
    PathFailure { hop: 1, kind }
}

#[test]
fn unknown_next_peer_for_an_unknown_channel() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let mut d = Driver::new(g.clone(), balances(&g, 0.9), None);
    let k = keys(1);
    let mut payloads = build_payloads(
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
    payloads[0].short_channel_id = Some(999_999);
    let onion = Onion::Modeled(ModeledOnion::from_payloads(payloads));
    d.send_custom(1, &p, k.hash, onion).unwrap();
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::UnknownNextPeer);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data, FailureData::default());
}

#[test]
fn unknown_next_peer_when_the_next_node_is_offline() {
    let mut c = configs();
    c[2].online = false;
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let (f, pf, _) = fail_with(g, 0.9, c, &p);
    assert_eq!(f.code, FailureCode::UnknownNextPeer);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data, FailureData::default());
    assert_eq!(pf, at_hop_1(FailureKind::NodeUnreachable));
}

#[test]
fn permanent_channel_failure_without_a_policy() {
    let chans = [(0, 1, 1_000_000), (1, 2, 1_000_000), (2, 3, 1_000_000)];
    let full = graph(4, &chans);
    let p = path(&full, &[0, 1, 2, 3], AMOUNT, 18);
    let dir_1_2 = edge(&full, 1, 2).direction();
    // Node 1 never announced its direction of channel 1–2.
    let g = graph_with(4, &chans, |i, d| (i != 1 || d != dir_1_2).then(policy));
    let (f, pf, _) = fail_with(g, 0.9, configs(), &p);
    assert_eq!(f.code, FailureCode::PermanentChannelFailure);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data, FailureData::default());
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn channel_disabled() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let disabled = g.with_node_policies(NodeIdx(1), |p| p.disabled = true);
    let (f, pf, _) = fail_with(disabled, 0.9, configs(), &p);
    assert_eq!(f.code, FailureCode::ChannelDisabled);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            channel_update: Some(update_1_2(&g, true)),
            ..Default::default()
        }
    );
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn amount_below_minimum_reports_the_outgoing_amount() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let c = override1(PolicyOverride {
        htlc_minimum_msat: Some(10_000_000),
        ..Default::default()
    });
    let (f, pf, _) = fail_with(g.clone(), 0.9, c, &p);
    assert_eq!(f.code, FailureCode::AmountBelowMinimum);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            htlc_msat: Some(p.hops[1].amount_msat),
            channel_update: Some(update_1_2(&g, false)),
            ..Default::default()
        }
    );
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn fee_insufficient_reports_the_incoming_amount() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let c = override1(PolicyOverride {
        fee_rate_ppm: Some(5_000),
        ..Default::default()
    });
    let (f, pf, _) = fail_with(g.clone(), 0.9, c, &p);
    assert_eq!(f.code, FailureCode::FeeInsufficient);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            htlc_msat: Some(p.hops[0].amount_msat),
            channel_update: Some(update_1_2(&g, false)),
            ..Default::default()
        }
    );
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn fee_insufficient_at_a_later_hop_counts_hops_back() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let mut c = configs();
    c[2].policy_override = Some(PolicyOverride {
        fee_base_msat: Some(50_000),
        ..Default::default()
    });
    let (f, pf, d) = fail_with(g, 0.9, c, &p);
    assert_eq!(f.code, FailureCode::FeeInsufficient);
    assert_eq!(f.origin_hop, 1);
    assert_eq!(f.data.htlc_msat, Some(p.hops[1].amount_msat));
    assert_eq!(
        pf,
        PathFailure {
            hop: 2,
            kind: FailureKind::ChannelUnusable
        }
    );
    // Node 1 forwarded and got its HTLC back: no fee.
    assert_eq!(d.net.fees_earned(NodeIdx(1)), 0);
}

#[test]
fn incorrect_cltv_expiry_reports_the_outgoing_expiry() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let c = override1(PolicyOverride {
        cltv_expiry_delta: Some(144),
        ..Default::default()
    });
    let (f, pf, _) = fail_with(g.clone(), 0.9, c, &p);
    assert_eq!(f.code, FailureCode::IncorrectCltvExpiry);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            cltv_expiry: Some(HEIGHT + p.hops[1].cltv_expiry),
            channel_update: Some(update_1_2(&g, false)),
            ..Default::default()
        }
    );
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn expiry_too_soon_when_blocks_pass_in_flight() {
    let mut d = Driver::line(3, 1_000_000);
    let g = d.graph();
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(AMOUNT)))
        .unwrap();
    let p = path(&g, &[0, 1, 2], AMOUNT, 18);
    d.pay(1, &p, &k, AMOUNT).unwrap();
    // Node 1's outgoing expiry is HEIGHT + 18; 15 blocks later it is within 3 blocks.
    d.clock.height += 15;
    d.run();
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::ExpiryTooSoon);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            channel_update: Some(update_1_2(&g, false)),
            ..Default::default()
        }
    );
}

#[test]
fn expiry_too_far() {
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 2_000);
    let (f, pf, _) = fail_with(g, 0.9, configs(), &p);
    assert_eq!(f.code, FailureCode::ExpiryTooFar);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data, FailureData::default());
    assert_eq!(pf, at_hop_1(FailureKind::ChannelUnusable));
}

#[test]
fn temporary_channel_failure_without_liquidity() {
    let g = line(4, 1_000_000);
    // 10% on the paying side: node 1 owns 100 M msat towards node 2, minus a 10 M reserve.
    let p = path(&g, &[0, 1, 2, 3], 95_000_000, 18);
    let b = {
        let mut v = balances(&g, 0.9).into_vec();
        let e = edge(&g, 1, 2);
        let cap = g.channel(e.channel()).capacity_msat();
        v[e.ix()] = cap / 10;
        v[e.reverse().ix()] = cap - cap / 10;
        flotilla_graph::liquidity::Balances::from_vec(v)
    };
    let mut d = Driver::new(g.clone(), b, None);
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(95_000_000)))
        .unwrap();
    d.pay(1, &p, &k, 95_000_000).unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure: f,
        path_failure: pf,
    }) = d.outcome(1)
    else {
        panic!()
    };
    assert_eq!(f.code, FailureCode::TemporaryChannelFailure);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data,
        FailureData {
            channel_update: Some(update_1_2(&g, false)),
            ..Default::default()
        }
    );
    assert_eq!(pf, at_hop_1(FailureKind::Liquidity));
    // Just under balance − reserve (90 M msat) passes.
    let p = path(&g, &[0, 1, 2, 3], 89_000_000, 18);
    let k2 = keys(2);
    d.net
        .register_invoice(NodeIdx(3), k2.hash, invoice(&k2, None))
        .unwrap();
    d.pay(2, &p, &k2, 89_000_000).unwrap();
    d.run();
    assert!(matches!(d.outcome(2), Some(Outcome::Settled { .. })));
}

#[test]
fn temporary_channel_failure_over_the_in_flight_cap() {
    let mut c = configs();
    c[2].channel.max_htlc_value_in_flight_msat = Some(AMOUNT);
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let (f, pf, _) = fail_with(g.clone(), 0.9, c, &p);
    assert_eq!(f.code, FailureCode::TemporaryChannelFailure);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(f.data.channel_update, Some(update_1_2(&g, false)));
    assert_eq!(pf, at_hop_1(FailureKind::Liquidity));
}

#[test]
fn htlc_slot_exhaustion_at_483() {
    // Senders 0 and 1 route through forwarder 2 to receiver 3, which holds every part of
    // an MPP set that never completes. The 484th HTLC on 2 → 3 finds no slot.
    let g = graph(
        4,
        &[(0, 2, 10_000_000), (1, 2, 10_000_000), (2, 3, 10_000_000)],
    );
    let b = balances(&g, 0.9);
    let mut d = Driver::new(g, b, None);
    let g = d.graph();
    let k = keys(1);
    let total = 1_000_000_000;
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(total)))
        .unwrap();
    let p0 = path(&g, &[0, 2, 3], 10_000, 18);
    let p1 = path(&g, &[1, 2, 3], 10_000, 18);
    for i in 0..483u64 {
        let p = if i < 300 { &p0 } else { &p1 };
        d.pay(i, p, &k, total).unwrap();
        d.run();
        assert_eq!(d.outcome(i), None, "part {i} is held");
    }
    let to_receiver = edge(&g, 2, 3);
    assert_eq!(d.net.edge_state(to_receiver).pending_count, 483);
    d.pay(483, &p1, &k, total).unwrap();
    d.run();
    let Some(Outcome::Failed {
        failure: f,
        path_failure: pf,
    }) = d.outcome(483)
    else {
        panic!()
    };
    assert_eq!(f.code, FailureCode::TemporaryChannelFailure);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(
        f.data.channel_update,
        Some(ChannelUpdateRef {
            short_channel_id: g.channel(to_receiver.channel()).scid.0,
            direction: to_receiver.direction() as u8,
            disabled: false,
        })
    );
    assert_eq!(pf, at_hop_1(FailureKind::Liquidity));
    // The set times out: every held part fails with mpp_timeout.
    d.advance(std::time::Duration::from_secs(60), 0);
    for i in 0..483u64 {
        let f = d.failure(i);
        assert_eq!(f.code, FailureCode::MppTimeout, "part {i}");
        assert_eq!(f.origin_hop, 1);
    }
    assert_eq!(d.net.live_htlcs(), 0);
}

#[test]
fn the_senders_own_channel_refuses_locally() {
    let mut c = vec![NodeConfig::default(); 2];
    c[1].channel.max_accepted_htlcs = 2;
    let g = line(2, 1_000_000);
    let b = balances(&g, 0.9);
    let mut d = Driver::new(g, b, Some(c));
    let g = d.graph();
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(1), k.hash, invoice(&k, Some(100_000_000)))
        .unwrap();
    let p = path(&g, &[0, 1], 10_000_000, 18);
    d.pay(1, &p, &k, 100_000_000).unwrap();
    d.pay(2, &p, &k, 100_000_000).unwrap();
    let e = d.pay(3, &p, &k, 100_000_000).unwrap_err();
    assert_eq!(
        e,
        SendError::FirstHop {
            code: FailureCode::TemporaryChannelFailure,
            cause: Some(AddError::NoSlot(2)),
        }
    );
    assert_eq!(
        e.path_failure(),
        Some(PathFailure {
            hop: 0,
            kind: FailureKind::Liquidity
        })
    );
    d.net.set_online(NodeIdx(1), false);
    let e = d.pay(4, &p, &k, 100_000_000).unwrap_err();
    assert!(matches!(
        e,
        SendError::FirstHop {
            code: FailureCode::UnknownNextPeer,
            ..
        }
    ));
}

#[test]
fn rules_are_checked_in_bolt_order() {
    // Disabled and below the minimum and fee too low: channel_disabled comes first;
    // then amount_below_minimum before fee_insufficient.
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let disabled = g.with_node_policies(NodeIdx(1), |p| {
        p.disabled = true;
        p.htlc_minimum_msat = 10_000_000;
        p.fee_base_msat = 1_000_000;
    });
    let (f, _, _) = fail_with(disabled, 0.9, configs(), &p);
    assert_eq!(f.code, FailureCode::ChannelDisabled);
    let c = override1(PolicyOverride {
        htlc_minimum_msat: Some(10_000_000),
        fee_base_msat: Some(1_000_000),
        ..Default::default()
    });
    let (f, _, _) = fail_with(g, 0.9, c, &p);
    assert_eq!(f.code, FailureCode::AmountBelowMinimum);
}

#[test]
fn an_offline_next_peer_fails_only_after_the_connection_attempt_times_out() {
    let mut c = configs();
    c[2].online = false;
    c[1].offline_peer_timeout = std::time::Duration::from_secs(3);
    let g = line(4, 1_000_000);
    let p = path(&g, &[0, 1, 2, 3], AMOUNT, 18);
    let mut d = Driver::new(g, balances(&line(4, 1_000_000), 0.9), Some(c));
    let k = keys(9);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(AMOUNT)))
        .unwrap();
    d.pay(1, &p, &k, AMOUNT).unwrap();
    d.run();
    assert_eq!(d.outcome(1), None, "node 1 is still trying to reach node 2");
    assert_eq!(d.net.live_htlcs(), 1);
    d.advance(std::time::Duration::from_secs(2), 0);
    assert_eq!(d.outcome(1), None);
    d.advance(std::time::Duration::from_secs(1), 0);
    let f = d.failure(1);
    assert_eq!(f.code, FailureCode::UnknownNextPeer);
    assert_eq!(f.origin_hop, 0);
    assert_eq!(d.net.live_htlcs(), 0);
}
