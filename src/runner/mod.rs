//! Runs an experiment's runs in parallel. Workloads are generated once per
//! (variant, load level, replication) and shared read-only by every cache
//! and limiter that replays them; results come back in run order whatever
//! the thread count.

mod progress;

use std::sync::Arc;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cache::{self, BoxedCache, DynReplay, Replay};
use crate::engine::{SimTime, stream};
use crate::experiment::{Experiment, Run, WorkloadSpec};
use crate::limiter;
use crate::metrics::service::ServiceStats;
use crate::metrics::{CacheStats, LimitStats};
use crate::service::{self, Load, Route, Source, Stages};
use crate::workload::arrivals::Arrivals;
use crate::workload::{Request, WorkingSet, annotate_next_access, synthetic, trace};

pub use progress::Progress;

/// One replayed workload, shared by the runs that use it.
pub struct Instance {
    /// Open loop: the requests at their send times. Closed loop: the order
    /// connections take them in (their times are ignored); empty when a
    /// synthetic workload without a request count is drawn as it goes.
    pub requests: Vec<Request>,
    pub working_set: WorkingSet,
    /// Which trace gave the requests, when one did and it had no client
    /// field (so limiting by client would silently limit globally).
    pub clientless_trace: Option<std::path::PathBuf>,
    /// The workload's routes (empty: one route).
    pub routes: Vec<Route>,
    /// The real cache's hits, when the trace records its cache status.
    pub observed: Option<trace::Observed>,
}

/// Slices a cache-only replay is cut into for batch means: enough for a
/// Student-t interval, few enough that each slice holds thousands of
/// requests on any trace worth deciding on.
pub const BATCHES: usize = 10;

/// What one run measured: everything the reports read, saved as it is in
/// runs.json so that `edgesim report` can render them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub run: Run,
    pub seed: u64,
    /// Resolved capacity, in objects when `count_objects`, else bytes (0
    /// without a cache).
    pub capacity: u64,
    pub count_objects: bool,
    pub working_set: WorkingSet,
    /// Cache outcomes (all zero when the run has no cache).
    pub stats: CacheStats,
    /// Entries the cache evicted.
    pub evictions: u64,
    /// [`BATCHES`] consecutive slices of `stats`, for a confidence interval
    /// within one replication (batch means); empty when the run went
    /// through the service pipeline.
    pub batches: Vec<CacheStats>,
    /// Simulated time from the first request to the last answer (or the
    /// last request, without a service), for rates per month.
    pub span: SimTime,
    /// Limiter outcomes, when the run has a limiter.
    pub limits: Option<LimitStats>,
    /// Latency, errors and load, when the experiment models a service.
    pub service: Option<ServiceStats>,
    /// The real cache's hits on the whole trace (not only the part a load
    /// replays), when the trace records its cache status.
    pub observed: Option<trace::Observed>,
}

/// Executes every run of `exp` on `threads` threads (all cores when None).
pub fn run(exp: &Experiment, threads: Option<usize>) -> Result<Vec<RunResult>> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    let pool = pool.build().context("cannot start the worker threads")?;
    pool.install(|| run_all(exp))
}

fn run_all(exp: &Experiment) -> Result<Vec<RunResult>> {
    let reps = exp.meta.replications;
    let keys: Vec<(usize, usize, u64)> = (0..exp.workloads.len())
        .flat_map(|w| (0..exp.loads.len()).flat_map(move |l| (0..reps).map(move |r| (w, l, r))))
        .collect();
    // Offline policies (Belady) read next-access positions: annotate once per
    // workload, before it is shared.
    let next_access = exp.caches.iter().any(|c| c.spec.policy.needs_next_access());
    let progress = Progress::new("generating workloads", keys.len() as u64);
    let instances: Vec<Arc<Instance>> = keys
        .par_iter()
        .map(|&(w, l, r)| {
            let instance = generate(
                &exp.workloads[w].spec,
                &exp.loads[l].spec.load,
                exp.workload_seed(w, r),
                next_access,
            );
            progress.inc();
            instance.map(Arc::new)
        })
        .collect::<Result<_>>()?;
    progress.finish();

    let runs = exp.runs();
    let progress = Progress::new("simulating", runs.len() as u64);
    let results = runs
        .par_iter()
        .map(|run| {
            let at = (run.workload * exp.loads.len() + run.load) * reps as usize
                + run.replication as usize;
            let result = replay(exp, run, &instances[at]);
            progress.inc();
            result
        })
        .collect::<Result<Vec<_>>>()?;
    progress.finish();
    Ok(results)
}

/// The requests of one workload variant under `seed` (a trace ignores it)
/// as `load` sends them, with next-access positions when an offline policy
/// needs them.
pub fn generate(
    spec: &WorkloadSpec,
    load: &Load,
    seed: u64,
    next_access: bool,
) -> Result<Instance> {
    let arrivals = |phases: &Vec<_>| Arrivals::new(phases.clone(), stream(seed, "load-arrivals"));
    let (mut requests, clientless_trace, routes, observed) = match spec {
        WorkloadSpec::Synthetic(s) => {
            let requests = match load {
                Load::Own { speedup, duration } => {
                    let end = duration.map(|d| (d as f64 * speedup).round() as SimTime);
                    let mut requests = synthetic::generate(s, seed, None, end);
                    if let Ok(r) = requests.as_mut() {
                        speed_up(r, *speedup);
                    }
                    requests
                }
                Load::Open { phases } => {
                    synthetic::generate(s, seed, Some(&mut arrivals(phases)), load.end())
                }
                Load::Closed { .. } => match s.requests {
                    Some(n) => {
                        synthetic::Requests::new(s, seed).map(|r| r.take(n as usize).collect())
                    }
                    None => Ok(Vec::new()),
                },
            };
            (
                requests.map_err(anyhow::Error::msg)?,
                None,
                s.service_routes(),
                None,
            )
        }
        WorkloadSpec::Trace(t) => {
            let trace = trace::read(&t.path, &t.options)?;
            if trace.skipped.lines > 0 {
                eprintln!("{}: {}", t.path.display(), trace.skipped);
            }
            let clientless =
                (trace.clients.is_empty() && !trace.requests.is_empty()).then(|| t.path.clone());
            let mut requests = trace.requests;
            match load {
                Load::Own { speedup, duration } => {
                    let first = requests.iter().map(|r| r.time).min().unwrap_or(0);
                    if let Some(d) = duration {
                        let end = first.saturating_add((*d as f64 * speedup).round() as SimTime);
                        requests.retain(|r| r.time < end);
                    }
                    speed_up(&mut requests, *speedup);
                }
                Load::Open { phases } => {
                    let times: Vec<SimTime> = arrivals(phases).take(requests.len()).collect();
                    requests.truncate(times.len());
                    for (r, t) in requests.iter_mut().zip(times) {
                        r.time = t;
                    }
                }
                Load::Closed { .. } => {}
            }
            // A trace's routes are named by its route column; they share
            // the service's time and are all cacheable.
            let routes = trace
                .routes
                .into_iter()
                .map(|name| Route {
                    name,
                    cacheable: true,
                    service_time: None,
                })
                .collect();
            (requests, clientless, routes, trace.observed)
        }
    };
    if next_access {
        annotate_next_access(&mut requests);
    }
    let working_set = match spec {
        WorkloadSpec::Synthetic(s) if requests.is_empty() => {
            synthetic::key_space(s, seed).map_err(anyhow::Error::msg)?
        }
        _ => WorkingSet::of(&requests),
    };
    Ok(Instance {
        requests,
        working_set,
        clientless_trace,
        routes,
        observed,
    })
}

/// Divides the time since the first request by `speedup`.
fn speed_up(requests: &mut [Request], speedup: f64) {
    if speedup == 1.0 {
        return;
    }
    let first = requests.iter().map(|r| r.time).min().unwrap_or(0);
    for r in requests {
        r.time = first + ((r.time - first) as f64 / speedup).round() as SimTime;
    }
}

fn replay(exp: &Experiment, run: &Run, instance: &Instance) -> Result<RunResult> {
    let seed = exp.run_seed(run);
    let context = || {
        let cache = run.cache.map(|c| exp.caches[c].identity.as_str());
        let limiter = run.limiter.map(|l| exp.limiters[l].identity.as_str());
        let parts: Vec<&str> = cache.into_iter().chain(limiter).collect();
        format!("run {} ({})", run.index, parts.join(", "))
    };
    let mut cache: Option<BoxedCache> = None;
    let (mut capacity, mut count_objects) = (0, false);
    if let Some(c) = run.cache {
        let spec = &exp.caches[c].spec;
        (capacity, count_objects) = spec
            .capacity
            .resolve(instance.working_set, spec.ignore_size)
            .map_err(anyhow::Error::msg)?;
        cache = Some(
            cache::build(&spec.policy, capacity, count_objects, seed)
                .map_err(anyhow::Error::msg)
                .with_context(context)?,
        );
    }
    let mut state = Replay::new(count_objects);
    let load = &exp.loads[run.load].spec.load;
    if let (Some(l), Some(path)) = (run.limiter, &instance.clientless_trace)
        && exp.limiters[l].spec.key != limiter::KeyBy::Global
        && !matches!(load, Load::Closed { .. })
    {
        anyhow::bail!(
            "{}: limiter key \"{}\" needs a client field, but the trace has none: set client_column in [workload], or key = \"global\"",
            path.display(),
            exp.limiters[l].spec.key
        );
    }
    let cache_only = run.service.is_none() && run.limiter.is_none();
    let mut batches = Vec::new();
    let (limits, service) = match cache.as_deref_mut() {
        // The hot path: no event queue, the policy's own replay loop, in
        // slices so that one replication still gives batch means.
        Some(cache) if cache_only && !matches!(load, Load::Closed { .. }) => {
            let n = instance.requests.len();
            for b in 0..BATCHES {
                let before = state.stats;
                cache.replay_dyn(
                    &instance.requests[b * n / BATCHES..(b + 1) * n / BATCHES],
                    &mut state,
                );
                batches.push(state.stats.since(&before));
            }
            (None, None)
        }
        cache => simulate(exp, run, instance, cache, &mut state).with_context(context)?,
    };
    let span = match &service {
        Some(s) => s.span,
        None => {
            let times = instance.requests.iter().map(|r| r.time);
            times.clone().max().unwrap_or(0) - times.min().unwrap_or(0)
        }
    };
    Ok(RunResult {
        run: run.clone(),
        seed,
        capacity,
        count_objects,
        working_set: instance.working_set,
        stats: state.stats,
        evictions: state.evictions(cache.as_ref().map_or(0, |c| c.len())),
        batches,
        span,
        limits,
        service,
        observed: instance.observed,
    })
}

/// A run through the whole pipeline: its limiter and service metrics.
fn simulate(
    exp: &Experiment,
    run: &Run,
    instance: &Instance,
    cache: Option<&mut (dyn DynReplay + 'static)>,
    state: &mut Replay,
) -> Result<(Option<LimitStats>, Option<ServiceStats>)> {
    let spec = run.limiter.map(|l| &exp.limiters[l].spec);
    let mut limiter = spec
        .map(limiter::build)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let stages = Stages {
        limiter: limiter.as_mut(),
        cache: cache.map(|c| (c, state)),
        service: exp.service(run),
        routes: &instance.routes,
        window: exp.report.window(),
    };
    let seed = exp.service_seed(run);
    let outcome = match &exp.loads[run.load].spec.load {
        Load::Closed { phases, think } => {
            let mut lazy;
            let mut listed;
            let requests: &mut dyn Iterator<Item = Request> =
                match &exp.workloads[run.workload].spec {
                    WorkloadSpec::Synthetic(s) if instance.requests.is_empty() => {
                        let workload_seed = exp.workload_seed(run.workload, run.replication);
                        lazy = synthetic::Requests::new(s, workload_seed)
                            .map_err(anyhow::Error::msg)?;
                        &mut lazy
                    }
                    _ => {
                        listed = instance.requests.iter().copied();
                        &mut listed
                    }
                };
            let source = Source::Closed {
                requests,
                phases,
                think: *think,
            };
            service::simulate(source, stages, seed)
        }
        _ => service::simulate_in_time_order(&instance.requests, stages, seed),
    }
    .map_err(anyhow::Error::msg)?;
    let requests = outcome.requests(&instance.requests);
    let limits = spec
        .map(|spec| {
            let admitted: Vec<bool> = outcome.decisions.iter().map(|d| d.admitted()).collect();
            let accuracy = service::in_time_order(requests, &admitted, |r, a| {
                limiter::measure_accuracy(spec, r, a)
            })
            .map_err(anyhow::Error::msg)?;
            Ok::<_, anyhow::Error>(LimitStats::of(requests, &outcome, accuracy))
        })
        .transpose()?;
    let service = run.service.map(|_| {
        let routes: Vec<u8> = requests.iter().map(|r| r.route).collect();
        let names: Vec<String> = instance.routes.iter().map(|r| r.name.clone()).collect();
        ServiceStats::of(
            &outcome.fates,
            &routes,
            &names,
            &outcome.looped,
            exp.report.window(),
        )
    });
    Ok((limits, service))
}
