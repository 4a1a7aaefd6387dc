//! `edgesim trace stats | convert | generate`: look at a trace, change its
//! format, or write an experiment's synthetic workload as one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use edgesim::experiment::{Experiment, WorkloadSpec};
use edgesim::io::refuse_overwrite;
use edgesim::runner;
use edgesim::workload::Request;
use edgesim::workload::trace::{self, OutputFormat, Percentiles, TraceOptions, TraceStats};

use super::{emit, read_trace, report_skipped};

#[derive(Subcommand)]
pub enum TraceCommand {
    /// Requests, working set, time span, popularity, reuse distances, sizes,
    /// top keys and clients of a trace.
    Stats {
        /// The trace file.
        file: PathBuf,
        #[command(flatten)]
        opts: TraceOptions,
        /// Print JSON (field names documented in docs/traces.md).
        #[arg(long)]
        json: bool,
        /// Entries in the top keys and top clients lists.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Convert a trace to oracleGeneral (with next-access positions, for
    /// offline policies) or CSV; `.zst`/`.gz` output names compress.
    Convert {
        /// The trace to read.
        input: PathBuf,
        /// The file to write.
        output: PathBuf,
        /// Output format [default: from the output name].
        #[arg(long, value_enum)]
        to: Option<OutputFormat>,
        #[command(flatten)]
        opts: TraceOptions,
    },
    /// Write the workload of an experiment file as a trace, so others can
    /// replay exactly the same traffic.
    Generate {
        /// The experiment file (TOML) whose workload to write.
        experiment: PathBuf,
        /// The trace file to write.
        output: PathBuf,
        /// Output format [default: from the output name].
        #[arg(long, value_enum)]
        to: Option<OutputFormat>,
        /// Which replication's seed to use.
        #[arg(long, default_value_t = 0)]
        replication: u64,
    },
}

pub fn run(command: TraceCommand) -> Result<()> {
    match command {
        TraceCommand::Stats {
            file,
            opts,
            json,
            top,
        } => {
            // Streamed: memory follows the distinct objects, not the requests.
            let mut reader = trace::open_recording(&file, &opts, true)?;
            let mut tally = trace::Tally::default();
            let mut batch = Vec::new();
            while reader.next_batch(&mut batch)? {
                batch.iter().for_each(|r| tally.add(r));
            }
            report_skipped(&file, reader.skipped());
            let none = trace::KeyNames::default();
            let keys = reader.key_names().unwrap_or(&none);
            let stats = tally.finish(reader.clients(), keys, top, reader.observed());
            if json {
                emit(&(serde_json::to_string_pretty(&stats)? + "\n"))
            } else {
                emit(&render(&file, &stats))
            }
        }
        TraceCommand::Convert {
            input,
            output,
            to,
            opts,
        } => {
            let format = output_format(to, &input, &output)?;
            let trace = read_trace(&input, &opts, false)?;
            write_requests(&output, &trace.requests, &trace.clients, format)
        }
        TraceCommand::Generate {
            experiment,
            output,
            to,
            replication,
        } => {
            let format = output_format(to, &experiment, &output)?;
            let exp = Experiment::load(&experiment)?;
            if let WorkloadSpec::Trace(t) = &exp.workloads[0].spec {
                refuse_overwrite(&t.path, &output, "output")?;
            }
            if exp.workloads.len() != 1 {
                bail!(
                    "{}: the workload sweeps {} variants; `trace generate` writes one, so fix the swept values",
                    experiment.display(),
                    exp.workloads.len()
                );
            }
            let seed = exp.workload_seed(0, replication);
            let instance =
                runner::generate(&exp.workloads[0].spec, &exp.loads[0].spec.load, seed, true)
                    .with_context(|| {
                        format!("generating the workload of {}", experiment.display())
                    })?;
            if let Some(skipped) = &instance.skipped {
                eprintln!("{skipped}");
            }
            write_requests(&output, &instance.requests, &[], format)
        }
    }
}

/// The format to write `output` in, once it is known not to overwrite
/// `input`, the file the requests come from.
fn output_format(to: Option<OutputFormat>, input: &Path, output: &Path) -> Result<OutputFormat> {
    let format = to.or_else(|| OutputFormat::guess(output)).with_context(|| {
        format!(
            "cannot tell the output format from the name {}: pass --to oracle-general or --to csv",
            output.display()
        )
    })?;
    refuse_overwrite(input, output, "output")?;
    Ok(format)
}

/// Writes `requests` to `output` and says how many.
fn write_requests(
    output: &Path,
    requests: &[Request],
    clients: &[String],
    format: OutputFormat,
) -> Result<()> {
    trace::write(output, requests, clients, format)?;
    eprintln!("wrote {} requests to {}", requests.len(), output.display());
    Ok(())
}

fn percentiles(p: &Option<Percentiles>) -> String {
    match p {
        None => "-".into(),
        Some(p) => format!(
            "min {} / p50 {} / p90 {} / p99 {} / max {} (mean {:.1})",
            p.min, p.p50, p.p90, p.p99, p.max, p.mean
        ),
    }
}

/// The human-readable report of `trace stats`.
fn render(file: &Path, s: &TraceStats) -> String {
    let mut out = format!("{}\n", file.display());
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<22} {v}\n"));
    line("requests", s.requests.to_string());
    line("unique objects", s.unique_objects.to_string());
    line(
        "working set",
        format!(
            "{} objects, {} bytes ({})",
            s.working_set_objects,
            s.working_set_bytes,
            edgesim::units::format_bytes(s.working_set_bytes)
        ),
    );
    line("requested bytes", s.requested_bytes.to_string());
    line("unique clients", s.unique_clients.to_string());
    line(
        "time span",
        format!("{:.3} s ({} .. {} ns)", s.time_span_s, s.start_ns, s.end_ns),
    );
    line(
        "mean rate",
        s.mean_rate_per_s
            .map_or("-".into(), |r| format!("{r:.3} requests/s")),
    );
    line(
        "one-hit wonders",
        format!(
            "{} ({:.2}% of objects)",
            s.one_hit_wonders,
            s.one_hit_wonder_ratio * 100.0
        ),
    );
    line(
        "zipf alpha (fitted)",
        s.zipf_alpha.map_or("-".into(), |a| format!("{a:.3}")),
    );
    line("reuse distance", percentiles(&s.reuse_distance));
    line("size (bytes)", percentiles(&s.size_bytes));
    if let Some(o) = s.observed {
        line(
            "observed hit ratio",
            format!(
                "{:.4} ({} hits in {} requests the real cache counted)",
                o.hit_ratio(),
                o.hits,
                o.requests
            ),
        );
    }
    for (title, list) in [("top keys", &s.top_keys), ("top clients", &s.top_clients)] {
        out.push_str(&format!("  {title}\n"));
        for c in list {
            out.push_str(&format!(
                "    {:<24} {:>10} ({:.2}%)\n",
                c.name,
                c.requests,
                c.share * 100.0
            ));
        }
    }
    out
}
