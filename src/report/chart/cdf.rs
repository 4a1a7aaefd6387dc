//! The latency CDF: the share of answered requests (200, 503, 504) that
//! took at most each latency, one line per configuration (its first
//! replication), one panel per environment (load level, traffic), the
//! tail spread out by a log latency axis.

use super::{
    Axis, Chart, Content, Figure, Panel, Point, Scale, Series, Style, Styles, Unit, Variants,
    first_run, legend, show_hidden,
};
use crate::metrics::service::Quantile;
use crate::report::Summary;
use crate::report::decide::Candidate;

pub const CDF: Chart = Chart {
    files: ["latency_cdf.png", "latency_cdf.svg"],
    caption: "latency CDF",
    figure,
};

/// At most this many environments get a panel.
const MAX_PANELS: usize = 4;

/// The shares marked on the y axis, with the percentiles the tables give
/// by name (the top of the plot is 1).
const TICKS: [(f64, Option<&str>); 6] = [
    (0.0, None),
    (0.25, None),
    (0.5, Some("p50")),
    (0.75, None),
    (0.95, Some("p95")),
    (0.99, Some("p99")),
];

fn figure(summary: &Summary) -> Option<Figure> {
    // Configurations with a measured latency, by environment.
    let mut environments: Vec<(&str, Vec<&Candidate>)> = Vec::new();
    for c in &summary.candidates {
        let measured = first_run(summary, c)
            .service
            .as_ref()
            .is_some_and(|s| !s.quantiles.is_empty());
        if !measured {
            continue;
        }
        let label = c.environment_label.as_str();
        match environments.iter_mut().find(|e| e.0 == label) {
            Some(e) => e.1.push(c),
            None => environments.push((label, vec![c])),
        }
    }
    if environments.is_empty() {
        return None;
    }
    // With more, the first, the last and some evenly between.
    let n = environments.len();
    let shown: Vec<usize> = if n <= MAX_PANELS {
        (0..n).collect()
    } else {
        (0..MAX_PANELS)
            .map(|i| (i * (n - 1) + (MAX_PANELS - 1) / 2) / (MAX_PANELS - 1))
            .collect()
    };
    let styles = Styles::of(summary);
    let mut variants = Variants::default();
    let mut keys: Vec<(String, Style)> = Vec::new();
    let mut panels: Vec<(String, Vec<Series>)> = Vec::new();
    for &e in &shown {
        let (environment, candidates) = &environments[e];
        let series: Vec<Series> = candidates
            .iter()
            .filter_map(|&c| {
                let service = first_run(summary, c).service.as_ref()?;
                let rank = variants.of(&styles.key(c), &c.label);
                let style = Style {
                    marker: super::style::Marker::None,
                    ..Variants::dashed(styles.get(c), rank)
                };
                keys.push((c.label.clone(), style));
                Some(Series {
                    label: c.label.clone(),
                    points: curve(&service.quantiles),
                    style,
                    keyed: false,
                    end_label: false,
                })
            })
            .collect();
        panels.push((environment.to_string(), series));
    }
    let latencies: Vec<f64> = panels
        .iter()
        .flat_map(|p| p.1.iter().flat_map(|s| s.points.iter().map(|p| p.x)))
        .collect();
    // One latency range for every panel, so they compare at a glance:
    // log when latencies span decades, linear near zero when some
    // answers took no time (cache hits without a round trip).
    let (lo, hi) = super::axis::bounds(latencies.iter().copied().filter(|&v| v > 0.0));
    let x = Axis::new("", Unit::Ms);
    let x = if !lo.is_finite() {
        x
    } else if latencies.contains(&0.0) {
        x.scale(Scale::SymLog(10f64.powf(lo.log10().floor())))
            .range(0.0, hi * 1.12)
    } else {
        let x = x.log_if_wide(&latencies);
        match x.scale {
            Scale::Log => x.range(lo / 1.12, hi * 1.12),
            _ => x.range(0.0, hi * 1.05),
        }
    };
    let y = Axis::new("share of requests", Unit::Ratio)
        .range(0.0, 1.0)
        .ticks_named(
            TICKS
                .iter()
                .map(|&(v, name)| (v, name.map(String::from)))
                .collect(),
        );
    let mut panels: Vec<Panel> = panels
        .into_iter()
        .map(|(title, mut series)| {
            show_hidden(&mut series);
            Panel {
                title,
                x: x.clone(),
                y: y.clone(),
                content: Content::Xy {
                    series,
                    rules: Vec::new(),
                },
            }
        })
        .collect();
    if let Some(p) = panels.last_mut() {
        p.x.label = "latency of answered requests".into();
    }
    let mut title = format!("{}: latency CDF", summary.experiment.name);
    if summary.experiment.meta.replications > 1 {
        title.push_str(" (first replication)");
    }
    Some(Figure {
        title,
        columns: 1,
        panels,
        legend: legend(keys.into_iter(), "configurations"),
    })
}

/// The CDF through `quantiles`: straight between neighbours, but flat
/// then rising across a gap (a latency more than twice the one before),
/// where a slope would invent answers that no request gave (between cache
/// hits and origin fetches).
fn curve(quantiles: &[Quantile]) -> Vec<Point> {
    let mut points: Vec<Point> = Vec::new();
    for q in quantiles {
        let x = ms(q.ns);
        if let Some(&Point { x: before, y, .. }) = points.last()
            && x > 2.0 * before
        {
            points.push(Point::at(x, y));
        }
        points.push(Point::at(x, q.quantile));
    }
    points
}

/// A latency in ms; the histogram's least value (1 ns), which it records
/// for answers that took no time, as 0.
fn ms(ns: u64) -> f64 {
    if ns <= 1 { 0.0 } else { ns as f64 / 1e6 }
}
