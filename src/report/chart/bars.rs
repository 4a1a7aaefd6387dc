//! Every configuration at one size, as bars of the ranking metric sorted
//! best first, with 95% whiskers, the baseline, the pick and the offline
//! bound marked: one panel per environment (load level, traffic).

use super::{Axis, Bar, Chart, Content, Figure, Panel, Styles, interval, metric_axis};
use crate::experiment::Metric;
use crate::report::Summary;
use crate::report::decide::{self, Recommendation, Rule};

pub const CONFIGURATIONS: Chart = Chart {
    files: ["configurations.png", "configurations.svg"],
    caption: "every configuration on the ranking metric",
    figure,
};

/// At most this many environments get a panel.
const MAX_PANELS: usize = 4;

fn figure(summary: &Summary) -> Option<Figure> {
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
    let metric = shown_metric(summary, &summary.recommendations[0]);
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

fn panel(summary: &Summary, styles: &Styles, r: &Recommendation) -> Option<Panel> {
    let candidates = &summary.candidates;
    let currency = summary.currency();
    let metric = shown_metric(summary, r);
    let (unit, factor, name) = metric_axis(metric, currency);
    // At the pick's size (or the closest's), when sizes vary.
    let anchor = r.pick.or(r.runner_up).or(r.competing.first().copied())?;
    // The cheapest pick weighs sizes against each other: all are shown.
    let size = match r.rule {
        Rule::Best => candidates[anchor].value("capacity"),
        Rule::Cheapest => None,
    };
    let mut shown: Vec<usize> = r
        .competing
        .iter()
        .chain(&r.bound)
        .copied()
        .filter(|&i| {
            size.is_none()
                || candidates[i].value("capacity") == size
                || candidates[i].run.cache.is_none()
        })
        .collect();
    let value = |i: usize| candidates[i].mean(metric);
    shown.retain(|&i| value(i).is_some());
    shown.sort_unstable();
    shown.dedup();
    if shown.len() < 2 {
        return None;
    }
    let sign = if metric.higher_is_better() { -1.0 } else { 1.0 };
    shown.sort_by(|&a, &b| {
        (sign * value(a).unwrap_or(0.0)).total_cmp(&(sign * value(b).unwrap_or(0.0)))
    });
    let baseline = shown.iter().find_map(|&j| summary.comparisons[j].baseline);
    let bars = shown
        .iter()
        .map(|&i| {
            let c = &candidates[i];
            let m = c.get(metric).map(|m| m.mean).unwrap_or_default();
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
                interval: interval(m, factor),
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

/// What decided: the cost when the cheapest configuration meeting the
/// targets is picked and prices are known, else the ranking metric.
fn shown_metric(summary: &Summary, r: &Recommendation) -> Metric {
    let priced = summary
        .candidates
        .iter()
        .any(|c| c.get(Metric::Cost).is_some());
    if r.rule == Rule::Cheapest && priced {
        Metric::Cost
    } else {
        r.rank_by
    }
}
