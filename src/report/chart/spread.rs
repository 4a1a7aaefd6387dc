//! The limit an attacker spread over locations gets, against how many it
//! uses: one line per limiter scope (a lagged one named with its sync),
//! the configured limit dashed at 1x.

use super::axis::number;
use super::style::{self, Style};
use super::{Axis, Chart, Content, Figure, Panel, Point, Rule, Series, Unit, interval, legend};
use crate::report::Summary;
use crate::report::topology::{self, TopoConfig};
use crate::topology::{Scope, TopologySpec};

pub const SPREAD: Chart = Chart {
    files: ["spread.png", "spread.svg"],
    caption: "effective limit against the locations an attacker uses, per limiter scope",
    figure,
};

/// Tick steps of the multiple: at most this many steps up the axis.
const MAX_STEPS: f64 = 6.0;

fn figure(summary: &Summary) -> Option<Figure> {
    let configs = topology::configs(summary);
    let measured: Vec<&TopoConfig> = topology::limited(summary, &configs)
        .into_iter()
        .filter(|t| t.spread.is_some())
        .collect();
    let mut xs: Vec<f64> = measured
        .iter()
        .filter_map(|t| Some(t.spread.as_ref()?.locations.mean))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() < 2 {
        return None;
    }
    // A line: the configurations that differ only in their spread.
    let mut lines: Vec<Line> = Vec::new();
    for t in &measured {
        let c = &summary.candidates[t.candidate];
        let key = topology::key(c, t.spec, |_| {}, &[topology::SPREAD]);
        let s = t.spread.as_ref()?;
        let point = Point {
            y_interval: interval(s.multiple, 1.0),
            ..Point::at(s.locations.mean, s.multiple.mean)
        };
        match lines.iter_mut().find(|l| l.key == key) {
            Some(line) => line.points.push(point),
            None => lines.push(Line {
                key,
                spec: t.spec,
                others: vec![topology::others(summary, c, &topology::SCOPE_AND_SPREAD)],
                points: vec![point],
            }),
        }
    }
    lines
        .iter_mut()
        .for_each(|l| l.points.sort_by(|a, b| a.x.total_cmp(&b.x)));
    // Lines of one scope that measured the very same (the tiers do not
    // change what the limiter sees) are one, naming them all.
    let mut merged: Vec<Line> = Vec::new();
    for line in lines {
        let same = |m: &&mut Line| {
            topology::scope_text(m.spec) == topology::scope_text(line.spec)
                && m.points.len() == line.points.len()
                && (m.points.iter().zip(&line.points)).all(|(a, b)| a.x == b.x && a.y == b.y)
        };
        match merged.iter_mut().find(same) {
            Some(m) => m.others.extend(line.others),
            None => merged.push(line),
        }
    }
    // Lagged lines dashed: they run between the exact two.
    let mut lagged = 0;
    let series: Vec<Series> = merged
        .into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            if let Some(last) = line.points.last_mut() {
                last.label = Some(format!("{:.1}x", last.y));
            }
            let mut style = Style::nth(i);
            if line.spec.limit_scope == Scope::Lagged {
                style = style.dashed(Some(style::DASHES[lagged % style::DASHES.len()]));
                lagged += 1;
            }
            line.others.retain(|o| !o.is_empty());
            let mut label = topology::scope_text(line.spec);
            if !line.others.is_empty() {
                label = format!("{label} · {}", line.others.join(", "));
            }
            Series {
                label,
                points: line.points,
                style,
                keyed: true,
                end_label: false,
            }
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|s| &s.points)
        .map(|p| p.y_interval.map_or(p.y, |i| i.1).max(p.y))
        .fold(1.0, f64::max);
    let (hi, ticks) = times_ticks(top);
    let rate = measured[0].spread.as_ref()?.configured_rps;
    let rules = vec![Rule {
        vertical: false,
        at: 1.0,
        label: format!("the configured limit, {}/s", number(rate)),
        style: Style::rule(style::BLACK),
    }];
    let legend = legend(series.iter().map(|s| (s.label.clone(), s.style)), "scopes");
    Some(Figure {
        title: format!(
            "{}: the limit an attacker spread over locations gets",
            summary.experiment.name
        ),
        columns: 1,
        panels: vec![Panel {
            title: String::new(),
            x: Axis::new("locations the attacker uses", Unit::Count)
                .log_if_wide(&xs)
                .ticks_at(&xs),
            y: Axis::new("effective limit (x the configured limit)", Unit::Count)
                .range(0.0, hi)
                .ticks_named(ticks),
            content: Content::Xy { series, rules },
        }],
        legend,
    })
}

/// One scope's points, and what else its configurations are.
struct Line<'a> {
    key: String,
    spec: &'a TopologySpec,
    others: Vec<String>,
    points: Vec<Point>,
}

/// The top of an axis from zero past `top`, with ticks at round
/// multiples written "2x".
fn times_ticks(top: f64) -> (f64, Vec<(f64, Option<String>)>) {
    let magnitude = 10f64.powi((top / MAX_STEPS).log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| top / s <= MAX_STEPS)
        .unwrap_or(10.0 * magnitude);
    let steps = (top / step).ceil() as usize;
    let ticks = (0..=steps)
        .map(|k| {
            let v = k as f64 * step;
            (v, Some(format!("{}x", number(v))))
        })
        .collect();
    (steps as f64 * step, ticks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::topology::tests::simulate;

    #[test]
    fn one_line_per_scope_against_the_locations_used() {
        let (exp, results) = simulate("[1, 2, 3]", "\"flat\"");
        let f = figure(&Summary::new(&exp, &results)).unwrap();
        let Content::Xy { series, rules } = &f.panels[0].content else {
            panic!("bars");
        };
        let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["location", "global"]);
        for s in series {
            // One location spreads nothing: no point there.
            let xs: Vec<f64> = s.points.iter().map(|p| p.x).collect();
            assert_eq!(xs, [2.0, 3.0], "{}", s.label);
        }
        // Each location gives the whole limit; one counter holds it.
        for (p, want) in series[0].points.iter().zip([2.0, 3.0]) {
            assert!((p.y - want).abs() < 0.25, "{} at {}", p.y, p.x);
        }
        assert!(series[1].points.iter().all(|p| (p.y - 1.0).abs() < 0.15));
        assert_eq!(
            series[0].points[1].label.as_deref(),
            Some(format!("{:.1}x", series[0].points[1].y).as_str())
        );
        assert_eq!(
            (rules.len(), rules[0].at, rules[0].vertical),
            (1, 1.0, false)
        );
        let y = &f.panels[0].y;
        assert_eq!(y.range.unwrap().0, 0.0);
        assert!(
            y.ticks
                .iter()
                .all(|t| t.1.as_deref().is_some_and(|l| l.ends_with('x')))
        );
        assert!(y.range.unwrap().1 >= series[0].points[1].y);
    }

    #[test]
    fn one_spread_draws_nothing() {
        let (exp, results) = simulate("2", "\"flat\"");
        assert!(figure(&Summary::new(&exp, &results)).is_none());
        assert_eq!(times_ticks(10.0).0, 10.0);
        assert_eq!(
            times_ticks(1.02).1.last().unwrap().1.as_deref(),
            Some("1.2x")
        );
    }
}
