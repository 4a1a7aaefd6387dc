//! The subcommands that are more than a call into the library: each in its
//! own module, with its clap arguments beside the code that runs it.

pub mod cache;
pub mod experiment;
pub mod limit;
pub mod limiters;
pub mod merge;
pub mod mrc;
pub mod policies;
pub mod report;
pub mod trace;

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use edgesim::experiment::Experiment;
use edgesim::report::{PARTIAL_FILE, Unfit, runs::Echoed};
use edgesim::workload::trace::{Skipped, Trace, TraceOptions, TraceReader, open_recording};
use serde::Serialize;

/// Why an output directory was refused, with what to do about it: `option`
/// is the flag that named the directory, None when it was an argument (an
/// existing output directory, which only `--force` can let through).
fn unfit_output(unfit: Unfit, option: Option<&str>) -> anyhow::Error {
    let advice = match (&unfit, option) {
        (Unfit::NoParent(_), Some(o)) => format!("give {o} a directory below it"),
        (Unfit::BelowFile { .. }, Some(o)) => format!("give {o} a path inside a directory"),
        (Unfit::ReadOnly { .. }, Some(o)) => format!("give {o} a writable place"),
        (Unfit::NotADirectory(_), Some(o)) => format!("give {o} a directory name"),
        (Unfit::NotOurs { .. }, Some(o)) => format!(
            "give {o} a new or empty directory, or pass --force to replace it and everything in it"
        ),
        (Unfit::NotOurs { .. }, None) => {
            "pass --force to replace it and everything in it".to_string()
        }
        (Unfit::Unreadable(_), _) | (_, None) => return unfit.into(),
    };
    anyhow!("{unfit}: {advice}")
}

/// The experiment an output directory's results.json echoes, as `report`
/// and `merge` read it back.
struct Saved {
    /// Parsed as if read from its recorded place, with the seed it ran.
    exp: Experiment,
    /// That place, from the current directory (the file is not read).
    file: PathBuf,
    /// How to make the directory anew, to end messages about it.
    again: String,
}

/// Parses the experiment `echo` (read from `dir`/results.json) holds, as if
/// from the file it was read from (recorded relative to `dir`, so that
/// relative trace paths resolve as they did), with the seed it ran and
/// `exp.path` as recorded. `again` words how to make the directory anew,
/// given the file and the seed.
fn saved_experiment(
    dir: &Path,
    echo: Echoed,
    again: impl Fn(&Path, u64) -> String,
) -> Result<Saved> {
    let results_path = dir.join("results.json");
    let echo_exp = echo.experiment;
    let Some(recorded) = echo_exp.path else {
        bail!(
            "{}: written by edgesim {}, which did not record the experiment's path: run `edgesim run EXPERIMENT --out {}` again",
            results_path.display(),
            echo.edgesim_version,
            dir.display()
        );
    };
    let file = tidy(&dir.join(&recorded));
    let again = again(&file, echo_exp.seed);
    let mut exp = Experiment::parse(&file, echo_exp.source).map_err(|e| {
        anyhow!(
            "{}: the experiment echoed there no longer parses ({e}): {again}",
            results_path.display()
        )
    })?;
    exp.meta.seed = echo_exp.seed;
    exp.path = recorded;
    Ok(Saved { exp, file, again })
}

/// Refuses output directory `dir` when it holds an interrupted run's
/// outputs; `finish` is the command that finishes it.
fn refuse_partial(dir: &Path, finish: &str) -> Result<()> {
    if dir.join(PARTIAL_FILE).exists() {
        bail!(
            "{}: holds the outputs of an interrupted run (see its file `{}`): finish it with `{finish}`",
            dir.display(),
            PARTIAL_FILE
        );
    }
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

/// `file` as a path relative to directory `dir` (`../exp.toml`, `dir`
/// already resolved, as it may not exist yet), from `file`'s canonical
/// form (or, when it is not there, its absolute form); `file` as given
/// when it cannot be resolved, and absolute when they share no root.
fn relative_to(dir: &Path, file: &Path) -> PathBuf {
    let Ok(resolved) = file
        .canonicalize()
        .or_else(|_| std::path::absolute(file).map(|f| tidy(&f)))
    else {
        return file.to_path_buf();
    };
    let dir: Vec<_> = dir.components().collect();
    let target: Vec<_> = resolved.components().collect();
    let common = dir.iter().zip(&target).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return resolved;
    }
    let mut relative: PathBuf = dir[common..].iter().map(|_| "..").collect();
    relative.extend(&target[common..]);
    relative
}

/// Reads a whole trace for a command (keeping the text of hashed keys when
/// `key_names`), reporting skipped lines on stderr.
fn read_trace(path: &Path, opts: &TraceOptions, key_names: bool) -> Result<Trace> {
    read_rest(path, open_recording(path, opts, key_names)?)
}

/// Reads the rest of a trace already open, reporting skipped lines.
fn read_rest(path: &Path, reader: TraceReader) -> Result<Trace> {
    let trace = reader.read_all()?;
    report_skipped(path, &trace.skipped);
    Ok(trace)
}

/// Says on stderr how many bad lines were skipped, if any.
fn report_skipped(path: &Path, skipped: &Skipped) {
    if skipped.lines > 0 {
        eprintln!("{}: {skipped}", path.display());
    }
}

/// Writes `text` to stdout; a closed pipe (`| head`) ends quietly.
fn emit(text: &str) -> Result<()> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// What `cache` and `mrc` report of one cache size: its misses, counted in
/// requests and in bytes. Each command's rows flatten it beside their own
/// columns.
#[derive(Serialize)]
struct Misses {
    /// As resolved, in `unit`s.
    size: u64,
    unit: &'static str,
    requests: u64,
    misses: u64,
    miss_ratio: f64,
    byte_misses: u64,
    byte_miss_ratio: f64,
}

impl Misses {
    const COLUMNS: [&'static str; 7] = [
        "size",
        "unit",
        "requests",
        "misses",
        "miss_ratio",
        "byte_misses",
        "byte_miss_ratio",
    ];

    /// The cells under [`Misses::COLUMNS`], with the ratios as `ratio`
    /// writes them (rounded for a table, whole for a CSV file).
    fn cells(&self, ratio: fn(f64) -> String) -> [String; 7] {
        [
            self.size.to_string(),
            self.unit.to_string(),
            self.requests.to_string(),
            self.misses.to_string(),
            ratio(self.miss_ratio),
            self.byte_misses.to_string(),
            ratio(self.byte_miss_ratio),
        ]
    }
}

/// What sizes count: "objects" or "bytes".
fn unit_name(count_objects: bool) -> &'static str {
    if count_objects { "objects" } else { "bytes" }
}

/// A ratio in a text table: four places.
fn four_places(ratio: f64) -> String {
    format!("{ratio:.4}")
}

/// `cells` under `header` as a text table: columns padded to their widest
/// cell, the first `left` (names) left-aligned and the others (numbers)
/// right-aligned.
fn aligned(header: &[&str], left: usize, cells: &[Vec<String>]) -> String {
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
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(cells) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < left {
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
