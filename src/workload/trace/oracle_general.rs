//! Reads libCacheSim's oracleGeneral binary trace (see
//! [`crate::workload::oracle`]) in blocks of [`BATCH`] records: one read
//! and one tight decode loop per block, no allocation per record.

use super::source::Input;
use super::{BATCH, Context, Decode, Request, TraceError};
use crate::workload::oracle::{RECORD_BYTES, decode};

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
                message: format!("truncated record ({partial} of {RECORD_BYTES} bytes)"),
            });
        }
        Ok(!self.done)
    }

    fn carries_next_access(&self) -> bool {
        true
    }
}
