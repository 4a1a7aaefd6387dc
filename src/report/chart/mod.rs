//! Charts. Each kind is one file that turns the results into a [`Figure`]
//! (or nothing, when the experiment has no data for it); `draw` renders
//! any figure to PNG and SVG in one style, so adding a chart touches one
//! new file and one line of [`CHARTS`].

mod axis;
mod draw;
mod figure;
mod style;

mod bars;
mod cdf;
mod grades;
mod load;
mod mrc;
mod spread;
mod tiers;
mod timeseries;
mod tradeoff;

use std::fmt::Write;

use anyhow::{Result, anyhow};

pub use axis::{Axis, Scale, Unit};
pub use bars::CONFIGURATIONS;
pub use cdf::CDF;
pub use figure::{Bar, Content, Figure, Key, Panel, Point, Rule, Series};
pub use grades::GRADES;
pub use load::{ERRORS, LATENCY};
pub use mrc::{MRC, lru_curve};
pub use spread::SPREAD;
pub use style::{Colors, Style};
pub use tiers::TIERS;
pub use timeseries::TIMESERIES;
pub use tradeoff::TRADEOFF;

use super::decide::{self, Candidate};
use super::summary::Mean;
use super::{Export, Summary};
use crate::experiment::{Metric, Run};
use crate::runner::RunResult;

/// One kind of chart.
pub struct Chart {
    /// Its PNG and SVG file names.
    pub files: [&'static str; 2],
    /// What it shows, for the report's image text.
    pub caption: &'static str,
    /// The figure, or None when the experiment has nothing for it to show.
    pub figure: fn(&Summary) -> Option<Figure>,
}

/// Every chart kind, in the order the report shows them.
pub const CHARTS: &[&Chart] = &[
    &mrc::MRC,
    &bars::CONFIGURATIONS,
    &grades::GRADES,
    &tradeoff::TRADEOFF,
    &load::LATENCY,
    &load::ERRORS,
    &cdf::CDF,
    &timeseries::TIMESERIES,
    &tiers::TIERS,
    &spread::SPREAD,
];

/// A chart as an output file.
#[derive(Clone, Copy)]
pub struct File {
    chart: &'static Chart,
    svg: bool,
}

impl File {
    pub const fn png(chart: &'static Chart) -> File {
        File { chart, svg: false }
    }

    pub const fn svg(chart: &'static Chart) -> File {
        File { chart, svg: true }
    }
}

impl Export for File {
    fn file_name(&self) -> &'static str {
        self.chart.files[self.svg as usize]
    }

    fn applies(&self, summary: &Summary) -> bool {
        (self.chart.figure)(summary).is_some()
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let figure = (self.chart.figure)(summary).ok_or_else(|| anyhow!("no data to draw"))?;
        if self.svg { figure.svg() } else { figure.png() }
    }
}

/// Puts `chart` in report.md when it is drawn.
pub fn image(md: &mut String, summary: &Summary, chart: &Chart) {
    if (chart.figure)(summary).is_some() {
        let _ = writeln!(md, "![{}]({})\n", chart.caption, chart.files[0]);
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

/// The candidate (configuration) `run` is a replication of.
pub fn candidate<'s>(summary: &'s Summary, run: &Run) -> Option<&'s Candidate> {
    summary
        .candidates
        .iter()
        .find(|c| c.run.configuration() == run.configuration())
}

/// Lines that share a colour (the sizes of one policy, a configuration on
/// two ladders) told apart by their rank among the lines of that colour.
#[derive(Default)]
pub struct Variants(Vec<(String, Vec<String>)>);

impl Variants {
    /// The rank of line `label` among the lines of colour `key`, in
    /// first-seen order: 0 for the first.
    pub fn of(&mut self, key: &str, label: &str) -> usize {
        let index = match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_string(), Vec::new()));
                self.0.len() - 1
            }
        };
        let labels = &mut self.0[index].1;
        match labels.iter().position(|l| l == label) {
            Some(rank) => rank,
            None => {
                labels.push(label.to_string());
                labels.len() - 1
            }
        }
    }

    /// How many lines have colour `key`.
    pub fn count(&self, key: &str) -> usize {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, labels)| labels.len())
    }

    /// `style` dashed as the `rank`-th line of its colour: solid, then
    /// each of [`style::DASHES`].
    pub fn dashed(style: Style, rank: usize) -> Style {
        match rank {
            0 => style,
            _ => style.dashed(Some(style::DASHES[(rank - 1) % style::DASHES.len()])),
        }
    }

    /// `style` with the `rank`-th marker after its own, for lines whose
    /// dashes say something else.
    pub fn marked(style: Style, rank: usize) -> Style {
        let own = style::MARKERS
            .iter()
            .position(|m| *m == style.marker)
            .unwrap_or(0);
        Style {
            marker: style::MARKERS[(own + rank) % style::MARKERS.len()],
            ..style
        }
    }
}

/// Lines drawn exactly over an earlier one (two configurations that
/// measured the same, e.g. a limiter that never denied) get gaps, so the
/// line under them shows through in its own colour.
pub fn show_hidden(series: &mut [Series]) {
    for i in 1..series.len() {
        let covers = series[..i].iter().any(|s| {
            !s.style.is_context()
                && s.points.len() == series[i].points.len()
                && s.points
                    .iter()
                    .zip(&series[i].points)
                    .all(|(a, b)| a.x == b.x && a.y == b.y)
        });
        let solid = series[i].style.dash.is_none() && !series[i].style.is_context();
        if covers && solid && series[i].style.line {
            series[i].style = series[i].style.dashed(Some((10, 10)));
        }
    }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::Experiment;

    /// Two cache choices with and without a limiter on a closed-loop
    /// ladder of three levels (the bare origin breaks at 20 connections),
    /// and a longer load named `endurance`, with an alert that fires in
    /// every window.
    const SERVICE: &str = r#"
        [experiment]
        name = "charts"
        seed = 3
        [workload]
        keys = 200
        [[load]]
        name = "ladder"
        connections = [1, 5, 20]
        duration = "2s"
        [[load]]
        name = "endurance"
        connections = 5
        duration = "4s"
        [[cache]]
        policy = ["none", "lru"]
        capacity = "50%"
        [[limiter]]
        algorithm = ["none", "gcra"]
        rate = "400/s"
        burst = 5
        key = "global"
        [service]
        servers = 1
        queue = 10
        timeout = "50ms"
        service_time = { dist = "fixed", time = "10ms" }
        rtt = { dist = "fixed", time = "1ms" }
        [report]
        window = "500ms"
        [[alert]]
        name = "slow"
        metric = "p95"
        condition = "above"
        threshold = "1ms"
    "#;

    fn figure(chart: &Chart, source: &str) -> Option<Figure> {
        let exp = Experiment::parse(Path::new("t.toml"), source.into()).unwrap();
        let results = crate::runner::run(&exp, Some(1)).unwrap();
        let summary = Summary::new(&exp, &results);
        (chart.figure)(&summary)
    }

    fn xy(panel: &Panel) -> (&[Series], &[Rule]) {
        match &panel.content {
            Content::Xy { series, rules } => (series, rules),
            Content::Bars(_) => panic!("bars in {}", panel.title),
        }
    }

    fn finite(figure: &Figure) -> bool {
        figure.panels.iter().all(|p| {
            let (series, rules) = xy(p);
            series
                .iter()
                .flat_map(|s| &s.points)
                .all(|p| p.x.is_finite() && p.y.is_finite())
                && rules.iter().all(|r| r.at.is_finite())
        })
    }

    #[test]
    fn load_charts_mark_where_each_configuration_breaks() {
        for (chart, file, errors) in [
            (&LATENCY, "latency.png", false),
            (&ERRORS, "errors.png", true),
        ] {
            assert_eq!(chart.files[0], file);
            let f = figure(chart, SERVICE).unwrap();
            assert!(finite(&f));
            let (series, rules) = xy(&f.panels[0]);
            // Three percentiles or one ratio per configuration.
            assert_eq!(series.len(), if errors { 4 } else { 12 });
            let bare = series
                .iter()
                .find(|s| s.label == "no cache · no limiter")
                .unwrap();
            let breaks = rules
                .iter()
                .find(|r| r.vertical && r.label.starts_with(&bare.label))
                .expect("the bare origin breaks");
            assert_eq!((breaks.at, breaks.style.color), (20.0, bare.style.color));
            if errors {
                assert!(rules.iter().any(|r| !r.vertical && r.at == 10.0));
            }
            // Ticks at the tested levels.
            assert_eq!(f.panels[0].x.ticks.len(), 3);
        }
    }

    #[test]
    fn timeseries_stacks_what_the_runs_measured_with_the_alerts() {
        let f = figure(&TIMESERIES, SERVICE).unwrap();
        assert!(finite(&f));
        let names: Vec<&str> = f.panels.iter().map(|p| p.y.label.as_str()).collect();
        assert!(names.starts_with(&["hit ratio", "p95"]), "{names:?}");
        assert!(names.contains(&"429s per window") || f.title.contains("429s"));
        for p in &f.panels {
            assert_eq!(p.x.range, f.panels[0].x.range, "one time axis");
            let (series, rules) = xy(p);
            // Sending stops at 4s: the drain is left out.
            assert!(series.iter().flat_map(|s| &s.points).all(|p| p.x < 4.0));
            assert!(rules.iter().all(|r| r.vertical && r.at < 4.0));
        }
        // Every firing on every panel, named once, on the p95 panel.
        let named: Vec<usize> = f
            .panels
            .iter()
            .enumerate()
            .filter(|(_, p)| xy(p).1.iter().any(|r| r.label == "slow"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(named, [1]);
        assert!(f.panels.iter().all(|p| !xy(p).1.is_empty()));
    }

    #[test]
    fn the_cdf_rises_from_the_fastest_answer_to_the_slowest() {
        let f = figure(&CDF, SERVICE).unwrap();
        assert!(finite(&f));
        assert!(f.panels.len() <= 4);
        for p in &f.panels {
            for s in xy(p).0 {
                assert!(s.points.len() > 10, "{}", s.label);
                assert!(
                    s.points
                        .windows(2)
                        .all(|w| w[0].x <= w[1].x && w[0].y <= w[1].y)
                );
                assert!(
                    s.points
                        .iter()
                        .all(|p| p.x >= 0.0 && p.y > 0.0 && p.y < 1.0)
                );
            }
        }
        // Without a service there is nothing to draw.
        let cache_only = "[workload]\nrequests = 500\nkeys = 50\n[[cache]]\npolicy = \"lru\"\ncapacity = \"10%\"\n";
        assert!(figure(&CDF, cache_only).is_none());
        assert!(figure(&TIMESERIES, cache_only).is_none());
        assert!(figure(&LATENCY, cache_only).is_none());
    }

    #[test]
    fn a_line_drawn_over_an_equal_one_gets_gaps() {
        let line = |label: &str, style: Style| Series {
            label: label.into(),
            points: vec![Point::at(0.0, 1.0), Point::at(1.0, 2.0)],
            style,
            keyed: true,
            end_label: false,
        };
        let mut series = vec![
            line("a", Style::nth(0)),
            line("b", Style::nth(1)),
            line("c", Style::nth(2)),
        ];
        series[2].points[1].y = 3.0;
        show_hidden(&mut series);
        assert_eq!(series[0].style.dash, None);
        assert!(series[1].style.dash.is_some());
        assert_eq!(series[2].style.dash, None);
    }

    #[test]
    fn lines_of_one_colour_are_ranked_in_first_seen_order() {
        let mut v = Variants::default();
        assert_eq!(v.of("lru", "lru 1%"), 0);
        assert_eq!(v.of("lru", "lru 5%"), 1);
        assert_eq!(v.of("fifo", "fifo 1%"), 0);
        assert_eq!(v.of("lru", "lru 1%"), 0);
        assert_eq!((v.count("lru"), v.count("fifo"), v.count("x")), (2, 1, 0));
        let base = Style::nth(0);
        let dashes: Vec<_> = (0..6).map(|r| Variants::dashed(base, r).dash).collect();
        assert_eq!(dashes[0], None);
        assert!(dashes[1..].iter().all(|d| d.is_some()));
        assert_ne!(Variants::marked(base, 1).marker, base.marker);
    }
}
