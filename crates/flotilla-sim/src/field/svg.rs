//! A minimal SVG line chart, so a field scenario's results directory has a picture of
//! its time series without a plotting dependency. Deterministic text: the same series
//! give the same bytes.

use std::fmt::Write as _;

/// One line: a name for the legend and its points (x, y).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// How the x axis is drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum XScale {
    /// Linear from the smallest to the largest x.
    Linear,
    /// Base-10 logarithmic (x must be positive).
    Log,
}

const W: f64 = 760.0;
const H: f64 = 420.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 110.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f",
];

/// A chart of `series` with a title and axis labels.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    x_scale: XScale,
    series: &[Series],
) -> String {
    let fx = |x: f64| match x_scale {
        XScale::Linear => x,
        XScale::Log => x.max(1e-9).log10(),
    };
    let all = || series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (0.0f64, f64::NEG_INFINITY);
    for &(x, y) in all() {
        x0 = x0.min(fx(x));
        x1 = x1.max(fx(x));
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() || !x1.is_finite() {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if !y1.is_finite() || y1 <= y0 {
        y1 = y0 + 1.0;
    }
    // Round the y range and, on a linear axis, the x range out to tick steps of 1, 2 or
    // 5 × 10^k, so tick labels are round numbers.
    let y_step = nice_step((y1 - y0) / 5.0);
    y0 = (y0 / y_step).floor() * y_step;
    y1 = (y1 / y_step).ceil() * y_step;
    let x_step = nice_step((x1 - x0) / 6.0);
    if x_scale == XScale::Linear {
        x0 = (x0 / x_step).floor() * x_step;
        x1 = (x1 / x_step).ceil() * x_step;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + (fx(x) - x0) / (x1 - x0) * pw;
    let py = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    // Axes, ticks and grid.
    let _ = writeln!(
        s,
        r#"<path d="M{LEFT} {TOP} V{} H{}" fill="none" stroke="black"/>"#,
        TOP + ph,
        LEFT + pw
    );
    let y_ticks = ((y1 - y0) / y_step).round() as usize;
    for i in 0..=y_ticks {
        let v = y0 + y_step * i as f64;
        let y = py(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            y + 4.0,
            tick(v)
        );
    }
    let x_ticks: Vec<f64> = match x_scale {
        XScale::Linear => (0..=((x1 - x0) / x_step).round() as usize)
            .map(|i| x0 + x_step * i as f64)
            .collect(),
        XScale::Log => (x0.floor() as i32..=x1.ceil() as i32)
            .map(|e| e as f64)
            .filter(|e| *e >= x0 - 1e-9 && *e <= x1 + 1e-9)
            .collect(),
    };
    for t in x_ticks {
        let x = LEFT + (t - x0) / (x1 - x0) * pw;
        let label = match x_scale {
            XScale::Linear => tick(t),
            XScale::Log => tick(10f64.powf(t)),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + ph,
            TOP + ph + 16.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        TOP + ph + 36.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        esc(y_label)
    );
    // Lines and legend.
    for (i, ser) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut d = String::new();
        for (j, &(x, y)) in ser.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if j == 0 { "M" } else { " L" },
                px(x),
                py(y)
            );
        }
        let _ = writeln!(
            s,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"/>"#
        );
        let lx = LEFT + (i % 2) as f64 * (pw / 2.0);
        let ly = TOP + ph + 56.0 + (i / 2) as f64 * 16.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            ly - 4.0,
            lx + 22.0,
            ly - 4.0,
            lx + 28.0,
            ly,
            esc(&ser.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The smallest of 1, 2, 5 × 10^k at least `raw` (1 for nothing sensible).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// A short tick label: 1.2k, 3.4M, 0.25.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.3}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else if (v * 10.0 - (v * 10.0).round()).abs() < 1e-6 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_deterministic() {
        let series = vec![
            Series {
                name: "a <b>".into(),
                points: vec![(0.0, 0.0), (60.0, 5.0), (120.0, 7.5)],
            },
            Series {
                name: "c".into(),
                points: vec![(0.0, 1.0), (120.0, 2.0)],
            },
        ];
        let a = line_chart("t", "x", "y", XScale::Linear, &series);
        assert_eq!(a, line_chart("t", "x", "y", XScale::Linear, &series));
        assert!(a.starts_with("<svg") && a.trim_end().ends_with("</svg>"));
        assert!(a.contains("a &lt;b&gt;"));
        assert_eq!(a.matches("<path d=\"M").count(), 3, "axes and two lines");
        let log = line_chart("t", "x", "y", XScale::Log, &series[..1]);
        assert!(log.contains(">100<"), "decade ticks");
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(77.2), 100.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(250.0), "250");
        // Nothing to draw still gives a valid picture.
        assert!(line_chart("t", "x", "y", XScale::Linear, &[]).contains("</svg>"));
    }
}
