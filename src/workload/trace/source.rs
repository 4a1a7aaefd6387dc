//! The bytes of a trace file, decompressed when its first bytes are a zstd
//! or gzip magic number (so a compressed file is read whatever its name).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use super::{Context, TraceError};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A trace's decompressed byte stream.
pub(super) struct Input {
    reader: Box<dyn Read>,
    /// "zstd" or "gzip" when compressed.
    compression: Option<&'static str>,
    /// Compressed bytes taken from the file so far, to place a truncation.
    consumed: Rc<Cell<u64>>,
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
        let head = io::Cursor::new(magic[..got].to_vec());
        let consumed = Rc::new(Cell::new(0));
        let counted = Counting {
            inner: head.chain(file),
            count: consumed.clone(),
        };
        let (reader, compression): (Box<dyn Read>, _) = if magic[..got] == ZSTD_MAGIC {
            (Box::new(zstd::Decoder::new(counted)?), Some("zstd"))
        } else if got >= 2 && magic[..2] == GZIP_MAGIC {
            let buffered = BufReader::with_capacity(1 << 16, counted);
            (
                Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
                Some("gzip"),
            )
        } else {
            (Box::new(counted), None)
        };
        Ok(Input {
            reader,
            compression,
            consumed,
        })
    }

    /// Reads until `buf` is full or the input ends; returns the bytes read.
    pub fn fill(&mut self, buf: &mut [u8], cx: &Context) -> Result<usize, TraceError> {
        read_full(&mut self.reader, buf).map_err(|e| self.error(e, cx))
    }

    /// Reads what is available into `buf` (0 at the end).
    pub fn read(&mut self, buf: &mut [u8], cx: &Context) -> Result<usize, TraceError> {
        loop {
            match self.reader.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r.map_err(|e| self.error(e, cx)),
            }
        }
    }

    /// A read error: in compressed input, a truncated or corrupt stream at
    /// the compressed offset reached; otherwise the I/O error itself.
    fn error(&self, e: io::Error, cx: &Context) -> TraceError {
        match self.compression {
            Some(kind) => TraceError::Truncated {
                file: cx.file.clone(),
                offset: self.consumed.get(),
                message: format!("truncated or corrupt {kind} stream ({e})"),
            },
            None => TraceError::Io {
                file: cx.file.clone(),
                source: e,
            },
        }
    }
}

/// Reads until `buf` is full or `r` ends.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
