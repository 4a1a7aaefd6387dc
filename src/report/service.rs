//! The service section of report.md: what users feel in every
//! configuration at every load level, each configuration against the bare
//! origin, the breaking points in words, the drift of the longest runs and
//! the routes.

use std::fmt::Write;

use super::Summary;
use super::breaking;
use super::chart;
use super::levels::{self, ConfigKey, Level};
use super::markdown::table_head;
use super::summary::Mean;
use crate::experiment::Experiment;
use crate::units::format_bytes;

const NA: &str = "–";

/// `value` to `decimals`, with the confidence interval over replications.
fn fmt(m: Mean, scale: f64, decimals: usize) -> String {
    if m.n > 1 {
        format!(
            "{:.decimals$} ± {:.decimals$}",
            m.mean * scale,
            m.half_width * scale
        )
    } else {
        format!("{:.decimals$}", m.mean * scale)
    }
}

fn ms(m: Mean) -> String {
    fmt(m, 1.0, 1)
}

/// A ratio in %: "12.34% ± 1.20" (the interval in points).
fn pct(m: Mean) -> String {
    let text = fmt(m, 100.0, 2);
    match text.split_once(" ± ") {
        Some((mean, half)) => format!("{mean}% ± {half}"),
        None => format!("{text}%"),
    }
}

/// A count's mean over replications, as a whole number.
fn count(m: Mean) -> String {
    fmt(m, 1.0, 0)
}

/// `after` against `before`: "+6.2 ms (+3.0%)"; the percentage is left
/// out when `before` is zero.
fn change(before: f64, after: f64, unit: &str, decimals: usize) -> String {
    let delta = after - before;
    let relative = if before != 0.0 {
        format!(" ({:+.1}%)", delta / before * 100.0)
    } else {
        String::new()
    };
    format!("{delta:+.decimals$}{unit}{relative}")
}

/// `first → last (±x%)`, for drift.
fn drift(first: f64, last: f64, text: impl Fn(f64) -> String) -> String {
    let relative = if first != 0.0 {
        format!(" ({:+.1}%)", (last - first) / first * 100.0)
    } else {
        String::new()
    };
    format!("{} → {}{relative}", text(first), text(last))
}

/// Ends `row` with a hit ratio when the table has that column
/// (`has_cache`): `hit`'s, or n/a for a configuration without a cache.
fn hit_cell(row: &mut String, has_cache: bool, config: ConfigKey, hit: impl FnOnce() -> Mean) {
    if has_cache {
        let hit = match config.cache {
            Some(_) => pct(hit()),
            None => NA.into(),
        };
        let _ = write!(row, " {hit} |");
    }
}

fn label(exp: &Experiment, key: ConfigKey) -> String {
    levels::config_label(exp, key)
}

/// The service section, for experiments with a `[service]`.
pub fn markdown(md: &mut String, summary: &Summary) {
    let exp = summary.experiment;
    let levels = levels::levels(summary.results);
    if levels.is_empty() {
        return;
    }
    let has_cache = exp.cache_slots.iter().any(Option::is_some);
    let rule = &exp.report.breaking_point;
    let _ = writeln!(md, "## Service\n");
    let mut intro = String::from(
        "Latency is of answered requests (200, 503 and 504; the limiter's 429s are counted \
         apart), in ms; the error ratio is 503s and 504s over all requests; throughput counts \
         successful answers per second of simulated time",
    );
    if has_cache {
        intro.push_str("; the hit ratio is the share of admitted requests answered by the cache");
    }
    let _ = write!(
        intro,
        ". A load level breaks when its error ratio is above {}%",
        levels::number(rule.error_ratio * 100.0)
    );
    if let Some(p95) = rule.p95 {
        let _ = write!(
            intro,
            " or its p95 above {} ms",
            levels::number(p95.0 as f64 / 1e6)
        );
    }
    let _ = writeln!(md, "{intro}.\n");
    chart::image(md, summary, &chart::LATENCY);
    chart::image(md, summary, &chart::ERRORS);
    chart::image(md, summary, &chart::CDF);
    tables(md, exp, &levels, has_cache);
    before_after(md, exp, &levels);
    breaking_points(md, exp, &levels);
    endurance(md, exp, &levels, has_cache);
    chart::image(md, summary, &chart::TIMESERIES);
    routes(md, exp, &levels, has_cache);
}

/// One table per load level, a row per configuration.
fn tables(md: &mut String, exp: &Experiment, levels: &[Level], has_cache: bool) {
    for load in 0..exp.loads.len() {
        let at: Vec<&Level> = levels.iter().filter(|l| l.load == load).collect();
        if at.is_empty() {
            continue;
        }
        let _ = writeln!(md, "### Load `{}`\n", exp.loads[load].label());
        let mut numbers = vec![
            "p50 (ms)",
            "p95 (ms)",
            "p99 (ms)",
            "throughput (req/s)",
            "error ratio",
            "429",
            "503",
            "504",
        ];
        numbers.extend(has_cache.then_some("hit ratio"));
        table_head(md, &["configuration"], &numbers);
        for l in at {
            let mut row = format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                label(exp, l.config),
                ms(l.p50),
                ms(l.p95),
                ms(l.p99),
                fmt(l.throughput, 1.0, 1),
                pct(l.error_ratio),
                count(l.denied),
                count(l.full),
                count(l.timeouts),
            );
            hit_cell(&mut row, has_cache, l.config, || l.hit_ratio);
            let _ = writeln!(md, "{row}");
        }
        md.push('\n');
    }
}

/// Every configuration against the bare origin (no cache, no limiter) of
/// its workload at the same load level.
fn before_after(md: &mut String, exp: &Experiment, levels: &[Level]) {
    let rows: Vec<(&Level, &Level)> = levels
        .iter()
        .filter(|l| !l.config.is_bare())
        .filter_map(|l| {
            let bare = ConfigKey {
                cache: None,
                limiter: None,
                ..l.config
            };
            levels::find(levels, bare, l.load).map(|base| (base, l))
        })
        .collect();
    let Some((base, _)) = rows.first() else {
        return;
    };
    let _ = writeln!(md, "### Before/after\n");
    let _ = writeln!(
        md,
        "Each configuration against {} at the same load level: the change, and the change in %.\n",
        label(exp, base.config)
    );
    let _ = writeln!(
        md,
        "| load | configuration | p95 (ms) | Δ p95 | throughput (req/s) | Δ throughput | error ratio | Δ error ratio |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (base, l) in rows {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            exp.loads[l.load].label(),
            label(exp, l.config),
            ms(l.p95),
            change(base.p95.mean, l.p95.mean, " ms", 1),
            fmt(l.throughput, 1.0, 1),
            change(base.throughput.mean, l.throughput.mean, " req/s", 1),
            pct(l.error_ratio),
            change(
                base.error_ratio.mean * 100.0,
                l.error_ratio.mean * 100.0,
                " pts",
                2
            ),
        );
    }
    md.push('\n');
}

/// Each configuration's breaking point on each ladder, in words.
fn breaking_points(md: &mut String, exp: &Experiment, levels: &[Level]) {
    let ladders = levels::ladders(exp);
    let found = breaking::find(exp, levels, &ladders);
    if found.is_empty() {
        return;
    }
    let _ = writeln!(md, "### Breaking points\n");
    for b in &found {
        let ladder = &ladders[b.ladder];
        let _ = writeln!(
            md,
            "- {}, load `{}`: {}.",
            label(exp, b.config),
            ladder.name,
            breaking::sentence(exp, ladder, b)
        );
    }
    md.push('\n');
}

/// First against last quarter of the longest runs, with the workshop's
/// stability rating.
fn endurance(md: &mut String, exp: &Experiment, levels: &[Level], has_cache: bool) {
    for load in levels::endurance(exp, levels) {
        let at: Vec<&Level> = levels.iter().filter(|l| l.load == load).collect();
        let Some(first) = at.first() else { continue };
        let seconds = exp.loads[load]
            .spec
            .load
            .end()
            .unwrap_or_else(|| first.stats.iter().map(|s| s.span).max().unwrap_or(0))
            as f64
            / 1e9;
        let _ = writeln!(
            md,
            "### Endurance: load `{}` ({}s)\n",
            exp.loads[load].label(),
            levels::number(seconds.round())
        );
        let _ = writeln!(
            md,
            "The longest load level (or those named `endurance`): the first quarter of each run \
             against its last (requests by send time); stability is the workshop's rating from \
             the error ratio and the spread of p50, p95 and p99.\n"
        );
        let cache_columns = if has_cache {
            " hit ratio | cache occupancy |"
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "| configuration | p95 (ms) | error ratio |{cache_columns} stability |"
        );
        let _ = writeln!(
            md,
            "|---|---:|---:|{}---|",
            if has_cache { "---:|---:|" } else { "" }
        );
        for l in at {
            let mean = |f: fn(&crate::metrics::service::ServiceStats) -> f64| l.mean(f).mean;
            let p95 = drift(
                mean(|s| s.first_quarter.p95 as f64 / 1e6),
                mean(|s| s.last_quarter.p95 as f64 / 1e6),
                |v| format!("{v:.1}"),
            );
            let errors = drift(
                mean(|s| s.first_quarter.error_ratio),
                mean(|s| s.last_quarter.error_ratio),
                |v| format!("{:.2}%", v * 100.0),
            );
            let cache = if !has_cache {
                String::new()
            } else if l.config.cache.is_some() {
                format!(
                    " {} | {} |",
                    drift(
                        mean(|s| s.first_quarter.hit_ratio),
                        mean(|s| s.last_quarter.hit_ratio),
                        |v| format!("{:.2}%", v * 100.0),
                    ),
                    drift(
                        mean(|s| s.first_quarter.cache_bytes),
                        mean(|s| s.last_quarter.cache_bytes),
                        |v| format_bytes(v.round() as u64),
                    ),
                )
            } else {
                format!(" {NA} | {NA} |")
            };
            let _ = writeln!(
                md,
                "| {} | {p95} | {errors} |{cache} {} |",
                label(exp, l.config),
                stability(l)
            );
        }
        md.push('\n');
    }
}

/// The rating of every replication: "good", or "good ×2, fair ×1" when
/// they differ.
fn stability(l: &Level) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for s in &l.stats {
        let name = s.stability.name();
        match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => *k += 1,
            None => seen.push((name, 1)),
        }
    }
    match seen.as_slice() {
        [(name, _)] => name.to_string(),
        _ => seen
            .iter()
            .map(|(n, k)| format!("{n} ×{k}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Per route, when the workload declares routes.
fn routes(md: &mut String, exp: &Experiment, levels: &[Level], has_cache: bool) {
    if levels
        .iter()
        .all(|l| l.stats.iter().all(|s| s.routes.is_empty()))
    {
        return;
    }
    let _ = writeln!(md, "### Routes\n");
    let mut numbers = vec![
        "requests",
        "p50 (ms)",
        "p95 (ms)",
        "p99 (ms)",
        "error ratio",
        "429",
    ];
    numbers.extend(has_cache.then_some("hit ratio"));
    table_head(md, &["load", "configuration", "route"], &numbers);
    for l in levels {
        let names: Vec<&str> = l
            .stats
            .first()
            .map(|s| s.routes.iter().map(|r| r.name.as_str()).collect())
            .unwrap_or_default();
        for (i, name) in names.iter().enumerate() {
            let route = |f: &dyn Fn(&crate::metrics::service::RouteStats) -> f64| {
                Mean::of(
                    &l.stats
                        .iter()
                        .filter_map(|s| s.routes.get(i))
                        .map(f)
                        .collect::<Vec<_>>(),
                )
            };
            let mut row = format!(
                "| `{}` | {} | `{name}` | {} | {} | {} | {} | {} | {} |",
                exp.loads[l.load].label(),
                label(exp, l.config),
                count(route(&|r| r.counts.requests as f64)),
                ms(route(&|r| r.latency.p50 as f64 / 1e6)),
                ms(route(&|r| r.latency.p95 as f64 / 1e6)),
                ms(route(&|r| r.latency.p99 as f64 / 1e6)),
                pct(route(&|r| r.counts.error_ratio())),
                count(route(&|r| r.counts.denied as f64)),
            );
            hit_cell(&mut row, has_cache, l.config, || {
                route(&|r| r.counts.hit_ratio())
            });
            let _ = writeln!(md, "{row}");
        }
    }
    md.push('\n');
}
