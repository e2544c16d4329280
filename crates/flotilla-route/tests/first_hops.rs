//! A sender knows what its own channels can send now (`RouteRequest::first_hops`):
//! every router that can use it never proposes a first hop, or a set of parts over a
//! first hop, beyond it, and one router serving many senders keeps each sender's view
//! apart.

use flotilla_graph::{
    Channel, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey, Policy, ShortChannelId,
};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::scorers::{AprioriScorer, BimodalScorer, LiquidityBoundsScorer};
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter};
use flotilla_route::{Pathfinder, RouteError, RouteRequest, Router, Timestamp};

const NOW: Timestamp = Timestamp::ZERO;

fn key(i: usize) -> NodePubkey {
    NodePubkey::from_secret([i as u8 + 1; 32]).unwrap()
}

/// `0 → 1 → 3` (free) and `0 → 2 → 3` (1 sat + 1,000 ppm per hop), 10,000 sat each,
/// plus `4 → 1` so that a second sender shares the cheap branch.
fn diamond() -> Graph {
    let mut b = GraphBuilder::new();
    for i in 0..5 {
        b.add_node(Node::bare(key(i))).unwrap();
    }
    let chans = [
        (0, 1, 0, 0),
        (1, 3, 0, 0),
        (0, 2, 1000, 1000),
        (2, 3, 1000, 1000),
        (4, 1, 0, 0),
    ];
    for (i, &(a, z, base, ppm)) in chans.iter().enumerate() {
        let policy = Policy {
            fee_base_msat: base,
            fee_rate_ppm: ppm,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1,
            htlc_maximum_msat: 10_000_000,
            disabled: false,
            last_update: 0,
        };
        b.add_channel(Channel {
            scid: ShortChannelId(i as u64 + 1),
            nodes: [NodeIdx(a), NodeIdx(z)],
            capacity_sat: 10_000,
            policies: [Some(policy), Some(policy)],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    b.build()
}

/// The direction of the channel between `a` and `z` that leaves `a`.
fn edge(g: &Graph, a: u32, z: u32) -> EdgeIdx {
    g.out_edges(NodeIdx(a))
        .iter()
        .copied()
        .find(|&e| g.edge_target(e) == NodeIdx(z))
        .unwrap()
}

fn request(g: &Graph, amount: u64, cheap: u64, dear: u64, parts: u32) -> RouteRequest {
    let mut r = RouteRequest::new(NodeIdx(0), NodeIdx(3), amount);
    r.limits.max_parts = parts;
    r.limits.min_part_msat = 1;
    r.limits.max_fee_msat = amount;
    r.first_hops = Some(vec![(edge(g, 0, 1), cheap), (edge(g, 0, 2), dear)]);
    r
}

fn single_path_routers(g: &Graph) -> Vec<(&'static str, Box<dyn Router>)> {
    let mut bounds = Pathfinder::new(LiquidityBoundsScorer::new(g, NodeIdx(0)));
    bounds.prepare(g);
    let mut apriori = Pathfinder::new(AprioriScorer::new(g, NodeIdx(0)));
    apriori.prepare(g);
    let mut bimodal = Pathfinder::new(BimodalScorer::new(g, NodeIdx(0)));
    bimodal.prepare(g);
    vec![
        ("bounds", Box::new(bounds)),
        ("apriori", Box::new(apriori)),
        ("bimodal", Box::new(bimodal)),
        ("ldk", Box::new(LdkRouter::with_seed(g, 7))),
    ]
}

fn first_hop(g: &Graph, r: &flotilla_route::Route) -> Vec<(NodeIdx, u64)> {
    r.paths
        .iter()
        .map(|p| (g.edge_target(p.hops[0].edge), p.hops[0].amount_msat))
        .collect()
}

#[test]
fn a_single_path_never_starts_on_a_channel_that_cannot_send_it() {
    let g = diamond();
    for (name, mut r) in single_path_routers(&g) {
        // Without the sender's balances, the free branch wins.
        let mut unknown = request(&g, 2_000_000, 0, 0, 1);
        unknown.first_hops = None;
        let route = r.find_route(&g, &unknown, NOW).unwrap();
        assert_eq!(first_hop(&g, &route)[0].0, NodeIdx(1), "{name}");
        // Its own channel cannot send it: the dearer branch.
        let route = r
            .find_route(&g, &request(&g, 2_000_000, 1_999_999, 9_000_000, 1), NOW)
            .unwrap();
        assert_eq!(first_hop(&g, &route)[0].0, NodeIdx(2), "{name}");
        // Exactly enough is enough.
        let route = r
            .find_route(&g, &request(&g, 2_000_000, 2_000_000, 0, 1), NOW)
            .unwrap();
        assert_eq!(first_hop(&g, &route)[0].0, NodeIdx(1), "{name}");
        // Neither can: no route, not a doomed attempt.
        let e = r.find_route(&g, &request(&g, 2_000_000, 1_000, 1_000, 1), NOW);
        assert!(
            matches!(e, Err(RouteError::NoRoute { .. })),
            "{name}: {e:?}"
        );
    }
}

#[test]
fn mpp_parts_over_a_first_hop_fit_it_together() {
    let g = diamond();
    // (name, router, whether it sizes parts to the first hops: LDK's router takes the
    // caps as a penalty, so a part too big for a first hop makes that hop unusable
    // for it instead of shrinking it; it may find no route where parts that fit exist)
    let routers: Vec<(&str, Box<dyn Router>, bool)> = vec![
        (
            "greedy",
            {
                let mut r = GreedySplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
                r.prepare(&g);
                Box::new(r)
            },
            true,
        ),
        (
            "mcf",
            {
                let mut r = MinCostFlowSplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
                r.prepare(&g);
                Box::new(r)
            },
            true,
        ),
        (
            "halving",
            {
                let mut r = HalvingSplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
                r.prepare(&g);
                Box::new(r)
            },
            true,
        ),
        ("ldk", Box::new(LdkRouter::with_seed(&g, 7)), false),
    ];
    for (name, mut r, sizes_parts) in routers {
        for (cheap, dear) in [
            (3_500_000, 3_500_000),
            (6_000_000, 2_000_000),
            (1_000_000, 9_000_000),
        ] {
            let route = match r.find_route(&g, &request(&g, 6_000_000, cheap, dear, 8), NOW) {
                Ok(route) => route,
                Err(e) if !sizes_parts => {
                    assert!(matches!(e, RouteError::NoRoute { .. }), "{name}: {e}");
                    continue;
                }
                Err(e) => panic!("{name} ({cheap}, {dear}): {e}"),
            };
            assert_eq!(route.amount_msat(), 6_000_000, "{name}");
            for (via, cap) in [(NodeIdx(1), cheap), (NodeIdx(2), dear)] {
                let sent: u64 = first_hop(&g, &route)
                    .iter()
                    .filter(|(n, _)| *n == via)
                    .map(|(_, a)| a)
                    .sum();
                assert!(
                    sent <= cap,
                    "{name}: {sent} msat over the channel to {via:?}, cap {cap}"
                );
            }
        }
        // Together they cannot send it.
        let e = r.find_route(&g, &request(&g, 6_000_000, 2_000_000, 2_000_000, 8), NOW);
        assert!(e.is_err(), "{name}: {e:?}");
    }
}

#[test]
fn one_router_keeps_each_senders_view_apart() {
    let g = diamond();
    let mut pf = Pathfinder::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
    pf.prepare(&g);
    // Sender 0's cheap channel is empty.
    pf.find_route(&g, &request(&g, 1_000_000, 0, 9_000_000, 1), NOW)
        .unwrap();
    // Node 4 pays node 3 over 4 → 1 → 3; what node 0 knew of its own channels does
    // not apply to anyone else, and 1 → 3 is no one's first hop here.
    let mut other = RouteRequest::new(NodeIdx(4), NodeIdx(3), 1_000_000);
    other.first_hops = Some(vec![(edge(&g, 4, 1), 5_000_000)]);
    let route = pf.find_route(&g, &other, NOW).unwrap();
    assert_eq!(route.paths[0].hops.len(), 2);
    // Back to sender 0 with its channel refilled: the free branch again.
    let route = pf
        .find_route(&g, &request(&g, 1_000_000, 9_000_000, 9_000_000, 1), NOW)
        .unwrap();
    assert_eq!(first_hop(&g, &route)[0].0, NodeIdx(1));
    // A first hop named for a channel that is not the sender's is ignored.
    let mut stray = request(&g, 1_000_000, 9_000_000, 9_000_000, 1);
    stray.first_hops.as_mut().unwrap().push((edge(&g, 1, 3), 0));
    let route = pf.find_route(&g, &stray, NOW).unwrap();
    assert_eq!(first_hop(&g, &route)[0].0, NodeIdx(1));
}
