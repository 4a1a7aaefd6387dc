//! `edgesim merge DIR...`: combines the output directories of the shards of
//! one sweep (`edgesim run FILE --shard K/N`, run on N machines) into the
//! outputs of a run on one machine, byte for byte: the runs saved in each
//! shard's runs.json, in run order, rendered by the code `edgesim run` and
//! `edgesim report` render with. Nothing is simulated, and nothing is written
//! unless the shards are every shard of one experiment, seed and edgesim.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;

use edgesim::experiment::Experiment;
use edgesim::io::refuse_overwrite;
use edgesim::report::{self, Destination, Summary, runs::Echoed};
use edgesim::runner::{RunResult, Shard};

/// What `edgesim merge` is asked to do.
#[derive(Args)]
pub struct MergeArgs {
    /// The shards' output directories (`edgesim run FILE --shard K/N --out
    /// DIR`), one per K from 1 to N, in any order.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Directory for the merged outputs [default: outputs/<experiment name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Replace --out even when it holds files edgesim does not write
    /// (they are deleted with it).
    #[arg(long)]
    pub force: bool,
}

/// One shard's directory, as read before its runs.
struct ShardDir {
    dir: PathBuf,
    shard: Shard,
    echo: Echoed,
}

/// `edgesim merge`: checks that the directories are the N shards of one
/// run, reads their runs, and writes the outputs of the whole run as one
/// unit (as `edgesim run` does).
pub fn run(args: MergeArgs) -> Result<()> {
    let shards: Vec<ShardDir> = args
        .dirs
        .iter()
        .map(|dir| read_shard_dir(dir))
        .collect::<Result<_>>()?;
    check_same_run(&shards)?;
    check_every_shard(&shards)?;
    let first = &shards[0];
    let count = first.shard.count();
    let saved = super::saved_experiment(&first.dir, first.echo.clone(), |file, seed| {
        format!(
            "run each shard again with `edgesim run {} --seed {seed} --shard K/{count} --out DIR`",
            file.display()
        )
    })?;
    let mut exp = saved.exp;
    let runs = merged_runs(&shards, &exp, &saved.again)?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("outputs").join(&exp.name));
    for shard in &shards {
        refuse_overwrite(&shard.dir, &out, "--out")?;
    }
    refuse_overwrite(&saved.file, &out, "--out")?;
    let dest = Destination::check(&out, args.force, report::file_names())
        .map_err(|unfit| super::unfit_output(unfit, Some("--out")))?;
    // Echoed relative to the merged directory, as `edgesim run` echoes it.
    exp.path = super::relative_to(&dest.path(), &saved.file);
    let summary = Summary::new(&exp, &runs);
    let written = dest.write(&report::render(&summary, &[])?)?;
    eprintln!(
        "{} runs from {count} shards merged; wrote {}",
        runs.len(),
        report::list(&written)
    );
    Ok(())
}

/// Reads what `dir`/results.json echoes and which shard `dir` holds,
/// refusing a directory that is not a finished shard.
fn read_shard_dir(dir: &Path) -> Result<ShardDir> {
    let advice = "give the output directories of `edgesim run EXPERIMENT --shard K/N --out DIR`";
    if !dir.is_dir() {
        bail!("{}: no such directory: {advice}", dir.display());
    }
    let echo = report::runs::read_echo(dir, advice)?;
    let Some(shard) = report::read_shard(dir)? else {
        bail!(
            "{}: not a shard (it has no `{}` file): {advice}",
            dir.display(),
            report::SHARD_FILE
        );
    };
    super::refuse_partial(
        dir,
        &format!(
            "edgesim run EXPERIMENT --shard {shard} --out {} --resume",
            dir.display()
        ),
    )?;
    Ok(ShardDir {
        dir: dir.to_path_buf(),
        shard,
        echo,
    })
}

/// Refuses shards of different runs: another edgesim, experiment file
/// content, seed or shard count than the first directory's.
fn check_same_run(shards: &[ShardDir]) -> Result<()> {
    let first = &shards[0];
    let theirs = &first.echo;
    for other in &shards[1..] {
        let mismatch = other.echo.mismatch(
            &theirs.edgesim_version,
            &theirs.experiment.source,
            theirs.experiment.seed,
        );
        if let Some(why) = mismatch {
            bail!(
                "cannot merge {} with {}: {} was {why}: merge the shards of one run",
                other.dir.display(),
                first.dir.display(),
                other.dir.display()
            );
        }
        if other.shard.count() != first.shard.count() {
            bail!(
                "cannot merge {} with {}: they are shards {} and {}, of different counts: merge the shards of one run",
                other.dir.display(),
                first.dir.display(),
                other.shard,
                first.shard
            );
        }
    }
    Ok(())
}

/// Refuses a shard given twice and a shard count with shards missing.
fn check_every_shard(shards: &[ShardDir]) -> Result<()> {
    let count = shards[0].shard.count();
    let mut seen: Vec<Option<&Path>> = vec![None; count as usize];
    for s in shards {
        let slot = &mut seen[(s.shard.index() - 1) as usize];
        if let Some(earlier) = slot {
            bail!(
                "cannot merge: {} and {} are both shard {}: give each shard once",
                earlier.display(),
                s.dir.display(),
                s.shard
            );
        }
        *slot = Some(&s.dir);
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| seen[(k - 1) as usize].is_none())
        .map(|k| k.to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "cannot merge: shard(s) {} of {count} missing: give the directories of all {count} shards",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Every shard's runs, in run order: refused unless each shard holds
/// exactly its runs of the experiment, each once. `again` ends a refusal.
fn merged_runs(shards: &[ShardDir], exp: &Experiment, again: &str) -> Result<Vec<RunResult>> {
    let total = exp.run_count();
    let mut owner: Vec<Option<&Path>> = vec![None; total as usize];
    let mut slots: Vec<Option<RunResult>> = (0..total).map(|_| None).collect();
    for s in shards {
        let runs = report::runs::read(&s.dir, again)?;
        let file = s.dir.join(report::runs::FILE);
        if let Some(stray) = report::runs::stray(exp, s.shard, &runs) {
            bail!(
                "{}: run {} is not one of shard {}'s runs of the experiment: {again}",
                file.display(),
                stray.run.index,
                s.shard
            );
        }
        let held = runs.len() as u64;
        for run in runs {
            let index = run.run.index;
            if let Some(earlier) = owner[index] {
                bail!(
                    "cannot merge: run {index} appears twice, in {} and in {}: {again}",
                    earlier.join(report::runs::FILE).display(),
                    file.display()
                );
            }
            owner[index] = Some(&s.dir);
            slots[index] = Some(run);
        }
        if held != s.shard.runs(total) {
            bail!(
                "{}: holds {held} of shard {}'s {} runs: {again}",
                file.display(),
                s.shard,
                s.shard.runs(total)
            );
        }
    }
    Ok(slots.into_iter().flatten().collect())
}
