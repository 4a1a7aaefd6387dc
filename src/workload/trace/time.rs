//! Timestamps as traces write them: numbers in a unit (decimals allowed),
//! RFC 3339 (`2015-05-17T10:05:03.5+02:00`) and the access-log form
//! (`17/May/2015:10:05:03 +0000`). All become nanoseconds since the Unix
//! epoch (numbers: since whatever origin the trace uses).

use super::TimeUnit;
use super::fields::{parse_exponent, parse_u64};

/// A number of `unit`s (`1.25` allowed) in nanoseconds; None if malformed.
pub(super) fn parse_number(field: &[u8], unit: TimeUnit) -> Option<u64> {
    let Some(scale) = scale(unit) else {
        return parse_rfc3339(field);
    };
    if let Some(whole) = parse_u64(field) {
        return whole.checked_mul(scale);
    }
    if let Some(ns) = parse_exponent(field, scale) {
        return Some(ns);
    }
    let (int, frac) = match memchr::memchr(b'.', field) {
        Some(dot) => (&field[..dot], &field[dot + 1..]),
        None => (field, &b""[..]),
    };
    let mut ns = parse_u64(int)?.checked_mul(scale)?;
    if !frac.is_empty() {
        // Keep the digits that matter at this scale (up to nanoseconds).
        let digits = scale.ilog10() as usize;
        let kept = &frac[..frac.len().min(digits)];
        let value = if kept.is_empty() { 0 } else { parse_u64(kept)? };
        parse_u64(frac)?;
        ns = ns.checked_add(value * 10u64.pow((digits - kept.len()) as u32))?;
    }
    Some(ns)
}

/// Nanoseconds per `unit`; None for RFC 3339 (not a number).
#[inline]
pub(super) fn scale(unit: TimeUnit) -> Option<u64> {
    match unit {
        TimeUnit::S => Some(1_000_000_000),
        TimeUnit::Ms => Some(1_000_000),
        TimeUnit::Us => Some(1_000),
        TimeUnit::Ns => Some(1),
        TimeUnit::Rfc3339 => None,
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian), or None
/// before the epoch.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = year as i64 - (month <= 2) as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u64::try_from(era * 146_097 + doe - 719_468).ok()
}

/// Nanoseconds since the epoch of a date and time of day, checking ranges.
fn epoch_ns(date: [u64; 3], clock: [u64; 3], frac_ns: u64) -> Option<u64> {
    let [year, month, day] = date;
    let [h, m, s] = clock;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    (days * 86_400 + h * 3600 + m * 60 + s)
        .checked_mul(1_000_000_000)?
        .checked_add(frac_ns)
}

/// Applies a UTC offset of `sign` (`+`/`-`) and `minutes`.
fn minus_offset(ns: u64, sign: u8, minutes: u64) -> Option<u64> {
    let off = minutes * 60_000_000_000;
    match sign {
        b'+' => ns.checked_sub(off),
        b'-' => ns.checked_add(off),
        _ => None,
    }
}

/// A fixed-width decimal field.
fn num(bytes: &[u8], at: usize, len: usize) -> Option<u64> {
    parse_u64(bytes.get(at..at + len)?)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (a space for `T` is accepted).
pub(super) fn parse_rfc3339(b: &[u8]) -> Option<u64> {
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let date = [num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?];
    let clock = [num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?];
    let mut i = 19;
    let mut frac_ns = 0;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let kept = digits.min(9);
        frac_ns = num(b, i + 1, kept)? * 10u64.pow(9 - kept as u32);
        i += 1 + digits;
    }
    let ns = epoch_ns(date, clock, frac_ns)?;
    match b.get(i..)? {
        b"Z" | b"z" => Some(ns),
        [sign, _, _, b':', _, _] => {
            minus_offset(ns, *sign, num(b, i + 1, 2)? * 60 + num(b, i + 4, 2)?)
        }
        _ => None,
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `dd/Mon/yyyy:HH:MM:SS ±hhmm`, the Common Log Format time.
pub(super) fn parse_clf(b: &[u8]) -> Option<u64> {
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[3..6] == *m)? as u64 + 1;
    let date = [num(b, 7, 4)?, month, num(b, 0, 2)?];
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let clock = [num(b, 12, 2)?, num(b, 15, 2)?, num(b, 18, 2)?];
    let ns = epoch_ns(date, clock, 0)?;
    minus_offset(ns, b[21], num(b, 22, 2)? * 60 + num(b, 24, 2)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn numbers_in_units() {
        assert_eq!(parse_number(b"12", TimeUnit::S), Some(12 * S));
        assert_eq!(parse_number(b"1.25", TimeUnit::S), Some(1_250_000_000));
        assert_eq!(parse_number(b"1.5", TimeUnit::Ms), Some(1_500_000));
        assert_eq!(parse_number(b"7", TimeUnit::Ns), Some(7));
        assert_eq!(parse_number(b"1e3", TimeUnit::S), Some(1000 * S));
        assert_eq!(parse_number(b"1.7e9", TimeUnit::S), Some(1_700_000_000 * S));
        assert_eq!(
            parse_number(b"0.1234567891", TimeUnit::S),
            Some(123_456_789)
        );
        assert_eq!(parse_number(b"1.x", TimeUnit::S), None);
        assert_eq!(parse_number(b"abc", TimeUnit::Us), None);
    }

    #[test]
    fn rfc3339_and_log_times_agree() {
        // 2015-05-17T10:05:03Z = 1431857103 s since the epoch.
        let t = 1_431_857_103 * S;
        assert_eq!(parse_rfc3339(b"2015-05-17T10:05:03Z"), Some(t));
        assert_eq!(parse_rfc3339(b"2015-05-17T12:05:03+02:00"), Some(t));
        assert_eq!(parse_rfc3339(b"2015-05-17 10:05:03.5Z"), Some(t + S / 2));
        assert_eq!(parse_clf(b"17/May/2015:10:05:03 +0000"), Some(t));
        assert_eq!(parse_clf(b"17/May/2015:03:05:03 -0700"), Some(t));
        assert_eq!(
            parse_number(b"2015-05-17T10:05:03Z", TimeUnit::Rfc3339),
            Some(t)
        );
        assert_eq!(parse_rfc3339(b"2015-13-17T10:05:03Z"), None);
        assert_eq!(parse_rfc3339(b"2015-05-17T10:05:03"), None);
        assert_eq!(parse_clf(b"17/Mai/2015:10:05:03 +0000"), None);
        assert_eq!(parse_clf(b"17/May/2015:10:05"), None);
        assert_eq!(parse_rfc3339(b"1969-12-31T23:59:59Z"), None);
    }
}
