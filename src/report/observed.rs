//! Observed vs simulated: when a trace records its real cache's status, the
//! observed hit ratio beside each policy's simulated ones, and the size at
//! which each policy hits as often as the real cache (the user's cache,
//! calibrated), in report.md and results.json.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{Config, Summary};
use crate::experiment::WorkloadSpec;
use crate::units::format_bytes;
use crate::workload::trace::{Column, Observed};

/// Where a hit ratio falls on a policy's hit-ratio-vs-size curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Match {
    /// The size, interpolated linearly between the two tested sizes whose
    /// hit ratios bracket it.
    Size(f64),
    /// Below every simulated hit ratio: smaller than the smallest size tested.
    BelowSmallest,
    /// Above every simulated hit ratio: larger than the largest size tested.
    AboveLargest,
}

/// The size at which a policy whose (size, hit ratio) points are `curve`
/// reaches hit ratio `target`: the first pair of neighbouring sizes whose
/// hit ratios bracket it, interpolated linearly (the smaller size where the
/// curve is flat at `target`). None for an empty curve.
pub fn matching_size(curve: &[(f64, f64)], target: f64) -> Option<Match> {
    let mut points = curve.to_vec();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (&(size, ratio), rest) = points.split_first()?;
    if ratio == target {
        return Some(Match::Size(size));
    }
    for pair in points.windows(2) {
        let ((s0, h0), (s1, h1)) = (pair[0], pair[1]);
        if (h0.min(h1)..=h0.max(h1)).contains(&target) {
            return Some(Match::Size(if h0 == h1 {
                s0
            } else {
                s0 + (target - h0) / (h1 - h0) * (s1 - s0)
            }));
        }
    }
    let lowest = rest.iter().map(|p| p.1).fold(ratio, f64::min);
    Some(if target < lowest {
        Match::BelowSmallest
    } else {
        Match::AboveLargest
    })
}

/// One policy's curve and its match, in one setting.
struct Row<'a> {
    policy: &'a str,
    configs: Vec<&'a Config>,
    matched: Match,
}

/// The configurations of one workload variant that saw the same requests
/// (load level, service variant and limiter), with each policy's match.
struct Setting<'a> {
    load: usize,
    service: Option<usize>,
    limiter: Option<usize>,
    capacities: Vec<&'a str>,
    rows: Vec<Row<'a>>,
}

/// A workload variant whose trace records the real cache's status.
struct Calibration<'a> {
    workload: usize,
    observed: Observed,
    /// The working set, in the configurations' unit.
    working_set: f64,
    settings: Vec<Setting<'a>>,
}

fn calibrations<'a>(summary: &'a Summary) -> Vec<Calibration<'a>> {
    let exp = summary.experiment;
    (0..exp.workloads.len())
        .filter_map(|w| {
            let first = summary.results.iter().find(|r| r.run.workload == w)?;
            let observed = first.observed?;
            let configs: Vec<&Config> =
                summary.configs.iter().filter(|c| c.workload == w).collect();
            let working_set = match configs.first() {
                Some(c) if c.unit == "objects" => first.working_set.objects as f64,
                _ => first.working_set.bytes as f64,
            };
            let mut keys: Vec<(usize, Option<usize>, Option<usize>)> = Vec::new();
            for c in &configs {
                if !keys.contains(&(c.load, c.service, c.limiter)) {
                    keys.push((c.load, c.service, c.limiter));
                }
            }
            let settings = keys
                .into_iter()
                .map(|(load, service, limiter)| {
                    let mine: Vec<&Config> = configs
                        .iter()
                        .copied()
                        .filter(|c| (c.load, c.service, c.limiter) == (load, service, limiter))
                        .collect();
                    let capacities = distinct(mine.iter().map(|c| c.capacity_label.as_str()));
                    let rows = distinct(mine.iter().map(|c| c.policy.as_str()))
                        .into_iter()
                        .filter_map(|policy| {
                            let configs: Vec<&Config> = mine
                                .iter()
                                .copied()
                                .filter(|c| c.policy == policy)
                                .collect();
                            let curve: Vec<(f64, f64)> = configs
                                .iter()
                                .map(|c| (c.capacity, c.hit_ratio.mean))
                                .collect();
                            let matched = matching_size(&curve, observed.hit_ratio())?;
                            Some(Row {
                                policy,
                                configs,
                                matched,
                            })
                        })
                        .collect();
                    Setting {
                        load,
                        service,
                        limiter,
                        capacities,
                        rows,
                    }
                })
                .collect();
            Some(Calibration {
                workload: w,
                observed,
                working_set,
                settings,
            })
        })
        .collect()
}

/// Distinct values in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// A size in `unit` for people.
fn size_text(size: f64, unit: &str) -> String {
    if unit == "bytes" {
        format_bytes(size.round() as u64)
    } else {
        format!("{} objects", size.round())
    }
}

/// The "## Observed vs simulated" section, when a trace recorded its real
/// cache's status.
pub fn markdown(md: &mut String, summary: &Summary) {
    let calibrations = calibrations(summary);
    if calibrations.is_empty() {
        return;
    }
    let exp = summary.experiment;
    let _ = writeln!(md, "## Observed vs simulated\n");
    for cal in &calibrations {
        let workload = &exp.workloads[cal.workload];
        if exp.workloads.len() > 1 {
            let values = super::levels::workload_values(exp, cal.workload);
            let _ = writeln!(md, "### Workload {values}\n");
        }
        let column = match &workload.spec {
            WorkloadSpec::Trace(t) => match &t.options.cache_status_column {
                Some(Column::Name(name)) => format!(" (`{name}`)"),
                Some(Column::Index(i)) => format!(" (column {i})"),
                None => String::new(),
            },
            WorkloadSpec::Synthetic(_) => String::new(),
        };
        let o = cal.observed;
        let _ = writeln!(
            md,
            "The trace records its real cache's status{column}: {} hits in {} requests (hits \
             and misses; requests that cache did not consider, such as `dynamic` or `bypass`, \
             are left out), an observed hit ratio of **{:.4}**.\n",
            o.hits,
            o.requests,
            o.hit_ratio()
        );
        if cal.settings.is_empty() {
            let _ = writeln!(
                md,
                "The experiment simulates no cache to compare it with.\n"
            );
            continue;
        }
        let _ = writeln!(
            md,
            "Each policy's simulated hit ratio by size, and the size at which it hits as often \
             as the real cache, interpolated linearly between the two sizes that bracket the \
             observed ratio:\n"
        );
        for setting in &cal.settings {
            let mut heading = Vec::new();
            if exp.loads.len() > 1 {
                heading.push(format!("load `{}`", exp.loads[setting.load].label()));
            }
            if let Some(s) = setting.service.filter(|_| exp.services.len() > 1) {
                let dims = &exp.services[s].dims;
                heading.extend(dims.iter().map(|(d, v)| format!("{d} = {v}")));
            }
            if let Some(l) = setting.limiter {
                heading.push(format!("behind `{}`", exp.limiters[l].spec.label()));
            }
            if !heading.is_empty() {
                let _ = writeln!(md, "#### {}\n", heading.join(", "));
            }
            table(md, cal, setting);
        }
    }
}

fn table(md: &mut String, cal: &Calibration, setting: &Setting) {
    let header: Vec<String> = setting
        .capacities
        .iter()
        .map(|cap| {
            setting
                .rows
                .iter()
                .flat_map(|r| &r.configs)
                .find(|c| c.capacity_label == *cap)
                .map_or(cap.to_string(), |c| c.capacity_text())
        })
        .collect();
    let _ = writeln!(
        md,
        "| policy | {} | size matching {:.4} |",
        header.join(" | "),
        cal.observed.hit_ratio()
    );
    let _ = writeln!(md, "|---|{}---|", "---:|".repeat(header.len()));
    for row in &setting.rows {
        let cells: Vec<String> = setting
            .capacities
            .iter()
            .map(|cap| {
                row.configs
                    .iter()
                    .find(|c| c.capacity_label == *cap)
                    .map_or("–".into(), |c| {
                        let m = c.hit_ratio;
                        if m.n > 1 {
                            format!("{:.4} ± {:.4}", m.mean, m.half_width)
                        } else {
                            format!("{:.4}", m.mean)
                        }
                    })
            })
            .collect();
        let matched = match row.matched {
            Match::Size(size) => {
                let unit = row.configs[0].unit;
                let mut text = size_text(size, unit);
                if cal.working_set > 0.0 {
                    let _ = write!(
                        text,
                        " ({:.1}% of the working set)",
                        size / cal.working_set * 100.0
                    );
                }
                text
            }
            Match::BelowSmallest => "below the smallest size tested".into(),
            Match::AboveLargest => "above the largest size tested".into(),
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {matched} |",
            row.policy,
            cells.join(" | ")
        );
    }
    md.push('\n');
}

/// results.json's top-level `observed`: one object per workload variant
/// whose trace recorded its cache status; None when none did.
pub fn json(summary: &Summary) -> Option<Value> {
    let exp = summary.experiment;
    let calibrations = calibrations(summary);
    if calibrations.is_empty() {
        return None;
    }
    let variants: Vec<Value> = calibrations
        .iter()
        .map(|cal| {
            let matching: Vec<Value> = cal
                .settings
                .iter()
                .flat_map(|s| s.rows.iter().map(move |r| (s, r)))
                .map(|(s, r)| {
                    let (position, size) = match r.matched {
                        Match::Size(size) => ("within", Value::from(size)),
                        Match::BelowSmallest => ("below_smallest", Value::Null),
                        Match::AboveLargest => ("above_largest", Value::Null),
                    };
                    let share = match r.matched {
                        Match::Size(size) if cal.working_set > 0.0 => {
                            Value::from(size / cal.working_set)
                        }
                        _ => Value::Null,
                    };
                    json!({
                        "load": exp.loads[s.load].label(),
                        "limiter": s.limiter.map(|l| exp.limiters[l].spec.label()),
                        "service": s.service.map(|v| dims_object(&exp.services[v].dims)),
                        "policy": r.policy,
                        "position": position,
                        "capacity_value": size,
                        "capacity_unit": r.configs[0].unit,
                        "working_set_share": share,
                    })
                })
                .collect();
            json!({
                "workload": dims_object(&exp.workloads[cal.workload].dims),
                "requests": cal.observed.requests,
                "hits": cal.observed.hits,
                "hit_ratio": cal.observed.hit_ratio(),
                "matching_sizes": matching,
            })
        })
        .collect();
    Some(Value::from(variants))
}

/// Swept values as a JSON object: `{"workload.path": "b.jsonl"}`.
fn dims_object(dims: &[(String, String)]) -> Value {
    Value::Object(
        dims.iter()
            .map(|(d, v)| (d.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matched size, which must be within 1e-9 of `expected`.
    fn assert_size(found: Option<Match>, expected: f64) {
        match found {
            Some(Match::Size(s)) => assert!((s - expected).abs() < 1e-9, "{s} != {expected}"),
            other => panic!("{other:?}, expected a size of {expected}"),
        }
    }

    #[test]
    fn interpolates_between_the_bracketing_sizes() {
        let curve = [(100.0, 0.2), (400.0, 0.6), (200.0, 0.4)];
        assert_size(matching_size(&curve, 0.3), 150.0);
        assert_size(matching_size(&curve, 0.5), 300.0);
        assert_size(matching_size(&curve, 0.4), 200.0);
        assert_size(matching_size(&curve, 0.2), 100.0);
        assert_size(matching_size(&curve, 0.6), 400.0);
        assert_eq!(matching_size(&curve, 0.1), Some(Match::BelowSmallest));
        assert_eq!(matching_size(&curve, 0.7), Some(Match::AboveLargest));
    }

    #[test]
    fn flat_and_degenerate_curves() {
        // Flat at the target: the smaller size already hits as often.
        let flat = [(1.0, 0.5), (2.0, 0.5), (3.0, 0.9)];
        assert_eq!(matching_size(&flat, 0.5), Some(Match::Size(1.0)));
        // Not monotone (FIFO's anomaly): the first bracketing pair wins.
        let bumpy = [(1.0, 0.3), (2.0, 0.5), (3.0, 0.4), (4.0, 0.8)];
        assert_size(matching_size(&bumpy, 0.45), 1.75);
        assert_eq!(matching_size(&[(5.0, 0.5)], 0.5), Some(Match::Size(5.0)));
        assert_eq!(
            matching_size(&[(5.0, 0.5)], 0.4),
            Some(Match::BelowSmallest)
        );
        assert_eq!(matching_size(&[(5.0, 0.5)], 0.6), Some(Match::AboveLargest));
        assert_eq!(matching_size(&[], 0.5), None);
    }
}
