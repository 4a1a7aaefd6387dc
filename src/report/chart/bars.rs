//! Every configuration at one size, as bars of the ranking metric sorted
//! best first, with 95% whiskers, the baseline, the pick and the offline
//! bound marked: one panel per environment (load level, traffic).

use super::{Axis, Bar, Chart, Content, Figure, Panel, Styles, metric_axis};
use crate::report::Summary;
use crate::report::decide::{self, Recommendation};

pub struct Configurations;

/// At most this many environments get a panel.
const MAX_PANELS: usize = 4;

impl Chart for Configurations {
    fn files(&self) -> [&'static str; 2] {
        ["configurations.png", "configurations.svg"]
    }

    fn caption(&self) -> &'static str {
        "every configuration on the ranking metric"
    }

    fn figure(&self, summary: &Summary) -> Option<Figure> {
        let styles = Styles::of(summary);
        let panels: Vec<Panel> = summary
            .recommendations
            .iter()
            .take(MAX_PANELS)
            .filter_map(|r| panel(summary, &styles, r))
            .collect();
        if panels.is_empty() {
            return None;
        }
        let metric = summary.recommendations[0].rank_by;
        Some(Figure {
            title: format!(
                "{}: {} of every configuration",
                summary.experiment.name,
                metric.title()
            ),
            columns: 1,
            panels,
            legend: Vec::new(),
        })
    }
}

fn panel(summary: &Summary, styles: &Styles, r: &Recommendation) -> Option<Panel> {
    let candidates = &summary.candidates;
    let currency = summary.currency();
    let (unit, factor, name) = metric_axis(r.rank_by, currency);
    // At the pick's size (or the closest's), when sizes vary.
    let anchor = r.pick.or(r.runner_up).or(r.competing.first().copied())?;
    let size = candidates[anchor].value("capacity");
    let mut shown: Vec<usize> = r
        .competing
        .iter()
        .chain(&r.bound)
        .copied()
        .filter(|&i| candidates[i].value("capacity") == size || candidates[i].run.cache.is_none())
        .collect();
    let value = |i: usize| candidates[i].mean(r.rank_by);
    shown.retain(|&i| value(i).is_some());
    if shown.len() < 2 {
        return None;
    }
    let sign = if r.rank_by.higher_is_better() {
        -1.0
    } else {
        1.0
    };
    shown.sort_by(|&a, &b| {
        (sign * value(a).unwrap_or(0.0)).total_cmp(&(sign * value(b).unwrap_or(0.0)))
    });
    let baseline = shown.iter().find_map(|&j| summary.comparisons[j].baseline);
    let bars = shown
        .iter()
        .map(|&i| {
            let c = &candidates[i];
            let m = c.get(r.rank_by).map(|m| m.mean).unwrap_or_default();
            let note = match (Some(i) == r.pick, Some(i) == baseline) {
                (true, true) => "pick, baseline",
                (true, false) => "pick",
                (false, true) => "baseline",
                _ if c.offline => "bound (offline)",
                _ => "",
            };
            Bar {
                label: c.label.clone(),
                value: m.mean * factor,
                interval: (m.half_width > 0.0).then(|| {
                    (
                        (m.mean - m.half_width) * factor,
                        (m.mean + m.half_width) * factor,
                    )
                }),
                style: styles.get(c),
                note: note.into(),
            }
        })
        .collect();
    let mut title = vec![candidates[anchor].environment_label.clone()];
    if decide::varying(candidates).iter().any(|v| v == "capacity") {
        title.extend(size.map(|s| format!("at {s}")));
    }
    title.retain(|t| !t.is_empty());
    let title = title.join(", ");
    Some(Panel {
        title,
        x: Axis::new(name, unit),
        y: Axis::new("", unit),
        content: Content::Bars(bars),
    })
}
