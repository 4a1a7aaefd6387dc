//! Shared by the trace fuzz targets: the fuzz input is written to a file
//! under /dev/shm (the readers take paths, and the file name picks the
//! format) and read back through the public API.
//!
//! The first [`HEADER`] bytes of every trace input choose reader options
//! (see [`Opts`]), so one corpus entry exercises both the decoder and the
//! option combinations; `fuzz/seed` prepends zero bytes (the defaults) to
//! real traces.

use std::path::PathBuf;
use std::sync::OnceLock;

use edgesim::workload::NEVER;
use edgesim::workload::trace::{
    self, Column, Delimiter, LogKey, TimeUnit, TraceFormat, TraceOptions,
};

/// Option bytes at the start of every trace input.
pub const HEADER: usize = 4;

/// Requests read before a streaming read stops (a few KiB of zstd, or one
/// ARC line, can stand for millions: reading them all is no bug, just slow).
pub const STREAM_LIMIT: u64 = 1 << 16;

/// A file for this process under /dev/shm with `ext` as its extension.
pub fn scratch(ext: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("edgesim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    });
    dir.join(format!("input.{ext}"))
}

/// How a target reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `trace::read` (whole trace, next-access positions computed).
    Read,
    /// `trace::open` + `next_batch`, then the statistics of what was read.
    Stream,
}

/// Reader options decoded from the header bytes.
pub struct Opts {
    pub options: TraceOptions,
    pub mode: Mode,
}

fn time_unit(bits: u8) -> Option<TimeUnit> {
    match bits {
        1 => Some(TimeUnit::S),
        2 => Some(TimeUnit::Ms),
        3 => Some(TimeUnit::Us),
        4 => Some(TimeUnit::Ns),
        5 => Some(TimeUnit::Rfc3339),
        _ => None,
    }
}

/// A column by name (with a header or in JSON lines) or by index (in CSV).
fn column(by_index: bool, index: u8, name: &str) -> Column {
    if by_index {
        Column::Index(index as usize)
    } else {
        Column::Name(name.to_string())
    }
}

impl Opts {
    /// Splits `data` into options and the file's bytes.
    ///
    /// byte 0: bit 0 skip bad lines, bit 1 stream, bit 2 no header (CSV),
    ///   bits 3-4 delimiter (CSV: default, tab, `;`, space), bits 5-7 time unit.
    /// byte 1: bits 0-1 log key (path, without query, host+path), bits 2-4
    ///   TTL unit, bit 5 keep only `get` operations, bit 6 route column,
    ///   bit 7 cache status column (CSV and JSON lines).
    /// byte 2: column preset (CSV and JSON lines): 0 defaults, 1 the
    ///   reference files' names (CSV: libCacheSim's `lbn`/`size`; JSON lines:
    ///   Cloudflare's), 2 explicit key/time/size columns from byte 3.
    /// byte 3: with preset 2, key column (bits 0-2), time column (bits 3-5).
    pub fn split(data: &[u8], format: TraceFormat) -> (Opts, &[u8]) {
        let mut head = [0u8; HEADER];
        let n = data.len().min(HEADER);
        head[..n].copy_from_slice(&data[..n]);
        let rest = &data[n..];
        let [b0, b1, b2, b3] = head;
        let mut o = TraceOptions {
            skip_bad_lines: b0 & 1 != 0,
            ..TraceOptions::default()
        };
        let mode = if b0 & 2 != 0 {
            Mode::Stream
        } else {
            Mode::Read
        };
        let columns = matches!(format, TraceFormat::Csv | TraceFormat::Jsonl);
        let csv = format == TraceFormat::Csv;
        let by_index = csv && b0 & 4 != 0;
        if csv {
            o.no_header = by_index;
            o.delimiter = match (b0 >> 3) & 3 {
                1 => Some(Delimiter(b'\t')),
                2 => Some(Delimiter(b';')),
                3 => Some(Delimiter(b' ')),
                _ => None,
            };
        }
        if columns || format == TraceFormat::Combined {
            o.log_key = match b1 & 3 {
                1 => LogKey::PathWithoutQuery,
                2 if columns => LogKey::HostPath,
                _ => LogKey::Path,
            };
        }
        if columns {
            o.time_unit = time_unit(b0 >> 5);
            o.ttl_unit = time_unit((b1 >> 2) & 7);
            if o.log_key == LogKey::HostPath {
                o.host_column = Some(column(by_index, 4, "host"));
            }
            if b1 & 0x20 != 0 {
                o.op_column = Some(column(by_index, 2, "op"));
                o.ops = Some("get,gets".into());
            }
            if b1 & 0x40 != 0 {
                o.route_column = Some(column(by_index, 3, "route"));
            }
            if b1 & 0x80 != 0 {
                o.cache_status_column = Some(column(by_index, 5, "cache_status"));
            }
            match (b2 % 3, csv) {
                (1, true) => {
                    o.key_column = Some(column(by_index, 4, "lbn"));
                    o.size_column = Some(column(by_index, 3, "size"));
                    o.time_column = Some(column(by_index, 1, "time"));
                    o.op_column = Some(column(by_index, 2, "op"));
                }
                (1, false) => {
                    o.key_column = Some(Column::Name("ClientRequestURI".into()));
                    o.time_column = Some(Column::Name("EdgeStartTimestamp".into()));
                    o.size_column = Some(Column::Name("EdgeResponseBytes".into()));
                    o.client_column = Some(Column::Name("ClientIP".into()));
                    o.cache_status_column = Some(Column::Name("CacheCacheStatus".into()));
                    if o.host_column.is_some() {
                        o.host_column = Some(Column::Name("ClientRequestHost".into()));
                    }
                }
                (2, _) => {
                    o.key_column = Some(column(csv, b3 & 7, "key"));
                    o.time_column = Some(column(csv, (b3 >> 3) & 7, "time"));
                }
                _ => {}
            }
            if o.ops.is_none() {
                o.op_column = None;
            }
        }
        (Opts { options: o, mode }, rest)
    }
}

/// Writes `bytes` to this process's scratch file named `*.ext` and reads it
/// with `format` (from the extension: `format_for` guesses it) in `mode`.
pub fn read_trace(bytes: &[u8], ext: &str, opts: &Opts) {
    let path = scratch(ext);
    std::fs::write(&path, bytes).expect("write the scratch file");
    // An ARC line alone expands to up to 16M requests: statistics of all
    // of them take minutes under AddressSanitizer, and find nothing more.
    read_path(&path, opts, STREAM_LIMIT);
}

/// Reads the file at `path`, stopping after `limit` requests when streaming.
pub fn read_path(path: &std::path::Path, opts: &Opts, limit: u64) {
    match opts.mode {
        Mode::Read => {
            if let Ok(t) = trace::read(path, &opts.options) {
                assert!(
                    !t.requests.is_empty(),
                    "a trace read without error has requests"
                );
                let n = t.requests.len() as u64;
                for (i, r) in t.requests.iter().enumerate() {
                    // Positions are computed unless the file carries them.
                    let computed = opts.options.format != Some(TraceFormat::OracleGeneral)
                        && !path.to_string_lossy().ends_with(".bin");
                    assert!(
                        !computed
                            || r.next_access == NEVER
                            || (r.next_access > i as u64 && r.next_access < n),
                        "next access {} of request {i} of {n}",
                        r.next_access
                    );
                    assert!((r.route as usize) < t.routes.len().max(1));
                }
            }
        }
        Mode::Stream => {
            let Ok(mut reader) = trace::open(path, &opts.options) else {
                return;
            };
            let mut batch = Vec::new();
            let mut all = Vec::new();
            while let Ok(true) = reader.next_batch(&mut batch) {
                all.extend_from_slice(&batch);
                if all.len() as u64 >= limit {
                    break;
                }
            }
            all.truncate(limit as usize);
            let _ = (reader.routes(), reader.skipped().to_string());
            if !all.is_empty() {
                let keys = trace::KeyNames::default();
                let _ = trace::compute_stats(&all, reader.clients(), &keys, 5, reader.observed());
            }
        }
    }
}
