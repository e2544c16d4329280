//! The report's plots: success rate by amount, time to complete, attempts, fees,
//! liquidity locked, failures by reason (and, from `timeline`, success and fees over
//! simulated time). Up to [`MAX_ARMS_PER_PANEL`] arms share one
//! chart; a run with more is drawn in panels, one per arm family (lock type), each
//! with the baseline arm for reference, so legends stay short and lines and error
//! bars stay apart.

use crate::chart::{facets, wrap_label, Axis, Chart, Swatch, WIDTH};
use crate::data::{self, ATTEMPTS_CAP};
use crate::load::Results;
use crate::scale::{compact, percent, thousands, Scale};
use crate::style::{arm_styles, category_color, family, SeriesStyle, MAX_ARMS_PER_PANEL};
use flotilla_sim::metrics::FailureReason;

/// One finished plot.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File stem under `plots/` and the SVG element's id.
    pub id: &'static str,
    /// Title.
    pub title: String,
    /// How to read it: one or two sentences under the plot.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The same figure without its title, for papers (`plots/paper/`).
    pub paper_svg: String,
}

/// Which arms one chart (or panel) shows, and how every arm looks.
pub(crate) struct View<'a> {
    /// Indices into the run's arms.
    pub(crate) arms: Vec<usize>,
    /// Every arm's style (the same in every panel).
    pub(crate) styles: &'a [SeriesStyle],
}

/// The groups of arms a figure shows: all arms in one chart, or one panel per family
/// (with the baseline in each panel of another family) past [`MAX_ARMS_PER_PANEL`].
/// Each group with its panel title suffix (empty for a single chart).
fn groups(r: &Results) -> Vec<(String, Vec<usize>)> {
    let all: Vec<usize> = (0..r.arms.len()).collect();
    if r.arms.len() <= MAX_ARMS_PER_PANEL {
        return vec![(String::new(), all)];
    }
    let baseline = r.baseline_index();
    let mut fams: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, a) in r.arms.iter().enumerate() {
        let f = family(a);
        match fams.iter_mut().find(|(g, _)| *g == f) {
            Some((_, v)) => v.push(i),
            None => fams.push((f, vec![i])),
        }
    }
    fams.into_iter()
        .map(|(f, mut arms)| {
            let label = if f == "mpp" {
                "MPP and single-path arms".to_string()
            } else {
                format!("{f} arms")
            };
            if !arms.contains(&baseline) {
                arms.insert(0, baseline);
                (
                    format!("{label}, with the baseline {}", r.arms[baseline]),
                    arms,
                )
            } else {
                (label, arms)
            }
        })
        .collect()
}

/// Draws a figure: one chart, or panels per [`groups`]. `draw` makes one chart from
/// its id, title and view.
pub(crate) fn figure(
    r: &Results,
    id: &'static str,
    title: &str,
    caption: &str,
    draw: impl Fn(&str, &str, &View<'_>) -> Chart,
) -> Plot {
    let styles = arm_styles(&r.arms);
    let groups = groups(r);
    let (svg, paper_svg) = if groups.len() == 1 && groups[0].0.is_empty() {
        let view = View {
            arms: groups[0].1.clone(),
            styles: &styles,
        };
        draw(id, title, &view).finish_both()
    } else {
        let panels: Vec<Chart> = groups
            .iter()
            .enumerate()
            .map(|(k, (label, arms))| {
                let view = View {
                    arms: arms.clone(),
                    styles: &styles,
                };
                draw(&format!("{id}-{k}"), label, &view)
            })
            .collect();
        facets(id, title, &panels)
    };
    Plot {
        id,
        title: title.into(),
        caption: caption.into(),
        svg,
        paper_svg,
    }
}

/// Points per CDF line: plenty for a smooth curve, small SVG for any payment count.
const CDF_POINTS: usize = 400;

/// Every plot of the report, in the order it shows them.
pub fn all(r: &Results) -> Vec<Plot> {
    vec![
        success_by_amount(r),
        ttc_cdf(r),
        attempts(r),
        fee_cdf(r),
        liquidity_cdf(r),
        failures(r),
        crate::timeline::success_over_time(r),
        crate::timeline::fee_over_time(r),
    ]
}

pub(crate) fn line_legend(
    r: &Results,
    v: &View<'_>,
    extra: impl Fn(usize) -> String,
) -> Vec<(Swatch, String)> {
    v.arms
        .iter()
        .map(|&i| {
            (
                Swatch::Line(v.styles[i].clone()),
                format!("{}{}", r.arms[i], extra(i)),
            )
        })
        .collect()
}

/// 0–100% with a little room beyond both ends, so markers at 0% and 100% are whole.
pub(crate) fn share_axis(label: &str) -> Axis {
    Axis {
        scale: Scale::linear(-0.03, 1.04),
        label: label.to_string(),
        ticks: Scale::linear(0.0, 1.0).ticks(percent),
    }
}

fn success_by_amount(r: &Results) -> Plot {
    let edges = data::amount_edges(&r.payments);
    figure(
        r,
        "success-by-amount",
        "Success rate by payment amount",
        "Share of payments that fully settled, in amount bins a quarter of a decade \
         wide; bars are 95% Wilson score intervals (the summary's own), so \
         non-overlapping bars mean a real difference. Arms are nudged sideways \
         so their bars stay apart.",
        |id, title, v| {
            let (lo, hi) = match (edges.first(), edges.last()) {
                (Some(a), Some(b)) => (*a, *b),
                _ => (1.0, 10.0),
            };
            let x = Axis::new(
                Scale::log(lo, hi),
                "payment amount (sat, log scale)",
                compact,
            );
            let y = share_axis("payments that settled (%)");
            let mut c = Chart::new(id, title, x, y, line_legend(r, v, |_| String::new()));
            let n = v.arms.len() as f64;
            for (slot, &i) in v.arms.iter().enumerate() {
                let style = &v.styles[i];
                // Nudge arms sideways (in log units, within an eighth of a decade) so
                // their interval bars stay apart.
                let step = (0.12 / (n - 1.0).max(1.0)).min(0.02);
                let nudge = 10f64.powf((slot as f64 - (n - 1.0) / 2.0) * step);
                let bins = data::success_by_amount(&r.payments[i], &edges);
                let points: Vec<(f64, f64)> = bins
                    .iter()
                    .map(|b| (b.centre_sat() * nudge, b.rate()))
                    .collect();
                c.line(&points, style, 2.0);
                for (b, (x, y)) in bins.iter().zip(&points) {
                    c.error_bar(*x, b.ci95[0], b.ci95[1], 0.0, style.color);
                    c.marker(*x, *y, 0.0, style);
                }
            }
            if v.arms.iter().all(|&i| r.payments[i].is_empty()) {
                c.note("no payments");
            }
            c
        },
    )
}

/// A CDF chart of `values` per arm on a log x axis; values below the smallest
/// positive one (zeros) are drawn at the axis' left end.
#[allow(clippy::too_many_arguments)]
fn cdf_plot(
    r: &Results,
    v: &View<'_>,
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    values: impl Fn(usize) -> Vec<f64>,
    floor: Option<f64>,
) -> Chart {
    let per_arm: Vec<Vec<f64>> = v.arms.iter().map(|&i| values(i)).collect();
    let positive = per_arm.iter().flatten().copied().filter(|v| *v > 0.0);
    let (min_pos, max) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let lo = match floor {
        Some(f) => f.min(max.max(f)),
        None => min_pos,
    };
    let has_data = max > 0.0;
    let x = Axis::new(
        Scale::log(if has_data { lo } else { 1.0 }, max.max(lo * 10.0)),
        x_label,
        compact,
    );
    let counts: Vec<usize> = per_arm.iter().map(Vec::len).collect();
    let legend = line_legend(r, v, |i| {
        let slot = v.arms.iter().position(|&a| a == i).unwrap_or(0);
        format!(" (n = {})", thousands(counts[slot] as u64))
    });
    let mut c = Chart::new(id, title, x, share_axis(y_label), legend);
    for (slot, values) in per_arm.into_iter().enumerate() {
        let clamped: Vec<f64> = values.into_iter().map(|x| x.max(lo)).collect();
        let pts = data::ecdf(clamped, CDF_POINTS);
        // Start the curve at 0 on the left end so the first jump is visible.
        let mut line = Vec::with_capacity(pts.len() + 1);
        if let Some(first) = pts.first() {
            line.push((first.0 / 1.15, 0.0));
            line.push((first.0, 0.0));
        }
        line.extend(pts);
        c.line(&line, &v.styles[v.arms[slot]], 2.5);
    }
    if !has_data {
        c.note("no data: no payment here has a positive value");
    }
    c
}

fn ttc_cdf(r: &Results) -> Plot {
    figure(
        r,
        "ttc-cdf",
        "Time to complete, settled payments",
        "Cumulative distribution of the time from the sender's first send to \
                  learning that the payment settled, over settled payments (n per arm in \
                  the legend). Further left is faster; the upper right is the slow tail.",
        |id, title, v| {
            cdf_plot(
                r,
                v,
                id,
                title,
                "time to complete (s, log scale)",
                "settled payments done within x (%)",
                |i| data::ttc_seconds(&r.payments[i]),
                None,
            )
        },
    )
}

fn fee_cdf(r: &Results) -> Plot {
    figure(
        r,
        "fee-ppm-cdf",
        "Fees paid, settled payments",
        "Cumulative distribution of the fee of each settled payment in parts per \
                  million of its amount (1,000 ppm = 0.1%). Payments through a direct \
                  channel pay nothing and sit at the left end.",
        |id, title, v| {
            cdf_plot(
                r,
                v,
                id,
                title,
                "fee (ppm of the amount, log scale; below 1 ppm drawn at 1)",
                "settled payments paying at most x (%)",
                |i| data::fee_ppm(&r.payments[i]),
                Some(1.0),
            )
        },
    )
}

fn liquidity_cdf(r: &Results) -> Plot {
    figure(
        r,
        "liquidity-cdf",
        "Liquidity locked per payment",
        "Cumulative distribution over all payments of Σ amount × hold time over \
                  every HTLC the payment put on the network, settled or failed: the \
                  capacity a payment keeps from everyone else. Payments that found no \
                  route locked nothing and form the step at the left end.",
        |id, title, v| {
            cdf_plot(
                r,
                v,
                id,
                title,
                "liquidity-seconds (sat·s, log scale; payments that locked none at the left end)",
                "payments locking at most x (%)",
                |i| data::liquidity(&r.payments[i]),
                None,
            )
        },
    )
}

fn attempts(r: &Results) -> Plot {
    let names: Vec<String> = (0..=ATTEMPTS_CAP)
        .map(|k| {
            if k == ATTEMPTS_CAP {
                format!("≥{k}")
            } else {
                k.to_string()
            }
        })
        .collect();
    let shares: Vec<Vec<f64>> = r
        .payments
        .iter()
        .map(|p| data::attempts_shares(p))
        .collect();
    // One y axis for every panel, so panels compare at a glance.
    let top = shares.iter().flatten().copied().fold(0.0f64, f64::max);
    figure(
        r,
        "attempts",
        "Paths tried per payment",
        "Share of each arm's payments by the number of paths tried; every part \
         of every attempt counts, so a payment split in 4 parts that succeeded \
         at once tried 4. 0 means no route was found and nothing was sent.",
        |id, title, v| {
            let x = Axis::categories(&names, "paths tried (every part of every attempt)");
            let y = Axis::new(
                Scale::linear(0.0, (top * 1.1).clamp(0.05, 1.0)),
                "payments (%)",
                percent,
            );
            let legend = v
                .arms
                .iter()
                .map(|&i| (Swatch::Fill(v.styles[i].color), r.arms[i].clone()))
                .collect();
            let mut c = Chart::new(id, title, x, y, legend).without_x_grid();
            let n = v.arms.len().max(1) as f64;
            let width = 0.84 / n;
            for (slot, &i) in v.arms.iter().enumerate() {
                let color = v.styles[i].color;
                for (k, share) in shares[i].iter().enumerate() {
                    let x0 = k as f64 - 0.42 + slot as f64 * width;
                    let tip = format!("{}: {} paths, {:.1}%", r.arms[i], names[k], share * 100.0);
                    c.rect(x0, x0 + width, 0.0, *share, color, &tip);
                }
            }
            c
        },
    )
}

fn failures(r: &Results) -> Plot {
    let title = "Failed payments by reason";
    let arms = r.arm_summaries();
    // Reasons that occurred anywhere: the simulator's report order, then any others.
    let mut reasons: Vec<String> = Vec::new();
    let known = FailureReason::ALL.map(|f| f.name().to_string());
    for a in &arms {
        if let Some(f) = a.get("failures").and_then(|f| f.as_object()) {
            for (k, v) in f {
                if v.as_u64().unwrap_or(0) > 0 && !reasons.contains(k) {
                    reasons.push(k.clone());
                }
            }
        }
    }
    reasons.sort_by_key(|r| known.iter().position(|k| k == r).unwrap_or(known.len()));
    let count = |arm: usize, reason: &str| -> u64 {
        arms.get(arm)
            .and_then(|a| a.get("failures"))
            .and_then(|f| f.get(reason))
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    };
    let payments = |arm: usize| -> u64 {
        arms.get(arm)
            .and_then(|a| a.get("payments"))
            .and_then(|v| v.as_u64())
            .unwrap_or(r.payments[arm].len() as u64)
            .max(1)
    };
    let totals: Vec<f64> = (0..r.arms.len())
        .map(|i| reasons.iter().map(|re| count(i, re)).sum::<u64>() as f64 / payments(i) as f64)
        .collect();
    let top = totals.iter().copied().fold(0.0f64, f64::max);
    let slot = (WIDTH - 120.0) / r.arms.len().max(1) as f64;
    let names: Vec<String> = r.arms.iter().map(|a| wrap_label(a, slot - 8.0)).collect();
    let x = Axis::categories(&names, "arm");
    let y = Axis::new(
        Scale::linear(0.0, (top * 1.15).clamp(0.05, 1.0)),
        "failed payments (% of the arm's payments)",
        percent,
    );
    let legend = reasons
        .iter()
        .enumerate()
        .map(|(j, re)| (Swatch::Fill(category_color(j)), re.clone()))
        .collect();
    let mut c = Chart::new("failures", title, x, y, legend).without_x_grid();
    for i in 0..r.arms.len() {
        let mut base = 0.0;
        for (j, re) in reasons.iter().enumerate() {
            let n = count(i, re);
            let share = n as f64 / payments(i) as f64;
            if n > 0 {
                let tip = format!(
                    "{}: {re}, {} payments ({:.1}%)",
                    r.arms[i],
                    thousands(n),
                    share * 100.0
                );
                c.rect(
                    i as f64 - 0.3,
                    i as f64 + 0.3,
                    base,
                    base + share,
                    category_color(j),
                    &tip,
                );
            }
            base += share;
        }
        c.label(i as f64, base, &format!("{:.1}% failed", base * 100.0));
    }
    if reasons.is_empty() {
        c.note("no payment failed");
    }
    let (svg, paper_svg) = c.finish_both();
    Plot {
        id: "failures",
        title: title.into(),
        caption: "Failed payments of each arm, stacked by why the sender gave up. \
                  no_route: no path within the limits before any attempt failed; \
                  liquidity, policy, offline: attempts failed mostly for that cause; \
                  timeout: not settled before the sender's deadline; receiver_reject: \
                  the receiver refused."
            .into(),
        svg,
        paper_svg,
    }
}
