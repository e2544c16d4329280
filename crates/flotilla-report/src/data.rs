//! The numbers behind each plot, computed from the per-payment rows with the
//! simulator's own definitions (success rate and its Wilson interval come from
//! `flotilla_sim::metrics`, so a plot can never disagree with the summary table).

use flotilla_sim::metrics::wilson_ci95;

use crate::load::Payment;

/// Success rate of the payments whose amount falls in one bin.
#[derive(Debug, Clone, PartialEq)]
pub struct AmountBin {
    /// Lower edge, sat (inclusive).
    pub lo_sat: f64,
    /// Upper edge, sat (exclusive, except for the last bin).
    pub hi_sat: f64,
    /// Payments in the bin.
    pub n: u64,
    /// Of which settled.
    pub ok: u64,
    /// 95% Wilson interval of `ok / n`.
    pub ci95: [f64; 2],
}

impl AmountBin {
    /// `ok / n`.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.n.max(1) as f64
    }

    /// The bin's geometric centre, sat: where it is drawn on a log axis.
    pub fn centre_sat(&self) -> f64 {
        (self.lo_sat * self.hi_sat).sqrt()
    }
}

/// Bins per decade of amount.
pub const AMOUNT_BINS_PER_DECADE: f64 = 4.0;

/// Log-spaced amount bin edges (sat) covering every arm's payments, aligned to
/// 10^(k/4) so that bins read as "1k–1.8k, 1.8k–3.2k, …" and are the same for every
/// arm (every arm runs the same workload anyway).
pub fn amount_edges(arms: &[Vec<Payment>]) -> Vec<f64> {
    let sats = arms.iter().flatten().map(|p| p.amount_msat as f64 / 1000.0);
    let (lo, hi) = sats.fold((f64::INFINITY, 0.0f64), |(lo, hi), a| {
        (lo.min(a), hi.max(a))
    });
    if !lo.is_finite() || hi <= 0.0 {
        return Vec::new();
    }
    let lo = lo.max(1e-3);
    let k0 = (lo.log10() * AMOUNT_BINS_PER_DECADE).floor() as i32;
    let mut k1 = (hi.log10() * AMOUNT_BINS_PER_DECADE).ceil() as i32;
    if k1 <= k0 {
        k1 = k0 + 1;
    }
    (k0..=k1)
        .map(|k| 10f64.powf(k as f64 / AMOUNT_BINS_PER_DECADE))
        .collect()
}

/// Success rate per amount bin for one arm; empty bins are left out.
pub fn success_by_amount(payments: &[Payment], edges: &[f64]) -> Vec<AmountBin> {
    if edges.len() < 2 {
        return Vec::new();
    }
    let bins = edges.len() - 1;
    let mut n = vec![0u64; bins];
    let mut ok = vec![0u64; bins];
    for p in payments {
        let sat = p.amount_msat as f64 / 1000.0;
        let i = edges.partition_point(|e| *e <= sat).saturating_sub(1);
        let i = i.min(bins - 1);
        n[i] += 1;
        ok[i] += p.succeeded as u64;
    }
    (0..bins)
        .filter(|&i| n[i] > 0)
        .map(|i| AmountBin {
            lo_sat: edges[i],
            hi_sat: edges[i + 1],
            n: n[i],
            ok: ok[i],
            ci95: wilson_ci95(ok[i], n[i]),
        })
        .collect()
}

/// Points of an empirical CDF: (value, share of values ≤ it), ascending. At most
/// `max_points` + 1 points are kept (evenly spaced in rank, always with the smallest
/// and largest value), so a plot of 100,000 payments stays a small SVG.
pub fn ecdf(mut values: Vec<f64>, max_points: usize) -> Vec<(f64, f64)> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let m = max_points.max(1).min(n);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(m + 1);
    for k in 0..=m {
        let idx = ((k as f64 / m as f64) * (n - 1) as f64).round() as usize;
        // The share at a value counts every equal value (ties jump at once).
        let v = values[idx];
        let rank = values.partition_point(|x| *x <= v);
        let point = (v, rank as f64 / n as f64);
        if out.last() != Some(&point) {
            out.push(point);
        }
    }
    out
}

/// Times to complete of the settled payments, seconds.
pub fn ttc_seconds(payments: &[Payment]) -> Vec<f64> {
    payments
        .iter()
        .filter(|p| p.succeeded)
        .filter_map(|p| p.ttc_ms)
        .map(|ms| ms / 1000.0)
        .collect()
}

/// Fee of each settled payment, ppm of its amount (the summary's definition).
pub fn fee_ppm(payments: &[Payment]) -> Vec<f64> {
    payments
        .iter()
        .filter(|p| p.succeeded)
        .map(|p| p.fee_msat as f64 / p.amount_msat.max(1) as f64 * 1e6)
        .collect()
}

/// Liquidity-seconds of every payment, sat·s.
pub fn liquidity(payments: &[Payment]) -> Vec<f64> {
    payments.iter().map(|p| p.liquidity_sat_seconds).collect()
}

/// Attempts of this many paths or more share the last bar.
pub const ATTEMPTS_CAP: u32 = 10;

/// Share of payments (0..1) with 0, 1, …, [`ATTEMPTS_CAP`] − 1 and ≥ [`ATTEMPTS_CAP`]
/// paths tried.
pub fn attempts_shares(payments: &[Payment]) -> Vec<f64> {
    let mut counts = vec![0u64; ATTEMPTS_CAP as usize + 1];
    for p in payments {
        counts[p.attempts.min(ATTEMPTS_CAP) as usize] += 1;
    }
    let n = payments.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pay(amount_sat: u64, ok: bool) -> Payment {
        Payment {
            amount_msat: amount_sat * 1000,
            succeeded: ok,
            fee_msat: if ok { amount_sat } else { 0 },
            attempts: if ok { 1 } else { 12 },
            ttc_ms: ok.then_some(500.0),
            tto_ms: Some(500.0),
            failure_reason: if ok {
                String::new()
            } else {
                "liquidity".into()
            },
            liquidity_sat_seconds: 0.0,
            dispatch_secs: None,
        }
    }

    #[test]
    fn amount_bins_are_quarter_decades_and_use_the_sims_wilson_interval() {
        let arm: Vec<Payment> = [1000, 1500, 2000, 9999, 10000]
            .into_iter()
            .map(|a| pay(a, a != 2000))
            .collect();
        let edges = amount_edges(std::slice::from_ref(&arm));
        assert!((edges[0] - 1000.0).abs() < 1e-6, "{edges:?}");
        assert!((edges.last().unwrap() - 10000.0).abs() < 1e-6, "{edges:?}");
        assert_eq!(edges.len(), 5);
        let bins = success_by_amount(&arm, &edges);
        let total: u64 = bins.iter().map(|b| b.n).sum();
        assert_eq!(
            total, 5,
            "every payment lands in a bin, the largest included"
        );
        let first = &bins[0];
        assert_eq!((first.n, first.ok), (2, 2));
        assert_eq!(first.ci95, wilson_ci95(2, 2));
    }

    #[test]
    fn ecdf_ends_at_one_and_counts_ties() {
        let e = ecdf(vec![3.0, 1.0, 2.0, 2.0], 100);
        assert_eq!(e, vec![(1.0, 0.25), (2.0, 0.75), (3.0, 1.0)]);
        let big = ecdf((0..100_000).map(f64::from).collect(), 200);
        assert!(big.len() <= 201);
        assert_eq!(big.last(), Some(&(99_999.0, 1.0)));
        assert_eq!(big[0].0, 0.0);
        assert!(ecdf(Vec::new(), 10).is_empty());
    }

    #[test]
    fn attempts_cap_collects_the_tail() {
        let s = attempts_shares(&[pay(1, true), pay(1, false)]);
        assert_eq!(s.len(), 11);
        assert_eq!((s[1], s[10]), (0.5, 0.5));
    }
}
