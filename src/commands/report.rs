//! `edgesim report DIR`: renders the report, charts and tables of an output
//! directory again from what `edgesim run` saved there (the experiment echoed
//! in results.json and the measurements in runs.json), without simulating.

use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow, bail};

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
    let results_path = dir.join("results.json");
    let results = report::runs::read_echo(
        &dir,
        &format!(
            "run the experiment again with `edgesim run EXPERIMENT --out {}`",
            dir.display()
        ),
    )?;
    if dir.join(report::PARTIAL_FILE).exists() {
        bail!(
            "{}: holds the outputs of an interrupted run (see its file `{}`): finish it with `edgesim run EXPERIMENT --out {} --resume`",
            dir.display(),
            report::PARTIAL_FILE,
            dir.display()
        );
    }
    let echo = results.experiment;
    let Some(recorded) = echo.path else {
        bail!(
            "{}: written by edgesim {}, which did not record the experiment's path: run `edgesim run EXPERIMENT --out {}` again",
            results_path.display(),
            results.edgesim_version,
            dir.display()
        );
    };
    // Recorded relative to the directory; the file itself is not read.
    let path = tidy(&dir.join(&recorded));
    let again = format!(
        "run `edgesim run {} --seed {} --out {}` again",
        path.display(),
        echo.seed,
        dir.display()
    );
    let mut exp = Experiment::parse(&path, echo.source).map_err(|e| {
        anyhow!(
            "{}: the experiment echoed there no longer parses ({e}): {again}",
            results_path.display()
        )
    })?;
    exp.meta.seed = echo.seed;
    exp.path = recorded;
    let runs = report::runs::read(&dir, &again)?;
    check_runs(&dir, &exp, &runs, &again)?;
    let summary = Summary::new(&exp, &runs);
    let dest = report::Destination::check(&dir, force, report::file_names())
        .map_err(|unfit| super::unfit_output(unfit, None))?;
    let written = dest.write(&report::render(&summary, None)?)?;
    eprintln!(
        "{} runs re-rendered; wrote {}",
        runs.len(),
        report::list(&written)
    );
    Ok(())
}

/// `path` without `name/..` pairs and `.`, lexically: for parsing and
/// messages only, as the file is never opened.
fn tidy(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.iter().collect()
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
