//! Statistics that answer "is arm A better than arm B?".
//!
//! Every arm of a run pays the identical workload, so arms are compared payment by
//! payment against a baseline arm (by default the first MPP arm):
//! - success: the 2×2 table of outcomes, the exact McNemar test ([`paired`]) and
//!   Newcombe's paired interval for the difference;
//! - times, fees and liquidity: the difference of the arms' figures with a paired
//!   bootstrap percentile interval ([`bootstrap`]: seeded, the same whatever the
//!   thread count).
//!
//! The interval of a single success rate is [`crate::metrics::wilson_ci95`].

pub mod bootstrap;
pub mod outcomes;
pub mod paired;

use serde::Serialize;

pub use bootstrap::{Figure, REPLICATES};
pub use outcomes::ArmOutcomes;
pub use paired::{mcnemar_exact_p, success_diff_ci95, Concordance};

/// One arm against the baseline (`summary.json`: `arms[].vs_baseline`). Every
/// difference is this arm minus the baseline; every interval is 95%. Figures that an
/// arm without settled payments cannot define are `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VsBaseline {
    /// The baseline arm's name.
    pub baseline: String,
    /// Payments compared (every payment of the workload).
    pub paired_payments: u64,
    /// Payments both arms settled.
    pub both_settled: u64,
    /// Payments only this arm settled.
    pub only_this_settled: u64,
    /// Payments only the baseline settled.
    pub only_baseline_settled: u64,
    /// Payments neither settled.
    pub neither_settled: u64,
    /// Success rate difference.
    pub success_diff: f64,
    /// Its interval (Newcombe's paired hybrid score interval).
    pub success_diff_ci: [f64; 2],
    /// Exact two-sided McNemar p-value for "both arms succeed equally often".
    pub mcnemar_p: f64,
    /// Difference in mean time to complete (settled payments), ms.
    pub ttc_mean_diff_ms: Option<f64>,
    /// Its paired bootstrap interval.
    pub ttc_mean_diff_ms_ci: Option<[f64; 2]>,
    /// Difference in 99th percentile time to complete, ms.
    pub ttc_p99_diff_ms: Option<f64>,
    /// Its paired bootstrap interval.
    pub ttc_p99_diff_ms_ci: Option<[f64; 2]>,
    /// Difference in mean time to outcome (every payment), ms.
    pub tto_mean_diff_ms: Option<f64>,
    /// Its paired bootstrap interval.
    pub tto_mean_diff_ms_ci: Option<[f64; 2]>,
    /// Difference in mean fee of settled payments, ppm.
    pub fee_ppm_mean_diff: Option<f64>,
    /// Its paired bootstrap interval.
    pub fee_ppm_mean_diff_ci: Option<[f64; 2]>,
    /// Difference in mean liquidity-seconds per payment, sat × s.
    pub liquidity_seconds_mean_diff: Option<f64>,
    /// Its paired bootstrap interval.
    pub liquidity_seconds_mean_diff_ci: Option<[f64; 2]>,
    /// Bootstrap replicates behind the intervals.
    pub bootstrap_replicates: usize,
}

/// Compares every arm of `arms` (one group of arms that paid the same workload) with
/// arm `baseline`: `None` for the baseline itself. `seed` keys the bootstrap.
pub fn compare_with_baseline(
    seed: u64,
    names: &[String],
    arms: &[&ArmOutcomes],
    baseline: usize,
    threads: usize,
) -> Vec<Option<VsBaseline>> {
    let prepared: Vec<bootstrap::Prepared<'_>> =
        arms.iter().map(|a| bootstrap::Prepared::new(a)).collect();
    let points: Vec<bootstrap::Figures> = prepared.iter().map(|p| p.figures(None)).collect();
    let reps = bootstrap::replicate(seed, &prepared, REPLICATES, threads);
    let base = arms[baseline];
    (0..arms.len())
        .map(|a| {
            if a == baseline {
                return None;
            }
            let t = concordance(arms[a], base);
            let diff = |f: Figure| {
                let d = points[a][f as usize] - points[baseline][f as usize];
                d.is_finite().then_some(d)
            };
            let ci = |f: Figure| {
                let mut v: Vec<f64> = (0..REPLICATES)
                    .map(|r| reps[a][r][f as usize] - reps[baseline][r][f as usize])
                    .collect();
                bootstrap::percentile_ci95(&mut v, REPLICATES)
            };
            Some(VsBaseline {
                baseline: names[baseline].clone(),
                paired_payments: t.n(),
                both_settled: t.both,
                only_this_settled: t.only_arm,
                only_baseline_settled: t.only_baseline,
                neither_settled: t.neither,
                success_diff: t.diff(),
                success_diff_ci: success_diff_ci95(&t),
                mcnemar_p: mcnemar_exact_p(&t),
                ttc_mean_diff_ms: diff(Figure::TtcMean),
                ttc_mean_diff_ms_ci: ci(Figure::TtcMean),
                ttc_p99_diff_ms: diff(Figure::TtcP99),
                ttc_p99_diff_ms_ci: ci(Figure::TtcP99),
                tto_mean_diff_ms: diff(Figure::TtoMean),
                tto_mean_diff_ms_ci: ci(Figure::TtoMean),
                fee_ppm_mean_diff: diff(Figure::FeePpmMean),
                fee_ppm_mean_diff_ci: ci(Figure::FeePpmMean),
                liquidity_seconds_mean_diff: diff(Figure::LiquidityMean),
                liquidity_seconds_mean_diff_ci: ci(Figure::LiquidityMean),
                bootstrap_replicates: REPLICATES,
            })
        })
        .collect()
}

/// The 2×2 table of `arm` against `baseline`, payment by payment.
pub fn concordance(arm: &ArmOutcomes, baseline: &ArmOutcomes) -> Concordance {
    let mut t = Concordance::default();
    for i in 0..arm.len().max(baseline.len()) {
        let x = arm.get(i).is_some_and(|o| o.settled);
        let y = baseline.get(i).is_some_and(|o| o.settled);
        match (x, y) {
            (true, true) => t.both += 1,
            (true, false) => t.only_arm += 1,
            (false, true) => t.only_baseline += 1,
            (false, false) => t.neither += 1,
        }
    }
    t
}
