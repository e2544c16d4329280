//! `write_report` on hand-made results directories: what it writes, what it tolerates
//! (fields and columns it does not know) and what it refuses, with the message.

use std::fs;
use std::path::Path;

use flotilla_report::{write_report, ReportError};

const HEADER: &str = "source,destination,amount_msat,hash,dispatch_time,htlc_count,\
payment_outcome,arm,payment,fee_msat,attempts,parts,parts_sent,ttc_ms,failure_reason,\
liquidity_sat_seconds,future_column\n";

/// A finished run of two arms with `n` payments each; the summary and the CSV carry a
/// field and a column no reader knows yet.
fn results_dir(dir: &Path, n: u64) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("run.json"),
        r#"{"format":"flotilla-results","format_version":1,"flotilla_version":"0.1.0",
            "command":["flotilla","sim","--payments","40"],"working_dir":"/w",
            "reproduce":"flotilla sim r/scenario.toml --out r/rerun","graph_file":"g.json",
            "graph_stats":{"nodes":100,"channels":300,"addresses":{"ipv4":3}},
            "future_manifest_field":true}"#,
    )
    .unwrap();
    fs::write(
        dir.join("scenario.toml"),
        "name = \"t\"\nseed = 7\n[graph]\nfile = \"g.json\"\n[sender]\narms = [\"a\", \"b-redundant-0.5\"]\n",
    )
    .unwrap();
    let arm = |name: &str, ok: u64| {
        format!(
            r#"{{"name":"{name}","payments":{n},"succeeded":{ok},"success_rate":{},
               "success_ci95":[0.1,0.9],"attempts_mean":1.5,"ttc_ms_p50":500.0,
               "ttc_ms_p99":900.0,"fee_ppm_mean":300.0,"liquidity_seconds_mean":1000.0,
               "failures":{{"liquidity":{},"no_route":0,"brand_new_reason":0}},
               "overpaid_msat":0,"brand_new_metric":42.5}}"#,
            ok as f64 / n as f64,
            n - ok
        )
    };
    fs::write(
        dir.join("summary.json"),
        format!(
            r#"{{"scenario":"t","seed":7,"graph":"g.json","graph_nodes":100,"graph_channels":300,
                "payments":{n},"offline_nodes":0,"hodl_nodes":0,"wall_seconds":0.5,
                "payments_per_second":160.0,"arms":[{},{}],"scenario_config":{{}}}}"#,
            arm("a", n / 2),
            arm("b-redundant-0.5", n * 3 / 4)
        ),
    )
    .unwrap();
    let mut csv = String::from(HEADER);
    for (arm, ok_share) in [("a", 2), ("b-redundant-0.5", 4)] {
        for i in 0..n {
            let amount = 1_000_000 * (1 + i * 37 % 2000);
            let ok = i % ok_share != 0;
            let (outcome, ttc, reason) = if ok {
                ("Success", format!("{}", 200 + i * 13 % 900), "")
            } else {
                ("Failure", String::new(), "liquidity")
            };
            csv.push_str(&format!(
                "s,d,{amount},h,0.1,1,{outcome},{arm},{i},{},{},1,1,{ttc},{reason},{},x\n",
                if ok { amount / 2000 } else { 0 },
                i % 4,
                if i % 5 == 0 { 0.0 } else { i as f64 * 10.5 },
            ));
        }
    }
    fs::write(dir.join("payments.csv"), csv).unwrap();
    fs::write(dir.join("attempts.jsonl"), "").unwrap();
}

#[test]
fn writes_the_page_and_every_plot_and_shows_unknown_fields() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 400);
    let w = write_report(&dir).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(w.plots.len(), 12);
    for id in [
        "success-by-amount",
        "ttc-cdf",
        "attempts",
        "fee-ppm-cdf",
        "liquidity-cdf",
        "failures",
    ] {
        assert!(html.contains(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\""
        )));
        let svg = fs::read_to_string(dir.join(format!("plots/{id}.svg"))).unwrap();
        assert!(svg.contains("b-redundant-0.5") || id == "attempts" && svg.contains("≥10"));
        let png = fs::read(dir.join(format!("plots/{id}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{id}");
    }
    // The scenario, the graph, the reproducing command, and fields never seen before.
    for needle in [
        "flotilla sim r/scenario.toml --out r/rerun",
        "flotilla sim --payments 40",
        "sender.arms",
        "addresses.ipv4",
        "brand_new_metric",
        "42.5",
        "brand_new_reason",
    ] {
        assert!(html.contains(needle), "report lacks {needle}");
    }
    // Self-contained: nothing is loaded from anywhere.
    for bad in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(bad), "{bad}");
    }
    // Rebuilding gives the same page (bar the file sizes, which it lists).
    let again = write_report(&dir).unwrap();
    assert_eq!(again.html_bytes, w.html_bytes);
}

#[test]
fn an_arm_without_successes_still_gets_its_plots() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 1);
    write_report(&dir).unwrap();
    let svg = fs::read_to_string(dir.join("plots/ttc-cdf.svg")).unwrap();
    assert!(svg.contains("</svg>"));
}

fn refused(dir: &Path) -> String {
    let e = write_report(dir).expect_err("must be refused");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn a_missing_directory_is_named() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("nope");
    let msg = refused(&dir);
    assert!(
        msg.contains("nope") && msg.contains("no such directory"),
        "{msg}"
    );
}

#[test]
fn an_unfinished_or_failed_run_is_refused_with_the_markers_words() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 10);
    fs::write(
        dir.join("INCOMPLETE"),
        "this run failed: no route\nanywhere\n",
    )
    .unwrap();
    let msg = refused(&dir);
    assert!(
        msg.contains("incomplete") && msg.contains("this run failed: no route anywhere"),
        "{msg}"
    );
    assert!(!dir.join("report.html").exists());
}

#[test]
fn another_results_version_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 10);
    let run = fs::read_to_string(dir.join("run.json")).unwrap();
    fs::write(
        dir.join("run.json"),
        run.replace("\"format_version\":1", "\"format_version\":99"),
    )
    .unwrap();
    let e = write_report(&dir).unwrap_err();
    assert!(matches!(e, ReportError::Version { version: 99, .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("run.json") && msg.contains("version 99") && msg.contains("version 1"),
        "{msg}"
    );
}

#[test]
fn a_directory_from_before_run_json_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 10);
    fs::remove_file(dir.join("run.json")).unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("run.json: missing"), "{msg}");
}

#[test]
fn damaged_files_are_named_with_the_line_and_column() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 10);
    let csv = fs::read_to_string(dir.join("payments.csv")).unwrap();
    fs::write(
        dir.join("payments.csv"),
        csv.replacen(",Success,a,", ",Maybe,a,", 1),
    )
    .unwrap();
    let msg = refused(&dir);
    assert!(
        msg.contains("payments.csv: line") && msg.contains("payment_outcome"),
        "{msg}"
    );

    fs::write(dir.join("payments.csv"), csv.replace("ttc_ms,", "time,")).unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("no `ttc_ms` column"), "{msg}");

    fs::write(dir.join("payments.csv"), &csv).unwrap();
    fs::write(dir.join("summary.json"), "{\"arms\": [").unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("summary.json: not valid JSON"), "{msg}");

    fs::remove_file(dir.join("summary.json")).unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("summary.json: missing"), "{msg}");
}
