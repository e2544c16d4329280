//! The sender's redundant session over a small fan of disjoint paths, driven by a tiny
//! in-test event loop (every message, the claim request and the reveal take 100 ms).

mod common;

use std::collections::VecDeque;
use std::sync::Arc;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::boomerang::BoomerangPolynomial;
use flotilla_ln::clock::Clock;
use flotilla_ln::config::NodeConfig;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::redundant::RedundantInvoice;
use flotilla_ln::redundant_session::{
    RedundancyStrategy, RedundantLimits, RedundantPayment, RedundantSession,
};
use flotilla_ln::session::SessionState;
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::GreedySplitter;
use flotilla_route::{Pathfinder, Router, Timestamp};

const A: u64 = 20_000_000;
const RECEIVER: usize = 9;

fn limits(strategy: RedundancyStrategy, retry: bool) -> RedundantLimits {
    RedundantLimits {
        strategy,
        retry,
        max_part_msat: A / 2,
        max_base_parts: 16,
        max_parts_in_flight: 8,
        max_attempts: 50,
        timeout_micros: 60_000_000,
        max_fee_msat: 1_000_000,
        final_cltv_delta: 40,
        min_route_probability: 0.0,
        excluded_nodes: Vec::new(),
        min_part_msat: 1_000_000,
        base_split: false,
        hedge_hop_micros: None,
        tree_copies: false,
    }
}

/// Runs one redundant payment from 0 to 9 over `paths` disjoint two-hop paths 0 — i —
/// 9 (i = 1..=paths), with the middle nodes in `offline` unreachable, in a tiny event
/// loop where every message, the claim request, the reveal and the cancel take 100 ms.
fn run(
    lock: LockKind,
    limits: RedundantLimits,
    paths: usize,
    offline: &[usize],
) -> (RedundantSession, Network) {
    // A part (A/2 = 10,000 sat) is a third of a channel: the router is unsure.
    run_caps(lock, limits, &vec![30_000; paths], offline)
}

/// As [`run`], path i's two channels holding `caps[i - 1]` sat.
fn run_caps(
    lock: LockKind,
    limits: RedundantLimits,
    caps: &[u64],
    offline: &[usize],
) -> (RedundantSession, Network) {
    run_caps_with(lock, limits, caps, |configs| {
        for &o in offline {
            configs[o].online = false;
        }
    })
}

/// [`run_caps`] with the nodes' settings as `configure` leaves them.
fn run_caps_with(
    lock: LockKind,
    limits: RedundantLimits,
    caps: &[u64],
    configure: impl Fn(&mut [NodeConfig]),
) -> (RedundantSession, Network) {
    let mut ch = Vec::new();
    for (i, &cap) in caps.iter().enumerate() {
        ch.push((0, i + 1, cap));
        ch.push((i + 1, RECEIVER, cap));
    }
    let g = graph(10, &ch);
    let b = balances(&g, 0.9);
    let mut configs = vec![NodeConfig::default(); 10];
    configure(&mut configs);
    let mut net = Network::new(Arc::new(g), b, configs).unwrap();
    let graph = net.graph().clone();
    // Split mode takes its base parts from the splitter MPP uses.
    let mut router: Box<dyn Router> = if limits.base_split {
        let mut r = GreedySplitter::new(LiquidityBoundsScorer::new(&graph, NodeIdx(0)));
        r.prepare(&graph);
        Box::new(Counting(r))
    } else {
        let mut r = Pathfinder::new(LiquidityBoundsScorer::new(&graph, NodeIdx(0)));
        r.prepare(&graph);
        Box::new(Counting(r))
    };
    let k = keys(1);
    let invoice = RedundantInvoice {
        payment_secret: k.secret,
        amount_msat: A,
        lock,
        preimage: (lock == LockKind::H2tlc).then_some(k.preimage),
        min_final_cltv_expiry_delta: 40,
        expires_at: Timestamp::from_secs(3_600),
    };
    let receiver = NodeIdx(RECEIVER as u32);
    let commitments = if lock == LockKind::Boomerang {
        let degree = RedundantSession::boomerang_degree(A, &limits).unwrap();
        let poly = BoomerangPolynomial::from_seed(&k.secret.0, degree);
        let c = poly.commitments();
        net.register_boomerang(receiver, invoice, poly).unwrap();
        Some(c)
    } else {
        net.register_redundant(receiver, invoice).unwrap();
        None
    };
    let mut s = RedundantSession::new(
        RedundantPayment {
            id: 7,
            source: NodeIdx(0),
            target: receiver,
            amount_msat: A,
            lock,
            payment_id: RedundantSession::payment_id_for(7, &k.secret.0),
            payment_secret: k.secret,
            payment_hash: (lock == LockKind::H2tlc).then_some(k.hash),
            commitments,
            secret_seed: 1,
        },
        limits,
        Timestamp::ZERO,
    );
    let mut clock = Clock::new(Timestamp::ZERO, 800_000);
    let mut out = Vec::new();
    let mut queue: VecDeque<(NodeIdx, NodeIdx, Msg)> = VecDeque::new();
    s.pump(router.as_mut(), &mut net, &clock, &mut out);
    loop {
        for o in std::mem::take(&mut out) {
            match o {
                Output::Message { from, to, msg } => queue.push_back((from, to, msg)),
                Output::Timer { .. } => {}
                Output::Event {
                    node,
                    event:
                        Event::ClaimRequested {
                            receiver,
                            payment_id,
                            parts,
                        },
                } => {
                    // The claim request came as a message through the queue; the
                    // sender's answer goes back the same way.
                    assert_eq!(RedundantSession::session_of_payment_id(&payment_id), s.id());
                    if let Some(secrets) = s.on_claim_request(&parts) {
                        net.node_mut(node)
                            .reveal(receiver, payment_id, secrets, &mut out);
                    }
                }
                Output::Event { event, .. } => {
                    if matches!(
                        event,
                        Event::PartSettled { .. }
                            | Event::PartFailed { .. }
                            | Event::PartRefunded { .. }
                    ) {
                        assert_eq!(s.id(), RedundantSession::session_of(part_of(&event)));
                        s.on_part_event(&event, router.as_mut(), &net, clock.now);
                        if matches!(event, Event::PartFailed { .. }) {
                            s.pump(router.as_mut(), &mut net, &clock, &mut out);
                        }
                    }
                }
            }
        }
        if s.take_cancel() {
            net.node_mut(NodeIdx(0))
                .cancel_payment(receiver, s.payment_id(), &mut out);
        }
        if let Some((p0, parts)) = s.take_refund() {
            let n = net
                .node_mut(NodeIdx(0))
                .claim_reverse(&parts, &p0, &clock, &mut out);
            s.refund_claims_sent(n);
        }
        if !out.is_empty() {
            continue;
        }
        // A hedged payment's surplus goes at its time, before a later message.
        if let Some(at) = s.hedge_at() {
            if queue.is_empty() || at <= clock.now + 100_000 {
                clock.now = clock.now.max(at);
                s.hedge(router.as_mut(), &mut net, &clock, &mut out);
                continue;
            }
        }
        let Some((from, to, msg)) = queue.pop_front() else {
            break;
        };
        clock.now = clock.now + 100_000;
        net.deliver(to, from, msg, &clock, &mut out).unwrap();
    }
    net.check_invariants().unwrap();
    assert_eq!(net.live_htlcs(), 0, "every part came back");
    (s, net)
}

thread_local! {
    /// Searches the router of this test's thread ran.
    static SEARCHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A router that counts its searches (each test runs on its own thread).
struct Counting<R>(R);

impl<R: Router> Router for Counting<R> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn find_route(
        &mut self,
        graph: &flotilla_graph::Graph,
        request: &flotilla_route::RouteRequest,
        now: Timestamp,
    ) -> Result<flotilla_route::Route, flotilla_route::RouteError> {
        SEARCHES.with(|c| c.set(c.get() + 1));
        self.0.find_route(graph, request, now)
    }
    fn find_disjoint_paths(
        &mut self,
        graph: &flotilla_graph::Graph,
        request: &flotilla_route::RouteRequest,
        n: usize,
        now: Timestamp,
    ) -> Result<Vec<(flotilla_route::Path, f64)>, flotilla_route::RouteError> {
        SEARCHES.with(|c| c.set(c.get() + 1));
        self.0.find_disjoint_paths(graph, request, n, now)
    }
    fn path_succeeded(
        &mut self,
        graph: &flotilla_graph::Graph,
        path: &flotilla_route::Path,
        now: Timestamp,
    ) {
        self.0.path_succeeded(graph, path, now)
    }
    fn path_failed(
        &mut self,
        graph: &flotilla_graph::Graph,
        path: &flotilla_route::Path,
        failure: flotilla_route::PathFailure,
        now: Timestamp,
    ) {
        self.0.path_failed(graph, path, failure, now)
    }
    fn htlcs_in_flight(
        &mut self,
        graph: &flotilla_graph::Graph,
        path: &flotilla_route::Path,
        added: bool,
    ) {
        self.0.htlcs_in_flight(graph, path, added)
    }
}

#[test]
fn tree_copies_place_the_fan_from_one_search() {
    for lock in [LockKind::H2tlc, LockKind::Boomerang] {
        for tree in [false, true] {
            SEARCHES.with(|c| c.set(0));
            let limits = RedundantLimits {
                tree_copies: tree,
                ..limits(RedundancyStrategy::Fixed(0.5), false)
            };
            let (mut s, _) = run(lock, limits, 3, &[]);
            assert!(
                matches!(s.state(), SessionState::Succeeded(_)),
                "{lock:?} {tree}"
            );
            assert_eq!(s.stats.common.parts_sent, 3);
            assert_eq!(s.stats.common.settled_msat, A);
            // Three disjoint paths either way; one search instead of three.
            let log: Vec<_> = s.drain_attempts().collect();
            let mut mids: Vec<_> = log.iter().map(|a| a.path.hops[0].edge).collect();
            mids.sort_unstable();
            mids.dedup();
            assert_eq!(mids.len(), 3, "{lock:?} {tree}");
            let want = if tree { 1 } else { 3 };
            assert_eq!(SEARCHES.with(|c| c.get()), want, "{lock:?} {tree}");
        }
    }
}

fn run_fan(lock: LockKind) -> (RedundantSession, Network) {
    run(lock, limits(RedundancyStrategy::Fixed(0.5), false), 3, &[])
}

fn part_of(e: &Event) -> flotilla_ln::sender::PartId {
    match e {
        Event::PartSettled { part, .. }
        | Event::PartFailed { part, .. }
        | Event::PartRefunded { part, .. } => *part,
        _ => unreachable!(),
    }
}

#[test]
fn three_halves_settle_exactly_a() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc, LockKind::Boomerang] {
        let (mut s, net) = run_fan(lock);
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert!(s.is_finished(), "the surplus part came back");
        let st = s.stats.clone();
        assert_eq!(st.common.attempts, 3);
        assert_eq!(st.common.parts_sent, 3);
        assert_eq!(st.common.parts_settled, 2);
        assert_eq!(st.common.settled_msat, A);
        assert_eq!(st.overpaid_msat, 0);
        // The claim request and the reveal; boomerang needs neither.
        let extra = if lock == LockKind::Boomerang { 0 } else { 2 };
        assert_eq!(st.extra_messages, extra, "{lock:?}");
        assert!(st.common.fees_msat > 0 && st.common.locked_msat_micros > 0);
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(
            net.ledger(NodeIdx(0)).paid_out_msat,
            A + st.common.fees_msat
        );
        assert_eq!(net.live_htlcs(), 0);
        let log: Vec<_> = s.drain_attempts().collect();
        assert_eq!(log.len(), 3);
        assert_eq!(log.iter().filter(|a| a.failure.is_none()).count(), 2);
        // Three disjoint paths: every part went through its own middle node.
        let mut mids: Vec<_> = log.iter().map(|a| a.path.hops[0].edge).collect();
        mids.sort_unstable();
        mids.dedup();
        assert_eq!(mids.len(), 3);
    }
}

const LOCKS: [LockKind; 3] = [LockKind::SenderHash, LockKind::H2tlc, LockKind::Boomerang];

#[test]
fn a_sender_routes_its_parts_around_its_own_offline_peer() {
    // Node 1, the middle of one of the paths, is offline. The sender is its peer and
    // knows (RouteRequest::first_hops: nothing can be sent to an offline peer), so no
    // part is sent that way and none is lost, with or without retry. (These cases
    // used to lose a part refused at that first hop, and covered the cancel of the
    // held part that follows; a loss past the first hop would cover it again.)
    for (retry, mids) in [(false, 2), (true, 3)] {
        for lock in LOCKS {
            let (s, _net) = run(
                lock,
                limits(RedundancyStrategy::Fixed(0.0), retry),
                mids,
                &[1],
            );
            assert!(
                matches!(s.state(), SessionState::Succeeded(_)),
                "{lock:?}: {:?}",
                s.state()
            );
            assert_eq!(
                s.stats.common.attempts, s.stats.common.parts_sent,
                "{lock:?}"
            );
            assert_eq!(s.stats.common.parts_settled, 2, "{lock:?}");
        }
    }
}

#[test]
fn adaptive_sends_more_parts_when_paths_look_unlikely() {
    for lock in LOCKS {
        let (s, net) = run(
            lock,
            limits(RedundancyStrategy::Adaptive { target: 0.95 }, false),
            6,
            &[],
        );
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        // A third of each channel per part on cold beliefs: two parts are not enough
        // for 95%.
        assert!(
            s.stats.common.parts_sent > 2,
            "{lock:?}: {}",
            s.stats.common.parts_sent
        );
        assert!(s.stats.common.parts_sent <= 8, "max_parts_in_flight");
        assert_eq!(s.stats.common.parts_settled, 2);
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        // A lower target needs no more parts than a higher one.
        let (low, _) = run(
            lock,
            limits(RedundancyStrategy::Adaptive { target: 0.5 }, false),
            6,
            &[],
        );
        assert!(low.stats.common.parts_sent <= s.stats.common.parts_sent);
    }
}

#[test]
fn hash_locked_parts_no_path_carries_are_split_in_halves() {
    // One path carries A/2; the two others only A/4 each.
    let caps = [12_000, 8_000, 8_000];
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (s, net) = run_caps(
            lock,
            limits(RedundancyStrategy::Fixed(0.0), true),
            &caps,
            &[],
        );
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert_eq!(s.stats.common.parts_settled, 3, "A/2 + A/4 + A/4");
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    }
    // Boomerang parts must stay A/k: the payment cannot be made.
    let (s, net) = run_caps(
        LockKind::Boomerang,
        limits(RedundancyStrategy::Fixed(0.0), true),
        &caps,
        &[],
    );
    assert!(matches!(s.state(), SessionState::Failed(..)));
    assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, 0);
}

fn split_limits(strategy: RedundancyStrategy, retry: bool) -> RedundantLimits {
    RedundantLimits {
        base_split: true,
        hedge_hop_micros: None,
        tree_copies: false,
        min_part_msat: 100_000,
        ..limits(strategy, retry)
    }
}

#[test]
fn split_mode_pays_exactly_a_from_uneven_parts_and_surplus_copies() {
    // One path carries most of A, three carry a quarter: no equal split fits them all.
    let caps = [16_000, 7_000, 7_000, 7_000];
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (s, net) = run_caps(
            lock,
            split_limits(RedundancyStrategy::Fixed(1.0), false),
            &caps,
            &[],
        );
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert!(s.is_finished());
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(s.stats.overpaid_msat, 0);
        assert!(
            s.stats.common.parts_sent > s.stats.common.parts_settled,
            "surplus copies went and came back: {:?}",
            s.stats.common
        );
    }
}

#[test]
fn split_mode_splits_a_lost_amount_again_as_mpp_does() {
    // No surplus: the part through node 1, which does not forward h2tlc HTLCs (the
    // sender cannot see that from its own channels), is lost one hop in, and its
    // amount is routed again over the other paths.
    let (s, net) = run_caps_with(
        LockKind::H2tlc,
        split_limits(RedundancyStrategy::Fixed(0.0), false),
        &[30_000, 12_000, 12_000, 12_000],
        |c| c[1].supports_h2tlc = false,
    );
    assert!(
        matches!(s.state(), SessionState::Succeeded(_)),
        "{:?}",
        s.state()
    );
    assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    assert!(s.stats.common.attempts > s.stats.common.parts_settled);
    // With every path offline there is nothing to split again: the payment fails,
    // nothing is paid and every part came back.
    let (s, net) = run_caps(
        LockKind::H2tlc,
        split_limits(RedundancyStrategy::Fixed(0.5), true),
        &[30_000, 30_000],
        &[1, 2],
    );
    assert!(
        matches!(s.state(), SessionState::Failed(..)),
        "{:?}",
        s.state()
    );
    assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, 0);
}

/// Hedged limits: the surplus waits `hop_micros` × 1.5 per hop of the longest first path.
fn hedged(limits: RedundantLimits, hop_micros: u64) -> RedundantLimits {
    RedundantLimits {
        hedge_hop_micros: Some(hop_micros),
        tree_copies: false,
        ..limits
    }
}

#[test]
fn a_hedged_payment_on_time_sends_no_surplus() {
    // Expected: 2 hops × 1 s; the claim request (or the settle) comes after 200–400 ms.
    for (lock, l, caps) in [
        (
            LockKind::H2tlc,
            split_limits(RedundancyStrategy::Fixed(1.0), true),
            [16_000, 7_000, 7_000, 7_000],
        ),
        (
            LockKind::Boomerang,
            limits(RedundancyStrategy::Fixed(1.0), true),
            [30_000; 4],
        ),
    ] {
        let (s, net) = run_caps(lock, hedged(l, 1_000_000), &caps, &[]);
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(
            s.stats.common.parts_sent, s.stats.common.parts_settled,
            "{lock:?}: no surplus: {:?}",
            s.stats.common
        );
        assert_eq!(
            s.hedge_at(),
            None,
            "the hedge is spent once the payment is decided"
        );
    }
}

#[test]
fn a_late_hedged_payment_sends_its_surplus() {
    // Expected after 1 µs a hop: the surplus goes before any part can have arrived.
    for (lock, l, caps) in [
        (
            LockKind::H2tlc,
            split_limits(RedundancyStrategy::Fixed(1.0), false),
            [16_000, 7_000, 7_000, 7_000],
        ),
        (
            LockKind::Boomerang,
            limits(RedundancyStrategy::Fixed(1.0), false),
            [30_000; 4],
        ),
    ] {
        let (s, net) = run_caps(lock, hedged(l, 1), &caps, &[]);
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
        assert_eq!(s.stats.overpaid_msat, 0);
        assert!(
            s.stats.common.parts_sent > s.stats.common.parts_settled,
            "{lock:?}: surplus went and came back: {:?}",
            s.stats.common
        );
    }
}

#[test]
fn a_hedged_payment_short_of_a_sends_its_surplus_at_once() {
    // Boomerang, no retry, the hedge far away: the base part through node 1 (which
    // cannot forward boomerang HTLCs) fails one hop in, and the held-back parts are
    // the payment's second chance then, not at the hedge.
    let (s, net) = run_caps_with(
        LockKind::Boomerang,
        hedged(limits(RedundancyStrategy::Fixed(1.0), false), 60_000_000),
        &[30_000, 12_000, 12_000, 12_000],
        |c| c[1].supports_ptlc = false,
    );
    assert!(
        matches!(s.state(), SessionState::Succeeded(_)),
        "{:?}",
        s.state()
    );
    assert_eq!(net.ledger(NodeIdx(RECEIVER as u32)).paid_in_msat, A);
    assert!(
        s.stats.common.last_failure.is_some(),
        "a base part failed: {:?}",
        s.stats.common
    );
    assert!(s.stats.common.parts_sent > s.stats.common.parts_settled);
}
