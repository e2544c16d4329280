//! Paired comparison of two success/failure outcomes on the same payments: the exact
//! McNemar test and Newcombe's hybrid score interval for the difference.

use crate::metrics::wilson_ci95;

/// The 2×2 table of two arms over the same payments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Concordance {
    /// Both arms settled the payment.
    pub both: u64,
    /// Only the compared arm settled it.
    pub only_arm: u64,
    /// Only the baseline settled it.
    pub only_baseline: u64,
    /// Neither did.
    pub neither: u64,
}

impl Concordance {
    /// Payments compared.
    pub fn n(&self) -> u64 {
        self.both + self.only_arm + self.only_baseline + self.neither
    }

    /// Success rate of the arm minus that of the baseline.
    pub fn diff(&self) -> f64 {
        let n = self.n();
        if n == 0 {
            return 0.0;
        }
        (self.only_arm as f64 - self.only_baseline as f64) / n as f64
    }
}

/// The exact (binomial) two-sided McNemar p-value: under "the arms succeed equally
/// often", the discordant payments split as Binomial(b + c, 1/2). 1 when no payment is
/// discordant.
pub fn mcnemar_exact_p(t: &Concordance) -> f64 {
    let (b, c) = (t.only_arm, t.only_baseline);
    let m = b + c;
    if m == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // ln of C(m, i) / 2^m for i = 0..=k, summed relative to the largest term (i = k:
    // the terms grow up to m/2), so a million discordant pairs neither underflow nor
    // lose the tail.
    let ln2 = std::f64::consts::LN_2;
    let mut ln_terms = Vec::with_capacity(k as usize + 1);
    let mut ln_c = 0.0_f64;
    for i in 0..=k {
        if i > 0 {
            ln_c += ((m - i + 1) as f64).ln() - (i as f64).ln();
        }
        ln_terms.push(ln_c - m as f64 * ln2);
    }
    let top = ln_terms[k as usize];
    let sum: f64 = ln_terms.iter().map(|t| (t - top).exp()).sum();
    (2.0 * (top + sum.ln()).exp()).min(1.0)
}

/// 95% interval of the paired difference in success rates (arm − baseline):
/// Newcombe's hybrid score method 10 (Statistics in Medicine 17, 1998), built from the
/// two marginal Wilson intervals and the correlation of the pairs. Stays inside
/// [−1, 1] and behaves near 0 and 1, where the Wald interval does not.
pub fn success_diff_ci95(t: &Concordance) -> [f64; 2] {
    let n = t.n();
    if n == 0 {
        return [-1.0, 1.0];
    }
    let nf = n as f64;
    let s1 = t.both + t.only_arm;
    let s2 = t.both + t.only_baseline;
    let (p1, p2) = (s1 as f64 / nf, s2 as f64 / nf);
    let [l1, u1] = wilson_ci95(s1, n);
    let [l2, u2] = wilson_ci95(s2, n);
    let (a, b, c, d) = (
        t.both as f64,
        t.only_arm as f64,
        t.only_baseline as f64,
        t.neither as f64,
    );
    // The correlation of the pairs, with Newcombe's continuity correction: a positive
    // cross-product below n/2 counts as none.
    let denom = ((a + b) * (c + d) * (a + c) * (b + d)).sqrt();
    let cross = a * d - b * c;
    let phi = if denom == 0.0 || (0.0..=nf / 2.0).contains(&cross) {
        0.0
    } else if cross > 0.0 {
        (cross - nf / 2.0) / denom
    } else {
        cross / denom
    };
    let diff = p1 - p2;
    let lower = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2))
        .max(0.0)
        .sqrt();
    let upper = ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2))
        .max(0.0)
        .sqrt();
    [(diff - lower).max(-1.0), (diff + upper).min(1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(both: u64, only_arm: u64, only_baseline: u64, neither: u64) -> Concordance {
        Concordance {
            both,
            only_arm,
            only_baseline,
            neither,
        }
    }

    #[test]
    fn mcnemar_matches_the_binomial_by_hand() {
        // 2 vs 9 discordant: P(X <= 2 | 11, 1/2) = (1 + 11 + 55) / 2048.
        let p = mcnemar_exact_p(&table(30, 2, 9, 5));
        assert!((p - 2.0 * 67.0 / 2048.0).abs() < 1e-12, "{p}");
        // Symmetric in the arms.
        assert_eq!(p, mcnemar_exact_p(&table(30, 9, 2, 5)));
        // Balanced discordance: p = 1; none at all: p = 1.
        assert_eq!(mcnemar_exact_p(&table(10, 4, 4, 1)), 1.0);
        assert_eq!(mcnemar_exact_p(&table(10, 0, 0, 1)), 1.0);
        // 0 vs 10: 2 / 1024.
        let p = mcnemar_exact_p(&table(0, 0, 10, 0));
        assert!((p - 2.0 / 1024.0).abs() < 1e-15, "{p}");
    }

    #[test]
    fn mcnemar_survives_huge_counts() {
        // 500,000 vs 501,000 discordant pairs: z = 1000 / √1,001,000 ≈ 0.9995, p ≈
        // 0.3176 by the normal approximation, which is excellent at this size.
        let p = mcnemar_exact_p(&table(0, 500_000, 501_000, 0));
        assert!((p - 0.3176).abs() < 0.002, "{p}");
        let p = mcnemar_exact_p(&table(0, 400_000, 600_000, 0));
        assert!((0.0..1e-300).contains(&p), "{p}");
    }

    #[test]
    fn newcombe_interval_matches_the_textbook_example() {
        // Fagerland, Lydersen and Laake, "Statistical Analysis of Contingency Tables"
        // (2017), chapter 8: complete response before and after consolidation therapy
        // (Cavo et al., 2012), table (59, 6, 16, 80): estimate -0.0621, Newcombe
        // square-and-add interval -0.1186 to -0.0046.
        let t = table(59, 6, 16, 80);
        assert!((t.diff() + 10.0 / 161.0).abs() < 1e-12);
        let [lo, hi] = success_diff_ci95(&t);
        assert!(
            (lo + 0.1186).abs() < 6e-5 && (hi + 0.0046).abs() < 6e-5,
            "{lo} {hi}"
        );
    }

    #[test]
    fn newcombe_interval_is_sane_at_the_edges() {
        for t in [
            table(100, 0, 0, 0),
            table(0, 0, 0, 100),
            table(0, 100, 0, 0),
            table(0, 0, 100, 0),
            table(1, 0, 0, 0),
            table(0, 0, 0, 0),
            table(50, 3, 1, 46),
        ] {
            let [lo, hi] = success_diff_ci95(&t);
            let d = t.diff();
            assert!(
                (-1.0..=1.0).contains(&lo) && (-1.0..=1.0).contains(&hi),
                "{t:?}"
            );
            assert!(lo <= d + 1e-12 && d <= hi + 1e-12, "{t:?}: {lo} {d} {hi}");
        }
        // More pairs, narrower interval.
        let w = |k: u64| {
            let [lo, hi] = success_diff_ci95(&table(50 * k, 10 * k, 5 * k, 35 * k));
            hi - lo
        };
        assert!(w(10) < w(1) && w(100) < w(10));
    }
}
