//! Policies by name. Adding a policy is one new file and one line in
//! [`POLICIES`].
//!
//! A policy is written as its name with optional parameters in parentheses,
//! in experiment files and on the command line alike: `lru`,
//! `slru(segments=4)`, `s3fifo(small=0.1, threshold=2)`.

use std::fmt;
use std::str::FromStr;

use super::BoxedCache;
use super::queue::{Fifo, Lru};

/// One registered policy.
pub struct PolicyInfo {
    pub name: &'static str,
    /// One line for `--help` and error messages.
    pub about: &'static str,
    /// Its parameters and their defaults, for the README and `--help`.
    pub params: &'static str,
    pub build: fn(&mut Ctx) -> Result<BoxedCache, String>,
}

/// Every policy edgesim knows, in the order listings show them.
pub const POLICIES: &[PolicyInfo] = &[
    PolicyInfo {
        name: "fifo",
        about: "first in, first out",
        params: "",
        build: Fifo::build,
    },
    PolicyInfo {
        name: "lru",
        about: "least recently used",
        params: "",
        build: Lru::build,
    },
];

/// What a policy's constructor gets.
pub struct Ctx<'a> {
    /// Capacity in bytes, or in objects when `count_objects`.
    pub capacity: u64,
    pub count_objects: bool,
    pub params: Params<'a>,
    /// Seed for randomized policies (Random, Hyperbolic).
    pub seed: u64,
}

impl Ctx<'_> {
    /// How many objects to reserve room for up front: the capacity when it
    /// counts objects, otherwise a modest start that grows on demand.
    pub fn expected_objects(&self) -> usize {
        if self.count_objects {
            self.capacity.min(1 << 26) as usize
        } else {
            1 << 10
        }
    }
}

/// A policy name with its parameters, e.g. `slru(segments=4)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicySpec {
    pub name: String,
    pub params: Vec<(String, String)>,
}

impl FromStr for PolicySpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (name, params) = match text.split_once('(') {
            None => (text, Vec::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("policy {text:?}: missing ')' after the parameters"))?;
                let params = inner
                    .split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
                        None => Err(format!(
                            "policy {text:?}: parameter {p:?} should be written name=value"
                        )),
                    })
                    .collect::<Result<_, _>>()?;
                (name, params)
            }
        };
        if name.is_empty() {
            return Err("empty policy name".into());
        }
        Ok(PolicySpec {
            name: name.trim().to_lowercase(),
            params,
        })
    }
}

impl fmt::Display for PolicySpec {
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

impl<'de> serde::Deserialize<'de> for PolicySpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let spec: PolicySpec = text.parse().map_err(serde::de::Error::custom)?;
        find(&spec.name).map_err(serde::de::Error::custom)?;
        Ok(spec)
    }
}

/// The parameters given to one policy.
pub struct Params<'a> {
    spec: &'a PolicySpec,
}

impl Params<'_> {
    /// Fails if a parameter outside `known` was given.
    pub fn allow(&self, known: &[&str]) -> Result<(), String> {
        for (k, _) in &self.spec.params {
            if !known.contains(&k.as_str()) {
                let valid = if known.is_empty() {
                    "it takes no parameters".to_string()
                } else {
                    format!("valid parameters: {}", known.join(", "))
                };
                return Err(format!(
                    "policy {}: unknown parameter {k:?}; {valid}",
                    self.spec.name
                ));
            }
        }
        Ok(())
    }

    /// The value of `name` parsed as `T`, or `default` when absent.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.spec.params.iter().find(|(k, _)| k == name) {
            None => Ok(default),
            Some((_, v)) => v.parse().map_err(|_| {
                format!(
                    "policy {}: parameter {name}={v:?} is not a valid value",
                    self.spec.name
                )
            }),
        }
    }
}

fn find(name: &str) -> Result<&'static PolicyInfo, String> {
    POLICIES.iter().find(|p| p.name == name).ok_or_else(|| {
        let names: Vec<&str> = POLICIES.iter().map(|p| p.name).collect();
        format!(
            "unknown policy {name:?}; valid policies: {}",
            names.join(", ")
        )
    })
}

/// Builds the policy `spec` with `capacity` (objects when `count_objects`,
/// else bytes).
pub fn build(
    spec: &PolicySpec,
    capacity: u64,
    count_objects: bool,
    seed: u64,
) -> Result<BoxedCache, String> {
    let info = find(&spec.name)?;
    let mut ctx = Ctx {
        capacity,
        count_objects,
        params: Params { spec },
        seed,
    };
    (info.build)(&mut ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_parameters() {
        let spec: PolicySpec = "S3FIFO(small=0.1, threshold=2)".parse().unwrap();
        assert_eq!(spec.name, "s3fifo");
        assert_eq!(spec.to_string(), "s3fifo(small=0.1,threshold=2)");
        assert!("lru(segments".parse::<PolicySpec>().is_err());
        assert!("slru(4)".parse::<PolicySpec>().is_err());
    }

    #[test]
    fn unknown_names_and_parameters_are_explained() {
        let err = build(&"lruu".parse().unwrap(), 10, true, 0).err().unwrap();
        assert!(err.contains("valid policies: fifo, lru"), "{err}");
        let err = build(&"lru(x=1)".parse().unwrap(), 10, true, 0)
            .err()
            .unwrap();
        assert!(err.contains("takes no parameters"), "{err}");
    }
}
