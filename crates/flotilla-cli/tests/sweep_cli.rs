//! `flotilla sweep`, `flotilla merge` and `flotilla sim --set`, end to end.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::{flotilla, ws};

/// A small sweep over the generated graph: 2 × 2 points × 2 seeds = 8 runs.
fn write_sweep(dir: &Path) -> PathBuf {
    let graph = ws(dir);
    fs::write(
        dir.join("base.toml"),
        format!(
            "name = \"small\"\n[graph]\nfile = \"{graph}\"\n[workload]\npayments = 25\n\
             arrivals_per_sec = 20.0\n[workload.amount]\ndistribution = \"uniform\"\n\
             min_sat = 20000\nmax_sat = 300000\n[sender]\narms = [\"single-path-retry\", \"mpp-retry\"]\n"
        ),
    )
    .unwrap();
    let sweep = dir.join("small.sweep.toml");
    fs::write(
        &sweep,
        "scenario = \"base.toml\"\nseeds = [3, 5]\n[grid]\nworkload.arrivals_per_sec = [10, 80]\n\
         [grid.sender]\nmax_parts = [2, 8]\n",
    )
    .unwrap();
    sweep
}

fn ok(args: &[&str]) -> String {
    let out = flotilla(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fail(args: &[&str]) -> String {
    let out = flotilla(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

/// Every file under `dir` (relative path → bytes), `run.json` (the command as typed)
/// left out and summary.json without its wall-clock fields.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == "run.json" {
                continue;
            }
            let mut bytes = fs::read(&p).unwrap();
            if name == "summary.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let m = v.as_object_mut().unwrap();
                m.remove("wall_seconds");
                m.remove("payments_per_second");
                bytes = serde_json::to_vec(&v).unwrap();
            }
            out.insert(rel, bytes);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn whole_and_three_merged_shards_give_the_same_bytes() {
    let t = tempfile::tempdir().unwrap();
    let sweep = write_sweep(t.path());
    let s = sweep.to_str().unwrap();
    let whole = t.path().join("whole");
    ok(&[
        "sweep",
        s,
        "--out",
        whole.to_str().unwrap(),
        "--jobs",
        "3",
        "--quiet",
    ]);
    let mut shards = Vec::new();
    for i in 1..=3 {
        let d = t.path().join(format!("shard-{i}"));
        ok(&[
            "sweep",
            s,
            "--out",
            d.to_str().unwrap(),
            "--shard",
            &format!("{i}/3"),
            "--jobs",
            "1",
            "--quiet",
        ]);
        shards.push(d.to_str().unwrap().to_string());
    }
    // Each shard holds only its runs.
    let counts: Vec<usize> = shards
        .iter()
        .map(|d| fs::read_dir(Path::new(d).join("runs")).unwrap().count())
        .collect();
    assert_eq!(counts, [3, 3, 2]);
    let merged = t.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap(), "--quiet"]);
    ok(&args);

    let (a, b) = (tree(&whole), tree(&merged));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{k} differs between the whole sweep and the merge"
        );
    }
    for f in ["sweep.csv", "aggregates.csv", "report.html", "sweep.json"] {
        assert!(a.contains_key(f), "{f} missing");
    }
    assert_eq!(
        a.keys().filter(|k| k.ends_with("payments.csv")).count(),
        8,
        "one run per point × seed"
    );

    // One row per point × seed × arm, parameters and figures as columns.
    let csv = String::from_utf8(a["sweep.csv"].clone()).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..5],
        [
            "point",
            "seed",
            "arm",
            "sender.max_parts",
            "workload.arrivals_per_sec"
        ]
    );
    for col in [
        "success_rate",
        "ttc_ms_p99",
        "failures.no_route",
        "run.payments",
    ] {
        assert!(header.contains(&col), "{col} in {header:?}");
    }
    assert!(!header
        .iter()
        .any(|h| h.contains("wall") || h.contains("payments_per_second")));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4 * 2 * 2);
    assert!(
        rows[0].starts_with("0,3,single-path-retry,2,10,"),
        "{}",
        rows[0]
    );
    assert!(rows[15].starts_with("3,5,mpp-retry,8,80,"), "{}", rows[15]);

    // The aggregates agree with the rows: the mean of success_rate over the two seeds.
    let col = header.iter().position(|h| *h == "success_rate").unwrap();
    let rate = |i: usize| -> f64 { rows[i].split(',').nth(col).unwrap().parse().unwrap() };
    // point 0, mpp-retry: rows 1 (seed 3) and 3 (seed 5).
    let want = (rate(1) + rate(3)) / 2.0;
    let agg = String::from_utf8(a["aggregates.csv"].clone()).unwrap();
    let line = agg
        .lines()
        .find(|l| l.starts_with("0,mpp-retry,2,10,success_rate,"))
        .expect("an aggregate row");
    let f: Vec<&str> = line.split(',').collect();
    assert_eq!(f[5], "2");
    assert!(
        (f[6].parse::<f64>().unwrap() - want).abs() < 1e-12,
        "{line}"
    );
    let (lo, hi): (f64, f64) = (f[8].parse().unwrap(), f[9].parse().unwrap());
    assert!(lo <= want && want <= hi, "{line}");

    let html = String::from_utf8(a["report.html"].clone()).unwrap();
    assert!(html.contains("Against <code>workload.arrivals_per_sec</code>"));
    assert!(html.contains("success_rate by sender.max_parts"));
}

#[test]
fn resume_reruns_only_what_did_not_finish() {
    let t = tempfile::tempdir().unwrap();
    let sweep = write_sweep(t.path());
    let s = sweep.to_str().unwrap();
    let out = t.path().join("out");
    let o = out.to_str().unwrap();
    ok(&["sweep", s, "--out", o, "--quiet"]);
    let before = tree(&out);
    // An interrupted run: its marker is back and its summary is gone.
    let run = out.join("runs/p0002-s5");
    fs::remove_file(run.join("summary.json")).unwrap();
    fs::write(run.join("INCOMPLETE"), "interrupted\n").unwrap();
    let err = fail(&["sweep", s, "--out", o]);
    assert!(err.contains("--resume"), "{err}");
    let log = ok(&["sweep", s, "--out", o, "--resume"]);
    let skipped = log
        .lines()
        .filter(|l| l.starts_with('[') && l.ends_with("complete already"))
        .count();
    assert_eq!(skipped, 7, "{log}");
    assert!(log.contains("8 runs, 7 complete already"), "{log}");
    assert!(
        log.contains("p0002-s5 sender.max_parts=8, workload.arrivals_per_sec=10"),
        "{log}"
    );
    assert_eq!(before, tree(&out));
    // Another sweep cannot resume into it.
    let other = t.path().join("other.sweep.toml");
    fs::write(
        &other,
        "scenario = \"base.toml\"\nseeds = 1\n[grid]\nworkload.arrivals_per_sec = [10]\n",
    )
    .unwrap();
    let err = fail(&["sweep", other.to_str().unwrap(), "--out", o, "--resume"]);
    assert!(err.contains("different sweep"), "{err}");
}

#[test]
fn bad_sweeps_name_the_key_before_anything_runs() {
    let t = tempfile::tempdir().unwrap();
    write_sweep(t.path());
    let out = t.path().join("never");
    let cases = [
        ("workload.payment = [1, 2]", "grid.workload.payment"),
        ("sender.max_parts = [1, \"two\"]", "grid.sender.max_parts"),
        (
            "sender.arms = [[\"mpp-retry\"], [\"warp\"]]",
            "grid.sender.arms",
        ),
        ("network.hodl_share = [0.5, 1.5]", "grid.network.hodl_share"),
        ("seed = [1, 2]", "grid.seed"),
    ];
    for (grid, key) in cases {
        let f = t.path().join("bad.sweep.toml");
        fs::write(&f, format!("scenario = \"base.toml\"\n[grid]\n{grid}\n")).unwrap();
        let err = fail(&["sweep", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(err.contains(&format!("`{key}`")), "{grid}: {err}");
        assert!(!out.exists(), "{grid}: nothing may run");
    }
    let f = t.path().join("bad.sweep.toml");
    fs::write(&f, "scenario = \"base.toml\"\n").unwrap();
    // Flags are checked by the argument parser (its usage hint follows the error).
    let out = flotilla(&["sweep", f.to_str().unwrap(), "--out", "x", "--shard", "4/3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.starts_with("error:") && err.contains("--shard"),
        "{err}"
    );
}

#[test]
fn merge_refuses_missing_runs_and_foreign_sweeps() {
    let t = tempfile::tempdir().unwrap();
    let sweep = write_sweep(t.path());
    let s = sweep.to_str().unwrap();
    let one = t.path().join("one");
    ok(&[
        "sweep",
        s,
        "--out",
        one.to_str().unwrap(),
        "--shard",
        "1/3",
        "--quiet",
    ]);
    let merged = t.path().join("merged");
    let err = fail(&[
        "merge",
        one.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(err.contains("5 of 8 runs are missing"), "{err}");
    assert!(err.contains("p0000-s5"), "{err}");

    let other = t.path().join("other.sweep.toml");
    fs::write(&other, "scenario = \"base.toml\"\nseeds = [3, 5]\n[grid]\nworkload.arrivals_per_sec = [10, 80]\n[grid.sender]\nmax_parts = [2, 9]\n").unwrap();
    let two = t.path().join("two");
    ok(&[
        "sweep",
        other.to_str().unwrap(),
        "--out",
        two.to_str().unwrap(),
        "--shard",
        "2/3",
        "--quiet",
    ]);
    let err = fail(&[
        "merge",
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(err.contains("a different sweep"), "{err}");
}

#[test]
fn sim_set_changes_any_key_and_names_a_bad_one() {
    let t = tempfile::tempdir().unwrap();
    let graph = ws(t.path());
    let out = t.path().join("run");
    ok(&[
        "sim",
        "--graph",
        &graph,
        "--set",
        "workload.payments=12",
        "--set",
        "sender.arms=[\"mpp-retry\"]",
        "--set",
        "graph.liquidity=half",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--no-report",
    ]);
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["payments"], 12);
    assert_eq!(summary["arms"].as_array().unwrap().len(), 1);
    assert_eq!(summary["scenario_config"]["graph"]["liquidity"], "half");

    let err = fail(&["sim", "--graph", &graph, "--set", "workload.payment=12"]);
    assert!(
        err.contains("`workload.payment`") && err.contains("unknown field"),
        "{err}"
    );
    let err = fail(&["sim", "--graph", &graph, "--set", "sender.max_parts=many"]);
    assert!(
        err.contains("--set sender.max_parts") && err.contains("invalid type"),
        "{err}"
    );
    let err = fail(&["sim", "--graph", &graph, "--set", "network.hodl_share=2"]);
    assert!(err.contains("`network.hodl_share`"), "{err}");
    let out = flotilla(&["sim", "--graph", &graph, "--set", "nokey"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.starts_with("error:") && err.contains("KEY=VALUE"),
        "{err}"
    );
}
