//! LDK's router as a reference arm: known answers on small hand-built graphs, learning
//! from outcomes, and seeded queries on the bundled mainnet snapshot.

use std::collections::HashSet;

use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_route::ldk::{path_from_ldk, path_to_ldk, route_parameters, LdkRouter};
use flotilla_route::{FailureKind, Path, PathFailure, RouteError, RouteRequest, Router, Timestamp};

fn key(i: u8) -> NodePubkey {
    let mut secret = [0u8; 32];
    secret[31] = i;
    secret[0] = 0x11;
    NodePubkey::from_secret(secret).expect("valid secret")
}

fn policy(base: u32, ppm: u32, cltv: u16) -> Policy {
    Policy {
        fee_base_msat: base,
        fee_rate_ppm: ppm,
        cltv_expiry_delta: cltv,
        htlc_minimum_msat: 1_000,
        htlc_maximum_msat: u64::MAX, // clamped to the capacity by the adapter
        disabled: false,
        last_update: 0,
    }
}

/// A small graph: `S` (sender), `A`, `B`, `T` (receiver).
struct Net {
    graph: Graph,
    s: NodeIdx,
    a: NodeIdx,
    b: NodeIdx,
    t: NodeIdx,
}

impl Net {
    /// The directed edge from `from` to `to` (first channel found).
    fn edge(&self, from: NodeIdx, to: NodeIdx) -> EdgeIdx {
        for (i, c) in self.graph.channels().iter().enumerate() {
            for d in Direction::BOTH {
                if c.from_node(d) == from && c.to_node(d) == to {
                    return ChannelIdx(i as u32).edge(d);
                }
            }
        }
        panic!("no edge {from:?} -> {to:?}");
    }
}

/// `S–A–T` is cheaper than `S–B–T` (A charges 1 sat + 100 ppm, B 5 sat + 1000 ppm); all
/// channels have `cap_sat`, except `A–T` which has `cap_at_sat`. `A–T` is listed with
/// its nodes in reverse BOLT 7 order and the unused direction (T→A) is disabled and very
/// cheap, so a direction mix-up in the adapter would show.
fn diamond(cap_sat: u64, cap_at_sat: u64) -> Net {
    let mut b = GraphBuilder::new();
    let s = b.add_node(Node::bare(key(1))).unwrap();
    let a = b.add_node(Node::bare(key(2))).unwrap();
    let bb = b.add_node(Node::bare(key(3))).unwrap();
    let t = b.add_node(Node::bare(key(4))).unwrap();
    let ordered = |x: NodeIdx, y: NodeIdx, kx: NodePubkey, ky: NodePubkey, reverse: bool| {
        // BOLT 7 order unless `reverse`.
        if (kx < ky) != reverse {
            [x, y]
        } else {
            [y, x]
        }
    };
    let mut add = |scid: u64, nodes: [NodeIdx; 2], cap: u64, p: [Option<Policy>; 2]| {
        b.add_channel(Channel {
            scid: ShortChannelId(scid),
            nodes,
            capacity_sat: cap,
            policies: p,
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    };
    let both = |p: Policy| [Some(p), Some(p)];
    // Channel ids in block 0, like the bundled snapshot's.
    add(
        0,
        ordered(s, a, key(1), key(2), false),
        cap_sat,
        both(policy(0, 0, 40)),
    );
    add(
        1,
        ordered(s, bb, key(1), key(3), false),
        cap_sat,
        both(policy(0, 0, 40)),
    );
    // A–T, reversed: nodes[0] has the larger key.
    let at_nodes = ordered(a, t, key(2), key(4), true);
    let a_to_t = policy(1_000, 100, 34);
    let mut t_to_a = policy(0, 0, 18);
    t_to_a.disabled = true;
    let at_policies = if at_nodes[0] == a {
        [Some(a_to_t), Some(t_to_a)]
    } else {
        [Some(t_to_a), Some(a_to_t)]
    };
    add(2, at_nodes, cap_at_sat, at_policies);
    add(
        3,
        ordered(bb, t, key(3), key(4), false),
        cap_sat,
        both(policy(5_000, 1_000, 144)),
    );
    let graph = b.build();
    Net {
        graph,
        s,
        a,
        b: bb,
        t,
    }
}

/// Every invariant our `Path` promises, against the graph's policies.
fn assert_valid_path(graph: &Graph, path: &Path, source: NodeIdx, target: NodeIdx) {
    assert!(!path.hops.is_empty());
    assert_eq!(path.source(graph), source);
    assert_eq!(path.target(graph), target);
    for (i, w) in path.hops.windows(2).enumerate() {
        assert_eq!(
            graph.edge_target(w[0].edge),
            graph.edge_source(w[1].edge),
            "hop {} not contiguous",
            i + 1
        );
    }
    for (i, h) in path.hops.iter().enumerate() {
        let p = graph.policy(h.edge).expect("hop has a policy");
        assert!(!p.disabled, "hop {i} disabled");
        let cap = graph.channel(h.edge.channel()).capacity_msat();
        assert!(
            h.amount_msat >= p.htlc_minimum_msat,
            "hop {i} below htlc_minimum"
        );
        assert!(
            h.amount_msat <= p.htlc_maximum_msat.min(cap),
            "hop {i} above htlc_maximum"
        );
        if let Some(next) = path.hops.get(i + 1) {
            let np = graph.policy(next.edge).unwrap();
            assert!(
                h.amount_msat - next.amount_msat >= np.fee_msat(next.amount_msat),
                "hop {i} underpays the forwarding fee"
            );
            assert!(
                h.cltv_expiry - next.cltv_expiry >= np.cltv_expiry_delta as u32,
                "hop {i} CLTV delta too small"
            );
        }
    }
}

fn nodes_of(graph: &Graph, path: &Path) -> Vec<NodeIdx> {
    path.nodes(graph).collect()
}

#[test]
fn cheapest_path_with_exact_amounts_fees_and_cltv() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    assert_eq!(r.name(), "ldk");
    let stats = r.build_stats();
    assert_eq!(
        (
            stats.channels,
            stats.skipped_channels,
            stats.skipped_policies
        ),
        (4, 0, 0)
    );
    assert_eq!(stats.policies, 8);
    let amount = 1_000_000;
    let req = RouteRequest::new(net.s, net.t, amount);
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(route.paths.len(), 1);
    assert_eq!(route.probabilities.len(), 1);
    assert!(route.probabilities[0] > 0.0 && route.probabilities[0] <= 1.0);
    let path = &route.paths[0];
    assert_eq!(nodes_of(g, path), vec![net.a, net.t]);
    assert_valid_path(g, path, net.s, net.t);
    // A charges 1000 + 1_000_000 × 100 / 1e6 = 1100 msat; the sender's channel is free.
    assert_eq!(path.amount_msat(), amount);
    assert_eq!(path.hops[0].amount_msat, amount + 1_100);
    assert_eq!(path.fee_msat(), 1_100);
    // The last hop's expiry is the final delta plus LDK's random shadow offset;
    // the first adds A's delta of 34.
    let last = path.hops[1].cltv_expiry;
    assert!(last >= req.final_cltv_delta, "final expiry {last}");
    assert_eq!(path.hops[0].cltv_expiry, last + 34);
    assert!(path.total_cltv() <= req.limits.max_total_cltv);
    // Path::build over the same edges with LDK's delivered amount and final expiry
    // gives the same path.
    let edges: Vec<EdgeIdx> = path.hops.iter().map(|h| h.edge).collect();
    assert_eq!(&Path::build(g, &edges, amount, last).unwrap(), path);
    // The direction of the reversed channel was mapped right: A→T, not T→A.
    assert_eq!(path.hops[1].edge, net.edge(net.a, net.t));
}

#[test]
fn ldk_path_round_trips() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let route = r
        .find_route(
            g,
            &RouteRequest::new(net.s, net.t, 5_000_000),
            Timestamp::ZERO,
        )
        .unwrap();
    let ours = &route.paths[0];
    let ldk = path_to_ldk(g, ours);
    assert_eq!(ldk.final_value_msat(), 5_000_000);
    assert_eq!(ldk.fee_msat(), ours.fee_msat());
    assert_eq!(ldk.hops[1].short_channel_id, 2);
    assert_eq!(&path_from_ldk(g, net.s, &ldk).unwrap(), ours);
    // From the wrong source the first channel does not connect.
    assert!(path_from_ldk(g, net.b, &ldk).is_err());
}

#[test]
fn mpp_splits_when_one_channel_is_too_small() {
    // Every channel holds 60k sat; pay 100k sat.
    let net = diamond(60_000, 60_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let amount = 100_000_000;
    let mut req = RouteRequest::new(net.s, net.t, amount);
    let err = r.find_route(g, &req, Timestamp::ZERO).unwrap_err();
    assert!(matches!(err, RouteError::NoRoute { .. }), "{err}");
    req.limits.max_parts = 4;
    req.limits.min_part_msat = 1_000_000;
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert!(route.paths.len() >= 2, "{} parts", route.paths.len());
    assert!(route.paths.len() <= 4);
    assert_eq!(route.amount_msat(), amount);
    assert_eq!(route.probabilities.len(), route.paths.len());
    let mut via = HashSet::new();
    for p in &route.paths {
        assert_valid_path(g, p, net.s, net.t);
        via.insert(nodes_of(g, p)[0]);
    }
    assert_eq!(via, HashSet::from([net.a, net.b]));
    assert!(route.fee_msat() <= req.limits.max_fee_msat);
}

#[test]
fn single_part_request_has_no_mpp_feature() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut req = RouteRequest::new(net.s, net.t, 1_000_000);
    let single = route_parameters(g, &req).unwrap();
    assert_eq!(single.payment_params.max_path_count, 1);
    assert_eq!(
        single.max_total_routing_fee_msat,
        Some(req.limits.max_fee_msat)
    );
    assert_eq!(single.payment_params.max_total_cltv_expiry_delta, 2016);
    req.limits.max_parts = 10;
    req.limits.min_part_msat = 1;
    req.limits.max_path_len = 30;
    let multi = route_parameters(g, &req).unwrap();
    assert_eq!(multi.payment_params.max_path_count, 10);
    assert_eq!(multi.payment_params.max_path_length, 19);
    // The minimum part size caps the part count: 1M msat / 400k msat → 2 parts.
    req.limits.min_part_msat = 400_000;
    assert_eq!(
        route_parameters(g, &req)
            .unwrap()
            .payment_params
            .max_path_count,
        2
    );
}

#[test]
fn failure_feedback_moves_the_next_route() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let req = RouteRequest::new(net.s, net.t, 2_000_000_000);
    let now = Timestamp::from_secs(1_000);
    let first = r.find_route(g, &req, now).unwrap();
    assert_eq!(nodes_of(g, &first.paths[0]), vec![net.a, net.t]);
    let before = r.path_probability(g, &first.paths[0]);
    // A→T (hop 1) lacked liquidity.
    r.path_failed(
        g,
        &first.paths[0],
        PathFailure {
            hop: 1,
            kind: FailureKind::Liquidity,
        },
        now,
    );
    assert!(r.path_probability(g, &first.paths[0]) < before);
    let second = r.find_route(g, &req, now + 1_000_000).unwrap();
    assert_eq!(nodes_of(g, &second.paths[0]), vec![net.b, net.t]);
    assert_valid_path(g, &second.paths[0], net.s, net.t);
}

#[test]
fn learning_decays_over_virtual_time() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let req = RouteRequest::new(net.s, net.t, 2_000_000_000);
    let t0 = Timestamp::from_secs(3_600);
    let first = r.find_route(g, &req, t0).unwrap();
    let failure = PathFailure {
        hop: 1,
        kind: FailureKind::Liquidity,
    };
    r.path_failed(g, &first.paths[0], failure, t0);
    let soon = r.find_route(g, &req, t0 + 60_000_000).unwrap();
    assert_eq!(nodes_of(g, &soon.paths[0]), vec![net.b, net.t]);
    // A day of virtual time later the 30-minute half-life has erased the bound.
    let later = t0 + 24 * 3_600 * 1_000_000;
    let again = r.find_route(g, &req, later).unwrap();
    assert_eq!(nodes_of(g, &again.paths[0]), vec![net.a, net.t]);
    assert_eq!(bounds(&r, g, &first.paths[0], 1), Some((0, 10_000_000_000)));
}

/// LDK's liquidity bounds of the channel direction of `path.hops[i]`.
fn bounds(r: &LdkRouter, g: &Graph, path: &Path, i: usize) -> Option<(u64, u64)> {
    let e = path.hops[i].edge;
    let target =
        lightning::routing::gossip::NodeId::from_slice(g.node(g.edge_target(e)).pubkey.as_bytes())
            .unwrap();
    r.scorer()
        .estimated_channel_liquidity_range(g.channel(e.channel()).scid.0, &target)
}

#[test]
fn success_and_receiver_failure_teach_what_ldk_learns() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let cap = 10_000_000_000;
    let mut r = LdkRouter::new(g);
    let amount = 3_000_000_000;
    let req = RouteRequest::new(net.s, net.t, amount);
    let now = Timestamp::from_secs(10);
    let route = r.find_route(g, &req, now).unwrap();
    let p = &route.paths[0];
    assert_eq!(bounds(&r, g, p, 1), None);
    // The receiver failed it: every channel carried the (delivered) amount.
    r.path_failed(
        g,
        p,
        PathFailure {
            hop: 1,
            kind: FailureKind::Destination,
        },
        now,
    );
    for i in 0..2 {
        assert_eq!(bounds(&r, g, p, i), Some((amount, cap)), "hop {i}");
    }
    // A settled payment moved the amount to the far side: LDK lowers the upper bound.
    r.path_succeeded(g, p, now);
    for i in 0..2 {
        assert_eq!(bounds(&r, g, p, i), Some((amount, cap - amount)), "hop {i}");
    }
    let prob = r.path_probability(g, p);
    assert!((0.0..1.0).contains(&prob), "{prob}");
}

#[test]
fn in_flight_htlcs_steer_the_next_route() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let req = RouteRequest::new(net.s, net.t, 4_000_000_000);
    let first = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    let p = first.paths[0].clone();
    assert_eq!(nodes_of(g, &p), vec![net.a, net.t]);
    // Two such HTLCs in flight leave A–T (10M sat) with 2M sat: too little for 4M.
    r.htlcs_in_flight(g, &p, true);
    r.htlcs_in_flight(g, &p, true);
    assert_eq!(r.in_flight_msat(p.hops[1].edge), 8_000_000_000);
    let second = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &second.paths[0]), vec![net.b, net.t]);
    // Once they resolve, A is back.
    r.htlcs_in_flight(g, &p, false);
    r.htlcs_in_flight(g, &p, false);
    assert_eq!(r.in_flight_msat(p.hops[1].edge), 0);
    let third = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &third.paths[0]), vec![net.a, net.t]);
}

#[test]
fn exclusions_are_honoured() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let mut req = RouteRequest::new(net.s, net.t, 1_000_000);
    req.limits.excluded_edges = vec![net.edge(net.a, net.t)];
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &route.paths[0]), vec![net.b, net.t]);
    // Excluding the other direction of the same channel changes nothing.
    req.limits.excluded_edges = vec![net.edge(net.t, net.a)];
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &route.paths[0]), vec![net.a, net.t]);
    req.limits.excluded_edges.clear();
    req.limits.excluded_nodes = vec![net.a, net.s, net.t];
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &route.paths[0]), vec![net.b, net.t]);
    req.limits.excluded_nodes = vec![net.a, net.b];
    assert!(matches!(
        r.find_route(g, &req, Timestamp::ZERO),
        Err(RouteError::NoRoute { .. })
    ));
}

#[test]
fn limits_are_honoured() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    // A fee limit below A's 1100 msat leaves no route.
    let mut req = RouteRequest::new(net.s, net.t, 1_000_000);
    req.limits.max_fee_msat = 1_000;
    let err = r.find_route(g, &req, Timestamp::ZERO).unwrap_err();
    assert!(matches!(err, RouteError::NoRoute { .. }), "{err}");
    // One hop is not enough.
    let mut req = RouteRequest::new(net.s, net.t, 1_000_000);
    req.limits.max_path_len = 1;
    assert!(r.find_route(g, &req, Timestamp::ZERO).is_err());
    // LDK counts the sender's own channel's delta (40) and keeps 2 × 40 blocks of the
    // budget for its shadow offset: with 200 blocks and an 18-block final delta, A's
    // path (40 + 34 ≤ 102) fits and B's (40 + 144) does not.
    let mut req = RouteRequest::new(net.s, net.t, 1_000_000);
    req.limits.max_total_cltv = 200;
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &route.paths[0]), vec![net.a, net.t]);
    assert!(route.paths[0].total_cltv() <= 200);
    req.limits.excluded_edges = vec![net.edge(net.a, net.t)];
    assert!(r.find_route(g, &req, Timestamp::ZERO).is_err());
    req.limits.max_total_cltv = 2016;
    let route = r.find_route(g, &req, Timestamp::ZERO).unwrap();
    assert_eq!(nodes_of(g, &route.paths[0]), vec![net.b, net.t]);
}

#[test]
fn bad_input_is_named() {
    let net = diamond(10_000_000, 10_000_000);
    let g = &net.graph;
    let mut r = LdkRouter::new(g);
    let now = Timestamp::ZERO;
    let req = |s, t, a| RouteRequest::new(s, t, a);
    assert_eq!(
        r.find_route(g, &req(net.s, net.t, 0), now),
        Err(RouteError::ZeroAmount)
    );
    assert_eq!(
        r.find_route(g, &req(net.s, net.s, 5), now),
        Err(RouteError::SameNode)
    );
    assert_eq!(
        r.find_route(g, &req(net.s, NodeIdx(99), 5), now),
        Err(RouteError::UnknownNode(99))
    );
    let mut zero_parts = req(net.s, net.t, 5_000);
    zero_parts.limits.max_parts = 0;
    assert!(matches!(
        r.find_route(g, &zero_parts, now),
        Err(RouteError::ImpossibleLimits(_))
    ));
    let mut cltv = req(net.s, net.t, 5_000);
    cltv.limits.max_total_cltv = 18;
    assert!(matches!(
        r.find_route(g, &cltv, now),
        Err(RouteError::ImpossibleLimits(_))
    ));
    // More than every channel together.
    let err = r
        .find_route(g, &req(net.s, net.t, 50_000_000_000_000), now)
        .unwrap_err();
    match err {
        RouteError::NoRoute { reason, .. } => assert!(!reason.is_empty()),
        other => panic!("{other}"),
    }
    // A graph the router was not built for.
    let empty = GraphBuilder::new().build();
    match r.find_route(&empty, &req(net.s, net.t, 5_000), now) {
        Err(RouteError::NoRoute { reason, .. }) => {
            assert!(reason.contains("built for"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

mod snapshot {
    use super::*;
    use flotilla_graph::read_graph;
    use flotilla_graph::stats::largest_scc;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Usable msat of a directed edge: enabled, and at most min(htlc_maximum, capacity).
    fn usable(g: &Graph, e: EdgeIdx) -> u64 {
        match g.policy(e) {
            Some(p) if !p.disabled => p
                .htlc_maximum_msat
                .min(g.channel(e.channel()).capacity_msat()),
            _ => 0,
        }
    }

    /// The largest amount one path could carry from `s` to `t` (widest path).
    fn widest(g: &Graph, s: NodeIdx, t: NodeIdx) -> u64 {
        let mut best = vec![0u64; g.node_count()];
        best[s.ix()] = u64::MAX;
        let mut heap = std::collections::BinaryHeap::from([(u64::MAX, s.0)]);
        while let Some((w, v)) = heap.pop() {
            if w < best[v as usize] {
                continue;
            }
            for &e in g.out_edges(NodeIdx(v)) {
                let nw = w.min(usable(g, e));
                let u = g.edge_target(e).ix();
                if nw > best[u] {
                    best[u] = nw;
                    heap.push((nw, u as u32));
                }
            }
        }
        best[t.ix()]
    }

    /// Whether no route can exist: one path too narrow, or (with parts) the sender's or
    /// receiver's channels together too small.
    fn infeasible(g: &Graph, s: NodeIdx, t: NodeIdx, amount: u64, parts: u32) -> bool {
        if parts == 1 {
            return widest(g, s, t) < amount;
        }
        let out: u64 = g.out_edges(s).iter().map(|&e| usable(g, e)).sum();
        let inn: u64 = g.in_edges(t).iter().map(|&e| usable(g, e)).sum();
        out < amount || inn < amount
    }

    fn snapshot() -> Graph {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/mainnet-2026-02-03.describegraph.json.gz");
        read_graph(&path, None).unwrap().graph
    }

    /// The same queries the benchmarks use: endpoints from the largest SCC, amounts
    /// log-uniform in [1k, 1M] sat.
    pub(crate) fn queries(g: &Graph, n: usize, seed: u64) -> Vec<(NodeIdx, NodeIdx, u64)> {
        let core = largest_scc(g);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let s = core[rng.random_range(0..core.len())];
                let mut t = core[rng.random_range(0..core.len())];
                while t == s {
                    t = core[rng.random_range(0..core.len())];
                }
                // ln 1e3 + u × (ln 1e6 − ln 1e3)
                let sat = (1_000f64.ln() * (1.0 + rng.random::<f64>())).exp();
                (s, t, (sat * 1_000.0) as u64)
            })
            .collect()
    }

    #[test]
    #[cfg_attr(debug_assertions, ignore = "mainnet snapshot: run with --release")]
    fn mainnet_queries_succeed_with_valid_paths() {
        let g = snapshot();
        let mut r = LdkRouter::with_seed(&g, 7);
        let stats = r.build_stats();
        assert_eq!(stats.channels, g.channel_count());
        assert_eq!(
            stats.skipped_channels + stats.skipped_policies,
            0,
            "{stats:?}"
        );
        let qs = queries(&g, 20, 42);
        let mut ok = 0;
        let (mut exact, mut paths) = (0, 0);
        let mut routes = Vec::new();
        for (i, &(s, t, amount)) in qs.iter().enumerate() {
            let mut req = RouteRequest::new(s, t, amount);
            if i % 2 == 1 {
                req.limits.max_parts = 10;
                req.limits.min_part_msat = 1_000;
            }
            match r.find_route(&g, &req, Timestamp::ZERO) {
                Ok(route) => {
                    ok += 1;
                    assert!(route.paths.len() <= req.limits.max_parts as usize);
                    assert!(route.amount_msat() >= amount);
                    assert!(route.fee_msat() <= req.limits.max_fee_msat);
                    for p in &route.paths {
                        assert_valid_path(&g, p, s, t);
                        assert!(p.total_cltv() <= req.limits.max_total_cltv);
                        assert!(p.hops.len() <= 19);
                        let back = path_from_ldk(&g, s, &path_to_ldk(&g, p)).unwrap();
                        assert_eq!(&back, p);
                        // Unless LDK overpaid to meet an htlc_minimum, its amounts are
                        // exactly BOLT 7's from the destination backwards.
                        let edges: Vec<EdgeIdx> = p.hops.iter().map(|h| h.edge).collect();
                        let last = p.hops[p.hops.len() - 1];
                        let built =
                            Path::build(&g, &edges, last.amount_msat, last.cltv_expiry).unwrap();
                        if &built == p {
                            exact += 1;
                        } else {
                            eprintln!("query {i}: LDK's amounts differ from Path::build: {p:?} vs {built:?}");
                        }
                        paths += 1;
                    }
                    routes.push(Some(route));
                }
                Err(e) => {
                    // On this snapshot every unanswered query is impossible: the
                    // receiver's channels cannot take the amount.
                    assert!(
                        infeasible(&g, s, t, amount, req.limits.max_parts),
                        "query {i} ({amount} msat) has a route but LDK said: {e}"
                    );
                    routes.push(None);
                }
            }
        }
        eprintln!("{exact} of {paths} paths exactly as Path::build gives them");
        assert!(exact * 10 >= paths * 9, "{exact} of {paths}");
        // 14 of these 20 are feasible at all.
        assert!(ok >= 14, "only {ok} of 20 queries answered");
        // Same seed, same answers.
        let mut again = LdkRouter::with_seed(&g, 7);
        for (i, &(s, t, amount)) in qs.iter().enumerate() {
            let mut req = RouteRequest::new(s, t, amount);
            if i % 2 == 1 {
                req.limits.max_parts = 10;
                req.limits.min_part_msat = 1_000;
            }
            let route = again.find_route(&g, &req, Timestamp::ZERO).ok();
            assert_eq!(route, routes[i], "query {i} differs between runs");
        }
    }
}
