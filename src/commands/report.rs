//! `edgesim report DIR`: renders the report, charts and tables of an output
//! directory again from what `edgesim run` saved there (the experiment echoed
//! in results.json and the measurements in runs.json), without simulating.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use edgesim::experiment::Experiment;
use edgesim::report::{self, Summary};

/// `edgesim report`: rewrites every output of `dir` from its saved runs.
pub fn run(dir: PathBuf, force: bool) -> Result<()> {
    if !dir.is_dir() {
        bail!(
            "{}: no such directory: give the output directory of an `edgesim run`",
            dir.display()
        );
    }
    let echo = report::runs::read_echo(
        &dir,
        &format!(
            "run the experiment again with `edgesim run EXPERIMENT --out {}`",
            dir.display()
        ),
    )?;
    super::refuse_partial(
        &dir,
        &format!("edgesim run EXPERIMENT --out {} --resume", dir.display()),
    )?;
    if let Some(shard) = report::read_shard(&dir)? {
        bail!(
            "{}: holds shard {shard} of a sweep, not every run: combine the shards with `edgesim merge DIR... --out OUT`",
            dir.display()
        );
    }
    let saved = super::saved_experiment(&dir, echo, |file, seed| {
        format!(
            "run `edgesim run {} --seed {seed} --out {}` again",
            file.display(),
            dir.display()
        )
    })?;
    let runs = report::runs::read(&dir, &saved.again)?;
    check_runs(&dir, &saved.exp, &runs, &saved.again)?;
    let summary = Summary::new(&saved.exp, &runs);
    let dest = report::Destination::check(&dir, force, report::file_names())
        .map_err(|unfit| super::unfit_output(unfit, None))?;
    let written = dest.write(&report::render(&summary, &[])?)?;
    eprintln!(
        "{} runs re-rendered; wrote {}",
        runs.len(),
        report::list(&written)
    );
    Ok(())
}

/// Refuses runs that are not the experiment's (files from two different
/// runs, or edited by hand): the reports index the experiment by them.
fn check_runs(
    dir: &Path,
    exp: &Experiment,
    runs: &[edgesim::runner::RunResult],
    again: &str,
) -> Result<()> {
    let expected = exp.runs();
    let matches =
        expected.len() == runs.len() && expected.iter().zip(runs).all(|(e, r)| *e == r.run);
    if !matches {
        bail!(
            "{}: its {} runs are not the {} runs of the experiment in {}: {again}",
            dir.join(report::runs::FILE).display(),
            runs.len(),
            expected.len(),
            dir.join("results.json").display()
        );
    }
    Ok(())
}
