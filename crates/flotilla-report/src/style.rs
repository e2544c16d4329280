//! Colours, dashes and markers: one look per arm, the same in every plot.
//!
//! Colours are the Okabe–Ito palette, chosen to stay distinguishable with the common
//! colour-vision deficiencies; yellow, the palest, comes last. Every arm also gets
//! its own dash pattern and marker shape, so lines can be told apart in greyscale
//! print too.

/// Okabe–Ito colours in the order arms get them.
pub const PALETTE: [&str; 8] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
    "#F0E442", // yellow
];

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// ●
    Circle,
    /// ■
    Square,
    /// ▲
    Triangle,
    /// ◆
    Diamond,
}

/// How one series is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesStyle {
    /// Stroke and fill colour.
    pub color: &'static str,
    /// SVG `stroke-dasharray`, or none for a solid line.
    pub dash: Option<&'static str>,
    /// Marker shape.
    pub marker: Marker,
}

const DASHES: [Option<&str>; 4] = [None, Some("9 4"), Some("3 3"), Some("12 4 3 4")];
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

/// The style of arm `i` (arms beyond eight repeat colours with other dashes).
pub fn arm_style(i: usize) -> SeriesStyle {
    SeriesStyle {
        color: PALETTE[i % PALETTE.len()],
        dash: DASHES[(i + i / PALETTE.len()) % DASHES.len()],
        marker: MARKERS[i % MARKERS.len()],
    }
}

/// Fill colours for categories stacked in one bar (failure reasons): the palette from
/// its other end, so that they do not read as arms.
pub fn category_color(i: usize) -> &'static str {
    const ORDER: [usize; 8] = [1, 5, 4, 2, 3, 0, 7, 6];
    PALETTE[ORDER[i % ORDER.len()]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_arms_differ_in_colour_dash_and_marker() {
        for i in 0..12 {
            let (a, b) = (arm_style(i), arm_style(i + 1));
            assert_ne!(a.color, b.color);
            assert_ne!(a.marker, b.marker);
            assert_ne!(a.dash, b.dash, "{i}");
        }
    }
}
