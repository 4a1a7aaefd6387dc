//! What a chart shows, independent of how it is drawn: panels of lines,
//! points or bars on described axes. The chart kinds build these; `draw`
//! turns one into PNG or SVG.

use super::axis::Axis;
use super::style::Style;

/// A whole chart: a title, one or more panels, and a key beside them.
pub struct Figure {
    pub title: String,
    pub panels: Vec<Panel>,
    /// Panels per row (side by side); further panels go below.
    pub columns: usize,
    /// The key, drawn to the right of the panels, outside the data.
    pub legend: Vec<Key>,
}

/// One plot area with its axes.
pub struct Panel {
    /// Above the plot; empty for none.
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub content: Content,
}

pub enum Content {
    /// Lines and points on two value axes.
    Xy {
        series: Vec<Series>,
        rules: Vec<Rule>,
    },
    /// One horizontal bar per row, top to bottom, against the x axis (the
    /// y axis only names the rows).
    Bars(Vec<Bar>),
}

/// A line (or a set of points, when its style draws no line).
pub struct Series {
    /// Named in the key when `keyed`, and beside the line's last point
    /// when `end_label`.
    pub label: String,
    pub points: Vec<Point>,
    pub style: Style,
    pub keyed: bool,
    pub end_label: bool,
}

#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// A 95% interval on y, drawn as a whisker.
    pub y_interval: Option<(f64, f64)>,
    /// Written beside the point, placed where it overlaps nothing else.
    pub label: Option<String>,
}

impl Point {
    pub fn at(x: f64, y: f64) -> Self {
        Point {
            x,
            y,
            y_interval: None,
            label: None,
        }
    }
}

/// A dashed line across the plot, labelled at its end.
pub struct Rule {
    /// Across at `at` on the x axis (a vertical line), else on the y axis.
    pub vertical: bool,
    pub at: f64,
    pub label: String,
    pub style: Style,
}

pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    pub style: Style,
    /// Written after the value (e.g. "baseline", a grade).
    pub note: String,
}

/// One entry of the key.
pub struct Key {
    pub label: String,
    pub style: Style,
}
