//! Runs an experiment's runs in parallel. Workloads are generated once per
//! (variant, replication) and shared read-only by every cache that replays
//! them; results come back in run order whatever the thread count.

mod progress;

use std::sync::Arc;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::cache::{self, DynReplay, Replay};
use crate::experiment::{Experiment, Run, WorkloadSpec};
use crate::metrics::{CacheStats, LimitStats};
use crate::workload::{Request, WorkingSet, annotate_next_access, synthetic, trace};
use crate::{limiter, service};

pub use progress::Progress;

/// One replayed workload, shared by the runs that use it.
pub struct Instance {
    pub requests: Vec<Request>,
    pub working_set: WorkingSet,
    /// Which trace gave the requests, when one did and it had no client
    /// field (so limiting by client would silently limit globally).
    pub clientless_trace: Option<std::path::PathBuf>,
}

/// What one run measured.
#[derive(Debug, Clone)]
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
    /// Limiter outcomes, when the run has a limiter.
    pub limits: Option<LimitStats>,
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
    let keys: Vec<(usize, u64)> = (0..exp.workloads.len())
        .flat_map(|w| (0..reps).map(move |r| (w, r)))
        .collect();
    // Offline policies (Belady) read next-access positions: annotate once per
    // workload, before it is shared.
    let next_access = exp.caches.iter().any(|c| c.spec.policy.needs_next_access());
    let progress = Progress::new("generating workloads", keys.len() as u64);
    let instances: Vec<Arc<Instance>> = keys
        .par_iter()
        .map(|&(w, r)| {
            let instance = generate(&exp.workloads[w].spec, exp.workload_seed(w, r), next_access);
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
            let instance = &instances[run.workload * reps as usize + run.replication as usize];
            let result = replay(exp, run, instance);
            progress.inc();
            result
        })
        .collect::<Result<Vec<_>>>()?;
    progress.finish();
    Ok(results)
}

/// The requests of one workload variant under `seed` (a trace ignores it),
/// with next-access positions when an offline policy needs them.
pub fn generate(spec: &WorkloadSpec, seed: u64, next_access: bool) -> Result<Instance> {
    let (mut requests, clientless_trace) = match spec {
        WorkloadSpec::Synthetic(s) => (
            synthetic::generate(s, seed).map_err(anyhow::Error::msg)?,
            None,
        ),
        WorkloadSpec::Trace(t) => {
            let trace = trace::read(&t.path, &t.options)?;
            if trace.skipped.lines > 0 {
                eprintln!("{}: {}", t.path.display(), trace.skipped);
            }
            let clientless =
                (trace.clients.is_empty() && !trace.requests.is_empty()).then(|| t.path.clone());
            (trace.requests, clientless)
        }
    };
    if next_access {
        annotate_next_access(&mut requests);
    }
    let working_set = WorkingSet::of(&requests);
    Ok(Instance {
        requests,
        working_set,
        clientless_trace,
    })
}

fn replay(exp: &Experiment, run: &Run, instance: &Instance) -> Result<RunResult> {
    let seed = exp.run_seed(run);
    let context = || {
        let cache = run.cache.map(|c| exp.caches[c].identity.as_str());
        let limiter = run.limiter.map(|l| exp.limiters[l].identity.as_str());
        let parts: Vec<&str> = cache.into_iter().chain(limiter).collect();
        format!("run {} ({})", run.index, parts.join(", "))
    };
    let mut cache = None;
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
    let limits = match (run.limiter, &mut cache) {
        (None, Some(cache)) if exp.service.is_none() => {
            cache.replay_dyn(&instance.requests, &mut state);
            None
        }
        (limiter, cache) => {
            let spec = limiter.map(|l| &exp.limiters[l].spec);
            if let (Some(spec), Some(path)) = (spec, &instance.clientless_trace)
                && spec.key != limiter::KeyBy::Global
            {
                anyhow::bail!(
                    "{}: limiter key \"{}\" needs a client field, but the trace has none: set client_column in [workload], or key = \"global\"",
                    path.display(),
                    spec.key
                );
            }
            let mut limiter = spec
                .map(limiter::build)
                .transpose()
                .map_err(anyhow::Error::msg)
                .with_context(context)?;
            let stage = cache
                .as_mut()
                .map(|c| (&mut **c as &mut dyn DynReplay, &mut state));
            let requests = &instance.requests;
            let outcome = service::simulate(
                requests,
                limiter.as_mut(),
                stage,
                exp.service.as_ref(),
                seed,
            )
            .map_err(anyhow::Error::msg)
            .with_context(context)?;
            spec.map(|spec| {
                let admitted: Vec<bool> = outcome
                    .fates
                    .iter()
                    .map(|f| f.decision.admitted())
                    .collect();
                let accuracy = limiter::measure_accuracy(spec, requests, &admitted)
                    .map_err(anyhow::Error::msg)?;
                Ok::<_, anyhow::Error>(LimitStats::of(requests, &outcome, accuracy))
            })
            .transpose()?
        }
    };
    Ok(RunResult {
        run: run.clone(),
        seed,
        capacity,
        count_objects,
        working_set: instance.working_set,
        stats: state.stats,
        limits,
    })
}
