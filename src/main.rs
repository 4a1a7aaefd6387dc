use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;

use edgesim::experiment::Experiment;
use edgesim::report::{self, Summary};
use edgesim::runner;

mod cli;
mod commands;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            file,
            out,
            threads,
            seed,
        } => run(file, out, threads, seed),
        Command::Validate { file } => validate(file),
        Command::Trace { command } => commands::trace::run(command),
        Command::Cache(args) => commands::cache::run(args),
    }
}

fn run(
    file: PathBuf,
    out: Option<PathBuf>,
    threads: Option<usize>,
    seed: Option<u64>,
) -> Result<()> {
    let mut exp = Experiment::load(&file)?;
    if let Some(seed) = seed {
        exp.meta.seed = seed;
    }
    let out = out.unwrap_or_else(|| PathBuf::from("outputs").join(&exp.name));
    report::prepare_dir(&out)?;
    let started = Instant::now();
    let results = runner::run(&exp, threads)?;
    let summary = Summary::new(&exp, &results);
    let written = report::write_all(&out, &summary)?;
    eprintln!(
        "{} runs in {:.2}s; wrote {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn validate(file: PathBuf) -> Result<()> {
    let exp = Experiment::load(&file)?;
    let runs = exp.runs();
    println!(
        "{}: ok, {} runs ({} workload variant(s) x {} cache configuration(s) x {} replication(s))",
        file.display(),
        runs.len(),
        exp.workloads.len(),
        exp.caches.len(),
        exp.meta.replications
    );
    for run in &runs {
        let w = &exp.workloads[run.workload];
        let c = &exp.caches[run.cache];
        let dims: Vec<String> = w.dims.iter().map(|(d, v)| format!("{d}={v}")).collect();
        println!(
            "  run {:>4}: policy={} capacity={}{} replication={}",
            run.index,
            c.spec.policy,
            c.spec.capacity,
            if dims.is_empty() {
                String::new()
            } else {
                format!(" {}", dims.join(" "))
            },
            run.replication
        );
    }
    Ok(())
}
