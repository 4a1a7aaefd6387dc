//! The `name(key=value, ...)` syntax of cache policies and limiter
//! algorithms, and the parameter tables their registries declare.
//!
//! A registry entry lists its parameters once, as [`Param`]s with a default
//! and the values allowed. Constructors read values through [`Params`],
//! which fills in the default and checks the range, and `edgesim policies`
//! / `edgesim limiters` print the same table: a default is written in one
//! place only.

use std::fmt;
use std::str::FromStr;

use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::units::parse_duration;

/// A name with its parameters as written, e.g. `s3fifo(small=0.1, threshold=2)`.
/// The name is lower-cased; the parameters keep their order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spec {
    pub name: String,
    pub params: Vec<(String, String)>,
}

impl FromStr for Spec {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let (name, params) = match text.split_once('(') {
            None => (text, Vec::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("{text:?}: missing ')' after the parameters"))?;
                let params = inner
                    .split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
                        None => Err(format!(
                            "{text:?}: parameter {p:?} should be written name=value"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
                (name, params)
            }
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("{text:?}: the name is missing before the parameters").into());
        }
        Ok(Spec {
            name: name.to_lowercase(),
            params,
        })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.params.is_empty() {
            let params: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(f, "({})", params.join(","))?;
        }
        Ok(())
    }
}

/// Splits a command-line list such as `lru,s3fifo(small=0.1,threshold=2)`
/// at the commas outside parentheses, dropping empty items. An item with a
/// parenthesis left open is kept whole, so its parser says what is wrong
/// rather than the item vanishing.
pub fn split_list(list: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

/// The values a parameter takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A whole number from `lo` to `hi`.
    Int { lo: u64, hi: u64 },
    /// A share strictly between 0 and 1, written `0.1` or `10%`.
    Fraction,
    /// A number from `lo` to `hi`.
    Number { lo: f64, hi: f64 },
    /// A duration longer than zero, written with its unit (`200ms`).
    Duration,
    /// One of a few words.
    Word(&'static [&'static str]),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Kind::Int { lo, hi: u64::MAX } => write!(f, "whole numbers of at least {lo}"),
            Kind::Int { lo, hi } => write!(f, "{lo} to {hi}"),
            Kind::Fraction => f.write_str("fractions strictly between 0 and 1, or percentages"),
            Kind::Number { lo, hi } => write!(f, "{lo} to {hi}"),
            Kind::Duration => f.write_str("durations longer than zero, such as 200ms"),
            Kind::Word(words) => write!(f, "{}", words.join(" or ")),
        }
    }
}

/// One parameter a registry entry takes.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    /// As a user would write it; parsed with the parameter's kind.
    pub default: &'static str,
    pub kind: Kind,
    /// One line: what it sets.
    pub about: &'static str,
}

impl Param {
    pub const fn new(
        name: &'static str,
        default: &'static str,
        kind: Kind,
        about: &'static str,
    ) -> Self {
        Param {
            name,
            default,
            kind,
            about,
        }
    }
}

impl fmt::Display for Param {
    /// `segments=4 (1 to 16): how many equal segments`, for listings.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{}={} ({}): {}",
            self.name, self.default, self.kind, self.about
        )
    }
}

/// One entry of a registry (cache policies, limiter algorithms): its name,
/// one line, its parameter table (the one place its defaults and ranges are
/// written), how it is built (`B`, a constructor taking the registry's
/// context), and what the registry records of it besides (`F`).
pub struct Entry<B, F> {
    pub name: &'static str,
    /// One line for listings and error messages.
    pub about: &'static str,
    pub params: &'static [Param],
    pub build: B,
    pub facts: F,
}

/// What a registry records of each entry beyond its name, line and
/// parameters.
pub trait Facts: 'static {
    /// What an entry is called in messages, and its plural:
    /// ("policy", "policies").
    const WHAT: (&'static str, &'static str);
    /// The facts of most entries, which [`Entry::new`] gives.
    const USUAL: Self;
}

impl<B, F: Facts> Entry<B, F> {
    /// An entry with the usual facts; others are written
    /// `Entry { facts: ..., ..Entry::new(...) }`.
    pub const fn new(
        name: &'static str,
        about: &'static str,
        params: &'static [Param],
        build: B,
    ) -> Self {
        Entry {
            name,
            about,
            params,
            build,
            facts: F::USUAL,
        }
    }
}

/// The entry called `name`, or an error listing the valid names.
pub fn find<B, F: Facts>(
    entries: &'static [Entry<B, F>],
    name: &str,
) -> Result<&'static Entry<B, F>, ConfigError> {
    entries.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = entries.iter().map(|e| e.name).collect();
        let (what, plural) = F::WHAT;
        format!(
            "unknown {what} {name:?}; valid {plural}: {}",
            names.join(", ")
        )
        .into()
    })
}

/// The registry as text: each entry's name and line, then its parameters.
pub fn listing<B, F>(entries: &'static [Entry<B, F>]) -> String {
    let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for e in entries {
        text.push_str(&format!("{:width$}  {}\n", e.name, e.about));
        for p in e.params {
            text.push_str(&format!("{:width$}    {p}\n", ""));
        }
    }
    text
}

/// The parameters given to one entry, read against its table: a value not
/// given is the table's default, and every value is checked against its
/// kind.
pub struct Params<'a> {
    /// Who takes them, for messages: `policy s3fifo`.
    owner: String,
    given: &'a [(String, String)],
    table: &'static [Param],
}

impl<'a> Params<'a> {
    /// Checks that every given name is in the table and every value reads
    /// as its kind, so a mistake is reported however the constructor uses
    /// the parameter.
    pub fn new<B, F: Facts>(
        entry: &Entry<B, F>,
        given: &'a [(String, String)],
    ) -> Result<Self, ConfigError> {
        let params = Params {
            owner: format!("{} {}", F::WHAT.0, entry.name),
            given,
            table: entry.params,
        };
        for (name, _) in given {
            if !params.table.iter().any(|p| p.name == name) {
                let valid = if params.table.is_empty() {
                    "it takes no parameters".to_string()
                } else {
                    let names: Vec<&str> = params.table.iter().map(|p| p.name).collect();
                    format!("valid parameters: {}", names.join(", "))
                };
                return Err(
                    format!("{}: unknown parameter {name:?}; {valid}", params.owner).into(),
                );
            }
        }
        for p in params.table {
            params.read(p.name)?;
        }
        Ok(params)
    }

    /// A whole-number parameter.
    pub fn int(&self, name: &str) -> Result<u64, ConfigError> {
        match self.read(name)? {
            Value::Int(v) => Ok(v),
            _ => unreachable!("{name} is not a whole-number parameter"),
        }
    }

    /// A fraction or number parameter.
    pub fn number(&self, name: &str) -> Result<f64, ConfigError> {
        match self.read(name)? {
            Value::Number(v) => Ok(v),
            _ => unreachable!("{name} is not a number parameter"),
        }
    }

    /// A duration parameter, in nanoseconds.
    pub fn duration(&self, name: &str) -> Result<SimTime, ConfigError> {
        match self.read(name)? {
            Value::Duration(v) => Ok(v),
            _ => unreachable!("{name} is not a duration parameter"),
        }
    }

    /// A word parameter.
    pub fn word(&self, name: &str) -> Result<&'static str, ConfigError> {
        match self.read(name)? {
            Value::Word(v) => Ok(v),
            _ => unreachable!("{name} is not a word parameter"),
        }
    }

    fn read(&self, name: &str) -> Result<Value, ConfigError> {
        let param = self
            .table
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{}: {name} is not in its table", self.owner));
        let raw = self
            .given
            .iter()
            .find(|(k, _)| k == name)
            .map_or(param.default, |(_, v)| v.as_str());
        let value = parse(param.kind, raw);
        value.ok_or_else(|| {
            let reads_as_kind = match param.kind {
                Kind::Int { .. } => raw.parse::<u64>().is_ok(),
                Kind::Fraction | Kind::Number { .. } => fraction_or_number(raw).is_some(),
                Kind::Duration => parse_duration(raw).is_ok(),
                Kind::Word(_) => false,
            };
            let what = if reads_as_kind {
                format!("{name}={raw} is out of range")
            } else {
                format!("{name}={raw:?} is not a valid value")
            };
            let example = match param.kind {
                Kind::Fraction => "; write one like 0.1 or 10%",
                _ => "",
            };
            ConfigError(format!(
                "{}: parameter {what}; valid values are {}{example} (default {})",
                self.owner, param.kind, param.default
            ))
        })
    }
}

/// A parameter's value, once read.
enum Value {
    Int(u64),
    Number(f64),
    Duration(SimTime),
    Word(&'static str),
}

/// `raw` read as `kind`, or None when it is not a valid value.
fn parse(kind: Kind, raw: &str) -> Option<Value> {
    match kind {
        Kind::Int { lo, hi } => within(raw, lo, hi).map(Value::Int),
        Kind::Fraction => fraction_or_number(raw)
            .filter(|v| *v > 0.0 && *v < 1.0)
            .map(Value::Number),
        Kind::Number { lo, hi } => within(raw, lo, hi).map(Value::Number),
        Kind::Duration => parse_duration(raw)
            .ok()
            .filter(|d| *d > 0)
            .map(Value::Duration),
        Kind::Word(words) => words.iter().find(|w| **w == raw).map(|w| Value::Word(w)),
    }
}

/// `raw` read as a number from `lo` to `hi`.
fn within<T: FromStr + PartialOrd>(raw: &str, lo: T, hi: T) -> Option<T> {
    raw.parse().ok().filter(|v| (lo..=hi).contains(v))
}

/// A number written plainly (`0.1`) or as a percentage (`10%`).
fn fraction_or_number(raw: &str) -> Option<f64> {
    match raw.strip_suffix('%') {
        Some(percent) => percent.trim().parse().ok().map(|v: f64| v / 100.0),
        None => raw.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Toy;

    impl Facts for Toy {
        const WHAT: (&'static str, &'static str) = ("toy", "toys");
        const USUAL: Self = Toy;
    }

    /// A toy builds nothing.
    fn build() {}

    const TOY: &[Entry<fn(), Toy>] = &[Entry::new(
        "toy",
        "a toy entry",
        &[
            Param::new("n", "4", Kind::Int { lo: 1, hi: 16 }, "a count"),
            Param::new("share", "0.1", Kind::Fraction, "a share"),
            Param::new("gain", "0.9", Kind::Number { lo: 0.5, hi: 1.0 }, "a gain"),
            Param::new("every", "5s", Kind::Duration, "a period"),
            Param::new(
                "count",
                "admitted",
                Kind::Word(&["admitted", "all"]),
                "what counts",
            ),
        ],
        build,
    )];

    fn params(given: &[(&str, &str)]) -> Result<(), ConfigError> {
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Params::new(&TOY[0], &given).map(drop)
    }

    #[test]
    fn parses_and_prints_names_with_parameters() {
        let spec: Spec = "S3FIFO(small=0.1, threshold=2)".parse().unwrap();
        assert_eq!(spec.name, "s3fifo");
        assert_eq!(spec.to_string(), "s3fifo(small=0.1,threshold=2)");
        assert!("lru(segments".parse::<Spec>().is_err());
        assert!("slru(4)".parse::<Spec>().is_err());
        assert!("(a=1)".parse::<Spec>().is_err());
    }

    #[test]
    fn lists_split_at_commas_outside_parentheses() {
        assert_eq!(
            split_list(" lru, s3fifo(small=0.1,threshold=2),,slru(segments"),
            ["lru", "s3fifo(small=0.1,threshold=2)", "slru(segments"]
        );
    }

    #[test]
    fn defaults_fill_in_and_given_values_win() {
        let given = vec![("share".to_string(), "25%".to_string())];
        let p = Params::new(&TOY[0], &given).unwrap();
        assert_eq!(p.int("n"), Ok(4));
        assert_eq!(p.number("share"), Ok(0.25));
        assert_eq!(p.number("gain"), Ok(0.9));
        assert_eq!(p.duration("every"), Ok(5_000_000_000));
        assert_eq!(p.word("count"), Ok("admitted"));
    }

    #[test]
    fn bad_values_say_what_is_valid_and_the_default() {
        let err = |given: &[(&str, &str)]| params(given).unwrap_err();
        let e = err(&[("n", "0")]);
        assert!(
            e.0.contains(
                "toy toy: parameter n=0 is out of range; valid values are 1 to 16 (default 4)"
            ),
            "{e}"
        );
        let e = err(&[("n", "x")]);
        assert!(e.0.contains("n=\"x\" is not a valid value"), "{e}");
        let e = err(&[("share", "150%")]);
        assert!(
            e.0.contains("share=150% is out of range") && e.0.contains("strictly between 0 and 1"),
            "{e}"
        );
        let e = err(&[("share", "tenth")]);
        assert!(e.0.contains("like 0.1 or 10%"), "{e}");
        let e = err(&[("every", "0s")]);
        assert!(e.0.contains("longer than zero"), "{e}");
        let e = err(&[("count", "some")]);
        assert!(e.0.contains("admitted or all"), "{e}");
        let e = err(&[("size", "1")]);
        assert!(
            e.0.contains(
                "unknown parameter \"size\"; valid parameters: n, share, gain, every, count"
            ),
            "{e}"
        );
        assert!(
            find(TOY, "toi")
                .err()
                .unwrap()
                .0
                .contains("unknown toy \"toi\"; valid toys: toy")
        );
    }

    #[test]
    fn the_listing_shows_each_parameter_with_its_default_and_range() {
        let text = listing(TOY);
        assert!(text.starts_with("toy  a toy entry\n"), "{text}");
        assert!(text.contains("n=4 (1 to 16): a count"), "{text}");
    }
}
