//! The bytes of a trace file, decompressed when its first bytes are a zstd
//! or gzip magic number (so a compressed file is read whatever its name);
//! zstd on a helper thread (see [`super::zstd_frames`]).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::zstd_frames::Frames;
use super::{Context, TraceError};
use crate::io::read_full;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A trace's decompressed byte stream.
pub(super) struct Input {
    source: Source,
}

enum Source {
    Plain(Box<dyn Read>),
    Gzip {
        reader: Box<dyn Read>,
        /// Compressed bytes taken from the file so far, to place a truncation.
        consumed: Rc<Cell<u64>>,
    },
    /// Decompressed on a helper thread, frames in parallel.
    Zstd(Frames),
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl Input {
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        let mut magic = [0u8; 4];
        let got = read_full(&mut file, &mut magic)?;
        // The magic bytes are put back in front, not re-read: a pipe can be
        // read only once.
        let head = io::Cursor::new(magic[..got].to_vec());
        if magic[..got] == ZSTD_MAGIC {
            return Ok(Input {
                source: Source::Zstd(Frames::new(Box::new(head.chain(file)))?),
            });
        }
        let source = if got >= 2 && magic[..2] == GZIP_MAGIC {
            let consumed = Rc::new(Cell::new(0));
            let counted = Counting {
                inner: head.chain(file),
                count: consumed.clone(),
            };
            let buffered = BufReader::with_capacity(1 << 16, counted);
            Source::Gzip {
                reader: Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
                consumed,
            }
        } else {
            Source::Plain(Box::new(head.chain(file)))
        };
        Ok(Input { source })
    }

    fn reader(&mut self) -> &mut dyn Read {
        match &mut self.source {
            Source::Plain(r) | Source::Gzip { reader: r, .. } => r,
            Source::Zstd(frames) => frames,
        }
    }

    /// Reads until `buf` is full or the input ends; returns the bytes read.
    pub fn fill(&mut self, buf: &mut [u8], cx: &Context) -> Result<usize, TraceError> {
        read_full(self.reader(), buf).map_err(|e| self.error(e, cx))
    }

    /// Reads what is available into `buf` (0 at the end).
    pub fn read(&mut self, buf: &mut [u8], cx: &Context) -> Result<usize, TraceError> {
        loop {
            match self.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r.map_err(|e| self.error(e, cx)),
            }
        }
    }

    /// A read error: in compressed input, a truncated or corrupt stream at
    /// the compressed offset reached; otherwise the I/O error itself.
    fn error(&self, e: io::Error, cx: &Context) -> TraceError {
        let truncated = |offset, message| TraceError::Truncated {
            file: cx.file.clone(),
            offset,
            message,
        };
        match &self.source {
            Source::Gzip { consumed, .. } => truncated(
                consumed.get(),
                format!("truncated or corrupt gzip stream ({e})"),
            ),
            Source::Zstd(Frames {
                failed_at: Some(offset),
                ..
            }) => truncated(*offset, e.to_string()),
            _ => TraceError::Io {
                file: cx.file.clone(),
                source: e,
            },
        }
    }
}
