//! Redundant arms next to MPP with retry on the 100-node Watts–Strogatz graph: nobody
//! is ever overpaid, redundant payments settle, outputs are complete and deterministic.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::Scenario;

const ARMS: [&str; 7] = [
    "mpp-retry",
    "redundant-sender_hash-0.5",
    "redundant-h2tlc-0.5",
    "redundant-h2tlc-0.5-retry",
    "redundant-boomerang-0.5",
    "redundant-boomerang-1-retry",
    "redundant-sender_hash-adaptive",
];

fn scenario(dir: &Path, payments: u64) -> Scenario {
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    let mut s = Scenario::default();
    s.graph.file = p.display().to_string();
    s.workload.payments = payments;
    s.workload.amount = flotilla_sim::scenario::AmountDistribution::LogUniform {
        min_sat: 1_000,
        max_sat: 300_000,
    };
    s.sender.arms = ARMS.iter().map(|a| a.to_string()).collect();
    s
}

#[test]
fn redundant_arms_never_overpay_and_are_deterministic() {
    let t = tempfile::tempdir().unwrap();
    let exp = Experiment::prepare(scenario(t.path(), 200), Path::new("unused")).unwrap();
    let mut dirs = Vec::new();
    let mut summaries = Vec::new();
    for (name, threads) in [("a", 3), ("b", 1)] {
        let dir = t.path().join(name);
        summaries.push(exp.run(&dir, threads, &AtomicU64::new(0)).unwrap());
        dirs.push(dir);
    }
    let s = &summaries[0];
    assert_eq!(s.arms.len(), ARMS.len());
    for a in &s.arms {
        eprintln!(
            "{}: success {:.3} ttc p50 {:.0} ms p99 {:.0} ms mean {:.0} ms, parts {}/{}, \
             fees {} msat, liquidity {:.1} sat·s, overpaid {}, overclaims {}, extra {}, \
             failures {:?}",
            a.name,
            a.success_rate,
            a.ttc_ms_p50,
            a.ttc_ms_p99,
            a.ttc_ms_mean,
            a.parts_settled,
            a.parts_sent,
            a.fees_msat,
            a.liquidity_seconds_mean,
            a.overpaid_msat,
            a.overclaim_attempts,
            a.extra_messages,
            a.failures
        );
        assert_eq!(a.payments, 200);
        assert_eq!(a.overpaid_msat, 0, "{}", a.name);
        assert_eq!(a.overclaim_attempts, 0, "{}: honest receivers", a.name);
        let failed: u64 = a.failures.values().sum();
        assert_eq!(failed + a.succeeded, a.payments, "{}", a.name);
        assert!(a.parts_settled <= a.parts_sent);
        if a.name.starts_with("redundant-") {
            assert!(a.succeeded > 0, "{}", a.name);
            // More parts leave than settle: the surplus is cancelled.
            assert!(a.parts_sent > a.parts_settled, "{}", a.name);
            if a.name.contains("boomerang") {
                // No claim request, no reveal: only cancels of failed payments.
                assert!(a.extra_messages <= a.payments - a.succeeded, "{}", a.name);
            } else {
                // Every payment that reached A cost a claim request and a reveal.
                assert!(a.extra_messages >= 2 * a.succeeded, "{}", a.name);
                // The extra round trip: at least four legs of ≥ 50 ms.
                assert!(a.ttc_ms_p50 >= 200.0, "{}: {}", a.name, a.ttc_ms_p50);
            }
            assert!(a.liquidity_ratio_to_mpp.is_some());
        } else {
            assert_eq!(a.extra_messages, 0);
        }
    }
    let csv = std::fs::read_to_string(dirs[0].join("payments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 200 * ARMS.len());
    for arm in ARMS {
        let rows = csv
            .lines()
            .filter(|l| l.split(',').nth(7) == Some(arm))
            .count();
        assert_eq!(rows, 200, "{arm}");
    }
    for f in ["payments.csv", "attempts.jsonl.gz"] {
        assert_eq!(
            std::fs::read(dirs[0].join(f)).unwrap(),
            std::fs::read(dirs[1].join(f)).unwrap(),
            "{f}"
        );
    }
    let strip = |s: &flotilla_sim::experiment::RunSummary| {
        let mut v = serde_json::to_value(s).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("wall_seconds");
        o.remove("payments_per_second");
        v
    };
    assert_eq!(strip(&summaries[0]), strip(&summaries[1]));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs[0].join("summary.json")).unwrap()).unwrap();
    for a in json["arms"].as_array().unwrap() {
        for k in [
            "ttc_ms_mean",
            "overpaid_msat",
            "overclaim_attempts",
            "parts_sent",
            "parts_settled",
            "liquidity_ratio_to_mpp",
            "throughput_sat_per_sec",
        ] {
            assert!(a.get(k).is_some(), "{k}");
        }
    }
}

/// Boomerang pays without the claim round trip; the hash locks pay it: at the median a
/// boomerang payment completes well before an h2tlc one on the same workload.
#[test]
fn boomerang_skips_the_round_trip_that_h2tlc_pays() {
    let t = tempfile::tempdir().unwrap();
    let mut sc = scenario(t.path(), 150);
    sc.sender.arms = vec![
        "redundant-h2tlc-0.5-retry".into(),
        "redundant-boomerang-0.5-retry".into(),
    ];
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let s = exp.run(&t.path().join("r"), 2, &AtomicU64::new(0)).unwrap();
    let (h, b) = (&s.arms[0], &s.arms[1]);
    assert!(
        b.ttc_ms_p50 < 0.8 * h.ttc_ms_p50,
        "boomerang {} ms, h2tlc {} ms",
        b.ttc_ms_p50,
        h.ttc_ms_p50
    );
    // Same parts, so about the same success.
    assert!((b.success_rate - h.success_rate).abs() < 0.1);
}

/// With half the nodes lacking h2tlc and PTLC support, redundant parts route around
/// them: no part ever fails with `required_node_feature_missing`, and payments still
/// settle.
#[test]
fn redundant_parts_avoid_hops_without_lock_support() {
    let t = tempfile::tempdir().unwrap();
    let mut sc = scenario(t.path(), 100);
    sc.network.h2tlc_support_share = 0.5;
    sc.network.ptlc_support_share = 0.5;
    sc.sender.arms = vec![
        "redundant-h2tlc-0.5-retry".into(),
        "redundant-boomerang-0.5-retry".into(),
    ];
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let dir = t.path().join("r");
    let s = exp.run(&dir, 2, &AtomicU64::new(0)).unwrap();
    for a in &s.arms {
        assert!(a.succeeded > 0, "{}", a.name);
    }
    let attempts = {
        let (_, mut r) = flotilla_sim::output::open_attempts(&dir)
            .unwrap()
            .expect("attempts written");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut r, &mut s).unwrap();
        s
    };
    assert!(!attempts.is_empty());
    assert!(
        !attempts.contains("required_node_feature_missing"),
        "a part went through a hop without support"
    );
}

/// The shipped Boomerang scenario, shortened: redundancy completes transfers sooner on
/// average than retry alone (the paper's headline), and nobody is overpaid.
#[test]
fn boomerang_scenario_redundancy_beats_retry_on_mean_time() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/boomerang.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sc = Scenario::from_toml(&text, "boomerang.toml").unwrap();
    let dir = path.parent().unwrap();
    sc.graph.file = dir.join(&sc.graph.file).display().to_string();
    sc.workload.payments = 120;
    sc.sender.arms = vec![
        "redundant-boomerang-0-retry".into(),
        "redundant-boomerang-1-retry".into(),
    ];
    let t = tempfile::tempdir().unwrap();
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let s = exp.run(&t.path().join("r"), 2, &AtomicU64::new(0)).unwrap();
    let (retry, redundant) = (&s.arms[0], &s.arms[1]);
    for a in &s.arms {
        assert_eq!(a.overpaid_msat, 0);
        assert!(a.success_rate > 0.9, "{}: {}", a.name, a.success_rate);
    }
    assert!(
        redundant.ttc_ms_mean < 0.9 * retry.ttc_ms_mean,
        "r = 25: {} ms, retry: {} ms",
        redundant.ttc_ms_mean,
        retry.ttc_ms_mean
    );
}

/// Cheating receivers on the 100-node graph: under the hash locks every extra claim is
/// refused; under boomerang the k + 1st claim hands the sender P(0), the payment fails
/// with `receiver_reject`, and the refund travels back hop by hop, so that nobody keeps
/// more than they are owed and every value is conserved (the run checks both).
#[test]
fn cheating_receivers_are_refused_or_refunded_hop_by_hop() {
    let t = tempfile::tempdir().unwrap();
    let mut sc = scenario(t.path(), 150);
    sc.network.cheating_receiver_share = 0.5;
    sc.sender.arms = vec!["redundant-h2tlc-0.5".into(), "redundant-boomerang-1".into()];
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let s = exp.run(&t.path().join("c"), 2, &AtomicU64::new(0)).unwrap();
    let (h2tlc, boomerang) = (&s.arms[0], &s.arms[1]);
    assert!(h2tlc.overclaim_attempts > 0, "the cheaters tried");
    assert_eq!(h2tlc.boomerang_refunds, 0);
    for a in &s.arms {
        assert_eq!(a.overpaid_msat, 0, "{}", a.name);
    }
    assert!(boomerang.boomerang_refunds > 0, "over-claims were refunded");
    let rejected = boomerang
        .failures
        .get("receiver_reject")
        .copied()
        .unwrap_or(0);
    assert!(rejected > 0, "{:?}", boomerang.failures);
    // Every refunded part went back over each of its hops (at least two each).
    assert!(boomerang.boomerang_refunds >= 2 * rejected);
}
