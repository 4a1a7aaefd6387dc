//! Writes requests as a trace file: libCacheSim's oracleGeneral (with
//! next-access positions, so offline policies work on any trace) or
//! edgesim's CSV (`time_ns,key,size,ttl_ms,client,next_access`, which the
//! CSV reader reads back without options). A `.zst` or `.gz` output name
//! compresses (`.zst` in independent frames, read back in parallel); the file appears under its name only once complete.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::oracle_general::{RECORD_BYTES, encode as encode_record};
use super::{Request, zstd_frames};
use crate::io::write_atomic;
use crate::workload::NEVER;

/// The formats edgesim writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// 24-byte records; keeps time (whole seconds), key, size and next access.
    OracleGeneral,
    /// Keeps everything: time in ns, key, size, TTL, client name, next access.
    Csv,
}

impl OutputFormat {
    /// Guesses from the output file name: `.csv` (optionally compressed) is
    /// CSV, `.bin` / `.oracleGeneral` is oracleGeneral.
    pub fn guess(path: &Path) -> Option<Self> {
        use super::TraceFormat;
        match TraceFormat::guess(path)? {
            TraceFormat::Csv => Some(OutputFormat::Csv),
            TraceFormat::OracleGeneral => Some(OutputFormat::OracleGeneral),
            _ => None,
        }
    }
}

/// A CSV field, quoted when it holds a delimiter, quote or line break.
fn csv_field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\"")).into()
    } else {
        text.into()
    }
}

/// The bytes of `requests` in `format`; `clients` names client ids in CSV
/// (ids are written when it has no name for one).
fn encode(requests: &[Request], clients: &[String], format: OutputFormat) -> Result<Vec<u8>> {
    Ok(match format {
        OutputFormat::OracleGeneral => {
            let mut out = Vec::with_capacity(requests.len() * RECORD_BYTES);
            for (i, r) in requests.iter().enumerate() {
                let record =
                    encode_record(r).map_err(|why| anyhow::anyhow!("request {}: {why}", i + 1))?;
                out.extend_from_slice(&record);
            }
            out
        }
        OutputFormat::Csv => {
            let mut out = Vec::with_capacity(requests.len() * 48 + 64);
            out.extend_from_slice(b"time_ns,key,size,ttl_ms,client,next_access\n");
            for r in requests {
                let next = if r.next_access == NEVER {
                    -1
                } else {
                    r.next_access as i64
                };
                let id = r.client.to_string();
                let client = clients.get(r.client as usize).map_or(&*id, |n| n.as_str());
                writeln!(
                    out,
                    "{},{},{},{},{},{next}",
                    r.time,
                    r.key,
                    r.size,
                    r.ttl_ms,
                    csv_field(client)
                )
                .expect("writing to a Vec cannot fail");
            }
            out
        }
    })
}

/// Writes `requests` to `path` in `format`, compressed when `path` ends in
/// `.zst` or `.gz`.
pub fn write(
    path: &Path,
    requests: &[Request],
    clients: &[String],
    format: OutputFormat,
) -> Result<()> {
    let bytes = encode(requests, clients, format)?;
    let name = path.to_string_lossy();
    let bytes = if name.ends_with(".zst") {
        zstd_frames::compress(&bytes).context("zstd compression failed")?
    } else if name.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes)?;
        gz.finish()?
    } else {
        bytes
    };
    write_atomic(path, &bytes)
}
