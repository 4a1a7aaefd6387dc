//! `edgesim cache TRACE --policy lru,fifo --size 1000,10%`: the miss ratio of
//! each (policy, size) on a trace, like libCacheSim's `cachesim`. The trace
//! is decoded once and shared; the pairs run in parallel and print in the
//! order given.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use edgesim::cache::{self, CapacitySpec, PolicySpec, Replay};
use edgesim::engine::derive_seed;
use edgesim::workload::WorkingSet;
use edgesim::workload::trace::TraceOptions;

use super::{emit, read_trace};

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
    #[command(flatten)]
    opts: TraceOptions,
}

/// One (policy, size) result; the JSON field names are documented.
#[derive(Serialize)]
struct Row {
    policy: String,
    /// As resolved, in `unit`s.
    size: u64,
    unit: &'static str,
    requests: u64,
    misses: u64,
    miss_ratio: f64,
    byte_misses: u64,
    byte_miss_ratio: f64,
}

/// Splits `lru,s3fifo(small=0.1,threshold=2)` at the commas outside
/// parentheses.
fn split_policies(lists: &[String]) -> Result<Vec<PolicySpec>> {
    let mut specs = Vec::new();
    for list in lists {
        let mut depth = 0i32;
        let mut start = 0;
        for (i, c) in list.char_indices().chain([(list.len(), ',')]) {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    let item = list[start..i].trim();
                    if !item.is_empty() {
                        specs.push(item.parse().map_err(anyhow::Error::msg)?);
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    Ok(specs)
}

pub fn run(args: CacheArgs) -> Result<()> {
    let policies = split_policies(&args.policy)?;
    // Refuse unknown policies and bad parameters before reading the trace.
    for spec in &policies {
        cache::build(spec, 1 << 20, false, 0).map_err(anyhow::Error::msg)?;
    }
    let trace = read_trace(&args.trace, &args.opts, false)?;
    let working_set = WorkingSet::of(&trace.requests);
    let mut pairs = Vec::new();
    for spec in &policies {
        for size in &args.size {
            let (capacity, objects) = size
                .resolve(working_set, args.ignore_size)
                .map_err(anyhow::Error::msg)?;
            pairs.push((spec, capacity, objects));
        }
    }
    let requests = &trace.requests;
    let rows = pairs
        .par_iter()
        .map(|&(spec, capacity, objects)| {
            let seed = derive_seed(args.seed, &spec.to_string());
            let mut cache = cache::build(spec, capacity, objects, seed)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("policy {spec} at size {capacity}"))?;
            let with_ttl = requests.iter().any(|r| r.ttl_ms > 0);
            let mut state = Replay::new(objects, with_ttl);
            cache.replay_dyn(requests, &mut state);
            let s = state.stats;
            Ok(Row {
                policy: spec.to_string(),
                size: capacity,
                unit: if objects { "objects" } else { "bytes" },
                requests: s.requests,
                misses: s.misses(),
                miss_ratio: s.miss_ratio(),
                byte_misses: s.byte_misses(),
                byte_miss_ratio: s.byte_miss_ratio(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if args.json {
        emit(&(serde_json::to_string_pretty(&rows)? + "\n"))
    } else {
        emit(&table(&rows))
    }
}

/// Rows as an aligned text table.
fn table(rows: &[Row]) -> String {
    let header = [
        "policy",
        "size",
        "unit",
        "requests",
        "misses",
        "miss_ratio",
        "byte_misses",
        "byte_miss_ratio",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.policy.clone(),
                r.size.to_string(),
                r.unit.to_string(),
                r.requests.to_string(),
                r.misses.to_string(),
                format!("{:.4}", r.miss_ratio),
                r.byte_misses.to_string(),
                format!("{:.4}", r.byte_miss_ratio),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
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
}
