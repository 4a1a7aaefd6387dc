//! zstd in independent frames: the writer cuts its output into frames of
//! [`FRAME_BYTES`] (still one standard `.zst` file), and the reader
//! decompresses a window of such frames in parallel on a helper thread while
//! the caller decodes the previous window, handing the bytes back in file
//! order. One zstd frame decompresses at well under 1 GB/s on one core, so
//! a single frame caps compressed traces far below plain ones.
//!
//! Frames the parallel path cannot take (no content size in the header,
//! larger than [`MAX_FRAME`], not a zstd frame: libCacheSim's single-frame
//! files, `zstd` output from a pipe) are streamed from there on, still on the
//! helper thread, so decompression overlaps decoding.

use std::io::{self, Cursor, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::io::read_full;

/// Decompressed bytes per frame written: large enough to keep the ratio,
/// small enough that a few frames keep two cores busy.
pub(super) const FRAME_BYTES: usize = 4 << 20;

/// Largest frame decompressed whole (and in parallel); larger frames stream.
const MAX_FRAME: u64 = 32 << 20;

/// Compression level of written frames (zstd's default).
const LEVEL: i32 = 3;

/// Compressed bytes read from the file at a time.
const READ_BYTES: usize = 1 << 20;

/// `bytes` as a sequence of independent zstd frames of [`FRAME_BYTES`]
/// each, with content sizes (for the reader's split) and checksums (so
/// corruption is an error, not wrong requests), compressed in parallel; the
/// output does not depend on the thread count.
pub(super) fn compress(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let frame = |chunk: &[u8]| {
        let mut zstd = zstd::bulk::Compressor::new(LEVEL)?;
        zstd.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
        zstd.compress(chunk)
    };
    if bytes.is_empty() {
        return frame(bytes);
    }
    let frames = bytes
        .par_chunks(FRAME_BYTES)
        .map(frame)
        .collect::<io::Result<Vec<_>>>()?;
    Ok(frames.concat())
}

/// Why decompression stopped: the message and the compressed byte offset.
struct Failure {
    offset: u64,
    message: String,
}

/// What the helper thread sends: decompressed bytes in file order, or the
/// failure that ends the stream.
type Chunk = Result<Vec<u8>, Failure>;

/// The decompressed bytes of a zstd file, produced by a helper thread.
pub(super) struct Frames {
    chunks: Receiver<Chunk>,
    /// Buffers handed back for reuse: fresh multi-MiB buffers for every
    /// frame cost the kernel a page fault per 4 KiB.
    spent: Sender<Vec<u8>>,
    helper: Option<JoinHandle<()>>,
    current: Vec<u8>,
    pos: usize,
    /// Compressed offset of the failure, once one was received.
    pub failed_at: Option<u64>,
    /// The failure's message, repeated by every later read: a failed stream
    /// never turns into a clean end of input.
    failure: Option<String>,
}

impl Frames {
    /// Starts decompressing `file` from its first byte (a pipe too: it is
    /// read once, never rewound).
    pub fn new(file: Box<dyn Read + Send>) -> io::Result<Self> {
        let window = 2 * rayon::current_num_threads().max(1);
        let (send, chunks) = sync_channel(window);
        let (spent, reuse) = channel();
        let helper = std::thread::Builder::new()
            .name("zstd-frames".into())
            .spawn(move || {
                let mut split = Splitter {
                    file,
                    pending: Vec::new(),
                    pending_at: 0,
                    eof: false,
                    reuse,
                };
                if let Err(failure) = split.run(&send, window) {
                    // The reader may be gone already: nothing left to tell.
                    let _ = send.send(Err(failure));
                }
            })?;
        Ok(Frames {
            chunks,
            spent,
            helper: Some(helper),
            current: Vec::new(),
            pos: 0,
            failed_at: None,
            failure: None,
        })
    }
}

impl Read for Frames {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if let Some(message) = &self.failure {
                return Err(io::Error::other(message.clone()));
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    // The helper may be done: then the buffer is just freed.
                    let _ = self.spent.send(std::mem::replace(&mut self.current, chunk));
                    self.pos = 0;
                }
                Ok(Err(failure)) => {
                    self.failed_at = Some(failure.offset);
                    self.failure = Some(failure.message);
                }
                Err(_) => {
                    // The helper is done: at the end, or panicked (never a
                    // silently short trace).
                    if let Some(helper) = self.helper.take()
                        && let Err(panic) = helper.join()
                    {
                        std::panic::resume_unwind(panic);
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The helper's side: finds frame boundaries in the compressed bytes.
struct Splitter {
    file: Box<dyn Read + Send>,
    /// Compressed bytes read but not yet decompressed.
    pending: Vec<u8>,
    /// File offset of `pending[0]`.
    pending_at: u64,
    eof: bool,
    /// Buffers the reader is done with.
    reuse: Receiver<Vec<u8>>,
}

/// A frame found in `pending`: its byte range and decompressed size.
struct Frame {
    start: usize,
    end: usize,
    size: usize,
}

impl Splitter {
    /// Decompresses windows of up to `window` frames in parallel, sending
    /// each frame's bytes in order; streams from the first frame that
    /// cannot be decompressed whole. Stops quietly if the reader is gone.
    fn run(&mut self, send: &SyncSender<Chunk>, window: usize) -> Result<(), Failure> {
        loop {
            let (mut frames, mut at, mut bytes) = (Vec::new(), 0, 0);
            let mut stream = false;
            let mut failure = None;
            while frames.len() < window && bytes < window * FRAME_BYTES {
                match self.frame(at) {
                    Ok(Some(Some(frame))) => {
                        at = frame.end;
                        bytes += frame.size;
                        frames.push(frame);
                    }
                    Ok(Some(None)) => {
                        stream = true;
                        break;
                    }
                    Ok(None) => break,
                    Err(f) => {
                        // Hand over the frames before it first.
                        failure = Some(f);
                        break;
                    }
                }
            }
            if frames.is_empty() {
                return match failure {
                    Some(f) => Err(f),
                    None if stream => self.stream(send),
                    None => Ok(()),
                };
            }
            let buffers: Vec<Vec<u8>> = frames
                .iter()
                .map(|_| self.reuse.try_recv().unwrap_or_default())
                .collect();
            let (pending, base) = (&self.pending, self.pending_at);
            let decoded: Vec<Chunk> = frames
                .par_iter()
                .zip(buffers)
                .map(|(f, mut out)| {
                    out.clear();
                    out.reserve(f.size);
                    zstd::zstd_safe::decompress(&mut out, &pending[f.start..f.end])
                        .map(|_| out)
                        .map_err(|code| Failure {
                            offset: base + f.start as u64,
                            message: corrupt(zstd::zstd_safe::get_error_name(code)),
                        })
                })
                .collect();
            for chunk in decoded {
                let failed = chunk.is_err();
                if send.send(chunk).is_err() || failed {
                    return Ok(());
                }
            }
            if let Some(f) = failure {
                return Err(f);
            }
            self.pending.drain(..at);
            self.pending_at += at as u64;
        }
    }

    /// The frame at `pending[at..]`: None at the end of the file, Some(None)
    /// when it must be streamed, or its extent. A frame cut short by the end
    /// of the file fails at the end of the file.
    fn frame(&mut self, at: usize) -> Result<Option<Option<Frame>>, Failure> {
        // A frame header is at most 18 bytes.
        self.fill(at + 18)?;
        if self.pending.len() == at {
            return Ok(None);
        }
        let size = match zstd::zstd_safe::get_frame_content_size(&self.pending[at..]) {
            Ok(Some(size)) if size <= MAX_FRAME => size as usize,
            _ => return Ok(Some(None)),
        };
        // A sound frame of `size` bytes is never longer than this.
        let limit = zstd::zstd_safe::compress_bound(size) + 1024;
        loop {
            match zstd::zstd_safe::find_frame_compressed_size(&self.pending[at..]) {
                Ok(len) => {
                    return Ok(Some(Some(Frame {
                        start: at,
                        end: at + len,
                        size,
                    })));
                }
                Err(code) if self.eof || self.pending.len() - at > limit => {
                    let offset = if self.eof {
                        self.pending_at + self.pending.len() as u64
                    } else {
                        self.pending_at + at as u64
                    };
                    return Err(Failure {
                        offset,
                        message: corrupt(zstd::zstd_safe::get_error_name(code)),
                    });
                }
                Err(_) => {
                    let want = self.pending.len() + READ_BYTES;
                    self.fill(want)?;
                }
            }
        }
    }

    /// Reads until `pending` holds `len` bytes or the file ends.
    fn fill(&mut self, len: usize) -> Result<(), Failure> {
        while self.pending.len() < len && !self.eof {
            let have = self.pending.len();
            self.pending.resize(have.max(len).max(have + READ_BYTES), 0);
            let read = loop {
                match self.file.read(&mut self.pending[have..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    r => break r,
                }
            };
            let n = read.map_err(|e| Failure {
                offset: self.pending_at + have as u64,
                message: corrupt(&e.to_string()),
            })?;
            self.pending.truncate(have + n);
            self.eof = n == 0;
        }
        Ok(())
    }

    /// Streams the rest of the file (from `pending[0]`) through zstd's
    /// decoder, which takes any frame; failures name the compressed bytes
    /// consumed so far.
    fn stream(&mut self, send: &SyncSender<Chunk>) -> Result<(), Failure> {
        let head = Cursor::new(std::mem::take(&mut self.pending));
        let mut consumed = Counting {
            inner: head.chain(&mut self.file),
            count: self.pending_at,
        };
        let mut decoder = zstd::stream::read::Decoder::new(&mut consumed)
            .map_err(|e| failure_at(self.pending_at, &e))?;
        loop {
            let mut chunk = self.reuse.try_recv().unwrap_or_default();
            chunk.resize(READ_BYTES, 0);
            let got = read_full(&mut decoder, &mut chunk)
                .map_err(|e| failure_at(decoder.get_ref().get_ref().count, &e))?;
            if got == 0 {
                return Ok(());
            }
            chunk.truncate(got);
            if send.send(Ok(chunk)).is_err() {
                return Ok(());
            }
        }
    }
}

fn failure_at(offset: u64, e: &io::Error) -> Failure {
    Failure {
        offset,
        message: corrupt(&e.to_string()),
    }
}

fn corrupt(why: &str) -> String {
    format!("truncated or corrupt zstd stream ({why})")
}

/// Counts the compressed bytes the streaming decoder takes.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_after_a_failure_fails_again() {
        let data: Vec<u8> = (0..3 * FRAME_BYTES as u32 / 4)
            .flat_map(|i| i.to_le_bytes())
            .collect();
        let compressed = compress(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.zst");
        std::fs::write(&path, &compressed[..compressed.len() - 10]).unwrap();
        let mut frames = Frames::new(Box::new(std::fs::File::open(&path).unwrap())).unwrap();
        let mut sink = Vec::new();
        assert!(frames.read_to_end(&mut sink).is_err());
        let mut buf = [0u8; 16];
        assert!(
            frames.read(&mut buf).is_err(),
            "a retry must not look like the end"
        );
        assert!(frames.failed_at.is_some());
    }
}
