//! The pathfinder against plain references.
//!
//! What the pathfinder guarantees (see `flotilla_route::pathfinder`):
//! 1. its cost equals that of a plain one-label-per-node label-setting search
//!    (`reference_label_setting` in `pathfinder_reference/`: a textbook Dijkstra from
//!    the receiver with no pruning, no potential, no compact arrays, eager scorer
//!    calls);
//! 2. with pure fee cost, `htlc_minimum_msat` at most the amount and no binding CLTV or
//!    length limit, that cost is the exact minimum over all simple paths
//!    (`exhaustive` there enumerates them);
//! 3. in general it is never below the exhaustive minimum, and every path it returns
//!    obeys every policy and limit (`check_path` in `pathfinder_fixture/`, with the
//!    graphs and the test scorer the cases are built from).

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};
use flotilla_route::scorers::UniformScorer;
use flotilla_route::{
    CostParams, FoundPath, Limits, Path, PathFailure, Pathfinder, RouteError, RouteRequest, Router,
    Scorer, SearchTuning, Timestamp,
};
use proptest::prelude::*;

mod pathfinder_fixture;
mod pathfinder_reference;
use pathfinder_fixture::{build, check_path, same_cost, Blocking, ChannelSpec, PolicySpec};
use pathfinder_reference::{exhaustive, feasible_cost, reference_label_setting, NOW};

// ---------------------------------------------------------------------------------
// Random cases
// ---------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Case {
    nodes: usize,
    channels: Vec<ChannelSpec>,
    src: usize,
    dst: usize,
    amount: u64,
    max_fee: u64,
    max_cltv: u32,
    max_len: u8,
    final_cltv: u32,
    excluded_edges: Vec<u32>,
    excluded_nodes: Vec<u32>,
    blocked: Vec<u32>,
    params: CostParams,
    tuning: SearchTuning,
}

impl Case {
    fn graph(&self) -> Graph {
        build(self.nodes, &self.channels)
    }

    fn request(&self) -> RouteRequest {
        RouteRequest {
            source: NodeIdx(self.src as u32),
            target: NodeIdx(self.dst as u32),
            amount_msat: self.amount,
            final_cltv_delta: self.final_cltv,
            limits: Limits {
                max_fee_msat: self.max_fee,
                max_total_cltv: self.max_cltv,
                max_parts: 1,
                min_part_msat: 0,
                max_path_len: self.max_len,
                excluded_edges: self.excluded_edges.iter().map(|&e| EdgeIdx(e)).collect(),
                excluded_nodes: self.excluded_nodes.iter().map(|&n| NodeIdx(n)).collect(),
            },
            first_hops: None,
        }
    }

    fn scorer(&self) -> Blocking {
        Blocking {
            blocked: self.blocked.iter().map(|&e| EdgeIdx(e)).collect(),
        }
    }
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    (
        prop_oneof![Just(0u32), 0u32..3_000],
        prop_oneof![0u32..2_000, 0u32..300_000],
        0u16..150,
        prop_oneof![3 => Just(0u64), 3 => 0u64..5_000, 1 => 0u64..2_000_000],
        prop_oneof![3 => Just(None), 1 => (1u64..4_000_000).prop_map(Some)],
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(base, ppm, cltv, htlc_min, htlc_max, disabled)| PolicySpec {
                base,
                ppm,
                cltv,
                htlc_min,
                htlc_max,
                disabled,
            },
        )
}

fn channel_spec(n: usize) -> impl Strategy<Value = ChannelSpec> {
    (
        0..n,
        1..n,
        prop_oneof![3 => 1u64..4_000, 1 => 1u64..100],
        prop::option::weighted(0.9, policy_spec()),
        prop::option::weighted(0.9, policy_spec()),
    )
        .prop_map(move |(a, k, capacity_sat, p0, p1)| ChannelSpec {
            a,
            b: (a + k) % n,
            capacity_sat,
            policies: [p0, p1],
        })
}

fn params() -> impl Strategy<Value = CostParams> {
    prop_oneof![
        Just(CostParams::default()),
        Just(CostParams::fee_only()),
        (
            0f64..30_000.0,
            0f64..10_000.0,
            0f64..50.0,
            0f64..2.0,
            0f64..3_000.0,
            0f64..500.0
        )
            .prop_map(|(rb, rp, cb, cp, hb, hp)| CostParams {
                risk_base_msat: rb,
                risk_amount_ppm: rp,
                cltv_base_msat: cb,
                cltv_amount_ppm: cp,
                hop_base_msat: hb,
                hop_amount_ppm: hp,
            }),
    ]
}

/// Speed knobs, mostly tiny so that small graphs exercise every phase of the search
/// (the potential's upgrade, exhausted budgets).
fn tuning() -> impl Strategy<Value = SearchTuning> {
    prop_oneof![
        1 => Just(SearchTuning::default()),
        3 => (
            prop_oneof![0u32..4, Just(u32::MAX)],
            0u32..6,
            prop_oneof![0u32..12, Just(u32::MAX)],
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
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (3usize..=8).prop_flat_map(|n| {
        (
            (
                Just(n),
                prop::collection::vec(channel_spec(n), n..=2 * n + 4),
                0..n,
                1..n,
                prop_oneof![2 => 1u64..20_000, 2 => 1u64..300_000, 1 => 1u64..3_000_000],
                prop::bool::weighted(0.2),
            ),
            (
                prop_oneof![3 => Just(u64::MAX), 1 => 0u64..5_000, 1 => 0u64..100_000],
                prop_oneof![3 => Just(2016u32), 1 => 0u32..400],
                prop_oneof![3 => Just(20u8), 1 => 1u8..=5],
                0u32..=40,
            ),
            (
                prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(0u32..40, 1..3)],
                prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(0u32..n as u32, 1..3)],
                prop_oneof![2 => Just(vec![]), 1 => prop::collection::vec(0u32..40, 1..3)],
                params(),
                tuning(),
            ),
        )
            .prop_map(
                |(
                    (nodes, mut channels, src, k, amount, direct),
                    (max_fee, max_cltv, max_len, final_cltv),
                    (excluded_edges, excluded_nodes, blocked, params, tuning),
                )| {
                    let dst = (src + k) % nodes;
                    if !direct {
                        // Mostly multi-hop questions: no channel joins the endpoints.
                        channels
                            .retain(|c| !(c.a == src && c.b == dst || c.a == dst && c.b == src));
                    }
                    Case {
                        nodes,
                        channels,
                        src,
                        dst,
                        amount,
                        max_fee,
                        max_cltv,
                        max_len,
                        final_cltv,
                        excluded_edges,
                        excluded_nodes,
                        blocked,
                        params,
                        tuning,
                    }
                },
            )
    })
}

/// Cases where a one-label search is provably exact: pure fee cost, every
/// `htlc_minimum_msat` at most the amount, no binding CLTV or length limit.
fn exact_case() -> impl Strategy<Value = Case> {
    case().prop_map(|mut c| {
        c.params = CostParams::fee_only();
        for ch in &mut c.channels {
            for p in ch.policies.iter_mut().flatten() {
                p.htlc_min = p.htlc_min.min(c.amount);
            }
        }
        c.max_cltv = u32::MAX;
        c.max_len = 20;
        c
    })
}

fn run(case: &Case) -> (Graph, RouteRequest, Blocking, Result<FoundPath, RouteError>) {
    let g = case.graph();
    let req = case.request();
    let scorer = case.scorer();
    let mut pf = Pathfinder::with_params(scorer.clone(), case.params);
    pf.set_tuning(case.tuning);
    // Earlier questions on the same pathfinder leave state behind (labels, stamps,
    // bounds, exclusions) that must not leak into the answer.
    for (k, other) in (0..case.nodes as u32).rev().enumerate().take(3) {
        let mut decoy = req.clone();
        decoy.source = NodeIdx(other);
        decoy.target = NodeIdx((other + 1 + k as u32) % case.nodes as u32);
        decoy.amount_msat = req.amount_msat / (k as u64 + 1) + 1;
        decoy.limits.excluded_nodes.push(NodeIdx(k as u32));
        decoy.limits.excluded_edges.push(EdgeIdx(k as u32 * 3));
        let _ = pf.find_path(&g, &decoy, NOW);
    }
    let found = pf.find_path(&g, &req, NOW);
    (g, req, scorer, found)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Same cost as the plain label-setting reference; a real, valid path whose cost
    /// is what the pathfinder says; never cheaper than the exhaustive optimum; no route
    /// only if... and a route whenever the reference has one.
    #[test]
    fn agrees_with_label_setting_and_never_beats_exhaustive(case in case()) {
        let (g, req, scorer, found) = run(&case);
        let reference = reference_label_setting(&g, &scorer, &req, &case.params);
        let best = exhaustive(&g, &scorer, &req, &case.params);
        match (&found, &reference) {
            (Ok(f), Some((c, _))) => {
                prop_assert!(same_cost(f.cost, *c), "cost {} vs reference {}", f.cost, c);
                if let Err(why) = check_path(&g, &scorer, &req, &f.path) {
                    prop_assert!(false, "invalid path: {why}: {:?}", f.path);
                }
                prop_assert_eq!(f.cost, case.params.path_cost(&g, &scorer, &f.path, NOW));
                let again = feasible_cost(&g, &scorer, &req, &case.params,
                    &f.path.hops.iter().map(|h| h.edge).collect::<Vec<_>>());
                prop_assert_eq!(again, Some(f.cost));
                let best = best.expect("a feasible path exists");
                prop_assert!(f.cost >= best - 1e-9 * best.abs(), "{} below the optimum {}", f.cost, best);
                let p = scorer.path_probability(&g, &f.path, NOW);
                prop_assert_eq!(f.probability, p);
                prop_assert!(f.probability > 0.0 && f.probability <= 1.0);
            }
            (Err(e), None) => {
                let expected = matches!(e, RouteError::NoRoute { .. } | RouteError::AmountAboveCapacity { .. })
                    || (matches!(e, RouteError::ImpossibleLimits(_)) && req.final_cltv_delta > req.limits.max_total_cltv);
                prop_assert!(expected, "unexpected error {e:?}");
            }
            (Ok(f), None) => prop_assert!(false, "found {:?} but the reference has no route", f.path),
            (Err(e), Some((c, p))) => prop_assert!(false, "error {e} but the reference has {p:?} at {c}"),
        }
        if best.is_none() {
            prop_assert!(found.is_err());
        }
    }

    /// `find_copies`: pairwise edge-disjoint paths, each obeying every rule, priced
    /// as the pathfinder prices them, at most as many as asked; the first as cheap as
    /// `find_path`'s answer (the same but for exact ties), an error exactly when it
    /// errs, and one path alone for a request that excludes edges.
    #[test]
    fn copies_are_valid_disjoint_and_led_by_the_answer(case in case(), n in 1usize..5) {
        let (g, req, scorer, found) = run(&case);
        let mut pf = Pathfinder::with_params(scorer.clone(), case.params);
        pf.set_tuning(case.tuning);
        let copies = pf.find_copies(&g, &req, n, NOW);
        match (&found, &copies) {
            (Ok(f), Ok(c)) => {
                prop_assert!(!c.is_empty() && c.len() <= n);
                prop_assert!(same_cost(c[0].cost, f.cost), "first {} vs answer {}", c[0].cost, f.cost);
                if !req.limits.excluded_edges.is_empty() || n == 1 {
                    prop_assert_eq!(c.len(), 1);
                }
                let mut used = Vec::new();
                for copy in c {
                    if let Err(why) = check_path(&g, &scorer, &req, &copy.path) {
                        prop_assert!(false, "invalid copy: {why}: {:?}", copy.path);
                    }
                    prop_assert!(same_cost(copy.cost, case.params.path_cost(&g, &scorer, &copy.path, NOW)));
                    prop_assert_eq!(copy.probability, scorer.path_probability(&g, &copy.path, NOW));
                    prop_assert!(copy.probability > 0.0);
                    for h in &copy.path.hops {
                        prop_assert!(!used.contains(&h.edge), "copies share {:?}", h.edge);
                    }
                    used.extend(copy.path.hops.iter().map(|h| h.edge));
                }
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "find_path {:?} but find_copies {:?}", found.is_ok(), copies.is_ok()),
        }
    }

    /// Where a one-label search is provably exact, it finds the exhaustive minimum.
    #[test]
    fn fee_only_search_is_exact(case in exact_case()) {
        let (g, req, scorer, found) = run(&case);
        let best = exhaustive(&g, &scorer, &req, &case.params);
        match (&found, best) {
            (Ok(f), Some(b)) => {
                prop_assert_eq!(f.cost, b);
                prop_assert_eq!(f.cost, f.path.fee_msat() as f64);
                if let Err(why) = check_path(&g, &scorer, &req, &f.path) {
                    prop_assert!(false, "invalid path: {why}");
                }
            }
            (Err(_), None) => {}
            (Ok(f), None) => prop_assert!(false, "found {:?} where no path is feasible", f.path),
            (Err(e), Some(b)) => prop_assert!(false, "error {e} where a path costs {b}"),
        }
    }

    /// Arbitrary, mostly invalid requests: a clear error or a valid path, never a panic.
    #[test]
    fn bad_requests_never_panic(
        case in case(),
        src in prop_oneof![0u32..8, any::<u32>()],
        dst in prop_oneof![0u32..8, any::<u32>()],
        amount in prop_oneof![Just(0u64), any::<u64>(), 0u64..10_000_000],
        max_fee in any::<u64>(),
        max_cltv in any::<u32>(),
        max_len in any::<u8>(),
        max_parts in 0u32..3,
        final_cltv in any::<u32>(),
        excluded_edges in prop::collection::vec(any::<u32>(), 0..3),
        excluded_nodes in prop::collection::vec(any::<u32>(), 0..3),
    ) {
        let g = case.graph();
        let req = RouteRequest {
            source: NodeIdx(src),
            target: NodeIdx(dst),
            amount_msat: amount,
            final_cltv_delta: final_cltv,
            limits: Limits {
                max_fee_msat: max_fee,
                max_total_cltv: max_cltv,
                max_parts,
                min_part_msat: 0,
                max_path_len: max_len,
                excluded_edges: excluded_edges.into_iter().map(EdgeIdx).collect(),
                excluded_nodes: excluded_nodes.into_iter().map(NodeIdx).collect(),
            },
            first_hops: None,
        };
        let scorer = case.scorer();
        let mut pf = Pathfinder::new(scorer.clone());
        let n = g.node_count() as u32;
        match pf.find_route(&g, &req, NOW) {
            Ok(route) => {
                prop_assert_eq!(route.paths.len(), 1);
                if let Err(why) = check_path(&g, &scorer, &req, &route.paths[0]) {
                    prop_assert!(false, "invalid path: {why}");
                }
            }
            Err(RouteError::ZeroAmount) => prop_assert_eq!(amount, 0),
            Err(RouteError::UnknownNode(x)) => prop_assert!(x >= n && (x == src || x == dst)),
            Err(RouteError::SameNode) => prop_assert_eq!(src, dst),
            Err(RouteError::ImpossibleLimits(_)) => {
                prop_assert!(max_len == 0 || max_parts == 0 || final_cltv > max_cltv)
            }
            Err(RouteError::AmountAboveCapacity { amount_msat, capacity_msat }) => {
                prop_assert_eq!(amount_msat, amount);
                prop_assert!(amount_msat > capacity_msat);
            }
            Err(RouteError::NoRoute { reason, .. }) => prop_assert!(!reason.is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------------
// Hand-made cases
// ---------------------------------------------------------------------------------

fn pol(base: u32, ppm: u32, cltv: u16) -> PolicySpec {
    PolicySpec {
        base,
        ppm,
        cltv,
        htlc_min: 0,
        htlc_max: None,
        disabled: false,
    }
}

fn chan(
    a: usize,
    b: usize,
    capacity_sat: u64,
    ab: Option<PolicySpec>,
    ba: Option<PolicySpec>,
) -> ChannelSpec {
    ChannelSpec {
        a,
        b,
        capacity_sat,
        policies: [ab, ba],
    }
}

#[test]
fn fees_and_cltv_accumulate_backwards_per_bolt7() {
    // 0 -> 1 -> 2 -> 3, each channel with a distinct policy.
    let g = build(
        4,
        &[
            chan(0, 1, 10_000, Some(pol(7, 999_999, 99)), None),
            chan(1, 2, 10_000, Some(pol(1_000, 1_500, 40)), None),
            chan(2, 3, 10_000, Some(pol(500, 333, 144)), None),
        ],
    );
    let req = RouteRequest::new(NodeIdx(0), NodeIdx(3), 1_234_567);
    let mut pf = Pathfinder::new(UniformScorer);
    let f = pf.find_path(&g, &req, NOW).unwrap();
    let h = &f.path.hops;
    assert_eq!(h.len(), 3);
    // Last hop: the amount and the final delta.
    assert_eq!((h[2].amount_msat, h[2].cltv_expiry), (1_234_567, 18));
    // Node 2 forwards over 2->3: 500 + floor(1_234_567 * 333 / 1e6) = 500 + 411.
    assert_eq!(
        (h[1].amount_msat, h[1].cltv_expiry),
        (1_234_567 + 911, 18 + 144)
    );
    // Node 1 forwards over 1->2: 1000 + floor(1_235_478 * 1500 / 1e6) = 1000 + 1853.
    assert_eq!(
        (h[0].amount_msat, h[0].cltv_expiry),
        (1_235_478 + 2_853, 162 + 40)
    );
    // The sender's own channel (ppm 999,999) charges nothing.
    assert_eq!(f.path.fee_msat(), 911 + 2_853);
    check_path(&g, &UniformScorer, &req, &f.path).unwrap();
}

#[test]
fn avoids_disabled_missing_and_excluded_and_prefers_cheap() {
    // Four parallel two-hop routes from 0 to 5 through 1, 2, 3, 4.
    let mut off = pol(0, 0, 10);
    off.disabled = true;
    let g = build(
        6,
        &[
            chan(0, 1, 5_000, Some(pol(0, 0, 10)), None),
            chan(1, 5, 5_000, Some(off), None), // disabled
            chan(0, 2, 5_000, Some(pol(0, 0, 10)), None),
            chan(2, 5, 5_000, None, Some(pol(0, 0, 10))), // only 5 -> 2 announced
            chan(0, 3, 5_000, Some(pol(0, 0, 10)), None),
            chan(3, 5, 5_000, Some(pol(0, 10, 10)), None), // cheap
            chan(0, 4, 5_000, Some(pol(0, 0, 10)), None),
            chan(4, 5, 5_000, Some(pol(2_000, 500, 10)), None), // dear
        ],
    );
    let mut pf = Pathfinder::new(UniformScorer);
    let mut req = RouteRequest::new(NodeIdx(0), NodeIdx(5), 1_000_000);
    let f = pf.find_path(&g, &req, NOW).unwrap();
    assert_eq!(
        f.path.nodes(&g).collect::<Vec<_>>(),
        vec![NodeIdx(3), NodeIdx(5)]
    );
    req.limits.excluded_nodes.push(NodeIdx(3));
    let f = pf.find_path(&g, &req, NOW).unwrap();
    assert_eq!(
        f.path.nodes(&g).collect::<Vec<_>>(),
        vec![NodeIdx(4), NodeIdx(5)]
    );
    req.limits.excluded_edges.push(f.path.hops[1].edge);
    let e = pf.find_path(&g, &req, NOW).unwrap_err();
    assert!(matches!(e, RouteError::NoRoute { .. }), "{e:?}");
}

#[test]
fn errors_name_what_is_wrong() {
    let g = build(
        4,
        &[
            chan(
                0,
                1,
                1_000,
                Some(pol(1_000, 100, 40)),
                Some(pol(1_000, 100, 40)),
            ),
            chan(
                1,
                2,
                1_000,
                Some(pol(1_000, 100, 40)),
                Some(pol(1_000, 100, 40)),
            ),
            chan(2, 3, 800, None, Some(pol(0, 0, 40))), // 3 -> 2 only
        ],
    );
    let mut pf = Pathfinder::new(UniformScorer);
    let find = |pf: &mut Pathfinder<UniformScorer>, r: &RouteRequest| {
        pf.find_path(&g, r, NOW).map(|f| f.path)
    };
    let ok = RouteRequest::new(NodeIdx(0), NodeIdx(2), 100_000);
    assert!(find(&mut pf, &ok).is_ok());

    let mut r = ok.clone();
    r.amount_msat = 0;
    assert_eq!(find(&mut pf, &r).unwrap_err(), RouteError::ZeroAmount);

    let r = RouteRequest::new(NodeIdx(1), NodeIdx(1), 1_000);
    assert_eq!(find(&mut pf, &r).unwrap_err(), RouteError::SameNode);

    let r = RouteRequest::new(NodeIdx(9), NodeIdx(1), 1_000);
    assert_eq!(find(&mut pf, &r).unwrap_err(), RouteError::UnknownNode(9));
    let r = RouteRequest::new(NodeIdx(0), NodeIdx(u32::MAX), 1_000);
    assert_eq!(
        find(&mut pf, &r).unwrap_err(),
        RouteError::UnknownNode(u32::MAX)
    );

    // Node 2 can receive over 1 -> 2 (1,000 sat) and 3 -> 2 (800 sat).
    let r = RouteRequest::new(NodeIdx(0), NodeIdx(2), 1_800_001);
    assert_eq!(
        find(&mut pf, &r).unwrap_err(),
        RouteError::AmountAboveCapacity {
            amount_msat: 1_800_001,
            capacity_msat: 1_800_000
        }
    );
    let r = RouteRequest::new(NodeIdx(0), NodeIdx(2), 1_000_001);
    let e = find(&mut pf, &r).unwrap_err();
    assert!(
        e.to_string()
            .contains("no single channel into the receiver"),
        "{e}"
    );

    // Node 3 has no way in at all.
    let r = RouteRequest::new(NodeIdx(0), NodeIdx(3), 1_000);
    assert!(matches!(
        find(&mut pf, &r).unwrap_err(),
        RouteError::AmountAboveCapacity {
            capacity_msat: 0,
            ..
        }
    ));

    // Node 3 can send, but nothing reaches 0 from... 3 -> 2 -> 1 -> 0 works; 2 -> 3 does not.
    let r = RouteRequest::new(NodeIdx(3), NodeIdx(0), 1_000);
    assert!(find(&mut pf, &r).is_ok());

    let mut r = ok.clone();
    r.limits.max_path_len = 0;
    assert!(matches!(
        find(&mut pf, &r).unwrap_err(),
        RouteError::ImpossibleLimits(_)
    ));
    let mut r = ok.clone();
    r.limits.max_parts = 0;
    assert!(matches!(
        find(&mut pf, &r).unwrap_err(),
        RouteError::ImpossibleLimits(_)
    ));
    let mut r = ok.clone();
    r.final_cltv_delta = 3_000;
    let e = find(&mut pf, &r).unwrap_err();
    assert!(
        matches!(e, RouteError::ImpossibleLimits(_)) && e.to_string().contains("final CLTV"),
        "{e}"
    );

    // Over limits: one hop too few, a fee limit below the one fee, a CLTV limit below.
    let mut r = ok.clone();
    r.limits.max_path_len = 1;
    let e = find(&mut pf, &r).unwrap_err();
    assert!(
        matches!(e, RouteError::NoRoute { .. }) && e.to_string().contains("hops"),
        "{e}"
    );
    let mut r = ok.clone();
    r.limits.max_fee_msat = 1_009;
    let e = find(&mut pf, &r).unwrap_err();
    assert!(e.to_string().contains("fee limit"), "{e}");
    r.limits.max_fee_msat = 1_010;
    assert_eq!(find(&mut pf, &r).unwrap().fee_msat(), 1_010);
    let mut r = ok.clone();
    r.limits.max_total_cltv = 18 + 39;
    let e = find(&mut pf, &r).unwrap_err();
    assert!(e.to_string().contains("CLTV"), "{e}");
    let mut r = ok.clone();
    r.limits.excluded_nodes.push(NodeIdx(1));
    let e = find(&mut pf, &r).unwrap_err();
    assert!(e.to_string().contains("excluded"), "{e}");
}

#[test]
fn unreachable_receiver_is_no_route() {
    // Two islands.
    let g = build(
        4,
        &[
            chan(0, 1, 1_000, Some(pol(0, 0, 40)), Some(pol(0, 0, 40))),
            chan(2, 3, 1_000, Some(pol(0, 0, 40)), Some(pol(0, 0, 40))),
        ],
    );
    let mut pf = Pathfinder::new(UniformScorer);
    let e = pf
        .find_path(&g, &RouteRequest::new(NodeIdx(0), NodeIdx(3), 1_000), NOW)
        .unwrap_err();
    assert!(
        matches!(e, RouteError::NoRoute { .. }) && e.to_string().contains("not reachable"),
        "{e}"
    );
}

/// The documented limit of a one-label search: the cheapest way from node 1 to the
/// receiver (the zero-fee channel) delivers too little for the sender's channel's
/// `htlc_minimum_msat`; only the dearer parallel channel would. The exhaustive search
/// finds that path; the label-setting search (ours and the plain reference) does not.
#[test]
fn documented_limit_htlc_minimum_behind_a_cheaper_suffix() {
    let mut first = pol(0, 0, 40);
    first.htlc_min = 100_010;
    let g = build(
        3,
        &[
            chan(0, 1, 1_000, Some(first), None),
            chan(1, 2, 1_000, Some(pol(0, 0, 40)), None),
            chan(1, 2, 1_000, Some(pol(10, 0, 40)), None),
        ],
    );
    let req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 100_000);
    let params = CostParams::default();
    let mut pf = Pathfinder::with_params(UniformScorer, params);
    assert!(matches!(
        pf.find_path(&g, &req, NOW),
        Err(RouteError::NoRoute { .. })
    ));
    assert!(reference_label_setting(&g, &UniformScorer, &req, &params).is_none());
    assert!(exhaustive(&g, &UniformScorer, &req, &params).is_some());
}

/// Counts what the router forwards to its scorer.
#[derive(Default)]
struct Counting {
    succeeded: usize,
    failed: Vec<PathFailure>,
    in_flight: Vec<bool>,
}

impl Scorer for Counting {
    fn success_probability(&self, g: &Graph, e: EdgeIdx, a: u64, now: Timestamp) -> f64 {
        UniformScorer.success_probability(g, e, a, now)
    }
    fn path_succeeded(&mut self, _: &Graph, _: &Path, _: Timestamp) {
        self.succeeded += 1;
    }
    fn path_failed(&mut self, _: &Graph, _: &Path, f: PathFailure, _: Timestamp) {
        self.failed.push(f);
    }
    fn htlcs_in_flight(&mut self, _: &Graph, _: &Path, added: bool) {
        self.in_flight.push(added);
    }
}

#[test]
fn router_answers_one_path_and_forwards_outcomes_to_its_scorer() {
    let g = build(
        3,
        &[
            chan(0, 1, 1_000, Some(pol(0, 0, 40)), None),
            chan(1, 2, 1_000, Some(pol(1_000, 1, 40)), None),
        ],
    );
    let mut pf = Pathfinder::new(Counting::default());
    assert_eq!(pf.name(), "flotilla");
    let req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 500_000);
    let route = pf.find_route(&g, &req, NOW).unwrap();
    assert_eq!(route.paths.len(), 1);
    assert_eq!(route.amount_msat(), 500_000);
    assert_eq!(route.fee_msat(), 1_000);
    let p = UniformScorer.path_probability(&g, &route.paths[0], NOW);
    assert_eq!(route.probabilities, vec![p]);
    let path = &route.paths[0];
    pf.htlcs_in_flight(&g, path, true);
    pf.path_failed(
        &g,
        path,
        PathFailure {
            hop: 1,
            kind: flotilla_route::FailureKind::Liquidity,
        },
        NOW,
    );
    pf.htlcs_in_flight(&g, path, false);
    pf.path_succeeded(&g, path, NOW);
    let s = pf.into_scorer();
    assert_eq!(s.succeeded, 1);
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.in_flight, vec![true, false]);
}

#[test]
fn a_new_graph_is_recognised() {
    let cheap = build(
        3,
        &[
            chan(0, 1, 1_000, Some(pol(0, 0, 40)), None),
            chan(1, 2, 1_000, Some(pol(0, 0, 40)), None),
            chan(0, 2, 1_000, Some(pol(0, 0, 40)), None),
        ],
    );
    let mut pf = Pathfinder::new(UniformScorer);
    let req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 1_000);
    assert_eq!(pf.find_path(&cheap, &req, NOW).unwrap().path.hops.len(), 1);
    // Same shape, but the direct channel is gone from the routing view.
    let mut off = pol(0, 0, 40);
    off.disabled = true;
    let other = build(
        3,
        &[
            chan(0, 1, 1_000, Some(pol(0, 0, 40)), None),
            chan(1, 2, 1_000, Some(pol(0, 0, 40)), None),
            chan(0, 2, 1_000, Some(off), None),
        ],
    );
    assert_eq!(pf.find_path(&other, &req, NOW).unwrap().path.hops.len(), 2);
    assert_eq!(pf.find_path(&cheap, &req, NOW).unwrap().path.hops.len(), 1);
}

// ---------------------------------------------------------------------------------
// The bundled mainnet snapshot
// ---------------------------------------------------------------------------------

/// On the real graph, with the default prices, the pathfinder's answers match the
/// plain reference for random queries (SCC endpoints and arbitrary ones, some with
/// exclusions and tight limits), and every path is valid. Slow in debug builds.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "reads the mainnet snapshot; run with --release"
)]
fn mainnet_snapshot_agrees_with_reference() {
    use rand::{Rng, SeedableRng};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/mainnet-2026-02-03.describegraph.json.gz");
    let g = flotilla_graph::read_graph(&path, None).unwrap().graph;
    let scc = flotilla_graph::stats::largest_scc(&g);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut pf = Pathfinder::new(UniformScorer);
    let params = *pf.params();
    let (mut answered, mut total) = (0, 0);
    for i in 0..300 {
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| {
            if i % 5 == 4 {
                NodeIdx(rng.random_range(0..g.node_count() as u32))
            } else {
                scc[rng.random_range(0..scc.len())]
            }
        };
        let s = pick(&mut rng);
        let t = pick(&mut rng);
        if s == t {
            continue;
        }
        let sat = rng.random_range(1_000f64.ln()..1_000_000f64.ln()).exp();
        let mut req = RouteRequest::new(s, t, (sat * 1000.0) as u64);
        match i % 4 {
            1 => req.limits.max_path_len = rng.random_range(1..4),
            2 => {
                req.limits.max_fee_msat = rng.random_range(0..req.limits.max_fee_msat);
                req.limits.max_total_cltv = rng.random_range(18..300);
            }
            3 => {
                for _ in 0..20 {
                    req.limits
                        .excluded_edges
                        .push(EdgeIdx(rng.random_range(0..g.edge_slots() as u32)));
                    req.limits
                        .excluded_nodes
                        .push(scc[rng.random_range(0..scc.len())]);
                }
            }
            _ => {}
        }
        total += 1;
        // Vary the speed knobs too: they must not change answers.
        pf.set_tuning(match i % 3 {
            0 => SearchTuning::default(),
            1 => SearchTuning {
                upgrade_after: 0,
                forward_nodes: rng.random_range(0..300),
                forward_edges: rng.random_range(0..20_000),
                bfs_edges: rng.random_range(0..5_000),
                fast_upgrade_after: rng.random_range(0..40),
            },
            _ => SearchTuning {
                upgrade_after: u32::MAX,
                bfs_edges: 0,
                fast_upgrade_after: u32::MAX,
                ..SearchTuning::default()
            },
        });
        let found = pf.find_path(&g, &req, NOW);
        let reference = reference_label_setting(&g, &UniformScorer, &req, &params);
        match (&found, &reference) {
            (Ok(f), Some((c, _))) => {
                answered += 1;
                assert!(
                    same_cost(f.cost, *c),
                    "query {i}: cost {} vs reference {c}",
                    f.cost
                );
                check_path(&g, &UniformScorer, &req, &f.path)
                    .unwrap_or_else(|w| panic!("query {i}: {w}"));
            }
            (Err(_), None) => {}
            _ => panic!("query {i}: {found:?} vs reference {reference:?}"),
        }
    }
    // Many queries have tight limits or endpoints outside the core on purpose.
    assert!(answered * 4 > total, "only {answered} of {total} answered");
}

/// How far the one-label search falls short of the exhaustive optimum on the random
/// cases of the property test (the numbers quoted in the module docs). Diagnostic:
/// `cargo test --release -p flotilla-route --test pathfinder label_setting_gap -- --ignored --nocapture`.
#[test]
#[ignore = "diagnostic statistics"]
fn label_setting_gap() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut answerable, mut costlier, mut missed, mut hops) = (0, 0, 0, 0);
    for _ in 0..20_000 {
        let c = case().new_tree(&mut runner).unwrap().current();
        let (g, req, scorer, found) = run(&c);
        let Some(best) = exhaustive(&g, &scorer, &req, &c.params) else {
            continue;
        };
        answerable += 1;
        match found {
            Ok(f) => {
                hops += f.path.hops.len();
                if f.cost > best + 1e-9 * best.abs() {
                    costlier += 1;
                }
            }
            Err(_) => missed += 1,
        }
    }
    let pct = |x: usize| 100.0 * x as f64 / answerable as f64;
    println!(
        "{answerable} answerable cases (mean {:.2} hops): {costlier} costlier ({:.2}%), {missed} no route ({:.2}%)",
        hops as f64 / (answerable - missed) as f64,
        pct(costlier),
        pct(missed),
    );
}

#[test]
fn copies_come_from_one_search_where_routes_do_not_meet() {
    // 0 -> 1 -> 3 and 0 -> 2 -> 3: two disjoint routes; the cheaper (via 1) first.
    let g = build(
        4,
        &[
            chan(0, 1, 10_000, Some(pol(0, 0, 40)), None),
            chan(0, 2, 10_000, Some(pol(0, 0, 40)), None),
            chan(1, 3, 10_000, Some(pol(100, 100, 40)), None),
            chan(2, 3, 10_000, Some(pol(500, 100, 40)), None),
        ],
    );
    let req = RouteRequest::new(NodeIdx(0), NodeIdx(3), 100_000);
    let mut pf = Pathfinder::new(UniformScorer);
    let copies = pf.find_copies(&g, &req, 3, NOW).unwrap();
    let via: Vec<u32> = copies
        .iter()
        .map(|c| g.edge_target(c.path.hops[0].edge).0)
        .collect();
    assert_eq!(via, vec![1, 2]);
    assert_eq!(copies[0], pf.find_path(&g, &req, NOW).unwrap());
    for c in &copies {
        check_path(&g, &UniformScorer, &req, &c.path).unwrap();
    }
    // Asking for one, or avoiding a channel, gives the search's answer alone.
    assert_eq!(pf.find_copies(&g, &req, 1, NOW).unwrap().len(), 1);
    let mut avoid = req.clone();
    avoid.limits.excluded_edges = vec![copies[1].path.hops[1].edge];
    assert_eq!(pf.find_copies(&g, &avoid, 3, NOW).unwrap().len(), 1);

    // Both routes enter the receiver over 4 -> 3: one copy, the caller searches on.
    let g = build(
        5,
        &[
            chan(0, 1, 10_000, Some(pol(0, 0, 40)), None),
            chan(0, 2, 10_000, Some(pol(0, 0, 40)), None),
            chan(1, 4, 10_000, Some(pol(100, 100, 40)), None),
            chan(2, 4, 10_000, Some(pol(500, 100, 40)), None),
            chan(4, 3, 10_000, Some(pol(10, 10, 40)), None),
        ],
    );
    let mut pf = Pathfinder::new(UniformScorer);
    assert_eq!(pf.find_copies(&g, &req, 3, NOW).unwrap().len(), 1);
}
