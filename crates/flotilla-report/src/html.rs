//! `report.html`: one self-contained page (inline CSS, inline SVG, a few lines of
//! inline script that only check the page; no fonts, images or scripts from anywhere
//! else), readable offline and attachable to an email or an issue as it is.
//!
//! Tables are built from `summary.json` as generic JSON: an arm field this code has
//! never heard of still shows up, under its own name.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::chart::escape;
use crate::load::Results;
use crate::plots::Plot;
use crate::scale::thousands;

/// Columns of the headline table: summary key, header, how to show the value.
const HEADLINE: [(&str, &str); 15] = [
    ("success_rate", "success"),
    ("success_ci95", "95% CI"),
    ("attempts_mean", "paths tried per payment"),
    ("ttc_ms_mean", "TTC mean (ms)"),
    ("tto_ms_mean", "time to outcome mean (ms)"),
    ("ttc_ms_p50", "TTC p50 (ms)"),
    ("ttc_ms_p99", "TTC p99 (ms)"),
    ("fee_ppm_mean", "fee (ppm)"),
    ("liquidity_seconds_mean", "liquidity (sat·s per payment)"),
    ("throughput_sat_per_sec", "throughput, arrival span (sat/s)"),
    (
        "throughput_busy_sat_per_sec",
        "throughput, busy time (sat/s)",
    ),
    ("success_rate_feasible", "success among feasible"),
    ("ttc_mean_vs_oracle", "TTC mean ÷ oracle"),
    ("ttc_p99_vs_oracle", "TTC p99 ÷ oracle"),
    ("payments", "payments"),
];

pub(crate) const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif;
       max-width: 1040px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
.meta { color: #444; margin-top: 0; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
th, td { border: 1px solid #d0d0d0; padding: 0.3em 0.6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
tr > th:first-child { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.7em; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #333; max-width: 960px; }
details summary { cursor: pointer; color: #0b5394; }
"#;

/// Checks the page in the browser: a resource that fails to load, a missing plot or
/// a plot with no size is a console error; the number of plots that rendered is put
/// on `<body data-plots-rendered>`. It changes nothing a reader sees.
pub(crate) const CHECK_SCRIPT: &str = r#"
window.addEventListener("error", function (e) {
  if (e.target && e.target !== window) {
    console.error("report: failed to load " + (e.target.src || e.target.href || e.target.tagName));
  }
}, true);
document.addEventListener("DOMContentLoaded", function () {
  var ids = (document.body.getAttribute("data-plots") || "").split(" ").filter(Boolean);
  var ok = 0;
  ids.forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) { console.error("report: plot " + id + " is missing"); return; }
    var box = el.getBoundingClientRect();
    if (box.width < 10 || box.height < 10) { console.error("report: plot " + id + " has no size"); return; }
    ok += 1;
  });
  document.body.setAttribute("data-plots-rendered", String(ok));
});
"#;

/// Renders the whole page. `files` lists the directory's files (name, bytes).
pub fn render(r: &Results, plots: &[Plot], files: &[(String, u64)]) -> String {
    let s = &r.summary;
    let name = s["scenario"].as_str().unwrap_or("?");
    let mut h = String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    let ids: Vec<&str> = plots.iter().map(|p| p.id).collect();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>flotilla report: {}</title>\n<style>{STYLE}</style>\n<script>{CHECK_SCRIPT}</script>\n\
         </head>\n<body data-plots=\"{}\">\n",
        escape(name),
        ids.join(" ")
    );
    header(&mut h, r, name);
    reproduce(&mut h, r);
    summary(&mut h, r);
    h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    for p in plots {
        let _ = write!(
            h,
            "<figure id=\"fig-{id}\">\n{svg}<figcaption>{cap} \
             <a href=\"plots/{id}.svg\">SVG</a> · <a href=\"plots/{id}.png\">PNG</a> · \
             <a href=\"plots/paper/{id}.svg\">SVG</a> and <a href=\"plots/paper/{id}.pdf\">PDF</a> without title</figcaption>\n</figure>\n",
            id = p.id,
            svg = p.svg,
            cap = escape(&p.caption)
        );
    }
    h.push_str("</section>\n");
    scenario(&mut h, r);
    graph(&mut h, r);
    file_list(&mut h, files);
    let _ = write!(
        h,
        "<footer><p class=\"meta\">Written by flotilla {}. Same scenario and seed, same \
         numbers, whatever the thread count (wall time aside).</p></footer>\n</body>\n</html>\n",
        escape(&r.manifest.flotilla_version)
    );
    h
}

fn header(h: &mut String, r: &Results, name: &str) {
    let s = &r.summary;
    let num = |k: &str| s[k].as_u64().map(thousands).unwrap_or_else(|| "?".into());
    let _ = write!(
        h,
        "<header>\n<h1>flotilla report · {}</h1>\n<p class=\"meta\">seed {} · {} payments per \
         arm · {} arms ({}) · graph {} ({} nodes, {} channels) · {} offline and {} hodl nodes \
         drawn · {:.1} s wall, {} payments/s</p>\n</header>\n",
        escape(name),
        s["seed"],
        num("payments"),
        r.arms.len(),
        escape(&r.arms.join(", ")),
        escape(s["graph"].as_str().unwrap_or("?")),
        num("graph_nodes"),
        num("graph_channels"),
        num("offline_nodes"),
        num("hodl_nodes"),
        // Wall time lives in run.json (summary.json is deterministic); directories
        // written before that kept it in summary.json.
        r.manifest
            .timing
            .as_ref()
            .map(|t| t.wall_seconds)
            .or_else(|| s["wall_seconds"].as_f64())
            .unwrap_or(0.0),
        thousands(
            r.manifest
                .timing
                .as_ref()
                .map(|t| t.payments_per_second)
                .or_else(|| s["payments_per_second"].as_f64())
                .unwrap_or(0.0) as u64
        ),
    );
    h.push_str(
        "<nav><a href=\"#reproduce\">Reproduce</a><a href=\"#summary\">Summary</a>\
         <a href=\"#plots\">Plots</a><a href=\"#scenario\">Scenario</a><a href=\"#graph\">Graph</a>\
         <a href=\"#files\">Files</a></nav>\n",
    );
}

fn reproduce(h: &mut String, r: &Results) {
    let m = &r.manifest;
    let typed: Vec<String> = m
        .command
        .iter()
        .map(|a| flotilla_sim::manifest::shell_quote(a))
        .collect();
    let _ = write!(
        h,
        "<section id=\"reproduce\">\n<h2>Reproduce</h2>\n<p>From <code>{}</code>, this runs the \
         same experiment (the effective scenario, every parameter, is <code>scenario.toml</code> \
         in this directory) and gives the same results:</p>\n<pre>{}</pre>\n\
         <p>The command as typed:</p>\n<pre>{}</pre>\n</section>\n",
        escape(&m.working_dir),
        escape(&m.reproduce),
        escape(&typed.join(" "))
    );
}

/// A JSON value for a table cell; `key` hints at the unit.
fn cell(key: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => {
            let i = n.as_i64().unwrap_or(0);
            let mag = thousands(i.unsigned_abs());
            if i < 0 {
                format!("−{mag}")
            } else {
                mag
            }
        }
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            if key.ends_with("_rate") {
                format!("{:.2}%", f * 100.0)
            } else if f == f.trunc() && f.abs() < 1000.0 {
                format!("{f:.1}")
            } else if f.abs() >= 1000.0 {
                thousands(f.round() as u64)
            } else if f.abs() >= 10.0 {
                format!("{f:.1}")
            } else {
                format!("{f:.3}")
            }
        }
        Value::Array(a) if key.ends_with("_ci95") && a.len() == 2 => format!(
            "{:.1}–{:.1}%",
            a[0].as_f64().unwrap_or(0.0) * 100.0,
            a[1].as_f64().unwrap_or(0.0) * 100.0
        ),
        Value::Array(a) => a
            .iter()
            .map(|x| cell(key, x))
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn summary(h: &mut String, r: &Results) {
    let arms = r.arm_summaries();
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table>\n<tr><th>arm</th>");
    let cols: Vec<(&str, &str)> = HEADLINE
        .iter()
        .copied()
        .filter(|(k, _)| arms.first().is_some_and(|a| a.contains_key(*k)))
        .collect();
    for (_, head) in &cols {
        let _ = write!(h, "<th>{}</th>", escape(head));
    }
    h.push_str("</tr>\n");
    for a in &arms {
        let _ = write!(
            h,
            "<tr><th>{}</th>",
            escape(a["name"].as_str().unwrap_or("?"))
        );
        for (k, _) in &cols {
            let v = &a[*k];
            let text = match *k {
                "success_rate" => format!("{:.1}%", v.as_f64().unwrap_or(0.0) * 100.0),
                "attempts_mean" => format!("{:.2}", v.as_f64().unwrap_or(0.0)),
                "ttc_ms_mean" | "tto_ms_mean" | "ttc_ms_p50" | "ttc_ms_p99" | "fee_ppm_mean" => {
                    format!("{:.0}", v.as_f64().unwrap_or(0.0))
                }
                "success_rate_feasible" => v
                    .as_f64()
                    .map_or_else(|| "—".into(), |x| format!("{:.1}%", x * 100.0)),
                "ttc_mean_vs_oracle" | "ttc_p99_vs_oracle" => v
                    .as_f64()
                    .map_or_else(|| "—".into(), |x| format!("{x:.2}×")),
                "throughput_sat_per_sec" | "throughput_busy_sat_per_sec" => v
                    .as_f64()
                    .map_or_else(|| "—".into(), |x| thousands(x.round() as u64)),
                _ => cell(k, v),
            };
            let _ = write!(h, "<td class=\"n\">{}</td>", escape(&text));
        }
        h.push_str("</tr>\n");
    }
    h.push_str(
        "<p>TTC: time to complete, first send to the sender learning it settled, over \
         settled payments. Time to outcome: the same for every payment, settled or failed \
         (when the sender knows either way). 95% CI: Wilson score interval of the success \
         rate; within this run only (a sweep over seeds adds the across-seed spread).</p>\n",
    );
    oracle_note(h, r);
    vs_baseline_table(h, &arms);
    redundancy_table(h, &arms);
    failures_table(h, &arms);
    attempts_note(h, r);
    all_fields_table(h, &arms);
    h.push_str("</section>\n");
}

/// What the throughput and oracle columns mean, with the run's feasible share.
fn oracle_note(h: &mut String, r: &Results) {
    // Results written before these figures existed have neither.
    if r.summary.get("feasible_share").is_none() {
        return;
    }
    let share = match r.summary.get("feasible_share").and_then(Value::as_f64) {
        Some(x) => format!(
            "{:.1}% of the payments were feasible at their start in at least one arm's \
             network, so {:.1}% could have been delivered by no strategy. ",
            x * 100.0,
            (1.0 - x) * 100.0
        ),
        None => String::new(),
    };
    let _ = writeln!(
        h,
        "<p>Throughput: settled volume per second of the workload's arrival span, and per \
         second of Σ busy time (each payment from its first send until every part's outcome \
         is known: the Boomerang paper's measure). {share}The oracle: for each payment, from \
         the true balances of the arm's network when it starts, whether a flow of the amount \
         exists within every channel's limits, and the earliest it could complete (2 × its \
         longest path's hops × the expected per-hop latency). Success among feasible: settled \
         feasible payments over feasible ones. TTC ÷ oracle: over the payments the arm settled \
         that were feasible, its mean (p99) TTC over the oracle's; 1 is as fast as any sender \
         could be. Approximations: docs/results-format.md.</p>"
    );
}

/// A signed number with `digits` decimals, `—` when absent.
fn signed(v: Option<&Value>, scale: f64, digits: usize) -> String {
    match v.and_then(Value::as_f64) {
        Some(x) => format!("{:+.*}", digits, x * scale).replace('-', "−"),
        None => "—".into(),
    }
}

/// An interval `[lo, hi]` as `lo … hi`, `—` when absent.
fn interval(v: Option<&Value>, scale: f64, digits: usize) -> String {
    match v.and_then(Value::as_array).map(Vec::as_slice) {
        Some([lo, hi]) => format!(
            "{} … {}",
            signed(Some(lo), scale, digits),
            signed(Some(hi), scale, digits)
        ),
        _ => "—".into(),
    }
}

/// Each arm against the baseline, payment by payment (`vs_baseline`).
fn vs_baseline_table(h: &mut String, arms: &[&Map<String, Value>]) {
    let rows: Vec<(&str, &Map<String, Value>)> = arms
        .iter()
        .filter_map(|a| Some((a["name"].as_str()?, a.get("vs_baseline")?.as_object()?)))
        .collect();
    let Some((_, first)) = rows.first() else {
        return;
    };
    let _ = write!(
        h,
        "<p>Against the baseline <strong>{}</strong>, payment by payment (every arm paid the \
         same payments): differences are arm − baseline with 95% intervals, Newcombe's paired \
         score interval for success and a paired bootstrap ({} resamples, seeded) for the \
         rest; McNemar's exact test asks whether the success rates differ at all.</p>\n\
         <table>\n<tr><th>arm</th><th>Δ success (pp)</th><th>95% CI</th><th>McNemar p</th>\
         <th>only arm / only baseline settled</th><th>Δ TTC mean (ms)</th><th>95% CI</th>\
         <th>Δ TTC p99 (ms)</th><th>95% CI</th><th>Δ time to outcome mean (ms)</th>\
         <th>95% CI</th><th>Δ fee (ppm)</th><th>95% CI</th></tr>\n",
        escape(first["baseline"].as_str().unwrap_or("?")),
        first["bootstrap_replicates"]
    );
    for (name, v) in rows {
        let p = v["mcnemar_p"].as_f64().unwrap_or(f64::NAN);
        let p = if p >= 0.001 {
            format!("{p:.3}")
        } else {
            format!("{p:.0e}")
        };
        let cells = [
            signed(v.get("success_diff"), 100.0, 1),
            interval(v.get("success_diff_ci"), 100.0, 1),
            p,
            format!(
                "{} / {}",
                thousands(v["only_this_settled"].as_u64().unwrap_or(0)),
                thousands(v["only_baseline_settled"].as_u64().unwrap_or(0))
            ),
            signed(v.get("ttc_mean_diff_ms"), 1.0, 0),
            interval(v.get("ttc_mean_diff_ms_ci"), 1.0, 0),
            signed(v.get("ttc_p99_diff_ms"), 1.0, 0),
            interval(v.get("ttc_p99_diff_ms_ci"), 1.0, 0),
            signed(v.get("tto_mean_diff_ms"), 1.0, 0),
            interval(v.get("tto_mean_diff_ms_ci"), 1.0, 0),
            signed(v.get("fee_ppm_mean_diff"), 1.0, 0),
            interval(v.get("fee_ppm_mean_diff_ci"), 1.0, 0),
        ];
        let _ = write!(h, "<tr><th>{}</th>", escape(name));
        for c in cells {
            let _ = write!(h, "<td class=\"n\">{}</td>", escape(&c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// What redundant arms cost and whether they stayed safe, when a run has any.
fn redundancy_table(h: &mut String, arms: &[&Map<String, Value>]) {
    let is_redundant = |a: &&Map<String, Value>| {
        a["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("redundant-"))
    };
    if !arms.iter().any(is_redundant) {
        return;
    }
    h.push_str(
        "<p>Redundancy: parts sent and settled over all payments, msat settled beyond the \
         amount (must be 0), claims refused for not opening a lock, messages beyond the \
         HTLCs' own, and liquidity-seconds relative to the best MPP arm.</p>\n<table>\n\
         <tr><th>arm</th><th>parts sent</th><th>parts settled</th><th>overpaid (msat)</th>\
         <th>overclaims</th><th>extra messages</th><th>liquidity × MPP</th></tr>\n",
    );
    for a in arms {
        let n = |k: &str| thousands(a.get(k).and_then(Value::as_u64).unwrap_or(0));
        let ratio = a
            .get("liquidity_ratio_to_mpp")
            .and_then(Value::as_f64)
            .map_or_else(|| "—".into(), |x| format!("{x:.2}"));
        let _ = writeln!(
            h,
            "<tr><th>{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(a["name"].as_str().unwrap_or("?")),
            n("parts_sent"),
            n("parts_settled"),
            n("overpaid_msat"),
            n("overclaim_attempts"),
            n("extra_messages"),
            escape(&ratio)
        );
    }
    h.push_str("</table>\n");
}

/// Which attempts file the run has and what it holds.
fn attempts_note(h: &mut String, r: &Results) {
    match &r.attempts {
        Some(a) => {
            let total: u64 = a.rows.iter().sum();
            let settled: u64 = a.settled.iter().sum();
            let _ = writeln!(
                h,
                "<p>Paths tried: {} rows in <code>{}</code> ({} settled), one per path each \
                 arm tried, matching the <code>attempts</code> column of payments.csv.</p>",
                thousands(total),
                escape(
                    &a.path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ),
                thousands(settled)
            );
        }
        None => {
            h.push_str("<p>This run wrote no attempts file (<code>--attempts off</code>).</p>\n")
        }
    }
}

fn failures_table(h: &mut String, arms: &[&Map<String, Value>]) {
    let mut reasons: Vec<&String> = Vec::new();
    for a in arms {
        if let Some(f) = a.get("failures").and_then(Value::as_object) {
            for k in f.keys() {
                if !reasons.contains(&k) {
                    reasons.push(k);
                }
            }
        }
    }
    if reasons.is_empty() {
        return;
    }
    h.push_str("<p>Failed payments by reason:</p>\n<table>\n<tr><th>arm</th>");
    for re in &reasons {
        let _ = write!(h, "<th>{}</th>", escape(re));
    }
    h.push_str("</tr>\n");
    for a in arms {
        let _ = write!(
            h,
            "<tr><th>{}</th>",
            escape(a["name"].as_str().unwrap_or("?"))
        );
        for re in &reasons {
            let v = a.get("failures").and_then(|f| f.get(re.as_str()));
            let _ = write!(
                h,
                "<td class=\"n\">{}</td>",
                escape(&v.map(|v| cell(re, v)).unwrap_or_else(|| "—".into()))
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// Every field of every arm, one row per field, so that fields added later appear.
fn all_fields_table(h: &mut String, arms: &[&Map<String, Value>]) {
    let mut keys: Vec<&String> = Vec::new();
    for a in arms {
        for k in a.keys() {
            if k != "name" && k != "failures" && k != "vs_baseline" && !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    h.push_str(
        "<details>\n<summary>Every field of summary.json, per arm</summary>\n<table>\n<tr><th>field</th>",
    );
    for a in arms {
        let _ = write!(h, "<th>{}</th>", escape(a["name"].as_str().unwrap_or("?")));
    }
    h.push_str("</tr>\n");
    for k in keys {
        let _ = write!(h, "<tr><th><code>{}</code></th>", escape(k));
        for a in arms {
            let text = a
                .get(k.as_str())
                .map(|v| cell(k, v))
                .unwrap_or_else(|| "—".into());
            let _ = write!(h, "<td class=\"n\">{}</td>", escape(&text));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</details>\n");
}

/// `(dotted key, value)` for every leaf of `v`.
pub fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        Value::Array(a) if a.is_empty() => out.push((prefix.to_string(), "(none)".into())),
        other => out.push((prefix.to_string(), cell(prefix, other))),
    }
}

fn key_value_table(h: &mut String, rows: &[(String, String)]) {
    h.push_str("<table>\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th><code>{}</code></th><td>{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    h.push_str("</table>\n");
}

fn scenario(h: &mut String, r: &Results) {
    h.push_str(
        "<section id=\"scenario\">\n<h2>Scenario</h2>\n<p>Every parameter of the run.</p>\n",
    );
    let mut rows = Vec::new();
    flatten("", &r.scenario, &mut rows);
    key_value_table(h, &rows);
    let _ = write!(
        h,
        "<details>\n<summary>scenario.toml (the effective scenario; <code>flotilla sim</code> \
         runs it as it is)</summary>\n<pre>{}</pre>\n</details>\n</section>\n",
        escape(&r.scenario_toml)
    );
}

fn graph(h: &mut String, r: &Results) {
    let _ = write!(
        h,
        "<section id=\"graph\">\n<h2>Graph</h2>\n<p><code>{}</code></p>\n",
        escape(&r.manifest.graph_file)
    );
    let mut rows = Vec::new();
    flatten("", &r.manifest.graph_stats, &mut rows);
    key_value_table(h, &rows);
    h.push_str("</section>\n");
}

fn file_list(h: &mut String, files: &[(String, u64)]) {
    h.push_str("<section id=\"files\">\n<h2>Files</h2>\n<table>\n");
    for (name, bytes) in files {
        let _ = writeln!(
            h,
            "<tr><th><code>{}</code></th><td class=\"n\">{} bytes</td></tr>",
            escape(name),
            thousands(*bytes)
        );
    }
    h.push_str("</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_format_by_kind_and_key() {
        assert_eq!(cell("payments", &json!(10000)), "10,000");
        assert_eq!(cell("success_rate", &json!(0.7094)), "70.94%");
        assert_eq!(cell("success_ci95", &json!([0.7, 0.7182])), "70.0–71.8%");
        assert_eq!(cell("liquidity_seconds_mean", &json!(177874.5)), "177,875");
        assert_eq!(cell("attempts_mean", &json!(0.8556)), "0.856");
        assert_eq!(cell("file", &json!("")), "\"\"");
        assert_eq!(cell("x", &json!(null)), "—");
        assert_eq!(cell("offline_share", &json!(0.0)), "0.0");
    }

    #[test]
    fn flatten_names_every_leaf() {
        let v = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "e": [{"f": true}], "g": []});
        let mut rows = Vec::new();
        flatten("", &v, &mut rows);
        let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b.c", "b.d", "e[0].f", "g"]);
        assert_eq!(rows[2].1, "1, 2");
    }
}
