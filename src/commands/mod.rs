//! The subcommands that are more than a call into the library: each in its
//! own module, with its clap arguments beside the code that runs it.

pub mod cache;
pub mod experiment;
pub mod limit;
pub mod limiters;
pub mod mrc;
pub mod policies;
pub mod report;
pub mod trace;

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Result, anyhow};
use edgesim::report::Unfit;
use edgesim::workload::trace::{Skipped, Trace, TraceOptions, TraceReader, open_recording};

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
