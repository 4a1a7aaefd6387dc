//! Configurations as the decision sees them: every metric a configuration
//! has, averaged over replications with its confidence interval, and the
//! values that name it.

use super::super::summary::Mean;
use crate::experiment::{Experiment, Metric, Run};
use crate::runner::RunResult;

/// One metric of one configuration.
#[derive(Debug, Clone)]
pub struct Measure {
    pub metric: Metric,
    /// Mean over replications, with its 95% interval (from batch means
    /// within the run when there is one replication and batches exist).
    pub mean: Mean,
    /// What the interval came from: one value per replication, or per
    /// batch. Paired with another configuration's, sample by sample, for
    /// the interval of a difference (common random numbers).
    pub samples: Vec<f64>,
}

/// One configuration over its replications.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its first run (replication 0).
    pub run: Run,
    /// The indices of all its runs (rows of results.csv).
    pub runs: Vec<usize>,
    /// Every value that varies between configurations, for rows and
    /// sentences: "lru 5% · ttl=60s".
    pub label: String,
    /// The values that name it ([`Experiment::config_values`]).
    pub values: Vec<(String, String)>,
    /// The values it is judged under and not chosen: the load level and
    /// workload parameters that change the request stream. Only
    /// configurations with equal environments compete.
    pub environment: Vec<(String, String)>,
    /// The environment's values that vary, for headings: "stress
    /// connections=50"; empty with one environment.
    pub environment_label: String,
    /// An offline oracle (Belady): a bound, never a recommendation.
    pub offline: bool,
    pub measures: Vec<Measure>,
    /// Requests per run (offered), for warnings about short traces.
    pub requests: u64,
    /// What it costs to deploy, without prices: origin servers, cache
    /// capacity, limiter state; compared in that order.
    pub size: [f64; 3],
}

impl Candidate {
    pub fn get(&self, metric: Metric) -> Option<&Measure> {
        self.measures.iter().find(|m| m.metric == metric)
    }

    pub fn mean(&self, metric: Metric) -> Option<f64> {
        self.get(metric).map(|m| m.mean.mean)
    }

    /// The value it has for `name` (see [`Experiment::config_values`]).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Workload parameters that are choices a user makes (how long to cache,
/// how to build keys) rather than traffic they are given.
const WORKLOAD_CHOICES: &[&str] = &["ttl", "log_key"];

/// Every configuration of `results`, in run order.
pub fn candidates(exp: &Experiment, results: &[RunResult]) -> Vec<Candidate> {
    let same = |a: &RunResult, b: &RunResult| a.run.configuration() == b.run.configuration();
    let mut out: Vec<Candidate> = results
        .chunk_by(same)
        .map(|chunk| candidate(exp, chunk))
        .collect();
    label(&mut out);
    out
}

fn candidate(exp: &Experiment, chunk: &[RunResult]) -> Candidate {
    let first = &chunk[0];
    let run = first.run.clone();
    let values = exp.config_values(&run);
    let environment = values
        .iter()
        .filter(|(name, _)| {
            let short = name.rsplit('.').next().unwrap_or(name);
            name == "load" || name.starts_with("load.") || {
                name.starts_with("workload.") && !WORKLOAD_CHOICES.contains(&short)
            }
        })
        .cloned()
        .collect();
    let offline = exp
        .cache_of(&run)
        .is_some_and(|c| c.spec.policy.needs_next_access());
    let measures = Metric::ALL
        .into_iter()
        .filter_map(|metric| measure(exp, chunk, metric))
        .collect();
    let servers = exp.service_of(&run).map_or(0.0, |s| s.spec.servers as f64);
    let capacity = if run.cache.is_some() {
        capacity_bytes(first)
    } else {
        0.0
    };
    let state = chunk
        .iter()
        .filter_map(|r| r.limits.as_ref())
        .map(|l| l.peak_state_bytes as f64)
        .sum::<f64>()
        / chunk.len() as f64;
    Candidate {
        run,
        runs: chunk.iter().map(|r| r.run.index).collect(),
        label: String::new(),
        values,
        environment,
        environment_label: String::new(),
        offline,
        measures,
        requests: offered(first),
        size: [servers, capacity, state],
    }
}

/// The cache's capacity in bytes (objects at the working set's mean size
/// when it counts objects).
fn capacity_bytes(r: &RunResult) -> f64 {
    if r.count_objects {
        let ws = r.working_set;
        r.capacity as f64 * ws.bytes as f64 / ws.objects.max(1) as f64
    } else {
        r.capacity as f64
    }
}

/// Requests the run was offered.
fn offered(r: &RunResult) -> u64 {
    match (&r.service, &r.limits) {
        (Some(s), _) => s.counts.requests,
        (None, Some(l)) => l.requests,
        (None, None) => r.stats.requests,
    }
}

/// `metric` of every run of a configuration, if the configuration has it.
fn measure(exp: &Experiment, chunk: &[RunResult], metric: Metric) -> Option<Measure> {
    let values: Vec<f64> = chunk
        .iter()
        .map(|r| value(exp, r, metric))
        .collect::<Option<_>>()?;
    let batches: Vec<f64> = match (chunk, metric) {
        ([r], Metric::HitRatio) => r.batches.iter().map(|b| b.hit_ratio()).collect(),
        ([r], Metric::ByteHitRatio) => r.batches.iter().map(|b| b.byte_hit_ratio()).collect(),
        _ => Vec::new(),
    };
    let (mean, samples) = if values.len() == 1 && batches.len() > 1 {
        let spread = Mean::of(&batches);
        let mean = Mean {
            mean: values[0],
            ..spread
        };
        (mean, batches)
    } else {
        (Mean::of(&values), values)
    };
    Some(Measure {
        metric,
        mean,
        samples,
    })
}

/// Seconds in the month prices are quoted for (30 days).
const MONTH_S: f64 = 30.0 * 86_400.0;

/// `metric` of one run; None when the run does not have it.
pub fn value(exp: &Experiment, r: &RunResult, metric: Metric) -> Option<f64> {
    let has_caches = !exp.caches.is_empty();
    let cache = r.run.cache.is_some();
    let service = r.service.as_ref();
    let limits = r.limits.as_ref();
    let ms = |ns: u64| ns as f64 / 1e6;
    match metric {
        // No cache serves nothing: 0, so "before" compares with "after".
        Metric::HitRatio => has_caches.then(|| if cache { r.stats.hit_ratio() } else { 0.0 }),
        Metric::ByteHitRatio => {
            has_caches.then(|| if cache { r.stats.byte_hit_ratio() } else { 0.0 })
        }
        Metric::P50 => service.map(|s| ms(s.latency.p50)),
        Metric::P95 => service.map(|s| ms(s.latency.p95)),
        Metric::P99 => service.map(|s| ms(s.latency.p99)),
        Metric::Throughput => service.map(|s| s.throughput_rps),
        Metric::ErrorRatio => service.map(|s| s.counts.error_ratio()),
        Metric::OriginRequests => match service {
            Some(s) => Some(s.origin_requests as f64),
            None => cache.then(|| r.stats.misses() as f64),
        },
        Metric::OriginBytes => (cache && service.is_none_or(|s| s.coalesced == 0))
            .then(|| r.stats.byte_misses() as f64),
        // No limiter denies nobody.
        Metric::LegitDenied => match limits {
            Some(l) => Some(l.legit_denied_ratio()),
            None => (!exp.limiters.is_empty()).then_some(0.0),
        },
        Metric::AbusiveAllowed => limits
            .filter(|l| l.abusive > 0)
            .map(|l| l.abusive_allowed_ratio()),
        Metric::StateBytes => limits.map(|l| l.peak_state_bytes as f64),
        Metric::Cost => cost(exp, r),
    }
}

/// Money per month at the run's request rate, when `[cost]` is given and
/// everything it prices was measured.
fn cost(exp: &Experiment, r: &RunResult) -> Option<f64> {
    let prices = exp.cost.as_ref()?;
    if r.span == 0 {
        return None;
    }
    let per_month = MONTH_S / (r.span as f64 / 1e9);
    let origin_requests = value(exp, r, Metric::OriginRequests).unwrap_or(offered(r) as f64);
    let egress = match value(exp, r, Metric::OriginBytes) {
        Some(bytes) => bytes * per_month / 1e9 * prices.egress_per_gb,
        None if prices.egress_per_gb == 0.0 => 0.0,
        None => return None,
    };
    let cache = if r.run.cache.is_some() {
        capacity_bytes(r) / 1e9 * prices.cache_gb_month
    } else {
        0.0
    };
    Some(
        egress
            + origin_requests * per_month / 1e6 * prices.origin_per_million
            + offered(r) as f64 * per_month / 1e6 * prices.edge_per_million
            + cache,
    )
}

/// Names of the values that differ between `candidates`, in first-seen order.
pub fn varying(candidates: &[Candidate]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in candidates {
        for (n, _) in &c.values {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names.retain(|n| {
        candidates
            .iter()
            .any(|c| c.value(n) != candidates[0].value(n))
    });
    names
}

/// The values of `c` that `shows` lets through, in words: the cache ("lru
/// 5%", "no cache"), the limiter ("no limiter"), then the rest ("ttl=60s",
/// the load level by its label). Split into choices and environment.
pub fn describe(c: &Candidate, shows: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
    let mut choice: Vec<String> = Vec::new();
    let mut environment: Vec<String> = Vec::new();
    if shows("policy") || shows("capacity") {
        choice.push(match (c.value("policy"), c.value("capacity")) {
            (Some("none") | None, _) => "no cache".into(),
            (Some(p), Some(cap)) if shows("capacity") => format!("{p} {cap}"),
            (Some(p), _) => p.to_string(),
        });
    }
    if shows("limiter") {
        choice.push(match c.value("limiter") {
            Some("none") | None => "no limiter".into(),
            Some(l) => l.to_string(),
        });
    }
    for (name, v) in &c.values {
        match name.as_str() {
            "policy" | "capacity" | "limiter" | "algorithm" => {}
            _ if !shows(name) => {}
            "load" => environment.push(v.clone()),
            _ => {
                let text = format!("{}={v}", name.rsplit('.').next().unwrap_or(name));
                if c.environment.iter().any(|(n, _)| n == name) {
                    environment.push(text);
                } else {
                    choice.push(text);
                }
            }
        }
    }
    (choice, environment)
}

/// Whether a table of `varying` values shows `name`: not the limiter's
/// swept values when its label varies, nor the load's when its label does
/// (the labels already say them).
pub fn shown(varying: &[String], name: &str) -> bool {
    let varies = |n: &str| varying.iter().any(|v| v == n);
    varies(name)
        && !(varies("limiter") && (name == "algorithm" || name.starts_with("limiter.")))
        && !(varies("load") && name.starts_with("load."))
}

/// Names each candidate by the values that vary between them: its label
/// by the choices, its environment label by the rest.
fn label(candidates: &mut [Candidate]) {
    let varying = varying(candidates);
    for c in candidates.iter_mut() {
        let (choice, environment) = describe(c, |n| shown(&varying, n));
        c.label = if choice.is_empty() {
            "the configuration".into()
        } else {
            choice.join(" · ")
        };
        c.environment_label = environment.join(" · ");
    }
}
