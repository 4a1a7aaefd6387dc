//! Delimited text: columns chosen by header name or 0-based index, fields
//! split in place (quoted fields allowed, but not spanning lines), only the
//! needed columns decoded.

use super::fields::{clamp_size, key_of, parse_u64, show};
use super::lines::{LineError, LineFormat, LineReader, Lines};
use super::source::Input;
use super::time::parse_number;
use super::{Clients, Column, Context, Request, TimeUnit, TraceError, TraceOptions};

/// Header names tried, in order, for columns not given explicitly, with the
/// unit such a name implies (edgesim's own CSV uses `time_ns` and `ttl_ms`).
const TIME_NAMES: &[(&str, Option<TimeUnit>)] = &[
    ("time_ns", Some(TimeUnit::Ns)),
    ("time", None),
    ("timestamp", None),
];
const KEY_NAMES: &[(&str, Option<TimeUnit>)] = &[("key", None), ("obj_id", None), ("id", None)];
const SIZE_NAMES: &[(&str, Option<TimeUnit>)] = &[("size", None), ("obj_size", None)];
const TTL_NAMES: &[(&str, Option<TimeUnit>)] = &[("ttl_ms", Some(TimeUnit::Ms)), ("ttl", None)];
const CLIENT_NAMES: &[(&str, Option<TimeUnit>)] = &[("client", None)];

pub(super) struct Csv {
    delimiter: u8,
    key: usize,
    time: Option<(usize, TimeUnit)>,
    size: Option<usize>,
    ttl: Option<(usize, TimeUnit)>,
    client: Option<usize>,
    op: Option<usize>,
    ops: Vec<Vec<u8>>,
    /// Fields to split: one past the last needed column.
    needed: usize,
    /// Scratch: byte ranges of the fields of the current line.
    fields: Vec<(usize, usize)>,
}

/// Reads the header (unless `--no-header`) and resolves the columns.
pub(super) fn open(
    input: Input,
    opts: &TraceOptions,
    cx: &Context,
) -> Result<LineReader<Csv>, TraceError> {
    let delimiter = opts.delimiter.map_or(b',', |d| d.0);
    let mut lines = Lines::new(input);
    let header = if opts.no_header {
        None
    } else {
        let line = lines.next_line(cx)?.unwrap_or_default();
        let mut spans = Vec::new();
        split(line, delimiter, usize::MAX, &mut spans)
            .map_err(|e| cx.invalid(format!("header, column {}: {}", e.at + 1, e.message)))?;
        Some(
            spans
                .iter()
                .map(|&(a, b)| String::from_utf8_lossy(line[a..b].trim_ascii()).into_owned())
                .collect::<Vec<_>>(),
        )
    };
    let header = header.as_deref();
    let find = |col: &Option<Column>, defaults, flag| {
        resolve(col.as_ref(), defaults, header, flag).map_err(|m| cx.invalid(m))
    };
    let key = match find(&opts.key_column, KEY_NAMES, "key")? {
        Some((i, _)) => i,
        None if header.is_none() => 0,
        None => {
            return Err(cx.invalid(format!(
                "no key column: pass --key-column (TOML: key_column); the header has {}",
                header.unwrap_or_default().join(", ")
            )));
        }
    };
    let unit =
        |found: Option<TimeUnit>, given: Option<TimeUnit>| given.or(found).unwrap_or(TimeUnit::S);
    let time =
        find(&opts.time_column, TIME_NAMES, "time")?.map(|(i, u)| (i, unit(u, opts.time_unit)));
    let ttl = find(&opts.ttl_column, TTL_NAMES, "ttl")?.map(|(i, u)| (i, unit(u, opts.ttl_unit)));
    let size = find(&opts.size_column, SIZE_NAMES, "size")?.map(|(i, _)| i);
    let client = find(&opts.client_column, CLIENT_NAMES, "client")?.map(|(i, _)| i);
    let op = find(&opts.op_column, &[], "op")?.map(|(i, _)| i);
    let ops = opts.op_filter().map_err(|m| cx.invalid(m))?;
    let needed = [
        Some(key),
        time.map(|t| t.0),
        size,
        ttl.map(|t| t.0),
        client,
        op,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0)
        + 1;
    let csv = Csv {
        delimiter,
        key,
        time,
        size,
        ttl,
        client,
        op,
        ops,
        needed,
        fields: Vec::with_capacity(needed),
    };
    Ok(LineReader::from_lines(lines, csv))
}

/// The index of a column given as an option, or of the first default name
/// the header has; with the unit the default name implies.
fn resolve(
    given: Option<&Column>,
    defaults: &[(&str, Option<TimeUnit>)],
    header: Option<&[String]>,
    flag: &str,
) -> Result<Option<(usize, Option<TimeUnit>)>, String> {
    match (given, header) {
        (Some(Column::Index(i)), _) => Ok(Some((*i, None))),
        (Some(Column::Name(name)), Some(header)) => header
            .iter()
            .position(|h| h == name)
            .map(|i| Some((i, None)))
            .ok_or_else(|| {
                format!(
                    "--{flag}-column: no column named {name:?}; the header has {}",
                    header.join(", ")
                )
            }),
        (Some(Column::Name(name)), None) => Err(format!(
            "--{flag}-column {name:?} names a column, but the file has no header: give a 0-based index"
        )),
        (None, Some(header)) => Ok(defaults
            .iter()
            .find_map(|(name, unit)| header.iter().position(|h| h == name).map(|i| (i, *unit)))),
        (None, None) => Ok(None),
    }
}

/// Splits `line` into at most `max` fields as byte ranges, without the
/// quotes of quoted fields (`""` inside them is left as is).
fn split(
    line: &[u8],
    delimiter: u8,
    max: usize,
    out: &mut Vec<(usize, usize)>,
) -> Result<(), LineError> {
    out.clear();
    let mut i = 0;
    while out.len() < max {
        if line.get(i) == Some(&b'"') {
            let mut close = i + 1;
            loop {
                match memchr::memchr(b'"', &line[close..]) {
                    None => return Err(LineError::new(i, "unterminated quoted field")),
                    Some(p) if line.get(close + p + 1) == Some(&b'"') => close += p + 2,
                    Some(p) => {
                        close += p;
                        break;
                    }
                }
            }
            out.push((i + 1, close));
            i = close + 1;
            match line.get(i) {
                None => return Ok(()),
                Some(&d) if d == delimiter => i += 1,
                Some(_) => {
                    return Err(LineError::new(
                        i,
                        "expected a delimiter after the closing quote",
                    ));
                }
            }
        } else {
            let end = memchr::memchr(delimiter, &line[i..]).map_or(line.len(), |p| i + p);
            out.push((i, end));
            if end == line.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
    Ok(())
}

/// Decodes field `span` of `line` with `parse`, or says what was expected.
fn field<T>(
    line: &[u8],
    (start, end): (usize, usize),
    parse: impl Fn(&[u8]) -> Option<T>,
    expected: impl Fn() -> String,
) -> Result<T, LineError> {
    let text = line[start..end].trim_ascii();
    parse(text).ok_or_else(|| {
        LineError::new(
            start,
            format!("expected {}, found {}", expected(), show(text)),
        )
    })
}

impl LineFormat for Csv {
    fn parse(
        &mut self,
        line: &[u8],
        clients: &mut Clients,
        out: &mut Vec<Request>,
    ) -> Result<(), LineError> {
        if line.is_empty() {
            return Ok(());
        }
        split(line, self.delimiter, self.needed, &mut self.fields)?;
        let f = &self.fields;
        if f.len() < self.needed {
            return Err(LineError::new(
                line.len(),
                format!(
                    "expected at least {} fields, found {}",
                    self.needed,
                    f.len()
                ),
            ));
        }
        if let Some(op) = self.op {
            let value = line[f[op].0..f[op].1].trim_ascii();
            if !self.ops.is_empty() && !self.ops.iter().any(|o| o.eq_ignore_ascii_case(value)) {
                return Ok(());
            }
        }
        let time = match self.time {
            Some((i, unit)) => field(
                line,
                f[i],
                |t| parse_number(t, unit),
                || time_expected(unit),
            )?,
            None => 0,
        };
        let size = match self.size {
            Some(i) => field(line, f[i], parse_u64, || {
                "a size in bytes (an unsigned integer)".into()
            })?,
            None => 1,
        };
        let ttl_ns = match self.ttl {
            Some((i, unit)) => field(
                line,
                f[i],
                |t| parse_number(t, unit),
                || time_expected(unit),
            )?,
            None => 0,
        };
        let key = key_of(line[f[self.key].0..f[self.key].1].trim_ascii());
        let client = self
            .client
            .map_or(0, |i| clients.intern(line[f[i].0..f[i].1].trim_ascii()));
        out.push(Request {
            time,
            key,
            size: clamp_size(size),
            ttl_ms: (ttl_ns / 1_000_000).min(u32::MAX as u64) as u32,
            client,
            ..Request::default()
        });
        Ok(())
    }
}

/// What a time field in `unit` looks like, for messages.
pub(super) fn time_expected(unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Rfc3339 => "an RFC 3339 time such as 2024-05-17T10:05:03Z".into(),
        u => format!("a time in {} (a non-negative number)", u.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_fields() {
        let mut out = Vec::new();
        let line = br#"1,"a,b",,"x""y""#;
        split(line, b',', usize::MAX, &mut out).unwrap();
        let fields: Vec<&[u8]> = out.iter().map(|&(a, b)| &line[a..b]).collect();
        assert_eq!(fields, [&b"1"[..], b"a,b", b"", br#"x""y"#]);
        split(b"1,2,3,4", b',', 2, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert!(split(br#""open"#, b',', 9, &mut out).is_err());
        assert!(split(br#""a"b"#, b',', 9, &mut out).is_err());
    }
}
