//! Hit ratio by tier and the origin's load, flat against tiered: one panel
//! per measure, a bar per topology configuration, each tiered one right
//! below the flat one it differs from only in its tiers. Bars are coloured
//! by their tiers, not by configuration: the chart is about that one
//! difference.

use super::style::Marker;
use super::{Axis, Bar, Chart, Content, Figure, Key, Panel, Style, Unit, interval};
use crate::report::Summary;
use crate::report::summary::Mean;
use crate::report::topology::{self, TopoConfig};
use crate::topology::Tiering;

pub const TIERS: Chart = Chart {
    files: ["tiers.png", "tiers.svg"],
    caption: "hit ratio by tier and origin load, flat against tiered",
    figure,
};

fn figure(summary: &Summary) -> Option<Figure> {
    let configs = topology::configs(summary);
    let tiered = configs.iter().any(|t| t.spec.tier != Tiering::Flat);
    let regional = configs.iter().any(|t| t.spec.tier == Tiering::Regional);
    if configs.len() < 2 || !tiered {
        return None;
    }
    let pairs = topology::pairs(summary, &configs);
    let order = grouped(summary, &configs);
    let bar = |t: &TopoConfig, m: Mean, factor: f64, note: String| Bar {
        label: topology::name(summary, t, true),
        value: m.mean * factor,
        interval: interval(m, factor),
        style: tier_style(t.spec.tier),
        note,
    };
    let hits = |pick: fn(&TopoConfig) -> Option<Mean>| -> Vec<Bar> {
        let shown = order.iter().map(|&i| &configs[i]);
        shown
            .filter_map(|t| Some(bar(t, pick(t)?, 1.0, String::new())))
            .collect()
    };
    let origin: Vec<Bar> = order
        .iter()
        .map(|&i| {
            let note = pairs.iter().find(|p| p.1 == i).map_or(String::new(), |&p| {
                let c = topology::compare(&configs, p);
                format!("{:+.1}% vs flat", -c.requests_cut * 100.0)
            });
            bar(&configs[i], configs[i].origin_share, 100.0, note)
        })
        .collect();
    let (edge, upper) = (hits(|t| t.edge_hit), hits(|t| t.upper_hit));
    // Both hit ratios on one scale, so the tiers compare at a glance.
    let top = (edge.iter().chain(&upper))
        .map(|b| b.interval.map_or(b.value, |i| i.1).max(b.value))
        .fold(0.0, f64::max);
    let ratio = Axis::new("hit ratio", Unit::Ratio);
    let fitted = ratio.fit([0.0, top].into_iter());
    let ratio = ratio.range(fitted.lo, fitted.hi);
    let panel = |title: &str, x: Axis, bars: Vec<Bar>| {
        (!bars.is_empty()).then(|| Panel {
            title: title.into(),
            y: Axis::new("", x.unit),
            x,
            content: Content::Bars(bars),
        })
    };
    let panels = [
        panel("edge: every location's cache", ratio.clone(), edge),
        panel(
            if regional {
                "upper tiers"
            } else {
                "upper tier"
            },
            ratio,
            upper,
        ),
        panel(
            "origin",
            Axis::new("origin requests, share of all requests", Unit::Percent),
            origin,
        ),
    ];
    Some(Figure {
        title: format!(
            "{}: hit ratio by tier and origin load",
            summary.experiment.name
        ),
        columns: 1,
        panels: panels.into_iter().flatten().collect(),
        legend: TIERINGS
            .into_iter()
            .filter(|&tier| configs.iter().any(|t| t.spec.tier == tier))
            .map(|tier| Key {
                label: topology::tiers_text(tier).into(),
                style: tier_style(tier),
            })
            .collect(),
    })
}

/// The configurations in run order, except that those differing only in
/// their tiers come together, flat first.
fn grouped(summary: &Summary, configs: &[TopoConfig]) -> Vec<usize> {
    let keys: Vec<String> = configs
        .iter()
        .map(|t| {
            topology::key(
                &summary.candidates[t.candidate],
                t.spec,
                topology::untiered,
                &[],
            )
        })
        .collect();
    let mut order: Vec<usize> = (0..configs.len()).collect();
    order.sort_by_key(|&i| {
        let group = keys.iter().position(|k| *k == keys[i]);
        (group, configs[i].spec.tier != Tiering::Flat, i)
    });
    order
}

const TIERINGS: [Tiering; 3] = [Tiering::Flat, Tiering::Upper, Tiering::Regional];

/// One colour per kind of tiering; a wide line with no marker, so its key
/// reads as a swatch of the bars' colour.
fn tier_style(tier: Tiering) -> Style {
    let index = TIERINGS.iter().position(|&t| t == tier).unwrap_or(0);
    Style {
        width: 10,
        marker: Marker::None,
        ..Style::nth(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::topology::tier_total;
    use crate::report::topology::tests::{TIERS, made_up, simulate};

    fn bars(panel: &Panel) -> Vec<(&str, f64, &str)> {
        match &panel.content {
            Content::Bars(bars) => bars
                .iter()
                .map(|b| (b.label.as_str(), b.value, b.note.as_str()))
                .collect(),
            Content::Xy { .. } => panic!("lines in {}", panel.title),
        }
    }

    #[test]
    fn each_tiered_bar_follows_its_flat_one_with_the_cut() {
        let (exp, mut results) = simulate("2", TIERS);
        // Runs: flat·location, flat·global, upper·location, upper·global.
        for r in &mut results {
            let requests = if r.run.index >= 2 { 600 } else { 1000 };
            made_up(r, requests, requests * 1000, 30.0, 60);
        }
        let summary = Summary::new(&exp, &results);
        let f = figure(&summary).unwrap();
        assert_eq!(f.panels.len(), 3);
        let order: Vec<&str> = bars(&f.panels[0]).iter().map(|b| b.0).collect();
        assert_eq!(
            order,
            [
                "flat · location scope",
                "upper tier · location scope",
                "flat · global scope",
                "upper tier · global scope"
            ]
        );
        assert_eq!(
            bars(&f.panels[1]).len(),
            2,
            "only tiered runs have an upper tier"
        );
        let origin = bars(&f.panels[2]);
        let offered = tier_total(&results[0].topology.as_ref().unwrap().locations).requests;
        assert!((origin[0].1 - 1000.0 / offered as f64 * 100.0).abs() < 1e-9);
        assert_eq!((origin[0].2, origin[1].2), ("", "-40.0% vs flat"));
        let keys: Vec<&str> = f.legend.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(keys, ["flat", "upper tier"]);
        // Hit ratios share one scale from zero.
        assert_eq!(f.panels[0].x.range, f.panels[1].x.range);
        assert_eq!(f.panels[0].x.range.unwrap().0, 0.0);
    }

    #[test]
    fn no_tiers_no_chart() {
        let (exp, results) = simulate("2", "\"flat\"");
        assert!(figure(&Summary::new(&exp, &results)).is_none());
    }
}
