//! The longest runs over time: small multiples sharing the time axis, one
//! panel per measure the runs have (hit ratio, p95, error ratio, origin
//! queue, denials per window), with every alert firing as a vertical rule
//! across them.

use super::style::{self, Marker};
use super::{
    Axis, Chart, Content, Figure, Key, Panel, Point, Rule, Series, Style, Styles, Unit, Variants,
    candidate, legend, show_hidden,
};
use crate::experiment::{Experiment, Metric};
use crate::metrics::service::{ServiceStats, Window};
use crate::report::levels;
use crate::report::{Summary, alerts};
use crate::runner::RunResult;

pub const TIMESERIES: Chart = Chart {
    files: ["timeseries.png", "timeseries.svg"],
    caption: "the longest runs over time",
    figure,
};

/// One run drawn: its name and style, whether it is named at its end, and
/// its windows, each with its start in seconds since the first.
struct Line<'a> {
    run: &'a RunResult,
    label: String,
    style: Style,
    named: bool,
    windows: Vec<(f64, &'a Window)>,
}

/// At most this many runs over time before only first replications are drawn.
const MAX_RUNS: usize = 8;

/// One panel: its axis name and unit (log when its values span decades
/// and `log`), the alert metric it shows, which runs have it, and its
/// value in a window (None: nothing to show there).
struct Measure {
    name: &'static str,
    unit: Unit,
    log: bool,
    metric: Option<Metric>,
    has: fn(&RunResult) -> bool,
    value: fn(&Window) -> Option<f64>,
}

const MEASURES: [Measure; 5] = [
    Measure {
        name: "hit ratio",
        log: false,
        unit: Unit::Ratio,
        metric: Some(Metric::HitRatio),
        has: |r| r.run.cache.is_some(),
        value: |w| (w.counts.requests > w.counts.denied).then(|| w.counts.hit_ratio()),
    },
    Measure {
        name: "p95",
        log: true,
        unit: Unit::Ms,
        metric: Some(Metric::P95),
        has: |_| true,
        value: |w| (w.latency.count > 0).then(|| w.latency.p95 as f64 / 1e6),
    },
    Measure {
        name: "error ratio",
        log: false,
        unit: Unit::Percent,
        metric: Some(Metric::ErrorRatio),
        has: |_| true,
        value: |w| (w.counts.requests > 0).then(|| w.counts.error_ratio() * 100.0),
    },
    Measure {
        name: "origin queue",
        log: false,
        unit: Unit::Count,
        metric: None,
        has: |_| true,
        value: |w| Some(w.sample.queue as f64),
    },
    Measure {
        name: "429s per window",
        log: false,
        unit: Unit::Count,
        metric: None,
        has: |r| r.run.limiter.is_some(),
        value: |w| Some(w.counts.denied as f64),
    },
];

fn figure(summary: &Summary) -> Option<Figure> {
    let exp = summary.experiment;
    let runs = over_time(summary);
    if runs.is_empty() {
        return None;
    }
    let styles = Styles::of(summary);
    let mut variants = Variants::default();
    let mut keys: Vec<String> = Vec::new();
    let environments = {
        let mut e: Vec<&str> = Vec::new();
        for r in &runs {
            let label = candidate(summary, &r.run).map_or("", |c| c.environment_label.as_str());
            if !e.contains(&label) {
                e.push(label);
            }
        }
        e.len()
    };
    let mut lines: Vec<Line> = Vec::new();
    for &r in &runs {
        let (Some(s), Some(c)) = (&r.service, candidate(summary, &r.run)) else {
            continue;
        };
        let mut label = c.label.clone();
        if environments > 1 {
            label = format!("{label} ({})", c.environment_label);
        }
        let key = styles.key(c);
        let rank = variants.of(&key, &label);
        let mut style = Style {
            marker: Marker::None,
            ..Variants::dashed(styles.get(c), rank)
        };
        // Further replications thin, behind in the key.
        if r.run.replication > 0 {
            style.width = 1;
        }
        lines.push(Line {
            run: r,
            label,
            style,
            named: false,
            windows: sending(exp, r, s),
        });
        keys.push(key);
    }
    // Lines that share a colour are named at their ends as well.
    for (line, key) in lines.iter_mut().zip(&keys) {
        line.named = line.run.run.replication == 0 && variants.count(key) > 1;
    }
    let last = lines
        .iter()
        .flat_map(|l| l.windows.iter().map(|w| w.0))
        .fold(0.0, f64::max);
    if last <= 0.0 {
        return None;
    }
    let mut panels: Vec<(&Measure, Panel)> = Vec::new();
    let mut zero: Vec<&str> = Vec::new();
    for m in &MEASURES {
        let mut series: Vec<Series> = lines
            .iter()
            .filter(|l| (m.has)(l.run))
            .map(|l| Series {
                label: l.label.clone(),
                points: l
                    .windows
                    .iter()
                    .filter_map(|&(t, w)| (m.value)(w).map(|v| Point::at(t, v)))
                    .filter(|p| p.y.is_finite())
                    .collect(),
                style: l.style,
                keyed: false,
                end_label: l.named,
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        // A measure that stays at zero is said in the title, not drawn.
        if series.iter().all(|s| s.points.iter().all(|p| p.y == 0.0)) {
            zero.push(m.name);
            continue;
        }
        show_hidden(&mut series);
        let mut y = Axis::new(m.name, m.unit);
        if m.log {
            let values: Vec<f64> = series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.y))
                .collect();
            y = y.log_if_wide(&values);
        }
        panels.push((
            m,
            Panel {
                title: String::new(),
                x: Axis::new("", Unit::Seconds).range(0.0, last),
                y,
                content: Content::Xy {
                    series,
                    rules: Vec::new(),
                },
            },
        ));
    }
    if panels.is_empty() {
        return None;
    }
    for (rule, metric) in firings(summary, &lines) {
        // Named on its metric's panel (else the first), drawn on all.
        let named = panels
            .iter()
            .position(|(m, _)| m.metric.is_some() && m.metric == Some(metric))
            .unwrap_or(0);
        for (i, (_, panel)) in panels.iter_mut().enumerate() {
            if let Content::Xy { rules, .. } = &mut panel.content {
                rules.push(Rule {
                    vertical: true,
                    at: rule.at,
                    label: if i == named {
                        rule.label.clone()
                    } else {
                        String::new()
                    },
                    style: rule.style,
                });
            }
        }
    }
    let mut panels: Vec<Panel> = panels.into_iter().map(|(_, p)| p).collect();
    if let Some(p) = panels.last_mut() {
        p.x.label = "time since the first request".into();
    }
    let mut legend = legend(
        lines
            .iter()
            .filter(|l| l.run.run.replication == 0)
            .map(|l| (l.label.clone(), l.style)),
        "configurations",
    );
    if lines.iter().any(|l| l.run.run.replication > 0) {
        legend.push(Key {
            label: "thin: other replications".into(),
            style: Style {
                width: 1,
                marker: Marker::None,
                ..Style::rule(style::BLACK).dashed(None)
            },
        });
    }
    let window = levels::number(exp.report.window() as f64 / 1e9);
    let loads: Vec<usize> = lines.iter().fold(Vec::new(), |mut l, line| {
        if !l.contains(&line.run.run.load) {
            l.push(line.run.run.load);
        }
        l
    });
    let mut title = format!("{}: per {window} s window", exp.name);
    if let [one] = loads.as_slice() {
        title = format!("{title}, load {}", exp.loads[*one].label());
    }
    if !zero.is_empty() {
        title = format!("{title} ({}: 0 throughout)", zero.join(", "));
    }
    Some(Figure {
        title,
        columns: 1,
        panels,
        legend,
    })
}

/// The windows of run `r` (with service stats `s`) while requests were
/// sent, each with its start in seconds since the first: after sending
/// stops only the slowest answers are left, and the drain would read as a
/// spike.
fn sending<'a>(exp: &Experiment, r: &RunResult, s: &'a ServiceStats) -> Vec<(f64, &'a Window)> {
    let origin = s.windows.first().map_or(0, |w| w.start);
    let end = exp.load_of(&r.run).spec.load.end();
    let Some(last) = s.windows.iter().rposition(|w| w.counts.requests > 0) else {
        return Vec::new();
    };
    s.windows[..=last]
        .iter()
        .filter(|w| end.is_none_or(|end| w.start - origin < end))
        .map(|w| ((w.start - origin) as f64 / 1e9, w))
        .collect()
}

/// The runs drawn over time: those of the endurance level(s), only first
/// replications when there would be too many lines; none when no run has
/// two windows.
fn over_time<'a>(summary: &Summary<'a>) -> Vec<&'a RunResult> {
    let exp = summary.experiment;
    let levels = levels::levels(summary.results);
    let loads = levels::endurance(exp, &levels);
    let mut runs: Vec<&RunResult> = summary
        .results
        .iter()
        .filter(|r| loads.contains(&r.run.load))
        .filter(|r| r.service.is_some())
        .collect();
    if runs.len() > MAX_RUNS {
        runs.retain(|r| r.run.replication == 0);
    }
    if runs
        .iter()
        .all(|r| r.service.as_ref().is_none_or(|s| s.windows.len() < 2))
    {
        runs.clear();
    }
    runs
}

/// The alert firings in the drawn runs, one rule per alert and time, in
/// the colour of the configurations that fired then (black when they
/// differ), with the metric the alert watches.
fn firings(summary: &Summary, lines: &[Line]) -> Vec<(Rule, Metric)> {
    let exp = summary.experiment;
    let mut out: Vec<(Rule, Metric)> = Vec::new();
    for Line {
        run,
        style,
        windows,
        ..
    } in lines
    {
        for (alert, times) in alerts::fired(exp, run) {
            for t in times {
                let at = t as f64 / 1e9;
                // Only where the line is drawn.
                if windows.last().is_none_or(|w| at > w.0) {
                    continue;
                }
                match out
                    .iter_mut()
                    .find(|(rule, _)| rule.at == at && rule.label == alert.name)
                {
                    Some((rule, _)) => {
                        if rule.style.color != style.color {
                            rule.style.color = style::BLACK;
                        }
                    }
                    None => out.push((
                        Rule {
                            vertical: true,
                            at,
                            label: alert.name.clone(),
                            style: Style {
                                width: 1,
                                ..Style::rule(style.color)
                            },
                        },
                        alert.metric,
                    )),
                }
            }
        }
    }
    out
}
