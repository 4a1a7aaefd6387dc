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
mod cache_status;
mod combined;
mod csv;
mod fields;
mod jsonl;
mod lines;
mod lirs;
mod options;
pub mod oracle_general;
mod source;
mod stats;
mod stream;
mod text;
mod time;
mod write;
mod zstd_frames;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use serde::Serialize;

use super::{Request, annotate_next_access};
use crate::engine::{LATEST, fnv1a};
use crate::error::ConfigError;

pub use cache_status::Observed;
pub use options::{Column, Delimiter, LogKey, TimeUnit, TraceFormat, TraceOptions};
pub use stats::{Count, Percentiles, Tally, TraceStats};
pub use stream::Stream;
pub use write::{OutputFormat, write};

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
    /// The temporary file a long trace is decoded into could not be
    /// written or read back (a full disk, say).
    #[error(
        "cannot spill the trace to a temporary file in {dir}: set TMPDIR to a directory with room for 40 bytes per request"
    )]
    Spill {
        dir: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {file}")]
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

/// Distinct route names a trace may have: `Request.route` is a byte.
pub const MAX_ROUTES: usize = 256;

/// The names behind compact identities: client and route names interned to
/// ids in first-seen order (so the same trace always gives the same ids),
/// and, when asked for, the text of keys that were hashed (for reports).
#[derive(Debug, Default)]
pub(crate) struct Names {
    ids: HashMap<Box<[u8]>, u32, FixedState>,
    clients: Vec<String>,
    /// The client id returned last.
    last: u32,
    route_ids: HashMap<Box<[u8]>, u8, FixedState>,
    routes: Vec<String>,
    /// Hashed key -> its text, when recording.
    keys: Option<KeyNames>,
}

/// The text of hashed (non-integer) keys, by key.
pub type KeyNames = HashMap<u64, String, FixedState>;

impl Names {
    /// The id of client `name`, assigning the next one on first sight.
    pub fn client(&mut self, name: &[u8]) -> u32 {
        // Consecutive requests often share a client: skip the hash lookup.
        if self
            .clients
            .get(self.last as usize)
            .is_some_and(|n| n.as_bytes() == name)
        {
            return self.last;
        }
        if let Some(&id) = self.ids.get(name) {
            self.last = id;
            return id;
        }
        let id = self.clients.len() as u32;
        self.last = id;
        self.ids.insert(name.into(), id);
        self.clients
            .push(String::from_utf8_lossy(name).into_owned());
        id
    }

    /// The index of route `name`, assigning the next one on first sight;
    /// an error once there would be more than [`MAX_ROUTES`].
    pub fn route(&mut self, name: &[u8]) -> Result<u8, ConfigError> {
        if let Some(&id) = self.route_ids.get(name) {
            return Ok(id);
        }
        if self.routes.len() >= MAX_ROUTES {
            return Err(format!(
                "route column has more than {MAX_ROUTES} distinct values: {} would be route {}",
                fields::show(name),
                MAX_ROUTES + 1
            )
            .into());
        }
        let id = self.routes.len() as u8;
        self.route_ids.insert(name.into(), id);
        self.routes.push(String::from_utf8_lossy(name).into_owned());
        Ok(id)
    }

    /// The object key of a field: a decimal integer is used as it is (block
    /// numbers, object ids); anything else is hashed with FNV-1a, a fixed
    /// portable hash, so the same string gives the same key on every
    /// machine. Remembers the text of hashed keys when recording.
    #[inline]
    pub fn key(&mut self, text: &[u8]) -> u64 {
        if let Some(key) = fields::parse_u64(text) {
            return key;
        }
        let key = fnv1a(text);
        if let Some(keys) = &mut self.keys {
            keys.entry(key)
                .or_insert_with(|| String::from_utf8_lossy(text).into_owned());
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_keys_pass_through_and_strings_hash() {
        let mut names = Names {
            keys: Some(KeyNames::default()),
            ..Names::default()
        };
        assert_eq!(names.key(b"42"), 42);
        assert_eq!(names.key(b"/index.html"), fnv1a(b"/index.html"));
        assert_eq!(names.keys.unwrap()[&fnv1a(b"/index.html")], "/index.html");
        let mut names = Names::default();
        assert_eq!(
            (names.client(b"a"), names.client(b"b"), names.client(b"a")),
            (0, 1, 0)
        );
    }

    #[test]
    fn routes_are_interned_up_to_the_limit() {
        let mut names = Names::default();
        assert_eq!(names.route(b"x"), Ok(0));
        assert_eq!(names.route(b"y"), Ok(1));
        assert_eq!(names.route(b"x"), Ok(0));
        for i in 2..MAX_ROUTES {
            assert_eq!(names.route(format!("r{i}").as_bytes()), Ok(i as u8));
        }
        let err = names.route(b"one-too-many").unwrap_err();
        assert!(
            err.0
                .starts_with("route column has more than 256 distinct values: ")
        );
        assert_eq!(names.route(b"y"), Ok(1));
        assert_eq!(names.routes.len(), MAX_ROUTES);
    }
}

/// State every reader shares: the file name for messages, the bad-line
/// policy and its tally, and the client names.
pub(crate) struct Context {
    file: String,
    skip_bad_lines: bool,
    skipped: Skipped,
    names: Names,
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

    /// The real cache's hits so far, when the trace records its status.
    fn observed(&self) -> Option<Observed> {
        None
    }
}

/// An open trace, read batch by batch.
pub struct TraceReader {
    decoder: Box<dyn Decode>,
    cx: Context,
    /// Requests handed out so far.
    read: u64,
    /// What opened it, to open it again.
    origin: Origin,
}

/// A trace's file and how it is read.
struct Origin {
    path: PathBuf,
    opts: TraceOptions,
    key_names: bool,
    /// Decoding it again costs less than spilling it: fixed-size binary
    /// records in a file (a pipe has no second reading).
    cheap_to_reread: bool,
}

impl TraceReader {
    /// Refills `out` with the next batch; false at the end of the trace.
    /// A trace that ends without a single request is an error: every
    /// figure computed from it would be a meaningless zero.
    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<bool, TraceError> {
        out.clear();
        while out.is_empty() {
            if !self.decoder.decode(out, &mut self.cx)? {
                break;
            }
        }
        if let Some(i) = out.iter().position(|r| r.time >= LATEST) {
            return Err(self.cx.invalid(format!(
                "request {}: time {} ns is past the simulated clock's range (2^62 ns, the year 2116 as a Unix time): is --time-unit (TOML: time_unit) right?",
                self.read + i as u64 + 1,
                out[i].time
            )));
        }
        self.read += out.len() as u64;
        if self.read == 0 {
            let why = match self.cx.skipped.lines {
                0 => String::new(),
                n => format!(
                    " ({n} bad line(s) skipped; the first: {})",
                    self.cx.skipped.examples[0]
                ),
            };
            return Err(self.cx.invalid(format!("holds no requests{why}")));
        }
        Ok(!out.is_empty())
    }

    /// The same trace, opened again from its start.
    pub fn reopen(&self) -> Result<TraceReader, TraceError> {
        let o = &self.origin;
        open_recording(&o.path, &o.opts, o.key_names)
    }

    /// Whether reading the trace twice costs less than spilling it to read
    /// it again (see [`Stream`]).
    pub fn cheap_to_reread(&self) -> bool {
        self.origin.cheap_to_reread
    }

    /// Whether the requests carry next-access positions from the file.
    pub fn carries_next_access(&self) -> bool {
        self.decoder.carries_next_access()
    }

    /// Client names by id (empty when the format has no clients).
    pub fn clients(&self) -> &[String] {
        &self.cx.names.clients
    }

    /// Route names by index (empty without a route column).
    pub fn routes(&self) -> &[String] {
        &self.cx.names.routes
    }

    /// The text of hashed keys read so far, when opened by [`open_recording`].
    pub fn key_names(&self) -> Option<&KeyNames> {
        self.cx.names.keys.as_ref()
    }

    pub fn skipped(&self) -> &Skipped {
        &self.cx.skipped
    }

    /// The real cache's hits among the requests read so far, when the trace
    /// has a cache status column.
    pub fn observed(&self) -> Option<Observed> {
        self.decoder.observed()
    }
}

/// Opens `path` with `opts`.
pub fn open(path: &Path, opts: &TraceOptions) -> Result<TraceReader, TraceError> {
    open_recording(path, opts, false)
}

/// Opens `path`, recording the text of hashed keys when `key_names`
/// (memory grows with the distinct keys: for reports such as `trace stats`).
pub fn open_recording(
    path: &Path,
    opts: &TraceOptions,
    key_names: bool,
) -> Result<TraceReader, TraceError> {
    let cx = Context {
        file: path.display().to_string(),
        skip_bad_lines: opts.skip_bad_lines,
        skipped: Skipped::default(),
        names: Names {
            keys: key_names.then(KeyNames::default),
            ..Names::default()
        },
    };
    let format = opts.format_for(path).map_err(|m| cx.invalid(m))?;
    opts.check_applies(format).map_err(|m| cx.invalid(m))?;
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
    let cheap_to_reread =
        format == TraceFormat::OracleGeneral && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    Ok(TraceReader {
        decoder,
        cx,
        read: 0,
        origin: Origin {
            path: path.to_path_buf(),
            opts: opts.clone(),
            key_names,
            cheap_to_reread,
        },
    })
}

/// A whole trace in memory.
#[derive(Debug)]
pub struct Trace {
    /// The requests, with next-access positions (from the file, or computed).
    pub requests: Vec<Request>,
    /// Client names by id.
    pub clients: Vec<String>,
    /// Route names by `Request.route` (empty without a route column).
    pub routes: Vec<String>,
    /// The text of hashed keys (only from [`read_with_key_names`]).
    pub key_names: KeyNames,
    pub skipped: Skipped,
    /// The real cache's hits, when the trace has a cache status column.
    pub observed: Option<Observed>,
}

/// Reads all of `path`, computing next-access positions when the format
/// does not carry them.
pub fn read(path: &Path, opts: &TraceOptions) -> Result<Trace, TraceError> {
    open(path, opts)?.read_all()
}

/// [`read`], also keeping the text of every hashed key (memory grows with
/// the distinct keys: for reports such as `trace stats`).
pub fn read_with_key_names(path: &Path, opts: &TraceOptions) -> Result<Trace, TraceError> {
    open_recording(path, opts, true)?.read_all()
}

impl TraceReader {
    /// The rest of the trace in memory, with next-access positions (a
    /// reader already open is read on, never reopened: a pipe has no second
    /// reading).
    pub fn read_all(mut self) -> Result<Trace, TraceError> {
        let mut requests = Vec::new();
        let mut batch = Vec::with_capacity(BATCH);
        // Half of what the machine has: the copy that growing the vector
        // makes must fit too. A small compressed file can hold billions of
        // requests (a zstd bomb): an error, not the kernel's OOM killer.
        let room = crate::machine::available_memory()
            .map_or(u64::MAX, |bytes| bytes / 2 / size_of::<Request>() as u64);
        while self.next_batch(&mut batch)? {
            if (requests.len() + batch.len()) as u64 > room {
                return Err(self.cx.invalid(format!(
                    "holds more requests than fit in this machine's memory ({} of {} available after {} requests); what streams reads it in bounded memory: edgesim cache, edgesim mrc, trace stats, and edgesim run when caches alone replay the trace at its own times (no duration, rate or phases)",
                    crate::units::format_bytes(room * size_of::<Request>() as u64),
                    crate::units::format_bytes(crate::machine::available_memory().unwrap_or(0)),
                    requests.len()
                )));
            }
            requests.extend_from_slice(&batch);
        }
        if !self.carries_next_access() {
            annotate_next_access(&mut requests);
        }
        let observed = self.observed();
        Ok(Trace {
            requests,
            clients: self.cx.names.clients,
            routes: self.cx.names.routes,
            key_names: self.cx.names.keys.unwrap_or_default(),
            skipped: self.cx.skipped,
            observed,
        })
    }
}

/// `[workload] kind = "trace"`: a trace file and how to read it.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    /// The file, relative to the experiment file once loaded.
    pub path: PathBuf,
    pub options: TraceOptions,
}
