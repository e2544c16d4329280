//! The report's six plots, every arm in one chart: success rate by amount, time to
//! complete, attempts, fees, liquidity locked, failures by reason.

use crate::chart::{wrap_label, Axis, Chart, Swatch, WIDTH};
use crate::data::{self, ATTEMPTS_CAP};
use crate::load::Results;
use crate::scale::{compact, percent, thousands, Scale};
use crate::style::{arm_style, category_color};
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
    ]
}

fn line_legend(r: &Results, extra: impl Fn(usize) -> String) -> Vec<(Swatch, String)> {
    r.arms
        .iter()
        .enumerate()
        .map(|(i, a)| (Swatch::Line(arm_style(i)), format!("{a}{}", extra(i))))
        .collect()
}

/// 0–100% with a little room beyond both ends, so markers at 0% and 100% are whole.
fn share_axis(label: &str) -> Axis {
    Axis {
        scale: Scale::linear(-0.03, 1.04),
        label: label.to_string(),
        ticks: Scale::linear(0.0, 1.0).ticks(percent),
    }
}

fn success_by_amount(r: &Results) -> Plot {
    let edges = data::amount_edges(&r.payments);
    let title = "Success rate by payment amount";
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
    let mut c = Chart::new(
        "success-by-amount",
        title,
        x,
        y,
        line_legend(r, |_| String::new()),
    );
    let n = r.arms.len() as f64;
    for (i, payments) in r.payments.iter().enumerate() {
        let style = arm_style(i);
        // Nudge arms sideways (in log units, within an eighth of a decade) so their
        // interval bars stay apart.
        let step = (0.12 / (n - 1.0).max(1.0)).min(0.02);
        let nudge = 10f64.powf((i as f64 - (n - 1.0) / 2.0) * step);
        let bins = data::success_by_amount(payments, &edges);
        let points: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (b.centre_sat() * nudge, b.rate()))
            .collect();
        c.line(&points, &style, 2.0);
        for (b, (x, y)) in bins.iter().zip(&points) {
            c.error_bar(*x, b.ci95[0], b.ci95[1], 0.0, style.color);
            c.marker(*x, *y, 0.0, &style);
        }
    }
    if r.payments.iter().all(Vec::is_empty) {
        c.note("no payments");
    }
    Plot {
        id: "success-by-amount",
        title: title.into(),
        caption: "Share of payments that fully settled, in amount bins a quarter of a decade \
                  wide; bars are 95% Wilson score intervals (the summary's own), so \
                  non-overlapping bars mean a real difference. Arms are nudged sideways \
                  so their bars stay apart."
            .into(),
        svg: c.finish(),
    }
}

/// A CDF chart of `values` per arm on a log x axis; values below the smallest
/// positive one (zeros) are drawn at the axis' left end.
fn cdf_plot(
    r: &Results,
    id: &'static str,
    title: &str,
    x_label: &str,
    y_label: &str,
    values: impl Fn(usize) -> Vec<f64>,
    floor: Option<f64>,
) -> Chart {
    let per_arm: Vec<Vec<f64>> = (0..r.arms.len()).map(&values).collect();
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
    let legend = line_legend(r, |i| format!(" (n = {})", thousands(counts[i] as u64)));
    let mut c = Chart::new(id, title, x, share_axis(y_label), legend);
    for (i, v) in per_arm.into_iter().enumerate() {
        let clamped: Vec<f64> = v.into_iter().map(|x| x.max(lo)).collect();
        let pts = data::ecdf(clamped, CDF_POINTS);
        // Start the curve at 0 on the left end so the first jump is visible.
        let mut line = Vec::with_capacity(pts.len() + 1);
        if let Some(first) = pts.first() {
            line.push((first.0 / 1.15, 0.0));
            line.push((first.0, 0.0));
        }
        line.extend(pts);
        c.line(&line, &arm_style(i), 2.5);
    }
    if !has_data {
        c.note("no data: no payment here has a positive value");
    }
    c
}

fn ttc_cdf(r: &Results) -> Plot {
    let title = "Time to complete, settled payments";
    let c = cdf_plot(
        r,
        "ttc-cdf",
        title,
        "time to complete (s, log scale)",
        "settled payments done within x (%)",
        |i| data::ttc_seconds(&r.payments[i]),
        None,
    );
    Plot {
        id: "ttc-cdf",
        title: title.into(),
        caption: "Cumulative distribution of the time from the sender's first send to \
                  learning that the payment settled, over settled payments (n per arm in \
                  the legend). Further left is faster; the upper right is the slow tail."
            .into(),
        svg: c.finish(),
    }
}

fn fee_cdf(r: &Results) -> Plot {
    let title = "Fees paid, settled payments";
    let c = cdf_plot(
        r,
        "fee-ppm-cdf",
        title,
        "fee (ppm of the amount, log scale; below 1 ppm drawn at 1)",
        "settled payments paying at most x (%)",
        |i| data::fee_ppm(&r.payments[i]),
        Some(1.0),
    );
    Plot {
        id: "fee-ppm-cdf",
        title: title.into(),
        caption: "Cumulative distribution of the fee of each settled payment in parts per \
                  million of its amount (1,000 ppm = 0.1%). Payments through a direct \
                  channel pay nothing and sit at the left end."
            .into(),
        svg: c.finish(),
    }
}

fn liquidity_cdf(r: &Results) -> Plot {
    let title = "Liquidity locked per payment";
    let c = cdf_plot(
        r,
        "liquidity-cdf",
        title,
        "liquidity-seconds (sat·s, log scale; payments that locked none at the left end)",
        "payments locking at most x (%)",
        |i| data::liquidity(&r.payments[i]),
        None,
    );
    Plot {
        id: "liquidity-cdf",
        title: title.into(),
        caption: "Cumulative distribution over all payments of Σ amount × hold time over \
                  every HTLC the payment put on the network, settled or failed: the \
                  capacity a payment keeps from everyone else. Payments that found no \
                  route locked nothing and form the step at the left end."
            .into(),
        svg: c.finish(),
    }
}

fn attempts(r: &Results) -> Plot {
    let title = "Paths tried per payment";
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
    let top = shares.iter().flatten().copied().fold(0.0f64, f64::max);
    let x = Axis::categories(&names, "paths tried (every part of every attempt)");
    let y = Axis::new(
        Scale::linear(0.0, (top * 1.1).clamp(0.05, 1.0)),
        "payments (%)",
        percent,
    );
    let legend = r
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| (Swatch::Fill(arm_style(i).color), a.clone()))
        .collect();
    let mut c = Chart::new("attempts", title, x, y, legend).without_x_grid();
    let n = r.arms.len().max(1) as f64;
    let width = 0.84 / n;
    for (i, arm_shares) in shares.iter().enumerate() {
        let color = arm_style(i).color;
        for (k, share) in arm_shares.iter().enumerate() {
            let x0 = k as f64 - 0.42 + i as f64 * width;
            let tip = format!("{}: {} paths, {:.1}%", r.arms[i], names[k], share * 100.0);
            c.rect(x0, x0 + width, 0.0, *share, color, &tip);
        }
    }
    Plot {
        id: "attempts",
        title: title.into(),
        caption: "Share of each arm's payments by the number of paths tried; every part \
                  of every attempt counts, so a payment split in 4 parts that succeeded \
                  at once tried 4. 0 means no route was found and nothing was sent."
            .into(),
        svg: c.finish(),
    }
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
    Plot {
        id: "failures",
        title: title.into(),
        caption: "Failed payments of each arm, stacked by why the sender gave up. \
                  no_route: no path within the limits before any attempt failed; \
                  liquidity, policy, offline: attempts failed mostly for that cause; \
                  timeout: not settled before the sender's deadline; receiver_reject: \
                  the receiver refused."
            .into(),
        svg: c.finish(),
    }
}
