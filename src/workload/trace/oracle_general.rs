//! libCacheSim's oracleGeneral binary trace: 24-byte little-endian records of
//! (u32 timestamp in seconds, u64 object id, u32 size, i64 next access, -1
//! for never), and its reader, which takes the file in blocks of [`BATCH`]
//! records: one read and one tight decode loop per block, no allocation per
//! record.
//!
//! libCacheSim counts virtual time from 1, so the stored next access is the
//! 0-based request index plus one; [`Request::next_access`] holds the index,
//! and decode/encode convert (checked against the reference trace).

use super::source::Input;
use super::{BATCH, Context, Decode, Request, TraceError};
use crate::engine::SECOND;
use crate::error::ConfigError;
use crate::workload::NEVER;

/// Bytes in one record.
pub const RECORD_BYTES: usize = 24;

/// Decodes one record.
#[inline]
pub fn decode(rec: &[u8; RECORD_BYTES]) -> Request {
    let time = u32::from_le_bytes(rec[0..4].try_into().unwrap());
    let key = u64::from_le_bytes(rec[4..12].try_into().unwrap());
    let size = u32::from_le_bytes(rec[12..16].try_into().unwrap());
    let next = i64::from_le_bytes(rec[16..24].try_into().unwrap());
    Request {
        time: time as u64 * SECOND,
        key,
        size,
        next_access: if next <= 0 { NEVER } else { next as u64 - 1 },
        ..Request::default()
    }
}

/// Encodes one record (time is stored in whole seconds, which must fit the
/// format's 32 bits: up to the year 2106 for Unix times).
pub fn encode(req: &Request) -> Result<[u8; RECORD_BYTES], ConfigError> {
    let seconds = u32::try_from(req.time / SECOND).map_err(|_| {
        format!(
            "time {} s is past oracleGeneral's 32-bit seconds (at most {}); write CSV, which keeps 64-bit nanoseconds",
            req.time / SECOND,
            u32::MAX
        )
    })?;
    let mut rec = [0u8; RECORD_BYTES];
    rec[0..4].copy_from_slice(&seconds.to_le_bytes());
    rec[4..12].copy_from_slice(&req.key.to_le_bytes());
    rec[12..16].copy_from_slice(&req.size.to_le_bytes());
    let next = if req.next_access == NEVER {
        -1
    } else {
        req.next_access as i64 + 1
    };
    rec[16..24].copy_from_slice(&next.to_le_bytes());
    Ok(rec)
}

/// Decodes a whole buffer of records; a trailing partial record is an error
/// naming its byte offset.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Request>, ConfigError> {
    let chunks = bytes.chunks_exact(RECORD_BYTES);
    let partial = chunks.remainder().len();
    if partial > 0 {
        let offset = bytes.len() - partial;
        return Err(format!("{} at byte offset {offset}", truncated(partial)).into());
    }
    Ok(chunks.map(|c| decode(c.try_into().unwrap())).collect())
}

/// What is wrong with a last record of only `partial` bytes.
fn truncated(partial: usize) -> String {
    format!("truncated record ({partial} of {RECORD_BYTES} bytes)")
}

/// Decodes a file of records block by block.
pub(super) struct Reader {
    input: Input,
    buf: Vec<u8>,
    /// Decompressed bytes decoded so far.
    offset: u64,
    done: bool,
}

impl Reader {
    pub fn new(input: Input) -> Self {
        Reader {
            input,
            buf: vec![0; BATCH * RECORD_BYTES],
            offset: 0,
            done: false,
        }
    }
}

impl Decode for Reader {
    fn decode(&mut self, out: &mut Vec<Request>, cx: &mut Context) -> Result<bool, TraceError> {
        if self.done {
            return Ok(false);
        }
        let filled = self.input.fill(&mut self.buf, cx)?;
        self.done = filled < self.buf.len();
        let records = self.buf[..filled].chunks_exact(RECORD_BYTES);
        let partial = records.remainder().len();
        out.extend(
            records.map(|r| decode(r.try_into().expect("chunks_exact yields whole records"))),
        );
        self.offset += (filled - partial) as u64;
        if partial > 0 {
            return Err(TraceError::Truncated {
                file: cx.file.clone(),
                offset: self.offset,
                message: truncated(partial),
            });
        }
        Ok(!self.done)
    }

    fn carries_next_access(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_truncation() {
        let req = Request {
            time: 7 * SECOND,
            key: 99,
            size: 4096,
            next_access: 3,
            ..Default::default()
        };
        let never = Request {
            next_access: NEVER,
            ..req
        };
        let mut bytes = encode(&req).unwrap().to_vec();
        bytes.extend_from_slice(&encode(&never).unwrap());
        assert_eq!(decode_all(&bytes).unwrap(), vec![req, never]);
        bytes.extend_from_slice(&[1, 2, 3]);
        assert!(decode_all(&bytes).unwrap_err().0.contains("byte offset 48"));
    }
}
