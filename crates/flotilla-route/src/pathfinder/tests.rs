//! White-box tests of the search's goal direction: the potential must never
//! overestimate, and nodes must be settled in non-decreasing key order. (The
//! black-box tests in `tests/pathfinder.rs` compare answers with references.)

use std::collections::{BinaryHeap, VecDeque};

use flotilla_graph::{
    Channel, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey, Policy, ShortChannelId,
};
use proptest::prelude::*;

use super::{CostParams, Pathfinder, SearchTuning};
use crate::path::Path;
use crate::request::{Limits, RouteRequest};
use crate::scorer::{PathFailure, Scorer};
use crate::time::Timestamp;

/// `P = c / (c + a)`: smooth, no policy gate.
struct Smooth;

impl Scorer for Smooth {
    fn success_probability(&self, g: &Graph, e: EdgeIdx, a: u64, _: Timestamp) -> f64 {
        let c = g.channel(e.channel()).capacity_msat() as f64;
        c / (c + a as f64)
    }
    fn path_succeeded(&mut self, _: &Graph, _: &Path, _: Timestamp) {}
    fn path_failed(&mut self, _: &Graph, _: &Path, _: PathFailure, _: Timestamp) {}
    fn htlcs_in_flight(&mut self, _: &Graph, _: &Path, _: bool) {}
}

type PolicyTuple = (u32, u32, u16, u64, Option<u64>, bool);

fn graph(n: usize, channels: &[(usize, usize, u64, [Option<PolicyTuple>; 2])]) -> Graph {
    let mut b = GraphBuilder::new();
    for i in 0..n {
        b.add_node(Node::bare(
            NodePubkey::from_secret([i as u8 + 1; 32]).unwrap(),
        ))
        .unwrap();
    }
    for (i, &(a, k, cap, ps)) in channels.iter().enumerate() {
        let pol = |p: Option<PolicyTuple>| {
            p.map(|(base, ppm, cltv, min, max, disabled)| Policy {
                fee_base_msat: base,
                fee_rate_ppm: ppm,
                cltv_expiry_delta: cltv,
                htlc_minimum_msat: min,
                htlc_maximum_msat: max.unwrap_or(cap * 1000),
                disabled,
                last_update: 0,
            })
        };
        b.add_channel(Channel {
            scid: ShortChannelId(i as u64 + 1),
            nodes: [NodeIdx(a as u32), NodeIdx(((a + k) % n) as u32)],
            capacity_sat: cap,
            policies: [pol(ps[0]), pol(ps[1])],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    b.build()
}

/// Whether an edge can carry `a` at all (what the routing arrays keep, at `a`).
fn usable(g: &Graph, e: EdgeIdx, a: u64, excluded: &[EdgeIdx]) -> bool {
    let Some(p) = g.policy(e) else { return false };
    let max = p
        .htlc_maximum_msat
        .min(g.channel(e.channel()).capacity_msat());
    !p.disabled && max > 0 && p.htlc_minimum_msat <= max && max >= a && !excluded.contains(&e)
}

/// Whether `x` can forward: an in-neighbour and a different out-neighbour over
/// announced, enabled edges with a non-empty HTLC range.
fn transit(g: &Graph, x: NodeIdx) -> bool {
    let ins: Vec<NodeIdx> = g
        .in_edges(x)
        .iter()
        .filter(|&&e| usable(g, e, 0, &[]))
        .map(|&e| g.edge_source(e))
        .collect();
    let outs: Vec<NodeIdx> = g
        .out_edges(x)
        .iter()
        .filter(|&&e| usable(g, e, 0, &[]))
        .map(|&e| g.edge_target(e))
        .collect();
    ins.iter().any(|y| outs.iter().any(|z| z != y))
}

/// The cheapest lower-bound cost from the sender to every node, over the paths the
/// search could really use: edges that can carry the amount, intermediate nodes that
/// forward, reach the receiver and are not excluded. First hop: `hop + risk ×
/// cost_lower_bound`; others: `hop + fee(a) + cltv price × delta + risk ×
/// cost_lower_bound` (every hop carries at least `a`).
fn reference_bounds(g: &Graph, req: &RouteRequest, params: &CostParams) -> Vec<f64> {
    let n = g.node_count();
    let a = req.amount_msat;
    let lim = &req.limits;
    let (rp, cp, hp) = (
        params.risk_price(a),
        params.cltv_price(a),
        params.hop_price(a),
    );
    let mut reaches_t = vec![false; n];
    let mut queue = VecDeque::from([req.target]);
    reaches_t[req.target.ix()] = true;
    while let Some(v) = queue.pop_front() {
        for &e in g.in_edges(v) {
            let u = g.edge_source(e);
            if usable(g, e, a, &lim.excluded_edges) && !reaches_t[u.ix()] {
                reaches_t[u.ix()] = true;
                queue.push_back(u);
            }
        }
    }
    let enterable = |y: NodeIdx| {
        y == req.target || (reaches_t[y.ix()] && transit(g, y) && !lim.excluded_nodes.contains(&y))
    };
    #[derive(PartialEq)]
    struct E(f64, u32);
    impl Eq for E {}
    impl PartialOrd for E {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for E {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0)
        }
    }
    let mut dist = vec![f64::INFINITY; n];
    dist[req.source.ix()] = 0.0;
    let mut heap = BinaryHeap::from([E(0.0, req.source.0)]);
    while let Some(E(d, x)) = heap.pop() {
        let x = NodeIdx(x);
        if d > dist[x.ix()] {
            continue;
        }
        if x == req.target && x != req.source {
            continue; // paths end there
        }
        for &e in g.out_edges(x) {
            let y = g.edge_target(e);
            if !usable(g, e, a, &lim.excluded_edges) || !enterable(y) {
                continue;
            }
            let lb = Smooth.cost_lower_bound(g, e, a, Timestamp::ZERO);
            if lb == f64::INFINITY {
                continue;
            }
            let c = if x == req.source {
                hp + rp * lb.max(0.0)
            } else {
                let p = g.policy(e).unwrap();
                hp + p.fee_msat(a) as f64 + cp * p.cltv_expiry_delta as f64 + rp * lb.max(0.0)
            };
            if d + c < dist[y.ix()] {
                dist[y.ix()] = d + c;
                heap.push(E(d + c, y.0));
            }
        }
    }
    dist
}

fn policy_tuple() -> impl Strategy<Value = PolicyTuple> {
    (
        0u32..2_000,
        prop_oneof![0u32..2_000, 0u32..100_000],
        0u16..100,
        prop_oneof![Just(0u64), 0u64..3_000],
        prop_oneof![3 => Just(None), 1 => (1u64..3_000_000).prop_map(Some)],
        prop::bool::weighted(0.05),
    )
}

#[allow(clippy::type_complexity)]
fn setup() -> impl Strategy<
    Value = (
        usize,
        Vec<(usize, usize, u64, [Option<PolicyTuple>; 2])>,
        usize,
        usize,
        u64,
        u8,
        Vec<u32>,
        SearchTuning,
        CostParams,
    ),
> {
    (3usize..=10).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(
                (
                    0..n,
                    1..n,
                    1u64..3_000,
                    [
                        prop::option::weighted(0.9, policy_tuple()),
                        prop::option::weighted(0.9, policy_tuple()),
                    ],
                ),
                n..=3 * n,
            ),
            0..n,
            1..n,
            prop_oneof![1u64..50_000, 1u64..1_000_000],
            prop_oneof![Just(20u8), 2u8..5],
            prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(0u32..n as u32, 1..3)],
            (
                prop_oneof![0u32..4, Just(u32::MAX)],
                0u32..8,
                prop_oneof![0u32..16, Just(u32::MAX)],
                prop_oneof![0u32..8, Just(u32::MAX)],
                prop_oneof![0u32..4, Just(u32::MAX)],
            )
                .prop_map(
                    |(upgrade_after, forward_nodes, forward_edges, bfs_edges, fast)| SearchTuning {
                        upgrade_after,
                        forward_nodes,
                        forward_edges,
                        bfs_edges,
                        fast_upgrade_after: fast,
                    },
                ),
            prop_oneof![
                Just(CostParams::default()),
                (0f64..20_000.0, 0f64..5_000.0, 0f64..20.0, 0f64..3_000.0).prop_map(
                    |(rb, rp, cb, hb)| CostParams {
                        risk_base_msat: rb,
                        risk_amount_ppm: rp,
                        cltv_base_msat: cb,
                        cltv_amount_ppm: 0.0,
                        hop_base_msat: hb,
                        hop_amount_ppm: 100.0,
                    }
                ),
            ],
        )
            .prop_map(
                |(n, chans, s, k, amount, max_len, excluded, tuning, params)| {
                    (
                        n,
                        chans,
                        s,
                        (s + k) % n,
                        amount,
                        max_len,
                        excluded,
                        tuning,
                        params,
                    )
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn potential_never_overestimates_and_keys_never_decrease(
        (n, chans, s, t, amount, max_len, excluded, tuning, params) in setup()
    ) {
        let g = graph(n, &chans);
        let mut pf = Pathfinder::with_params(Smooth, params);
        pf.set_tuning(tuning);
        // Several questions on one pathfinder: stale state must not leak.
        for k in 0..3usize {
            let (s, t) = if k == 1 { (t, s) } else { ((s + k) % n, (t + 2 * k) % n) };
            if s == t {
                continue;
            }
            let amount = amount / (k as u64 + 1) + 1;
            let mut req = RouteRequest::new(NodeIdx(s as u32), NodeIdx(t as u32), amount);
            req.limits = Limits { max_path_len: max_len, ..Limits::for_amount(amount) };
            req.limits.max_fee_msat = u64::MAX;
            req.limits.excluded_nodes = excluded.iter().map(|&x| NodeIdx((x + k as u32) % n as u32)).collect();
            pf.workspace.trace.clear();
            pf.workspace.final_potential.clear();
            let _ = pf.find_path(&g, &req, Timestamp::ZERO);
            let ws = &pf.workspace;
            for w in ws.trace.windows(2) {
                // `>=` first: two infinite keys are in order, but inf − tolerance is NaN.
                prop_assert!(w[1] >= w[0] || w[1] >= w[0] - 1e-9 * w[0].abs() - 1e-9, "settled out of order: {:?}", ws.trace);
            }
            if ws.final_potential.is_empty() {
                continue; // answered before any search
            }
            let arrays = pf.arrays.as_ref().unwrap();
            let reference = reference_bounds(&g, &req, &params);
            for (x, &r) in reference.iter().enumerate() {
                let ix = NodeIdx(x as u32);
                if ix != req.target && !transit(&g, ix) {
                    continue; // never labelled: its potential is never read
                }
                let h = ws.final_potential[arrays.int_of[x] as usize];
                prop_assert!(h <= r + 1e-9 * r.abs() + 1e-9, "query {k}, node {x}: potential {h} above the bound {r}");
            }
        }
    }

    #[test]
    fn excluding_edges_answers_as_the_plain_search(
        (n, chans, s, t, amount, max_len, _excluded, tuning, params) in setup(),
        twins in prop::collection::vec(0usize..30, 0..12),
        cut in prop::collection::vec(0usize..200, 1..5),
    ) {
        // Twin channels (same ends, same policies) tie exactly: the answer must still
        // be the plain search's, not merely as cheap.
        let mut chans = chans;
        for i in twins {
            if let Some(&c) = chans.get(i % chans.len()) {
                chans.push(c);
            }
        }
        let g = graph(n, &chans);
        let mut pf = Pathfinder::with_params(Smooth, params);
        pf.set_tuning(tuning);
        let mut plain = Pathfinder::with_params(Smooth, params);
        plain.set_tuning(tuning);
        plain.plain_only = true;
        for k in 0..3usize {
            let (s, t) = if k == 1 { (t, s) } else { ((s + k) % n, (t + 2 * k) % n) };
            if s == t {
                continue;
            }
            let amount = amount / (k as u64 + 1) + 1;
            let mut req = RouteRequest::new(NodeIdx(s as u32), NodeIdx(t as u32), amount);
            req.limits = Limits { max_path_len: max_len, ..Limits::for_amount(amount) };
            req.limits.max_fee_msat = u64::MAX;
            req.limits.excluded_edges = cut
                .iter()
                .map(|&c| EdgeIdx(((c + k) % (2 * chans.len())) as u32))
                .collect();
            let got = pf.find_path(&g, &req, Timestamp::ZERO);
            let want = plain.find_path(&g, &req, Timestamp::ZERO);
            prop_assert_eq!(got, want, "query {}", k);
        }
    }

    #[test]
    fn quick_exclusions_give_valid_routes_and_leave_other_requests_alone(
        (n, chans, s, t, amount, max_len, _excluded, tuning, params) in setup(),
        cut in prop::collection::vec(0usize..200, 1..5),
    ) {
        let g = graph(n, &chans);
        let mut quick = Pathfinder::with_params(Smooth, params);
        quick.set_tuning(tuning);
        quick.set_exact_exclusions(false);
        let mut exact = Pathfinder::with_params(Smooth, params);
        exact.set_tuning(tuning);
        let mut req = RouteRequest::new(NodeIdx(s as u32), NodeIdx(t as u32), amount);
        req.limits = Limits { max_path_len: max_len, ..Limits::for_amount(amount) };
        req.limits.max_fee_msat = u64::MAX;
        // Without excluded edges the option changes nothing.
        prop_assert_eq!(
            quick.find_path(&g, &req, Timestamp::ZERO),
            exact.find_path(&g, &req, Timestamp::ZERO)
        );
        req.limits.excluded_edges = cut
            .iter()
            .map(|&c| EdgeIdx((c % (2 * chans.len())) as u32))
            .collect();
        if let Ok(found) = quick.find_path(&g, &req, Timestamp::ZERO) {
            for h in &found.path.hops {
                prop_assert!(!req.limits.excluded_edges.contains(&h.edge));
            }
            prop_assert_eq!(found.path.amount_msat(), amount);
            prop_assert!(found.path.hops.len() <= max_len as usize);
            let cost = params.path_cost(&g, &Smooth, &found.path, Timestamp::ZERO);
            prop_assert!((cost - found.cost).abs() <= 1e-6 * cost.abs().max(1.0));
        }
    }
}

/// A part whose siblings hold every channel of the sender: the fast search finds no
/// first hop and answers at once, with the plain search's error.
#[test]
fn no_first_hop_left_answers_as_the_plain_search() {
    let p = Some((1_000, 100, 40, 1, None, false));
    // 0 — 1 — 2 and 0 — 2 (channel i joins `a` and `a + k`).
    let chans = [
        (0, 1, 1_000_000, [p, p]),
        (1, 1, 1_000_000, [p, p]),
        (0, 2, 1_000_000, [p, p]),
    ];
    let g = graph(3, &chans);
    let mut pf = Pathfinder::new(Smooth);
    let mut plain = Pathfinder::new(Smooth);
    plain.plain_only = true;
    let mut req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 50_000);
    // Both of the sender's directions out.
    let out_of_0: Vec<EdgeIdx> = (0..g.edge_slots() as u32)
        .map(EdgeIdx)
        .filter(|&e| g.edge_source(e) == NodeIdx(0))
        .collect();
    assert_eq!(out_of_0.len(), 2);
    req.limits.excluded_edges = out_of_0;
    let got = pf.find_path(&g, &req, Timestamp::ZERO);
    assert!(got.is_err());
    assert_eq!(got, plain.find_path(&g, &req, Timestamp::ZERO));
    assert_eq!(pf.last_stats().settled_nodes, 0);
    // One of them back: a route, the plain search's.
    req.limits.excluded_edges.pop();
    let got = pf.find_path(&g, &req, Timestamp::ZERO);
    assert!(got.is_ok());
    assert_eq!(got, plain.find_path(&g, &req, Timestamp::ZERO));
}
