//! Routers: every route they return is valid on the graph it was asked of.

use std::collections::BTreeMap;

use flotilla_graph::{
    Channel, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, Policy, ShortChannelId,
};
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter};
use flotilla_route::{
    FailureKind, Limits, Path as RoutePath, PathFailure, Pathfinder, Route, RouteError,
    RouteRequest, Router, Timestamp,
};

use super::network::small_key;
use super::Input;

/// A graph of up to 8 nodes and 24 channels read from the input.
fn small_graph(input: &mut Input<'_>) -> Graph {
    let n = 2 + input.below(7);
    let mut b = GraphBuilder::new();
    for i in 0..n {
        b.add_node(Node::bare(small_key(i))).expect("distinct keys");
    }
    let channels = input.below(25);
    for i in 0..channels {
        let a = input.below(n);
        let z = input.below(n);
        let cap_sat = 1 + input.u32() as u64 % 5_000_000;
        let policy = |input: &mut Input<'_>| {
            if input.u8() < 20 {
                return None;
            }
            let htlc_max = if input.bool() {
                cap_sat * 1000
            } else {
                input.u64() % (cap_sat * 1000 + 1)
            };
            Some(Policy {
                fee_base_msat: input.u16() as u32 * [1, 100][input.below(2)],
                fee_rate_ppm: input.u16() as u32 % 10_000,
                cltv_expiry_delta: input.u16() % 300,
                htlc_minimum_msat: [0, 1, 1_000, input.u64() % 10_000_000][input.below(4)],
                htlc_maximum_msat: htlc_max,
                disabled: input.u8() < 10,
                last_update: 0,
            })
        };
        let policies = [policy(input), policy(input)];
        // Invalid channels (self-loops) are the builder's to refuse.
        let _ = b.add_channel(Channel {
            scid: ShortChannelId(i as u64 + 1),
            nodes: [NodeIdx(a as u32), NodeIdx(z as u32)],
            capacity_sat: cap_sat,
            policies,
            chan_point: None,
            last_update: 0,
        });
    }
    b.build()
}

/// A route's contract, checked independently of the routers: parts sum to the amount,
/// each part is what `Path::build` gives for its edges, joins the endpoints, keeps the
/// limits and the policies, and parts sharing a channel direction fit its capacity.
fn check_route(g: &Graph, req: &RouteRequest, route: &Route, name: &str) {
    let l = &req.limits;
    assert!(!route.paths.is_empty(), "{name}: empty route");
    assert_eq!(route.paths.len(), route.probabilities.len(), "{name}");
    assert!(
        route.paths.len() <= l.max_parts.max(1) as usize,
        "{name}: too many parts"
    );
    assert_eq!(
        route.amount_msat(),
        req.amount_msat,
        "{name}: parts do not sum to the amount"
    );
    assert!(route.fee_msat() <= l.max_fee_msat, "{name}: fee limit");
    for p in &route.probabilities {
        assert!((0.0..=1.0).contains(p), "{name}: probability {p}");
    }
    let mut load: BTreeMap<EdgeIdx, u64> = BTreeMap::new();
    for (i, path) in route.paths.iter().enumerate() {
        let edges: Vec<EdgeIdx> = path.hops.iter().map(|h| h.edge).collect();
        let rebuilt = RoutePath::build(g, &edges, path.amount_msat(), req.final_cltv_delta)
            .unwrap_or_else(|e| panic!("{name}: part {i} does not rebuild: {e}"));
        assert_eq!(
            &rebuilt, path,
            "{name}: part {i} is not what Path::build gives"
        );
        assert_eq!(path.source(g), req.source, "{name}: part {i} source");
        assert_eq!(path.target(g), req.target, "{name}: part {i} target");
        assert!(
            path.hops.len() <= l.max_path_len as usize,
            "{name}: part {i} too long"
        );
        assert!(
            path.total_cltv() <= l.max_total_cltv,
            "{name}: part {i} locks too long"
        );
        for hop in &path.hops {
            let p = g.policy(hop.edge).expect("hop without policy");
            assert!(!p.disabled, "{name}: disabled hop");
            assert!(
                !l.excluded_edges.contains(&hop.edge),
                "{name}: excluded edge"
            );
            assert!(
                hop.amount_msat >= p.htlc_minimum_msat && hop.amount_msat <= p.htlc_maximum_msat,
                "{name}: hop amount outside the HTLC range"
            );
            let used = load.entry(hop.edge).or_default();
            *used += hop.amount_msat;
            assert!(
                *used <= g.channel(hop.edge.channel()).capacity_msat(),
                "{name}: overfilled channel"
            );
        }
        for n in path.nodes(g) {
            assert!(
                n == req.target || !l.excluded_nodes.contains(&n),
                "{name}: excluded node"
            );
        }
    }
}

/// Every router (our pathfinder and the three splitters, each with a learning liquidity
/// scorer) on a small graph and a few queries; outcomes are fed back so later queries run
/// on changed beliefs. Answers keep the contract; errors are `RouteError`s; nothing
/// panics.
pub fn router(data: &[u8]) {
    let mut input = Input::new(data);
    let g = small_graph(&mut input);
    let n = g.node_count() as u32;
    let sender = NodeIdx(input.below(n as usize) as u32);
    let mut routers: Vec<Box<dyn Router>> = vec![
        Box::new(Pathfinder::new(LiquidityBoundsScorer::new(&g, sender))),
        Box::new(GreedySplitter::new(LiquidityBoundsScorer::new(&g, sender))),
        Box::new(MinCostFlowSplitter::new(LiquidityBoundsScorer::new(
            &g, sender,
        ))),
        Box::new(HalvingSplitter::new(LiquidityBoundsScorer::new(&g, sender))),
    ];
    let mut now = Timestamp::from_secs(1);
    for _ in 0..3 {
        if input.is_empty() {
            break;
        }
        let target = if input.u8() < 8 {
            NodeIdx(input.u32())
        } else {
            NodeIdx(input.below(n as usize) as u32)
        };
        let amount = match input.below(4) {
            0 => 0,
            1 => input.u64(),
            _ => 1 + input.u32() as u64 * 10,
        };
        let mut limits = Limits::for_amount(amount);
        limits.max_parts = input.below(12) as u32;
        limits.min_part_msat = [0, 1_000, 10_000_000][input.below(3)];
        if input.u8() < 64 {
            limits.max_fee_msat = input.u32() as u64;
        }
        if input.u8() < 64 {
            limits.max_path_len = input.u8() % 6;
        }
        if input.u8() < 64 {
            limits.max_total_cltv = input.u16() as u32;
        }
        for _ in 0..input.below(3) {
            limits
                .excluded_edges
                .push(EdgeIdx(input.u8() as u32 % (g.edge_slots() as u32 + 2)));
        }
        for _ in 0..input.below(2) {
            limits
                .excluded_nodes
                .push(NodeIdx(input.below(n as usize + 1) as u32));
        }
        let req = RouteRequest {
            source: sender,
            target,
            amount_msat: amount,
            final_cltv_delta: [0, 18, 40, u32::MAX / 2][input.below(4)],
            limits,
            first_hops: None,
        };
        for r in routers.iter_mut() {
            let name = r.name().to_string();
            match r.find_route(&g, &req, now) {
                Ok(route) => {
                    check_route(&g, &req, &route, &name);
                    // Tell the router what happened to each part.
                    for path in &route.paths {
                        r.htlcs_in_flight(&g, path, true);
                        r.htlcs_in_flight(&g, path, false);
                        let outcome = input.u8() % 4;
                        if outcome == 0 {
                            r.path_succeeded(&g, path, now);
                        } else {
                            let kind = [
                                FailureKind::Liquidity,
                                FailureKind::ChannelUnusable,
                                FailureKind::NodeUnreachable,
                            ][outcome as usize - 1];
                            let hop = input.below(path.hops.len() + 1);
                            r.path_failed(&g, path, PathFailure { hop, kind }, now);
                        }
                    }
                }
                Err(RouteError::ZeroAmount) => assert_eq!(amount, 0, "{name}"),
                Err(RouteError::UnknownNode(x)) => assert!(x >= n, "{name}: node {x} is known"),
                Err(_) => {}
            }
        }
        now = now + input.u32() as u64 * 1_000;
    }
}
