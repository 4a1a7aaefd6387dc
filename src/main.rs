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
        Command::Limit(args) => commands::limit::run(args),
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
    let limiters = if exp.limiters.is_empty() {
        String::new()
    } else {
        format!(" x {} limiter configuration(s)", exp.limiters.len())
    };
    println!(
        "{}: ok, {} runs ({} workload variant(s) x {} cache configuration(s){limiters} x {} replication(s))",
        file.display(),
        runs.len(),
        exp.workloads.len(),
        exp.caches.len(),
        exp.meta.replications
    );
    for run in &runs {
        let w = &exp.workloads[run.workload];
        let mut parts: Vec<String> = Vec::new();
        if let Some(c) = run.cache.map(|c| &exp.caches[c]) {
            parts.push(format!(
                "policy={} capacity={}",
                c.spec.policy, c.spec.capacity
            ));
        }
        if let Some(l) = run.limiter.map(|l| &exp.limiters[l]) {
            parts.push(format!("limiter={} key={}", l.spec.label(), l.spec.key));
        }
        parts.extend(w.dims.iter().map(|(d, v)| format!("{d}={v}")));
        println!(
            "  run {:>4}: {} replication={}",
            run.index,
            parts.join(" "),
            run.replication
        );
    }
    Ok(())
}
