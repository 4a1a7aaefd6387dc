//! The driver shared by the line-based formats: splits the input into lines
//! in large chunks (no allocation per line), hands each to a [`LineFormat`]
//! and turns its complaints into `file:line:column` errors or skips.

use super::source::Input;
use super::{BATCH, Context, Decode, Names, Observed, Request, TraceError};

/// Bytes read per refill; a longer line grows the buffer.
const CHUNK: usize = 1 << 20;

/// A longer line means the wrong format (or a binary file): refuse it
/// rather than grow the buffer without bound.
const MAX_LINE: usize = 64 << 20;

/// What a line format found wrong with a line.
#[derive(Debug)]
pub(super) struct LineError {
    /// 0-based byte offset in the line.
    pub at: usize,
    pub message: String,
    /// Stops the read even when bad lines are skipped: the line is fine,
    /// but the trace as a whole cannot be read (too many routes).
    pub fatal: bool,
}

impl LineError {
    pub fn new(at: usize, message: impl Into<String>) -> Self {
        LineError {
            at,
            message: message.into(),
            fatal: false,
        }
    }

    /// An error that `--skip-bad-lines` does not skip.
    pub fn fatal(at: usize, message: impl Into<String>) -> Self {
        LineError {
            fatal: true,
            ..Self::new(at, message)
        }
    }
}

/// Where a parsed line goes: its requests, and the names that strings
/// become keys, clients and routes through.
pub(super) struct Out<'a> {
    pub names: &'a mut Names,
    pub requests: &'a mut Vec<Request>,
}

/// A text format: one line in, zero or more requests out.
pub(super) trait LineFormat {
    /// Whether `line` is passed over, neither a request nor an error: by
    /// default a blank one.
    fn skips(&self, line: &[u8]) -> bool {
        line.trim_ascii().is_empty()
    }

    /// Parses `line` (without its line ending), appending its requests to
    /// `out`; on error, appends nothing.
    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError>;

    /// The real cache's hits among the lines parsed, when the format reads
    /// a cache status.
    fn observed(&self) -> Option<Observed> {
        None
    }
}

/// Splits an [`Input`] into lines.
pub(super) struct Lines {
    input: Input,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// 1-based number of the line last returned.
    pub number: u64,
}

impl Lines {
    pub fn new(input: Input) -> Self {
        Lines {
            input,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            number: 0,
        }
    }

    /// The next line without `\n` or `\r\n` (nor, on the first line, a
    /// UTF-8 byte-order mark, which spreadsheets write and which would
    /// otherwise become part of the first column's name); None at the end.
    pub fn next_line(&mut self, cx: &Context) -> Result<Option<&[u8]>, TraceError> {
        let (from, to) = loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let from = self.start;
                self.start += pos + 1;
                break (from, from + pos);
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let from = self.start;
                self.start = self.end;
                break (from, self.end);
            }
            self.refill(cx)?;
        };
        self.number += 1;
        let line = trim_cr(&self.buf[from..to]);
        if self.number == 1 {
            return Ok(Some(line.strip_prefix(BOM).unwrap_or(line)));
        }
        Ok(Some(line))
    }

    /// Moves the partial line to the front and reads more after it.
    fn refill(&mut self, cx: &Context) -> Result<(), TraceError> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_LINE {
                return Err(TraceError::Line {
                    file: cx.file.clone(),
                    line: self.number + 1,
                    column: 1,
                    message: format!(
                        "line longer than {} MiB: is the format right?",
                        MAX_LINE >> 20
                    ),
                });
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.input.read(&mut self.buf[self.end..], cx)?;
        self.eof = n == 0;
        self.end += n;
        Ok(())
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A [`Decode`] for any line format.
pub(super) struct LineReader<F> {
    lines: Lines,
    format: F,
}

impl<F: LineFormat> LineReader<F> {
    pub fn new(input: Input, format: F) -> Self {
        Self::from_lines(Lines::new(input), format)
    }

    /// Continues from `lines` (after a header was read from them).
    pub fn from_lines(lines: Lines, format: F) -> Self {
        LineReader { lines, format }
    }
}

impl<F: LineFormat> Decode for LineReader<F> {
    fn decode(&mut self, out: &mut Vec<Request>, cx: &mut Context) -> Result<bool, TraceError> {
        while out.len() < BATCH {
            let Some(line) = self.lines.next_line(cx)? else {
                return Ok(false);
            };
            if self.format.skips(line) {
                continue;
            }
            if let Err(e) = self.format.parse(
                line,
                Out {
                    names: &mut cx.names,
                    requests: out,
                },
            ) {
                if e.fatal {
                    return Err(TraceError::Line {
                        file: cx.file.clone(),
                        line: self.lines.number,
                        column: e.at + 1,
                        message: e.message,
                    });
                }
                cx.bad_line(self.lines.number, e.at + 1, e.message)?;
            }
        }
        Ok(true)
    }

    fn observed(&self) -> Option<Observed> {
        self.format.observed()
    }
}
