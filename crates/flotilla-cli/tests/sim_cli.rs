//! `flotilla sim` end to end on a small generated graph: table, JSON, outputs, errors.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::*;

/// `flotilla args` run in `dir` with extra environment.
fn flotilla_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flotilla"));
    c.current_dir(dir)
        .args(args)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("FLOTILLA_PROGRESS_SECS")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn one_error_line(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in {err}");
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn sim_prints_a_table_and_writes_the_results() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let out = t.path().join("run");
    let o = flotilla(&[
        "sim",
        "--graph",
        &g,
        "--payments",
        "150",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains("single-path-retry") && stdout.contains("mpp-retry"),
        "{stdout}"
    );
    assert!(
        stdout.contains("95% CI") && stdout.contains("TTC mean ms") && stdout.contains("p99"),
        "{stdout}"
    );
    // The default run includes a redundant arm, with the redundancy table.
    assert!(
        stdout.contains("redundant-h2tlc-split-1-hedge-retry") && stdout.contains("liq ×MPP"),
        "{stdout}"
    );
    for f in ["payments.csv", "attempts.jsonl.gz", "summary.json"] {
        assert!(out.join(f).exists(), "{f}");
    }
    assert!(!out.join("INCOMPLETE").exists());
    // Each arm against the baseline (the first MPP arm), with the summary's numbers.
    assert!(
        stdout.contains("vs baseline mpp-retry") && stdout.contains("McNemar p"),
        "{stdout}"
    );
    // Both throughputs and the oracle, on by default.
    assert!(
        stdout.contains("throughput and the oracle:") && stdout.contains("sat/s (busy)"),
        "{stdout}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for a in v["arms"].as_array().unwrap() {
        let vs = &a["vs_baseline"];
        if a["name"] == "mpp-retry" {
            assert!(vs.is_null());
            continue;
        }
        for k in [
            "baseline",
            "success_diff",
            "success_diff_ci",
            "mcnemar_p",
            "ttc_mean_diff_ms_ci",
            "ttc_p99_diff_ms_ci",
        ] {
            assert!(vs.get(k).is_some(), "{}: {k}", a["name"]);
        }
        assert_eq!(vs["baseline"], "mpp-retry");
        let d = vs["success_diff"].as_f64().unwrap();
        let ci = vs["success_diff_ci"].as_array().unwrap();
        assert!(ci[0].as_f64().unwrap() <= d && d <= ci[1].as_f64().unwrap());
        let row = stdout
            .lines()
            .skip_while(|l| !l.starts_with("vs baseline"))
            .find(|l| l.starts_with(a["name"].as_str().unwrap()))
            .expect("a row per compared arm");
        assert!(row.contains(&format!("{:+.1} pp", d * 100.0)), "{row}");
    }
}

#[test]
fn attempts_are_written_compressed_plain_or_not_at_all() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let mut lines = Vec::new();
    for (form, file) in [
        ("gz", Some("attempts.jsonl.gz")),
        ("full", Some("attempts.jsonl")),
        ("off", None),
    ] {
        let out = t.path().join(form);
        let o = flotilla(&[
            "sim",
            "--graph",
            &g,
            "--payments",
            "60",
            "--attempts",
            form,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(v["attempts_file"].as_str(), file, "{form}");
        for other in ["attempts.jsonl.gz", "attempts.jsonl"] {
            assert_eq!(
                out.join(other).exists(),
                file == Some(other),
                "{form}: {other}"
            );
        }
        // The report reads each form (and checks the rows against payments.csv).
        assert!(out.join("report.html").exists(), "{form}");
        let o = flotilla(&["report", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        if let Some(f) = file {
            let bytes = std::fs::read(out.join(f)).unwrap();
            let text = if f.ends_with(".gz") {
                let mut s = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::MultiGzDecoder::new(bytes.as_slice()),
                    &mut s,
                )
                .unwrap();
                s
            } else {
                String::from_utf8(bytes).unwrap()
            };
            lines.push(text);
        }
        // The outputs other than the attempts do not depend on the form.
        let csv = std::fs::read(out.join("payments.csv")).unwrap();
        let first = t.path().join("gz").join("payments.csv");
        assert_eq!(csv, std::fs::read(first).unwrap(), "{form}");
    }
    assert!(!lines[0].is_empty());
    assert_eq!(lines[0], lines[1], "gz and full hold the same lines");
    let o = flotilla(&["sim", "--attempts", "zip", "--payments", "5"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("off, gz, full"));
}

#[test]
fn a_baseline_that_is_not_an_arm_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let p = t.path().join("s.toml");
    std::fs::write(
        &p,
        "[sender]\narms = [\"mpp-retry\", \"single-path-retry\"]\nbaseline = \"mpp\"\n",
    )
    .unwrap();
    let o = flotilla(&["sim", p.to_str().unwrap(), "--graph", &g, "--payments", "5"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("sender.baseline") && err.contains("\"mpp\" is not one of sender.arms"),
        "{err}"
    );
    // A named baseline is used.
    std::fs::write(
        &p,
        "[sender]\narms = [\"mpp-retry\", \"single-path-retry\"]\nbaseline = \"single-path-retry\"\n",
    )
    .unwrap();
    let o = flotilla(&[
        "sim",
        p.to_str().unwrap(),
        "--graph",
        &g,
        "--payments",
        "30",
        "--json",
        "--out",
        t.path().join("r").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["arms"][0]["vs_baseline"]["baseline"], "single-path-retry");
    assert!(v["arms"][1]["vs_baseline"].is_null());
}

#[test]
fn sim_json_has_the_documented_keys() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let out = t.path().join("run");
    let o = flotilla(&[
        "sim",
        "--graph",
        &g,
        "--payments",
        "50",
        "--arms",
        "mpp-retry",
        "--seed",
        "9",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "scenario",
        "seed",
        "graph",
        "wall_seconds",
        "payments_per_second",
        "arms",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    assert_eq!(v["seed"], 9);
    let arm = &v["arms"][0];
    for k in [
        "name",
        "payments",
        "succeeded",
        "success_rate",
        "success_ci95",
        "attempts_mean",
        "ttc_ms_mean",
        "ttc_ms_p50",
        "ttc_ms_p99",
        "fee_ppm_mean",
        "liquidity_seconds_mean",
        "failures",
    ] {
        assert!(arm.get(k).is_some(), "{k}");
    }
    assert_eq!(arm["name"], "mpp-retry");
    assert_eq!(arm["payments"], 50);
    assert_eq!(v["results"], out.to_str().unwrap());
    // The file is an artifact: no wall time in it (run.json has it).
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert!(file.get("wall_seconds").is_none() && file.get("payments_per_second").is_none());
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert!(run["timing"]["wall_seconds"].as_f64().is_some(), "{run}");
    assert!(run["timing"]["started_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn default_scenario_prints_and_runs_back() {
    let t = tempfile::tempdir().unwrap();
    let o = flotilla(&["sim", "--print-default-scenario"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("[workload]") && text.contains("arrivals_per_sec"));
    let p = t.path().join("s.toml");
    std::fs::write(&p, text.replace("payments = 10000", "payments = 20")).unwrap();
    let g = ws(t.path());
    let out = t.path().join("run");
    let o = flotilla(&[
        "sim",
        p.to_str().unwrap(),
        "--graph",
        &g,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
}

#[test]
fn bad_scenarios_fail_with_one_line_naming_key_and_line() {
    let t = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[workload]\npaymentz = 5\n",
            vec!["line 2", "unknown field `paymentz`"],
        ),
        (
            "[sender]\nmax_parts = \"lots\"\n",
            vec!["line 2", "invalid type"],
        ),
        (
            "[workload]\npayments = 0\n",
            vec!["workload.payments", "empty"],
        ),
        (
            "[workload.amount]\ndistribution = \"uniform\"\nmin_sat = 9\nmax_sat = 1\n",
            vec!["workload.amount"],
        ),
        ("[sender]\narms = [\"warp\"]\n", vec!["sender.arms", "warp"]),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let p = t.path().join(format!("bad{i}.toml"));
        std::fs::write(&p, text).unwrap();
        let o = flotilla(&[
            "sim",
            p.to_str().unwrap(),
            "--out",
            t.path().join("x").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        for e in expect {
            assert!(err.contains(e), "{text}: {e:?} not in {err}");
        }
    }
}

#[test]
fn export_simln_writes_network_and_activity_that_run_back() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let sim = t.path().join("sim.json");
    let o = flotilla(&[
        "sim",
        "--graph",
        &g,
        "--payments",
        "40",
        "--quiet",
        "--export-simln",
        sim.to_str().unwrap(),
        "--out",
        t.path().join("a").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&sim).unwrap()).unwrap();
    assert_eq!(v["sim_network"].as_array().unwrap().len(), 400);
    let act = v["activity"].as_array().unwrap();
    assert_eq!(act.len(), 40);
    for k in [
        "source",
        "destination",
        "interval_secs",
        "amount_msat",
        "start_secs",
        "count",
    ] {
        assert!(act[0].get(k).is_some(), "{k}");
    }
    // sim.json as the scenario: its network is the graph, its activity the workload.
    let o = flotilla(&[
        "sim",
        sim.to_str().unwrap(),
        "--json",
        "--out",
        t.path().join("b").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["payments"], 40);
}

#[test]
fn runs_started_together_each_get_their_own_intact_directory() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_flotilla"))
                .current_dir(t.path())
                .args(["sim", "--graph", &g, "--payments", "60", "--quiet"])
                .env_remove("FLOTILLA_GRAPH")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let mut dirs: Vec<_> = std::fs::read_dir(t.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 4, "{dirs:?}");
    let first = std::fs::read(dirs[0].join("summary.json")).unwrap();
    for d in &dirs {
        // results/2026-02-03T14-05-09Z-3fa9
        let name = d.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 25, "{name}");
        assert_eq!((&name[10..11], &name[19..21]), ("T", "Z-"), "{name}");
        assert!(!d.join("INCOMPLETE").exists(), "{name}");
        let rows = std::fs::read_to_string(d.join("payments.csv")).unwrap();
        assert_eq!(rows.lines().count(), 1 + 3 * 60, "{name}");
        assert_eq!(std::fs::read(d.join("summary.json")).unwrap(), first);
        ok(&flotilla(&["report", d.to_str().unwrap()]));
    }
}

#[test]
fn an_existing_out_is_refused_unless_forced_and_force_deletes_only_runs() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let run = |extra: &[&str]| {
        let mut a = vec![
            "sim",
            "--graph",
            &g,
            "--payments",
            "30",
            "--quiet",
            "--no-report",
        ];
        a.extend_from_slice(extra);
        flotilla_in(t.path(), &[], &a)
    };
    ok(&run(&["--out", "r", "--seed", "1"]));
    let before = std::fs::read(t.path().join("r/summary.json")).unwrap();
    one_error_line(
        &run(&["--out", "r", "--seed", "2"]),
        &["r: already holds files", "--force"],
    );
    assert_eq!(
        std::fs::read(t.path().join("r/summary.json")).unwrap(),
        before
    );
    ok(&run(&["--out", "r", "--seed", "2", "--force"]));
    assert_ne!(
        std::fs::read(t.path().join("r/summary.json")).unwrap(),
        before
    );
    // An empty directory is fine; a directory of other files is never deleted.
    std::fs::create_dir(t.path().join("empty")).unwrap();
    ok(&run(&["--out", "empty"]));
    std::fs::create_dir(t.path().join("mine")).unwrap();
    std::fs::write(t.path().join("mine/notes.txt"), "keep").unwrap();
    one_error_line(
        &run(&["--out", "mine", "--force"]),
        &["not a flotilla results directory"],
    );
    assert!(t.path().join("mine/notes.txt").exists());
}

#[test]
fn summary_is_byte_identical_across_runs_and_threads_and_run_json_has_the_rest() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    for (out, threads) in [("a", "1"), ("b", "3")] {
        ok(&flotilla_in(
            t.path(),
            &[],
            &[
                "sim",
                "--graph",
                &g,
                "--payments",
                "80",
                "--threads",
                threads,
                "--out",
                out,
                "--quiet",
                "--no-report",
            ],
        ));
    }
    let a = std::fs::read(t.path().join("a/summary.json")).unwrap();
    assert_eq!(a, std::fs::read(t.path().join("b/summary.json")).unwrap());
    let run = json(&t.path().join("a/run.json"));
    assert_eq!(run["timing"]["threads"], 1);
    let files = run["files"].as_object().unwrap();
    for f in [
        "payments.csv",
        "attempts.jsonl.gz",
        "summary.json",
        "scenario.toml",
    ] {
        assert_eq!(files[f].as_str().unwrap().len(), 64, "{f}");
    }
    assert!(!files.contains_key("run.json"));
    // Built from a checkout, the commit is recorded.
    let in_git = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .is_ok_and(|o| o.status.success());
    if in_git {
        assert_eq!(run["git_commit"].as_str().map(str::len), Some(40), "{run}");
    }
}

#[test]
fn the_reproduce_line_works_from_another_directory() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    let b = t.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    ws(&a);
    // Relative graph path, relative --out, run from a.
    ok(&flotilla_in(
        &a,
        &[],
        &[
            "sim",
            "--graph",
            "ws.json",
            "--payments",
            "40",
            "--out",
            "run",
            "--quiet",
            "--no-report",
        ],
    ));
    let run = json(&a.join("run/run.json"));
    let line = run["reproduce"].as_str().unwrap().to_string();
    assert!(!line.contains("--out"), "{line}");
    let scenario = std::fs::read_to_string(a.join("run/scenario.toml")).unwrap();
    assert!(
        scenario.contains(&format!("file = \"{}", a.display())),
        "{scenario}"
    );
    // From b, the line runs (flotilla is the binary under test) into b/results/….
    let line = line.replacen("flotilla", env!("CARGO_BIN_EXE_flotilla"), 1);
    let o = Command::new("sh")
        .current_dir(&b)
        .arg("-c")
        .arg(format!("{line} --quiet --no-report"))
        .output()
        .unwrap();
    ok(&o);
    let rerun = std::fs::read_dir(b.join("results"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // Same results (the graph's path is spelled differently: absolute in the rerun).
    let arms = |d: &Path| json(&d.join("summary.json"))["arms"].to_string();
    assert!(arms(&rerun) == arms(&a.join("run")), "the rerun differs");
}

#[test]
fn off_a_terminal_progress_is_a_plain_line_per_arm_with_rate_and_eta() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let o = flotilla_in(
        t.path(),
        &[("FLOTILLA_PROGRESS_SECS", "0.02")],
        &[
            "sim",
            "--graph",
            &g,
            "--payments",
            "1500",
            "--out",
            "r",
            "--no-report",
        ],
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("progress ")).collect();
    assert!(!lines.is_empty(), "no progress line: {err}");
    for l in &lines {
        assert!(
            !l.contains('\r') && !l.contains('\u{1b}'),
            "control characters: {l:?}"
        );
        for arm in [
            "single-path-retry",
            "mpp-retry",
            "redundant-h2tlc-split-1-hedge-retry",
        ] {
            assert!(l.contains(arm), "{arm} missing: {l}");
        }
        assert!(l.contains("/1,500"), "{l}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/s eta ") || l.contains("done in")),
        "{err}"
    );
    // No rate with four decimals.
    assert!(!err.contains(".0000"), "{err}");
    // 0 turns them off; --quiet too.
    for (env, flag) in [("0", "--no-report"), ("0.02", "--quiet")] {
        let o = flotilla_in(
            t.path(),
            &[("FLOTILLA_PROGRESS_SECS", env)],
            &[
                "sim",
                "--graph",
                &g,
                "--payments",
                "300",
                "--out",
                &format!("q{env}"),
                flag,
            ],
        );
        ok(&o);
        assert!(!String::from_utf8_lossy(&o.stderr).contains("progress "));
    }
}

#[test]
fn sim_help_names_the_three_default_arms_and_warns_about_ldk() {
    let o = flotilla(&["sim", "--help"]);
    ok(&o);
    let help = String::from_utf8_lossy(&o.stdout);
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "three arms (single-path-retry, mpp-retry, redundant-h2tlc-split-1-hedge-retry)"
        ),
        "{help}"
    );
    assert!(flat.contains("thousand times slower"), "{help}");
    assert!(flat.contains("--force"), "{help}");
}
