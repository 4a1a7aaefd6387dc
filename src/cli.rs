//! The command line: subcommands and their options.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Simulate cache and rate-limit policies on synthetic or recorded traffic,
/// deterministically, and get tables, charts and a recommendation.
#[derive(Parser)]
#[command(name = "edgesim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run an experiment file and write results, charts and a report.
    ///
    /// Writes results.csv, results.json, runs.json, the charts (PNG and SVG)
    /// and report.md into outputs/<experiment name>/ (or --out). The same
    /// file and seed give byte-identical outputs with any number of threads.
    ///
    /// The output directory is replaced whole, in one step, once every
    /// result is ready: it holds the previous run's files or this run's,
    /// never a mix. A directory holding files edgesim does not write is
    /// refused (unless --force). Ctrl-C or SIGTERM stops the runs and
    /// writes those completed, marked partial; --resume finishes them.
    ///
    /// --shard K/N runs one Nth of the runs, for a sweep split over N
    /// machines; `edgesim merge` combines the N output directories.
    Run(crate::commands::experiment::RunArgs),
    /// Combine the output directories of a sweep's shards into the outputs
    /// of a run on one machine.
    ///
    /// Reads the runs saved by `edgesim run FILE --shard K/N --out DIR` for
    /// every K from 1 to N and writes results.csv, results.json, runs.json,
    /// the charts and the report into --out, byte for byte those of
    /// `edgesim run FILE` with the same seed. Nothing is simulated and the
    /// experiment file is not read. Shards of different edgesim versions,
    /// experiment file contents, seeds or shard counts, a missing or
    /// repeated shard, or a run held twice are refused, and nothing is
    /// written. --out is replaced whole, in one step, as by `edgesim run`.
    Merge(crate::commands::merge::MergeArgs),
    /// Render report.md, the charts and the tables of an output directory
    /// again, without simulating.
    ///
    /// Reads the experiment echoed in DIR/results.json and the measurements
    /// saved in DIR/runs.json by `edgesim run`, and rewrites every output
    /// file of DIR with this edgesim's report code: after a change to the
    /// reports, or to restore deleted charts. Neither the experiment file
    /// nor its traces are read. Nothing is written until everything is read
    /// and rendered, and the directory is replaced whole, in one step.
    Report {
        /// An output directory written by `edgesim run`.
        dir: PathBuf,
        /// Replace DIR even when it holds files edgesim does not write
        /// (they are deleted with it).
        #[arg(long)]
        force: bool,
    },
    /// Check an experiment file and list the runs it would make, without running.
    Validate {
        /// The experiment file (TOML).
        file: PathBuf,
    },
    /// Inspect, convert or generate traces (see docs/traces.md).
    Trace {
        #[command(subcommand)]
        command: crate::commands::trace::TraceCommand,
    },
    /// Miss ratios of policies and sizes on a trace, one row per (policy, size).
    Cache(crate::commands::cache::CacheArgs),
    /// The miss-ratio curve of LRU at many sizes from one pass over a trace.
    ///
    /// Exact (stack distances; where one pass could differ from LRU's own
    /// simulation, a size is simulated instead, and stderr says why), or
    /// estimated from a SHARDS sample of the keys (--sample, --sample-size).
    Mrc(crate::commands::mrc::MrcArgs),
    /// Replay a recorded trace or access log through one limiter.
    Limit(crate::commands::limit::LimitArgs),
    /// List the cache policies, each with its parameters, defaults and ranges.
    ///
    /// Every name `edgesim cache --policy` and an experiment's `policy`
    /// accept, with one line on what it does, then one line per parameter:
    /// `name=default (valid values): what it sets`. Write a policy as its
    /// name, or with parameters: `s3fifo(small=0.1, threshold=2)`.
    Policies,
    /// List the limiter algorithms with their parameters and defaults.
    ///
    /// Prints every algorithm `limit --algorithm` and `[[limiter]]` accept,
    /// what it does and the parameters it takes in parentheses, each with
    /// its default and valid values; then the common parameters (rate,
    /// burst, window, key, premium) with their defaults.
    Limiters,
}
