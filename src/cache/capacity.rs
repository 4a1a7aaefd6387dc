//! Cache capacity as written: a number of objects (`1000`), bytes with a unit
//! (`"64MiB"`) or a share of the working set (`"10%"`).

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::units::{parse_bytes, parse_percent};
use crate::workload::WorkingSet;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapacitySpec {
    Objects(u64),
    Bytes(u64),
    /// A fraction of the working set: of its bytes, or of its objects when
    /// sizes are ignored.
    Fraction(f64),
}

impl CapacitySpec {
    /// Whether resolving needs the working set (a share of it).
    pub fn needs_working_set(&self) -> bool {
        matches!(self, CapacitySpec::Fraction(_))
    }

    /// The capacity in units and whether those units are objects.
    pub fn resolve(&self, ws: WorkingSet, ignore_size: bool) -> Result<(u64, bool), ConfigError> {
        match *self {
            CapacitySpec::Objects(n) => Ok((n, true)),
            CapacitySpec::Bytes(_) if ignore_size => Err(format!(
                "capacity {self} is in bytes, but object sizes are ignored: give a number of objects or a percentage"
            ).into()),
            CapacitySpec::Bytes(b) => Ok((b, false)),
            CapacitySpec::Fraction(f) => {
                let total = if ignore_size { ws.objects } else { ws.bytes };
                Ok((((total as f64 * f).round() as u64).max(1), ignore_size))
            }
        }
    }
}

impl FromStr for CapacitySpec {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let spec = if text.ends_with('%') {
            CapacitySpec::Fraction(parse_percent(text).map_err(|e| e.0)?)
        } else if let Ok(n) = text.replace('_', "").parse::<f64>() {
            // A bare number, plain or in exponent form ("1e5"), counts objects.
            let n = crate::units::whole_number(n).map_err(|_| {
                format!("a capacity in objects is a whole number of at least 1, found {text:?}")
            })?;
            if n < 0 {
                return Err(format!("capacity must not be negative, found {text}").into());
            }
            CapacitySpec::Objects(n as u64)
        } else {
            CapacitySpec::Bytes(parse_bytes(text).map_err(|e| {
                format!("{e}; a capacity is a number of objects, a size such as \"64MiB\", or a percentage of the working set such as \"10%\"")
            })?)
        };
        let zero = match spec {
            CapacitySpec::Objects(n) | CapacitySpec::Bytes(n) => n == 0,
            CapacitySpec::Fraction(f) => f == 0.0,
        };
        if zero {
            return Err(format!("capacity must be above zero, found {text:?}").into());
        }
        Ok(spec)
    }
}

impl fmt::Display for CapacitySpec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            CapacitySpec::Objects(n) => write!(f, "{n}"),
            CapacitySpec::Bytes(b) => f.write_str(&crate::units::write_size(*b)),
            CapacitySpec::Fraction(x) => write!(f, "{}%", x * 100.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for CapacitySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CapacitySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of objects, a size such as \"64MiB\", or a percentage such as \"10%\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CapacitySpec, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CapacitySpec, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<CapacitySpec, E> {
                v.to_string().parse().map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CapacitySpec, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_objects_bytes_and_fractions() {
        assert_eq!("1000".parse(), Ok(CapacitySpec::Objects(1000)));
        assert_eq!("64MiB".parse(), Ok(CapacitySpec::Bytes(64 << 20)));
        assert_eq!("64MB".parse(), Ok(CapacitySpec::Bytes(64_000_000)));
        assert_eq!("10%".parse(), Ok(CapacitySpec::Fraction(0.1)));
        assert!(
            "-5".parse::<CapacitySpec>()
                .unwrap_err()
                .0
                .contains("negative")
        );
        assert!(
            "0%".parse::<CapacitySpec>()
                .unwrap_err()
                .0
                .contains("above zero")
        );
        let ws = WorkingSet {
            objects: 200,
            bytes: 10_000,
        };
        assert_eq!(
            CapacitySpec::Fraction(0.1).resolve(ws, false),
            Ok((1000, false))
        );
        assert_eq!(
            CapacitySpec::Fraction(0.1).resolve(ws, true),
            Ok((20, true))
        );
        assert!(CapacitySpec::Bytes(5).resolve(ws, true).is_err());
    }
}
