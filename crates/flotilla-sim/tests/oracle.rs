//! The oracle and busy-time throughput in whole runs: present, consistent with the
//! arms' own figures, and without any effect on the simulation.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::{Experiment, RunSummary};
use flotilla_sim::scenario::{AmountDistribution, Scenario};

fn ws_graph(dir: &Path) -> String {
    let (g, _) = WattsStrogatz::default().generate(11).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    p.display().to_string()
}

fn scenario(graph: &str, max_sat: u64) -> Scenario {
    let mut s = Scenario::default();
    s.graph.file = graph.to_string();
    s.workload.payments = 300;
    s.workload.arrivals_per_sec = 20.0;
    s.workload.amount = AmountDistribution::LogUniform {
        min_sat: 1_000,
        max_sat,
    };
    s.sender.arms = vec![
        "single-path-retry".into(),
        "mpp-retry".into(),
        "redundant-h2tlc-0.5-retry".into(),
    ];
    s
}

fn run(sc: Scenario, dir: &Path) -> RunSummary {
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    exp.run(dir, 2, &AtomicU64::new(0)).unwrap()
}

#[test]
fn figures_are_consistent_with_the_arms_outcomes() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    // Amounts up to the channels' size, so that some payments are infeasible.
    let s = run(scenario(&g, 2_000_000), &t.path().join("out"));
    let any = s.feasible_share.expect("the oracle is on by default");
    assert!(any > 0.2 && any < 1.0, "feasible somewhere: {any}");
    for a in &s.arms {
        let o = &a.oracle;
        let feasible = o.feasible_payments.unwrap();
        assert!(feasible <= a.payments);
        assert!(o.feasible_share.unwrap() <= any + 1e-12, "{}", a.name);
        // Every settled payment was feasible at its start, or settled anyway.
        let infeasible_ok = o.succeeded_infeasible.unwrap();
        let rate = o.success_rate_feasible.unwrap();
        let feasible_ok = (rate * feasible as f64).round() as u64;
        assert_eq!(feasible_ok + infeasible_ok, a.succeeded, "{}", a.name);
        // The oracle is optimistic about liquidity: only a few settle what it refused.
        assert!(
            (infeasible_ok as f64) < 0.05 * a.succeeded as f64,
            "{}: {infeasible_ok} of {}",
            a.name,
            a.succeeded
        );
        // No sender beats the oracle by much: it uses expected latencies, and a real
        // path's messages draw 50–150 ms each.
        let mean = o.ttc_mean_vs_oracle.unwrap();
        let p99 = o.ttc_p99_vs_oracle.unwrap();
        assert!(mean > 0.8 && mean < 50.0, "{}: {mean}", a.name);
        assert!(p99 > 0.6 && p99 < 100.0, "{}: {p99}", a.name);
        // Oracle times are 2 × hops × 100 ms.
        let oracle_ms = o.oracle_ttc_ms_mean.unwrap();
        assert!(oracle_ms >= 200.0, "{oracle_ms}");
        // Busy time covers at least every payment's time to outcome (it also waits for
        // surplus parts), and busy throughput is settled volume over it.
        let tto_total = a.tto_ms_mean * a.payments as f64 / 1000.0;
        assert!(a.busy_seconds >= tto_total * (1.0 - 1e-9), "{}", a.name);
        let busy = a.throughput_busy_sat_per_sec.unwrap();
        let expect = a.succeeded_msat as f64 / 1000.0 / a.busy_seconds;
        assert!((busy - expect).abs() <= 1e-9 * expect, "{}", a.name);
    }
    // Surplus parts keep a redundant payment busy after its outcome is known.
    let r = s
        .arms
        .iter()
        .find(|a| a.name.starts_with("redundant"))
        .unwrap();
    assert!(r.busy_seconds > r.tto_ms_mean * r.payments as f64 / 1000.0);
}

#[test]
fn the_oracle_does_not_touch_the_simulation_and_switches_off() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let on = run(scenario(&g, 500_000), &t.path().join("on"));
    let mut sc = scenario(&g, 500_000);
    sc.oracle.enabled = false;
    let off = run(sc, &t.path().join("off"));
    assert_eq!(
        std::fs::read(t.path().join("on/payments.csv")).unwrap(),
        std::fs::read(t.path().join("off/payments.csv")).unwrap()
    );
    assert_eq!(off.feasible_share, None);
    for (a, b) in on.arms.iter().zip(&off.arms) {
        assert_eq!(b.oracle, Default::default());
        assert_eq!(a.succeeded, b.succeeded);
        assert_eq!(a.busy_seconds, b.busy_seconds);
        assert!(a.oracle.feasible_payments.is_some());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("off/summary.json")).unwrap()).unwrap();
    assert!(json["feasible_share"].is_null());
    assert!(json["arms"][0]["success_rate_feasible"].is_null());
    assert!(json["arms"][0]["throughput_busy_sat_per_sec"].is_number());
}

#[test]
fn an_amount_beyond_every_channel_is_never_feasible() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let mut sc = scenario(&g, 0);
    // Watts–Strogatz channels hold at most 2,000,000 sat and nodes have a handful.
    sc.workload.amount = AmountDistribution::Constant {
        value_sat: 100_000_000,
    };
    sc.workload.payments = 20;
    let s = run(sc, &t.path().join("out"));
    assert_eq!(s.feasible_share, Some(0.0));
    for a in &s.arms {
        assert_eq!(a.succeeded, 0);
        assert_eq!(a.oracle.feasible_payments, Some(0));
        assert_eq!(a.oracle.success_rate_feasible, None);
        assert_eq!(a.oracle.ttc_mean_vs_oracle, None);
    }
}
