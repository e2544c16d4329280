//! The sweep report: `report.html` in a sweep directory, with every figure plotted
//! against every swept parameter (one line per arm, the mean across seeds, a band for
//! its 95% t-interval), plus `plots/*.svg` and, for the headline figures, PNGs.
//!
//! With more than one swept parameter, each chart holds the others fixed: a chart per
//! combination of their values (a facet), named in its title. Big grids have many
//! facets; the page draws the first [`HEADLINE_FACETS`] per parameter for the headline
//! figures and the first [`OTHER_FACETS`] for the rest, and says how many it left out
//! (`aggregates.csv` has every point).

use std::collections::HashMap;
use std::fmt::Write;
use std::fs;
use std::path::Path;

use flotilla_sim::sweep::spec::{show_value, Sweep};
use flotilla_sim::sweep::table::{Aggregate, SweepTable};

use crate::chart::{escape, wrap_label, Axis, Chart, Swatch};
use crate::scale::{compact, percent, Scale};
use crate::style::arm_style;
use crate::{png, ReportError, PLOTS_DIR, REPORT_FILE};

/// Figures shown first and drawn for more facets, in this order (those present).
pub const HEADLINE: [&str; 10] = [
    "success_rate",
    "ttc_ms_mean",
    "ttc_ms_p50",
    "ttc_ms_p99",
    "attempts_mean",
    "fee_ppm_mean",
    "liquidity_seconds_mean",
    "throughput_sat_per_sec",
    "throughput_busy_sat_per_sec",
    "success_rate_feasible",
];
/// Facets per parameter drawn for a headline figure.
pub const HEADLINE_FACETS: usize = 12;
/// Facets per parameter drawn for any other figure.
pub const OTHER_FACETS: usize = 2;

/// What [`write_sweep_report`] wrote.
#[derive(Debug, Clone)]
pub struct SweepWritten {
    /// Charts on the page.
    pub charts: usize,
    /// PNG files written.
    pub pngs: usize,
    /// Size of `report.html`, bytes.
    pub html_bytes: u64,
}

struct SweepChart {
    id: String,
    title: String,
    svg: String,
    headline: bool,
    facet: usize,
}

/// One line: (x, mean, ci low, ci high) per point.
type Series = Vec<(f64, f64, Option<[f64; 2]>)>;

/// Writes `dir/report.html` and `dir/plots/` for a sweep.
pub fn write_sweep_report(
    dir: &Path,
    sweep: &Sweep,
    table: &SweepTable,
    aggregates: &[Aggregate],
) -> Result<SweepWritten, ReportError> {
    let mut arms: Vec<String> = Vec::new();
    for a in aggregates {
        if !arms.contains(&a.arm) {
            arms.push(a.arm.clone());
        }
    }
    let by_key: HashMap<(usize, &str, usize), &Aggregate> = aggregates
        .iter()
        .map(|a| ((a.point, a.arm.as_str(), a.figure), a))
        .collect();
    let mut figures: Vec<usize> = HEADLINE
        .iter()
        .filter_map(|h| table.figures.iter().position(|f| f == h))
        .collect();
    let n_headline = figures.len();
    let rest: Vec<usize> = (0..table.figures.len())
        .filter(|f| !figures.contains(f))
        .collect();
    figures.extend(rest);

    let plots_dir = dir.join(PLOTS_DIR);
    fs::create_dir_all(&plots_dir).map_err(|e| ReportError::io(&plots_dir, e))?;
    let axes = &sweep.definition.axes;
    let mut sections: Vec<(String, Vec<SweepChart>, usize)> = Vec::new();
    // A sweep without a grid still has one point: plot against the seeds' mean only
    // through the table; charts need a parameter.
    for (ax, axis) in axes.iter().enumerate() {
        if axis.values.len() < 2 {
            // One value: a fixed override, nothing to plot against.
            continue;
        }
        let numeric = axis.values.iter().all(|v| v.is_integer() || v.is_float());
        let xs: Vec<f64> = axis
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                toml::Value::Integer(n) => *n as f64,
                toml::Value::Float(f) => *f,
                _ => i as f64,
            })
            .collect();
        // Facets: the other axes' choices, in the order points meet them.
        let mut facets: Vec<Vec<usize>> = Vec::new();
        let mut members: Vec<Vec<(usize, usize)>> = Vec::new();
        for p in &sweep.points {
            let mut rest = p.choice.clone();
            rest.remove(ax);
            let f = match facets.iter().position(|x| *x == rest) {
                Some(f) => f,
                None => {
                    facets.push(rest);
                    members.push(Vec::new());
                    facets.len() - 1
                }
            };
            members[f].push((p.choice[ax], p.index));
        }
        let mut charts = Vec::new();
        for (fi, facet) in facets.iter().enumerate() {
            let fixed: Vec<String> = axes
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != ax)
                .zip(facet)
                .filter(|((_, a), _)| a.values.len() > 1)
                .map(|((_, a), &c)| format!("{}={}", a.key, show_value(&a.values[c])))
                .collect();
            for (rank, &f) in figures.iter().enumerate() {
                let headline = rank < n_headline;
                if fi
                    >= if headline {
                        HEADLINE_FACETS
                    } else {
                        OTHER_FACETS
                    }
                {
                    continue;
                }
                let series: Vec<Series> = arms
                    .iter()
                    .map(|arm| {
                        members[fi]
                            .iter()
                            .filter_map(|&(c, point)| {
                                by_key
                                    .get(&(point, arm.as_str(), f))
                                    .map(|a| (xs[c], a.mean, a.ci95))
                            })
                            .collect()
                    })
                    .collect();
                if series.iter().all(|s| s.is_empty()) {
                    continue;
                }
                let name = &table.figures[f];
                let title = if fixed.is_empty() {
                    format!("{name} by {}", axis.key)
                } else {
                    format!("{name} by {} ({})", axis.key, fixed.join(", "))
                };
                // Readable file names: plots/success_rate-by-workload_arrivals_per_sec-0.svg
                let id = format!("{}-by-{}-{fi}", slug(name), slug(&axis.key));
                let svg = chart(&id, &title, name, axis, numeric, &xs, &arms, &series);
                charts.push(SweepChart {
                    id,
                    title,
                    svg,
                    headline,
                    facet: fi,
                });
            }
        }
        let left_out = facets.len().saturating_sub(HEADLINE_FACETS);
        sections.push((axis.key.clone(), charts, left_out));
    }

    let mut pngs = 0;
    for (_, charts, _) in &sections {
        for c in charts {
            let svg_path = plots_dir.join(format!("{}.svg", c.id));
            fs::write(&svg_path, &c.svg).map_err(|e| ReportError::io(&svg_path, e))?;
        }
        // PNGs of the headline figures of the first facet: the ones for slides.
        for c in charts.iter().filter(|c| c.headline && c.facet == 0) {
            let svg_path = plots_dir.join(format!("{}.svg", c.id));
            let png_path = plots_dir.join(format!("{}.png", c.id));
            let bytes = png::render(&c.svg).map_err(|e| ReportError::invalid(&svg_path, e))?;
            fs::write(&png_path, bytes).map_err(|e| ReportError::io(&png_path, e))?;
            pngs += 1;
        }
    }
    let page = page(sweep, table, &arms, &sections);
    let html_path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!(".{REPORT_FILE}.tmp"));
    fs::write(&tmp, &page).map_err(|e| ReportError::io(&tmp, e))?;
    fs::rename(&tmp, &html_path).map_err(|e| ReportError::io(&html_path, e))?;
    Ok(SweepWritten {
        charts: sections.iter().map(|s| s.1.len()).sum(),
        pngs,
        html_bytes: page.len() as u64,
    })
}

/// `text` with everything but ASCII letters, digits, `-` and `_` made `_`: a file
/// name and an element id.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a figure reads as a share (shown in percent).
fn is_share(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.ends_with("_rate") || last.contains("share") || name.starts_with("success_ci95")
}

#[allow(clippy::too_many_arguments)]
fn chart(
    id: &str,
    title: &str,
    figure: &str,
    axis: &flotilla_sim::sweep::spec::Axis,
    numeric: bool,
    xs: &[f64],
    arms: &[String],
    series: &[Series],
) -> String {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in series {
        for &(_, m, ci) in s {
            let [a, b] = ci.unwrap_or([m, m]);
            for v in [m, a, b] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let share = is_share(figure) && lo >= 0.0 && hi <= 1.0;
    let pad = if hi > lo {
        (hi - lo) * 0.06
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let (y0, y1) = if share {
        ((lo - pad).max(-0.02), (hi + pad).min(1.02))
    } else {
        (lo - pad, hi + pad)
    };
    let y_scale = Scale::linear(y0, y1);
    let y = if share {
        Axis::new(y_scale, &format!("{figure} (%)"), percent)
    } else {
        Axis::new(y_scale, figure, compact)
    };
    let positive = xs.iter().all(|&x| x > 0.0);
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let x = if !numeric {
        let names: Vec<String> = axis
            .values
            .iter()
            .map(|v| wrap_label(&show_value(v), 860.0 / axis.values.len().max(1) as f64))
            .collect();
        Axis::categories(&names, &axis.key)
    } else if positive && xmax / xmin > 20.0 {
        Axis::new(
            Scale::log(xmin, xmax),
            &format!("{} (log scale)", axis.key),
            compact,
        )
    } else {
        let pad = if xmax > xmin {
            (xmax - xmin) * 0.04
        } else {
            1.0
        };
        Axis::new(Scale::linear(xmin - pad, xmax + pad), &axis.key, compact)
    };
    let legend = arms
        .iter()
        .enumerate()
        .map(|(i, a)| (Swatch::Line(arm_style(i)), a.clone()))
        .collect();
    let mut c = Chart::new(id, title, x, y, legend);
    if !numeric {
        c = c.without_x_grid();
    }
    let n = arms.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        let style = arm_style(i);
        let mut s = s.clone();
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        let with_ci: Vec<&(f64, f64, Option<[f64; 2]>)> =
            s.iter().filter(|p| p.2.is_some()).collect();
        if numeric && with_ci.len() == s.len() {
            let lower: Vec<(f64, f64)> = with_ci.iter().map(|p| (p.0, p.2.unwrap()[0])).collect();
            let upper: Vec<(f64, f64)> = with_ci.iter().map(|p| (p.0, p.2.unwrap()[1])).collect();
            c.band(&lower, &upper, style.color);
        }
        // Categories: arms side by side within a category, with error bars.
        let dx = if numeric {
            0.0
        } else {
            (i as f64 - (n - 1.0) / 2.0) * 10.0
        };
        if numeric {
            let line: Vec<(f64, f64)> = s.iter().map(|p| (p.0, p.1)).collect();
            c.line(&line, &style, 2.2);
        }
        for &(x, m, ci) in &s {
            if let (false, Some([a, b])) = (numeric, ci) {
                c.error_bar(x, a, b, dx, style.color);
            }
            c.marker(x, m, dx, &style);
        }
    }
    if series.iter().all(|s| s.is_empty()) {
        c.note("no data");
    }
    c.finish()
}

fn page(
    sweep: &Sweep,
    table: &SweepTable,
    arms: &[String],
    sections: &[(String, Vec<SweepChart>, usize)],
) -> String {
    let d = &sweep.definition;
    let ids: Vec<&str> = sections
        .iter()
        .flat_map(|s| s.1.iter().map(|c| c.id.as_str()))
        .collect();
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>flotilla sweep: {}</title>\n<style>{}</style>\n<script>{}</script>\n\
         </head>\n<body data-plots=\"{}\">\n",
        escape(&d.scenario_file),
        crate::html::STYLE,
        crate::html::CHECK_SCRIPT,
        ids.join(" ")
    );
    let runs = sweep.points.len() * d.seeds.len();
    let _ = write!(
        h,
        "<h1>Sweep of {}</h1>\n<p class=\"meta\">{} points × {} seeds = {} runs · arms: {}</p>\n",
        escape(&d.scenario_file),
        sweep.points.len(),
        d.seeds.len(),
        runs,
        escape(&arms.join(", "))
    );
    h.push_str(
        "<p>Each line is one arm: the mean of a figure across seeds at each value of a \
         swept parameter, with a band (or bars) for its 95% t-interval. Every run is an \
         ordinary results directory under <code>runs/</code> (<code>flotilla report \
         runs/NAME</code> draws its own report). <a href=\"sweep.csv\">sweep.csv</a> has \
         one row per point × seed × arm with every figure; \
         <a href=\"aggregates.csv\">aggregates.csv</a> the means and intervals.</p>\n",
    );
    h.push_str("<h2>The grid</h2>\n<table>\n<tr><th>parameter</th><th>values</th></tr>\n");
    for a in &d.axes {
        let vals: Vec<String> = a.values.iter().map(show_value).collect();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(&a.key),
            escape(&vals.join(" · "))
        );
    }
    let seeds: Vec<String> = d.seeds.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        h,
        "<tr><td><code>seeds</code></td><td>{}</td></tr>\n</table>",
        escape(&seeds.join(", "))
    );
    if d.axes.iter().all(|a| a.values.len() < 2) {
        h.push_str("<p>No parameter takes more than one value: see aggregates.csv for the means across seeds.</p>\n");
    }
    for (key, charts, left_out) in sections {
        let _ = writeln!(h, "<h2>Against <code>{}</code></h2>", escape(key));
        if *left_out > 0 {
            let _ = writeln!(
                h,
                "<p class=\"meta\">{left_out} more combinations of the other parameters are not drawn; aggregates.csv has them.</p>"
            );
        }
        for c in charts.iter().filter(|c| c.headline) {
            figure(&mut h, c);
        }
        let others: Vec<&SweepChart> = charts.iter().filter(|c| !c.headline).collect();
        if !others.is_empty() {
            let _ = writeln!(
                h,
                "<details><summary>Every other figure ({} charts)</summary>",
                others.len()
            );
            for c in others {
                figure(&mut h, c);
            }
            h.push_str("</details>\n");
        }
    }
    let _ = write!(
        h,
        "<h2>Figures</h2>\n<p>{} figures per arm, read from each run's summary.json: {}.</p>\n",
        table.figures.len(),
        escape(&table.figures.join(", "))
    );
    h.push_str(
        "<footer><p class=\"meta\">Written by flotilla. Same sweep, same bytes: whole, in \
         shards merged, or with any number of jobs.</p></footer>\n</body>\n</html>\n",
    );
    h
}

fn figure(h: &mut String, c: &SweepChart) {
    let _ = write!(
        h,
        "<figure id=\"fig-{id}\">\n{svg}<figcaption>{t} <a href=\"plots/{id}.svg\">SVG</a></figcaption>\n</figure>\n",
        id = c.id,
        svg = c.svg,
        t = escape(&c.title)
    );
}
