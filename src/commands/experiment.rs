//! `edgesim run` and `edgesim validate`: an experiment file to outputs, or
//! to the list of runs it would make.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use edgesim::experiment::Experiment;
use edgesim::report::{self, Summary};
use edgesim::runner;

use super::emit;

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

/// `edgesim run`: runs every configuration and writes the outputs.
pub fn run(
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
    let results = runner::run(&exp, sensible_threads(threads, exp.run_count()))?;
    // Echoed in results.json relative to the output directory: the outputs
    // stay the same wherever they are made, and `edgesim report` finds the
    // file from the directory alone.
    exp.path = relative_to(&out, &file);
    let summary = Summary::new(&exp, &results);
    let written = report::write_all(&out, &summary)?;
    eprintln!(
        "{} runs in {:.2}s; wrote {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        report::list(&written)
    );
    Ok(())
}

/// `file` as a path relative to directory `dir` (`../exp.toml`), from their
/// canonical forms; `file` as given when either cannot be resolved, and
/// absolute when they share no root.
fn relative_to(dir: &Path, file: &Path) -> PathBuf {
    let (Ok(dir), Ok(canonical)) = (dir.canonicalize(), file.canonicalize()) else {
        return file.to_path_buf();
    };
    let dir: Vec<_> = dir.components().collect();
    let target: Vec<_> = canonical.components().collect();
    let common = dir.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return canonical;
    }
    let mut relative: PathBuf = dir[common..].iter().map(|_| "..").collect();
    relative.extend(&target[common..]);
    relative
}

/// `edgesim validate`: checks the file and lists the runs, without running.
pub fn validate(file: PathBuf) -> Result<()> {
    let exp = Experiment::load(&file)?;
    let runs = exp.runs();
    let mut text = format!(
        "{}: ok, {} runs ({})",
        file.display(),
        exp.run_count(),
        exp.run_product()
    );
    text.push('\n');
    for run in &runs {
        let w = &exp.workloads[run.workload];
        let mut parts: Vec<String> = Vec::new();
        if exp.loads.len() > 1 || exp.loads[0].spec.name.is_some() {
            parts.push(format!("load={:?}", exp.loads[run.load].label()));
        }
        match run.cache.map(|c| &exp.caches[c]) {
            Some(c) => parts.push(format!(
                "policy={} capacity={}",
                c.spec.policy, c.spec.capacity
            )),
            None if !exp.caches.is_empty() => parts.push("policy=none".into()),
            None => {}
        }
        match run.limiter.map(|l| &exp.limiters[l]) {
            Some(l) => parts.push(format!("limiter={} key={}", l.spec.label(), l.spec.key)),
            None if !exp.limiters.is_empty() => parts.push("limiter=none".into()),
            None => {}
        }
        parts.extend(w.dims.iter().map(|(d, v)| format!("{d}={v}")));
        if let Some(s) = run.service.map(|s| &exp.services[s]) {
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
    emit(&text)
}
