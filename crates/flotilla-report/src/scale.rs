//! Axis scales, tick positions and tick labels.
//!
//! Log axes label whole decades (and 2× and 5× when the axis spans few decades) with
//! compact numbers ("1k", "20k", "1M"); linear axes pick 1-2-2.5-5 steps. Ticks are
//! values, not pixels: the chart maps them.

/// How values map onto an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Linear from `min` to `max`.
    Linear {
        /// Left or bottom end.
        min: f64,
        /// Right or top end.
        max: f64,
    },
    /// Logarithmic from `min` to `max` (both positive).
    Log {
        /// Left or bottom end.
        min: f64,
        /// Right or top end.
        max: f64,
    },
}

/// One tick: labelled ticks get a grid line, unlabelled (minor) ones a fainter one.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Where, in data units.
    pub value: f64,
    /// Its label; `None` for a minor tick.
    pub label: Option<String>,
}

impl Scale {
    /// A linear scale; a degenerate range is widened so that it can be drawn.
    pub fn linear(min: f64, max: f64) -> Scale {
        let (min, max) = if max > min {
            (min, max)
        } else {
            (min, min + 1.0)
        };
        Scale::Linear { min, max }
    }

    /// A log scale over `[min, max]`, widened by a little on both sides so the extreme
    /// points do not sit on the frame; non-positive or degenerate ranges are fixed up.
    pub fn log(min: f64, max: f64) -> Scale {
        let min = if min > 0.0 && min.is_finite() {
            min
        } else {
            1.0
        };
        let max = if max > min && max.is_finite() {
            max
        } else {
            min * 10.0
        };
        Scale::Log {
            min: min / 1.15,
            max: max * 1.15,
        }
    }

    /// Position of `v` along the axis, 0 at `min` and 1 at `max` (outside for values
    /// out of range).
    pub fn frac(&self, v: f64) -> f64 {
        match *self {
            Scale::Linear { min, max } => (v - min) / (max - min),
            Scale::Log { min, max } => {
                (v.max(f64::MIN_POSITIVE).ln() - min.ln()) / (max / min).ln()
            }
        }
    }

    /// Whether `v` lies within the axis.
    pub fn contains(&self, v: f64) -> bool {
        let f = self.frac(v);
        (-1e-9..=1.0 + 1e-9).contains(&f)
    }

    /// Ticks with labels made by `label`.
    pub fn ticks(&self, label: impl Fn(f64) -> String) -> Vec<Tick> {
        match *self {
            Scale::Linear { min, max } => {
                let step = nice_step((max - min) / 5.0);
                let first = (min / step).ceil() as i64;
                let last = (max / step + 1e-9).floor() as i64;
                (first..=last)
                    .map(|i| {
                        let v = i as f64 * step;
                        Tick {
                            value: v,
                            label: Some(label(v)),
                        }
                    })
                    .collect()
            }
            Scale::Log { min, max } => {
                let decades = (max / min).log10();
                let labelled: &[f64] = if decades <= 2.6 {
                    &[1.0, 2.0, 5.0]
                } else {
                    &[1.0]
                };
                let k0 = min.log10().floor() as i32;
                let k1 = max.log10().ceil() as i32;
                let mut out = Vec::new();
                for k in k0..=k1 {
                    let base = 10f64.powi(k);
                    for m in 1..10 {
                        let v = base * m as f64;
                        if !self.contains(v) {
                            continue;
                        }
                        let major = labelled.contains(&(m as f64));
                        out.push(Tick {
                            value: v,
                            label: major.then(|| label(v)),
                        });
                    }
                }
                out
            }
        }
    }
}

/// The 1-2-2.5-5 step at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let f = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|f| *f >= norm - 1e-9)
        .unwrap_or(10.0);
    f * mag
}

/// `v` with at most `digits` decimals, trailing zeros dropped.
fn trimmed(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A compact tick label: 0.05, 0.5, 5, 50, 500, 5k, 50k, 500k, 5M, 5G.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if x.abs() >= 10.0 || x == 0.0 { 1 } else { 3 };
    format!("{}{suffix}", trimmed(x, digits))
}

/// An integer with thousands separators: "12,345".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share (0..1) as a whole percentage: "40%".
pub fn percent(v: f64) -> String {
    format!("{}%", trimmed(v * 100.0, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(1000.0), "1k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(2500.0), "2.5k");
        assert_eq!(compact(0.05), "0.05");
        assert_eq!(compact(500.0), "500");
        assert_eq!(compact(0.0), "0");
        assert_eq!(percent(0.4), "40%");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn linear_ticks_are_round() {
        let t = Scale::linear(0.0, 1.0).ticks(percent);
        let labels: Vec<_> = t.iter().filter_map(|t| t.label.clone()).collect();
        assert_eq!(labels, ["0%", "20%", "40%", "60%", "80%", "100%"]);
    }

    #[test]
    fn log_ticks_label_decades_over_wide_ranges_and_125_over_narrow() {
        let wide = Scale::log(1000.0, 2_000_000.0).ticks(compact);
        let labels: Vec<_> = wide.iter().filter_map(|t| t.label.clone()).collect();
        assert_eq!(labels, ["1k", "10k", "100k", "1M"]);
        assert!(wide.iter().any(|t| t.label.is_none()), "minor ticks too");
        let narrow = Scale::log(0.2, 3.0).ticks(compact);
        let labels: Vec<_> = narrow.iter().filter_map(|t| t.label.clone()).collect();
        assert_eq!(labels, ["0.2", "0.5", "1", "2"]);
    }

    #[test]
    fn frac_maps_the_ends() {
        let s = Scale::linear(10.0, 20.0);
        assert_eq!((s.frac(10.0), s.frac(20.0)), (0.0, 1.0));
        let l = Scale::Log {
            min: 1.0,
            max: 100.0,
        };
        assert!((l.frac(10.0) - 0.5).abs() < 1e-12);
    }
}
