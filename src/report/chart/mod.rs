//! Charts. Each kind is one file that turns the results into a [`Figure`]
//! (or nothing, when the experiment has no data for it); `draw` renders
//! any figure to PNG and SVG in one style, so adding a chart touches one
//! new file and one line of [`CHARTS`].

mod axis;
mod draw;
mod figure;
mod style;

mod bars;
mod grades;
mod mrc;
mod tradeoff;

use std::fmt::Write;

use anyhow::{Result, anyhow};

pub use axis::{Axis, Scale, Unit};
pub use bars::Configurations;
pub use figure::{Bar, Content, Figure, Key, Panel, Point, Rule, Series};
pub use grades::Grades;
pub use mrc::Mrc;
pub use style::{Colors, Style};
pub use tradeoff::Tradeoff;

use super::decide::{self, Candidate};
use super::summary::Mean;
use super::{Export, Summary};
use crate::experiment::Metric;
use crate::runner::RunResult;

/// One kind of chart.
pub trait Chart: Sync {
    /// Its PNG and SVG file names.
    fn files(&self) -> [&'static str; 2];
    /// What it shows, for the report's image text.
    fn caption(&self) -> &'static str;
    /// The figure, or None when the experiment has nothing for it to show.
    fn figure(&self, summary: &Summary) -> Option<Figure>;
}

/// Every chart kind, in the order the report shows them.
pub const CHARTS: &[&dyn Chart] = &[
    &mrc::Mrc,
    &bars::Configurations,
    &grades::Grades,
    &tradeoff::Tradeoff,
];

/// A chart as an output file.
#[derive(Clone, Copy)]
pub struct File {
    chart: &'static dyn Chart,
    svg: bool,
}

impl File {
    pub const fn png(chart: &'static dyn Chart) -> File {
        File { chart, svg: false }
    }

    pub const fn svg(chart: &'static dyn Chart) -> File {
        File { chart, svg: true }
    }
}

impl Export for File {
    fn file_name(&self) -> &'static str {
        self.chart.files()[self.svg as usize]
    }

    fn applies(&self, summary: &Summary) -> bool {
        self.chart.figure(summary).is_some()
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let figure = self
            .chart
            .figure(summary)
            .ok_or_else(|| anyhow!("no data to draw"))?;
        if self.svg { figure.svg() } else { figure.png() }
    }
}

/// Puts `chart` in report.md when it is drawn.
pub fn image(md: &mut String, summary: &Summary, chart: &dyn Chart) {
    if chart.figure(summary).is_some() {
        let _ = writeln!(md, "![{}]({})\n", chart.caption(), chart.files()[0]);
    }
}

/// The styles of a report's series: one per configuration without its
/// size or environment ("lru", "s3fifo · ttl=60s", "lru + gcra"), so a
/// configuration looks the same in every chart. With many, only the
/// baseline and the best few by the ranking metric are coloured.
pub struct Styles {
    varying: Vec<String>,
    colors: Colors,
}

/// Beyond [`style::MAX_COLOURED`] series, this many best ones are coloured
/// besides the baseline.
const FEATURED: usize = 5;

impl Styles {
    pub fn of(summary: &Summary) -> Styles {
        let varying = decide::varying(&summary.candidates);
        let mut styles = Styles {
            varying,
            colors: Colors::default(),
        };
        let keys: Vec<String> = summary.candidates.iter().map(|c| styles.key(c)).collect();
        // Featured, in this order until there are enough: baselines,
        // picks and runners-up, then the best by the ranking metric among
        // those meeting the targets, then among all.
        let mut featured: Vec<usize> = summary
            .comparisons
            .iter()
            .filter_map(|c| c.baseline)
            .collect();
        for r in &summary.recommendations {
            featured.extend(r.pick.iter().chain(&r.runner_up));
        }
        let mut wanted = FEATURED;
        for (n, i) in featured.iter().enumerate() {
            if !featured[..n].iter().any(|j| keys[*j] == keys[*i]) {
                wanted += 1;
            }
        }
        for r in &summary.recommendations {
            let sign = if r.rank_by.higher_is_better() {
                -1.0
            } else {
                1.0
            };
            let score = |i: &usize| {
                summary.candidates[*i]
                    .mean(r.rank_by)
                    .map_or(f64::INFINITY, |v| sign * v)
            };
            let mut ranked: Vec<usize> = r.meeting.clone();
            ranked.sort_by(|a, b| score(a).total_cmp(&score(b)));
            let mut rest: Vec<usize> = r.competing.clone();
            rest.sort_by(|a, b| score(a).total_cmp(&score(b)));
            featured.extend(ranked.into_iter().chain(rest));
        }
        let wanted = wanted.min(style::MAX_COLOURED);
        let mut chosen: Vec<&str> = Vec::new();
        for i in featured {
            if chosen.len() >= wanted {
                break;
            }
            if !chosen.contains(&keys[i].as_str()) {
                chosen.push(&keys[i]);
            }
        }
        let mut entries: Vec<(String, bool, bool)> = Vec::new();
        for (c, key) in summary.candidates.iter().zip(&keys) {
            if !entries.iter().any(|e| e.0 == *key) {
                entries.push((key.clone(), chosen.contains(&key.as_str()), c.offline));
            }
        }
        styles.colors = Colors::new(&entries);
        styles
    }

    /// The series `c` belongs to.
    pub fn key(&self, c: &Candidate) -> String {
        let environment = |n: &str| c.environment.iter().any(|(e, _)| e == n);
        let (choice, _) = decide::describe(c, |n| {
            n != "capacity" && !environment(n) && decide::shown(&self.varying, n)
        });
        if choice.is_empty() {
            "the configuration".into()
        } else {
            choice.join(" · ")
        }
    }

    pub fn get(&self, c: &Candidate) -> Style {
        self.colors.get(&self.key(c))
    }
}

/// The first run of `c`.
pub fn first_run<'a>(summary: &Summary<'a>, c: &Candidate) -> &'a RunResult {
    let index = c.runs[0];
    summary
        .results
        .iter()
        .find(|r| r.run.index == index)
        .expect("a candidate's runs are in the results")
}

/// The key of a figure: each featured series once, then one grey entry for
/// the rest, named `others`.
pub fn legend(entries: impl Iterator<Item = (String, Style)>, others: &str) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut context = 0;
    for (label, style) in entries {
        if seen.contains(&label) {
            continue;
        }
        seen.push(label.clone());
        if style.is_context() {
            context += 1;
        } else {
            keys.push(Key { label, style });
        }
    }
    if context > 0 {
        keys.push(Key {
            label: format!("{context} other {others}"),
            style: Style::context(),
        });
    }
    keys
}

/// The 95% interval of `m` times `factor`, for a whisker; None without one.
pub fn interval(m: Mean, factor: f64) -> Option<(f64, f64)> {
    (m.half_width > 0.0).then_some((
        (m.mean - m.half_width) * factor,
        (m.mean + m.half_width) * factor,
    ))
}

/// How a metric's values are drawn: the axis unit, the factor from the
/// measured value (ratios become percentages where people read them so)
/// and the axis name.
pub fn metric_axis(metric: Metric, currency: &str) -> (Unit, f64, String) {
    let title = metric.title();
    match metric {
        Metric::HitRatio | Metric::ByteHitRatio => (Unit::Ratio, 1.0, title.into()),
        Metric::ErrorRatio | Metric::LegitDenied | Metric::AbusiveAllowed => {
            (Unit::Percent, 100.0, title.into())
        }
        Metric::P50 | Metric::P95 | Metric::P99 => (Unit::Ms, 1.0, title.into()),
        Metric::OriginBytes | Metric::StateBytes => (Unit::Bytes, 1.0, title.into()),
        Metric::Throughput => (Unit::Count, 1.0, format!("{title} (req/s)")),
        Metric::Cost => (Unit::Count, 1.0, format!("{title} ({currency})")),
        Metric::OriginRequests => (Unit::Count, 1.0, title.into()),
    }
}

/// Every chart as PNG and SVG.
pub const FILES: [File; 2 * CHARTS.len()] = {
    let mut files = [File::png(CHARTS[0]); 2 * CHARTS.len()];
    let mut i = 0;
    while i < CHARTS.len() {
        files[2 * i] = File::png(CHARTS[i]);
        files[2 * i + 1] = File::svg(CHARTS[i]);
        i += 1;
    }
    files
};
