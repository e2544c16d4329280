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
    fs::write(dir.join("attempts.jsonl"), attempts_lines(n)).unwrap();
}

/// One attempts line per path tried: payment `i` of each arm tried `i % 4` paths (the
/// fixture's `attempts` column), the last one settled when the payment did.
fn attempts_lines(n: u64) -> String {
    let mut out = String::new();
    for (arm, ok_share) in [("a", 2), ("b-redundant-0.5", 4)] {
        for i in 0..n {
            for k in 0..i % 4 {
                let settled = i % ok_share != 0 && k + 1 == i % 4;
                out.push_str(&format!(
                    "{{\"arm\":\"{arm}\",\"payment\":{i},\"part\":{k},\"outcome\":\"{}\"}}\n",
                    if settled { "settled" } else { "failed" }
                ));
            }
        }
    }
    out
}

#[test]
fn writes_the_page_and_every_plot_and_shows_unknown_fields() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 400);
    let w = write_report(&dir).unwrap();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    // SVG, PNG and the title-less SVG and PDF of each plot.
    assert_eq!(w.plots.len(), 32);
    for id in [
        "success-by-amount",
        "ttc-cdf",
        "attempts",
        "fee-ppm-cdf",
        "liquidity-cdf",
        "failures",
        "success-over-time",
        "fee-over-time",
    ] {
        assert!(html.contains(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\""
        )));
        let svg = fs::read_to_string(dir.join(format!("plots/{id}.svg"))).unwrap();
        assert!(svg.contains("b-redundant-0.5") || id == "attempts" && svg.contains("≥10"));
        let png = fs::read(dir.join(format!("plots/{id}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{id}");
        let pdf = fs::read(dir.join(format!("plots/paper/{id}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{id}");
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
        msg.contains("run.json") && msg.contains("version 99") && msg.contains("versions 1 to 2"),
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

#[test]
fn attempts_are_read_in_every_form_and_checked_against_payments() {
    use std::io::Write;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 40);
    let lines = attempts_lines(40);
    let rows = lines.lines().count();
    let html = |dir: &Path| {
        write_report(dir).unwrap();
        fs::read_to_string(dir.join("report.html")).unwrap()
    };
    assert!(html(&dir).contains(&format!("{rows} rows in <code>attempts.jsonl</code>")));

    // Compressed, one gzip member per arm as the simulator writes it.
    fs::remove_file(dir.join("attempts.jsonl")).unwrap();
    let mut gz = Vec::new();
    let half = lines.find("b-redundant").unwrap();
    let cut = lines[..half].rfind('\n').unwrap() + 1;
    for part in [&lines[..cut], &lines[cut..]] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    fs::write(dir.join("attempts.jsonl.gz"), &gz).unwrap();
    assert!(html(&dir).contains(&format!("{rows} rows in <code>attempts.jsonl.gz</code>")));

    // None at all (--attempts off).
    fs::remove_file(dir.join("attempts.jsonl.gz")).unwrap();
    assert!(html(&dir).contains("wrote no attempts file"));

    // summary.json names a file that is not there.
    let summary = fs::read_to_string(dir.join("summary.json")).unwrap();
    fs::write(
        dir.join("summary.json"),
        summary.replacen("{", "{\"attempts_file\":\"attempts.jsonl.gz\",", 1),
    )
    .unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("attempts.jsonl.gz: missing"), "{msg}");
    fs::write(dir.join("summary.json"), &summary).unwrap();

    // A row too few for an arm, and a line of another arm.
    let short: String = lines.lines().skip(1).map(|l| format!("{l}\n")).collect();
    fs::write(dir.join("attempts.jsonl"), short).unwrap();
    let msg = refused(&dir);
    assert!(
        msg.contains("attempts.jsonl: arm `a` has") && msg.contains("payments.csv"),
        "{msg}"
    );
    fs::write(
        dir.join("attempts.jsonl"),
        lines.replacen("\"arm\":\"a\"", "\"arm\":\"zz\"", 1),
    )
    .unwrap();
    let msg = refused(&dir);
    assert!(msg.contains("line 1: `zz` is not an arm"), "{msg}");
}

/// The fifteen arms of the mainnet redundancy scenario.
const FIFTEEN: [&str; 15] = [
    "mpp-retry",
    "mpp-retry-mcf",
    "redundant-sender_hash-0.5",
    "redundant-sender_hash-0.5-retry",
    "redundant-sender_hash-adaptive",
    "redundant-h2tlc-0.25-retry",
    "redundant-h2tlc-0.5",
    "redundant-h2tlc-0.5-retry",
    "redundant-h2tlc-1-retry",
    "redundant-h2tlc-adaptive",
    "redundant-boomerang-0.25-retry",
    "redundant-boomerang-0.5",
    "redundant-boomerang-0.5-retry",
    "redundant-boomerang-1-retry",
    "redundant-boomerang-adaptive",
];

#[test]
fn many_arms_are_drawn_in_panels_by_lock_type_with_unique_colours() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    results_dir(&dir, 60);
    // Rename the fixture's two arms into fifteen: each arm a copy of one of them.
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let csv = fs::read_to_string(dir.join("payments.csv")).unwrap();
    let mut arms = Vec::new();
    let mut rows = String::from(HEADER);
    for (k, name) in FIFTEEN.iter().enumerate() {
        let from = if k % 2 == 0 { "a" } else { "b-redundant-0.5" };
        let mut a = summary["arms"][k % 2].clone();
        a["name"] = (*name).into();
        if k > 0 {
            a["vs_baseline"] = serde_json::json!({"baseline": "mpp-retry", "success_diff": 0.01,
                "success_diff_ci": [-0.01, 0.03], "mcnemar_p": 0.2, "only_this_settled": 3,
                "only_baseline_settled": 2, "ttc_mean_diff_ms": null, "bootstrap_replicates": 1000});
        }
        arms.push(a);
        for line in csv.lines().skip(1) {
            if line.split(',').nth(7) == Some(from) {
                rows.push_str(&line.replacen(&format!(",{from},"), &format!(",{name},"), 1));
                rows.push('\n');
            }
        }
    }
    let mut summary = summary;
    summary["arms"] = serde_json::Value::Array(arms);
    fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
    fs::write(dir.join("payments.csv"), rows).unwrap();
    fs::remove_file(dir.join("attempts.jsonl")).unwrap();
    write_report(&dir).unwrap();

    let svg = fs::read_to_string(dir.join("plots/ttc-cdf.svg")).unwrap();
    // Four panels (MPP, sender_hash, h2tlc, boomerang) in one figure.
    assert_eq!(svg.matches("<svg").count(), 5, "{svg}");
    for panel in [
        "MPP and single-path arms",
        "sender_hash arms, with the baseline mpp-retry",
        "h2tlc arms, with the baseline mpp-retry",
        "boomerang arms, with the baseline mpp-retry",
    ] {
        assert!(svg.contains(&format!(">{panel}</text>")), "{panel}");
    }
    // Every arm has its own colour: the stroke of its CDF line.
    let pieces: Vec<&str> = svg.split("stroke-width=\"2.5\" stroke-linejoin").collect();
    let mut strokes: Vec<&str> = pieces[..pieces.len() - 1]
        .iter()
        .filter_map(|s| s.rsplit("stroke=\"").next()?.split('"').next())
        .collect();
    strokes.sort();
    strokes.dedup();
    assert_eq!(strokes.len(), 15, "{strokes:?}");
    // The paper variant: no figure title, panel titles kept.
    let paper = fs::read_to_string(dir.join("plots/paper/ttc-cdf.svg")).unwrap();
    assert!(!paper.contains(">Time to complete, settled payments</text>"));
    assert!(svg.contains(">Time to complete, settled payments</text>"));
    assert!(paper.contains(">h2tlc arms, with the baseline mpp-retry</text>"));
    let png = fs::read(dir.join("plots/ttc-cdf.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // The vs-baseline table lists the fourteen other arms.
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Against the baseline <strong>mpp-retry</strong>"));
    assert_eq!(html.matches("<td class=\"n\">3 / 2</td>").count(), 14);
}
