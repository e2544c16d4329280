//! Whole experiments on small synthetic graphs: outputs, determinism, bad input.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::output::INCOMPLETE_MARKER;
use flotilla_sim::scenario::Scenario;

/// A 100-node Watts–Strogatz graph written as describegraph into `dir`.
fn ws_graph(dir: &Path) -> String {
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    p.display().to_string()
}

fn scenario(graph: &str, payments: u64) -> Scenario {
    let mut s = Scenario::default();
    s.graph.file = graph.to_string();
    s.workload.payments = payments;
    s.workload.amount = flotilla_sim::scenario::AmountDistribution::LogUniform {
        min_sat: 1_000,
        max_sat: 300_000,
    };
    s.sender.arms = vec![
        "single-path-retry".into(),
        "mpp-retry".into(),
        "single-path-retry-ldk".into(),
    ];
    s
}

fn strip_wall(v: &mut serde_json::Value) {
    let o = v.as_object_mut().unwrap();
    o.remove("wall_seconds");
    o.remove("payments_per_second");
}

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let sc = scenario(&g, 300);
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let mut outs = Vec::new();
    for (name, threads) in [("a", 1), ("b", 3)] {
        let dir = t.path().join(name);
        exp.run(&dir, threads, &AtomicU64::new(0)).unwrap();
        assert!(!dir.join(INCOMPLETE_MARKER).exists());
        outs.push(dir);
    }
    for f in ["payments.csv", "attempts.jsonl.gz"] {
        assert_eq!(
            std::fs::read(outs[0].join(f)).unwrap(),
            std::fs::read(outs[1].join(f)).unwrap(),
            "{f}"
        );
    }
    let mut a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outs[0].join("summary.json")).unwrap()).unwrap();
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(outs[1].join("summary.json")).unwrap()).unwrap();
    strip_wall(&mut a);
    strip_wall(&mut b);
    assert_eq!(a, b);
}

#[test]
fn outputs_have_one_row_per_payment_and_arm_and_sensible_numbers() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let exp = Experiment::prepare(scenario(&g, 200), Path::new("unused")).unwrap();
    let dir = t.path().join("out");
    let s = exp.run(&dir, 2, &AtomicU64::new(0)).unwrap();
    let csv = std::fs::read_to_string(dir.join("payments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 200 * 3);
    assert!(csv.starts_with(
        "source,destination,amount_msat,hash,dispatch_time,htlc_count,payment_outcome,arm,"
    ));
    assert_eq!(s.arms.len(), 3);
    for a in &s.arms {
        assert_eq!(a.payments, 200);
        // A well-connected 100-node graph with 200k–2M sat channels: most small
        // payments go through.
        assert!(a.success_rate > 0.5, "{}: {}", a.name, a.success_rate);
        assert!(a.success_ci95[0] <= a.success_rate && a.success_rate <= a.success_ci95[1]);
        assert!(
            a.ttc_ms_p50 >= 100.0,
            "two message legs of ≥ 50 ms: {}",
            a.ttc_ms_p50
        );
        assert!(a.ttc_ms_p50 <= a.ttc_ms_p99);
        let failed: u64 = a.failures.values().sum();
        assert_eq!(failed + a.succeeded, a.payments);
    }
    let attempts = {
        let (_, mut r) = flotilla_sim::output::open_attempts(&dir)
            .unwrap()
            .expect("attempts written");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut r, &mut s).unwrap();
        s
    };
    let first: serde_json::Value = serde_json::from_str(attempts.lines().next().unwrap()).unwrap();
    for k in [
        "arm",
        "payment",
        "hops",
        "outcome",
        "sent_ms",
        "resolved_ms",
        "failure_code",
        "failed_hop",
    ] {
        assert!(first.get(k).is_some(), "{k}");
    }
}

#[test]
fn bad_scenarios_are_named_and_leave_no_half_written_directory() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let mut s = scenario(&g, 10);
    s.sender.arms = vec!["teleport".into()];
    let e = Experiment::prepare(s, Path::new("unused"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("sender.arms") && e.contains("teleport"), "{e}");

    let mut s = scenario(&g, 10);
    s.graph.liquidity = "lopsided".into();
    let e = Experiment::prepare(s, Path::new("unused"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("graph.liquidity") && e.contains("lopsided"),
        "{e}"
    );

    let mut s = scenario(&g, 10);
    s.graph.file = t.path().join("missing.json").display().to_string();
    let e = Experiment::prepare(s, Path::new("unused"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("missing.json"), "{e}");
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".sweep.toml") {
            // A sweep file: every point of its grid is a scenario, checked on load.
            flotilla_sim::sweep::Sweep::load(&p, &[]).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        } else if p.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&p).unwrap();
            Scenario::from_toml(&text, &p.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 3);
}

#[test]
fn policy_overrides_reach_forwarding_and_routing() {
    use flotilla_sim::scenario::PolicyOverrideConfig;
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let mut s = scenario(&g, 100);
    s.network.overrides = (0..100)
        .map(|i| PolicyOverrideConfig {
            node: format!("ws-{i}"),
            fee_base_msat: Some(0),
            fee_rate_ppm: Some(0),
            cltv_expiry_delta: None,
            htlc_minimum_msat: None,
            channel: Default::default(),
        })
        .collect();
    let exp = Experiment::prepare(s, Path::new("unused")).unwrap();
    let r = exp
        .run(&t.path().join("zero"), 2, &AtomicU64::new(0))
        .unwrap();
    for a in &r.arms {
        assert!(a.succeeded > 0, "{}", a.name);
        assert_eq!(a.fees_msat, 0, "{}: every node forwards for free", a.name);
    }
    let mut s = scenario(&g, 10);
    s.network.overrides = vec![PolicyOverrideConfig {
        node: "nobody".into(),
        fee_base_msat: Some(0),
        fee_rate_ppm: None,
        cltv_expiry_delta: None,
        htlc_minimum_msat: None,
        channel: Default::default(),
    }];
    let e = Experiment::prepare(s, Path::new("unused"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("network.overrides[0].node") && e.contains("nobody"),
        "{e}"
    );
}

#[test]
fn background_traffic_moves_liquidity_but_is_not_reported() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let quiet = scenario(&g, 200);
    let mut busy = quiet.clone();
    busy.network.background_per_sec = 40.0;
    let a = Experiment::prepare(quiet, Path::new("unused")).unwrap();
    let b = Experiment::prepare(busy, Path::new("unused")).unwrap();
    assert!(a.background.is_empty());
    // 200 payments at 10/s last about 20 s: about 800 background payments.
    assert!(
        (500..1200).contains(&b.background.len()),
        "{}",
        b.background.len()
    );
    assert_eq!(
        a.workload, b.workload,
        "background draws do not disturb the workload"
    );
    let ra = a.run(&t.path().join("a"), 2, &AtomicU64::new(0)).unwrap();
    let rb = b.run(&t.path().join("b"), 2, &AtomicU64::new(0)).unwrap();
    let rb2 = b.run(&t.path().join("b2"), 1, &AtomicU64::new(0)).unwrap();
    let rows = |d: &str| std::fs::read_to_string(t.path().join(d).join("payments.csv")).unwrap();
    assert_eq!(
        rows("b").lines().count(),
        1 + 200 * 3,
        "background payments have no rows"
    );
    assert_eq!(rows("b"), rows("b2"));
    assert_eq!(rb.arms[0].payments, 200);
    // The same payments meet other balances: the outcomes change.
    assert_ne!(rows("a"), rows("b"));
    let _ = (ra, rb2);
}

#[test]
fn warm_up_trains_each_arm_before_the_measured_payments() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let cold = scenario(&g, 150);
    let mut warm = cold.clone();
    warm.sender.warmup_payments = 300;
    let c = Experiment::prepare(cold, Path::new("unused")).unwrap();
    let w = Experiment::prepare(warm, Path::new("unused")).unwrap();
    assert!(c.warmup.is_empty());
    assert_eq!(w.warmup.len(), 300);
    // The measured payments are the same, shifted after the warm-up.
    let shift = w.warmup.last().unwrap().start.micros() + 1;
    for (a, b) in c.workload.iter().zip(&w.workload) {
        assert_eq!(
            (a.source, a.destination, a.amount_msat),
            (b.source, b.destination, b.amount_msat)
        );
        assert_eq!(b.start.micros(), a.start.micros() + shift);
    }
    let rc = c
        .run(&t.path().join("cold"), 2, &AtomicU64::new(0))
        .unwrap();
    let rw = w
        .run(&t.path().join("warm"), 2, &AtomicU64::new(0))
        .unwrap();
    let rw2 = w
        .run(&t.path().join("warm2"), 1, &AtomicU64::new(0))
        .unwrap();
    let rows = |d: &str| std::fs::read_to_string(t.path().join(d).join("payments.csv")).unwrap();
    assert_eq!(
        rows("warm").lines().count(),
        1 + 150 * 3,
        "warm-up payments have no rows"
    );
    assert_eq!(rows("warm"), rows("warm2"));
    assert_eq!(rw.arms[0].payments, 150);
    assert_ne!(rows("cold"), rows("warm"));
    let _ = (rc, rw2);
}
