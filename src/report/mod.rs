//! Everything a run writes: tables, charts and the report. Each output format
//! is one small file behind [`Export`]; all are rendered in memory first and
//! then written under temporary names and renamed, so a failure never leaves
//! a half-written file, and never destroys an earlier result.

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
mod observed;
pub mod runs;
mod service;
mod summary;
mod timeseries;
mod verdict;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use limits::LimitConfig;
pub use summary::{Cell, Config, Summary};

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
const TABLES: &[&dyn Export] = &[&csv::Csv, &json::Json, &runs::Runs, &timeseries::Timeseries];

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

/// Checks that `dir` can be created and written, before any work is done.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let probe = dir.join(".edgesim-write-test");
    fs::write(&probe, b"")
        .with_context(|| format!("cannot write to output directory {}", dir.display()))?;
    fs::remove_file(&probe).ok();
    Ok(())
}

/// Renders every export, then writes them all into `dir`.
pub fn write_all(dir: &Path, summary: &Summary) -> Result<Vec<PathBuf>> {
    let rendered: Vec<(&str, Vec<u8>)> = exports()
        .filter(|e| e.applies(summary))
        .map(|e| {
            Ok((
                e.file_name(),
                e.render(summary)
                    .with_context(|| format!("cannot render {}", e.file_name()))?,
            ))
        })
        .collect::<Result<_>>()?;
    rendered
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            write_atomic(&path, &bytes)?;
            Ok(path)
        })
        .collect()
}

/// The files written, for the closing line on the terminal.
pub fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over
/// `path`, so readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map_or("out".into(), |n| n.to_string_lossy())
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
