//! Quantities as people write them: sizes ("64MiB", "64MB"), durations
//! ("250ms", "1h"), rates ("100/s", "6000/min") and percentages ("10%").
//!
//! One parser for the whole tool, so that an experiment file, a CLI flag and a
//! report all agree on what "64MB" means. Decimal prefixes (kB, MB, GB, TB) are
//! powers of 1000; binary prefixes (KiB, MiB, GiB, TiB) are powers of 1024.
//! A bare "M" or "G" is refused as ambiguous rather than guessed.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

use crate::engine::SimTime;
use crate::error::ConfigError;

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// Splits "12.5MiB" into (12.5, "MiB"); the number must be finite and non-negative.
fn split_number(text: &str, what: &str) -> Result<(f64, String), ConfigError> {
    let text = text.trim();
    let (num, unit) = text.split_at(number_end(text));
    let num = num.replace('_', "");
    let value: f64 = match num.parse() {
        Ok(v) => v,
        Err(_) => return err(format!("expected {what}, found {text:?}")),
    };
    if !value.is_finite() || value < 0.0 {
        return err(format!("{what} must not be negative, found {text:?}"));
    }
    Ok((value, unit.trim().to_string()))
}

/// Where the number at the start of `text` ends: digits, `_`, `.`, a sign,
/// and an exponent (`1e-9`, `2E6`) when digits follow its `e`, so that a
/// unit starting with `e` is never taken for one.
fn number_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let c = bytes[end];
        if c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-' | b'+') {
            end += 1;
        } else if matches!(c, b'e' | b'E') && end > 0 {
            let sign = matches!(bytes.get(end + 1), Some(b'-' | b'+')) as usize;
            if !bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                break;
            }
            end += 1 + sign;
        } else {
            break;
        }
    }
    end
}

/// Bytes in one unit of a size suffix, or None when the suffix is unknown.
fn byte_unit(unit: &str) -> Result<u64, ConfigError> {
    Ok(match unit {
        "" | "B" | "b" => 1,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        "K" | "k" | "M" | "G" | "T" => {
            return err(format!(
                "ambiguous size unit {unit:?}: write {unit}iB for powers of 1024 or {}B for powers of 1000",
                unit.to_uppercase().replace('K', "k")
            ));
        }
        _ => {
            return err(format!(
                "unknown size unit {unit:?}: use B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)"
            ));
        }
    })
}

/// `text`'s number times what its suffix is worth by `unit`, rounded;
/// None when that does not fit in a u64. `what` names the quantity in
/// errors.
fn scaled(
    text: &str,
    what: &str,
    unit: fn(&str) -> Result<u64, ConfigError>,
) -> Result<Option<u64>, ConfigError> {
    let (value, suffix) = split_number(text, what)?;
    let scaled = value * unit(&suffix)? as f64;
    Ok((scaled <= u64::MAX as f64).then(|| scaled.round() as u64))
}

/// Parses a size in bytes: "4096", "4KiB", "1.5GB".
pub fn parse_bytes(text: &str) -> Result<u64, ConfigError> {
    scaled(text, "a size such as \"64MiB\"", byte_unit)?
        .ok_or_else(|| ConfigError(format!("size {text:?} is too large")))
}

/// Nanoseconds in one unit of a duration suffix.
fn time_unit(unit: &str) -> Result<u64, ConfigError> {
    Ok(match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" | "sec" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "" => return err("a duration needs a unit: ns, us, ms, s, min, h or d (e.g. \"250ms\")"),
        _ => {
            return err(format!(
                "unknown time unit {unit:?}: use ns, us, ms, s, min, h or d"
            ));
        }
    })
}

/// Parses a duration into nanoseconds: "250ms", "5m", "1h".
pub fn parse_duration(text: &str) -> Result<SimTime, ConfigError> {
    scaled(text, "a duration such as \"250ms\"", time_unit)?
        .ok_or_else(|| ConfigError(format!("duration {text:?} is too long")))
}

/// Parses a rate into events per second: "100/s", "6000/min", "5/100ms".
pub fn parse_rate(text: &str) -> Result<f64, ConfigError> {
    let Some((count, per)) = text.split_once('/') else {
        return err(format!(
            "expected a rate such as \"100/s\" or \"6000/min\", found {text:?}"
        ));
    };
    let (count, unit) = split_number(count, "a rate such as \"100/s\"")?;
    if !unit.is_empty() {
        return err(format!("expected a number before '/', found {text:?}"));
    }
    let per = per.trim();
    // "100/s" means per one second; "5/100ms" per 100 ms.
    let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
        per.to_string()
    } else {
        format!("1{per}")
    };
    let window = parse_duration(&per)?;
    if window == 0 {
        return err(format!("rate {text:?} has a zero-length period"));
    }
    if count == 0.0 {
        return err(format!("a rate must be above zero, found {text:?}"));
    }
    let rate = count * 1e9 / window as f64;
    if !rate.is_finite() {
        return err(format!("rate {text:?} is too large"));
    }
    // The clock counts nanoseconds in a u64 (about 584 years): a rate
    // whose mean interval is longer never sends a request in a simulation.
    if rate * (u64::MAX as f64 / 1e9) < 1.0 {
        return err(format!(
            "rate {text:?} is too slow: less than one event in 584 years, the longest time edgesim simulates"
        ));
    }
    Ok(rate)
}

/// Parses "10%" into 0.1.
pub fn parse_percent(text: &str) -> Result<f64, ConfigError> {
    let Some(num) = text.trim().strip_suffix('%') else {
        return err(format!(
            "expected a percentage such as \"10%\", found {text:?}"
        ));
    };
    let (value, unit) = split_number(num, "a percentage such as \"10%\"")?;
    if !unit.is_empty() {
        return err(format!(
            "expected a percentage such as \"10%\", found {text:?}"
        ));
    }
    Ok(value / 100.0)
}

/// Formats bytes in one unit family (IEC), so tables never mix "261kB"
/// with "96.8KiB": exact units when the value is a whole number of them
/// ("64MiB"), otherwise one decimal ("1.5GiB").
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    if bytes == 0 {
        return "0B".into();
    }
    for (unit, scale) in UNITS {
        if bytes.is_multiple_of(scale) && bytes / scale < 10_000 {
            return format!("{}{unit}", bytes / scale);
        }
    }
    match UNITS.iter().find(|(_, scale)| bytes >= *scale) {
        Some((unit, scale)) => format!("{:.1}{unit}", bytes as f64 / *scale as f64),
        None => format!("{bytes}B"),
    }
}

/// A size as a user would write it back, losslessly: the largest exact
/// unit of either family ("64MB" stays "64MB", "64MiB" stays "64MiB"),
/// else plain bytes. For echoing settings; measured sizes use
/// [`format_bytes`].
pub fn write_size(bytes: u64) -> String {
    const EXACT: [(&str, u64); 8] = [
        ("TiB", 1 << 40),
        ("TB", 1_000_000_000_000),
        ("GiB", 1 << 30),
        ("GB", 1_000_000_000),
        ("MiB", 1 << 20),
        ("MB", 1_000_000),
        ("KiB", 1 << 10),
        ("kB", 1_000),
    ];
    EXACT
        .iter()
        .find(|(_, scale)| bytes > 0 && bytes.is_multiple_of(*scale))
        .map_or_else(
            || format!("{bytes}B"),
            |(unit, scale)| format!("{}{unit}", bytes / scale),
        )
}

/// A size in bytes, read from a string with a unit or a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

/// A duration in simulated nanoseconds, read from a string with a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimTime);

/// A rate in events per second, read from "100/s".
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

/// `v` as an integer when it is one (TOML reads `1e6` as a float, though
/// people write counts so), else what was expected.
pub fn whole_number(v: f64) -> Result<i64, ConfigError> {
    // 2^63 is the first float past i64::MAX, and TOML's integers stop there.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
        Ok(v as i64)
    } else {
        Err(format!("expected a whole number, found {v}").into())
    }
}

/// Implements Deserialize for a quantity that is written as a string with a
/// unit, and optionally as a plain integer.
macro_rules! quantity_deserialize {
    ($ty:ident, $expecting:literal, $parse:expr, $from_int:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        $parse(v).map($ty).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        $from_int(v).map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        $from_int(v as i64).map_err(E::custom)
                    }
                    /// `4.096e3`: TOML reads exponent forms as floats.
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        $from_int(whole_number(v).map_err(E::custom)?).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

quantity_deserialize!(
    Bytes,
    "a size such as \"64MiB\" or a number of bytes",
    parse_bytes,
    |v: i64| {
        if v < 0 {
            err(format!("a size must not be negative, found {v}"))
        } else {
            Ok(Bytes(v as u64))
        }
    }
);
quantity_deserialize!(
    Duration,
    "a duration such as \"250ms\"",
    parse_duration,
    |v: i64| err::<Duration>(format!(
        "a duration needs a unit, found the bare number {v}: write e.g. \"{v}ms\" or \"{v}s\""
    ))
);
quantity_deserialize!(
    Rate,
    "a rate such as \"100/s\"",
    parse_rate,
    |v: i64| err::<Rate>(format!(
        "a rate needs a period, found the bare number {v}: write e.g. \"{v}/s\""
    ))
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_distinguish_decimal_and_binary_prefixes() {
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("64MB"), Ok(64_000_000));
        assert_eq!(parse_bytes("4KiB"), Ok(4096));
        assert_eq!(parse_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_bytes("512"), Ok(512));
        assert_eq!(parse_bytes("1_000B"), Ok(1000));
        assert!(parse_bytes("64M").unwrap_err().0.contains("ambiguous"));
        assert!(parse_bytes("-1KiB").unwrap_err().0.contains("negative"));
        assert!(parse_bytes("lots").is_err());
        assert!(
            parse_bytes("5 parsecs")
                .unwrap_err()
                .0
                .contains("unknown size unit")
        );
    }

    #[test]
    fn durations_rates_and_percentages() {
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("5m"), Ok(300_000_000_000));
        assert_eq!(parse_duration("1.5us"), Ok(1500));
        assert!(parse_duration("10").is_err());
        assert_eq!(parse_rate("100/s"), Ok(100.0));
        assert_eq!(parse_rate("6000/min"), Ok(100.0));
        assert_eq!(parse_rate("5/100ms"), Ok(50.0));
        assert!(parse_rate("100").is_err());
        assert!(parse_rate("1/0s").is_err());
        assert!(parse_rate("0/s").is_err());
        assert_eq!(parse_percent("10%"), Ok(0.1));
        assert!(parse_percent("10").is_err());
    }

    #[test]
    fn formats_bytes_compactly() {
        assert_eq!(format_bytes(64 << 20), "64MiB");
        assert_eq!(format_bytes(64_000_000), "61.0MiB");
        assert_eq!(write_size(64_000_000), "64MB");
        assert_eq!(write_size(64 << 20), "64MiB");
        assert_eq!(write_size(1_000_001), "1000001B");
        assert_eq!(format_bytes(1536), "1.5KiB");
        assert_eq!(format_bytes(1_800_000_123), "1.7GiB");
        assert_eq!(format_bytes(2_029_769_728), "1.9GiB");
        assert_eq!(format_bytes(100), "100B");
    }
}

/// Serde helpers that reject out-of-range numbers where they are read, so
/// the error points at the offending value in the experiment file.
pub mod checked {
    use std::fmt;

    use serde::de::{Error, Visitor};
    use serde::{Deserialize, Deserializer};

    /// An integer, written as one or in exponent form (`1e6`, which TOML
    /// reads as a float): counts are written both ways.
    pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        struct Integer;
        impl Visitor<'_> for Integer {
            type Value = i64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number such as 1000 or 1e3")
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<i64, E> {
                super::whole_number(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Integer)
    }

    /// An [`integer`] of at least 0.
    pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = integer(d)?;
        u64::try_from(v).map_err(|_| D::Error::custom(format!("must not be negative, found {v}")))
    }

    /// A whole number of at least 1.
    pub fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = whole(d)?;
        if v < 1 {
            return Err(D::Error::custom(format!("must be at least 1, found {v}")));
        }
        Ok(v)
    }

    /// A whole number that fits in 32 bits (counts kept per request).
    pub fn whole_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = whole(d)?;
        u32::try_from(v)
            .map_err(|_| D::Error::custom(format!("must be at most {}, found {v}", u32::MAX)))
    }

    /// An optional [`whole`] number (for fields that may be left out).
    pub fn some_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        whole(d).map(Some)
    }

    /// A time to live as requests keep it: whole milliseconds from 1 ms to
    /// u32::MAX ms (about 49.7 days). Zero would expire every object at
    /// once and is not "never": that is written by leaving `ttl` out.
    pub fn ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<super::Duration>, D::Error> {
        let t = super::Duration::deserialize(d)?;
        let ms = t.0 / 1_000_000;
        if t.0 % 1_000_000 != 0 || ms == 0 || ms > u32::MAX as u64 {
            return Err(D::Error::custom(format!(
                "a TTL is a whole number of milliseconds from 1ms to 49 days (leave `ttl` out for objects that never expire), found {} ns",
                t.0
            )));
        }
        Ok(Some(t))
    }

    /// A finite number of at least 0.
    pub fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(D::Error::custom(format!(
                "must be a number >= 0, found {v}"
            )));
        }
        Ok(v)
    }

    /// A finite number greater than 0.
    pub fn positive_real<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let v = f64::deserialize(d)?;
        if !(v.is_finite() && v > 0.0) {
            return Err(D::Error::custom(format!("must be a number > 0, found {v}")));
        }
        Ok(v)
    }

    /// A share, from 0 to 1; `why` words the error for a number outside.
    pub fn share<'de, D: Deserializer<'de>>(
        d: D,
        why: impl FnOnce(f64) -> String,
    ) -> Result<f64, D::Error> {
        let v = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(D::Error::custom(why(v)));
        }
        Ok(v)
    }
}
