//! The charts of an experiment with a `[service]`: latency and error ratio
//! against the load level of each stress ladder with the breaking points
//! marked (latency.png, errors.png), and p95 over time in the longest runs
//! (timeseries.png).

use anyhow::Result;

use super::breaking;
use super::levels::{self, ConfigKey, Ladder, Level};
use super::line_chart::{Legend, LineChart, Rule, Series, Style};
use super::{Export, Summary};
use crate::runner::RunResult;

/// At most this many lines over time before only first replications are drawn.
const MAX_TIME_SERIES: usize = 8;

#[derive(Clone, Copy)]
enum Kind {
    Latency,
    Errors,
    Timeseries,
}

/// One of the service charts, in PNG or SVG.
pub struct Chart {
    kind: Kind,
    svg: bool,
}

impl Chart {
    pub const LATENCY_PNG: Chart = Chart {
        kind: Kind::Latency,
        svg: false,
    };
    pub const LATENCY_SVG: Chart = Chart {
        kind: Kind::Latency,
        svg: true,
    };
    pub const ERRORS_PNG: Chart = Chart {
        kind: Kind::Errors,
        svg: false,
    };
    pub const ERRORS_SVG: Chart = Chart {
        kind: Kind::Errors,
        svg: true,
    };
    pub const TIMESERIES_PNG: Chart = Chart {
        kind: Kind::Timeseries,
        svg: false,
    };
    pub const TIMESERIES_SVG: Chart = Chart {
        kind: Kind::Timeseries,
        svg: true,
    };
}

impl Export for Chart {
    fn file_name(&self) -> &'static str {
        match (self.kind, self.svg) {
            (Kind::Latency, false) => "latency.png",
            (Kind::Latency, true) => "latency.svg",
            (Kind::Errors, false) => "errors.png",
            (Kind::Errors, true) => "errors.svg",
            (Kind::Timeseries, false) => "timeseries.png",
            (Kind::Timeseries, true) => "timeseries.svg",
        }
    }

    fn applies(&self, summary: &Summary) -> bool {
        match self.kind {
            Kind::Latency | Kind::Errors => has_ladder(summary),
            Kind::Timeseries => !over_time(summary).is_empty(),
        }
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let chart = match self.kind {
            Kind::Latency => by_load(summary, false),
            Kind::Errors => by_load(summary, true),
            Kind::Timeseries => timeseries(summary),
        };
        if self.svg { chart.svg() } else { chart.png() }
    }
}

/// Whether latency.png and errors.png are drawn: a service measured at
/// several levels of one `[[load]]` table.
pub fn has_ladder(summary: &Summary) -> bool {
    summary.results.iter().any(|r| r.service.is_some())
        && !levels::ladders(summary.experiment).is_empty()
}

/// Whether timeseries.png is drawn.
pub fn has_timeseries(summary: &Summary) -> bool {
    !over_time(summary).is_empty()
}

/// A palette index per (configuration, ladder), shared by every chart.
fn color(configs: &[ConfigKey], ladders: &[Ladder], config: ConfigKey, ladder: usize) -> usize {
    let c = configs.iter().position(|k| *k == config).unwrap_or(0);
    c * ladders.len() + ladder
}

/// A series' name: the configuration, and the ladder when there are several.
fn series_label(summary: &Summary, ladders: &[Ladder], config: ConfigKey, ladder: usize) -> String {
    let label = levels::config_label(summary.experiment, config);
    if ladders.len() > 1 {
        format!("{label}, {}", ladders[ladder].name)
    } else {
        label
    }
}

/// Latency percentiles (or the error ratio) against the load level, one
/// colour per configuration, with a dashed line where each breaks.
fn by_load(summary: &Summary, errors: bool) -> LineChart {
    let exp = summary.experiment;
    let levels = levels::levels(summary.results);
    let ladders = levels::ladders(exp);
    let configs = levels::configs(&levels);
    let mut series = Vec::new();
    let mut styles = Vec::new();
    // Label suffix, value and dashes of each line drawn per configuration.
    type Line = (&'static str, fn(&Level) -> f64, Option<(u32, u32)>);
    let metrics: Vec<Line> = if errors {
        vec![("", |l| l.error_ratio.mean * 100.0, None)]
    } else {
        vec![
            (" p50", |l| l.p50.mean, Some((3, 4))),
            (" p95", |l| l.p95.mean, None),
            (" p99", |l| l.p99.mean, Some((12, 6))),
        ]
    };
    for &config in &configs {
        for (li, ladder) in ladders.iter().enumerate() {
            let color = color(&configs, &ladders, config, li);
            for (_, metric, dash) in &metrics {
                let points: Vec<(f64, f64)> = ladder
                    .loads
                    .iter()
                    .zip(&ladder.x)
                    .filter_map(|(&load, &x)| {
                        levels::find(&levels, config, load).map(|l| (x, metric(l)))
                    })
                    .collect();
                // One legend entry per configuration (its solid line); the
                // percentiles get a grey key below, which keeps the legend short.
                let label = if dash.is_none() {
                    series_label(summary, &ladders, config, li)
                } else {
                    String::new()
                };
                series.push(Series { label, points });
                styles.push(Style {
                    color: Some(color),
                    dash: *dash,
                });
            }
        }
    }
    if !errors {
        for (key, _, dash) in &metrics {
            series.push(Series {
                label: key.trim().to_string(),
                points: Vec::new(),
            });
            styles.push(Style {
                color: None,
                dash: *dash,
            });
        }
    }
    let mut rules: Vec<Rule> = breaking::find(exp, &levels, &ladders)
        .iter()
        .filter_map(|b| {
            let k = b.breaks?;
            let ladder = &ladders[b.ladder];
            Some(Rule {
                vertical: true,
                at: ladder.x[k.step],
                label: format!(
                    "{} breaks at {}",
                    series_label(summary, &ladders, b.config, b.ladder),
                    ladder.level_value(exp, k.step).replace('`', "")
                ),
                color: Some(color(&configs, &ladders, b.config, b.ladder)),
            })
        })
        .collect();
    let rule = &exp.report.breaking_point;
    if errors {
        rules.push(Rule {
            vertical: false,
            at: rule.error_ratio * 100.0,
            label: format!(
                "breaks above {}% errors",
                levels::number(rule.error_ratio * 100.0)
            ),
            color: None,
        });
    } else if let Some(p95) = rule.p95 {
        let ms = p95.0 as f64 / 1e6;
        rules.push(Rule {
            vertical: false,
            at: ms,
            label: format!("breaks above p95 {} ms", levels::number(ms)),
            color: None,
        });
    }
    let axes: Vec<String> = ladders.iter().map(Ladder::axis).collect();
    let x_label = if axes.iter().all(|a| *a == axes[0]) {
        axes[0].clone()
    } else {
        "load level".into()
    };
    let mut x_ticks: Vec<f64> = ladders.iter().flat_map(|l| l.x.iter().copied()).collect();
    x_ticks.sort_by(f64::total_cmp);
    x_ticks.dedup();
    let (lo, hi) = ladders
        .iter()
        .flat_map(|l| l.x.iter().copied())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(rules.iter().filter(|r| !r.vertical).map(|r| r.at))
        .fold(0.0f64, f64::max);
    LineChart {
        title: if errors {
            format!("{}: error ratio (503 + 504) by load", exp.name)
        } else {
            format!("{}: latency by load (p50, p95, p99)", exp.name)
        },
        x_label,
        y_label: if errors {
            "error ratio (%)".into()
        } else {
            "latency (ms)".into()
        },
        series,
        log_x: lo > 0.0 && hi / lo >= 10.0,
        y_max: if errors { 100.0 } else { (top * 1.5).max(1.0) },
        marker: 4,
        styles,
        rules,
        legend: Legend::UpperLeft,
        x_ticks,
        // The legend lists every configuration and the percentile key.
        headroom: if errors { 0.1 } else { 0.4 },
    }
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
    if runs.len() > MAX_TIME_SERIES {
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

/// p95 per window against time since the run's first request.
fn timeseries(summary: &Summary) -> LineChart {
    let exp = summary.experiment;
    let runs = over_time(summary);
    let levels = levels::levels(summary.results);
    let configs = levels::configs(&levels);
    let ladders = levels::ladders(exp);
    let loads = levels::endurance(exp, &levels);
    let replications = runs.iter().any(|r| r.run.replication > 0);
    let mut series = Vec::new();
    let mut styles = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let Some(s) = &r.service else { continue };
        let origin = s.windows.first().map_or(0, |w| w.start);
        let end = exp.loads[r.run.load].spec.load.end();
        let config = ConfigKey::of(&r.run);
        let mut label = levels::config_label(exp, config);
        if loads.len() > 1 {
            label = format!("{label}, {}", exp.loads[r.run.load].label());
        }
        if replications {
            label = format!("{label}, replication {}", r.run.replication);
        }
        series.push(Series {
            label,
            points: s
                .windows
                .iter()
                .filter(|w| w.latency.count > 0)
                // After sending stops only the slowest answers are left:
                // the drain would read as a spike.
                .filter(|w| end.is_none_or(|end| w.start - origin < end))
                .map(|w| ((w.start - origin) as f64 / 1e9, w.latency.p95 as f64 / 1e6))
                .collect(),
        });
        // The configuration's colour in the load charts; replications
        // differ by dashes, several endurance levels by colour.
        let color = if loads.len() > 1 {
            i
        } else {
            let ladder = ladders.iter().position(|l| l.loads.contains(&r.run.load));
            match ladder {
                Some(li) => color(&configs, &ladders, config, li),
                None => configs.iter().position(|k| *k == config).unwrap_or(i),
            }
        };
        const DASHES: [Option<(u32, u32)>; 4] = [None, Some((8, 4)), Some((3, 3)), Some((14, 4))];
        styles.push(Style {
            color: Some(color),
            dash: DASHES[r.run.replication as usize % DASHES.len()],
        });
    }
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let series_count = series.len();
    let window = exp.report.window() as f64 / 1e9;
    let what = match loads.as_slice() {
        [one] => format!(", load {}", exp.loads[*one].label()),
        _ => String::new(),
    };
    LineChart {
        title: format!(
            "{}: p95 per {}s window{what}",
            exp.name,
            levels::number(window)
        ),
        x_label: "time since the first request (s)".into(),
        y_label: "p95 latency (ms)".into(),
        series,
        log_x: false,
        y_max: (top * 2.0).max(1.0),
        marker: 2,
        styles,
        rules: Vec::new(),
        legend: Legend::UpperRight,
        x_ticks: Vec::new(),
        // The legend grows with the lines.
        headroom: 0.06 * series_count as f64,
    }
}
