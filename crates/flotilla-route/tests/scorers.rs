//! Behaviour of the four scorers through the public API: probability ranges and
//! monotonicity, learning from outcomes, in-flight accounting, decay, the sender's own
//! channels, lnd's apriori and bimodal definitions, and invariants under arbitrary
//! sequences of events (proptest).

use std::time::Duration;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_route::scorers::{
    capacity_factor, neg_ln_one_minus, AprioriConfig, AprioriScorer, BimodalScorer,
    LiquidityBoundsConfig, LiquidityBoundsScorer, NotLocalEdge, UniformScorer,
};
use flotilla_route::{FailureKind, Path, PathFailure, Scorer, Timestamp};
use proptest::prelude::*;

const HOUR: u64 = 3_600_000_000; // µs

fn policy(capacity_sat: u64) -> Policy {
    Policy {
        fee_base_msat: 1000,
        fee_rate_ppm: 100,
        cltv_expiry_delta: 40,
        htlc_minimum_msat: 1,
        htlc_maximum_msat: capacity_sat * 1000,
        disabled: false,
        last_update: 0,
    }
}

fn key(i: usize) -> NodePubkey {
    let mut s = [0u8; 32];
    s[0] = 3;
    s[30] = (i >> 8) as u8;
    s[31] = i as u8 + 1;
    NodePubkey::from_secret(s).unwrap()
}

/// Nodes `0..=n`, channel `i` joins `i` and `i + 1`; optional extra channels
/// `(a, b, capacity)`.
fn graph(line_sat: &[u64], extra: &[(usize, usize, u64)]) -> Graph {
    let mut b = GraphBuilder::new();
    let n = line_sat.len() + 1;
    let nodes: Vec<NodeIdx> = (0..n)
        .map(|i| b.add_node(Node::bare(key(i))).unwrap())
        .collect();
    let mut scid = 1;
    let mut add = |b: &mut GraphBuilder, x: usize, y: usize, cap: u64| {
        b.add_channel(Channel {
            scid: ShortChannelId(scid),
            nodes: [nodes[x], nodes[y]],
            capacity_sat: cap,
            policies: [Some(policy(cap)), Some(policy(cap))],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
        scid += 1;
    };
    for (i, &cap) in line_sat.iter().enumerate() {
        add(&mut b, i, i + 1, cap);
    }
    for &(x, y, cap) in extra {
        add(&mut b, x, y, cap);
    }
    b.build()
}

fn fwd(i: u32) -> EdgeIdx {
    ChannelIdx(i).edge(Direction::AToB)
}

/// Over channels `from..to` of the line, forwards, or backwards when `back`.
fn line_path(g: &Graph, from: u32, to: u32, back: bool, amount: u64) -> Path {
    let mut edges: Vec<EdgeIdx> = (from..to).map(fwd).collect();
    if back {
        edges = edges.into_iter().rev().map(EdgeIdx::reverse).collect();
    }
    Path::build(g, &edges, amount, 18).unwrap()
}

fn fail(hop: usize, kind: FailureKind) -> PathFailure {
    PathFailure { hop, kind }
}

fn t(us: u64) -> Timestamp {
    Timestamp(us)
}

fn all_scorers(g: &Graph, sender: NodeIdx) -> Vec<(&'static str, Box<dyn Scorer>)> {
    vec![
        ("uniform", Box::new(UniformScorer)),
        ("bounds", Box::new(LiquidityBoundsScorer::new(g, sender))),
        ("apriori", Box::new(AprioriScorer::new(g, sender))),
        ("bimodal", Box::new(BimodalScorer::new(g, sender))),
    ]
}

/// Probability in [0, 1], non-increasing in the amount, cost = −ln P.
fn check_edge(name: &str, s: &dyn Scorer, g: &Graph, e: EdgeIdx, now: Timestamp) {
    let cap = g.channel(e.channel()).capacity_msat();
    let mut prev = f64::INFINITY;
    let steps = 64;
    for i in 0..=steps + 1 {
        let a = cap / steps * i;
        let p = s.success_probability(g, e, a, now);
        assert!((0.0..=1.0).contains(&p), "{name}: P({a}) = {p} on {e:?}");
        assert!(
            p <= prev + 1e-12,
            "{name}: P rises at {a} on {e:?}: {prev} -> {p}"
        );
        prev = p;
        let c = s.cost(g, e, a, now);
        if p == 0.0 {
            assert_eq!(c, f64::INFINITY, "{name}");
        } else {
            let exact = -p.ln();
            assert!(
                (c - exact).abs() <= 1e-7 * exact + 1e-9,
                "{name}: cost {c} vs −ln P {exact} at {a}"
            );
        }
    }
}

#[test]
fn every_scorer_is_a_probability_and_monotone_when_fresh() {
    let g = graph(&[1000, 250_000, 16_000_000], &[(0, 2, 5_000)]);
    for (name, s) in all_scorers(&g, NodeIdx(0)) {
        for e in 0..g.edge_slots() as u32 {
            check_edge(name, s.as_ref(), &g, EdgeIdx(e), Timestamp::ZERO);
        }
        // Above capacity: 0 everywhere.
        assert_eq!(
            s.success_probability(&g, fwd(1), 250_000_001, Timestamp::ZERO),
            0.0
        );
    }
}

#[test]
fn liquidity_failure_lowers_upper_bound() {
    let g = graph(&[1000, 1000, 1000], &[]);
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
    let p = line_path(&g, 0, 3, false, 600_000);
    let now = t(HOUR);
    let a2 = p.hops[2].amount_msat;
    assert!(s.success_probability(&g, fwd(2), a2, now) > 0.3);
    s.path_failed(&g, &p, fail(2, FailureKind::Liquidity), now);
    assert_eq!(s.liquidity_bounds(&g, fwd(2), now), (0, a2 - 1));
    assert_eq!(s.success_probability(&g, fwd(2), a2, now), 0.0);
    assert_eq!(s.cost(&g, fwd(2), a2, now), f64::INFINITY);
    assert!(s.success_probability(&g, fwd(2), a2 - 1, now) > 0.0);
    assert!(s.success_probability(&g, fwd(2), a2 / 2, now) > 0.49);
    // Hops before the failure carried their amounts.
    for j in 0..2 {
        let a = p.hops[j].amount_msat;
        assert_eq!(s.success_probability(&g, fwd(j as u32), a, now), 1.0);
        assert!(s.success_probability(&g, fwd(j as u32), a + 1, now) < 1.0);
    }
    // The other learning scorers also rule the amount out right after the failure.
    let mut ap = AprioriScorer::new(&g, NodeIdx(0));
    let mut bi = BimodalScorer::new(&g, NodeIdx(0));
    ap.path_failed(&g, &p, fail(2, FailureKind::Liquidity), now);
    bi.path_failed(&g, &p, fail(2, FailureKind::Liquidity), now);
    assert_eq!(ap.success_probability(&g, fwd(2), a2, now), 0.0);
    assert_eq!(bi.success_probability(&g, fwd(2), a2, now), 0.0);
    assert!(ap.success_probability(&g, fwd(2), a2 - 1, now) > 0.0);
    assert!(bi.success_probability(&g, fwd(2), a2 - 1, now) > 0.0);
}

#[test]
fn success_raises_lower_bound() {
    let g = graph(&[1000, 1000], &[]);
    let p = line_path(&g, 0, 2, false, 300_000);
    let now = t(5);
    // Observation only: each hop's lower bound rises to what it carried.
    let cfg = LiquidityBoundsConfig {
        settle_moves_liquidity: false,
        ..Default::default()
    };
    let mut s = LiquidityBoundsScorer::with_config(&g, NodeIdx(0), cfg);
    s.path_succeeded(&g, &p, now);
    for (j, h) in p.hops.iter().enumerate() {
        assert_eq!(
            s.liquidity_bounds(&g, h.edge, now).0,
            h.amount_msat,
            "hop {j}"
        );
        assert_eq!(s.success_probability(&g, h.edge, h.amount_msat, now), 1.0);
        assert_eq!(
            s.success_probability(&g, h.edge, h.amount_msat / 3, now),
            1.0
        );
        assert!(s.success_probability(&g, h.edge, h.amount_msat + 1, now) < 1.0);
    }
    // Default (settlement moves the amount): the reverse side gains the amount
    // (P = 1 up to it), the forward side's upper bound loses it.
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
    s.path_succeeded(&g, &p, now);
    for h in &p.hops {
        let rev = h.edge.reverse();
        assert_eq!(s.liquidity_bounds(&g, rev, now), (h.amount_msat, 1_000_000));
        assert_eq!(s.success_probability(&g, rev, h.amount_msat, now), 1.0);
        assert_eq!(
            s.liquidity_bounds(&g, h.edge, now),
            (0, 1_000_000 - h.amount_msat)
        );
    }
    // A part that reached the receiver but was refused there came back: its hops
    // keep the raised lower bound, nothing moved.
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
    s.path_failed(&g, &p, fail(1, FailureKind::Destination), now);
    for h in &p.hops {
        assert_eq!(s.success_probability(&g, h.edge, h.amount_msat, now), 1.0);
    }
}

#[test]
fn decay_returns_beliefs_to_the_prior() {
    let g = graph(&[1000, 1000, 1000], &[]);
    let p = line_path(&g, 0, 3, false, 400_000);
    let u = UniformScorer;
    let mut bounds = LiquidityBoundsScorer::new(&g, NodeIdx(0));
    let mut apriori = AprioriScorer::new(&g, NodeIdx(0));
    let mut bimodal = BimodalScorer::new(&g, NodeIdx(0));
    let fresh_ap = AprioriScorer::new(&g, NodeIdx(0));
    let fresh_bi = BimodalScorer::new(&g, NodeIdx(0));
    let t0 = t(0);
    for s in [&mut bounds as &mut dyn Scorer, &mut apriori, &mut bimodal] {
        s.path_failed(&g, &p, fail(2, FailureKind::Liquidity), t0);
        s.path_failed(&g, &p, fail(1, FailureKind::ChannelUnusable), t0 + 1);
    }
    // Half way after one half-life (bounds).
    let (_, up) = bounds.liquidity_bounds(&g, fwd(1), t(HOUR + 1));
    assert_eq!(up, 500_000);
    // Bounds: 64 half-lives → exactly the prior.
    let late = t(64 * HOUR + 1);
    for e in 0..g.edge_slots() as u32 {
        let e = EdgeIdx(e);
        assert_eq!(bounds.liquidity_bounds(&g, e, late), (0, 1_000_000));
        for a in [1, 399_999, 400_000, 999_999] {
            assert_eq!(
                bounds.success_probability(&g, e, a, late),
                u.success_probability(&g, e, a, late)
            );
        }
    }
    // Apriori: failures fade with the penalty half-life (60 h: weight 2^-60); a
    // success is remembered (lnd never decays successes) so check only failed hops.
    for e in [fwd(1), fwd(1).reverse(), fwd(2)] {
        let a = 400_000;
        let got = apriori.success_probability(&g, e, a, t(60 * HOUR));
        let want = fresh_ap.success_probability(&g, e, a, t(60 * HOUR));
        assert!((got - want).abs() < 1e-9, "{e:?}: {got} vs {want}");
    }
    // Bimodal: learned amounts fade with e^(−t/7 days); after 40 decay times nothing.
    let very_late = t(40 * 7 * 24 * HOUR);
    for e in 0..g.edge_slots() as u32 {
        let e = EdgeIdx(e);
        for a in [1, 200_000, 400_000, 999_999] {
            let got = bimodal.success_probability(&g, e, a, very_late);
            let want = fresh_bi.success_probability(&g, e, a, very_late);
            assert!((got - want).abs() < 1e-9, "{e:?} {a}: {got} vs {want}");
        }
    }
}

#[test]
fn in_flight_reduces_probability_until_resolved() {
    let g = graph(&[1000, 1000], &[]);
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
    let now = t(0);
    let e = fwd(1);
    let before = s.success_probability(&g, e, 300_000, now);
    let part = line_path(&g, 0, 2, false, 400_000);
    s.htlcs_in_flight(&g, &part, true);
    assert_eq!(s.in_flight_msat(e), 400_000);
    let during = s.success_probability(&g, e, 300_000, now);
    assert!(during < before, "{during} !< {before}");
    // Exactly P(L ≥ 700k) under the uniform prior.
    assert_eq!(during, 300_001.0 / 1_000_001.0);
    assert_eq!(s.success_probability(&g, e, 600_001, now), 0.0);
    s.htlcs_in_flight(&g, &part, false);
    assert_eq!(s.in_flight_msat(e), 0);
    assert_eq!(s.success_probability(&g, e, 300_000, now), before);
}

#[test]
fn outcome_before_or_after_resolution_agree() {
    let g = graph(&[1000], &[]);
    let p = line_path(&g, 0, 1, false, 300_000);
    let mut a = LiquidityBoundsScorer::new(&g, NodeIdx(5));
    let mut b = LiquidityBoundsScorer::new(&g, NodeIdx(5));
    a.htlcs_in_flight(&g, &p, true);
    a.path_failed(&g, &p, fail(0, FailureKind::Liquidity), t(1));
    a.htlcs_in_flight(&g, &p, false);
    b.htlcs_in_flight(&g, &p, true);
    b.htlcs_in_flight(&g, &p, false);
    b.path_failed(&g, &p, fail(0, FailureKind::Liquidity), t(1));
    assert_eq!(
        a.liquidity_bounds(&g, fwd(0), t(1)),
        b.liquidity_bounds(&g, fwd(0), t(1))
    );
    assert_eq!(a.liquidity_bounds(&g, fwd(0), t(1)), (0, 299_999));
}

#[test]
fn own_channels_are_exact() {
    let g = graph(&[1000, 1000], &[]);
    let sender = NodeIdx(0);
    let own = fwd(0);
    let now = t(0);
    let mut bounds = LiquidityBoundsScorer::new(&g, sender);
    let mut apriori = AprioriScorer::new(&g, sender);
    let mut bimodal = BimodalScorer::new(&g, sender);
    assert_eq!(
        bounds.set_local_balance(fwd(1), 1),
        Err(NotLocalEdge {
            edge: fwd(1),
            sender
        })
    );
    bounds.set_local_balance(own, 700_000).unwrap();
    apriori.set_local_balance(own, 700_000).unwrap();
    bimodal.set_local_balance(own, 700_000).unwrap();
    let part = line_path(&g, 0, 2, false, 200_000);
    let sent = part.hops[0].amount_msat;
    for (name, s) in [
        ("bounds", &mut bounds as &mut dyn Scorer),
        ("apriori", &mut apriori),
        ("bimodal", &mut bimodal),
    ] {
        let fits = s.success_probability(&g, own, 700_000, now);
        assert!(fits > 0.9, "{name}: {fits}");
        assert_eq!(s.success_probability(&g, own, 700_001, now), 0.0, "{name}");
        s.htlcs_in_flight(&g, &part, true);
        assert_eq!(
            s.success_probability(&g, own, 700_001 - sent, now),
            0.0,
            "{name}"
        );
        assert!(
            s.success_probability(&g, own, 700_000 - sent, now) > 0.9,
            "{name}"
        );
        s.path_succeeded(&g, &part, now);
        s.htlcs_in_flight(&g, &part, false);
        // The sent amount left the channel for good.
        assert_eq!(
            s.success_probability(&g, own, 700_001 - sent, now),
            0.0,
            "{name}"
        );
        assert!(
            s.success_probability(&g, own, 700_000 - sent, now) > 0.9,
            "{name}"
        );
    }
    assert_eq!(
        bounds.success_probability(&g, own, 700_000 - sent, now),
        1.0
    );
    assert_eq!(
        bounds.liquidity_bounds(&g, own, now),
        (700_000 - sent, 700_000 - sent)
    );
    // From a Balances vector: every side of the sender's channels.
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(1));
    s.set_local_balances(&Balances::from_vec(vec![
        100_000, 900_000, 250_000, 750_000,
    ]));
    assert_eq!(s.success_probability(&g, fwd(1), 250_000, now), 1.0);
    assert_eq!(s.success_probability(&g, fwd(1), 250_001, now), 0.0);
    assert_eq!(
        s.success_probability(&g, fwd(0).reverse(), 900_000, now),
        1.0
    );
    s.clear_local_balance(fwd(1));
    assert!(s.success_probability(&g, fwd(1), 250_001, now) > 0.7);
}

#[test]
fn apriori_matches_lnd_definitions() {
    // Node 1 has two channels to node 2 (parallel) and one to node 3.
    let g = graph(&[1000, 1000, 1000], &[(1, 2, 1000)]);
    let parallel = ChannelIdx(3).edge(Direction::AToB);
    let mut s = AprioriScorer::new(&g, NodeIdx(0));
    let t0 = t(HOUR);
    // Unknown hop: 0.6 × capacity factor.
    let cf = capacity_factor(900_000, 1_000_000, 0.9999);
    assert!(cf < 1.0 && cf > 0.99, "{cf}");
    let p900 = s.success_probability(&g, fwd(1), 900_000, t0);
    assert!((p900 - 0.6 * cf).abs() < 1e-12);
    assert!((s.success_probability(&g, fwd(1), 100_000, t0) - 0.6).abs() < 1e-9);
    // A fresh liquidity failure on 1→2.
    let p = line_path(&g, 0, 3, false, 100_000);
    let a = p.hops[1].amount_msat;
    s.path_failed(&g, &p, fail(1, FailureKind::Liquidity), t0);
    assert_eq!(s.success_probability(&g, fwd(1), a, t0), 0.0);
    // lnd keys results by node pair: the parallel channel 1→2 is failed too.
    assert_eq!(s.success_probability(&g, parallel, a, t0), 0.0);
    // Node 1's other, untried channel (1→0) gets the node average
    // (0.6·k + 0)/(k + 1) with k = 1/(1 − 0.5) − 1 = 1: 0.3.
    let sibling = fwd(0).reverse();
    assert!((s.success_probability(&g, sibling, a, t0) - 0.3).abs() < 1e-6);
    // One half-life later: node 0.6/1.5 = 0.4, failed pair 0.4 × (1 − ½) = 0.2.
    let t1 = t(2 * HOUR);
    assert!((s.success_probability(&g, fwd(1), a, t1) - 0.2).abs() < 1e-6);
    assert!((s.success_probability(&g, sibling, a, t1) - 0.4).abs() < 1e-6);
    // With weight 1 (history ignored at node level) the pair recovers to 0.3.
    let cfg = AprioriConfig {
        weight: 1.0,
        ..Default::default()
    };
    let mut w1 = AprioriScorer::with_config(&g, NodeIdx(0), cfg).unwrap();
    w1.path_failed(&g, &p, fail(1, FailureKind::Liquidity), t0);
    assert!((w1.success_probability(&g, fwd(1), a, t1) - 0.3).abs() < 1e-6);
    // A success: 0.95 up to the amount, the node prior above it.
    let mut s = AprioriScorer::new(&g, NodeIdx(0));
    s.path_succeeded(&g, &p, t0);
    let a2 = p.hops[2].amount_msat;
    assert_eq!(s.success_probability(&g, fwd(2), a2, t0), 0.95);
    assert!(s.success_probability(&g, fwd(2), a2 + 1, t0) < 0.95);
    assert_eq!(s.pair_result(fwd(2)).unwrap().success_amt_msat, a2);
}

#[test]
fn bimodal_matches_lnd_definitions() {
    let g = graph(&[2_000_000, 2_000_000], &[]);
    let s = BimodalScorer::new(&g, NodeIdx(0));
    let now = t(0);
    let e = fwd(1);
    let c = 2_000_000_000u64;
    assert_eq!(s.success_probability(&g, e, 0, now), 1.0);
    assert_eq!(s.success_probability(&g, e, c + 1, now), 0.0);
    assert_eq!(s.success_probability(&g, e, c, now), 0.0);
    assert!((s.success_probability(&g, e, c / 2, now) - 0.5).abs() < 1e-9);
    for a in [1u64, 50_000_000, 300_000_000, 900_000_000] {
        let p = s.success_probability(&g, e, a, now);
        let q = s.success_probability(&g, e, c - a, now);
        assert!((p + q - 1.0).abs() < 1e-9);
        // Both directions of a fresh channel look alike.
        assert_eq!(p, s.success_probability(&g, e.reverse(), a, now));
    }
    // Node weighting: failures on node 1's other pairs lower an untried pair of it.
    let mut s = BimodalScorer::new(&g, NodeIdx(0));
    let back = line_path(&g, 0, 2, true, 100_000_000); // 2 → 1 → 0
    s.path_failed(&g, &back, fail(1, FailureKind::Liquidity), now); // 1→0 failed
    let untried = s.success_probability(&g, e, 100_000_000, now);
    let fresh = BimodalScorer::new(&g, NodeIdx(0)).success_probability(&g, e, 100_000_000, now);
    assert!(untried < fresh);
    assert!(
        (untried - fresh / 1.2).abs() < 1e-9,
        "{untried} vs {fresh}/1.2"
    );
}

#[test]
fn scorers_are_deterministic() {
    let g = graph(&[1000, 3000, 2000], &[(0, 2, 1500)]);
    let run = || {
        let mut out = Vec::new();
        let mut ss = all_scorers(&g, NodeIdx(0));
        for step in 0..50u64 {
            let p = line_path(&g, 0, 1 + (step % 3) as u32, false, 10_000 * (step + 1));
            for (_, s) in ss.iter_mut() {
                s.htlcs_in_flight(&g, &p, true);
                match step % 4 {
                    0 => s.path_succeeded(&g, &p, t(step * 1_000_000)),
                    k => s.path_failed(
                        &g,
                        &p,
                        fail(
                            (step as usize) % p.hops.len(),
                            [
                                FailureKind::Liquidity,
                                FailureKind::ChannelUnusable,
                                FailureKind::NodeUnreachable,
                            ][k as usize - 1],
                        ),
                        t(step * 1_000_000),
                    ),
                }
                s.htlcs_in_flight(&g, &p, false);
                for e in 0..g.edge_slots() as u32 {
                    out.push(
                        s.success_probability(&g, EdgeIdx(e), 77_777, t(step * 1_000_000))
                            .to_bits(),
                    );
                }
            }
        }
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn series_error_bound_holds_on_a_fine_grid() {
    let bound = 2f64.powi(-21) / 7.0;
    for i in 1..=100_000 {
        let x = 0.125 * i as f64 / 100_000.0;
        let exact = -(-x).ln_1p();
        assert!(
            (neg_ln_one_minus(x) - exact).abs() <= bound * exact + 1e-17,
            "x={x}"
        );
    }
}

#[test]
fn zero_half_life_and_bad_configs() {
    let g = graph(&[1000], &[]);
    let cfg = LiquidityBoundsConfig {
        half_life: Duration::ZERO,
        ..Default::default()
    };
    let mut s = LiquidityBoundsScorer::with_config(&g, NodeIdx(0), cfg);
    let p = line_path(&g, 0, 1, false, 1000);
    s.path_failed(&g, &p, fail(0, FailureKind::Liquidity), t(0));
    assert_eq!(s.liquidity_bounds(&g, fwd(0), t(1)), (0, 1_000_000));
    assert!(AprioriScorer::with_config(
        &g,
        NodeIdx(0),
        AprioriConfig {
            hop_probability: -0.1,
            ..Default::default()
        }
    )
    .is_err());
    // Hop index past the end, and an unknown sender: no panic.
    let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(42));
    s.path_failed(&g, &p, fail(9, FailureKind::Liquidity), t(0));
    let mut a = AprioriScorer::new(&g, NodeIdx(42));
    a.path_failed(&g, &p, fail(9, FailureKind::NodeUnreachable), t(0));
    let mut b = BimodalScorer::new(&g, NodeIdx(42));
    b.path_failed(&g, &p, fail(9, FailureKind::ChannelUnusable), t(0));
}

#[derive(Debug, Clone)]
enum Op {
    /// Send over channels `from..to`, backwards if `back`, then report.
    Pay {
        from: u32,
        len: u32,
        back: bool,
        amount_sat: u64,
        /// 0 success, 1 liquidity, 2 unusable, 3 unreachable, 4 destination.
        outcome: u8,
        hop: usize,
        /// Resolve the HTLCs before reporting the outcome.
        resolve_first: bool,
        /// Leave the HTLCs in flight (never resolved).
        keep: bool,
    },
    Advance(u64),
    Local(u32, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..4, 1u32..4, any::<bool>(), 1u64..3_000, 0u8..5, 0usize..4, any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(from, len, back, amount_sat, outcome, hop, resolve_first, keep)| Op::Pay {
                from, len, back, amount_sat, outcome, hop, resolve_first, keep
            }),
        2 => (0u64..3 * HOUR).prop_map(Op::Advance),
        1 => (0u32..2, 0u64..4_000_000).prop_map(|(e, b)| Op::Local(e, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn invariants_under_arbitrary_events(ops in prop::collection::vec(op(), 1..40)) {
        let g = graph(&[1000, 3000, 500, 2000], &[(1, 3, 800)]);
        let sender = NodeIdx(0);
        let mut bounds = LiquidityBoundsScorer::new(&g, sender);
        let mut ss = all_scorers(&g, sender);
        let mut now = t(0);
        for op in ops {
            match op {
                Op::Advance(d) => now = now + d,
                Op::Local(e, b) => {
                    // Edge 0 and 1 are the two sides of the sender's only line channel.
                    let _ = bounds.set_local_balance(EdgeIdx(e), b);
                }
                Op::Pay { from, len, back, amount_sat, outcome, hop, resolve_first, keep } => {
                    let to = (from + len).min(4);
                    let p = line_path(&g, from, to, back, amount_sat * 1000);
                    let kind = [
                        FailureKind::Liquidity,
                        FailureKind::ChannelUnusable,
                        FailureKind::NodeUnreachable,
                        FailureKind::Destination,
                    ];
                    let report = |s: &mut dyn Scorer| {
                        if outcome == 0 {
                            s.path_succeeded(&g, &p, now);
                        } else {
                            s.path_failed(&g, &p, fail(hop, kind[outcome as usize - 1]), now);
                        }
                    };
                    for s in std::iter::once(&mut bounds as &mut dyn Scorer)
                        .chain(ss.iter_mut().map(|(_, s)| s.as_mut() as &mut dyn Scorer))
                    {
                        s.htlcs_in_flight(&g, &p, true);
                        if resolve_first && !keep {
                            s.htlcs_in_flight(&g, &p, false);
                        }
                        report(s);
                        if !resolve_first && !keep {
                            s.htlcs_in_flight(&g, &p, false);
                        }
                    }
                }
            }
            for e in 0..g.edge_slots() as u32 {
                let e = EdgeIdx(e);
                let cap = g.channel(e.channel()).capacity_msat();
                let (lo, up) = bounds.liquidity_bounds(&g, e, now);
                prop_assert!(lo <= up && up <= cap, "{e:?}: [{lo}, {up}] cap {cap}");
                check_edge("bounds", &bounds, &g, e, now);
                for (name, s) in &ss {
                    check_edge(name, s.as_ref(), &g, e, now);
                }
            }
        }
    }
}
