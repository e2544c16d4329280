//! Property tests of whole experiments: random synthetic graphs, workloads, fault mixes
//! (offline nodes, hodl nodes, latency models, background traffic, few HTLC slots) and
//! arms, each run to the end. Every run must finish without an internal error — the
//! event loop checks the network's invariants periodically and at the end, that no HTLC
//! is left live, and that no receiver settled more than it was owed — and its outputs
//! must account for every payment exactly once.
//!
//! The default case count keeps the test to a few seconds; `PROPTEST_CASES` raises it.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::{BarabasiAlbert, WattsStrogatz};
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::{AmountDistribution, LatencyModel, Scenario};
use proptest::prelude::*;

const ARMS: [&str; 8] = [
    "single-path-retry",
    "mpp-retry",
    "mpp-retry-halving",
    "mpp-retry-mcf",
    "redundant-sender_hash-0.5",
    "redundant-h2tlc-1",
    "paper-retry-3",
    "paper-redundant-2-retry-4",
];

#[derive(Clone, Debug)]
struct Case {
    scale_free: bool,
    nodes: usize,
    graph_seed: u64,
    seed: u64,
    payments: u64,
    arrivals_per_sec: f64,
    max_sat: u64,
    offline_share: f64,
    hodl_share: f64,
    background_per_sec: f64,
    latency: LatencyModel,
    liquidity: &'static str,
    arms: Vec<&'static str>,
    max_parts: u32,
    /// `[network.latency_by_message]`: fail, fulfill, cancel.
    classes: [Option<LatencyModel>; 3],
}

fn latency() -> impl Strategy<Value = LatencyModel> {
    prop_oneof![
        (1u64..300).prop_map(|ms| LatencyModel::Constant { ms }),
        (1u64..100, 0u64..400).prop_map(|(min_ms, extra)| LatencyModel::Uniform {
            min_ms,
            max_ms: min_ms + extra
        }),
        (5u64..200, 0.0f64..1.5)
            .prop_map(|(median_ms, sigma)| LatencyModel::Lognormal { median_ms, sigma }),
    ]
}

/// A message class's latency: any model, or zero.
fn class_latency() -> impl Strategy<Value = Option<LatencyModel>> {
    prop::option::of(prop_oneof![Just(LatencyModel::Zero), latency()])
}

fn case() -> impl Strategy<Value = Case> {
    (
        (any::<bool>(), 12usize..50, any::<u64>(), any::<u64>()),
        (5u64..80, 0.5f64..50.0, 2_000u64..2_000_000),
        (
            prop_oneof![Just(0.0), 0.0f64..0.3],
            prop_oneof![Just(0.0), 0.0f64..0.15],
            prop_oneof![Just(0.0), 0.0f64..5.0],
        ),
        latency(),
        prop::sample::select(vec!["uniform", "half", "bimodal"]),
        prop::sample::subsequence(ARMS.to_vec(), 1..=3),
        1u32..20,
        [class_latency(), class_latency(), class_latency()],
    )
        .prop_map(
            |(
                (scale_free, nodes, graph_seed, seed),
                (payments, arrivals_per_sec, max_sat),
                (offline_share, hodl_share, background_per_sec),
                latency,
                liquidity,
                arms,
                max_parts,
                classes,
            )| Case {
                scale_free,
                nodes,
                graph_seed,
                seed,
                payments,
                arrivals_per_sec,
                max_sat,
                offline_share,
                hodl_share,
                background_per_sec,
                latency,
                liquidity,
                arms,
                max_parts,
                classes,
            },
        )
}

fn scenario(c: &Case, dir: &Path) -> Scenario {
    let (g, _) = if c.scale_free {
        BarabasiAlbert {
            n: c.nodes,
            m: 2,
            ..BarabasiAlbert::default()
        }
        .generate(c.graph_seed)
        .unwrap()
    } else {
        WattsStrogatz {
            n: c.nodes,
            k: 4,
            ..WattsStrogatz::default()
        }
        .generate(c.graph_seed)
        .unwrap()
    };
    let p = dir.join("g.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    let mut s = Scenario {
        seed: c.seed,
        ..Scenario::default()
    };
    s.graph.file = p.display().to_string();
    s.graph.liquidity = c.liquidity.to_string();
    s.workload.payments = c.payments;
    s.workload.arrivals_per_sec = c.arrivals_per_sec;
    s.workload.amount = AmountDistribution::LogUniform {
        min_sat: 1_000,
        max_sat: c.max_sat,
    };
    s.network.offline_share = c.offline_share;
    s.network.hodl_share = c.hodl_share;
    s.network.background_per_sec = c.background_per_sec;
    s.network.latency = c.latency.clone();
    let [fail, fulfill, cancel] = c.classes.clone();
    s.network.latency_by_message.fail = fail;
    s.network.latency_by_message.fulfill = fulfill;
    s.network.latency_by_message.cancel = cancel;
    s.sender.arms = c.arms.iter().map(|a| a.to_string()).collect();
    s.sender.max_parts = c.max_parts;
    s.sender.min_part_sat = 1_000;
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any graph, workload, fault mix and arms: the run ends cleanly (invariants, no
    /// live HTLC, no overpayment, all checked inside the run), every payment is counted
    /// once as a success or a failure reason, and every row is written.
    #[test]
    fn random_experiments_end_clean_and_account_for_every_payment(c in case()) {
        let t = tempfile::tempdir().unwrap();
        let sc = scenario(&c, t.path());
        sc.validate("case").unwrap();
        let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
        let out = t.path().join("out");
        let s = exp
            .run(&out, 1, &AtomicU64::new(0))
            .map_err(|e| TestCaseError::fail(format!("{c:?}: {e}")))?;
        prop_assert_eq!(s.arms.len(), c.arms.len());
        for a in &s.arms {
            prop_assert_eq!(a.payments, c.payments);
            let failed: u64 = a.failures.values().sum();
            prop_assert_eq!(failed + a.succeeded, a.payments, "{}", a.name);
            prop_assert_eq!(a.overpaid_msat, 0, "{}", a.name);
            prop_assert!(a.parts_settled <= a.parts_sent, "{}", a.name);
            prop_assert!(a.succeeded == 0 || a.parts_settled > 0, "{}", a.name);
        }
        let csv = std::fs::read_to_string(out.join("payments.csv")).unwrap();
        prop_assert_eq!(csv.lines().count() as u64, 1 + c.payments * c.arms.len() as u64);
    }
}
