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

/// Past this many arms a chart is split into panels, one per [`family`], and arms
/// are coloured by family: one legend of 15 entries took 40% of a figure.
pub const MAX_ARMS_PER_PANEL: usize = 6;

/// Shades per family, darkest first (ColorBrewer sequential ramps without their two
/// palest steps, which vanish on white). Each family's hue is the Okabe–Ito colour it
/// gets among few arms, so a lock type keeps its colour from small runs to large ones.
const RAMPS: [[&str; 6]; 5] = [
    // MPP and single-path arms: greys from black.
    [
        "#000000", "#404040", "#636363", "#7f7f7f", "#969696", "#252525",
    ],
    // sender_hash: greens.
    [
        "#00441b", "#006d2c", "#238b45", "#41ab5d", "#74c476", "#005a32",
    ],
    // h2tlc: blues.
    [
        "#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#084594",
    ],
    // boomerang: oranges.
    [
        "#7f2704", "#a63603", "#d94801", "#f16913", "#fd8d3c", "#8c2d04",
    ],
    // hash and anything else: purples.
    [
        "#3f007d", "#54278f", "#6a51a3", "#807dba", "#9e9ac8", "#4a1486",
    ],
];

/// Okabe–Ito, then Paul Tol's muted scheme without its pale grey: seventeen colours
/// for runs whose arms do not fall into a few families.
const MANY: [&str; 17] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255",
    "#AA4499",
];

/// The family of an arm name, which groups the panels of a many-arm figure: the lock
/// type of a redundant arm (`redundant-h2tlc-0.5-retry` → `h2tlc`), `mpp` for every
/// other arm. A field variant's suffix (`+zero-fee-hub`) does not change the family.
pub fn family(arm: &str) -> &str {
    let base = arm.split('+').next().unwrap_or(arm);
    match base.strip_prefix("redundant-") {
        Some(rest) => rest.split('-').next().unwrap_or(rest),
        None => "mpp",
    }
}

fn ramp(family: &str) -> usize {
    match family {
        "mpp" => 0,
        "sender_hash" => 1,
        "h2tlc" => 2,
        "boomerang" => 3,
        _ => 4,
    }
}

/// The style of every arm of a run. Up to eight arms: [`arm_style`] in order. Beyond:
/// colour by family (a ramp of shades per lock type, unique up to six arms per
/// family), dash and marker by the arm's place in its family, so arms in one panel
/// differ in shade, dash and marker, and no two arms of the figure share a look.
pub fn arm_styles(arms: &[String]) -> Vec<SeriesStyle> {
    if arms.len() <= PALETTE.len() {
        return (0..arms.len()).map(arm_style).collect();
    }
    let mut sizes: Vec<(&str, usize)> = Vec::new();
    for a in arms {
        match sizes.iter_mut().find(|(g, _)| *g == family(a)) {
            Some((_, n)) => *n += 1,
            None => sizes.push((family(a), 1)),
        }
    }
    if sizes.iter().any(|(_, n)| *n > RAMPS[0].len()) {
        // A family too large for its ramp: one long qualitative list instead, unique
        // up to seventeen arms.
        return (0..arms.len())
            .map(|i| SeriesStyle {
                color: MANY[i % MANY.len()],
                dash: DASHES[(i + i / MANY.len()) % DASHES.len()],
                marker: MARKERS[i % MARKERS.len()],
            })
            .collect();
    }
    let mut seen: Vec<(&str, usize)> = Vec::new();
    arms.iter()
        .map(|a| {
            let f = family(a);
            let k = match seen.iter_mut().find(|(g, _)| *g == f) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    seen.push((f, 1));
                    0
                }
            };
            let r = &RAMPS[ramp(f)];
            SeriesStyle {
                color: r[k % r.len()],
                dash: DASHES[(k + k / r.len()) % DASHES.len()],
                marker: MARKERS[k % MARKERS.len()],
            }
        })
        .collect()
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
    fn families_follow_the_lock_type() {
        assert_eq!(family("redundant-h2tlc-0.5-retry"), "h2tlc");
        assert_eq!(
            family("redundant-sender_hash-adaptive+no-hodl"),
            "sender_hash"
        );
        assert_eq!(family("redundant-boomerang-1-retry"), "boomerang");
        assert_eq!(family("mpp-retry-mcf"), "mpp");
        assert_eq!(family("single-path-retry+zero-fee-hub"), "mpp");
    }

    #[test]
    fn the_fifteen_arm_run_has_fifteen_looks() {
        let arms: Vec<String> = [
            "mpp-retry",
            "mpp-retry-mcf",
            "redundant-sender_hash-0.5",
            "redundant-sender_hash-0.5-retry",
            "redundant-sender_hash-adaptive",
            "redundant-h2tlc-0.25-retry",
            "redundant-h2tlc-0.5",
            "redundant-h2tlc-0.5-retry",
            "redundant-h2tlc-1-retry",
            "redundant-h2tlc-adaptive",
            "redundant-boomerang-0.25-retry",
            "redundant-boomerang-0.5",
            "redundant-boomerang-0.5-retry",
            "redundant-boomerang-1-retry",
            "redundant-boomerang-adaptive",
        ]
        .map(String::from)
        .to_vec();
        let styles = arm_styles(&arms);
        let mut colours: Vec<&str> = styles.iter().map(|s| s.color).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), 15, "every arm its own colour");
        // Within a family, neighbours differ in dash and marker too.
        for w in styles.windows(2) {
            assert_ne!(w[0].color, w[1].color);
        }
        // Twelve arms of one family: still twelve colours.
        let mpp: Vec<String> = (0..12).map(|i| format!("mpp-retry-{i}")).collect();
        let mut c: Vec<&str> = arm_styles(&mpp).iter().map(|s| s.color).collect();
        c.sort();
        c.dedup();
        assert_eq!(c.len(), 12);
        // Few arms keep the Okabe–Ito look.
        assert_eq!(
            arm_styles(&arms[..3]),
            (0..3).map(arm_style).collect::<Vec<_>>()
        );
    }

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
