//! The paired bootstrap: resample payments (the same draw for every arm, since every
//! arm saw the same payments) and recompute each arm's figures on the resample.
//!
//! Resamples are Poisson bootstraps (Hanley and MacGibbon 2006; Chamandy et al. 2012):
//! each payment counts Poisson(1) times, drawn independently, rather than n draws with
//! replacement. The two agree closely from a few hundred payments on, and the Poisson
//! weights are drawn in one sequential pass: n draws with replacement scatter
//! increments over the whole weight array, a cache miss each at a million payments.
//!
//! Replicate `r` draws from its own ChaCha stream (the scenario seed's `"bootstrap"`
//! stream, stream number `r`), so the replicates — and the intervals — are the same
//! whatever the number of threads that compute them. Cost: per replicate, one draw per
//! payment and one pass per arm over the payments.

use rand::Rng;

use super::outcomes::ArmOutcomes;
use crate::metrics::quantile;

/// Replicates per run: percentile intervals at 95% settle to about a tenth of their
/// width at 1,000, and the cost stays a small fraction of the run.
pub const REPLICATES: usize = 1000;

/// The figures resampled, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Mean time to complete over settled payments, ms.
    TtcMean = 0,
    /// 99th percentile (nearest rank) time to complete over settled payments, ms.
    TtcP99 = 1,
    /// Mean time to outcome over every payment, ms.
    TtoMean = 2,
    /// Mean fee of settled payments, ppm of the amount.
    FeePpmMean = 3,
    /// Mean liquidity-seconds per payment, sat × s.
    LiquidityMean = 4,
}

/// How many [`Figure`]s.
pub const FIGURES: usize = 5;

/// One arm's figures on one (re)sample; NaN where undefined (no settled payment).
pub type Figures = [f64; FIGURES];

/// An arm prepared for resampling: its settled payments sorted by time, for the
/// weighted percentile.
pub struct Prepared<'a> {
    arm: &'a ArmOutcomes,
    settled_by_time: Vec<u32>,
}

impl<'a> Prepared<'a> {
    /// Sorts `arm`'s settled payments by time to complete.
    pub fn new(arm: &'a ArmOutcomes) -> Self {
        let mut settled_by_time: Vec<u32> = (0..arm.len())
            .filter(|&i| arm.get(i).is_some_and(|o| o.settled))
            .map(|i| i as u32)
            .collect();
        // Ties in index order, so the order is a function of the data alone.
        settled_by_time.sort_by(|&a, &b| {
            let (x, y) = (arm.get(a as usize), arm.get(b as usize));
            let (x, y) = (x.map_or(0.0, |o| o.tto_ms), y.map_or(0.0, |o| o.tto_ms));
            x.total_cmp(&y).then(a.cmp(&b))
        });
        Prepared {
            arm,
            settled_by_time,
        }
    }

    /// The figures with each payment counted `weights[i]` times (once each without
    /// weights: the point estimates).
    pub fn figures(&self, weights: Option<&[u8]>) -> Figures {
        let w = |i: usize| weights.map_or(1, |w| w[i]) as f64;
        let (mut n, mut settled_w, mut ttc, mut tto, mut fee, mut liq) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..self.arm.len() {
            let wi = w(i);
            if wi == 0.0 {
                continue;
            }
            let Some(o) = self.arm.get(i) else { continue };
            n += wi;
            tto += wi * o.tto_ms;
            liq += wi * o.liquidity;
            if o.settled {
                settled_w += wi;
                ttc += wi * o.tto_ms;
                fee += wi * o.fee_ppm;
            }
        }
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        let mut f = [f64::NAN; FIGURES];
        f[Figure::TtcMean as usize] = div(ttc, settled_w);
        f[Figure::TtcP99 as usize] = self.weighted_p99(weights, settled_w);
        f[Figure::TtoMean as usize] = div(tto, n);
        f[Figure::FeePpmMean as usize] = div(fee, settled_w);
        f[Figure::LiquidityMean as usize] = div(liq, n);
        f
    }

    /// The nearest-rank 99th percentile of the settled payments' times with each
    /// counted by its weight: the same rule as [`quantile`] on the expanded sample.
    fn weighted_p99(&self, weights: Option<&[u8]>, total: f64) -> f64 {
        if total <= 0.0 {
            return f64::NAN;
        }
        let rank = (0.99 * total).ceil().clamp(1.0, total);
        // Walk down from the slowest: the element of ascending rank r is the one where
        // the weight seen from the top first exceeds total − r.
        let mut above = 0.0;
        for &i in self.settled_by_time.iter().rev() {
            above += weights.map_or(1, |w| w[i as usize]) as f64;
            if above > total - rank {
                return self.arm.get(i as usize).map_or(f64::NAN, |o| o.tto_ms);
            }
        }
        f64::NAN
    }
}

/// `replicates` bootstrap replicates of every arm's figures: `[arm][replicate]`. The
/// arms must have the same payments (the same length).
pub fn replicate(
    seed: u64,
    arms: &[Prepared<'_>],
    replicates: usize,
    threads: usize,
) -> Vec<Vec<Figures>> {
    let n = arms.first().map_or(0, |a| a.arm.len());
    let mut out = vec![vec![[f64::NAN; FIGURES]; replicates]; arms.len()];
    if n == 0 || replicates == 0 {
        return out;
    }
    // Each thread keeps one weight per payment (4 bytes): at most eight of them.
    let threads = threads.clamp(1, replicates.min(8));
    let per = replicates.div_ceil(threads);
    let chunks: Vec<Vec<Vec<Figures>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * per)..((t + 1) * per).min(replicates);
                scope.spawn(move || {
                    let mut weights = vec![0u8; n];
                    range
                        .map(|r| {
                            draw_weights(seed, r, &mut weights);
                            arms.iter().map(|a| a.figures(Some(&weights))).collect()
                        })
                        .collect::<Vec<Vec<Figures>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bootstrap threads do not panic"))
            .collect()
    });
    for (r, per_arm) in chunks.into_iter().flatten().enumerate() {
        for (a, f) in per_arm.into_iter().enumerate() {
            out[a][r] = f;
        }
    }
    out
}

/// P(X ≤ k) for X ~ Poisson(1), k = 0, 1, …: past the last entry (k ≥ 12, one draw in
/// 10^11) a payment counts 12 times.
const POISSON1_CDF: [f64; 12] = [
    0.367_879_441_171_442_33,
    0.735_758_882_342_884_7,
    0.919_698_602_928_605_8,
    0.981_011_843_123_846_3,
    0.996_340_153_172_656_3,
    0.999_405_815_182_418_3,
    0.999_916_758_850_712,
    0.999_989_750_803_325_3,
    0.999_998_874_797_402,
    0.999_999_888_574_521_6,
    0.999_999_989_952_233_6,
    0.999_999_999_168_389_2,
];

/// Replicate `r`'s resample: `weights[i]` = how often payment `i` counts, Poisson(1).
fn draw_weights(seed: u64, r: usize, weights: &mut [u8]) {
    let mut rng = crate::rng::stream(seed, "bootstrap");
    rng.set_stream(r as u64);
    for w in weights.iter_mut() {
        let u: f64 = rng.random();
        *w = POISSON1_CDF.iter().take_while(|&&c| u >= c).count() as u8;
    }
}

/// The 95% percentile interval of `values` (NaNs, from resamples where the figure is
/// undefined, left out); `None` when fewer than half the replicates define it.
pub fn percentile_ci95(values: &mut Vec<f64>, replicates: usize) -> Option<[f64; 2]> {
    values.retain(|v| v.is_finite());
    if values.is_empty() || values.len() * 2 < replicates {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some([quantile(values, 0.025), quantile(values, 0.975)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::PaymentOutcome;

    fn arm(times: &[(bool, u64)]) -> ArmOutcomes {
        let mut a = ArmOutcomes::new(times.len());
        for (i, &(ok, micros)) in times.iter().enumerate() {
            a.record(&PaymentOutcome {
                payment: i as u64,
                amount_msat: 1_000_000,
                succeeded: ok,
                fee_msat: if ok { 1000 } else { 0 },
                attempts: 1,
                parts_sent: 1,
                parts_settled: ok as u32,
                ttc_ms: ok.then_some(micros as f64 / 1000.0),
                tto_micros: micros,
                busy_micros: micros,
                failure: None,
                liquidity_sat_seconds: i as f64,
                overpaid_msat: 0,
                extra_messages: 0,
            });
        }
        a
    }

    #[test]
    fn point_figures_match_the_summary_rules() {
        let a = arm(&[(true, 1000), (false, 9000), (true, 3000), (true, 2000)]);
        let f = Prepared::new(&a).figures(None);
        assert_eq!(f[Figure::TtcMean as usize], 2.0);
        assert_eq!(f[Figure::TtcP99 as usize], 3.0);
        assert_eq!(f[Figure::TtoMean as usize], 15.0 / 4.0);
        assert_eq!(f[Figure::FeePpmMean as usize], 1000.0);
        assert_eq!(f[Figure::LiquidityMean as usize], 1.5);
        let none = arm(&[(false, 5)]);
        assert!(Prepared::new(&none).figures(None)[0].is_nan());
    }

    #[test]
    fn weighted_p99_is_the_nearest_rank_of_the_expanded_sample() {
        let times: Vec<(bool, u64)> = (0..37).map(|i| (true, (i * 7919 % 101) * 1000)).collect();
        let a = arm(&times);
        let p = Prepared::new(&a);
        let weights: Vec<u8> = (0..37).map(|i| (i * 13 % 5) as u8).collect();
        let mut expanded = Vec::new();
        for (i, &(_, t)) in times.iter().enumerate() {
            for _ in 0..weights[i] {
                expanded.push(t as f64 / 1000.0);
            }
        }
        expanded.sort_by(f64::total_cmp);
        let total = expanded.len() as f64;
        assert_eq!(
            p.weighted_p99(Some(&weights), total),
            quantile(&expanded, 0.99)
        );
    }

    #[test]
    fn replicates_do_not_depend_on_threads_and_resample() {
        let times: Vec<(bool, u64)> = (0..500)
            .map(|i| (i % 7 != 0, (i * 37 % 211) * 100))
            .collect();
        let a = arm(&times);
        let b = arm(&times.iter().map(|&(ok, t)| (ok, t / 2)).collect::<Vec<_>>());
        let arms = [Prepared::new(&a), Prepared::new(&b)];
        let one = replicate(7, &arms, 64, 1);
        let three = replicate(7, &arms, 64, 3);
        assert_eq!(format!("{one:?}"), format!("{three:?}"));
        // The resamples differ from one another and from another seed's.
        assert_ne!(one[0][0], one[0][1]);
        assert_ne!(
            format!("{one:?}"),
            format!("{:?}", replicate(8, &arms, 64, 1))
        );
        // Paired: arm b is arm a at half the time, so every replicate's mean is half.
        for (a, b) in one[0].iter().zip(&one[1]) {
            let (x, y) = (a[0], b[0]);
            assert!((x - 2.0 * y).abs() < 1e-9, "{x} {y}");
        }
    }

    /// The cost at scale (BENCHMARKS.md): `cargo test --release -p flotilla-sim --lib
    /// bootstrap_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bootstrap_cost_for_a_million_payments() {
        let n = 1_000_000u64;
        let times: Vec<(bool, u64)> = (0..n)
            .map(|i| (i % 5 != 0, 100_000 + (i * 2_654_435_761) % 5_000_000))
            .collect();
        let arms: Vec<ArmOutcomes> = (0..3).map(|_| arm(&times)).collect();
        let started = std::time::Instant::now();
        let prepared: Vec<Prepared<'_>> = arms.iter().map(Prepared::new).collect();
        let reps = replicate(1, &prepared, REPLICATES, 2);
        eprintln!(
            "{n} payments × 3 arms × {REPLICATES} resamples on 2 threads: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(reps[0].len(), REPLICATES);
    }

    #[test]
    fn poisson_weights_have_mean_and_variance_one() {
        let mut w = vec![0u8; 200_000];
        draw_weights(3, 0, &mut w);
        let n = w.len() as f64;
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(
            (mean - 1.0).abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        let zeros = w.iter().filter(|&&x| x == 0).count() as f64 / n;
        assert!((zeros - (-1f64).exp()).abs() < 0.005, "{zeros}");
    }

    #[test]
    fn percentile_interval_covers_the_middle() {
        let mut v: Vec<f64> = (1..=1000).map(|x| x as f64).collect();
        v.push(f64::NAN);
        assert_eq!(percentile_ci95(&mut v, 1001), Some([25.0, 975.0]));
        let mut few = vec![1.0, f64::NAN, f64::NAN, f64::NAN];
        assert_eq!(percentile_ci95(&mut few, 4), None);
    }
}
