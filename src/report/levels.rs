//! Service results per configuration and load level, averaged over
//! replications: what the service section of report.md, the breaking points
//! and the load charts all read, so they cannot disagree.

use super::summary::Mean;
use crate::experiment::{Experiment, Run, short_dims};
use crate::metrics::service::ServiceStats;
use crate::runner::RunResult;
use crate::service::Load;

/// A configuration of the service: a workload variant and service variant
/// with a cache slot and a limiter slot (None: that stage is left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub workload: usize,
    pub service: Option<usize>,
    pub cache: Option<usize>,
    pub limiter: Option<usize>,
}

impl ConfigKey {
    pub fn of(run: &Run) -> Self {
        ConfigKey {
            workload: run.workload,
            service: run.service,
            cache: run.cache,
            limiter: run.limiter,
        }
    }

    /// No cache and no limiter: the origin alone, what others are compared with.
    pub fn is_bare(&self) -> bool {
        self.cache.is_none() && self.limiter.is_none()
    }
}

/// One configuration at one load level over its replications. Latencies in
/// ms, ratios as fractions.
#[derive(Debug, Clone)]
pub struct Level<'a> {
    pub config: ConfigKey,
    pub load: usize,
    pub stats: Vec<&'a ServiceStats>,
    pub p50: Mean,
    pub p95: Mean,
    pub p99: Mean,
    pub throughput: Mean,
    pub error_ratio: Mean,
    pub denied: Mean,
    pub full: Mean,
    pub timeouts: Mean,
    pub hit_ratio: Mean,
}

impl Level<'_> {
    /// The mean of `f` over the replications.
    pub fn mean(&self, f: impl Fn(&ServiceStats) -> f64) -> Mean {
        Mean::of(&self.stats.iter().map(|s| f(s)).collect::<Vec<_>>())
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Every (configuration, load level) with service metrics, in run order.
pub fn levels(results: &[RunResult]) -> Vec<Level<'_>> {
    let same = |a: &RunResult, b: &RunResult| a.run.configuration() == b.run.configuration();
    results
        .chunk_by(same)
        .filter_map(|chunk| {
            let stats: Vec<&ServiceStats> =
                chunk.iter().filter_map(|r| r.service.as_ref()).collect();
            if stats.is_empty() {
                return None;
            }
            let mut level = Level {
                config: ConfigKey::of(&chunk[0].run),
                load: chunk[0].run.load,
                stats,
                p50: Mean::default(),
                p95: Mean::default(),
                p99: Mean::default(),
                throughput: Mean::default(),
                error_ratio: Mean::default(),
                denied: Mean::default(),
                full: Mean::default(),
                timeouts: Mean::default(),
                hit_ratio: Mean::default(),
            };
            level.p50 = level.mean(|s| ms(s.latency.p50));
            level.p95 = level.mean(|s| ms(s.latency.p95));
            level.p99 = level.mean(|s| ms(s.latency.p99));
            level.throughput = level.mean(|s| s.throughput_rps);
            level.error_ratio = level.mean(|s| s.counts.error_ratio());
            level.denied = level.mean(|s| s.counts.denied as f64);
            level.full = level.mean(|s| s.counts.full as f64);
            level.timeouts = level.mean(|s| s.counts.timeouts as f64);
            level.hit_ratio = level.mean(|s| s.counts.hit_ratio());
            Some(level)
        })
        .collect()
}

/// The configurations of `levels`, in first-seen (run) order.
pub fn configs(levels: &[Level]) -> Vec<ConfigKey> {
    let mut out: Vec<ConfigKey> = Vec::new();
    for l in levels {
        if !out.contains(&l.config) {
            out.push(l.config);
        }
    }
    out
}

/// The level of `config` at `load`, if it ran.
pub fn find<'l, 'a>(
    levels: &'l [Level<'a>],
    config: ConfigKey,
    load: usize,
) -> Option<&'l Level<'a>> {
    levels.iter().find(|l| l.config == config && l.load == load)
}

/// The cache choice as results.json names it: "lru 10%", or "none".
pub fn cache_label(exp: &Experiment, cache: Option<usize>) -> String {
    cache.map_or("none".into(), |c| {
        let spec = &exp.caches[c].spec;
        format!("{} {}", spec.policy, spec.capacity)
    })
}

/// The limiter choice as results.json names it, or "none".
pub fn limiter_label(exp: &Experiment, limiter: Option<usize>) -> String {
    limiter.map_or("none".into(), |l| exp.limiters[l].spec.label())
}

/// A workload variant's swept values ("alpha=0.8"), empty with one variant.
pub fn workload_label(exp: &Experiment, workload: usize) -> String {
    if exp.workloads.len() < 2 {
        return String::new();
    }
    short_dims(&exp.workloads[workload].dims).join(" ")
}

/// A workload variant's swept values for a heading: "workload.ttl = 60s".
pub fn workload_values(exp: &Experiment, workload: usize) -> String {
    exp.workloads[workload]
        .dims
        .iter()
        .map(|(d, v)| format!("{d} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A configuration for people: only the stages the experiment varies, e.g.
/// "no cache", "lru 10% + token-bucket 100/s", or "service" when it varies
/// none.
pub fn config_label(exp: &Experiment, key: ConfigKey) -> String {
    let mut parts = Vec::new();
    if exp.cache_slots.iter().any(Option::is_some) {
        parts.push(match key.cache {
            None => "no cache".to_string(),
            Some(_) => cache_label(exp, key.cache),
        });
    }
    if exp.limiter_slots.iter().any(Option::is_some) {
        parts.push(match key.limiter {
            None => "no limiter".to_string(),
            Some(_) => limiter_label(exp, key.limiter),
        });
    }
    if let Some(s) = key.service.filter(|_| exp.services.len() > 1) {
        parts.extend(short_dims(&exp.services[s].dims));
    }
    if parts.is_empty() {
        parts.push("service".into());
    }
    let label = parts.join(" + ");
    match workload_label(exp, key.workload) {
        w if w.is_empty() => label,
        w => format!("{w}: {label}"),
    }
}

/// The levels of one `[[load]]` table that sweeps more than one value: a
/// stress ladder, walked in file order.
#[derive(Debug, Clone)]
pub struct Ladder {
    /// The table's `name`, or "load N" (1-based) without one.
    pub name: String,
    /// Indices into the experiment's loads, in file order.
    pub loads: Vec<usize>,
    /// Where each level sits on a chart's x axis: the swept connections or
    /// rate, or 1, 2, 3... when the table sweeps something else.
    pub x: Vec<f64>,
    /// "connections" or "req/s" when `x` holds them.
    pub unit: Option<&'static str>,
}

impl Ladder {
    /// A level for sentences: "200 connections", or its label.
    pub fn level_text(&self, exp: &Experiment, i: usize) -> String {
        match self.unit {
            Some(unit) => format!("{} {unit}", number(self.x[i])),
            None => format!("`{}`", exp.loads[self.loads[i]].label()),
        }
    }

    /// Just the value, after a first mention with the unit: "500".
    pub fn level_value(&self, exp: &Experiment, i: usize) -> String {
        match self.unit {
            Some(_) => number(self.x[i]),
            None => self.level_text(exp, i),
        }
    }

    /// The x axis' title.
    pub fn axis(&self) -> String {
        match self.unit {
            Some("req/s") => "offered rate (req/s)".into(),
            Some(unit) => unit.into(),
            None => "load level".into(),
        }
    }
}

/// `x` without a needless ".0".
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{}", (x * 1000.0).round() / 1000.0)
    }
}

/// The peak connections or offered rate of a load, with its unit.
fn load_value(load: &Load) -> Option<(f64, &'static str)> {
    match load {
        Load::Closed { phases, .. } => phases
            .iter()
            .map(|p| p.connections)
            .max()
            .map(|c| (c as f64, "connections")),
        Load::Open { phases } => phases
            .iter()
            .map(|p| p.process.mean_rate())
            .max_by(f64::total_cmp)
            .map(|r| (r, "req/s")),
        Load::Own { .. } => None,
    }
}

/// Every `[[load]]` table with more than one level.
pub fn ladders(exp: &Experiment) -> Vec<Ladder> {
    let tables = exp.loads.iter().map(|l| l.table).max().map_or(0, |t| t + 1);
    (0..tables)
        .filter_map(|table| {
            let loads: Vec<usize> = (0..exp.loads.len())
                .filter(|&l| exp.loads[l].table == table)
                .collect();
            if loads.len() < 2 {
                return None;
            }
            let values: Option<Vec<(f64, &str)>> = loads
                .iter()
                .map(|&l| load_value(&exp.loads[l].spec.load))
                .collect();
            let distinct = |v: &[(f64, &str)]| {
                v.iter().all(|a| a.1 == v[0].1)
                    && v.iter()
                        .enumerate()
                        .all(|(i, a)| v[..i].iter().all(|b| b.0 != a.0))
            };
            let (x, unit) = match values {
                Some(v) if distinct(&v) => (v.iter().map(|p| p.0).collect(), Some(v[0].1)),
                _ => ((1..=loads.len()).map(|i| i as f64).collect(), None),
            };
            Some(Ladder {
                name: exp.loads[loads[0]]
                    .spec
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("load {}", table + 1)),
                loads,
                x,
                unit,
            })
        })
        .collect()
}

/// The load levels whose drift is worth reading: those named "endurance",
/// else the one that lasts longest (the first of equals: in a ladder the
/// lightest, the one an endurance test would run).
pub fn endurance(exp: &Experiment, levels: &[Level]) -> Vec<usize> {
    let named: Vec<usize> = (0..exp.loads.len())
        .filter(|&l| exp.loads[l].spec.name.as_deref() == Some("endurance"))
        .collect();
    if !named.is_empty() {
        return named;
    }
    // A load without an end lasts as long as its runs did.
    let length = |load: usize| {
        exp.loads[load].spec.load.end().unwrap_or_else(|| {
            levels
                .iter()
                .filter(|l| l.load == load)
                .flat_map(|l| l.stats.iter().map(|s| s.span))
                .max()
                .unwrap_or(0)
        })
    };
    let longest = (0..exp.loads.len()).max_by_key(|&l| (length(l), std::cmp::Reverse(l)));
    longest.into_iter().collect()
}
