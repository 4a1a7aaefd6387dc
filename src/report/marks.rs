//! What outputs holding only some of an experiment's runs say about it: a
//! run interrupted before the end (`partial`) and one shard of a sweep split
//! over machines (`shard`). Each is a marker file, for the commands that
//! resume, re-render or merge such a directory, and a first line in
//! report.md and report.html, for the people who open it.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{Context, Result, anyhow};

use crate::runner::Shard;

/// The marker file of a run stopped before all its runs were done.
pub const PARTIAL_FILE: &str = "partial";

/// The marker file of a shard: its first line is the shard, `K/N`.
pub const SHARD_FILE: &str = "shard";

/// A marker file and the line the reports begin with.
#[derive(Debug, Clone)]
pub struct Mark {
    pub file: &'static str,
    /// The reports' first line.
    pub line: String,
    /// The marker file's content.
    pub body: String,
}

/// A run stopped before the end: its outputs hold the runs completed.
#[derive(Debug, Clone)]
pub struct Partial {
    pub completed: usize,
    pub total: u64,
    /// The command that finishes it.
    pub resume: String,
}

impl Partial {
    /// The `partial` file: how many runs are there, and the command that
    /// finishes the others.
    pub fn mark(&self) -> Mark {
        let line = format!(
            "Partial: {} of {} runs completed; run again with --resume to finish.",
            self.completed, self.total
        );
        let body = format!("{line}\n{}\n", self.resume);
        Mark {
            file: PARTIAL_FILE,
            line,
            body,
        }
    }
}

/// The `shard` file of shard `shard` of an experiment of `total` runs:
/// the shard on the first line (read back by [`read_shard`]), then which
/// runs it holds and `combine`, how to combine the shards.
pub fn shard_mark(shard: Shard, total: u64, combine: &str) -> Mark {
    let line = format!(
        "Shard {} of {}: {} of the {total} runs (those whose index i has i mod {} = {}); {combine}.",
        shard.index(),
        shard.count(),
        shard.runs(total),
        shard.count(),
        shard.index() - 1
    );
    let body = format!("{shard}\n{line}\n");
    Mark {
        file: SHARD_FILE,
        line,
        body,
    }
}

/// The shard output directory `dir` holds, from its `shard` file; None
/// when it has none (it holds every run, or the runs completed of them).
pub fn read_shard(dir: &Path) -> Result<Option<Shard>> {
    let path = dir.join(SHARD_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let first = text.lines().next().unwrap_or_default();
    let shard = first.parse().map_err(|e| {
        anyhow!(
            "{}: damaged or not written by edgesim ({e})",
            path.display()
        )
    })?;
    Ok(Some(shard))
}
