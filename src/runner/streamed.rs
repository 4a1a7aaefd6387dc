//! The cache-only runs of a trace, replayed as the trace is decoded: all the
//! runs of one instance take each batch together (see [`Stream`]), so memory
//! is a batch, one entry per distinct key and the caches, whatever the
//! trace's length, and the results are those of the trace held in memory.
//!
//! A first pass counts the trace's requests (for the batch means' slices),
//! its working set (for sizes given as a share of it, and for the tables)
//! and its earliest and latest times (for a speed-up and the span): by
//! reading an oracleGeneral file twice, or through a spill (see [`Stream`]).
//! With `one_pass_lru`, plain LRU gets its counts from one stack-distance
//! pass beside the other runs, and the LRU sizes that pass cannot answer
//! exactly are replayed in a second pass over the trace.

use anyhow::{Context, Result};

use super::{
    BATCHES, RunResult, SkippedLines, is_plain_lru, lru_grid, one_pass_replay, run_context,
    slice_end, speed_up_time,
};
use crate::cache::mrc::SlicedPass;
use crate::cache::{self, BoxedCache, Replay};
use crate::engine::SimTime;
use crate::experiment::{CacheSpec, Experiment, Run, WorkloadSpec};
use crate::metrics::CacheStats;
use crate::service::Load;
use crate::workload::trace::{self, Observed, Stream};
use crate::workload::{Request, WorkingSet};

use super::plan::Plan;
use super::stop::Stop;

/// Whether the runs of instance `slot` replay its trace as it is decoded:
/// a trace at its own times, not cut at a `duration` (which needs the
/// earliest time before the first request is kept), through caches alone
/// (a limiter, a service or a topology measures every request's fate and
/// keeps them all).
pub(super) fn applies(exp: &Experiment, plan: &Plan, slot: u64) -> bool {
    let (w, l, _) = plan.instance(slot);
    let own_times = matches!(exp.loads[l].spec.load, Load::Own { duration: None, .. });
    let cache_only = (0..plan.runs_per_instance()).all(|k| {
        let run = exp.run(plan.run_of_instance(slot, k));
        run.cache.is_some() && run.limiter.is_none() && run.service.is_none()
    });
    matches!(exp.workloads[w].spec, WorkloadSpec::Trace(_)) && own_times && cache_only
}

/// What streaming an instance gave: its runs' results in run order, and
/// the bad lines its trace skipped.
pub(super) struct Streamed {
    pub results: Vec<RunResult>,
    pub skipped: Option<SkippedLines>,
}

/// Replays runs `indices` (of instance `slot`, which [`applies`]) on
/// `pool`; None when `stop` ended them early. An error comes with the run it
/// is charged to: the instance's first for the trace's, the run's own for
/// its cache's.
pub(super) fn replay(
    exp: &Experiment,
    plan: &Plan,
    slot: u64,
    indices: &[u64],
    pool: &rayon::ThreadPool,
    stop: Stop,
) -> Result<Option<Streamed>, (u64, anyhow::Error)> {
    let (w, l, _) = plan.instance(slot);
    let (WorkloadSpec::Trace(t), Load::Own { speedup, .. }) =
        (&exp.workloads[w].spec, &exp.loads[l].spec.load)
    else {
        unreachable!("replay is only called where streaming applies")
    };
    let first_run = plan.run_of_instance(slot, 0);
    let trace_error = |e: trace::TraceError| (first_run, anyhow::Error::from(e));
    let next_access = exp.caches.iter().any(|c| c.spec.policy.needs_next_access());
    let until = Box::new(move || stop.requested());
    let reader = trace::open(&t.path, &t.options).map_err(trace_error)?;
    let mut stream = Stream::open_until(reader, true, next_access, until).map_err(trace_error)?;
    if stop.requested() {
        return Ok(None);
    }
    let total = stream.requests().expect("counted");
    let (first, last) = stream.times().expect("counted");
    if *speedup != 1.0 {
        let speedup = *speedup;
        stream.adjust_each(move |r| r.time = speed_up_time(r.time, first, speedup));
    }
    let working_set = stream.working_set();
    let mut waiting = Vec::new();
    let mut replayers = Vec::new();
    for &index in indices {
        let run = RunPlan::new(exp, exp.run(index), working_set).map_err(|e| (index, e))?;
        if exp.meta.one_pass_lru && is_plain_lru(run.spec(exp)) {
            waiting.push(run);
        } else {
            replayers.push(run.replayer(exp, total).map_err(|e| (index, e))?);
        }
    }
    for count_objects in [false, true] {
        if waiting.iter().any(|r| r.count_objects == count_objects) {
            let grid = lru_grid(exp, working_set, count_objects);
            let pass = SlicedPass::new(&grid, count_objects);
            replayers.push(Replayer::new(total, Kind::OnePass(pass)));
        }
    }
    let pass = |stream: &mut Stream, replayers: &mut Vec<Replayer>| {
        stream.replay_each(pool, replayers, Replayer::replay)
    };
    pass(&mut stream, &mut replayers).map_err(trace_error)?;
    let mut done = Vec::new();
    let mut one_passes = Vec::new();
    for replayer in replayers {
        match replayer.kind {
            Kind::Cache(run, c) => done.push(c.finish(run)),
            Kind::OnePass(pass) => {
                let (grid, objects) = (pass.grid().to_vec(), pass.counts_objects());
                one_passes.push((grid, objects, pass.finish()))
            }
        }
    }
    // LRU from the one pass where it is exact, else from a second pass.
    let mut again = Vec::new();
    for run in waiting {
        let exact = one_passes.iter().find(|p| p.1 == run.count_objects);
        let counts = exact
            .and_then(|(grid, _, counts)| counts[grid.binary_search(&run.capacity).ok()?].as_ref());
        match counts {
            Some(sliced) => done.push(Finished {
                state: one_pass_replay(sliced, run.count_objects),
                held: sliced.held as usize,
                batches: sliced.slices.clone(),
                run,
            }),
            None => {
                let index = run.run.index as u64;
                again.push(run.replayer(exp, total).map_err(|e| (index, e))?);
            }
        }
    }
    if !again.is_empty() && !stop.requested() {
        stream.rewind().map_err(trace_error)?;
        pass(&mut stream, &mut again).map_err(trace_error)?;
        for replayer in again {
            if let Kind::Cache(run, c) = replayer.kind {
                done.push(c.finish(run));
            }
        }
    }
    if stop.requested() {
        return Ok(None);
    }
    let span = speed_up_time(last, first, *speedup) - first;
    let observed = stream.observed();
    done.sort_by_key(|f| f.run.run.index);
    let results = done
        .into_iter()
        .map(|f| f.result((working_set, span, observed)))
        .collect();
    let skipped = stream.skipped();
    let skipped = (skipped.lines > 0).then(|| SkippedLines {
        trace: t.path.clone(),
        skipped: skipped.clone(),
    });
    Ok(Some(Streamed { results, skipped }))
}

/// What a run's result needs besides its replay.
struct RunPlan {
    run: Run,
    seed: u64,
    capacity: u64,
    count_objects: bool,
}

/// What a result takes from its instance: the working set, the span and
/// the real cache's hits.
type Instance = (WorkingSet, SimTime, Option<Observed>);

impl RunPlan {
    /// Run `run`, its cache sized against `working_set`.
    fn new(exp: &Experiment, run: Run, working_set: WorkingSet) -> Result<Self> {
        let spec = &exp.cache_of(&run).expect("a cache-only run").spec;
        let (capacity, count_objects) = spec.capacity.resolve(working_set, spec.ignore_size)?;
        Ok(RunPlan {
            seed: exp.run_seed(&run),
            run,
            capacity,
            count_objects,
        })
    }

    fn spec<'a>(&self, exp: &'a Experiment) -> &'a CacheSpec {
        &exp.cache_of(&self.run).expect("a cache-only run").spec
    }

    /// The run's cache, ready for a pass over the trace's `total` requests.
    fn replayer(self, exp: &Experiment, total: u64) -> Result<Replayer> {
        let (capacity, count_objects) = (self.capacity, self.count_objects);
        let cache = cache::build(&self.spec(exp).policy, capacity, count_objects, self.seed)
            .with_context(|| run_context(exp, &self.run))?;
        let replay = CacheReplay {
            cache,
            state: Replay::new(count_objects),
            batches: Vec::with_capacity(BATCHES),
            opened: CacheStats::default(),
        };
        Ok(Replayer::new(total, Kind::Cache(self, replay)))
    }
}

/// A run's replay done: its counts, the objects its cache held at the end
/// and the counts of each slice.
struct Finished {
    run: RunPlan,
    state: Replay,
    held: usize,
    batches: Vec<CacheStats>,
}

impl Finished {
    fn result(self, (working_set, span, observed): Instance) -> RunResult {
        let run = self.run;
        RunResult {
            seed: run.seed,
            capacity: run.capacity,
            count_objects: run.count_objects,
            working_set,
            stats: self.state.stats,
            evictions: self.state.evictions(self.held),
            batches: self.batches,
            span,
            limits: None,
            service: None,
            observed,
            topology: None,
            run: run.run,
        }
    }
}

/// One taker of a pass over the trace, which it sees slice by slice: the
/// batch means' slices, cut where the in-memory replay cuts them (see
/// [`slice_end`]).
struct Replayer {
    total: u64,
    /// Requests replayed so far, and slices closed.
    replayed: u64,
    closed: usize,
    kind: Kind,
}

enum Kind {
    Cache(RunPlan, CacheReplay),
    /// LRU at every size of a grid, in objects or bytes.
    OnePass(SlicedPass),
}

/// A run's cache being replayed.
struct CacheReplay {
    cache: BoxedCache,
    state: Replay,
    /// The slices closed so far, and the counts when the current one opened.
    batches: Vec<CacheStats>,
    opened: CacheStats,
}

impl CacheReplay {
    fn finish(self, run: RunPlan) -> Finished {
        Finished {
            run,
            held: self.cache.len(),
            state: self.state,
            batches: self.batches,
        }
    }
}

impl Replayer {
    fn new(total: u64, kind: Kind) -> Self {
        Replayer {
            total,
            replayed: 0,
            closed: 0,
            kind,
        }
    }

    /// Takes the trace's next `requests`.
    fn replay(&mut self, mut requests: &[Request]) {
        self.close_reached();
        while !requests.is_empty() {
            let end = slice_end(self.closed, self.total);
            let take = ((end - self.replayed) as usize).min(requests.len());
            match &mut self.kind {
                Kind::Cache(_, c) => c.cache.replay_dyn(&requests[..take], &mut c.state),
                Kind::OnePass(pass) => pass.add(&requests[..take]),
            }
            self.replayed += take as u64;
            requests = &requests[take..];
            self.close_reached();
        }
    }

    /// Closes every slice that ends where the replay is (several, when the
    /// trace has fewer requests than slices).
    fn close_reached(&mut self) {
        while self.closed < BATCHES && slice_end(self.closed, self.total) <= self.replayed {
            match &mut self.kind {
                Kind::Cache(_, c) => {
                    c.batches.push(c.state.stats.since(&c.opened));
                    c.opened = c.state.stats;
                }
                Kind::OnePass(pass) => pass.close_slice(),
            }
            self.closed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rand::RngExt;
    use rand_distr::{Distribution, Zipf};

    use super::super::{Shard, Stop, generate, replay as replay_held, run_resuming};
    use super::*;
    use crate::engine::stream;
    use crate::workload::trace::OutputFormat;

    /// `n` requests over 5,000 keys, skewed, sizes up to 20 kB, a TTL on
    /// every seventh key, times a little out of order.
    fn requests(n: u64) -> Vec<Request> {
        let mut rng = stream(7, "streamed runs");
        let zipf = Zipf::new(5_000.0, 0.9).unwrap();
        (0..n)
            .map(|i| {
                let key = zipf.sample(&mut rng) as u64;
                Request {
                    time: 5_000_000_000 + i * 1_000_000 + rng.random_range(0..3_000_000),
                    key,
                    size: (key * 7919 % 20_000) as u32 + 1,
                    ttl_ms: if key.is_multiple_of(7) { 2_000 } else { 0 },
                    ..Default::default()
                }
            })
            .collect()
    }

    /// Policies (Belady among them) at sizes in bytes, as shares of the
    /// working set, and in objects, at the trace's times and sped up; LRU
    /// from one pass where it is exact (not below the largest object, 20 kB,
    /// nor with TTLs) when `one_pass`.
    fn experiment(trace: &Path, one_pass: bool) -> Experiment {
        let source = format!(
            r#"[experiment]
seed = 5
one_pass_lru = {one_pass}
[workload]
kind = "trace"
path = "{}"
[[load]]
name = "as recorded"
[[load]]
name = "three times faster"
speedup = 3.0
[[cache]]
policy = ["lru", "belady", "s3fifo", "random", "lfu"]
capacity = ["16KiB", "256KiB", "10%"]
[[cache]]
policy = ["arc", "lru", "sieve"]
capacity = ["200", "50%"]
ignore_size = true
"#,
            trace.display()
        );
        Experiment::parse(Path::new("streamed.toml"), source).unwrap()
    }

    /// Every run as the runner replayed it before it streamed: the
    /// instance generated in memory, then each run over it.
    fn held_in_memory(exp: &Experiment) -> Vec<RunResult> {
        let plan = Plan::of(exp);
        let mut results = Vec::new();
        for slot in 0..plan.instances() {
            let (w, l, r) = plan.instance(slot);
            let spec = &exp.workloads[w].spec;
            let load = &exp.loads[l].spec.load;
            let instance = generate(spec, load, exp.workload_seed(w, r), true).unwrap();
            for k in 0..plan.runs_per_instance() {
                let run = exp.run(plan.run_of_instance(slot, k));
                results.push(
                    replay_held(exp, &run, &instance, Stop::never())
                        .unwrap()
                        .unwrap(),
                );
            }
        }
        results.sort_by_key(|r| r.run.index);
        results
    }

    #[test]
    fn streamed_runs_give_what_the_trace_held_in_memory_gives() {
        let dir = tempfile::tempdir().unwrap();
        // Longer than a chunk of the spill's backward pass, and not a
        // multiple of the slices; shorter than the slices; oracleGeneral
        // brings its own next accesses, CSV has them computed.
        for (n, name, format) in [
            (70_003, "long.csv", OutputFormat::Csv),
            (7, "short.csv", OutputFormat::Csv),
            (30_001, "t.oracleGeneral.bin", OutputFormat::OracleGeneral),
        ] {
            let path = dir.path().join(name);
            let mut reqs = requests(n);
            crate::workload::annotate_next_access(&mut reqs);
            trace::write(&path, &reqs, &[], format).unwrap();
            for one_pass in [false, true] {
                let exp = experiment(&path, one_pass);
                let plan = Plan::of(&exp);
                assert!((0..plan.instances()).all(|slot| applies(&exp, &plan, slot)));
                let expected = held_in_memory(&exp);
                assert!(expected.iter().any(|r| r.evictions > 0), "{name}");
                assert!(expected.iter().all(|r| r.batches.len() == BATCHES));
                for threads in [1, 2] {
                    let got = super::super::run(&exp, Some(threads)).unwrap();
                    assert!(got == expected, "{name}, {threads} threads, {one_pass}");
                }
                // A shard streams its own runs only.
                let shard: Shard = "2/3".parse().unwrap();
                let got = run_resuming(&exp, Some(2), shard, Vec::new(), Stop::never());
                let got = got.outcome.unwrap().results;
                let mine = expected
                    .iter()
                    .filter(|r| shard.contains(r.run.index as u64));
                assert!(got.iter().eq(mine), "{name}, shard, {one_pass}");
            }
        }
    }

    #[test]
    fn a_limiter_a_service_or_a_cut_keeps_the_trace_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        trace::write(&path, &requests(100), &[], OutputFormat::Csv).unwrap();
        let base = format!(
            "[workload]\nkind = \"trace\"\npath = \"{}\"\n[[cache]]\npolicy = \"lru\"\ncapacity = \"10%\"\n",
            path.display()
        );
        let applies_to = |extra: &str| {
            let exp = Experiment::parse(Path::new("e.toml"), format!("{base}{extra}")).unwrap();
            applies(&exp, &Plan::of(&exp), 0)
        };
        assert!(applies_to(""));
        assert!(applies_to("[[load]]\nspeedup = 2.0\n"));
        assert!(!applies_to("[[load]]\nduration = \"10s\"\n"));
        assert!(!applies_to("[[load]]\nrate = \"100/s\"\n"));
        assert!(!applies_to(
            "[[limiter]]\nalgorithm = \"token-bucket\"\nrate = \"10/s\"\nburst = 5\nkey = \"global\"\n"
        ));
    }
}
