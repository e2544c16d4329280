//! Success and fees over simulated time: whether a run is stationary. A long random
//! workload drains liquidity toward its receivers, so success falls and fees rise as
//! the run goes on; a balanced demand keeps both flat. Payments are grouped by the
//! time they started into [`TIME_BINS`] equal windows of the run.

use crate::chart::{Axis, Chart};
use crate::load::{Payment, Results};
use crate::plots::{figure, line_legend, share_axis, Plot};
use crate::scale::{compact, Scale};
use flotilla_sim::metrics::wilson_ci95;

/// Windows a run's span of start times is cut into.
pub const TIME_BINS: usize = 40;

/// The payments that started in one window of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeBin {
    /// Window start, simulated seconds.
    pub t0: f64,
    /// Window end, simulated seconds.
    pub t1: f64,
    /// Payments started in the window.
    pub n: u64,
    /// Of which settled.
    pub ok: u64,
    /// 95% Wilson interval of `ok / n`.
    pub ci95: [f64; 2],
    /// Fees of the settled ones, msat.
    pub fee_msat: u64,
}

impl TimeBin {
    /// `ok / n`.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.n.max(1) as f64
    }

    /// Mean fee per settled payment, sat (0 when none settled).
    pub fn fee_per_settled_sat(&self) -> f64 {
        self.fee_msat as f64 / 1000.0 / self.ok.max(1) as f64
    }

    /// The window's centre, where it is drawn.
    pub fn centre(&self) -> f64 {
        (self.t0 + self.t1) / 2.0
    }
}

/// `TIME_BINS + 1` equal edges over every arm's start times (every arm shares them,
/// so their windows line up), or none if no payment has a start time.
pub fn time_edges(arms: &[Vec<Payment>]) -> Vec<f64> {
    let starts = arms.iter().flatten().filter_map(|p| p.dispatch_secs);
    let (lo, hi) = starts.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if !lo.is_finite() {
        return Vec::new();
    }
    let hi = if hi > lo { hi } else { lo + 1.0 };
    (0..=TIME_BINS)
        .map(|k| lo + (hi - lo) * k as f64 / TIME_BINS as f64)
        .collect()
}

/// The windows of `edges` with their payments (the last window includes its end);
/// empty windows are left out.
pub fn time_bins(payments: &[Payment], edges: &[f64]) -> Vec<TimeBin> {
    if edges.len() < 2 {
        return Vec::new();
    }
    let k = edges.len() - 1;
    let (lo, hi) = (edges[0], edges[k]);
    let mut bins: Vec<TimeBin> = edges
        .windows(2)
        .map(|w| TimeBin {
            t0: w[0],
            t1: w[1],
            n: 0,
            ok: 0,
            ci95: [0.0, 1.0],
            fee_msat: 0,
        })
        .collect();
    for p in payments {
        let Some(t) = p.dispatch_secs else { continue };
        let i = (((t - lo) / (hi - lo)) * k as f64)
            .floor()
            .clamp(0.0, k as f64 - 1.0) as usize;
        let b = &mut bins[i];
        b.n += 1;
        if p.succeeded {
            b.ok += 1;
            b.fee_msat += p.fee_msat;
        }
    }
    bins.retain(|b| b.n > 0);
    for b in &mut bins {
        b.ci95 = wilson_ci95(b.ok, b.n);
    }
    bins
}

/// Rolling success: each arm's success rate per window of start time.
pub fn success_over_time(r: &Results) -> Plot {
    let edges = time_edges(&r.payments);
    figure(
        r,
        "success-over-time",
        "Success rate over simulated time",
        "Share of payments that settled, by when they started, in 40 equal windows of \
         the run; bars are 95% Wilson intervals. A line that falls as the run goes on \
         means liquidity drains (payments pile it up at their receivers); a flat one, \
         a stationary run.",
        |id, title, v| {
            let x = x_axis(&edges);
            let y = share_axis("payments started in the window that settled (%)");
            let mut c = Chart::new(id, title, x, y, line_legend(r, v, |_| String::new()));
            for &i in &v.arms {
                let style = &v.styles[i];
                let bins = time_bins(&r.payments[i], &edges);
                let points: Vec<(f64, f64)> = bins.iter().map(|b| (b.centre(), b.rate())).collect();
                c.line(&points, style, 2.0);
                for (b, (x, y)) in bins.iter().zip(&points) {
                    c.error_bar(*x, b.ci95[0], b.ci95[1], 0.0, style.color);
                    c.marker(*x, *y, 0.0, style);
                }
            }
            if edges.is_empty() {
                c.note("no payments");
            }
            c
        },
    )
}

/// Rolling cost: each arm's mean fee per settled payment per window of start time.
pub fn fee_over_time(r: &Results) -> Plot {
    let edges = time_edges(&r.payments);
    let top = r
        .payments
        .iter()
        .flat_map(|p| time_bins(p, &edges))
        .map(|b| b.fee_per_settled_sat())
        .fold(0.0f64, f64::max);
    figure(
        r,
        "fee-over-time",
        "Fee per settled payment over simulated time",
        "Mean fee of the payments that settled, by when they started, in the same \
         windows. The workload's amounts are drawn the same way all run long, so a \
         rising line means the routes got dearer: cheap channels drained and payments \
         detour.",
        |id, title, v| {
            let x = x_axis(&edges);
            let y = Axis::new(
                Scale::linear(0.0, (top * 1.1).max(1.0)),
                "mean fee per settled payment (sat)",
                compact,
            );
            let mut c = Chart::new(id, title, x, y, line_legend(r, v, |_| String::new()));
            for &i in &v.arms {
                let style = &v.styles[i];
                let points: Vec<(f64, f64)> = time_bins(&r.payments[i], &edges)
                    .iter()
                    .filter(|b| b.ok > 0)
                    .map(|b| (b.centre(), b.fee_per_settled_sat()))
                    .collect();
                c.line(&points, style, 2.0);
                for (x, y) in &points {
                    c.marker(*x, *y, 0.0, style);
                }
            }
            if edges.is_empty() {
                c.note("no payments");
            }
            c
        },
    )
}

fn x_axis(edges: &[f64]) -> Axis {
    let (lo, hi) = match (edges.first(), edges.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (0.0, 1.0),
    };
    Axis::new(
        Scale::linear(lo, hi),
        "simulated time the payment started (s)",
        compact,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(t: f64, ok: bool, fee_msat: u64) -> Payment {
        Payment {
            amount_msat: 1_000_000,
            succeeded: ok,
            fee_msat,
            attempts: 1,
            ttc_ms: ok.then_some(100.0),
            tto_ms: Some(100.0),
            failure_reason: String::new(),
            liquidity_sat_seconds: 0.0,
            dispatch_secs: Some(t),
        }
    }

    #[test]
    fn windows_count_success_and_fees_by_start_time() {
        // 400 s: the first half always settles at 2 sat, the second half half the time
        // at 8 sat.
        let ps: Vec<Payment> = (0..400)
            .map(|i| {
                let t = i as f64;
                if t < 200.0 {
                    pay(t, true, 2_000)
                } else {
                    pay(t, i % 2 == 0, 8_000)
                }
            })
            .collect();
        let edges = time_edges(std::slice::from_ref(&ps));
        assert_eq!(edges.len(), TIME_BINS + 1);
        assert_eq!((edges[0], edges[TIME_BINS]), (0.0, 399.0));
        let bins = time_bins(&ps, &edges);
        assert_eq!(bins.iter().map(|b| b.n).sum::<u64>(), 400);
        assert_eq!(bins[0].rate(), 1.0);
        assert_eq!(bins[0].fee_per_settled_sat(), 2.0);
        let last = bins.last().unwrap();
        assert!((last.rate() - 0.5).abs() < 0.1, "{}", last.rate());
        assert_eq!(last.fee_per_settled_sat(), 8.0);
        assert!(last.ci95[0] < 0.5 && last.ci95[1] > 0.5);
        // Payments without a start time are left out; none at all: no windows.
        let none = vec![Payment {
            dispatch_secs: None,
            ..pay(0.0, true, 0)
        }];
        assert!(time_edges(&[none]).is_empty());
    }
}
