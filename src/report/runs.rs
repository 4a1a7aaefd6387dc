//! runs.json: every run's measurements exactly as the runner returned them,
//! so that `edgesim report` can render the outputs again without simulating.
//!
//! Why a file of its own: results.csv and results.json are tables for
//! people and their programs, made of derived numbers (ratios, milliseconds,
//! means over replications) from which the counters, percentiles, windows
//! and routes every export reads cannot be recovered. runs.json is the
//! runner's own `Vec<RunResult>`, in run order, floats written so that they
//! read back bit for bit; nothing in it depends on the thread count, so it
//! is byte-identical for the same experiment and seed.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::{Export, Summary};
use crate::experiment::Experiment;
use crate::runner::{RunResult, Shard};

/// The file's name in an output directory.
pub const FILE: &str = "runs.json";

/// The layout of runs.json: bumped whenever `RunResult`, or anything it
/// holds, changes shape or meaning, so that an older file is refused with
/// a clear message instead of being misread.
pub const FORMAT_VERSION: u32 = 2;

/// What `format` says, so a stray JSON file is not taken for ours.
const FORMAT_NAME: &str = "edgesim-runs";

pub struct Runs;

#[derive(Serialize)]
struct Written<'a> {
    format: &'static str,
    version: u32,
    edgesim_version: &'static str,
    runs: &'a [RunResult],
}

/// The header, read first: a file of another version is refused by its
/// version, before its runs are misread.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
    edgesim_version: String,
    #[serde(rename = "runs")]
    _runs: IgnoredAny,
}

#[derive(Deserialize)]
struct Read {
    runs: Vec<RunResult>,
}

impl Export for Runs {
    fn file_name(&self) -> &'static str {
        FILE
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec(&Written {
            format: FORMAT_NAME,
            version: FORMAT_VERSION,
            edgesim_version: env!("CARGO_PKG_VERSION"),
            runs: summary.results,
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Reads the runs of output directory `dir`. `again` says how to make the
/// file anew (e.g. "run `edgesim run exp.toml --out out` again") and ends
/// every message about a file that is missing, damaged or of another version.
pub fn read(dir: &Path, again: &str) -> Result<Vec<RunResult>> {
    let path = dir.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
            "{}: not found (an edgesim older than `edgesim report` did not write it): {again}",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let damaged = |e: serde_json::Error| {
        anyhow!(
            "{}: damaged or not an edgesim runs file ({e}): {again}",
            path.display()
        )
    };
    let header: Header = serde_json::from_slice(&bytes).map_err(damaged)?;
    if header.format != FORMAT_NAME {
        bail!(
            "{}: not an edgesim runs file (format {:?}): {again}",
            path.display(),
            header.format
        );
    }
    if header.version != FORMAT_VERSION {
        bail!(
            "{}: written by edgesim {} in runs format {}, but this edgesim {} reads format {}: {again}",
            path.display(),
            header.edgesim_version,
            header.version,
            env!("CARGO_PKG_VERSION"),
            FORMAT_VERSION
        );
    }
    let read: Read = serde_json::from_slice(&bytes).map_err(damaged)?;
    Ok(read.runs)
}

/// What results.json says about the experiment that made it.
#[derive(Clone, Deserialize)]
pub struct Echoed {
    pub edgesim_version: String,
    pub experiment: Echo,
}

/// The experiment as results.json echoes it.
#[derive(Clone, Deserialize)]
pub struct Echo {
    pub seed: u64,
    /// Relative to the output directory.
    pub path: Option<PathBuf>,
    pub source: String,
}

/// Reads the echo in `dir`/results.json; `again` ends the message about
/// a file that is missing or damaged.
pub fn read_echo(dir: &Path, again: &str) -> Result<Echoed> {
    let path = dir.join("results.json");
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => bail!(
            "{}: not found: is {} the output directory of an `edgesim run`? {again}",
            path.display(),
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        anyhow!(
            "{}: damaged or not written by edgesim ({e}): {again}",
            path.display()
        )
    })
}

/// What makes two sets of runs of an experiment differ, though their runs
/// have the same indices: only runs of the same edgesim, experiment file
/// content and seed are the same runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    Version { theirs: String, ours: String },
    Source,
    Seed { theirs: u64, ours: u64 },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Mismatch::Version { theirs, ours } => {
                write!(f, "written by edgesim {theirs}, not {ours}")
            }
            Mismatch::Source => f.write_str("run from other experiment file contents"),
            Mismatch::Seed { theirs, ours } => write!(f, "run with seed {theirs}, not {ours}"),
        }
    }
}

impl Echoed {
    /// How the runs echoed here differ from those edgesim `version` makes
    /// of experiment file content `source` with seed `seed`, if they do.
    pub fn mismatch(&self, version: &str, source: &str, seed: u64) -> Option<Mismatch> {
        if self.edgesim_version != version {
            Some(Mismatch::Version {
                theirs: self.edgesim_version.clone(),
                ours: version.to_string(),
            })
        } else if self.experiment.source != source {
            Some(Mismatch::Source)
        } else if self.experiment.seed != seed {
            Some(Mismatch::Seed {
                theirs: self.experiment.seed,
                ours: seed,
            })
        } else {
            None
        }
    }
}

/// The first of `runs` that is not one of `exp`'s runs in `shard` (files
/// from another experiment, or edited by hand), if any.
pub fn stray<'r>(exp: &Experiment, shard: Shard, runs: &'r [RunResult]) -> Option<&'r RunResult> {
    runs.iter().find(|r| {
        let index = r.run.index as u64;
        index >= exp.run_count() || !shard.contains(index) || exp.run(index) != r.run
    })
}

/// The runs that an earlier (interrupted) `edgesim run` of `exp`'s `shard`
/// completed in `dir`, to resume it: refused unless that run had the same
/// experiment file content, seed, edgesim version and shard, since only
/// then are its results the ones this run would compute. `again` ends a
/// refusal with what to do instead.
pub fn completed(
    dir: &Path,
    exp: &Experiment,
    shard: Shard,
    again: &str,
) -> Result<Vec<RunResult>> {
    let echo = read_echo(dir, again)?;
    if let Some(why) = echo.mismatch(env!("CARGO_PKG_VERSION"), &exp.source, exp.meta.seed) {
        bail!(
            "cannot resume into {}: it was {why}: {again}",
            dir.display()
        );
    }
    let theirs = super::read_shard(dir)?.unwrap_or(Shard::WHOLE);
    if theirs != shard {
        bail!(
            "cannot resume into {}: it holds {}, this run {}: {again}",
            dir.display(),
            shard_words(theirs),
            shard_words(shard)
        );
    }
    let runs = read(dir, again)?;
    if let Some(r) = stray(exp, shard, &runs) {
        bail!(
            "cannot resume into {}: run {} in {FILE} is not this experiment's: {again}",
            dir.display(),
            r.run.index
        );
    }
    Ok(runs)
}

/// A shard in words: "shard 2 of 3", or "every run".
fn shard_words(shard: Shard) -> String {
    if shard == Shard::WHOLE {
        "every run".to_string()
    } else {
        format!("shard {} of {}", shard.index(), shard.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Run;
    use crate::metrics::service::Latency;
    use crate::metrics::{CacheStats, LimitStats};
    use crate::workload::WorkingSet;

    /// Floats whose shortest decimal form needs care read back bit for bit.
    #[test]
    fn runs_read_back_exactly() {
        let limits = LimitStats {
            requests: 3,
            allowed: 2,
            delayed: 0,
            denied: 1,
            legit: 3,
            legit_denied: 1,
            abusive: 0,
            abusive_allowed: 0,
            legit_clients: 1,
            clients_wrongly_blocked: 1,
            abusers: 0,
            abusers_blocked: 0,
            first_block_mean: 0.1 + 0.2,
            first_block_max: u64::MAX,
            peak_keys: 1,
            peak_state_bytes: 64,
            accuracy: None,
        };
        let result = RunResult {
            run: Run {
                cache: Some(0),
                limiter: Some(0),
                ..Run::default()
            },
            seed: u64::MAX - 1,
            capacity: 1 << 40,
            count_objects: false,
            working_set: WorkingSet {
                objects: 7,
                bytes: 9,
            },
            stats: CacheStats::default(),
            evictions: 2,
            batches: vec![CacheStats {
                requests: 3,
                hits: 1,
                ..CacheStats::default()
            }],
            span: u64::MAX,
            limits: Some(limits),
            service: None,
            observed: Some(crate::workload::trace::Observed {
                requests: 400,
                hits: 206,
            }),
            topology: Some(crate::metrics::topology::TopologyStats {
                locations: vec![crate::metrics::topology::SiteStats {
                    name: "fra".into(),
                    requests: 3,
                    forwarded_bytes: u64::MAX,
                    ..Default::default()
                }],
                origin_requests: 2,
                ..Default::default()
            }),
        };
        let latency = Latency {
            mean: 2.225_073_858_507_201e-308,
            ..Latency::default()
        };
        let bytes = serde_json::to_vec(&(&result, latency, 1.0 / 3.0, 5e-324)).unwrap();
        let back: (RunResult, Latency, f64, f64) = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.0, result);
        assert_eq!(back.1, latency);
        assert_eq!(back.2.to_bits(), (1.0f64 / 3.0).to_bits());
        assert_eq!(back.3.to_bits(), 5e-324f64.to_bits());
    }
}
