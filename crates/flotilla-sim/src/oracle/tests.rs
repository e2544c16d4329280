//! The oracle on small graphs with hand-computed answers, and the flow search against a
//! brute-force maximum flow on random graphs.

use std::sync::Arc;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::network::Network;
use proptest::prelude::*;

use super::caps::{EdgeLive, EdgeRules};
use super::flow::FlowSolver;
use super::{expected_latency_micros, Oracle};
use crate::scenario::LatencyModel;

fn policy() -> Policy {
    Policy {
        fee_base_msat: 1_000,
        fee_rate_ppm: 100,
        cltv_expiry_delta: 40,
        htlc_minimum_msat: 1,
        htlc_maximum_msat: u64::MAX / 4,
        disabled: false,
        last_update: 0,
    }
}

fn key(i: usize) -> NodePubkey {
    let mut secret = [0u8; 32];
    secret[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    NodePubkey::from_secret(secret).unwrap()
}

/// `n` nodes and channels `(a, b, capacity_sat)`, the policy of (channel, direction)
/// chosen by `f`.
fn graph_with(
    n: usize,
    channels: &[(usize, usize, u64)],
    f: impl Fn(usize, Direction) -> Option<Policy>,
) -> Graph {
    let mut b = GraphBuilder::new();
    let nodes: Vec<NodeIdx> = (0..n)
        .map(|i| b.add_node(Node::bare(key(i))).unwrap())
        .collect();
    for (i, &(x, y, cap)) in channels.iter().enumerate() {
        b.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
            nodes: [nodes[x], nodes[y]],
            capacity_sat: cap,
            policies: [f(i, Direction::AToB), f(i, Direction::BToA)],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    b.build()
}

fn graph(n: usize, channels: &[(usize, usize, u64)]) -> Graph {
    graph_with(n, channels, |_, _| Some(policy()))
}

fn e(c: u32, d: Direction) -> EdgeIdx {
    ChannelIdx(c).edge(d)
}

/// Solves with capacities from a table indexed by directed edge (msat).
fn solve(g: &Graph, s: usize, t: usize, amount: u64, caps: &[u64]) -> super::flow::FlowAnswer {
    FlowSolver::new(g).solve(NodeIdx(s as u32), NodeIdx(t as u32), amount, |e, _| {
        caps[e.ix()]
    })
}

const A: Direction = Direction::AToB;
const B: Direction = Direction::BToA;

#[test]
fn a_line_carries_its_bottleneck() {
    // 0 → 1 → 2 with 100 and 70 msat forward.
    let g = graph(3, &[(0, 1, 1), (1, 2, 1)]);
    let caps = [100, 0, 70, 0];
    let ok = solve(&g, 0, 2, 70, &caps);
    assert!(ok.feasible);
    assert_eq!(ok.longest_path_hops, Some(2));
    assert_eq!(ok.paths, 1);
    assert!(!solve(&g, 0, 2, 71, &caps).feasible);
    // Nothing flows backwards: the reverse directions have no capacity.
    assert!(!solve(&g, 2, 0, 1, &caps).feasible);
}

#[test]
fn parallel_channels_add_up() {
    // Two channels between 0 and 1: 40 and 70 msat from 0.
    let g = graph(2, &[(0, 1, 1), (0, 1, 1)]);
    let caps = [40, 0, 70, 0];
    let a = solve(&g, 0, 1, 110, &caps);
    assert!(a.feasible);
    assert_eq!((a.longest_path_hops, a.paths), (Some(1), 2));
    assert!(!solve(&g, 0, 1, 111, &caps).feasible);
}

#[test]
fn a_diamond_uses_both_sides() {
    // 0 → 1 → 3 carries 60, 0 → 2 → 3 carries 50.
    let g = graph(4, &[(0, 1, 1), (1, 3, 1), (0, 2, 1), (2, 3, 1)]);
    let caps = [60, 0, 60, 0, 50, 0, 90, 0];
    let a = solve(&g, 0, 3, 110, &caps);
    assert!(a.feasible);
    assert_eq!((a.longest_path_hops, a.paths), (Some(2), 2));
    assert!(!solve(&g, 0, 3, 111, &caps).feasible);
}

#[test]
fn a_short_path_first_and_a_long_one_only_when_needed() {
    // 0 → 3 directly (30), and 0 → 1 → 2 → 3 (100).
    let g = graph(4, &[(0, 3, 1), (0, 1, 1), (1, 2, 1), (2, 3, 1)]);
    let caps = [30, 0, 100, 0, 100, 0, 100, 0];
    let a = solve(&g, 0, 3, 30, &caps);
    assert_eq!((a.feasible, a.longest_path_hops), (true, Some(1)));
    let b = solve(&g, 0, 3, 31, &caps);
    assert_eq!((b.feasible, b.longest_path_hops), (true, Some(3)));
    assert!(solve(&g, 0, 3, 130, &caps).feasible);
    assert!(!solve(&g, 0, 3, 131, &caps).feasible);
}

#[test]
fn flow_is_rerouted_through_a_residual_edge() {
    // 0=s, 5=t. s→1→2→t and s→3→2, 1→4→t, each 1 msat. The only flow of 2 is
    // s→1→4→t + s→3→2→t; a first path s→1→2→t must be undone along 2→1.
    let g = graph(
        6,
        &[
            (0, 1, 1),
            (1, 2, 1),
            (2, 5, 1),
            (0, 3, 1),
            (3, 2, 1),
            (1, 4, 1),
            (4, 5, 1),
        ],
    );
    let caps = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0];
    let a = solve(&g, 0, 5, 2, &caps);
    assert!(a.feasible);
    assert_eq!((a.longest_path_hops, a.paths), (Some(3), 2));
    assert!(!solve(&g, 0, 5, 3, &caps).feasible);
}

#[test]
fn the_solver_is_reusable_and_deterministic() {
    let g = graph(4, &[(0, 1, 1), (1, 3, 1), (0, 2, 1), (2, 3, 1)]);
    let caps = [60, 0, 60, 0, 50, 0, 90, 0];
    let mut s = FlowSolver::new(&g);
    let first = s.solve(NodeIdx(0), NodeIdx(3), 110, |e, _| caps[e.ix()]);
    for _ in 0..3 {
        let again = s.solve(NodeIdx(0), NodeIdx(3), 110, |e, _| caps[e.ix()]);
        assert_eq!(again, first);
        assert!(
            !s.solve(NodeIdx(0), NodeIdx(3), 111, |e, _| caps[e.ix()])
                .feasible
        );
    }
}

// The capacity rules, from node configs and live state.

fn configs(n: usize) -> Vec<NodeConfig> {
    vec![NodeConfig::default(); n]
}

fn live(balance_msat: u64) -> EdgeLive {
    EdgeLive {
        balance_msat,
        ..Default::default()
    }
}

#[test]
fn the_reserve_is_kept() {
    // 1,000,000 sat: the peer requires 1% = 10,000 sat.
    let g = graph(2, &[(0, 1, 1_000_000)]);
    let c = configs(2);
    let r = EdgeRules::new(&g, |n| &c[n.ix()]);
    assert_eq!(r.capacity(e(0, A), true, live(500_000_000)), 490_000_000);
    assert_eq!(r.capacity(e(0, A), false, live(500_000_000)), 490_000_000);
    // Below the reserve: nothing.
    assert_eq!(r.capacity(e(0, A), true, live(9_000_000)), 0);
    // No reserve (as CLoTH).
    let mut c0 = configs(2);
    c0[1].channel.channel_reserve_ppm = 0;
    let r0 = EdgeRules::new(&g, |n| &c0[n.ix()]);
    assert_eq!(r0.capacity(e(0, A), true, live(500_000_000)), 500_000_000);
}

#[test]
fn disabled_and_missing_policies_forward_nothing_but_own_channels_still_send() {
    let g = graph_with(2, &[(0, 1, 1_000_000)], |_, d| {
        (d == A).then(|| Policy {
            disabled: true,
            ..policy()
        })
    });
    let c = configs(2);
    let r = EdgeRules::new(&g, |n| &c[n.ix()]);
    // Disabled A→B: no forwarding, but node 0 pays over its own channel.
    assert_eq!(r.capacity(e(0, A), false, live(500_000_000)), 0);
    assert_eq!(r.capacity(e(0, A), true, live(500_000_000)), 490_000_000);
    // No policy B→A: the same.
    assert_eq!(r.capacity(e(0, B), false, live(500_000_000)), 0);
    assert_eq!(r.capacity(e(0, B), true, live(500_000_000)), 490_000_000);
}

#[test]
fn htlc_slots_times_the_maximum_in_flight_cap_and_minimum() {
    let g = graph_with(2, &[(0, 1, 1_000_000)], |_, _| {
        Some(Policy {
            htlc_minimum_msat: 5_000,
            htlc_maximum_msat: 1_000_000,
            ..policy()
        })
    });
    let mut c = configs(2);
    c[1].channel.max_accepted_htlcs = 30;
    let r = EdgeRules::new(&g, |n| &c[n.ix()]);
    // 30 slots × 1,000,000 msat: the policy's maximum binds forwards...
    assert_eq!(r.capacity(e(0, A), false, live(500_000_000)), 30_000_000);
    // ... minus the slots already used.
    let busy = EdgeLive {
        balance_msat: 500_000_000,
        pending_msat: 10_000_000,
        pending_count: 10,
    };
    assert_eq!(r.capacity(e(0, A), false, busy), 20_000_000);
    // No slot left: nothing, whatever the balance.
    let full = EdgeLive {
        pending_count: 30,
        ..busy
    };
    assert_eq!(r.capacity(e(0, A), false, full), 0);
    // The sender's own channel has no maximum.
    assert_eq!(r.capacity(e(0, A), true, live(500_000_000)), 490_000_000);
    // Less than the policy's minimum above the reserve: nothing.
    assert_eq!(r.capacity(e(0, A), false, live(10_004_000)), 0);
    assert_eq!(r.capacity(e(0, A), false, live(10_005_000)), 5_000);
    // The peer's in-flight cap counts what is already pending.
    let mut c2 = configs(2);
    c2[1].channel.max_htlc_value_in_flight_msat = Some(50_000_000);
    let r2 = EdgeRules::new(&g, |n| &c2[n.ix()]);
    let pending = EdgeLive {
        balance_msat: 500_000_000,
        pending_msat: 45_000_000,
        pending_count: 1,
    };
    assert_eq!(r2.capacity(e(0, A), true, pending), 5_000_000);
}

#[test]
fn offline_and_hodl_nodes_take_nothing() {
    let g = graph(3, &[(0, 1, 1_000_000), (1, 2, 1_000_000)]);
    let mut c = configs(3);
    c[1].online = false;
    c[2].behaviour = Behaviour::Hodl;
    let r = EdgeRules::new(&g, |n| &c[n.ix()]);
    assert_eq!(r.capacity(e(0, A), true, live(500_000_000)), 0);
    assert_eq!(r.capacity(e(1, A), false, live(500_000_000)), 0);
    assert!(r.capacity(e(0, B), false, live(500_000_000)) > 0);
    assert!(!r.takes_htlcs(NodeIdx(1)) && !r.takes_htlcs(NodeIdx(2)));
    assert!(r.takes_htlcs(NodeIdx(0)));
}

// The whole oracle on a network: balances as the network holds them, and the time.

fn network(g: Graph, sides: &[(u64, u64)], configs: Vec<NodeConfig>) -> Network {
    let mut v = Vec::new();
    for &(a, b) in sides {
        v.push(a);
        v.push(b);
    }
    Network::new(Arc::new(g), Balances::from_vec(v), configs).unwrap()
}

#[test]
fn the_oracle_reads_the_network_and_times_the_longest_path() {
    // 0 → 1 → 3 and 0 → 2 → 3, each channel 1,000,000 sat; reserves 10,000 sat.
    let g = graph(
        4,
        &[
            (0, 1, 1_000_000),
            (1, 3, 1_000_000),
            (0, 2, 1_000_000),
            (2, 3, 1_000_000),
        ],
    );
    let half = 500_000_000;
    let net = network(g, &[(half, half); 4], configs(4));
    let lat = LatencyModel::Uniform {
        min_ms: 50,
        max_ms: 150,
    };
    assert_eq!(expected_latency_micros(&lat), 100_000.0);
    let mut o = Oracle::new(&net, 2.0 * expected_latency_micros(&lat), 1);
    // Each side: 490,000 sat above the reserve.
    let a = o.evaluate(&net, NodeIdx(0), NodeIdx(3), 980_000_000);
    assert!(a.feasible);
    assert_eq!(a.hops, Some(2));
    // Two hops, an add forward and a fulfil back each, 100 ms per message.
    assert_eq!(a.ttc_micros, Some(400_000));
    assert!(
        !o.evaluate(&net, NodeIdx(0), NodeIdx(3), 980_000_001)
            .feasible
    );
    // A direct neighbour: one hop.
    assert_eq!(
        o.evaluate(&net, NodeIdx(0), NodeIdx(1), 1_000).ttc_micros,
        Some(200_000)
    );
}

#[test]
fn the_oracle_uses_the_senders_policy_less_channel_and_refuses_a_hodl_receiver() {
    // Node 0's own direction has no policy; 1 → 2 forwards.
    let g = graph_with(3, &[(0, 1, 1_000_000), (1, 2, 1_000_000)], |c, d| {
        (c != 0 || d != A).then(policy)
    });
    let half = 500_000_000;
    let net = network(g.clone(), &[(half, half); 2], configs(3));
    let lat = LatencyModel::Constant { ms: 10 };
    let mut o = Oracle::new(&net, 2.0 * expected_latency_micros(&lat), 1);
    let a = o.evaluate(&net, NodeIdx(0), NodeIdx(2), 400_000_000);
    assert_eq!((a.feasible, a.ttc_micros), (true, Some(40_000)));
    // The other way every hop has a policy.
    assert!(o.evaluate(&net, NodeIdx(2), NodeIdx(0), 1_000).feasible);
    let mut c = configs(3);
    c[2].behaviour = Behaviour::Hodl;
    let net = network(g, &[(half, half); 2], c);
    let mut o = Oracle::new(&net, 2.0 * expected_latency_micros(&lat), 1);
    assert!(!o.evaluate(&net, NodeIdx(0), NodeIdx(2), 1_000).feasible);
}

// Random graphs against a brute-force maximum flow.

/// Edmonds–Karp on an adjacency matrix: the maximum flow value.
fn brute_max_flow(n: usize, cap: &[Vec<u64>], s: usize, t: usize) -> u64 {
    let mut r: Vec<Vec<i128>> = cap
        .iter()
        .map(|row| row.iter().map(|&c| c as i128).collect())
        .collect();
    let mut total = 0u64;
    loop {
        let mut prev = vec![usize::MAX; n];
        prev[s] = s;
        let mut q = std::collections::VecDeque::from([s]);
        while let Some(u) = q.pop_front() {
            for v in 0..n {
                if prev[v] == usize::MAX && r[u][v] > 0 {
                    prev[v] = u;
                    q.push_back(v);
                }
            }
        }
        if prev[t] == usize::MAX {
            return total;
        }
        let mut d = i128::MAX;
        let mut v = t;
        while v != s {
            d = d.min(r[prev[v]][v]);
            v = prev[v];
        }
        let mut v = t;
        while v != s {
            r[prev[v]][v] -= d;
            r[v][prev[v]] += d;
            v = prev[v];
        }
        total += d as u64;
    }
}

/// Shortest hop count from `s` to `t` over edges with capacity.
fn hops(n: usize, cap: &[Vec<u64>], s: usize, t: usize) -> Option<u32> {
    let mut dist = vec![u32::MAX; n];
    dist[s] = 0;
    let mut q = std::collections::VecDeque::from([s]);
    while let Some(u) = q.pop_front() {
        for v in 0..n {
            if dist[v] == u32::MAX && cap[u][v] > 0 {
                dist[v] = dist[u] + 1;
                q.push_back(v);
            }
        }
    }
    (dist[t] != u32::MAX).then_some(dist[t])
}

proptest! {
    #[test]
    fn agrees_with_a_brute_force_max_flow(
        n in 2usize..8,
        chans in prop::collection::vec((0usize..8, 0usize..8, 0u64..6, 0u64..6), 1..16),
        s in 0usize..8,
        t in 0usize..8,
    ) {
        let chans: Vec<(usize, usize, u64, u64)> = chans
            .into_iter()
            .map(|(a, b, x, y)| (a % n, b % n, x, y))
            .filter(|(a, b, _, _)| a != b)
            .collect();
        prop_assume!(!chans.is_empty());
        let (s, t) = (s % n, t % n);
        prop_assume!(s != t);
        let list: Vec<(usize, usize, u64)> = chans.iter().map(|&(a, b, _, _)| (a, b, 1)).collect();
        let g = graph(n, &list);
        let mut caps = vec![0u64; 2 * chans.len()];
        let mut matrix = vec![vec![0u64; n]; n];
        for (i, &(a, b, x, y)) in chans.iter().enumerate() {
            caps[2 * i] = x;
            caps[2 * i + 1] = y;
            matrix[a][b] += x;
            matrix[b][a] += y;
        }
        let max = brute_max_flow(n, &matrix, s, t);
        let mut solver = FlowSolver::new(&g);
        let mut run = |amount| solver.solve(NodeIdx(s as u32), NodeIdx(t as u32), amount, |e, _| caps[e.ix()]);
        if max > 0 {
            let at = run(max);
            prop_assert!(at.feasible);
            let longest = at.longest_path_hops.unwrap();
            prop_assert!(longest >= hops(n, &matrix, s, t).unwrap());
            prop_assert!(longest < n as u32);
            prop_assert!(at.paths >= 1);
        }
        prop_assert!(!run(max + 1).feasible);
    }
}

/// A hop costs an add forward and a fulfil back, each at its own class's latency; in
/// full commitment mode the add waits for the exchange that locks it in.
#[test]
fn a_hop_costs_its_message_classes() {
    use crate::latency::LatencyPlan;
    use crate::scenario::MessageLatencies;
    let lat = LatencyModel::Constant { ms: 100 };
    let plain = LatencyPlan::new(&lat, &MessageLatencies::default());
    assert_eq!(super::hop_round_trip_micros(&plain, false), 200_000.0);
    assert_eq!(super::hop_round_trip_micros(&plain, true), 400_000.0);
    // The paper's model: the forward reservation is slow, the answer free.
    let paper = MessageLatencies {
        fulfill: Some(LatencyModel::Zero),
        commitment: Some(LatencyModel::Constant { ms: 10 }),
        ..MessageLatencies::default()
    };
    let paper = LatencyPlan::new(&lat, &paper);
    assert_eq!(super::hop_round_trip_micros(&paper, false), 100_000.0);
    assert_eq!(super::hop_round_trip_micros(&paper, true), 120_000.0);
}
