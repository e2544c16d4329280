//! Payment amounts from a quantile table (`workload.amount.distribution =
//! "quantiles"`): piecewise log-linear interpolation between given (quantile, amount)
//! points, for heavy-tailed amount distributions known only by a few quantiles, as
//! papers report them.
//!
//! Between two points the logarithm of the amount is linear in the quantile, so each
//! segment is a log-uniform slice holding exactly its share of the probability mass and
//! every given point is an exact quantile of the draws. Beyond the outermost points
//! (when the table does not start at q = 0 or end at q = 1) `tails` says what happens:
//! `"extrapolate"` continues the nearest segment's log-linear slope to q = 0 and
//! q = 1 (a continuous distribution, bounded at both ends), `"clamp"` puts the whole
//! tail mass on the outermost amount. Draws are finally capped to [1 sat, 21M BTC].

use flotilla_graph::amount::MAX_SAT;
use serde::{Deserialize, Serialize};

/// The named tables.
pub const PRESETS: &[&str] = &["ripple"];

/// The Ripple-trace quantiles the Boomerang paper (Bagaria, Neu, Tse, FC 2020) draws
/// its transfer amounts from, in its capacity units converted at 1 unit = 1,000 sat:
/// p10 0.15, p25 0.6, p50 3.0, p75 285, p90 1,791, p95 4,514, p99 19,200 units.
pub const RIPPLE: &[(f64, f64)] = &[
    (0.10, 150.0),
    (0.25, 600.0),
    (0.50, 3_000.0),
    (0.75, 285_000.0),
    (0.90, 1_791_000.0),
    (0.95, 4_514_000.0),
    (0.99, 19_200_000.0),
];

/// `[workload.amount]` with `distribution = "quantiles"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuantileTable {
    /// A named table ([`PRESETS`]); empty: `points`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub preset: String,
    /// The (quantile, amount) points, quantiles strictly increasing in [0, 1] and
    /// amounts non-decreasing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<QuantilePoint>,
    /// Every amount of the table is multiplied by this (e.g. 10 to read the Ripple
    /// table at 1 unit = 10,000 sat).
    pub scale: f64,
    /// What lies beyond the outermost points.
    pub tails: Tails,
}

impl Default for QuantileTable {
    fn default() -> Self {
        QuantileTable {
            preset: String::new(),
            points: Vec::new(),
            scale: 1.0,
            tails: Tails::Extrapolate,
        }
    }
}

/// One point of a quantile table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantilePoint {
    /// The quantile, in [0, 1].
    pub q: f64,
    /// The amount at that quantile, sat (before `scale`).
    pub sat: f64,
}

/// What a quantile table draws beyond its outermost points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tails {
    /// The nearest segment's log-linear slope continued to q = 0 and q = 1.
    Extrapolate,
    /// The outermost amount for the whole tail.
    Clamp,
}

impl QuantileTable {
    /// The table's points as (quantile, amount in sat, scaled).
    fn resolved(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let preset: &[(f64, f64)] = match self.preset.trim() {
            "ripple" => RIPPLE,
            _ => &[],
        };
        let given = self.points.iter().map(|p| (p.q, p.sat));
        preset
            .iter()
            .copied()
            .chain(given)
            .map(move |(q, a)| (q, a * self.scale))
    }

    /// Checks the table; the error is the dotted key (below `workload.amount`) and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: String, why: String| Err((format!("workload.amount.{key}"), why));
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return bad("scale".into(), "must be a positive number".into());
        }
        let preset = self.preset.trim();
        if !preset.is_empty() && !PRESETS.contains(&preset) {
            return bad(
                "preset".into(),
                format!("unknown table {preset:?} (known: {})", PRESETS.join(", ")),
            );
        }
        match (preset.is_empty(), self.points.is_empty()) {
            (false, false) => {
                return bad("points".into(), "give a preset or points, not both".into())
            }
            (true, true) => {
                return bad(
                    "points".into(),
                    format!(
                        "a quantile table needs points (at least two) or a preset ({})",
                        PRESETS.join(", ")
                    ),
                )
            }
            _ => {}
        }
        if preset.is_empty() && self.points.len() < 2 {
            return bad("points".into(), "at least two points are needed".into());
        }
        let mut prev: Option<(f64, f64)> = None;
        for (i, p) in self.points.iter().enumerate() {
            if !(p.q.is_finite() && (0.0..=1.0).contains(&p.q)) {
                return bad(
                    format!("points[{i}].q"),
                    format!("{} is not a quantile between 0 and 1", p.q),
                );
            }
            if !(p.sat.is_finite() && p.sat > 0.0) {
                return bad(
                    format!("points[{i}].sat"),
                    format!("{} is not a positive amount", p.sat),
                );
            }
            if let Some((q, sat)) = prev {
                if p.q <= q {
                    return bad(
                        format!("points[{i}].q"),
                        format!("quantiles must increase: {} follows {q}", p.q),
                    );
                }
                if p.sat < sat {
                    return bad(
                        format!("points[{i}].sat"),
                        format!(
                            "amounts must not decrease with the quantile: {} follows {sat}",
                            p.sat
                        ),
                    );
                }
            }
            prev = Some((p.q, p.sat));
        }
        if let Some((_, top)) = self.resolved().last() {
            if top > MAX_SAT as f64 {
                let key = if preset.is_empty() {
                    format!("points[{}].sat", self.points.len() - 1)
                } else {
                    "scale".into()
                };
                return bad(
                    key,
                    format!(
                        "the largest amount, {top:.0} sat, is more than the 21,000,000 BTC \
                         that will ever exist (at most {MAX_SAT} sat)"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The amount at quantile `u` in [0, 1), sat (not rounded, not capped).
    pub fn amount_at(&self, u: f64) -> f64 {
        let mut lo: Option<(f64, f64)> = None;
        let mut first: Option<[(f64, f64); 2]> = None;
        let mut last: Option<[(f64, f64); 2]> = None;
        for (q, a) in self.resolved() {
            let p = (q, a.ln());
            if let Some(l) = lo {
                if first.is_none() {
                    first = Some([l, p]);
                }
                if u <= q {
                    return interpolate(l, p, u);
                }
                last = Some([l, p]);
            } else if u < q && self.tails == Tails::Clamp {
                return a;
            }
            lo = Some(p);
        }
        // Above the last point (below the first one returned on the first segment).
        let Some(last) = last.or(first) else {
            // A single point (validation refuses it): its amount.
            return lo.map(|p| p.1.exp()).unwrap_or(1.0);
        };
        match self.tails {
            Tails::Clamp => self.resolved().last().map_or(1.0, |p| p.1),
            Tails::Extrapolate => interpolate(last[0], last[1], u),
        }
    }
}

/// The amount at `u` on the log-linear line through `a` and `b` ((q, ln amount)).
fn interpolate(a: (f64, f64), b: (f64, f64), u: f64) -> f64 {
    let dq = b.0 - a.0;
    let t = if dq > 0.0 { (u - a.0) / dq } else { 1.0 };
    (a.1 + t * (b.1 - a.1)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::AmountDistribution;
    use crate::workload::draw_amount_msat;

    fn ripple() -> QuantileTable {
        QuantileTable {
            preset: "ripple".into(),
            ..Default::default()
        }
    }

    #[test]
    fn drawn_quantiles_match_the_table() {
        let dist = AmountDistribution::Quantiles(ripple());
        let mut rng = crate::rng::stream(7, "t");
        let n = 200_000;
        let mut v: Vec<u64> = (0..n)
            .map(|_| draw_amount_msat(&dist, &mut rng) / 1000)
            .collect();
        v.sort_unstable();
        for &(q, sat) in RIPPLE {
            let got = v[(q * n as f64) as usize] as f64;
            // Within 3% (sampling noise at 200,000 draws, and whole-sat rounding).
            assert!(
                (got / sat - 1.0).abs() < 0.03,
                "p{}: drew {got} sat, table {sat}",
                q * 100.0
            );
        }
        // Extrapolated tails: bounded, continuous.
        let min = v[0] as f64;
        let max = *v.last().unwrap() as f64;
        assert!((55.0..150.0).contains(&min), "{min}");
        assert!((19_200_000.0..27_700_000.0).contains(&max), "{max}");
    }

    #[test]
    fn interpolation_is_log_linear_and_tails_follow_the_setting() {
        let mut t = QuantileTable {
            points: vec![
                QuantilePoint { q: 0.2, sat: 100.0 },
                QuantilePoint {
                    q: 0.6,
                    sat: 10_000.0,
                },
            ],
            ..Default::default()
        };
        t.validate().unwrap();
        // Halfway between in quantile: the geometric mean.
        assert!((t.amount_at(0.4) - 1_000.0).abs() < 1e-6);
        assert!((t.amount_at(0.2) - 100.0).abs() < 1e-9);
        // Extrapolated: two decades per 0.4 of quantile, continued.
        assert!((t.amount_at(0.0) - 10.0).abs() < 1e-6);
        assert!((t.amount_at(1.0) - 1_000_000.0).abs() < 1e-3);
        t.tails = Tails::Clamp;
        assert_eq!(t.amount_at(0.05), 100.0);
        assert_eq!(t.amount_at(0.9), 10_000.0);
        // A table from 0 to 1 has no tails at all.
        let full = QuantileTable {
            points: vec![
                QuantilePoint { q: 0.0, sat: 1.0 },
                QuantilePoint { q: 1.0, sat: 1e6 },
            ],
            ..Default::default()
        };
        assert!((full.amount_at(0.5) - 1_000.0).abs() < 1e-6);
        // scale multiplies every amount.
        let scaled = QuantileTable {
            scale: 10.0,
            ..ripple()
        };
        assert!((scaled.amount_at(0.5) - 30_000.0).abs() < 1e-6);
    }

    #[test]
    fn malformed_tables_name_the_field() {
        let p = |q, sat| QuantilePoint { q, sat };
        let cases = [
            (QuantileTable::default(), "workload.amount.points"),
            (
                QuantileTable {
                    points: vec![p(0.5, 10.0)],
                    ..Default::default()
                },
                "workload.amount.points",
            ),
            (
                QuantileTable {
                    preset: "visa".into(),
                    ..Default::default()
                },
                "workload.amount.preset",
            ),
            (
                QuantileTable {
                    points: vec![p(0.1, 1.0), p(0.5, 2.0)],
                    ..ripple()
                },
                "workload.amount.points",
            ),
            (
                QuantileTable {
                    points: vec![p(0.5, 10.0), p(0.4, 20.0)],
                    ..Default::default()
                },
                "workload.amount.points[1].q",
            ),
            (
                QuantileTable {
                    points: vec![p(0.1, 10.0), p(0.4, 5.0)],
                    ..Default::default()
                },
                "workload.amount.points[1].sat",
            ),
            (
                QuantileTable {
                    points: vec![p(0.1, 10.0), p(1.5, 50.0)],
                    ..Default::default()
                },
                "workload.amount.points[1].q",
            ),
            (
                QuantileTable {
                    points: vec![p(0.1, 0.0), p(0.5, 50.0)],
                    ..Default::default()
                },
                "workload.amount.points[0].sat",
            ),
            (
                QuantileTable {
                    points: vec![p(0.1, 10.0), p(0.5, 3e15)],
                    ..Default::default()
                },
                "workload.amount.points[1].sat",
            ),
            (
                QuantileTable {
                    scale: 1e9,
                    ..ripple()
                },
                "workload.amount.scale",
            ),
            (
                QuantileTable {
                    scale: 0.0,
                    ..ripple()
                },
                "workload.amount.scale",
            ),
        ];
        for (t, key) in cases {
            let (k, why) = t.validate().unwrap_err();
            assert_eq!(k, key, "{why}");
        }
        ripple().validate().unwrap();
    }
}
