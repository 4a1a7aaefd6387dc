//! The miss-ratio curve: hit ratio (and byte hit ratio, when object sizes
//! differ) against cache size, one line per configuration, Belady as a
//! dashed bound.

use super::{
    Axis, Chart, Content, Figure, Panel, Point, Series, Style, Styles, Unit, Variants, first_run,
    interval, legend,
};
use crate::cache::mrc::{self, Curve};
use crate::experiment::Metric;
use crate::report::Summary;
use crate::report::decide::Candidate;

pub const MRC: Chart = Chart {
    files: ["mrc.png", "mrc.svg"],
    caption: "hit ratio by cache size",
    figure,
};

fn figure(summary: &Summary) -> Option<Figure> {
    let styles = Styles::of(summary);
    let mut cached: Vec<&Candidate> = summary
        .candidates
        .iter()
        .filter(|c| c.run.cache.is_some() && c.get(Metric::HitRatio).is_some())
        .collect();
    // Sizes in bytes and in objects share no axis: the unit most
    // configurations use is drawn, and the title says what is left out.
    let in_objects = |c: &Candidate| first_run(summary, c).count_objects;
    let objects = cached.iter().filter(|c| in_objects(c)).count() * 2 > cached.len();
    let left_out = cached.iter().filter(|c| in_objects(c) != objects).count();
    cached.retain(|c| in_objects(c) == objects);
    let environments: Vec<&str> = cached.iter().fold(Vec::new(), |mut e, c| {
        if !e.contains(&c.environment_label.as_str()) {
            e.push(c.environment_label.as_str());
        }
        e
    });
    let panel = |metric: Metric| {
        let mut series: Vec<Series> = Vec::new();
        for c in &cached {
            let key = styles.key(c);
            let env = environments
                .iter()
                .position(|e| *e == c.environment_label)
                .unwrap_or(0);
            let label = match c.environment_label.as_str() {
                "" => key.clone(),
                e => format!("{key} ({e})"),
            };
            let m = c.get(metric)?.mean;
            let point = Point {
                y_interval: interval(m, 1.0),
                ..Point::at(first_run(summary, c).capacity as f64, m.mean)
            };
            match series.iter_mut().find(|s| s.label == label) {
                Some(s) => s.points.push(point),
                None => {
                    // Another environment: the same colour, dashed.
                    let style = match c.offline {
                        true => styles.get(c),
                        false => Variants::dashed(styles.get(c), env),
                    };
                    series.push(Series {
                        label,
                        points: vec![point],
                        style,
                        keyed: true,
                        end_label: false,
                    });
                }
            }
        }
        for s in &mut series {
            s.points.sort_by(|a, b| a.x.total_cmp(&b.x));
        }
        Some(series)
    };
    let hits = panel(Metric::HitRatio)?;
    if !hits
        .iter()
        .any(|s| s.points.len() > 1 && s.points[0].x < s.points[s.points.len() - 1].x)
    {
        return None;
    }
    let bytes = panel(Metric::ByteHitRatio).filter(|b| {
        b.iter()
            .flat_map(|s| &s.points)
            .zip(hits.iter().flat_map(|s| &s.points))
            .any(|(a, b)| (a.y - b.y).abs() > 1e-9)
    });
    // A size written as a share of the working set keeps its name.
    let named = cached
        .iter()
        .map(|c| {
            let x = first_run(summary, c).capacity as f64;
            let unit = if objects { Unit::Count } else { Unit::Bytes };
            let text = c
                .value("capacity")
                .filter(|w| w.ends_with('%'))
                .map(|w| format!("{w}\n{}", super::axis::format_value(x, unit)));
            (x, text)
        })
        .collect();
    let title = match left_out {
        0 => format!("{}: hit ratio by cache size", summary.experiment.name),
        n => format!(
            "{}: hit ratio by cache size ({n} configurations sized in {} not shown)",
            summary.experiment.name,
            if objects { "bytes" } else { "objects" }
        ),
    };
    Some(size_figure(title, objects, named, hits, bytes))
}

/// Hit ratios against cache size: one panel, or requests and bytes side
/// by side; `named` are ticks to label (a share of the working set).
fn size_figure(
    title: String,
    objects: bool,
    named: Vec<(f64, Option<String>)>,
    hits: Vec<Series>,
    bytes: Option<Vec<Series>>,
) -> Figure {
    let sizes: Vec<f64> = hits
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .collect();
    let x = Axis::new(
        if objects {
            "cache size (objects)"
        } else {
            "cache size"
        },
        if objects { Unit::Count } else { Unit::Bytes },
    )
    .log_if_wide(&sizes)
    .ticks_named(named);
    let keys = legend(
        hits.iter().map(|s| (s.label.clone(), s.style)),
        "configurations",
    );
    let make = |title: &str, y: &str, series: Vec<Series>| Panel {
        title: title.into(),
        x: x.clone(),
        y: Axis::new(y, Unit::Ratio),
        content: Content::Xy {
            series,
            rules: Vec::new(),
        },
    };
    let mut panels = Vec::new();
    match bytes {
        Some(bytes) => {
            panels.push(make("requests", "hit ratio", hits));
            panels.push(make("bytes", "byte hit ratio", bytes));
        }
        None => panels.push(make("", "hit ratio", hits)),
    }
    Figure {
        title,
        columns: panels.len(),
        panels,
        legend: keys,
    }
}

/// The LRU curve of `edgesim mrc` on the trace `name`, drawn like the
/// experiments' curves: hit ratio, and byte hit ratio counting bytes.
pub fn lru_curve(curve: &Curve, name: &str) -> Figure {
    let series = |y: fn(&mrc::Point) -> f64| {
        vec![Series {
            label: "lru".into(),
            points: curve
                .points
                .iter()
                .map(|p| Point::at(p.size as f64, 1.0 - y(p)))
                .collect(),
            style: Style::nth(0),
            keyed: true,
            end_label: false,
        }]
    };
    let how = match curve.points.first().map(|p| p.method) {
        Some(mrc::Method::Sampled) => "SHARDS estimate",
        _ => "exact",
    };
    size_figure(
        format!("{name}: LRU hit ratio by cache size ({how})"),
        curve.count_objects,
        Vec::new(),
        series(|p| p.miss_ratio),
        (!curve.count_objects).then(|| series(|p| p.byte_miss_ratio)),
    )
}
