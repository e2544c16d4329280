//! A small SVG chart: frame, axes with ticks and grid, axis labels with units, a title,
//! a legend above the plot (it never covers data, whatever the number of arms), and
//! the marks the plots need (lines, markers, error bars, bars).
//!
//! Written for this report rather than taken from a plotting library so that the SVG
//! is small, has no dependency on system fonts for layout, and renders the same in a
//! browser and through `resvg` into PNG (no `dominant-baseline`, no CSS).

use std::fmt::Write;

use crate::scale::{Scale, Tick};
use crate::style::{Marker, SeriesStyle};

/// Canvas width, px.
pub const WIDTH: f64 = 960.0;
/// Canvas height, px.
pub const HEIGHT: f64 = 560.0;
/// Font stack: the embedded Go font first (PNG rendering), then common sans fonts.
pub const FONT_FAMILY: &str = "Go, 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";

const TITLE_SIZE: f64 = 21.0;
const LABEL_SIZE: f64 = 16.0;
const TICK_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 15.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 28.0;
const BOTTOM: f64 = 56.0;
const TICK_LINE: f64 = 17.0;

/// The band at the top that holds a chart's title, px: the paper variant crops it.
pub const TITLE_BAND: f64 = 42.0;

/// How a chart is framed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Frame {
    /// A standalone figure with its title.
    Page,
    /// A standalone figure without its title.
    Paper,
    /// One panel of a [`facets`] figure, `y` px from its top.
    Panel { y: f64 },
}

/// Panels stacked into one figure under one title: for runs with too many arms for one
/// chart, each panel one group of arms. Returns the page and the paper (title-less)
/// documents.
pub fn facets(id: &str, title: &str, panels: &[Chart]) -> (String, String) {
    let height = TITLE_BAND + HEIGHT * panels.len() as f64;
    let mut body = String::new();
    for (i, p) in panels.iter().enumerate() {
        body.push_str(&p.render(Frame::Panel {
            y: TITLE_BAND + HEIGHT * i as f64,
        }));
    }
    let head = |paper: bool| {
        let (y0, h) = if paper {
            (TITLE_BAND, height - TITLE_BAND)
        } else {
            (0.0, height)
        };
        let class = if paper { "" } else { r#" class="plot""# };
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" id="{id}"{class} width="{WIDTH}" height="{h}" viewBox="0 {y0} {WIDTH} {h}" font-family="{}" role="img" aria-labelledby="{id}-title">
<title id="{id}-title">{}</title>
<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>
"##,
            escape(FONT_FAMILY),
            escape(title)
        )
    };
    let page = format!(
        r##"{}<text x="{LEFT}" y="30" font-size="{TITLE_SIZE}" font-weight="bold" fill="#111111">{}</text>
{body}</svg>
"##,
        head(false),
        escape(title)
    );
    let paper = format!(
        "{}{body}</svg>
",
        head(true)
    );
    (page, paper)
}

/// One axis: its scale, its label (with the unit) and its ticks.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Mapping.
    pub scale: Scale,
    /// Label, with the unit in parentheses.
    pub label: String,
    /// Ticks.
    pub ticks: Vec<Tick>,
}

impl Axis {
    /// An axis whose ticks come from its scale.
    pub fn new(scale: Scale, label: &str, fmt: impl Fn(f64) -> String) -> Axis {
        Axis {
            ticks: scale.ticks(fmt),
            scale,
            label: label.to_string(),
        }
    }

    /// A categorical axis: `names[i]` at position `i`.
    pub fn categories(names: &[String], label: &str) -> Axis {
        Axis {
            scale: Scale::linear(-0.5, names.len().max(1) as f64 - 0.5),
            label: label.to_string(),
            ticks: names
                .iter()
                .enumerate()
                .map(|(i, n)| Tick {
                    value: i as f64,
                    label: Some(n.clone()),
                })
                .collect(),
        }
    }
}

/// What a legend entry shows next to its text.
#[derive(Debug, Clone)]
pub enum Swatch {
    /// A line with the series' dash and marker.
    Line(SeriesStyle),
    /// A filled square.
    Fill(&'static str),
}

/// A chart being drawn.
#[derive(Debug)]
pub struct Chart {
    id: String,
    title: String,
    x: Axis,
    y: Axis,
    /// Categorical x axis: no vertical grid.
    x_grid: bool,
    legend: Vec<(Swatch, String)>,
    legend_rows: Vec<Vec<usize>>,
    top: f64,
    marks: String,
}

/// Rough width of `text` at `size` px: enough to lay out legends without a font.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// Breaks a tick label into lines (after `-`) that fit `max_px` at the tick font
/// size, so long arm names under a bar do not run into each other.
pub fn wrap_label(text: &str, max_px: f64) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in text.split_inclusive('-') {
        if !current.is_empty() && text_width(&(current.clone() + piece), TICK_SIZE) > max_px {
            lines.push(std::mem::take(&mut current));
        }
        current.push_str(piece);
    }
    lines.push(current);
    lines.join("\n")
}

/// Escapes text for SVG and HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Chart {
    /// A chart with `id` (also the prefix of its internal ids, so several charts can
    /// live in one HTML page), a title, axes and legend entries.
    pub fn new(id: &str, title: &str, x: Axis, y: Axis, legend: Vec<(Swatch, String)>) -> Chart {
        // Lay the legend out in rows that fit the width.
        let mut rows: Vec<Vec<usize>> = Vec::new();
        let mut used = f64::INFINITY;
        for (i, (_, text)) in legend.iter().enumerate() {
            let w = 40.0 + text_width(text, LEGEND_SIZE) + 26.0;
            if used + w > WIDTH - LEFT - RIGHT {
                rows.push(Vec::new());
                used = 0.0;
            }
            rows.last_mut().expect("a row").push(i);
            used += w;
        }
        let top = 52.0 + rows.len() as f64 * 24.0 + 12.0;
        Chart {
            id: id.to_string(),
            title: title.to_string(),
            x_grid: true,
            x,
            y,
            legend,
            legend_rows: rows,
            top,
            marks: String::new(),
        }
    }

    /// No vertical grid lines (for categories).
    pub fn without_x_grid(mut self) -> Chart {
        self.x_grid = false;
        self
    }

    fn left(&self) -> f64 {
        LEFT
    }
    fn right(&self) -> f64 {
        WIDTH - RIGHT
    }
    fn bottom(&self) -> f64 {
        HEIGHT - BOTTOM - TICK_LINE * self.x_label_lines() as f64
    }

    /// Lines of the tallest x tick label ("\n" breaks a label).
    fn x_label_lines(&self) -> usize {
        self.x
            .ticks
            .iter()
            .filter_map(|t| t.label.as_ref())
            .map(|l| l.lines().count())
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// Pixel x of data value `x`.
    pub fn px(&self, x: f64) -> f64 {
        self.left() + self.x.scale.frac(x) * (self.right() - self.left())
    }

    /// Pixel y of data value `y`.
    pub fn py(&self, y: f64) -> f64 {
        self.bottom() - self.y.scale.frac(y) * (self.bottom() - self.top)
    }

    /// Width in pixels of `dx` data units on a linear x axis.
    pub fn x_span(&self, dx: f64) -> f64 {
        self.px(dx) - self.px(0.0)
    }

    /// A line through `points` (data units).
    pub fn line(&mut self, points: &[(f64, f64)], style: &SeriesStyle, width: f64) {
        if points.is_empty() {
            return;
        }
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                self.px(*x),
                self.py(*y)
            );
        }
        let dash = style
            .dash
            .map(|a| format!(r#" stroke-dasharray="{a}""#))
            .unwrap_or_default();
        let _ = writeln!(
            self.marks,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="{width}" stroke-linejoin="round"{dash}/>"#,
            style.color
        );
    }

    /// A marker at (`x`, `y`) shifted by `dx_px` pixels.
    pub fn marker(&mut self, x: f64, y: f64, dx_px: f64, style: &SeriesStyle) {
        let (cx, cy) = (self.px(x) + dx_px, self.py(y));
        push_marker(&mut self.marks, cx, cy, style);
    }

    /// A vertical error bar from `lo` to `hi` at `x`, shifted by `dx_px` pixels.
    pub fn error_bar(&mut self, x: f64, lo: f64, hi: f64, dx_px: f64, color: &str) {
        let cx = self.px(x) + dx_px;
        let (y0, y1) = (self.py(lo), self.py(hi));
        let _ = writeln!(
            self.marks,
            r#"<path d="M{cx:.1},{y0:.1}V{y1:.1}M{:.1},{y0:.1}h8M{:.1},{y1:.1}h8" stroke="{color}" stroke-width="1.6" fill="none"/>"#,
            cx - 4.0,
            cx - 4.0
        );
    }

    /// A translucent band between `lower` and `upper` (data units, same x values in
    /// the same order): a confidence band around a line.
    pub fn band(&mut self, lower: &[(f64, f64)], upper: &[(f64, f64)], color: &str) {
        if lower.len() < 2 || lower.len() != upper.len() {
            return;
        }
        let mut d = String::new();
        for (i, (x, y)) in upper.iter().chain(lower.iter().rev()).enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                self.px(*x),
                self.py(*y)
            );
        }
        let _ = writeln!(
            self.marks,
            r#"<path d="{d}Z" fill="{color}" fill-opacity="0.16" stroke="none"/>"#
        );
    }

    /// A filled rectangle between data x `x0..x1` and data y `y0..y1`.
    pub fn rect(&mut self, x0: f64, x1: f64, y0: f64, y1: f64, fill: &str, tooltip: &str) {
        let (a, b) = (self.px(x0), self.px(x1));
        let (c, d) = (self.py(y1), self.py(y0));
        if (b - a).abs() < 0.05 || (d - c).abs() < 0.05 {
            return; // nothing to see, and a zero-size rect is invalid SVG
        }
        let _ = writeln!(
            self.marks,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="#ffffff" stroke-width="0.8"><title>{}</title></rect>"##,
            a.min(b),
            c.min(d),
            (b - a).abs(),
            (d - c).abs(),
            escape(tooltip)
        );
    }

    /// A small label centred above data point (`x`, `y`).
    pub fn label(&mut self, x: f64, y: f64, text: &str) {
        let _ = writeln!(
            self.marks,
            r##"<text x="{:.1}" y="{:.1}" font-size="{TICK_SIZE}" text-anchor="middle" fill="#222222">{}</text>"##,
            self.px(x),
            self.py(y) - 6.0,
            escape(text)
        );
    }

    /// Text centred in the plot area (e.g. "no data").
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(
            self.marks,
            r##"<text x="{:.1}" y="{:.1}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="#555555">{}</text>"##,
            (self.left() + self.right()) / 2.0,
            (self.top + self.bottom()) / 2.0,
            escape(text)
        );
    }

    /// The finished SVG document.
    pub fn finish(self) -> String {
        self.render(Frame::Page)
    }

    /// The document for the page and the title-less one for papers (the title band
    /// cropped off: a paper's caption carries the title).
    pub fn finish_both(self) -> (String, String) {
        (self.render(Frame::Page), self.render(Frame::Paper))
    }

    fn render(&self, frame: Frame) -> String {
        let mut s = String::with_capacity(self.marks.len() + 8192);
        let (l, r, t, b) = (self.left(), self.right(), self.top, self.bottom());
        let id = &self.id;
        let _ = match frame {
            Frame::Page => writeln!(
                s,
                r##"<svg xmlns="http://www.w3.org/2000/svg" id="{id}" class="plot" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{}" role="img" aria-labelledby="{id}-title">"##,
                escape(FONT_FAMILY)
            ),
            Frame::Paper => writeln!(
                s,
                r##"<svg xmlns="http://www.w3.org/2000/svg" id="{id}" width="{WIDTH}" height="{}" viewBox="0 {TITLE_BAND} {WIDTH} {}" font-family="{}" role="img" aria-labelledby="{id}-title">"##,
                HEIGHT - TITLE_BAND,
                HEIGHT - TITLE_BAND,
                escape(FONT_FAMILY)
            ),
            Frame::Panel { y } => writeln!(
                s,
                r##"<svg id="{id}" x="0" y="{y:.1}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">"##
            ),
        };
        let _ = writeln!(
            s,
            r#"<title id="{id}-title">{}</title>"#,
            escape(&self.title)
        );
        let _ = writeln!(
            s,
            r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
        );
        let _ = writeln!(
            s,
            r#"<defs><clipPath id="{id}-clip"><rect x="{l}" y="{t:.1}" width="{:.1}" height="{:.1}"/></clipPath></defs>"#,
            r - l,
            b - t
        );
        // Grid.
        for tick in &self.y.ticks {
            let y = self.py(tick.value);
            let c = if tick.label.is_some() {
                "#dddddd"
            } else {
                "#f0f0f0"
            };
            let _ = writeln!(
                s,
                r#"<path d="M{l},{y:.1}H{r}" stroke="{c}" stroke-width="1"/>"#
            );
        }
        if self.x_grid {
            for tick in &self.x.ticks {
                let x = self.px(tick.value);
                let c = if tick.label.is_some() {
                    "#dddddd"
                } else {
                    "#eeeeee"
                };
                let _ = writeln!(
                    s,
                    r#"<path d="M{x:.1},{t:.1}V{b}" stroke="{c}" stroke-width="1"/>"#
                );
            }
        }
        // Marks, clipped to the plot area.
        let _ = writeln!(s, r#"<g clip-path="url(#{id}-clip)">"#);
        s.push_str(&self.marks);
        s.push_str("</g>\n");
        // Frame and ticks.
        let _ = writeln!(
            s,
            r##"<rect x="{l}" y="{t:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#333333" stroke-width="1.2"/>"##,
            r - l,
            b - t
        );
        for tick in &self.x.ticks {
            let x = self.px(tick.value);
            let len = if tick.label.is_some() { 6.0 } else { 3.0 };
            let _ = writeln!(
                s,
                r##"<path d="M{x:.1},{b}v{len}" stroke="#333333" stroke-width="1.2"/>"##
            );
            if let Some(label) = &tick.label {
                for (k, line) in label.lines().enumerate() {
                    let _ = writeln!(
                        s,
                        r##"<text x="{x:.1}" y="{:.1}" font-size="{TICK_SIZE}" text-anchor="middle" fill="#222222">{}</text>"##,
                        b + 8.0 + TICK_SIZE * 0.85 + k as f64 * TICK_LINE,
                        escape(line)
                    );
                }
            }
        }
        for tick in &self.y.ticks {
            let y = self.py(tick.value);
            let len = if tick.label.is_some() { 6.0 } else { 3.0 };
            let _ = writeln!(
                s,
                r##"<path d="M{l},{y:.1}h-{len}" stroke="#333333" stroke-width="1.2"/>"##
            );
            if let Some(label) = &tick.label {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="{TICK_SIZE}" text-anchor="end" fill="#222222">{}</text>"##,
                    l - 10.0,
                    y + TICK_SIZE * 0.35,
                    escape(label)
                );
            }
        }
        // Axis labels and title.
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="#111111">{}</text>"##,
            (l + r) / 2.0,
            HEIGHT - 16.0,
            escape(&self.x.label)
        );
        let (yx, yy) = (24.0, (t + b) / 2.0);
        let _ = writeln!(
            s,
            r##"<text x="{yx}" y="{yy:.1}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="#111111" transform="rotate(-90 {yx} {yy:.1})">{}</text>"##,
            escape(&self.y.label)
        );
        if frame != Frame::Paper {
            // A panel's title names its group; it stays in the paper variant.
            let size = if matches!(frame, Frame::Panel { .. }) {
                LABEL_SIZE + 2.0
            } else {
                TITLE_SIZE
            };
            let _ = writeln!(
                s,
                r##"<text x="{l}" y="34" font-size="{size}" font-weight="bold" fill="#111111">{}</text>"##,
                escape(&self.title)
            );
        }
        self.legend_svg(&mut s);
        s.push_str("</svg>\n");
        s
    }

    fn legend_svg(&self, s: &mut String) {
        for (row, items) in self.legend_rows.iter().enumerate() {
            let y = 60.0 + row as f64 * 24.0;
            let mut x = self.left();
            for &i in items {
                let (swatch, text) = &self.legend[i];
                match swatch {
                    Swatch::Line(style) => {
                        let dash = style
                            .dash
                            .map(|a| format!(r#" stroke-dasharray="{a}""#))
                            .unwrap_or_default();
                        let _ = writeln!(
                            s,
                            r#"<path d="M{x:.1},{y:.1}h34" stroke="{}" stroke-width="2.5"{dash}/>"#,
                            style.color
                        );
                        push_marker(s, x + 17.0, y, style);
                    }
                    Swatch::Fill(color) => {
                        let _ = writeln!(
                            s,
                            r#"<rect x="{:.1}" y="{:.1}" width="26" height="14" fill="{color}"/>"#,
                            x + 4.0,
                            y - 7.0
                        );
                    }
                }
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="{LEGEND_SIZE}" fill="#111111">{}</text>"##,
                    x + 42.0,
                    y + LEGEND_SIZE * 0.35,
                    escape(text)
                );
                x += 40.0 + text_width(text, LEGEND_SIZE) + 26.0;
            }
        }
    }
}

fn push_marker(s: &mut String, cx: f64, cy: f64, style: &SeriesStyle) {
    let c = style.color;
    let common = format!(r##"fill="{c}" stroke="#ffffff" stroke-width="1""##);
    let _ = match style.marker {
        Marker::Circle => writeln!(s, r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="5" {common}/>"#),
        Marker::Square => writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="9" height="9" {common}/>"#,
            cx - 4.5,
            cy - 4.5
        ),
        Marker::Triangle => writeln!(
            s,
            r#"<path d="M{cx:.1},{:.1}l5.5,9.5h-11z" {common}/>"#,
            cy - 6.0
        ),
        Marker::Diamond => writeln!(
            s,
            r#"<path d="M{cx:.1},{:.1}l6,6l-6,6l-6,-6z" {common}/>"#,
            cy - 6.0
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale::percent;
    use crate::style::arm_style;

    #[test]
    fn a_chart_is_one_svg_with_its_title_labels_and_legend() {
        let x = Axis::new(Scale::linear(0.0, 10.0), "x (ms)", |v| v.to_string());
        let y = Axis::new(Scale::linear(0.0, 1.0), "share (%)", percent);
        let mut c = Chart::new(
            "t",
            "A <title>",
            x,
            y,
            vec![(Swatch::Line(arm_style(0)), "arm & co".into())],
        );
        c.line(&[(0.0, 0.0), (10.0, 1.0)], &arm_style(0), 2.0);
        let svg = c.finish();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("A &lt;title&gt;") && svg.contains("arm &amp; co"));
        assert!(svg.contains("x (ms)") && svg.contains("100%"));
        assert!(svg.contains(r#"clip-path="url(#t-clip)""#));
    }

    #[test]
    fn paper_variants_have_no_title_and_panels_nest() {
        let axis = || Axis::new(Scale::linear(0.0, 1.0), "v", percent);
        let legend = vec![(Swatch::Line(arm_style(0)), "arm".to_string())];
        let (page, paper) =
            Chart::new("p", "Big title", axis(), axis(), legend.clone()).finish_both();
        assert!(page.contains(">Big title</text>"));
        assert!(!paper.contains(">Big title</text>") && paper.contains("viewBox=\"0 42 960 518\""));
        let panels: Vec<Chart> = ["one", "two"]
            .iter()
            .map(|n| {
                Chart::new(
                    &format!("f-{n}"),
                    &format!("group {n}"),
                    axis(),
                    axis(),
                    legend.clone(),
                )
            })
            .collect();
        let (page, paper) = facets("f", "Faceted", &panels);
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains(">Faceted</text>") && !paper.contains(">Faceted</text>"));
        // Panel titles stay: they say which group a panel shows.
        assert!(paper.contains(">group two</text>"));
        assert!(page.contains(r#"id="f-two" x="0" y="602.0""#));
        assert!(page.contains("height=\"1162\""));
    }

    #[test]
    fn long_labels_wrap_after_dashes() {
        assert_eq!(wrap_label("mpp-retry", 500.0), "mpp-retry");
        assert_eq!(
            wrap_label("redundant-sender_hash-0.5", 100.0),
            "redundant-\nsender_hash-\n0.5"
        );
    }

    #[test]
    fn many_legend_entries_wrap_into_rows_and_push_the_plot_down() {
        let names: Vec<(Swatch, String)> = (0..12)
            .map(|i| {
                (
                    Swatch::Line(arm_style(i)),
                    format!("redundant-sender_hash-{i}"),
                )
            })
            .collect();
        let axis = || Axis::new(Scale::linear(0.0, 1.0), "v", percent);
        let one = Chart::new("a", "t", axis(), axis(), names[..1].to_vec());
        let many = Chart::new("b", "t", axis(), axis(), names);
        assert!(many.legend_rows.len() >= 3);
        assert!(many.top > one.top);
    }
}
