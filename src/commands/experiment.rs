//! `edgesim run` and `edgesim validate`: an experiment file to outputs, or
//! to the list of runs it would make.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use clap::Args;

use edgesim::experiment::{Experiment, WorkloadSpec};
use edgesim::io::refuse_overwrite;
use edgesim::report::{self, Destination, Mark, Partial, Summary};
use edgesim::runner::budget::{self, Estimate, Limits, Refusal};
use edgesim::runner::{self, Interrupted, Shard, Stop};

use super::{emit, relative_to};

/// Threads beyond the runs, or beyond a few per core, only cost start-up
/// time (10,000 took 52 s to start for a 0.01 s experiment): the count
/// asked for is capped, with a note. Results do not depend on it.
fn sensible_threads(asked: Option<usize>, runs: u64) -> Option<usize> {
    const PER_CORE: usize = 4;
    let asked = asked?;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let cap = (PER_CORE * cores).min(runs.clamp(1, usize::MAX as u64) as usize);
    if asked > cap {
        eprintln!(
            "note: {asked} threads capped at {cap} (the experiment has {runs} run(s) and this machine {cores} core(s))"
        );
        return Some(cap);
    }
    Some(asked)
}

/// What a shard's reports say to do with it.
const COMBINE: &str = "combine the shards' directories with `edgesim merge DIR... --out OUT`";

/// What `edgesim run` is asked to do.
#[derive(Args)]
pub struct RunArgs {
    /// The experiment file (TOML); see experiments/quickstart.toml.
    pub file: PathBuf,
    /// Directory for the outputs [default: outputs/<experiment name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: one per core].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Override the experiment's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace --out even when it holds files edgesim does not write
    /// (they are deleted with it).
    #[arg(long)]
    pub force: bool,
    /// Keep the runs that an interrupted run into the same --out
    /// completed (same experiment file, seed and edgesim), and run
    /// the others: the outputs are those of an uninterrupted run.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N: the runs whose index i (in run order, as
    /// `validate` lists them) has i mod N = K - 1, to run one sweep on N
    /// machines (a Slurm job array, a Kubernetes Indexed Job). Each shard
    /// writes its own --out; `edgesim merge` combines the N directories
    /// into the outputs of a run on one machine. With --resume, the
    /// directory must hold the same shard.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Refuse experiments with more runs than this, before starting.
    #[arg(long, default_value_t = budget::DEFAULT_MAX_RUNS)]
    pub max_runs: u64,
    /// Run even when the estimated memory exceeds what the machine has
    /// available.
    #[arg(long)]
    pub yes: bool,
}

/// `edgesim run`: runs every configuration and writes the outputs as one
/// unit. Everything that can be refused is refused before the first run,
/// and nothing is created until the results are ready. On SIGINT or
/// SIGTERM the runs completed so far are written, marked partial, for
/// `--resume`.
pub fn run(args: RunArgs) -> Result<()> {
    let file = args.file;
    let mut exp = Experiment::load(&file)?;
    if let Some(seed) = args.seed {
        exp.meta.seed = seed;
    }
    let total = exp.run_count();
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    if shard.count() > total {
        bail!(
            "--shard {shard}: {} has {total} run(s), so shard counts above {total} would leave shards empty: use N <= {total}",
            file.display()
        );
    }
    let threads = sensible_threads(args.threads, shard.runs(total));
    let workers =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let limits = Limits {
        max_runs: args.max_runs,
        ignore_memory: args.yes,
    };
    budget::check(&exp, workers, limits).map_err(|refusal| {
        let advice = match refusal {
            Refusal::TooManyRuns { .. } => {
                "use fewer replications or a smaller sweep, or raise --max-runs"
            }
            Refusal::TooMuchMemory { .. } => {
                "lower `requests` or `keys`, use fewer --threads, fewer replications or a smaller sweep, or pass --yes to run anyway"
            }
        };
        anyhow!("{}: {refusal}: {advice}", file.display())
    })?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("outputs").join(&exp.name));
    refuse_overwrite(&file, &out, "--out")?;
    for w in &exp.workloads {
        if let WorkloadSpec::Trace(t) = &w.spec {
            refuse_overwrite(&t.path, &out, "--out")?;
        }
    }
    let dest = Destination::check(&out, args.force, report::file_names())
        .map_err(|unfit| super::unfit_output(unfit, Some("--out")))?;
    let done = if args.resume && dest.path().exists() {
        report::runs::completed(
            &dest.path(),
            &exp,
            shard,
            "run without --resume to start over, or give another --out",
        )?
    } else {
        if args.resume {
            eprintln!(
                "note: {} does not exist yet: running every run",
                out.display()
            );
        }
        Vec::new()
    };
    let resumed = done.len();
    let started = Instant::now();
    let finished = runner::run_resuming(&exp, threads, shard, done, Stop::on_signals()?);
    for skipped in &finished.skipped {
        eprintln!("{skipped}");
    }
    let outcome = finished.outcome?;
    let results = outcome.results;
    // Echoed in results.json relative to the output directory: the outputs
    // stay the same wherever they are made, and `edgesim report` finds the
    // file from the directory alone.
    exp.path = relative_to(&dest.path(), &file);
    let mut resume = format!(
        "edgesim run {} --out {} --seed {} --resume",
        file.display(),
        out.display(),
        exp.meta.seed
    );
    if let Some(shard) = args.shard {
        let _ = write!(resume, " --shard {shard}");
    }
    if args.force {
        resume.push_str(" --force");
    }
    let todo = shard.runs(total);
    let partial = outcome.stopped.map(|_| Partial {
        completed: results.len(),
        total: todo,
        resume: resume.clone(),
    });
    let marks: Vec<Mark> = args
        .shard
        .map(|shard| report::shard_mark(shard, total, COMBINE))
        .into_iter()
        .chain(partial.as_ref().map(Partial::mark))
        .collect();
    if let Some(signal) = outcome.stopped
        && results.is_empty()
    {
        return Err(Interrupted {
            signal,
            message: format!("no run completed; {} left as it was", out.display()),
        }
        .into());
    }
    let summary = Summary::new(&exp, &results);
    let written = dest.write(&report::render(&summary, &marks)?)?;
    if let Some(signal) = outcome.stopped {
        return Err(Interrupted {
            signal,
            message: format!(
                "{} of {todo} runs completed, written to {} marked partial; finish with `{resume}`",
                results.len(),
                out.display()
            ),
        }
        .into());
    }
    let resumed = if resumed > 0 {
        format!(" ({resumed} from the interrupted run)")
    } else {
        String::new()
    };
    let of_shard = match args.shard {
        Some(shard) => format!(" of shard {shard}"),
        None => String::new(),
    };
    eprintln!(
        "{} runs{of_shard}{resumed} in {:.2}s; wrote {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        report::list(&written)
    );
    Ok(())
}

/// Runs `validate` lists; more are counted, not listed, so that a huge
/// sweep validates in bounded memory.
const LISTED: u64 = 1000;

/// `edgesim validate`: checks the file and lists the runs (the first
/// [`LISTED`]), with the estimated memory, without running.
pub fn validate(file: PathBuf) -> Result<()> {
    let exp = Experiment::load(&file)?;
    let total = exp.run_count();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let estimate = Estimate::of(&exp, workers);
    let mut text = format!(
        "{}: ok, {} runs ({})\nmemory: an estimated {} ({})",
        file.display(),
        total,
        exp.run_product(),
        estimate.size(),
        estimate.breakdown()
    );
    if let Some(available) = edgesim::machine::available_memory() {
        let _ = write!(
            text,
            "; {} available",
            edgesim::units::format_bytes(available)
        );
    }
    text.push('\n');
    for index in 0..total.min(LISTED) {
        let run = exp.run(index);
        let w = exp.workload_of(&run);
        let mut parts: Vec<String> = Vec::new();
        if exp.loads.len() > 1 || exp.loads[0].spec.name.is_some() {
            parts.push(format!("load={:?}", exp.load_of(&run).label()));
        }
        match exp.cache_of(&run) {
            Some(c) => parts.push(format!(
                "policy={} capacity={}",
                c.spec.policy, c.spec.capacity
            )),
            None if !exp.caches.is_empty() => parts.push("policy=none".into()),
            None => {}
        }
        match exp.limiter_of(&run) {
            Some(l) => parts.push(format!("limiter={} key={}", l.spec.label(), l.spec.key)),
            None if !exp.limiters.is_empty() => parts.push("limiter=none".into()),
            None => {}
        }
        parts.extend(w.dims.iter().map(|(d, v)| format!("{d}={v}")));
        if let Some(s) = exp.service_of(&run) {
            parts.extend(s.dims.iter().map(|(d, v)| format!("{d}={v}")));
        }
        let _ = writeln!(
            text,
            "  run {:>4}: {} replication={}",
            run.index,
            parts.join(" "),
            run.replication
        );
    }
    if total > LISTED {
        let _ = writeln!(text, "  ... and {} more runs", total - LISTED);
    }
    emit(&text)
}
