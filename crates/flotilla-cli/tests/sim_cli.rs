//! `flotilla sim` end to end on a small generated graph: table, JSON, outputs, errors.

mod common;
use common::*;

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
        stdout.contains("redundant-h2tlc-0.5-retry") && stdout.contains("liq ×MPP"),
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
