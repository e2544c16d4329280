//! Whole experiments with the closed-loop workload, quantile amounts and balanced
//! demand on a small synthetic graph: determinism, the closed loop's rule, and
//! malformed scenarios named by their field.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::Scenario;

/// A 100-node Watts–Strogatz graph written as describegraph into `dir`.
fn ws_graph(dir: &Path) -> String {
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    p.display().to_string()
}

fn closed_loop_scenario(graph: &str) -> Scenario {
    let text = format!(
        r#"
[graph]
file = "{graph}"
[workload]
kind = "closed_loop"
payments = 240
[workload.amount]
distribution = "quantiles"
preset = "ripple"
scale = 0.1
[workload.closed_loop]
senders = 12
concurrency = 1
think_ms = 300
think = "exponential"
nodes = []
[sender]
arms = ["single-path-retry", "mpp-retry", "redundant-h2tlc-0.5-retry"]
"#
    );
    Scenario::from_toml(&text, "cl.toml").unwrap()
}

/// One row of payments.csv: (arm, sender, payment index, start µs, outcome known µs).
struct Row {
    arm: String,
    source: String,
    payment: u64,
    start: u64,
    tto: u64,
}

fn rows(dir: &Path) -> Vec<Row> {
    let mut rdr = csv::Reader::from_path(dir.join("payments.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (a, s, p, d, t) = (
        col("arm"),
        col("source"),
        col("payment"),
        col("dispatch_time"),
        col("tto_ms"),
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let micros = |x: &str, scale: f64| (x.parse::<f64>().unwrap() * scale).round() as u64;
            Row {
                arm: r[a].to_string(),
                source: r[s].to_string(),
                payment: r[p].parse().unwrap(),
                start: micros(&r[d], 1e6),
                tto: micros(&r[t], 1e3),
            }
        })
        .collect()
}

#[test]
fn closed_loop_runs_are_byte_identical_whatever_the_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let exp = Experiment::prepare(closed_loop_scenario(&g), Path::new("unused")).unwrap();
    assert_eq!(exp.workload.len(), 240);
    let mut outs = Vec::new();
    for (name, threads) in [("a", 1), ("b", 3)] {
        let dir = t.path().join(name);
        exp.run(&dir, threads, &AtomicU64::new(0)).unwrap();
        outs.push(dir);
    }
    for f in ["payments.csv", "attempts.jsonl.gz"] {
        assert_eq!(
            std::fs::read(outs[0].join(f)).unwrap(),
            std::fs::read(outs[1].join(f)).unwrap(),
            "{f}"
        );
    }
    let json = |d: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("wall_seconds");
        o.remove("payments_per_second");
        v
    };
    assert_eq!(json(&outs[0]), json(&outs[1]));
}

#[test]
fn a_sender_never_has_more_payments_in_flight_than_its_concurrency() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    for (concurrency, think_ms) in [(1u32, 0u64), (3, 50)] {
        let mut sc = closed_loop_scenario(&g);
        sc.workload.closed_loop.concurrency = concurrency;
        sc.workload.closed_loop.think_ms = think_ms;
        sc.workload.closed_loop.think = flotilla_sim::closed_loop::ThinkTime::Constant;
        let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
        let dir = t.path().join(format!("c{concurrency}"));
        exp.run(&dir, 2, &AtomicU64::new(0)).unwrap();
        let rows = rows(&dir);
        assert_eq!(rows.len(), 240 * 3);
        let mut per: HashMap<(String, String), Vec<&Row>> = HashMap::new();
        for r in &rows {
            per.entry((r.arm.clone(), r.source.clone()))
                .or_default()
                .push(r);
        }
        assert_eq!(per.len(), 12 * 3);
        let mut later_starts = 0;
        for ((arm, _), mut v) in per {
            // A sender makes its payments in its sequence's order...
            v.sort_by_key(|r| r.payment);
            assert!(
                v.windows(2).all(|w| w[0].start <= w[1].start),
                "{arm}: out of order"
            );
            // ... the first `concurrency` at once ...
            let c = concurrency as usize;
            assert!(v[..c].iter().all(|r| r.start == 0), "{arm}");
            // ... and never more than `concurrency` undecided at once.
            for r in &v {
                let in_flight = v
                    .iter()
                    .filter(|o| o.start <= r.start && r.start < o.start + o.tto)
                    .count();
                assert!(
                    in_flight <= c,
                    "{arm}: {in_flight} in flight at {}",
                    r.start
                );
            }
            if concurrency == 1 {
                // One at a time: each next start is exactly the previous outcome
                // plus the pause.
                for w in v.windows(2) {
                    let due = w[0].start + w[0].tto + think_ms * 1000;
                    assert!(
                        w[1].start.abs_diff(due) <= 1,
                        "{arm}: {w:?}",
                        w = (w[0].start, w[0].tto, w[1].start)
                    );
                }
            }
            later_starts += v.iter().filter(|r| r.start > 0).count();
        }
        assert!(later_starts > 0);
    }
}

#[test]
fn balanced_demand_and_quantile_amounts_run_end_to_end() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let text = format!(
        r#"
[graph]
file = "{g}"
[workload]
payments = 300
demand = "balanced"
[workload.balanced]
max_cycle = 3
window = 10
[workload.amount]
distribution = "quantiles"
points = [{{ q = 0.1, sat = 1000 }}, {{ q = 0.5, sat = 20000 }}, {{ q = 0.9, sat = 200000 }}]
tails = "clamp"
[sender]
arms = ["mpp-retry"]
"#
    );
    let sc = Scenario::from_toml(&text, "b.toml").unwrap();
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    let amounts: Vec<u64> = exp.workload.iter().map(|p| p.amount_msat).collect();
    assert!(amounts
        .iter()
        .all(|&a| (1_000_000..=200_000_000).contains(&a)));
    let s = exp.run(&t.path().join("o"), 1, &AtomicU64::new(0)).unwrap();
    assert_eq!(s.arms[0].payments, 300);
}

#[test]
fn malformed_workload_sections_name_the_field() {
    let cases = [
        (
            "[workload]\nkind = \"closed_loop\"\n[workload.closed_loop]\nconcurrency = 0\n",
            "`workload.closed_loop.concurrency`",
        ),
        (
            "[workload]\nkind = \"closed_loop\"\n[workload.closed_loop]\nthink = \"gamma\"\n",
            "line 4, column 9: unknown variant `gamma`",
        ),
        (
            "[workload]\nkind = \"closed_loop\"\npayments = 10\n",
            "`workload.payments`",
        ),
        (
            "[workload]\nkind = \"closed_loop\"\n[[workload.closed_loop.nodes]]\nnode = \"x\"\nconcurrency = 0\n",
            "`workload.closed_loop.nodes[0].concurrency`",
        ),
        (
            "[workload]\nkind = \"closed_loop\"\n[network]\nbackground_per_sec = 1.0\n",
            "`network.background_per_sec`",
        ),
        (
            "[workload.amount]\ndistribution = \"quantiles\"\npreset = \"ripple\"\nscale = -1.0\n",
            "`workload.amount.scale`",
        ),
        (
            "[workload.amount]\ndistribution = \"quantiles\"\npoints = [{ q = 0.2, sat = 10 }, { q = 0.1, sat = 20 }]\n",
            "`workload.amount.points[1].q`",
        ),
        (
            "[workload.amount]\ndistribution = \"quantiles\"\npoints = [{ q = 0.2, sat = 10 }, { q = 0.5, sat = 3000000000000000 }]\n",
            "`workload.amount.points[1].sat`",
        ),
        (
            "[workload.amount]\ndistribution = \"quantiles\"\npoints = [{ q = 0.2, amount = 10 }]\n",
            "unknown field `amount`",
        ),
        (
            "[workload]\ndemand = \"balanced\"\n[workload.balanced]\nmax_cycle = 1\n",
            "`workload.balanced.max_cycle`",
        ),
        (
            "[workload]\nkind = \"csv\"\nfile = \"x.csv\"\ndemand = \"balanced\"\n",
            "`workload.demand`",
        ),
    ];
    for (text, key) in cases {
        let e = Scenario::from_toml(text, "s.toml").unwrap_err().to_string();
        assert!(e.starts_with("s.toml: ") && e.contains(key), "{text}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn closed_loop_sequences_from_a_file_keep_their_order() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let f = t.path().join("seq.csv");
    std::fs::write(
        &f,
        "source,destination,amount_msat\nws-1,ws-40,5000000\nws-2,ws-50,7000000\nws-1,ws-60,9000000\n",
    )
    .unwrap();
    let mut sc = Scenario::default();
    sc.graph.file = g;
    sc.workload.kind = flotilla_sim::scenario::WorkloadKind::ClosedLoop;
    sc.workload.file = f.display().to_string();
    sc.sender.arms = vec!["mpp-retry".into()];
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    assert_eq!(exp.workload.len(), 3);
    assert_eq!(exp.workload[2].amount_msat, 9_000_000);
    let dir = t.path().join("o");
    exp.run(&dir, 1, &AtomicU64::new(0)).unwrap();
    let rows = rows(&dir);
    let third = rows.iter().find(|r| r.payment == 2).unwrap();
    let first = rows.iter().find(|r| r.payment == 0).unwrap();
    assert_eq!(third.start, first.start + first.tto);
    // A bad row is named by its line and column.
    std::fs::write(&f, "source,destination,amount_msat\nws-1,nobody,5\n").unwrap();
    let e = Experiment::prepare(exp.scenario.clone(), Path::new("unused"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("seq.csv: line 2, field `destination`"), "{e}");
}
