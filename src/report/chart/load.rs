//! What users feel against the load level of each stress ladder (a
//! `[[load]]` table of several levels): the latency percentiles
//! (latency.png) or the error ratio (errors.png), one colour per
//! configuration, each configuration's breaking point as a vertical rule
//! in its colour and the breaking rule across.

use super::style::{self, Dash, Marker};
use super::{
    Axis, Chart, Content, Figure, Key, Panel, Point, Rule, Series, Style, Styles, Unit, Variants,
    legend, show_hidden,
};
use crate::report::Summary;
use crate::report::breaking;
use crate::report::levels::{self, ConfigKey, Level};
use crate::report::summary::Mean;

/// The latency percentiles by load.
pub const LATENCY: Chart = Chart {
    files: ["latency.png", "latency.svg"],
    caption: "latency by load",
    figure: |summary| figure(summary, false),
};

/// The error ratio by load.
pub const ERRORS: Chart = Chart {
    files: ["errors.png", "errors.svg"],
    caption: "error ratio by load",
    figure: |summary| figure(summary, true),
};

/// One line drawn per configuration: its name in the key, its value at a
/// level (in the axis unit), its dashes, and whether it carries the 95%
/// interval (the measures the breaking point judges do).
struct Measure {
    name: &'static str,
    value: fn(&Level) -> Mean,
    factor: f64,
    dash: Option<Dash>,
    interval: bool,
}

impl Measure {
    /// What the breaking point judges: solid, with its interval.
    const fn judged(name: &'static str, value: fn(&Level) -> Mean, factor: f64) -> Measure {
        Measure {
            name,
            value,
            factor,
            dash: None,
            interval: true,
        }
    }

    /// A percentile drawn around the judged p95 for context: dashed, in
    /// ms, without an interval.
    const fn context(name: &'static str, value: fn(&Level) -> Mean, dash: Dash) -> Measure {
        Measure {
            name,
            value,
            factor: 1.0,
            dash: Some(dash),
            interval: false,
        }
    }
}

const PERCENTILES: [Measure; 3] = [
    Measure::context("p50", |l| l.p50, style::DASHES[1]),
    Measure::judged("p95", |l| l.p95, 1.0),
    Measure::context("p99", |l| l.p99, style::DASHES[0]),
];

const ERROR_RATIO: [Measure; 1] = [Measure::judged("error ratio", |l| l.error_ratio, 100.0)];

/// The latency percentiles, or the error ratio when `errors`.
fn figure(summary: &Summary, errors: bool) -> Option<Figure> {
    let exp = summary.experiment;
    let ladders = levels::ladders(exp);
    let levels = levels::levels(summary.results);
    if ladders.is_empty() || levels.is_empty() {
        return None;
    }
    let measures: &[Measure] = if errors { &ERROR_RATIO } else { &PERCENTILES };
    let styles = Styles::of(summary);
    let mut variants = Variants::default();
    let workloads = exp.workloads.len() > 1;
    let mut series = Vec::new();
    // Each (configuration, ladder) drawn, with its name and style.
    let mut lines: Vec<(ConfigKey, usize, String, Style)> = Vec::new();
    for config in levels::configs(&levels) {
        for (li, ladder) in ladders.iter().enumerate() {
            let at: Vec<(f64, &Level)> = ladder
                .loads
                .iter()
                .zip(&ladder.x)
                .filter_map(|(&load, &x)| levels::find(&levels, config, load).map(|l| (x, l)))
                .collect();
            let Some(&(_, first)) = at.first() else {
                continue;
            };
            let Some(c) = summary
                .candidates
                .iter()
                .find(|c| ConfigKey::of(&c.run) == config && c.run.load == first.load)
            else {
                continue;
            };
            let mut label = c.label.clone();
            if workloads {
                label = format!("{label} ({})", levels::workload_label(exp, config.workload));
            }
            if ladders.len() > 1 {
                label = format!("{label}, {}", ladder.name);
            }
            // Dashes tell the measures apart, markers the lines of one colour.
            let rank = variants.of(&styles.key(c), &label);
            let style = Variants::marked(styles.get(c), rank);
            for m in measures {
                let points = at
                    .iter()
                    .map(|&(x, l)| {
                        let v = (m.value)(l);
                        let (mean, half) = (v.mean * m.factor, v.half_width * m.factor);
                        Point {
                            y_interval: (m.interval && half > 0.0)
                                .then_some((mean - half, mean + half)),
                            ..Point::at(x, mean)
                        }
                    })
                    .filter(|p| p.y.is_finite())
                    .collect();
                series.push(Series {
                    label: label.clone(),
                    points,
                    style: style.dashed(m.dash),
                    keyed: false,
                    end_label: false,
                });
            }
            lines.push((config, li, label, style));
        }
    }
    if series.is_empty() {
        return None;
    }
    show_hidden(&mut series);
    let mut rules: Vec<Rule> = breaking::find(exp, &levels, &ladders)
        .iter()
        .filter_map(|b| {
            let k = b.breaks?;
            let (_, _, label, style) = lines.iter().find(|l| l.0 == b.config && l.1 == b.ladder)?;
            let ladder = &ladders[b.ladder];
            Some(Rule {
                vertical: true,
                at: ladder.x[k.step],
                label: format!(
                    "{label} breaks at {}",
                    ladder.level_value(exp, k.step).replace('`', "")
                ),
                style: Style::rule(style.color),
            })
        })
        .collect();
    let rule = &exp.report.breaking_point;
    let threshold = Style {
        width: 1,
        ..Style::rule(style::BLACK)
    };
    if errors {
        rules.push(Rule {
            vertical: false,
            at: rule.error_ratio * 100.0,
            label: format!(
                "breaks above {}% errors",
                levels::number(rule.error_ratio * 100.0)
            ),
            style: threshold,
        });
    } else if let Some(p95) = rule.p95 {
        let ms = p95.0 as f64 / 1e6;
        rules.push(Rule {
            vertical: false,
            at: ms,
            label: format!("breaks above p95 {} ms", levels::number(ms)),
            style: threshold,
        });
    }
    let mut keys = legend(
        lines
            .iter()
            .map(|(_, _, label, style)| (label.clone(), *style)),
        "configurations",
    );
    if !errors {
        // The dashes once, in black.
        keys.extend(measures.iter().map(|m| Key {
            label: m.name.into(),
            style: Style {
                marker: Marker::None,
                ..Style::rule(style::BLACK).dashed(m.dash)
            },
        }));
    }
    let axes: Vec<String> = ladders.iter().map(|l| l.axis()).collect();
    let x_label = if axes.iter().all(|a| *a == axes[0]) {
        axes[0].clone()
    } else {
        "load level".into()
    };
    let xs: Vec<f64> = ladders.iter().flat_map(|l| l.x.iter().copied()).collect();
    let x = Axis::new(x_label, Unit::Count).log_if_wide(&xs);
    // Ticks at the tested levels; those without a value of their own
    // (1, 2, 3...) named by their label.
    let x = if ladders.iter().all(|l| l.unit.is_some()) {
        x.ticks_at(&xs)
    } else {
        x.ticks_named(
            ladders
                .iter()
                .flat_map(|l| {
                    (0..l.x.len())
                        .map(move |i| (l.x[i], Some(l.level_value(exp, i).replace('`', ""))))
                })
                .collect(),
        )
    };
    let y = if errors {
        Axis::new("error ratio (503 + 504)", Unit::Percent)
    } else {
        Axis::new("latency of answered requests", Unit::Ms)
    };
    Some(Figure {
        title: if errors {
            format!("{}: error ratio by load", exp.name)
        } else {
            format!("{}: latency by load (p50, p95, p99)", exp.name)
        },
        panels: vec![Panel {
            title: String::new(),
            x,
            y,
            content: Content::Xy { series, rules },
        }],
        columns: 1,
        legend: keys,
    })
}
