//! Delimited text: columns chosen by header name or 0-based index, fields
//! split in place (quoted fields allowed, but not spanning lines), only the
//! needed columns decoded.

use super::cache_status::{self, Observed};
use super::fields::{SIZE_EXPECTED, clamp_size, client_tier, parse_size, show, tier, ttl_ms};
use super::lines::{LineError, LineFormat, LineReader, Lines, Out};
use super::source::Input;
use super::time::{parse_number, scale};
use super::{Column, Context, LogKey, Request, TimeUnit, TraceError, TraceOptions};
use crate::error::ConfigError;

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
const TIER_NAMES: &[(&str, Option<TimeUnit>)] = &[("tier", None)];

/// What a column feeds, as bits: one column may feed several roles.
const KEY: u16 = 1;
const TIME: u16 = 2;
const SIZE: u16 = 4;
const TTL: u16 = 8;
const CLIENT: u16 = 16;
const OP: u16 = 32;
const TIER: u16 = 64;
const ROUTE: u16 = 128;
const HOST: u16 = 256;
const CACHE_STATUS: u16 = 512;
/// The key column when `log_key` makes its request target into the key.
const TARGET: u16 = 1024;
/// The roles most columns do not have, tested together to keep the common
/// columns (key, time, size, TTL, client) on a short path.
const RARE: u16 = OP | TIER | ROUTE | HOST | CACHE_STATUS | TARGET;

pub(super) struct Csv {
    delimiter: u8,
    /// The roles of each column up to the last needed one.
    roles: Vec<u16>,
    time_unit: TimeUnit,
    ttl_unit: TimeUnit,
    ops: Vec<Vec<u8>>,
    /// How the key column becomes a key (a request target unless `Path`).
    log_key: LogKey,
    /// Scratch for host+path keys.
    scratch: Vec<u8>,
    /// The real cache's hits, counted when there is a cache status column.
    observed: Option<Observed>,
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
        let mut names = Vec::new();
        let mut at = 0;
        while at <= line.len() {
            let (start, end, next) = next_field(line, at, delimiter)
                .map_err(|e| cx.invalid(format!("header, column {}: {}", e.at + 1, e.message)))?;
            names.push(String::from_utf8_lossy(line[start..end].trim_ascii()).into_owned());
            at = next;
        }
        Some(names)
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
                "no key column: pass --key-column (TOML: key_column); {}",
                describe(header.unwrap_or_default())
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
    let tier = find(&opts.tier_column, TIER_NAMES, "tier")?.map(|(i, _)| i);
    let op = find(&opts.op_column, &[], "op")?.map(|(i, _)| i);
    // No default name: a trace read before route columns existed keeps its
    // single route even if it happens to have a `route` column.
    let route = find(&opts.route_column, &[], "route")?.map(|(i, _)| i);
    let host = find(&opts.host_column, &[], "host")?.map(|(i, _)| i);
    let cache_status = find(&opts.cache_status_column, &[], "cache-status")?.map(|(i, _)| i);
    let ops = opts.op_filter().map_err(|m| cx.invalid(m))?;
    let mut roles = Vec::new();
    let key_role = if opts.log_key == LogKey::Path {
        KEY
    } else {
        TARGET
    };
    let columns = [
        (Some(key), key_role),
        (time.map(|t| t.0), TIME),
        (size, SIZE),
        (ttl.map(|t| t.0), TTL),
        (client, CLIENT),
        (tier, TIER),
        (op, OP),
        (route, ROUTE),
        (host, HOST),
        (cache_status, CACHE_STATUS),
    ];
    for (column, role) in columns {
        if let Some(i) = column {
            if roles.len() <= i {
                roles.resize(i + 1, 0);
            }
            roles[i] |= role;
        }
    }
    let csv = Csv {
        delimiter,
        roles,
        time_unit: time.map_or(TimeUnit::S, |t| t.1),
        ttl_unit: ttl.map_or(TimeUnit::S, |t| t.1),
        ops,
        log_key: opts.log_key,
        scratch: Vec::new(),
        observed: cache_status.map(|_| Observed::default()),
    };
    Ok(LineReader::from_lines(lines, csv))
}

/// The header's names for a message.
fn describe(header: &[String]) -> String {
    if header.iter().all(|h| h.is_empty()) {
        "the header line is empty or missing (pass --no-header for a file without one)".into()
    } else {
        // A header can be a whole line of junk: name a few columns, shortly.
        const NAMED: usize = 20;
        let mut names: Vec<String> = header
            .iter()
            .take(NAMED)
            .map(|h| show(h.as_bytes()))
            .collect();
        if header.len() > NAMED {
            names.push(format!("and {} more", header.len() - NAMED));
        }
        format!("the header has {}", names.join(", "))
    }
}

/// The index of a column given as an option, or of the first default name
/// the header has; with the unit the default name implies.
fn resolve(
    given: Option<&Column>,
    defaults: &[(&str, Option<TimeUnit>)],
    header: Option<&[String]>,
    flag: &str,
) -> Result<Option<(usize, Option<TimeUnit>)>, ConfigError> {
    match (given, header) {
        (Some(Column::Index(i)), _) => Ok(Some((*i, None))),
        (Some(Column::Name(name)), Some(header)) => header
            .iter()
            .position(|h| h == name)
            .map(|i| Some((i, None)))
            .ok_or_else(|| {
                format!(
                    "--{flag}-column: no column named {name:?}; {}",
                    describe(header)
                ).into()
            }),
        (Some(Column::Name(name)), None) => Err(format!(
            "--{flag}-column {name:?} names a column, but the file has no header: give a 0-based index"
        ).into()),
        (None, Some(header)) => Ok(defaults
            .iter()
            .find_map(|(name, unit)| header.iter().position(|h| h == name).map(|i| (i, *unit)))),
        (None, None) => Ok(None),
    }
}

/// The field starting at byte `at`: its content range (without the quotes
/// of a quoted field; `""` inside is left as is) and where the next field
/// starts (`line.len() + 1` after the last one).
#[inline(always)]
fn next_field(line: &[u8], at: usize, delimiter: u8) -> Result<(usize, usize, usize), LineError> {
    if line.get(at) == Some(&b'"') {
        return quoted_field(line, at, delimiter);
    }
    // Fields are short: a plain scan beats a memchr call per field.
    let end = line[at..]
        .iter()
        .position(|&b| b == delimiter)
        .map_or(line.len(), |p| at + p);
    Ok((at, end, end + 1))
}

/// [`next_field`] that also reads the field as an unsigned decimal in the
/// same pass (most fields are integers): the value when the field is 1 to
/// 19 digits and nothing else, so it cannot overflow; other fields (spaces,
/// signs, decimals, 20 digits) are left to the general parsers.
#[inline(always)]
fn next_field_number(
    line: &[u8],
    at: usize,
    delimiter: u8,
) -> Result<(usize, usize, usize, Option<u64>), LineError> {
    if line.get(at) == Some(&b'"') {
        let (start, end, next) = quoted_field(line, at, delimiter)?;
        return Ok((start, end, next, None));
    }
    let (mut value, mut end) = (0u64, at);
    while let Some(d) = line.get(end).map(|b| b.wrapping_sub(b'0'))
        && d <= 9
    {
        value = value.wrapping_mul(10).wrapping_add(d as u64);
        end += 1;
    }
    if end < line.len() && line[end] != delimiter {
        // Not a plain integer: find the delimiter (a quote here is text).
        let end = line[end..]
            .iter()
            .position(|&b| b == delimiter)
            .map_or(line.len(), |p| end + p);
        return Ok((at, end, end + 1, None));
    }
    let number = (1..20).contains(&(end - at)).then_some(value);
    Ok((at, end, end + 1, number))
}

/// [`next_field`] for a field that starts with a quote (rare: kept out of
/// the hot path).
#[cold]
#[inline(never)]
fn quoted_field(line: &[u8], at: usize, delimiter: u8) -> Result<(usize, usize, usize), LineError> {
    let mut close = at + 1;
    loop {
        match memchr::memchr(b'"', &line[close..]) {
            None => return Err(LineError::new(at, "unterminated quoted field")),
            Some(p) if line.get(close + p + 1) == Some(&b'"') => close += p + 2,
            Some(p) => {
                close += p;
                break;
            }
        }
    }
    match line.get(close + 1) {
        None => Ok((at + 1, close, line.len() + 1)),
        Some(&d) if d == delimiter => Ok((at + 1, close, close + 2)),
        Some(_) => Err(LineError::new(
            close + 1,
            "expected a delimiter after the closing quote",
        )),
    }
}

/// Strips spaces around a field; most fields have none, so check first.
#[inline(always)]
fn trim(field: &[u8]) -> &[u8] {
    match (field.first(), field.last()) {
        (Some(&a), Some(&b)) if a > b' ' && b > b' ' => field,
        _ => field.trim_ascii(),
    }
}

/// Decodes `text` (a field starting at byte `start`) with `parse`, or says
/// what was expected.
#[inline(always)]
fn field<T>(
    text: &[u8],
    start: usize,
    parse: impl Fn(&[u8]) -> Option<T>,
    expected: impl Fn() -> String,
) -> Result<T, LineError> {
    parse(text).ok_or_else(|| {
        LineError::new(
            start,
            format!("expected {}, found {}", expected(), show(text)),
        )
    })
}

impl LineFormat for Csv {
    /// Only an empty line: one of blanks is a row of empty fields, and
    /// reported as such.
    fn skips(&self, line: &[u8]) -> bool {
        line.is_empty()
    }

    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        let mut req = Request {
            size: 1,
            ..Request::default()
        };
        let mut client = None;
        let mut given_tier = None;
        let mut route = None;
        let mut target = None;
        let mut host: &[u8] = b"";
        let mut status = None;
        let mut at = 0;
        for (column, &roles) in self.roles.iter().enumerate() {
            if at > line.len() {
                return Err(LineError::new(
                    line.len(),
                    format!(
                        "expected at least {} fields, found {column}",
                        self.roles.len()
                    ),
                ));
            }
            if roles == 0 {
                at = next_field(line, at, self.delimiter)?.2;
                continue;
            }
            let (start, end, next, number) = next_field_number(line, at, self.delimiter)?;
            at = next;
            let text = trim(&line[start..end]);
            if roles & RARE != 0 {
                if roles & OP != 0
                    && !self.ops.is_empty()
                    && !self.ops.iter().any(|o| o.eq_ignore_ascii_case(text))
                {
                    return Ok(());
                }
                if roles & TIER != 0 {
                    given_tier = Some(tier(text));
                }
                if roles & ROUTE != 0 {
                    route = Some((text, start));
                }
                if roles & TARGET != 0 {
                    target = Some(text);
                }
                if roles & HOST != 0 {
                    host = text;
                }
                if roles & CACHE_STATUS != 0 {
                    status = Some(field(
                        text,
                        start,
                        cache_status::classify,
                        cache_status::expected,
                    )?);
                }
            }
            if roles & KEY != 0 {
                req.key = match number {
                    Some(key) => key,
                    None => out.names.key(text),
                };
            }
            if roles & TIME != 0 {
                req.time = duration(text, start, number, self.time_unit)?;
            }
            if roles & SIZE != 0 {
                let size = match number {
                    Some(size) => size,
                    None => field(text, start, parse_size, || SIZE_EXPECTED.into())?,
                };
                req.size = clamp_size(size);
            }
            if roles & TTL != 0 {
                let ns = duration(text, start, number, self.ttl_unit)?;
                req.ttl_ms = ttl_ms(ns);
            }
            if roles & CLIENT != 0 {
                client = Some(text);
            }
        }
        // Interned last, so a line refused for another reason adds no route.
        if let Some((name, start)) = route {
            req.route = out
                .names
                .route(name)
                .map_err(|m| LineError::fatal(start, m))?;
        }
        if let Some(name) = client {
            req.client = out.names.client(name);
            req.tier = client_tier(name);
        }
        if let Some(tier) = given_tier {
            req.tier = tier;
        }
        if let Some(target) = target {
            req.key = out
                .names
                .key(self.log_key.of(host, target, &mut self.scratch));
        }
        if let (Some(observed), Some(status)) = (&mut self.observed, status) {
            observed.add(status);
        }
        out.requests.push(req);
        Ok(())
    }

    fn observed(&self) -> Option<Observed> {
        self.observed
    }
}

/// A time field in nanoseconds: from the integer already read when there is
/// one, else parsed in `unit` (decimals, RFC 3339), or what was expected.
#[inline(always)]
fn duration(
    text: &[u8],
    start: usize,
    number: Option<u64>,
    unit: TimeUnit,
) -> Result<u64, LineError> {
    if let Some(ns) = number
        .zip(scale(unit))
        .and_then(|(n, scale)| n.checked_mul(scale))
    {
        return Ok(ns);
    }
    field(
        text,
        start,
        |t| parse_number(t, unit),
        || time_expected(unit),
    )
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
        let line = br#"1,"a,b",,"x""y""#;
        let mut fields: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        while at <= line.len() {
            let (start, end, next) = next_field(line, at, b',').unwrap();
            fields.push(&line[start..end]);
            at = next;
        }
        assert_eq!(fields, [&b"1"[..], b"a,b", b"", br#"x""y"#]);
        assert!(next_field(br#""open"#, 0, b',').is_err());
        assert!(next_field(br#""a"b"#, 0, b',').is_err());
    }

    #[test]
    fn reads_integer_fields_while_splitting() {
        let numbers = |line: &[u8]| {
            let mut found = Vec::new();
            let mut at = 0;
            while at <= line.len() {
                let (_, _, next, number) = next_field_number(line, at, b',').unwrap();
                found.push(number);
                at = next;
            }
            found
        };
        assert_eq!(
            numbers(b"0,42,,1.5, 7,x1,\"9\",9999999999999999999,18446744073709551615,1\"2"),
            [
                Some(0),
                Some(42),
                None,
                None,
                None,
                None,
                None,
                Some(9_999_999_999_999_999_999),
                None,
                None
            ]
        );
    }
}
