//! The sender's payment session over small networks: retry after a failure, MPP
//! splitting, receiver refusal, timeouts — driven by a tiny in-test event loop.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;

use common::*;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{ChannelIdx, Direction, Graph, NodeIdx, Policy};
use flotilla_ln::clock::Clock;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::session::{FailureReason, PaymentSession, SessionLimits, SessionState};
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::GreedySplitter;
use flotilla_route::{Pathfinder, Router, Timestamp};

/// A diamond 0 → 1 → 3 and 0 → 2 → 3 (channels 0: 0-1, 1: 1-3, 2: 0-2, 3: 2-3).
/// Node 1 is cheaper than node 2, so routers try it first.
fn diamond(cap_sat: u64) -> Graph {
    graph_with(
        4,
        &[
            (0, 1, cap_sat),
            (1, 3, cap_sat),
            (0, 2, cap_sat),
            (2, 3, cap_sat),
        ],
        |i, _| {
            let mut p: Policy = policy();
            if i == 3 {
                p.fee_base_msat = 5_000;
            }
            Some(p)
        },
    )
}

/// Balances with the given msat on each channel's paying (`nodes[0]`) side.
fn forward_balances(g: &Graph, forward: &[u64]) -> Balances {
    let mut v = vec![0u64; g.edge_slots()];
    for (i, c) in g.channels().iter().enumerate() {
        let a = forward[i];
        v[ChannelIdx(i as u32).edge(Direction::AToB).ix()] = a;
        v[ChannelIdx(i as u32).edge(Direction::BToA).ix()] = c.capacity_msat() - a;
    }
    Balances::from_vec(v)
}

fn limits(max_parts: u32) -> SessionLimits {
    SessionLimits {
        timeout_micros: 60_000_000,
        max_attempts: 10,
        max_parts,
        min_part_msat: 1_000_000,
        max_fee_msat: 10_000_000,
        final_cltv_delta: 40,
        min_route_probability: flotilla_ln::session::DEFAULT_MIN_ROUTE_PROBABILITY,
    }
}

/// Runs one session to its end: every message takes 100 ms.
fn run(net: &mut Network, router: &mut dyn Router, s: &mut PaymentSession) {
    let mut clock = Clock::new(Timestamp::ZERO, 800_000);
    let mut out = Vec::new();
    let mut queue: VecDeque<(NodeIdx, NodeIdx, Msg)> = VecDeque::new();
    s.pump(router, net, &clock, &mut out);
    loop {
        for o in std::mem::take(&mut out) {
            match o {
                Output::Message { from, to, msg } => queue.push_back((from, to, msg)),
                Output::Timer { .. } => {}
                Output::Event { event, .. } => {
                    let failed = matches!(event, Event::PartFailed { .. });
                    if matches!(event, Event::PartSettled { .. } | Event::PartFailed { .. }) {
                        s.on_part_event(&event, router, net, clock.now);
                        if failed {
                            s.pump(router, net, &clock, &mut out);
                        }
                    }
                }
            }
        }
        if !out.is_empty() {
            continue;
        }
        let Some((from, to, msg)) = queue.pop_front() else {
            break;
        };
        clock.now = clock.now + 100_000;
        net.deliver(to, from, msg, &clock, &mut out).unwrap();
    }
    net.check_invariants().unwrap();
}

fn session(
    net: &mut Network,
    k: u8,
    amount: u64,
    register: bool,
    max_parts: u32,
) -> PaymentSession {
    let keys = keys(k);
    if register {
        net.register_invoice(NodeIdx(3), keys.hash, invoice(&keys, Some(amount)))
            .unwrap();
    }
    PaymentSession::new(
        1,
        NodeIdx(0),
        NodeIdx(3),
        amount,
        keys.hash,
        keys.secret,
        limits(max_parts),
        Timestamp::ZERO,
    )
}

fn pathfinder(g: &Graph) -> Pathfinder<LiquidityBoundsScorer> {
    let mut r = Pathfinder::new(LiquidityBoundsScorer::new(g, NodeIdx(0)));
    r.prepare(g);
    r
}

#[test]
fn retries_on_another_path_after_a_liquidity_failure() {
    let g = diamond(1_000_000);
    // Node 1's channel toward 3 is empty on the paying side: the cheap path fails there.
    let b = forward_balances(&g, &[900_000_000, 0, 900_000_000, 900_000_000]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let mut router = pathfinder(&g);
    let mut s = session(&mut net, 1, 50_000_000, true, 1);
    run(&mut net, &mut router, &mut s);
    assert!(
        matches!(s.state(), SessionState::Succeeded(_)),
        "{:?}",
        s.state()
    );
    assert_eq!(s.stats.attempts, 2);
    assert_eq!(s.stats.parts_settled, 1);
    assert_eq!(s.stats.settled_msat, 50_000_000);
    // Node 2 charges 5,000 msat + 1 ppm… as its policy says.
    assert_eq!(
        s.stats.fees_msat,
        g.channels()[3].policies[0].unwrap().fee_msat(50_000_000)
    );
    let log: Vec<_> = s.drain_attempts().collect();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].failure,
        Some(flotilla_ln::failure::FailureCode::TemporaryChannelFailure)
    );
    assert_eq!(log[1].failure, None);
}

#[test]
fn mpp_splits_what_no_single_path_can_carry() {
    let g = diamond(1_000_000);
    // The sender's own channels hold plenty; each channel into 3 can carry 600 M.
    let b = forward_balances(&g, &[950_000_000, 600_000_000, 950_000_000, 600_000_000]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let mut router = GreedySplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
    router.prepare(&g);
    let mut s = session(&mut net, 2, 900_000_000, true, 4);
    run(&mut net, &mut router, &mut s);
    assert!(
        matches!(s.state(), SessionState::Succeeded(_)),
        "{:?} {:?}",
        s.state(),
        s.stats
    );
    assert!(s.stats.parts_settled >= 2);
    assert_eq!(s.stats.settled_msat, 900_000_000);
}

#[test]
fn receiver_refusal_is_final() {
    let g = diamond(1_000_000);
    let b = forward_balances(&g, &[900_000_000; 4]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let mut router = pathfinder(&g);
    let mut s = session(&mut net, 3, 10_000_000, false, 1);
    run(&mut net, &mut router, &mut s);
    assert!(
        matches!(
            s.state(),
            SessionState::Failed(FailureReason::ReceiverReject, _)
        ),
        "{:?}",
        s.state()
    );
    assert_eq!(s.stats.attempts, 1, "no retry after the receiver refused");
}

#[test]
fn exhausted_paths_fail_with_the_dominant_reason() {
    let g = diamond(1_000_000);
    // Both channels into 3 are empty on the paying side.
    let b = forward_balances(&g, &[900_000_000, 0, 900_000_000, 0]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let mut router = pathfinder(&g);
    let mut s = session(&mut net, 4, 10_000_000, true, 1);
    run(&mut net, &mut router, &mut s);
    assert!(
        matches!(s.state(), SessionState::Failed(FailureReason::Liquidity, _)),
        "{:?}",
        s.state()
    );
    assert_eq!(s.stats.attempts, 2);
    assert_eq!(net.live_htlcs(), 0);
}

#[test]
fn the_deadline_stops_new_attempts() {
    let g = diamond(1_000_000);
    let b = forward_balances(&g, &[900_000_000; 4]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let keys = keys(5);
    net.register_invoice(NodeIdx(3), keys.hash, invoice(&keys, Some(10_000_000)))
        .unwrap();
    let mut s = PaymentSession::new(
        7,
        NodeIdx(0),
        NodeIdx(3),
        10_000_000,
        keys.hash,
        keys.secret,
        limits(1),
        Timestamp::ZERO,
    );
    s.on_deadline(Timestamp::from_secs(61));
    assert!(
        matches!(s.state(), SessionState::Failed(FailureReason::Timeout, _)),
        "{:?}",
        s.state()
    );
    let mut router = pathfinder(&g);
    let mut out = Vec::new();
    s.pump(
        &mut router,
        &mut net,
        &Clock::new(Timestamp::from_secs(61), 800_000),
        &mut out,
    );
    assert!(out.is_empty(), "nothing sent after giving up");
}

#[test]
fn keysend_sessions_need_no_invoice_and_split_like_invoices() {
    let g = diamond(1_000_000);
    let b = forward_balances(&g, &[950_000_000, 600_000_000, 950_000_000, 600_000_000]);
    let mut net = Network::with_default_configs(Arc::new(g.clone()), b).unwrap();
    let mut router = GreedySplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
    router.prepare(&g);
    // No invoice at the receiver: the preimage rides in every part's onion, the
    // sender's secret ties the parts into one set.
    let k = keys(9);
    let mut s = session(&mut net, 9, 900_000_000, false, 4).with_keysend(k.preimage);
    run(&mut net, &mut router, &mut s);
    assert!(
        matches!(s.state(), SessionState::Succeeded(_)),
        "{:?}",
        s.state()
    );
    assert!(s.stats.parts_settled >= 2, "{:?}", s.stats);
    assert!(net.receiver(NodeIdx(3)).is_paid(&k.hash));
}
