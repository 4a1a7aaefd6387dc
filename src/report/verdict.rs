//! The decision in report.md: the recommendation, every configuration with
//! its grades, every configuration against its baseline, and each swept
//! value compared across its settings. Only prints what `decide` computed.

use std::fmt::Write;

use super::Summary;
use super::decide::{Candidate, Comparison, Recommendation, Rule, describe, shown, varying};
use super::summary::Mean;
use crate::experiment::{Metric, Target};
use crate::units::format_bytes;

pub const NA: &str = "–";

/// A value of `metric` as the report prints it: ratios the way
/// results.csv holds them (hit ratios as fractions, error and limiter
/// ratios in %), latencies in ms, counts whole, bytes in IEC units.
pub fn value(metric: Metric, x: f64, currency: &str) -> String {
    match metric {
        Metric::HitRatio | Metric::ByteHitRatio => format!("{x:.4}"),
        Metric::P50 | Metric::P95 | Metric::P99 => format!("{x:.1}"),
        Metric::Throughput => format!("{x:.1}"),
        Metric::ErrorRatio | Metric::LegitDenied | Metric::AbusiveAllowed => percent(x),
        Metric::OriginRequests => format!("{x:.0}"),
        Metric::OriginBytes | Metric::StateBytes => format_bytes(x.max(0.0).round() as u64),
        Metric::Cost => format!("{currency}{x:.2}"),
    }
}

/// A fraction in percent: two decimals, or four below 0.1% so small
/// error ratios do not print as zero.
fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p != 0.0 && p.abs() < 0.1 {
        format!("{p:.4}%")
    } else {
        format!("{p:.2}%")
    }
}

/// `value` with its interval when there is one: "0.4123 ± 0.0031".
pub fn mean(metric: Metric, m: Mean, currency: &str) -> String {
    let v = value(metric, m.mean, currency);
    if m.n < 2 || m.half_width == 0.0 {
        return v;
    }
    let half = match metric {
        Metric::ErrorRatio | Metric::LegitDenied | Metric::AbusiveAllowed => {
            percent(m.half_width).trim_end_matches('%').to_string()
        }
        _ => value(metric, m.half_width, currency),
    };
    format!("{v} ± {half}")
}

/// A change from the baseline: "+0.1234 (+25.1%)", in the metric's units.
fn delta(metric: Metric, d: Mean, relative: Option<f64>, currency: &str) -> String {
    let sign = if d.mean < 0.0 { "-" } else { "+" };
    let mut text = format!("{sign}{}", value(metric, d.mean.abs(), currency));
    if d.n > 1 && d.half_width > 0.0 {
        let _ = write!(
            text,
            " ± {}",
            value(metric, d.half_width, currency).trim_end_matches('%')
        );
    }
    if let Some(r) = relative {
        let _ = write!(text, " ({r:+.1}%)");
    }
    text
}

/// Column header: the metric with its unit.
pub fn header(metric: Metric) -> String {
    match metric {
        Metric::P50 | Metric::P95 | Metric::P99 => format!("{} (ms)", metric.title()),
        Metric::Throughput => "throughput (req/s)".into(),
        m => m.title().into(),
    }
}

/// `x` against target `t`: more digits when the usual ones would print
/// the target itself for a value that misses it.
fn against(t: &Target, x: f64, currency: &str) -> String {
    let text = value(t.metric, x, currency);
    if text != value(t.metric, t.value, currency) || t.met_by(x) {
        return text;
    }
    match t.metric {
        Metric::ErrorRatio | Metric::LegitDenied | Metric::AbusiveAllowed => {
            format!("{:.4}%", x * 100.0)
        }
        _ => format!("{x:.6}"),
    }
}

fn target_text(t: &Target, currency: &str) -> String {
    let unit = match t.metric {
        Metric::P50 | Metric::P95 | Metric::P99 => " ms",
        Metric::Throughput => " req/s",
        _ => "",
    };
    format!(
        "{} {} {}{unit}",
        t.metric.title(),
        t.op(),
        value(t.metric, t.value, currency)
    )
}

/// "p95 good (-42.1%)".
fn grades_text(c: &Comparison) -> String {
    if c.grades.is_empty() {
        return NA.into();
    }
    c.grades
        .iter()
        .map(|g| {
            let how = if g.improvement.is_infinite() {
                "from 0".to_string()
            } else {
                format!("{:+.1}%", g.improvement)
            };
            format!("{} {} ({how})", g.metric.title(), g.band.name())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cache policy a candidate runs ("none" without a cache).
fn policy_of(c: &Candidate) -> &str {
    c.value("policy").unwrap_or("none")
}

/// Metrics some candidate has, in table order.
fn metrics(candidates: &[Candidate]) -> Vec<Metric> {
    Metric::ALL
        .into_iter()
        .filter(|m| candidates.iter().any(|c| c.get(*m).is_some()))
        .collect()
}

/// A candidate in a table: its choices, and where it ran when several
/// environments share the table.
fn row_label(c: &Candidate) -> String {
    if c.environment_label.is_empty() {
        c.label.clone()
    } else {
        format!("{} @ {}", c.label, c.environment_label)
    }
}

/// A number with its unit, for sentences: "12.3 ms".
fn with_unit(metric: Metric, text: String) -> String {
    match metric {
        Metric::P50 | Metric::P95 | Metric::P99 => format!("{text} ms"),
        Metric::Throughput => format!("{text} req/s"),
        _ => text,
    }
}

/// The recommendation(s), then the tables.
pub fn markdown(md: &mut String, summary: &Summary) {
    let currency = summary.currency();
    for r in &summary.recommendations {
        recommendation(md, summary, r, currency);
    }
    super::chart::image(md, summary, &super::chart::CONFIGURATIONS);
    configurations(md, summary, currency);
    super::chart::image(md, summary, &super::chart::GRADES);
    against_baseline(md, summary, currency);
    across(md, summary, currency);
}

fn recommendation(md: &mut String, summary: &Summary, r: &Recommendation, currency: &str) {
    let all = &summary.candidates;
    let env = r
        .competing
        .first()
        .map_or("", |&i| all[i].environment_label.as_str());
    if env.is_empty() {
        let _ = writeln!(md, "## Recommendation\n");
    } else {
        let _ = writeln!(md, "## Recommendation at {env}\n");
    }
    let Some(pick) = r.pick else {
        let _ = writeln!(
            md,
            "Nothing here can be deployed: only offline bounds ran.\n"
        );
        return;
    };
    let p = &all[pick];
    let rank = r.rank_by;
    let rank_value = |c: &Candidate| {
        c.get(rank)
            .map_or(NA.into(), |m| with_unit(rank, mean(rank, m.mean, currency)))
    };
    let targets: Vec<String> = r.targets.iter().map(|t| target_text(t, currency)).collect();
    let deployable = r.competing.iter().filter(|&&i| !all[i].offline).count();
    if !r.misses.is_empty() {
        let misses: Vec<String> = r
            .misses
            .iter()
            .map(|m| {
                let got = m.value.map_or("not measured".into(), |x| {
                    with_unit(m.target.metric, against(&m.target, x, currency))
                });
                format!("{} (it has {got})", target_text(&m.target, currency))
            })
            .collect();
        let _ = writeln!(
            md,
            "**No configuration meets every target** ({}). The closest is **`{}`**, which misses {}.",
            targets.join(", "),
            p.label,
            misses.join(" and ")
        );
    } else if r.indistinguishable {
        let other = &all[r.runner_up.expect("a tie has two")];
        let _ = writeln!(
            md,
            "**`{}` and `{}` are indistinguishable at this sample size** ({} {} against {}: the interval of their difference holds zero). Pick `{}`: {}.",
            p.label,
            other.label,
            rank.title(),
            rank_value(p),
            rank_value(other),
            p.label,
            if p.size < other.size {
                "it is the smaller"
            } else if p.mean(rank) == other.mean(rank) {
                "they tie exactly, and it comes first in the experiment"
            } else {
                "its mean is ahead, within the noise"
            }
        );
    } else {
        let why = match r.rule {
            Rule::Best if targets.is_empty() => format!(
                "It has the best {} ({}) of the {deployable} deployable configurations.",
                rank.title(),
                rank_value(p)
            ),
            Rule::Best => format!(
                "It has the best {} ({}) of the {} configurations that meet every target ({}).",
                rank.title(),
                rank_value(p),
                r.meeting.len(),
                targets.join(", ")
            ),
            Rule::Cheapest => {
                let cost = p.get(Metric::Cost).map_or(String::new(), |m| {
                    format!(" at {} a month", mean(Metric::Cost, m.mean, currency))
                });
                let goal = if targets.is_empty() {
                    "every target".to_string()
                } else {
                    targets.join(", ")
                };
                format!(
                    "It is the cheapest{cost} of the {} of {deployable} configurations that meet {goal}.",
                    r.meeting.len()
                )
            }
        };
        let _ = writeln!(md, "**Pick `{}`.** {why}", p.label);
    }
    md.push('\n');
    for t in &r.targets {
        if let Some(m) = p.get(t.metric) {
            let _ = writeln!(
                md,
                "- {}: {} ({}).",
                target_text(t, currency),
                with_unit(
                    t.metric,
                    if t.met_by(m.mean.mean) {
                        mean(t.metric, m.mean, currency)
                    } else {
                        against(t, m.mean.mean, currency)
                    }
                ),
                if t.met_by(m.mean.mean) {
                    "met"
                } else {
                    "missed"
                }
            );
        }
    }
    let comparison = &summary.comparisons[pick];
    if let Some(b) = comparison.baseline {
        let changes: Vec<String> = comparison
            .changes
            .iter()
            .filter(|c| c.metric != Metric::Cost || c.base != c.value)
            .map(|c| {
                let change = delta(c.metric, c.delta, c.relative, currency);
                let change = match change.split_once(" (") {
                    Some((d, rel)) => format!("{} ({rel}", with_unit(c.metric, d.into())),
                    None => with_unit(c.metric, change),
                };
                format!("{} {change}", c.metric.title())
            })
            .collect();
        let base = if all[b].environment == p.environment {
            all[b].label.clone()
        } else {
            row_label(&all[b])
        };
        let _ = writeln!(
            md,
            "- Against the baseline `{base}`: {}.",
            changes.join(", ")
        );
        if !comparison.grades.is_empty() {
            let _ = writeln!(md, "- Workshop grades: {}.", grades_text(comparison));
        }
    }
    if !r.per_size.is_empty() {
        let mut wins: Vec<(&str, usize)> = Vec::new();
        for w in &r.per_size {
            let policy = policy_of(&all[w.best]);
            match wins.iter_mut().find(|(p, _)| *p == policy) {
                Some((_, n)) => *n += 1,
                None => wins.push((policy, 1)),
            }
        }
        let clear = r.per_size.iter().filter(|w| w.clear).count();
        let wins: Vec<String> = wins.iter().map(|(p, n)| format!("`{p}` at {n}")).collect();
        let _ = writeln!(
            md,
            "- Best {} by size: {} of {} sizes; the best is clearly ahead of the second (the interval of their difference excludes zero) at {clear} of them.",
            rank.title(),
            wins.join(", "),
            r.per_size.len()
        );
        if r.rule == Rule::Best {
            let _ = writeln!(
                md,
                "- A bigger cache hits more: to choose a size, set `[report] targets` (e.g. `[\"hit_ratio >= 0.8\"]`) or `[cost]`, and the cheapest that meets them is picked."
            );
        }
    }
    // "hit ratio 0.512": where another candidate stands.
    let ranked = |c: &Candidate| format!("{} {}", rank.title(), rank_value(c));
    if let Some(r2) = r.runner_up.filter(|_| !r.indistinguishable) {
        let _ = writeln!(md, "- Runner-up `{}`: {}.", all[r2].label, ranked(&all[r2]));
    }
    if let Some(b) = r.bound {
        let _ = writeln!(
            md,
            "- Bound: `{}` (offline, it knows the future) reaches {}; no policy can beat that at this size.",
            all[b].label,
            ranked(&all[b])
        );
    }
    for a in &r.advice {
        let _ = writeln!(
            md,
            "- Advice ({} priority): {}; {}.",
            a.priority, a.issue, a.action
        );
    }
    for w in &r.warnings {
        let _ = writeln!(md, "- Warning: {w}.");
    }
    md.push('\n');
}

/// Every configuration, every metric, with its grades.
fn configurations(md: &mut String, summary: &Summary, currency: &str) {
    let all = &summary.candidates;
    let metrics = metrics(all);
    let _ = writeln!(md, "## Configurations\n");
    let headers: Vec<String> = metrics.iter().map(|m| header(*m)).collect();
    let _ = writeln!(md, "| configuration | {} | grades |", headers.join(" | "));
    let _ = writeln!(md, "|---|{}---|", "---:|".repeat(metrics.len()));
    for (c, cmp) in all.iter().zip(&summary.comparisons) {
        let cells: Vec<String> = metrics
            .iter()
            .map(|m| c.get(*m).map_or(NA.into(), |x| mean(*m, x.mean, currency)))
            .collect();
        let grades = if cmp.baseline.is_none() && !cmp.changes.is_empty() {
            NA.into()
        } else if cmp.baseline.is_none() {
            "baseline".into()
        } else {
            grades_text(cmp)
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {grades} |",
            row_label(c),
            cells.join(" | ")
        );
    }
    md.push('\n');
}

/// Each configuration's change from its baseline, metric by metric.
fn against_baseline(md: &mut String, summary: &Summary, currency: &str) {
    let all = &summary.candidates;
    let compared: Vec<usize> = (0..all.len())
        .filter(|&i| summary.comparisons[i].baseline.is_some())
        .collect();
    if compared.is_empty() {
        return;
    }
    let metrics = metrics(all);
    let _ = writeln!(md, "## Against the baseline\n");
    let _ = writeln!(
        md,
        "Each configuration against its baseline (the one matching `[report] baseline` closest to it), as the change in each metric, ± the 95% interval of the paired difference where there is one, and the change relative to the baseline.\n"
    );
    let headers: Vec<String> = metrics.iter().map(|m| header(*m)).collect();
    let _ = writeln!(md, "| configuration | baseline | {} |", headers.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---:|".repeat(metrics.len()));
    for i in compared {
        let cmp = &summary.comparisons[i];
        let cells: Vec<String> = metrics
            .iter()
            .map(|m| {
                cmp.changes
                    .iter()
                    .find(|c| c.metric == *m)
                    .map_or(NA.into(), |c| {
                        delta(c.metric, c.delta, c.relative, currency)
                    })
            })
            .collect();
        let base = cmp.baseline.map_or(NA.into(), |b| row_label(&all[b]));
        let _ = writeln!(
            md,
            "| `{}` | `{base}` | {} |",
            row_label(&all[i]),
            cells.join(" | ")
        );
    }
    md.push('\n');
}

fn across(md: &mut String, summary: &Summary, currency: &str) {
    let all = &summary.candidates;
    let Some(rank) = summary.recommendations.first().map(|r| r.rank_by) else {
        return;
    };
    let varying = varying(all);
    // Settings get a table across their values; categories (policy,
    // limiter) are its rows. Varying only by being absent (no cache has no
    // capacity) is nothing to compare across.
    let settings = varying
        .iter()
        .filter(|n| shown(&varying, n))
        .filter(|n| !matches!(n.as_str(), "policy" | "limiter" | "algorithm"))
        .filter(|n| {
            let mut seen: Vec<&str> = Vec::new();
            for v in all.iter().filter_map(|c| c.value(n)) {
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            seen.len() > 1
        });
    for name in settings {
        let short = name.rsplit('.').next().unwrap_or(name).to_string();
        let value_of = |c: &Candidate| c.value(name).map(String::from);
        let mut columns: Vec<String> = Vec::new();
        let mut rows: Vec<String> = Vec::new();
        // A row: every other value a label would show.
        let row_of = |c: &Candidate| {
            let (choice, environment) = describe(c, |k| k != name && shown(&varying, k));
            let parts = [choice, environment].concat();
            if parts.is_empty() {
                "all".to_string()
            } else {
                parts.join(" · ")
            }
        };
        for c in all {
            if let Some(v) = value_of(c)
                && !columns.contains(&v)
            {
                columns.push(v);
            }
            let row = row_of(c);
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
        let _ = writeln!(md, "## Across {short}\n");
        let _ = writeln!(
            md,
            "{} at each {short}; the best deployable value in each column in bold (targets not applied: the recommendation applies them).\n",
            capitalise(&header(rank))
        );
        let _ = writeln!(md, "| | {} |", columns.join(" | "));
        let _ = writeln!(md, "|---|{}", "---:|".repeat(columns.len()));
        let best: Vec<Option<f64>> = columns
            .iter()
            .map(|col| {
                all.iter()
                    .filter(|c| !c.offline && value_of(c).as_ref() == Some(col))
                    .filter_map(|c| c.mean(rank))
                    .reduce(|a, b| {
                        if (b > a) == rank.higher_is_better() && b != a {
                            b
                        } else {
                            a
                        }
                    })
            })
            .collect();
        for row in &rows {
            let cells: Vec<String> = columns
                .iter()
                .zip(&best)
                .map(|(col, best)| {
                    let found = all
                        .iter()
                        .find(|c| value_of(c).as_ref() == Some(col) && row_of(c) == *row);
                    match found.and_then(|c| Some((c, c.get(rank)?))) {
                        Some((c, m)) if !c.offline && Some(m.mean.mean) == *best => {
                            format!("**{}**", mean(rank, m.mean, currency))
                        }
                        Some((_, m)) => mean(rank, m.mean, currency),
                        None => NA.into(),
                    }
                })
                .collect();
            let _ = writeln!(md, "| `{row}` | {} |", cells.join(" | "));
        }
        md.push('\n');
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}
