//! The limiter trade-off: legitimate requests denied against abusive
//! requests allowed, every configuration a labelled point, the Pareto
//! front (no other point is better on both) dashed. Symmetric log axes
//! spread the crowded corner near zero.

use super::{
    Axis, Chart, Content, Figure, Panel, Point, Scale, Series, Style, Styles, Unit, interval,
};
use crate::experiment::Metric;
use crate::report::Summary;
use crate::report::decide::Candidate;

pub const TRADEOFF: Chart = Chart {
    files: ["limiters.png", "limiters.svg"],
    caption: "legitimate denied vs abusive allowed",
    figure,
};

fn figure(summary: &Summary) -> Option<Figure> {
    // Without abusive clients every point sits on one axis.
    if !crate::report::limits::has_trade_off(summary) {
        return None;
    }
    let styles = Styles::of(summary);
    // No limiter lets every abusive request through.
    let points: Vec<(&Candidate, f64, f64)> = summary
        .candidates
        .iter()
        .filter_map(|c| {
            let legit = c.get(Metric::LegitDenied)?.mean;
            let abusive = match c.get(Metric::AbusiveAllowed) {
                Some(m) => m.mean.mean,
                None if c.value("limiter") == Some("none") => 1.0,
                None => return None,
            };
            Some((c, legit.mean * 100.0, abusive * 100.0))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    let environments = points.iter().any(|p| !p.0.environment_label.is_empty());
    // Settings every limiter shares ("2/s burst 20") are said once.
    let limited: Vec<&str> = points
        .iter()
        .map(|p| p.0.label.as_str())
        .filter(|l| *l != "no limiter")
        .collect();
    let shared = common_suffix(&limited);
    let name = |c: &Candidate| {
        let label = c.label.strip_suffix(shared).unwrap_or(&c.label);
        if environments {
            format!("{label} ({})", c.environment_label)
        } else {
            label.to_string()
        }
    };
    // Configurations with the very same outcome share one point, its
    // label listing them all.
    let mut series: Vec<Series> = Vec::new();
    for &(c, x, y) in &points {
        match series
            .iter_mut()
            .find(|s| s.points[0].x == x && s.points[0].y == y)
        {
            Some(s) => {
                let label = s.points[0].label.get_or_insert_default();
                label.push('\n');
                label.push_str(&name(c));
            }
            None => series.push(Series {
                label: name(c),
                points: vec![Point {
                    y_interval: c
                        .get(Metric::AbusiveAllowed)
                        .and_then(|m| interval(m.mean, 100.0)),
                    label: Some(name(c)),
                    ..Point::at(x, y)
                }],
                style: styles.get(c).points_only(),
                keyed: false,
                end_label: false,
            }),
        }
    }
    let front = pareto(points.iter().map(|p| (p.1, p.2)).collect());
    if front.len() > 1 {
        series.insert(
            0,
            Series {
                label: "Pareto front".into(),
                points: front.into_iter().map(|(x, y)| Point::at(x, y)).collect(),
                style: Style::bound(),
                keyed: true,
                end_label: false,
            },
        );
    }
    let threshold = |values: Vec<f64>| {
        let smallest = values
            .into_iter()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        if smallest.is_finite() {
            10f64.powf(smallest.log10().floor()).clamp(0.01, 1.0)
        } else {
            1.0
        }
    };
    let x = Axis::new("legitimate requests denied", Unit::Percent).scale(Scale::SymLog(threshold(
        points.iter().map(|p| p.1).collect(),
    )));
    let y = Axis::new("abusive requests allowed", Unit::Percent).scale(Scale::SymLog(threshold(
        points.iter().map(|p| p.2).collect(),
    )));
    let legend = series
        .iter()
        .filter(|s| s.keyed)
        .map(|s| super::Key {
            label: s.label.clone(),
            style: s.style,
        })
        .collect();
    Some(Figure {
        title: format!(
            "{}: legitimate denied vs abusive allowed (lower left is better)",
            summary.experiment.name
        ),
        panels: vec![Panel {
            title: match shared.trim() {
                "" => String::new(),
                s => format!("every limiter at {s}"),
            },
            x,
            y,
            content: Content::Xy {
                series,
                rules: Vec::new(),
            },
        }],
        columns: 1,
        legend,
    })
}

/// The points no other point beats on both values (lower is better),
/// by increasing x.
fn pareto(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in points {
        if front.last().is_none_or(|last| p.1 < last.1) {
            front.push(p);
        }
    }
    front
}

/// The longest run of whole words that ends every label (with its
/// leading space), when there are several labels.
fn common_suffix<'a>(labels: &[&'a str]) -> &'a str {
    let Some((first, rest)) = labels.split_first() else {
        return "";
    };
    if rest.is_empty() {
        return "";
    }
    first
        .match_indices(' ')
        .map(|(i, _)| &first[i..])
        .find(|suffix| {
            rest.iter()
                .all(|l| l.ends_with(suffix) && l.len() > suffix.len())
        })
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_front_keeps_only_undominated_points() {
        let front = super::pareto(vec![
            (0.0, 100.0),
            (0.4, 10.0),
            (0.5, 10.0),
            (1.2, 0.0),
            (40.0, 60.0),
        ]);
        assert_eq!(front, [(0.0, 100.0), (0.4, 10.0), (1.2, 0.0)]);
    }

    #[test]
    fn shared_settings_are_found_word_by_word() {
        let labels = ["gcra 2/s burst 20", "fixed-window(count=all) 2/s burst 20"];
        assert_eq!(super::common_suffix(&labels), " 2/s burst 20");
        assert_eq!(super::common_suffix(&["gcra 2/s", "gcra 12/s"]), "");
        assert_eq!(super::common_suffix(&["gcra 2/s"]), "");
    }
}
