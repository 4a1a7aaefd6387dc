//! Runs an experiment's runs in parallel. Workloads are generated once per
//! (variant, load level, replication) when their first run starts, shared
//! read-only by every cache and limiter that replays them, and dropped when
//! their last run ends; a trace that caches alone replay at its own times
//! is streamed through all of them instead ([`streamed`]). Results come back
//! in run order whatever the thread count.

pub mod budget;
mod plan;
mod stop;
mod streamed;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cache::mrc::{self, Sliced};
use crate::cache::{self, BoxedCache, Replay};
use crate::engine::{SimTime, derive_seed, stream};
use crate::experiment::{CacheSpec, Experiment, Run, WorkloadSpec};
use crate::limiter;
use crate::metrics::service::ServiceStats;
use crate::metrics::topology::TopologyStats;
use crate::metrics::{CacheStats, LimitStats};
use crate::progress::Progress;
use crate::service::{self, CacheStage, Load, Route, Source, Stages};
use crate::topology::Layout;
use crate::workload::arrivals::Arrivals;
use crate::workload::{Request, WorkingSet, annotate_next_access, synthetic, trace};

use plan::Plan;
pub use plan::Shard;
pub use stop::{Interrupted, Stop};

/// One replayed workload, shared by the runs that use it.
pub struct WorkloadInstance {
    /// Open loop: the requests at their send times. Closed loop: the order
    /// connections take them in (their times are ignored); empty when a
    /// synthetic workload without a request count is drawn as it goes.
    pub requests: Vec<Request>,
    pub working_set: WorkingSet,
    /// Which trace gave the requests, when one did and it had no client
    /// field (so limiting by client would silently limit globally).
    pub clientless_trace: Option<PathBuf>,
    /// The workload's routes (empty: one route).
    pub routes: Vec<Route>,
    /// The real cache's hits, when the trace records its cache status.
    pub observed: Option<trace::Observed>,
    /// The bad lines the trace had, when it skipped some.
    pub skipped: Option<SkippedLines>,
    /// LRU at every size of the experiment from one pass, in objects and
    /// in bytes, made by the first run that asks (`one_pass_lru`).
    one_pass: [OnceLock<OnePass>; 2],
}

/// The sizes of a one-pass LRU curve and LRU's counts at each.
type OnePass = (Vec<u64>, Vec<Option<Sliced>>);

impl WorkloadInstance {
    /// LRU at `capacity` from the instance's one pass over every size the
    /// experiment gives plain LRU; None where one pass is not exact.
    fn one_pass_lru(&self, exp: &Experiment, capacity: u64, count_objects: bool) -> Option<Sliced> {
        let (grid, counts) = self.one_pass[count_objects as usize].get_or_init(|| {
            let grid = lru_grid(exp, self.working_set, count_objects);
            let counts = mrc::sliced(&self.requests, &grid, count_objects, BATCHES);
            (grid, counts)
        });
        counts[grid.binary_search(&capacity).ok()?].clone()
    }
}

/// The sizes `exp` gives plain LRU in objects (`count_objects`) or in
/// bytes, against `working_set`: ascending, without repeats.
fn lru_grid(exp: &Experiment, working_set: WorkingSet, count_objects: bool) -> Vec<u64> {
    let mut grid: Vec<u64> = exp
        .caches
        .iter()
        .filter(|c| is_plain_lru(&c.spec))
        .filter_map(|c| {
            c.spec
                .capacity
                .resolve(working_set, c.spec.ignore_size)
                .ok()
        })
        .filter(|&(_, objects)| objects == count_objects)
        .map(|(size, _)| size)
        .collect();
    grid.sort_unstable();
    grid.dedup();
    grid
}

/// The replay LRU's one pass stands for: every miss inserted (one pass is
/// exact only where every object fits), nothing expired.
fn one_pass_replay(sliced: &Sliced, count_objects: bool) -> Replay {
    let mut state = Replay::new(count_objects);
    for slice in &sliced.slices {
        state.stats.add(slice);
    }
    state.inserted = state.stats.misses();
    state
}

/// Whether `spec` is LRU without parameters, which one pass reproduces.
fn is_plain_lru(spec: &CacheSpec) -> bool {
    spec.policy.to_string() == "lru"
}

/// The bad lines a trace read with `on_error = "skip"` left out: the
/// library does not print, so the command tells them.
#[derive(Debug, Clone)]
pub struct SkippedLines {
    pub trace: PathBuf,
    pub skipped: trace::Skipped,
}

impl fmt::Display for SkippedLines {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.trace.display(), self.skipped)
    }
}

/// Slices a cache-only replay is cut into for batch means: enough for a
/// Student-t interval, few enough that each slice holds thousands of
/// requests on any trace worth deciding on.
pub const BATCHES: usize = 10;

/// Where slice `slice` of the batch means ends in `total` requests.
fn slice_end(slice: usize, total: u64) -> u64 {
    (slice as u64 + 1) * total / BATCHES as u64
}

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
    /// Per location and tier, when the experiment has a `[topology]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologyStats>,
}

/// Executes every run of `exp` on `threads` threads (all cores when None).
pub fn run(exp: &Experiment, threads: Option<usize>) -> Result<Vec<RunResult>> {
    Ok(
        run_resuming(exp, threads, Shard::WHOLE, Vec::new(), Stop::never())
            .outcome?
            .results,
    )
}

/// What [`run_resuming`] got done.
pub struct Outcome {
    /// The runs completed (those given back plus the new ones), in run order.
    pub results: Vec<RunResult>,
    /// The signal that stopped the runs before all were done.
    pub stopped: Option<i32>,
}

/// What [`run_resuming`] gives back: the outcome, or the first failure in
/// run order, and beside it the bad lines of the traces read by then,
/// which are worth telling either way.
pub struct Finished {
    pub outcome: Result<Outcome>,
    /// One per workload instance whose trace skipped lines, in instance
    /// order.
    pub skipped: Vec<SkippedLines>,
}

/// Executes the runs of `exp` in `shard` that `done` does not hold (results
/// of an earlier, interrupted run of the same experiment and shard, checked
/// by the caller), until they are all done or `stop` says so.
///
/// Each workload instance (variant, load level, replication) is generated
/// when its first run starts and dropped when its last run ends, so that
/// memory is bounded by the threads, not by the sweep: see [`Schedule`].
/// Results do not depend on the thread count or the order runs finish in:
/// each run has its own seeds and its slot in the run order.
pub fn run_resuming(
    exp: &Experiment,
    threads: Option<usize>,
    shard: Shard,
    done: Vec<RunResult>,
    stop: Stop,
) -> Finished {
    let mut skipped = Vec::new();
    let outcome = execute(exp, threads, shard, done, stop, &mut skipped);
    Finished { outcome, skipped }
}

/// The work of [`run_resuming`], which gets the traces' bad lines in
/// `skipped` whether the runs fail or not.
fn execute(
    exp: &Experiment,
    threads: Option<usize>,
    shard: Shard,
    done: Vec<RunResult>,
    stop: Stop,
    skipped: &mut Vec<SkippedLines>,
) -> Result<Outcome> {
    let plan = Plan::of(exp);
    let mut results: Vec<Option<RunResult>> = (0..plan.runs()).map(|_| None).collect();
    for result in done {
        let index = result.run.index;
        results[index] = Some(result);
    }
    let todo = (0..plan.runs())
        .filter(|&index| shard.contains(index) && results[index as usize].is_none())
        .count();
    let workers = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, todo.max(1));
    // Generating a trace instance decodes in parallel: on a pool of its own
    // size, so that `threads` bounds the cores used.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .context("cannot start the worker threads")?;
    let work = Work {
        exp,
        plan,
        shard,
        stop,
        schedule: Mutex::new(Schedule::default()),
        changed: Condvar::new(),
        results: Mutex::new(results),
        pool,
        progress: Progress::new("simulating", todo as u64),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work.worker());
        }
    });
    work.progress.finish();
    let schedule = work.schedule.into_inner().expect("no worker panicked");
    *skipped = schedule.skipped.into_values().collect();
    if let Some((_, error)) = schedule.failed {
        return Err(error);
    }
    let results = work.results.into_inner().expect("no worker panicked");
    let complete =
        (0..plan.runs()).all(|index| !shard.contains(index) || results[index as usize].is_some());
    Ok(Outcome {
        results: results.into_iter().flatten().collect(),
        stopped: if complete { None } else { stop.signal() },
    })
}

/// Which runs are handed out next. A worker takes, in this order: the next
/// run of the instance it generated; a new instance to generate; a run of
/// another worker's instance. So every live instance is in some worker's
/// hands (at most one instance per thread), and the threads stay busy
/// whether the sweep has many instances with few runs or one with many.
#[derive(Default)]
struct Schedule {
    /// The next instance to generate, in instance order.
    next_instance: u64,
    /// Instances being generated.
    generating: usize,
    /// Generated instances with runs not yet handed out: the next one
    /// (`k`, in the instance's run order) and the instance.
    open: BTreeMap<u64, (u64, Arc<WorkloadInstance>)>,
    /// The first failure in run order, which stops every worker.
    failed: Option<(u64, anyhow::Error)>,
    /// The bad lines of the instances' traces, by instance.
    skipped: BTreeMap<u64, SkippedLines>,
}

/// A worker's next task.
enum Task {
    Generate(u64),
    Replay(u64, Arc<WorkloadInstance>),
    /// Every run left of an instance, its trace streamed (see [`streamed`]).
    Stream(u64),
}

/// What the worker threads share.
struct Work<'a> {
    exp: &'a Experiment,
    plan: Plan,
    /// The runs to do; the others count as done.
    shard: Shard,
    stop: Stop,
    schedule: Mutex<Schedule>,
    /// Signalled when an instance is ready or a worker failed.
    changed: Condvar,
    results: Mutex<Vec<Option<RunResult>>>,
    pool: rayon::ThreadPool,
    progress: Progress,
}

impl Work<'_> {
    /// Runs tasks until none is left, one failed, or a stop is requested.
    fn worker(&self) {
        let mut own = None;
        while let Some(task) = self.next_task(&mut own) {
            let (index, result) = match task {
                Task::Generate(slot) => {
                    let generated = self.generate(slot);
                    let mut schedule = self.schedule.lock().expect("lock");
                    schedule.generating -= 1;
                    match generated {
                        Ok(mut instance) => {
                            if let Some(skipped) = instance.skipped.take() {
                                schedule.skipped.insert(slot, skipped);
                            }
                            schedule.open.insert(slot, (0, Arc::new(instance)));
                            own = Some(slot);
                        }
                        Err(e) => fail(&mut schedule, self.plan.run_of_instance(slot, 0), e),
                    }
                    self.changed.notify_all();
                    continue;
                }
                Task::Replay(index, instance) => {
                    let run = self.exp.run(index);
                    (index, replay(self.exp, &run, &instance, self.stop))
                }
                Task::Stream(slot) => {
                    if !self.stream(slot) {
                        return;
                    }
                    continue;
                }
            };
            match result {
                Ok(Some(result)) => {
                    self.results.lock().expect("lock")[index as usize] = Some(result);
                    self.progress.inc();
                }
                Ok(None) => return,
                Err(e) => {
                    fail(&mut self.schedule.lock().expect("lock"), index, e);
                    self.changed.notify_all();
                    return;
                }
            }
        }
    }

    /// Streams instance `slot`'s trace through its runs left to do; false
    /// when they failed or a stop ended them.
    fn stream(&self, slot: u64) -> bool {
        let per = self.plan.runs_per_instance();
        let indices: Vec<u64> = (0..per)
            .map(|k| self.plan.run_of_instance(slot, k))
            .filter(|&index| !self.is_done(index))
            .collect();
        let streamed =
            streamed::replay(self.exp, &self.plan, slot, &indices, &self.pool, self.stop);
        match streamed {
            Ok(Some(streamed)) => {
                let mut results = self.results.lock().expect("lock");
                for result in streamed.results {
                    let index = result.run.index;
                    results[index] = Some(result);
                    self.progress.inc();
                }
                if let Some(skipped) = streamed.skipped {
                    self.schedule
                        .lock()
                        .expect("lock")
                        .skipped
                        .insert(slot, skipped);
                }
                true
            }
            Ok(None) => false,
            Err((index, e)) => {
                fail(&mut self.schedule.lock().expect("lock"), index, e);
                self.changed.notify_all();
                false
            }
        }
    }

    /// Whether run `index` is done, or another shard's.
    fn is_done(&self, index: u64) -> bool {
        !self.shard.contains(index) || self.results.lock().expect("lock")[index as usize].is_some()
    }

    /// The next task for a worker whose instance is `own`; None when
    /// there is nothing left to do (or a stop or a failure says so).
    fn next_task(&self, own: &mut Option<u64>) -> Option<Task> {
        let is_done = |index: u64| self.is_done(index);
        let per = self.plan.runs_per_instance();
        let mut schedule = self.schedule.lock().expect("lock");
        loop {
            if self.stop.requested() || schedule.failed.is_some() {
                return None;
            }
            let mine = own.filter(|s| schedule.open.contains_key(s));
            let helping = schedule.open.keys().next().copied();
            if let Some(slot) = mine.or_else(|| {
                // A new instance before helping: more work in parallel.
                if schedule.next_instance < self.plan.instances() {
                    None
                } else {
                    helping
                }
            }) {
                let (k, instance) = schedule.open.get_mut(&slot).expect("open");
                let index = self.plan.run_of_instance(slot, *k);
                *k += 1;
                let instance = instance.clone();
                if *k == per {
                    schedule.open.remove(&slot);
                }
                if is_done(index) {
                    continue;
                }
                return Some(Task::Replay(index, instance));
            }
            if schedule.next_instance < self.plan.instances() {
                let slot = schedule.next_instance;
                schedule.next_instance += 1;
                // Instances whose runs an earlier run completed, or other
                // shards hold, are skipped.
                if (0..per).all(|k| is_done(self.plan.run_of_instance(slot, k))) {
                    continue;
                }
                if streamed::applies(self.exp, &self.plan, slot) {
                    return Some(Task::Stream(slot));
                }
                schedule.generating += 1;
                return Some(Task::Generate(slot));
            }
            if schedule.generating == 0 {
                return None;
            }
            // Wait for an instance; wake now and then to see a stop.
            schedule = self
                .changed
                .wait_timeout(schedule, Duration::from_millis(100))
                .expect("lock")
                .0;
        }
    }

    /// Generates instance `slot`.
    fn generate(&self, slot: u64) -> Result<WorkloadInstance> {
        let exp = self.exp;
        let (w, l, r) = self.plan.instance(slot);
        // Offline policies (Belady) read next-access positions: annotated
        // once, before the instance is shared.
        let next_access = exp.caches.iter().any(|c| c.spec.policy.needs_next_access());
        self.pool.install(|| {
            generate(
                &exp.workloads[w].spec,
                &exp.loads[l].spec.load,
                exp.workload_seed(w, r),
                next_access,
            )
        })
    }
}

/// Records a failure of run `index`, keeping the first in run order so that
/// the error reported does not depend on the threads.
fn fail(schedule: &mut Schedule, index: u64, error: anyhow::Error) {
    if schedule.failed.as_ref().is_none_or(|(at, _)| index < *at) {
        schedule.failed = Some((index, error));
    }
}

/// The requests of one workload variant under `seed` (a trace ignores it)
/// as `load` sends them, with next-access positions when an offline policy
/// needs them: a trace's own (from the file when it carries them, as a
/// streamed replay takes them) unless the load cut requests out.
pub fn generate(
    spec: &WorkloadSpec,
    load: &Load,
    seed: u64,
    next_access: bool,
) -> Result<WorkloadInstance> {
    let arrivals = |phases: &Vec<_>| Arrivals::new(phases.clone(), stream(seed, "load-arrivals"));
    // Whether next accesses are to be computed here.
    let mut annotate = next_access;
    let (mut requests, clientless_trace, routes, observed, skipped) = match spec {
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
            (requests?, None, s.service_routes(), None, None)
        }
        WorkloadSpec::Trace(t) => {
            let trace = trace::read(&t.path, &t.options)?;
            let skipped = (trace.skipped.lines > 0).then(|| SkippedLines {
                trace: t.path.clone(),
                skipped: trace.skipped,
            });
            let clientless =
                (trace.clients.is_empty() && !trace.requests.is_empty()).then(|| t.path.clone());
            let mut requests = trace.requests;
            let read = requests.len();
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
            annotate &= requests.len() < read;
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
            (requests, clientless, routes, trace.observed, skipped)
        }
    };
    if annotate {
        annotate_next_access(&mut requests);
    }
    let working_set = match spec {
        WorkloadSpec::Synthetic(s) if requests.is_empty() => synthetic::key_space(s, seed)?,
        _ => WorkingSet::of(&requests),
    };
    Ok(WorkloadInstance {
        requests,
        working_set,
        clientless_trace,
        routes,
        observed,
        skipped,
        one_pass: Default::default(),
    })
}

/// Divides the time since the first request by `speedup`.
fn speed_up(requests: &mut [Request], speedup: f64) {
    if speedup == 1.0 {
        return;
    }
    let first = requests.iter().map(|r| r.time).min().unwrap_or(0);
    for r in requests {
        r.time = speed_up_time(r.time, first, speedup);
    }
}

/// `time`, with the time since `first` divided by `speedup`.
fn speed_up_time(time: SimTime, first: SimTime, speedup: f64) -> SimTime {
    first + ((time - first) as f64 / speedup).round() as SimTime
}

/// Names run `run` in its errors.
fn run_context(exp: &Experiment, run: &Run) -> String {
    let cache = exp.cache_of(run).map(|c| c.identity.as_str());
    let limiter = exp.limiter_of(run).map(|l| l.identity.as_str());
    let parts: Vec<&str> = cache.into_iter().chain(limiter).collect();
    format!("run {} ({})", run.index, parts.join(", "))
}

/// One run on its instance; None when `stop` ended it before the end.
fn replay(
    exp: &Experiment,
    run: &Run,
    instance: &WorkloadInstance,
    stop: Stop,
) -> Result<Option<RunResult>> {
    let seed = exp.run_seed(run);
    let context = || run_context(exp, run);
    let topology = exp.service_of(run).and_then(|s| s.topology.as_ref());
    let layout = topology.map(|t| Layout::of(t, exp.workload_of(run).spread()));
    let locations = layout.as_ref().map_or(1, Layout::locations);
    let uppers = layout.as_ref().map_or(0, |l| l.upper_names.len());
    let resolve =
        |spec: &CacheSpec| (spec.capacity).resolve(instance.working_set, spec.ignore_size);
    let build = |spec: &CacheSpec, (capacity, count_objects), seed| {
        cache::build(&spec.policy, capacity, count_objects, seed).with_context(context)
    };
    // One cache per location, then one per upper tier; location 0's seed is
    // the run's, so that one location is the run without a topology.
    let edge = exp.cache_of(run).map(|c| &c.spec);
    let (capacity, count_objects) = edge.map(resolve).transpose()?.unwrap_or((0, false));
    let mut caches: Vec<Option<BoxedCache>> = Vec::new();
    let mut states = Vec::new();
    for l in 0..locations {
        let site_seed = match l {
            0 => seed,
            _ => derive_seed(seed, &format!("location {l}")),
        };
        let built = edge.map(|spec| build(spec, (capacity, count_objects), site_seed));
        caches.push(built.transpose()?);
        states.push(Replay::new(count_objects));
    }
    if let Some(upper) = topology
        .and_then(|t| t.upper.as_ref())
        .filter(|_| uppers > 0)
    {
        let resolved = resolve(upper)?;
        for u in 0..uppers {
            let site_seed = derive_seed(seed, &format!("upper {u}"));
            caches.push(Some(build(upper, resolved, site_seed)?));
            states.push(Replay::new(resolved.1));
        }
    }
    let load = &exp.load_of(run).spec.load;
    if let (Some(l), Some(path)) = (exp.limiter_of(run), &instance.clientless_trace)
        && l.spec.key != limiter::KeyBy::Global
        && !matches!(load, Load::Closed { .. })
    {
        anyhow::bail!(
            "{}: limiter key \"{}\" needs a client field, but the trace has none: set client_column in [workload], or key = \"global\"",
            path.display(),
            l.spec.key
        );
    }
    let cache_only = run.service.is_none() && run.limiter.is_none();
    let mut batches = Vec::new();
    // The objects the edge cache holds at the end, when one pass replaced it.
    let mut held = None;
    let (limits, service, topology) = match caches[0].as_deref_mut() {
        // The hot path: no event queue, the policy's own replay loop, in
        // slices so that one replication still gives batch means.
        Some(cache) if cache_only && !matches!(load, Load::Closed { .. }) => {
            let one_pass = (exp.meta.one_pass_lru && locations == 1)
                .then_some(edge)
                .flatten()
                .filter(|spec| is_plain_lru(spec))
                .and_then(|_| instance.one_pass_lru(exp, capacity, count_objects));
            if let Some(sliced) = one_pass {
                states[0] = one_pass_replay(&sliced, count_objects);
                held = Some(sliced.held as usize);
                batches = sliced.slices;
            } else {
                let state = &mut states[0];
                let n = instance.requests.len() as u64;
                let mut start = 0;
                for b in 0..BATCHES {
                    if stop.requested() {
                        return Ok(None);
                    }
                    let before = state.stats;
                    let end = slice_end(b, n);
                    cache.replay_dyn(&instance.requests[start as usize..end as usize], state);
                    start = end;
                    batches.push(state.stats.since(&before));
                }
            }
            (None, None, None)
        }
        _ => {
            let stages = caches
                .iter_mut()
                .zip(states.iter_mut())
                .map(|(c, state)| c.as_deref_mut().map(|c| (c, state)))
                .collect();
            simulate(exp, run, instance, stages, layout.as_ref()).with_context(context)?
        }
    };
    // A run's cache figures are its locations' together (the edge tier).
    let mut stats = CacheStats::default();
    let mut evictions = 0;
    for (c, state) in caches.iter().zip(&states).take(locations) {
        stats.add(&state.stats);
        let cached = held
            .take()
            .unwrap_or_else(|| c.as_ref().map_or(0, |c| c.len()));
        evictions += state.evictions(cached);
    }
    let span = match &service {
        Some(s) => s.span,
        None => {
            let times = instance.requests.iter().map(|r| r.time);
            times.clone().max().unwrap_or(0) - times.min().unwrap_or(0)
        }
    };
    Ok(Some(RunResult {
        run: run.clone(),
        seed,
        capacity,
        count_objects,
        working_set: instance.working_set,
        stats,
        evictions,
        batches,
        span,
        limits,
        service,
        observed: instance.observed,
        topology: topology.map(|mut t| {
            for (site, state) in t.locations.iter_mut().chain(&mut t.upper).zip(&states) {
                site.cache = state.stats;
            }
            t
        }),
    }))
}

/// What a run through the whole pipeline measured: limiter, service and
/// topology metrics (the topology's cache figures are left to the caller).
type Measured = (
    Option<LimitStats>,
    Option<ServiceStats>,
    Option<TopologyStats>,
);

/// A run through the whole pipeline, with a cache per site of `layout`
/// (one location without it).
fn simulate(
    exp: &Experiment,
    run: &Run,
    instance: &WorkloadInstance,
    caches: Vec<Option<CacheStage>>,
    layout: Option<&Layout>,
) -> Result<Measured> {
    let spec = exp.limiter_of(run).map(|l| &l.spec);
    let mut limiter = spec.map(limiter::build).transpose()?;
    let stages = Stages {
        limiter: limiter.as_mut(),
        caches,
        layout,
        service: exp.service_of(run).map(|s| &s.spec),
        routes: &instance.routes,
        window: exp.report.window(),
    };
    let seed = exp.service_seed(run);
    let outcome = match &exp.load_of(run).spec.load {
        Load::Closed { phases, think } => {
            let mut lazy;
            let mut listed;
            let requests: &mut dyn Iterator<Item = Request> = match &exp.workload_of(run).spec {
                WorkloadSpec::Synthetic(s) if instance.requests.is_empty() => {
                    let workload_seed = exp.workload_seed(run.workload, run.replication);
                    lazy = synthetic::Requests::new(s, workload_seed)?;
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
    }?;
    let requests = outcome.requests(&instance.requests);
    let limits = spec
        .map(|spec| {
            let admitted: Vec<bool> = outcome.decisions.iter().map(|d| d.admitted()).collect();
            let accuracy = service::in_time_order(requests, &admitted, |r, a| {
                limiter::measure_accuracy(spec, r, a)
            })?;
            Ok::<_, anyhow::Error>(outcome.limit_stats(requests, accuracy))
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
    let topology = layout.map(|layout| {
        let rate = spec.and_then(|s| s.rate).map(|r| r.0);
        outcome.topology_stats(layout, requests, rate)
    });
    Ok((limits, service, topology))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// LRU at sizes in bytes (one below the largest object) and in objects.
    fn experiment(one_pass: bool) -> Experiment {
        let source = format!(
            r#"[experiment]
seed = 3
one_pass_lru = {one_pass}
[workload]
requests = 60_000
keys = 5_000
size = {{ dist = "lognormal", median = "8KiB", sigma = 1.0 }}
[[cache]]
policy = ["lru", "fifo"]
capacity = ["64KiB", "1%", "10%", "50%"]
[[cache]]
policy = "lru"
capacity = ["10", "300", "3000"]
ignore_size = true
"#
        );
        Experiment::parse(Path::new("t.toml"), source).unwrap()
    }

    #[test]
    fn one_pass_lru_gives_every_simulated_figure() {
        let simulated = run(&experiment(false), Some(2)).unwrap();
        let exp = experiment(true);
        assert_eq!(run(&exp, Some(2)).unwrap(), simulated);
        // Run by run, to see that the pass was taken where it is exact.
        let instance = generate(
            &exp.workloads[0].spec,
            &exp.loads[0].spec.load,
            exp.workload_seed(0, 0),
            false,
        )
        .unwrap();
        for (index, expected) in simulated.iter().enumerate() {
            let run = exp.run(index as u64);
            let got = replay(&exp, &run, &instance, Stop::never()).unwrap();
            assert_eq!(got.as_ref(), Some(expected), "run {index}");
        }
        let exact = |objects: bool| {
            let (grid, counts) = instance.one_pass[objects as usize].get().unwrap();
            let sizes = grid.iter().zip(counts);
            sizes.filter(|(_, c)| c.is_some()).count()
        };
        // 64 KiB (at least) is below the largest object, so simulated.
        assert!((2..4).contains(&exact(false)), "{}", exact(false));
        assert_eq!(exact(true), 3);
        assert!(simulated.iter().any(|r| r.evictions > 0));
    }
}
