//! The workshop's grades of each recommended configuration against its
//! baseline: one bar per graded metric, its improvement in percent, in
//! the colour of its band.

use super::{Axis, Bar, Chart, Content, Figure, Panel, Style, Unit};
use crate::report::Summary;
use crate::report::decide::Band;

pub const GRADES: Chart = Chart {
    files: ["grades.png", "grades.svg"],
    caption: "grades of the pick against the baseline",
    figure,
};

fn figure(summary: &Summary) -> Option<Figure> {
    let candidates = &summary.candidates;
    let panels: Vec<Panel> = summary
        .recommendations
        .iter()
        .filter_map(|r| {
            let pick = r.pick?;
            let comparison = &summary.comparisons[pick];
            let baseline = comparison.baseline?;
            let bars: Vec<Bar> = comparison
                .grades
                .iter()
                .filter(|g| g.improvement.is_finite())
                .map(|g| Bar {
                    label: g.metric.title().into(),
                    value: g.improvement,
                    interval: None,
                    style: band_style(g.band),
                    note: g.band.name().into(),
                })
                .collect();
            if bars.is_empty() {
                return None;
            }
            let mut title = format!(
                "{} against {}",
                candidates[pick].label, candidates[baseline].label
            );
            if !candidates[pick].environment_label.is_empty() {
                title = format!("{title} ({})", candidates[pick].environment_label);
            }
            Some(Panel {
                title,
                x: Axis::new("improvement over the baseline", Unit::Percent),
                y: Axis::new("", Unit::Percent),
                content: Content::Bars(bars),
            })
        })
        .collect();
    if panels.is_empty() {
        return None;
    }
    Some(Figure {
        title: format!("{}: workshop grades of the pick", summary.experiment.name),
        columns: 1,
        panels,
        legend: [Band::Excellent, Band::Good, Band::Fair, Band::Poor]
            .into_iter()
            .map(|b| super::Key {
                label: b.name().into(),
                style: band_style(b),
            })
            .collect(),
    })
}

/// Green for excellent through vermillion for poor (Okabe–Ito).
fn band_style(band: Band) -> Style {
    let nth = match band {
        Band::Excellent => 2,
        Band::Good => 0,
        Band::Fair => 4,
        Band::Poor => 1,
    };
    Style {
        marker: super::style::Marker::Square,
        line: false,
        ..Style::nth(nth)
    }
}
