//! How series look: a colour-blind-safe palette (Okabe–Ito, without its
//! yellow, which vanishes on white), marker shapes and dashes to tell
//! series apart beyond colour, and one colour per configuration for every
//! chart of a report.

use plotters::style::RGBColor;

/// Okabe & Ito's palette in an order that keeps neighbours far apart;
/// black is kept for bounds (Belady) and grey for context.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x8C, 0x56, 0x4B), // brown (Tableau 10), for an eighth
];
pub const BLACK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
pub const GREY: RGBColor = RGBColor(0xA8, 0xA8, 0xA8);
/// Grid lines and frames.
pub const LIGHT: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
pub const TEXT: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Beyond this many series (one per colour), only the featured ones get
/// colours.
pub const MAX_COLOURED: usize = PALETTE.len();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    /// A line without markers.
    None,
}

pub const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
];

/// Dash and gap in pixels.
pub type Dash = (u32, u32);
/// Patterns that tell apart lines of one colour: long dashes, dots, even
/// dashes, sparse dots, very long dashes.
pub const DASHES: [Dash; 5] = [(14, 4), (3, 4), (6, 6), (2, 9), (24, 6)];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub color: RGBColor,
    /// Line width in pixels (markers scale with it).
    pub width: u32,
    pub dash: Option<Dash>,
    pub marker: Marker,
    /// Join the points with a line.
    pub line: bool,
}

impl Style {
    /// The `i`-th of a set of series: its own colour (at most
    /// [`MAX_COLOURED`] are coloured) and a marker of its own among its
    /// neighbours.
    pub fn nth(i: usize) -> Style {
        Style {
            color: PALETTE[i % PALETTE.len()],
            width: 2,
            dash: None,
            marker: MARKERS[i % MARKERS.len()],
            line: true,
        }
    }

    /// Context: thin and grey, behind the featured series.
    pub fn context() -> Style {
        Style {
            color: GREY,
            width: 1,
            dash: None,
            marker: Marker::None,
            line: true,
        }
    }

    /// A bound no real configuration reaches (Belady): black, dashed.
    pub fn bound() -> Style {
        Style {
            color: BLACK,
            width: 2,
            dash: Some((8, 5)),
            marker: Marker::None,
            line: true,
        }
    }

    /// Rules and keys that are not a series.
    pub fn rule(color: RGBColor) -> Style {
        Style {
            color,
            width: 2,
            dash: Some((8, 5)),
            marker: Marker::None,
            line: true,
        }
    }

    pub fn dashed(self, dash: Option<Dash>) -> Style {
        Style { dash, ..self }
    }

    pub fn points_only(self) -> Style {
        Style {
            line: false,
            marker: if self.marker == Marker::None {
                Marker::Circle
            } else {
                self.marker
            },
            ..self
        }
    }

    pub fn is_context(&self) -> bool {
        self.color == GREY
    }
}

/// The style of every series key in a report, so a configuration looks the
/// same in every chart. With more than [`MAX_COLOURED`] keys only the
/// featured ones (the baseline, the best few, bounds) get colours; the
/// rest are context.
#[derive(Debug, Clone, Default)]
pub struct Colors {
    styles: Vec<(String, Style)>,
}

impl Colors {
    /// `keys` in the order they should take colours (first-seen order),
    /// each with whether it is featured and whether it is a bound.
    pub fn new(keys: &[(String, bool, bool)]) -> Self {
        let colour_all = keys.iter().filter(|k| !k.2).count() <= MAX_COLOURED;
        let mut next = 0;
        let styles = keys
            .iter()
            .map(|(key, featured, bound)| {
                let style = if *bound {
                    Style::bound()
                } else if colour_all || *featured {
                    next += 1;
                    Style::nth(next - 1)
                } else {
                    Style::context()
                };
                (key.clone(), style)
            })
            .collect();
        Colors { styles }
    }

    /// The style of `key`; unknown keys are context.
    pub fn get(&self, key: &str) -> Style {
        self.styles
            .iter()
            .find(|(k, _)| k == key)
            .map_or(Style::context(), |(_, s)| *s)
    }
}
