//! Trace readers: recorded traffic in the common formats, decoded in large
//! batches into [`Request`]s, in constant memory.
//!
//! [`open`] picks the reader for a file (from `--format` or the extension),
//! undoes zstd or gzip compression (recognised by magic bytes) and yields
//! batches; [`read`] collects a whole trace for replay. Every reader stops at
//! the first bad line with `file:line:column: what was expected`, or skips
//! bad lines and counts them when asked to; input that ends inside a binary
//! record or a compressed frame is always an error naming the byte offset.

mod arc;
mod combined;
mod csv;
mod fields;
mod jsonl;
mod lines;
mod lirs;
mod options;
mod oracle_general;
mod source;
mod stats;
mod text;
mod time;
mod write;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use serde::Serialize;

use super::{Request, annotate_next_access};

pub use options::{Column, Delimiter, LogKey, TimeUnit, TraceFormat, TraceOptions};
pub use stats::{Count, Percentiles, TraceStats, compute as compute_stats};
pub use write::{OutputFormat, encode, write};

/// Requests a reader decodes per batch: large enough to amortise the
/// per-batch work, small enough to stay in the CPU cache.
pub const BATCH: usize = 8192;

/// Examples of skipped lines kept for the report.
const EXAMPLES: usize = 5;

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A line that does not parse: where, and what was expected.
    #[error("{file}:{line}:{column}: {message}")]
    Line {
        file: String,
        line: u64,
        column: usize,
        message: String,
    },
    /// Input that ends inside a record or a compressed frame.
    #[error("{file}: {message} at byte offset {offset}")]
    Truncated {
        file: String,
        offset: u64,
        message: String,
    },
    /// Options that do not fit the file (an unknown column, no format).
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
}

/// The bad lines a reader skipped: how many, and the first few messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub lines: u64,
    pub examples: Vec<String>,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "skipped {} bad line(s)", self.lines)?;
        for e in &self.examples {
            write!(f, "\n  {e}")?;
        }
        if self.lines > self.examples.len() as u64 {
            write!(f, "\n  ...")?;
        }
        Ok(())
    }
}

/// Client names interned to compact ids in first-seen order, so the same
/// trace always gives the same ids.
#[derive(Debug, Default)]
pub struct Clients {
    ids: HashMap<Box<[u8]>, u32, FixedState>,
    names: Vec<String>,
    /// The id returned last.
    last: u32,
}

impl Clients {
    /// The id of `name`, assigning the next one on first sight.
    pub fn intern(&mut self, name: &[u8]) -> u32 {
        // Consecutive requests often share a client: skip the hash lookup.
        if self
            .names
            .get(self.last as usize)
            .is_some_and(|n| n.as_bytes() == name)
        {
            return self.last;
        }
        if let Some(&id) = self.ids.get(name) {
            self.last = id;
            return id;
        }
        let id = self.names.len() as u32;
        self.last = id;
        self.ids.insert(name.into(), id);
        self.names.push(String::from_utf8_lossy(name).into_owned());
        id
    }

    /// Names by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// State every reader shares: the file name for messages, the bad-line
/// policy and its tally, and the client names.
pub(crate) struct Context {
    file: String,
    skip_bad_lines: bool,
    skipped: Skipped,
    clients: Clients,
}

impl Context {
    /// A bad line: an error, or (when skipping) one more skipped line.
    fn bad_line(&mut self, line: u64, column: usize, message: String) -> Result<(), TraceError> {
        let err = TraceError::Line {
            file: self.file.clone(),
            line,
            column,
            message,
        };
        if !self.skip_bad_lines {
            return Err(err);
        }
        self.skipped.lines += 1;
        if self.skipped.examples.len() < EXAMPLES {
            self.skipped.examples.push(err.to_string());
        }
        Ok(())
    }

    fn invalid(&self, message: impl Into<String>) -> TraceError {
        TraceError::Invalid {
            file: self.file.clone(),
            message: message.into(),
        }
    }
}

/// One format's decoder.
trait Decode {
    /// Appends up to about [`BATCH`] requests to `out`; returns false once
    /// the input is exhausted (and keeps returning false).
    fn decode(&mut self, out: &mut Vec<Request>, cx: &mut Context) -> Result<bool, TraceError>;

    /// Whether records carry next-access positions (oracleGeneral).
    fn carries_next_access(&self) -> bool {
        false
    }
}

/// An open trace, read batch by batch.
pub struct TraceReader {
    decoder: Box<dyn Decode>,
    cx: Context,
}

impl TraceReader {
    /// Refills `out` with the next batch; false at the end of the trace.
    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<bool, TraceError> {
        out.clear();
        while out.is_empty() {
            if !self.decoder.decode(out, &mut self.cx)? {
                return Ok(!out.is_empty());
            }
        }
        Ok(true)
    }

    /// Whether the requests carry next-access positions from the file.
    pub fn carries_next_access(&self) -> bool {
        self.decoder.carries_next_access()
    }

    /// Client names by id (empty when the format has no clients).
    pub fn clients(&self) -> &[String] {
        self.cx.clients.names()
    }

    pub fn skipped(&self) -> &Skipped {
        &self.cx.skipped
    }
}

/// Opens `path` with `opts`.
pub fn open(path: &Path, opts: &TraceOptions) -> Result<TraceReader, TraceError> {
    let cx = Context {
        file: path.display().to_string(),
        skip_bad_lines: opts.skip_bad_lines,
        skipped: Skipped::default(),
        clients: Clients::default(),
    };
    let format = opts.format_for(path).map_err(|m| cx.invalid(m))?;
    let input = source::Input::open(path).map_err(|source| TraceError::Io {
        file: cx.file.clone(),
        source,
    })?;
    let decoder: Box<dyn Decode> = match format {
        TraceFormat::OracleGeneral => Box::new(oracle_general::Reader::new(input)),
        TraceFormat::Csv => Box::new(csv::open(input, opts, &cx)?),
        TraceFormat::Jsonl => Box::new(jsonl::open(input, opts, &cx)?),
        TraceFormat::Text => Box::new(lines::LineReader::new(input, text::Text)),
        TraceFormat::Lirs => Box::new(lines::LineReader::new(input, lirs::Lirs)),
        TraceFormat::Arc => Box::new(lines::LineReader::new(input, arc::Arc)),
        TraceFormat::Combined => Box::new(lines::LineReader::new(
            input,
            combined::Combined::new(opts.log_key),
        )),
    };
    Ok(TraceReader { decoder, cx })
}

/// A whole trace in memory.
#[derive(Debug)]
pub struct Trace {
    /// The requests, with next-access positions (from the file, or computed).
    pub requests: Vec<Request>,
    /// Client names by id.
    pub clients: Vec<String>,
    pub skipped: Skipped,
}

/// Reads all of `path`, computing next-access positions when the format
/// does not carry them.
pub fn read(path: &Path, opts: &TraceOptions) -> Result<Trace, TraceError> {
    let mut reader = open(path, opts)?;
    let mut requests = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    while reader.next_batch(&mut batch)? {
        requests.extend_from_slice(&batch);
    }
    if !reader.carries_next_access() {
        annotate_next_access(&mut requests);
    }
    Ok(Trace {
        requests,
        clients: reader.cx.clients.names,
        skipped: reader.cx.skipped,
    })
}

/// `[workload] kind = "trace"`: a trace file and how to read it.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    /// The file, relative to the experiment file once loaded.
    pub path: PathBuf,
    pub options: TraceOptions,
}
