//! Redundant arms next to MPP with retry on the 100-node Watts–Strogatz graph: nobody
//! is ever overpaid, redundant payments settle, outputs are complete and deterministic.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::Scenario;

const ARMS: [&str; 3] = [
    "mpp-retry",
    "redundant-sender_hash-0.5",
    "redundant-h2tlc-0.5",
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
    assert_eq!(s.arms.len(), 3);
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
            // Every payment that reached A cost a claim request and a reveal.
            assert!(a.extra_messages >= 2 * a.succeeded, "{}", a.name);
            // The extra round trip: at least four legs of ≥ 50 ms.
            assert!(a.ttc_ms_p50 >= 200.0, "{}: {}", a.name, a.ttc_ms_p50);
        } else {
            assert_eq!(a.extra_messages, 0);
        }
    }
    let csv = std::fs::read_to_string(dirs[0].join("payments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 200 * 3);
    for arm in ARMS {
        let rows = csv
            .lines()
            .filter(|l| l.split(',').nth(7) == Some(arm))
            .count();
        assert_eq!(rows, 200, "{arm}");
    }
    for f in ["payments.csv", "attempts.jsonl"] {
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
        ] {
            assert!(a.get(k).is_some(), "{k}");
        }
    }
}
