//! `edgesim cache TRACE --policy lru,fifo --size 1000,10%`: the miss ratio of
//! each (policy, size) on a trace, like libCacheSim's `cachesim`. The trace
//! is decoded once, batch by batch, and every pair replays each batch in
//! parallel, so memory stays bounded whatever the trace's length (see
//! [`Stream`]); the pairs print in the order given.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use edgesim::cache::mrc;
use edgesim::cache::{self, BoxedCache, CapacitySpec, PolicySpec, Replay};
use edgesim::engine::derive_seed;
use edgesim::metrics::ratio;
use edgesim::spec;
use edgesim::workload::WorkingSet;
use edgesim::workload::trace::{self, Stream, TraceOptions};

use super::{Misses, aligned, emit, four_places, report_skipped, unit_name};

#[derive(Args)]
pub struct CacheArgs {
    /// The trace to replay.
    trace: PathBuf,
    /// Policies, comma-separated, each with optional parameters:
    /// `lru,fifo`, `s3fifo(small=0.1,threshold=2)`.
    #[arg(long, required = true)]
    policy: Vec<String>,
    /// Cache sizes, comma-separated: objects (`1000`), bytes (`64MiB`) or a
    /// share of the working set (`10%`).
    #[arg(long, required = true, value_delimiter = ',')]
    size: Vec<CapacitySpec>,
    /// Count objects, not bytes (every object has size 1).
    #[arg(long)]
    ignore_size: bool,
    /// Print a JSON array, one object per (policy, size).
    #[arg(long)]
    json: bool,
    /// Seed of randomized policies.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Estimate by miniature simulation: replay only the keys of a SHARDS
    /// sample at this rate (`1%` or `0.01`), each cache at that share of
    /// its size; each sampled miss counts for 1/RATE misses of the trace.
    #[arg(long)]
    sample: Option<String>,
    #[command(flatten)]
    opts: TraceOptions,
}

/// One (policy, size) result; the JSON field names are documented.
#[derive(Serialize)]
struct Row {
    policy: String,
    #[serde(flatten)]
    misses: Misses,
    /// The key sample's rate, when estimated by miniature simulation.
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate: Option<f64>,
}

/// The policies of every `--policy` list, each list split at the commas
/// outside parentheses.
fn split_policies(lists: &[String]) -> Result<Vec<PolicySpec>> {
    let items = lists.iter().flat_map(|list| spec::split_list(list));
    Ok(items.map(str::parse).collect::<Result<_, _>>()?)
}

pub fn run(args: CacheArgs) -> Result<()> {
    let policies = split_policies(&args.policy)?;
    // Refuse unknown policies and bad parameters before reading the trace.
    for spec in &policies {
        spec.validate()?;
    }
    let needs_working_set = args.size.iter().any(CapacitySpec::needs_working_set);
    let needs_next_access = policies.iter().any(|p| p.needs_next_access());
    let reader = trace::open(&args.trace, &args.opts)?;
    let mut stream = Stream::open(reader, needs_working_set, needs_next_access)?;
    let sample = args.sample.as_deref().map(Sample::new).transpose()?;
    if let Some(sample) = sample {
        let threshold = sample.threshold;
        stream.keep_only(move |r| mrc::in_sample(r.key, threshold));
    }
    let mut runs = caches(&args, &policies, stream.working_set(), sample)?;
    // Threads as RAYON_NUM_THREADS says, else one per core.
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .context("cannot start the worker threads")?;
    stream.replay_each(&pool, &mut runs, |run, batch| {
        run.cache.replay_dyn(batch, &mut run.state)
    })?;
    report_skipped(&args.trace, stream.skipped());
    let observed = stream.observed();
    // On stderr, so the table and the JSON keep their shape.
    if let Some(o) = observed {
        eprintln!(
            "{}: the real cache's hit ratio was {:.4} (miss ratio {:.4}): {} hits in {} requests it counted",
            args.trace.display(),
            o.hit_ratio(),
            1.0 - o.hit_ratio(),
            o.hits,
            o.requests
        );
    }
    if let Some(sample) = sample {
        let percent = format!("{:.4}", sample.rate * 100.0);
        eprintln!(
            "{}: estimated by miniature simulation: the {}% of keys in a SHARDS sample, through each cache scaled to that share of its size",
            args.trace.display(),
            percent.trim_end_matches('0').trim_end_matches('.')
        );
    }
    let seen = stream.seen();
    let rows: Vec<Row> = runs.iter().map(|run| run.row(sample, seen)).collect();
    if args.json {
        emit(&(serde_json::to_string_pretty(&rows)? + "\n"))
    } else {
        emit(&table(&rows))
    }
}

/// One (policy, size) being replayed.
struct PolicyReplay<'a> {
    spec: &'a PolicySpec,
    capacity: u64,
    count_objects: bool,
    cache: BoxedCache,
    state: Replay,
}

impl PolicyReplay<'_> {
    /// Its counts; from a sample, each sampled miss standing for `1 /
    /// rate` misses of the whole trace (`seen` requests and bytes), as
    /// `edgesim mrc` weights a SHARDS sample (SHARDS_adj): dividing by the
    /// sample's own requests instead is far off whenever the few most
    /// popular keys fall outside the sample.
    fn row(&self, sample: Option<Sample>, (requests, bytes): (u64, u64)) -> Row {
        let s = self.state.stats;
        let (requests, bytes, misses, byte_misses) = match sample {
            None => (s.requests, s.bytes, s.misses(), s.byte_misses()),
            Some(sample) => {
                let scaled =
                    |n: u64, most: u64| ((n as f64 / sample.rate).round() as u64).min(most);
                let misses = scaled(s.misses(), requests);
                (requests, bytes, misses, scaled(s.byte_misses(), bytes))
            }
        };
        Row {
            policy: self.spec.to_string(),
            misses: Misses {
                size: self.capacity,
                unit: unit_name(self.count_objects),
                requests,
                misses,
                miss_ratio: ratio(misses, requests),
                byte_misses,
                byte_miss_ratio: ratio(byte_misses, bytes),
            },
            sample_rate: sample.map(|s| s.rate),
        }
    }
}

/// A fixed-rate sample of the keys, for miniature simulations.
#[derive(Clone, Copy)]
struct Sample {
    threshold: u64,
    /// The rate the threshold gives (`--sample`, rounded to 1/2^24).
    rate: f64,
}

impl Sample {
    fn new(text: &str) -> Result<Self> {
        let threshold = mrc::threshold_of(mrc::parse_rate(text).context("--sample")?);
        Ok(Sample {
            threshold,
            rate: threshold as f64 / mrc::MODULUS as f64,
        })
    }

    /// A cache `capacity` scaled to the sample: at least one unit.
    fn scale(&self, capacity: u64) -> u64 {
        ((capacity as f64 * self.rate).round() as u64).max(1)
    }
}

/// Builds every (policy, size) pair, in the order given.
fn caches<'a>(
    args: &CacheArgs,
    policies: &'a [PolicySpec],
    working_set: WorkingSet,
    sample: Option<Sample>,
) -> Result<Vec<PolicyReplay<'a>>> {
    let mut runs = Vec::new();
    for spec in policies {
        for size in &args.size {
            let (capacity, count_objects) = size.resolve(working_set, args.ignore_size)?;
            let seed = derive_seed(args.seed, &spec.to_string());
            let scaled = sample.map_or(capacity, |s| s.scale(capacity));
            let cache = cache::build(spec, scaled, count_objects, seed)
                .with_context(|| format!("policy {spec} at size {scaled}"))?;
            runs.push(PolicyReplay {
                spec,
                capacity,
                count_objects,
                cache,
                state: Replay::new(count_objects),
            });
        }
    }
    Ok(runs)
}

/// Rows as an aligned text table.
fn table(rows: &[Row]) -> String {
    let header: Vec<&str> = ["policy"].into_iter().chain(Misses::COLUMNS).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let misses = r.misses.cells(four_places);
            [r.policy.clone()].into_iter().chain(misses).collect()
        })
        .collect();
    aligned(&header, 1, &cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_split_outside_parentheses() {
        let specs =
            split_policies(&["lru, s3fifo(small=0.1,threshold=2)".into(), "fifo".into()]).unwrap();
        let names: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        assert_eq!(names, ["lru", "s3fifo(small=0.1,threshold=2)", "fifo"]);
    }

    #[test]
    fn an_unclosed_parenthesis_is_an_error_not_a_dropped_policy() {
        let err = split_policies(&["lru,s3fifo(small=0.1".into()]).unwrap_err();
        assert!(err.to_string().contains("s3fifo(small=0.1"), "{err}");
    }
}
