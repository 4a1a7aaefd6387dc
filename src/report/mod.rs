//! Everything a run writes: tables, charts and the report. Each output format
//! is one small file behind [`Export`]; all are rendered in memory first and
//! then written as one unit (see `output.rs`), so a failure never leaves a
//! half-written file or a mix of two runs, and never destroys an earlier
//! result.

mod alerts;
mod breaking;
mod chart;
mod csv;
mod decide;
mod html;
mod json;
mod levels;
mod limits;
mod markdown;
mod marks;
mod observed;
mod output;
pub mod runs;
mod service;
mod summary;
mod timeseries;
mod topology;
mod verdict;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use limits::LimitConfig;
pub use marks::{Mark, PARTIAL_FILE, Partial, SHARD_FILE, read_shard, shard_mark};
pub use output::{Destination, Unfit};
pub use summary::{Cell, Config, Summary};

/// The LRU miss-ratio curve of `edgesim mrc` on the trace `name`, as a
/// PNG or, when `svg`, an SVG.
pub fn mrc_chart(curve: &crate::cache::mrc::Curve, name: &str, svg: bool) -> Result<Vec<u8>> {
    let figure = chart::lru_curve(curve, name);
    if svg { figure.svg() } else { figure.png() }
}

/// One output file.
pub trait Export: Sync {
    fn file_name(&self) -> &'static str;
    fn render(&self, summary: &Summary) -> Result<Vec<u8>>;
    /// Whether this experiment gets the file (e.g. no cache chart without caches).
    fn applies(&self, _summary: &Summary) -> bool {
        true
    }
}

/// The tables, before the charts.
const TABLES: &[&dyn Export] = &[
    &csv::Csv,
    &json::Json,
    &runs::Runs,
    &timeseries::Timeseries,
    &topology::TopologyCsv,
];

/// The reports, after the charts.
const REPORTS: &[&dyn Export] = &[&alerts::Alerts, &markdown::Markdown, &html::Html];

/// Every file `edgesim run` writes.
pub fn exports() -> impl Iterator<Item = &'static dyn Export> {
    let charts = chart::FILES.iter().map(|f| f as &dyn Export);
    TABLES
        .iter()
        .copied()
        .chain(charts)
        .chain(REPORTS.iter().copied())
}

/// Every file name edgesim may write into an output directory.
pub fn file_names() -> Vec<&'static str> {
    exports()
        .map(|e| e.file_name())
        .chain([PARTIAL_FILE, SHARD_FILE])
        .collect()
}

/// Renders every export that applies, in memory. Outputs that hold only
/// some of the experiment's runs say so with `marks`: each a marker file
/// and a first line in report.md and report.html.
pub fn render(summary: &Summary, marks: &[Mark]) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut files: Vec<(&str, Vec<u8>)> = exports()
        .filter(|e| e.applies(summary))
        .map(|e| {
            Ok((
                e.file_name(),
                e.render(summary)
                    .with_context(|| format!("cannot render {}", e.file_name()))?,
            ))
        })
        .collect::<Result<_>>()?;
    // In reverse, so that the reports' first lines are in `marks` order.
    for mark in marks.iter().rev() {
        for (name, bytes) in &mut files {
            match *name {
                "report.md" => {
                    let line = format!("**{}**\n\n", mark.line);
                    bytes.splice(0..0, line.into_bytes());
                }
                "report.html" => {
                    let line = format!("\n<p><strong>{}</strong></p>", mark.line);
                    if let Some(at) = find(bytes, b"<main>") {
                        bytes.splice(at + 6..at + 6, line.into_bytes());
                    }
                }
                _ => {}
            }
        }
    }
    files.extend(marks.iter().map(|m| (m.file, m.body.clone().into_bytes())));
    Ok(files)
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Renders every export, then writes them as the whole new content of
/// output directory `dir` (see [`Destination`]).
pub fn write_all(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>> {
    Destination::check(dir, false, file_names())?.write(&render(summary, &[])?)
}

/// The files written, for the closing line on the terminal.
pub fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
