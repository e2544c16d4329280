//! The notebook-free analysis path: `scripts/plot_arms.py` (Python, standard library
//! only) on one run's directory and on a sweep.csv of the documented shape, built here
//! from real runs (two points × two seeds). Its numbers are checked against the runs'
//! own summaries.
//!
//! Needs `python3`; CI sets `FLOTILLA_REQUIRE_PYTHON=1` so that a missing interpreter
//! fails the test instead of skipping it.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/plot_arms.py")
}

/// Runs the script, or `None` when there is no Python here (and none is required).
fn plot(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("python3").arg(script()).args(args).output() {
        Ok(o) => Some(o),
        Err(e) if std::env::var_os("FLOTILLA_REQUIRE_PYTHON").is_none() => {
            eprintln!("skipped: no python3 ({e}); CI requires it");
            None
        }
        Err(e) => panic!("python3: {e}"),
    }
}

/// The script's stdout table: (arm, x) → (n, mean, low, high).
fn table(stdout: &[u8]) -> Vec<(String, String, u64, f64, f64, f64)> {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("arm,x,n,mean,low,high"), "{text}");
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].to_string(),
                c[1].to_string(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_python_example_draws_one_run_and_a_sweep() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let mut runs = Vec::new();
    for payments in ["40", "80"] {
        for seed in ["1", "2"] {
            let out = t.path().join(format!("p{payments}-s{seed}"));
            let o = flotilla(&[
                "sim",
                "--graph",
                &g,
                "--payments",
                payments,
                "--seed",
                seed,
                "--attempts",
                "off",
                "--no-report",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            runs.push((payments, seed, out));
        }
    }

    // One run: the arms' success rates with the summary's Wilson intervals.
    let one = &runs[0].2;
    let fig = t.path().join("one.svg");
    let Some(o) = plot(&[one.to_str().unwrap(), fig.to_str().unwrap()]) else {
        return;
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(one);
    let rows = table(&o.stdout);
    assert_eq!(rows.len(), s["arms"].as_array().unwrap().len());
    for (row, arm) in rows.iter().zip(s["arms"].as_array().unwrap()) {
        assert_eq!(row.0, arm["name"].as_str().unwrap());
        assert!((row.3 - arm["success_rate"].as_f64().unwrap()).abs() < 1e-6);
        assert!((row.4 - arm["success_ci95"][0].as_f64().unwrap()).abs() < 1e-6);
    }
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("mpp-retry") && svg.contains("success_rate by arm"));
    // Time to outcome from payments.csv: its mean is the summary's.
    let o = plot(&[
        one.to_str().unwrap(),
        fig.to_str().unwrap(),
        "--metric",
        "tto_ms_mean",
    ])
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (row, arm) in table(&o.stdout).iter().zip(s["arms"].as_array().unwrap()) {
        let want = arm["tto_ms_mean"].as_f64().unwrap();
        assert!(
            (row.3 - want).abs() <= 1e-5 * want.max(1.0),
            "{row:?} {want}"
        );
        assert!(row.4 <= row.3 && row.3 <= row.5, "{row:?}");
    }

    // A sweep.csv as the sweep writes it: one row per point × seed × arm, the point's
    // parameter as a column, then every numeric per-arm figure.
    let mut csv = String::from("workload.payments,seed,arm,success_rate,ttc_ms_mean\n");
    for (payments, seed, dir) in &runs {
        for a in summary(dir)["arms"].as_array().unwrap() {
            csv.push_str(&format!(
                "{payments},{seed},{},{},{}\n",
                a["name"].as_str().unwrap(),
                a["success_rate"],
                a["ttc_ms_mean"]
            ));
        }
    }
    let sweep = t.path().join("sweep.csv");
    std::fs::write(&sweep, csv).unwrap();
    let fig = t.path().join("sweep.svg");
    let o = plot(&[
        sweep.to_str().unwrap(),
        fig.to_str().unwrap(),
        "--x",
        "workload.payments",
        "--no-title",
    ])
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = table(&o.stdout);
    let arms = summary(&runs[0].2)["arms"].as_array().unwrap().len();
    assert_eq!(rows.len(), 2 * arms);
    for (arm, x, n, mean, lo, hi) in &rows {
        assert_eq!(*n, 2);
        let values: Vec<f64> = runs
            .iter()
            .filter(|(p, _, _)| p == x)
            .map(|(_, _, d)| {
                let s = summary(d);
                let a = s["arms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["name"] == arm.as_str())
                    .unwrap()
                    .clone();
                a["success_rate"].as_f64().unwrap()
            })
            .collect();
        let m = (values[0] + values[1]) / 2.0;
        assert!((mean - m).abs() < 1e-6, "{arm} {x}: {mean} vs {m}");
        // Two seeds: t with one degree of freedom, 12.706 × sd / √2.
        let half = 12.706 * (values[0] - values[1]).abs() / 2f64.sqrt() / 2f64.sqrt();
        assert!(
            (hi - lo - 2.0 * half).abs() < 1e-4,
            "{arm} {x}: {lo} {hi} {half}"
        );
    }
    let svg = std::fs::read_to_string(&fig).unwrap();
    assert!(svg.contains("workload.payments") && !svg.contains("font-weight=\"bold\""));

    // Bad input: one error line naming the file and the column.
    let o = plot(&[
        sweep.to_str().unwrap(),
        fig.to_str().unwrap(),
        "--metric",
        "nope",
    ])
    .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("sweep.csv: no `nope` column"),
        "{err}"
    );
}
