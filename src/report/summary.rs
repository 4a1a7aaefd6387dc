//! The results of an experiment as the reports see them: one row per run,
//! and one aggregate per configuration (mean and 95% confidence interval over
//! replications).

use super::decide::{self, Candidate, Comparison, Recommendation};
use super::limits::{self, LimitConfig};
use crate::experiment::Experiment;
use crate::metrics::service::{Quarter, ServiceStats};
use crate::runner::RunResult;
use crate::units::format_bytes;

/// A table cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(u64),
    Real(f64),
    /// Not applicable to this run (empty in CSV, null in JSON).
    Empty,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Cell::Text(s) => f.write_str(s),
            Cell::Int(n) => write!(f, "{n}"),
            Cell::Real(x) => write!(f, "{x}"),
            Cell::Empty => Ok(()),
        }
    }
}

/// A mean over replications with the half-width of its 95% confidence interval.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mean {
    pub mean: f64,
    pub half_width: f64,
    pub n: usize,
}

impl Mean {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let half_width = if n < 2 {
            0.0
        } else {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            student_t95(n - 1) * (var / n as f64).sqrt()
        };
        Mean {
            mean,
            half_width,
            n,
        }
    }
}

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom.
fn student_t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    T.get(df - 1).copied().unwrap_or(1.96)
}

/// One cache configuration (workload variant x cache choice, and limiter
/// choice when there are limiters) over its replications.
#[derive(Debug, Clone)]
pub struct Config {
    pub workload: usize,
    /// Load level and service variant (0 and None without them).
    pub load: usize,
    pub service: Option<usize>,
    pub cache: usize,
    pub limiter: Option<usize>,
    /// The policy as written, with its parameters.
    pub policy: String,
    /// The capacity as written ("5%", "64MiB", "1000").
    pub capacity_label: String,
    /// Mean resolved capacity, in `unit`.
    pub capacity: f64,
    pub unit: &'static str,
    pub hit_ratio: Mean,
    pub byte_hit_ratio: Mean,
}

impl Config {
    /// The capacity for people: "5% (12.3MiB)".
    pub fn capacity_text(&self) -> String {
        let resolved = if self.unit == "bytes" {
            format_bytes(self.capacity.round() as u64)
        } else {
            format!("{} objects", self.capacity.round())
        };
        if self.capacity_label.ends_with('%') {
            format!("{} ({resolved})", self.capacity_label)
        } else {
            resolved
        }
    }
}

/// What every export reads.
pub struct Summary<'a> {
    pub experiment: &'a Experiment,
    pub results: &'a [RunResult],
    /// Column names of [`Summary::rows`].
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Cache configurations (empty without caches).
    pub configs: Vec<Config>,
    /// Limiter configurations (empty without limiters).
    pub limit_configs: Vec<LimitConfig>,
    /// Every configuration with every metric it has, in run order.
    pub candidates: Vec<Candidate>,
    /// Each candidate against its baseline.
    pub comparisons: Vec<Comparison>,
    /// One per environment (load level, traffic).
    pub recommendations: Vec<Recommendation>,
}

impl<'a> Summary<'a> {
    pub fn new(experiment: &'a Experiment, results: &'a [RunResult]) -> Self {
        let dims = experiment.swept_dims();
        let has_caches = !experiment.caches.is_empty();
        let has_limiters = !experiment.limiters.is_empty();
        let has_loads = experiment.loads.len() > 1 || experiment.loads[0].spec.name.is_some();
        let mut columns: Vec<String> = ["run", "replication", "seed"].map(String::from).to_vec();
        if has_loads {
            columns.push("load".into());
        }
        columns.extend(dims.iter().cloned());
        // Behind a limiter a cache sees only the admitted requests.
        let cache_requests = if has_limiters {
            "admitted_requests"
        } else {
            "requests"
        };
        let cache_columns = [
            "policy",
            "capacity",
            "capacity_value",
            "capacity_unit",
            cache_requests,
            "hits",
            "misses",
            "expired",
            "hit_ratio",
            "byte_hit_ratio",
        ]
        .map(String::from);
        if has_caches {
            columns.extend(cache_columns);
        }
        if has_limiters {
            columns.extend(limits::columns(!has_caches));
        }
        if !experiment.services.is_empty() {
            columns.extend(SERVICE_COLUMNS.map(String::from));
        }
        let rows = results
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::Int(r.run.index as u64),
                    Cell::Int(r.run.replication),
                    Cell::Int(r.seed),
                ];
                if has_loads {
                    row.push(Cell::Text(experiment.load_of(&r.run).label()));
                }
                for dim in &dims {
                    let value = experiment.swept_values(&r.run).find(|(d, _)| d == dim);
                    row.push(Cell::Text(
                        value.map(|(_, v)| v.clone()).unwrap_or_default(),
                    ));
                }
                let s = &r.stats;
                if has_caches && r.run.cache.is_none() {
                    row.push(Cell::Text("none".into()));
                    row.extend(vec![Cell::Empty; 9]);
                }
                if let Some(cache) = experiment.cache_of(&r.run) {
                    row.extend([
                        Cell::Text(cache.spec.policy.to_string()),
                        Cell::Text(cache.spec.capacity.to_string()),
                        Cell::Int(r.capacity),
                        Cell::Text(unit(r.count_objects).into()),
                        Cell::Int(s.requests),
                        Cell::Int(s.hits),
                        Cell::Int(s.misses()),
                        Cell::Int(s.expired),
                        Cell::Real(s.hit_ratio()),
                        Cell::Real(s.byte_hit_ratio()),
                    ]);
                }
                match experiment.limiter_of(&r.run) {
                    Some(l) => row.extend(limits::cells(&l.spec, r, !has_caches)),
                    None if has_limiters => {
                        let mut cells = vec![Cell::Empty; limits::columns(!has_caches).len()];
                        cells[usize::from(!has_caches)] = Cell::Text("none".into());
                        row.extend(cells);
                    }
                    None => {}
                }
                if let Some(service) = &r.service {
                    row.extend(service_cells(service, r.evictions));
                }
                row
            })
            .collect();
        let configs = aggregate(experiment, results);
        let limit_configs = limits::aggregate(experiment, results);
        let candidates = decide::candidates(experiment, results);
        let comparisons = decide::compare(experiment, &candidates);
        let recommendations = decide::recommend(experiment, &candidates);
        Summary {
            experiment,
            results,
            columns,
            rows,
            configs,
            limit_configs,
            candidates,
            comparisons,
            recommendations,
        }
    }

    /// The currency prices are quoted in.
    pub fn currency(&self) -> &str {
        self.experiment
            .cost
            .as_ref()
            .and_then(|c| c.currency.as_deref())
            .unwrap_or("$")
    }
}

/// Columns of every run of an experiment with a `[service]`.
const SERVICE_COLUMNS: [&str; 29] = [
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "throughput_rps",
    "error_ratio",
    "errors_429",
    "errors_503",
    "errors_504",
    "origin_requests",
    "coalesced",
    "origin_utilization",
    "queue_mean",
    "queue_max",
    "in_system_mean",
    "evictions",
    "stability",
    "latency_spread_ms",
    "p95_first_quarter_ms",
    "p95_last_quarter_ms",
    "error_ratio_first_quarter",
    "error_ratio_last_quarter",
    "hit_ratio_first_quarter",
    "hit_ratio_last_quarter",
    "cache_bytes_first_quarter",
    "cache_bytes_last_quarter",
];

fn service_cells(s: &ServiceStats, evictions: u64) -> Vec<Cell> {
    let ms = |ns: u64| Cell::Real(ns as f64 / 1e6);
    let l = &s.latency;
    let (a, b) = (&s.first_quarter, &s.last_quarter);
    let mut cells = vec![
        Cell::Real(l.mean / 1e6),
        ms(l.p50),
        ms(l.p90),
        ms(l.p95),
        ms(l.p99),
        ms(l.p999),
        ms(l.max),
        Cell::Real(s.throughput_rps),
        Cell::Real(s.counts.error_ratio()),
        Cell::Int(s.counts.denied),
        Cell::Int(s.counts.full),
        Cell::Int(s.counts.timeouts),
        Cell::Int(s.origin_requests),
        Cell::Int(s.coalesced),
        Cell::Real(s.origin_utilization),
        Cell::Real(s.queue_mean),
        Cell::Int(s.queue_max),
        Cell::Real(s.in_system_mean),
        Cell::Int(evictions),
        Cell::Text(s.stability.name().into()),
        Cell::Real(s.latency_spread_ms),
    ];
    // Each quarter figure, the first quarter's then the last's.
    let quarters: [fn(&Quarter) -> f64; 4] = [
        |q| q.p95 as f64 / 1e6,
        |q| q.error_ratio,
        |q| q.hit_ratio,
        |q| q.cache_bytes,
    ];
    cells.extend(
        quarters
            .iter()
            .flat_map(|f| [Cell::Real(f(a)), Cell::Real(f(b))]),
    );
    cells
}

fn unit(count_objects: bool) -> &'static str {
    if count_objects { "objects" } else { "bytes" }
}

/// Groups runs by (workload, cache), in run order.
fn aggregate(experiment: &Experiment, results: &[RunResult]) -> Vec<Config> {
    let mut configs = Vec::new();
    for chunk in results.chunk_by(|a, b| a.run.configuration() == b.run.configuration()) {
        let first = &chunk[0];
        let Some(cache_index) = first.run.cache else {
            continue;
        };
        let cache = &experiment.caches[cache_index];
        let hits: Vec<f64> = chunk.iter().map(|r| r.stats.hit_ratio()).collect();
        let bytes: Vec<f64> = chunk.iter().map(|r| r.stats.byte_hit_ratio()).collect();
        let capacity = chunk.iter().map(|r| r.capacity as f64).sum::<f64>() / chunk.len() as f64;
        configs.push(Config {
            workload: first.run.workload,
            load: first.run.load,
            service: first.run.service,
            cache: cache_index,
            limiter: first.run.limiter,
            policy: cache.spec.policy.to_string(),
            capacity_label: cache.spec.capacity.to_string(),
            capacity,
            unit: unit(first.count_objects),
            hit_ratio: Mean::of(&hits),
            byte_hit_ratio: Mean::of(&bytes),
        });
    }
    configs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_confidence_interval() {
        let m = Mean::of(&[1.0, 2.0, 3.0]);
        assert_eq!(m.mean, 2.0);
        // sd = 1, n = 3: 4.303 / sqrt(3)
        assert!((m.half_width - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(Mean::of(&[0.5]).half_width, 0.0);
    }
}
