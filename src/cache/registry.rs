//! Policies by name. Adding a policy is one new file and one line in
//! [`POLICIES`].
//!
//! A policy is written as its name with optional parameters in parentheses,
//! in experiment files and on the command line alike: `lru`,
//! `slru(segments=4)`, `s3fifo(small=0.1, threshold=2)`.

use std::fmt;
use std::str::FromStr;

use super::BoxedCache;
use super::arc::Arc;
use super::belady::Belady;
use super::clock::Clock;
use super::gdsf::Gdsf;
use super::hyperbolic::Hyperbolic;
use super::lfu::Lfu;
use super::lfuda::LfuDa;
use super::lirs::Lirs;
use super::queue::Tail;
use super::random::Random;
use super::s3fifo::S3Fifo;
use super::sieve::Sieve;
use super::slru::Slru;
use super::twoq::TwoQ;
use super::wtinylfu::WTinyLfu;

/// One registered policy.
pub struct PolicyInfo {
    pub name: &'static str,
    /// One line for `--help` and error messages.
    pub about: &'static str,
    /// Its parameters and their defaults, for the README and `--help`.
    pub params: &'static str,
    /// Offline policies read `Request::next_access`, so the runner annotates
    /// the trace before replaying it through them.
    pub needs_next_access: bool,
    pub build: fn(&mut Ctx) -> Result<BoxedCache, String>,
}

/// Every policy edgesim knows, in the order listings show them.
pub const POLICIES: &[PolicyInfo] = &[
    PolicyInfo {
        name: "fifo",
        about: "first in, first out",
        params: "",
        needs_next_access: false,
        build: Tail::<false>::build,
    },
    PolicyInfo {
        name: "lru",
        about: "least recently used",
        params: "",
        needs_next_access: false,
        build: Tail::<true>::build,
    },
    PolicyInfo {
        name: "random",
        about: "random victim (seeded)",
        params: "",
        needs_next_access: false,
        build: Random::build,
    },
    PolicyInfo {
        name: "clock",
        about: "CLOCK / second chance with k-bit counters",
        params: "bits=1 (1..8)",
        needs_next_access: false,
        build: Clock::build,
    },
    PolicyInfo {
        name: "slru",
        about: "segmented LRU with n equal segments",
        params: "segments=4 (1..16)",
        needs_next_access: false,
        build: Slru::build,
    },
    PolicyInfo {
        name: "lfu",
        about: "least frequently used; ties: least recently accessed",
        params: "",
        needs_next_access: false,
        build: Lfu::build,
    },
    PolicyInfo {
        name: "lfuda",
        about: "LFU with dynamic aging (libCacheSim's formula)",
        params: "",
        needs_next_access: false,
        build: LfuDa::build,
    },
    PolicyInfo {
        name: "2q",
        about: "2Q: FIFO A1in + ghost A1out + LRU Am (Johnson & Shasha)",
        params: "a1in=0.25, a1out=0.5 (fractions of the capacity)",
        needs_next_access: false,
        build: TwoQ::build,
    },
    PolicyInfo {
        name: "arc",
        about: "adaptive replacement cache (Megiddo & Modha)",
        params: "",
        needs_next_access: false,
        build: Arc::build,
    },
    PolicyInfo {
        name: "lirs",
        about: "low inter-reference recency set (Jiang & Zhang)",
        params: "hir=0.01 (share of the resident HIR queue)",
        needs_next_access: false,
        build: Lirs::build,
    },
    PolicyInfo {
        name: "wtinylfu",
        about: "W-TinyLFU: window LRU + SLRU main + frequency sketch admission",
        params: "window=0.01 (fraction of the capacity)",
        needs_next_access: false,
        build: WTinyLfu::build,
    },
    PolicyInfo {
        name: "s3fifo",
        about: "S3-FIFO: small + main + ghost FIFOs (SOSP'23)",
        params: "small=0.1, ghost=0.9, threshold=2 (1..3)",
        needs_next_access: false,
        build: S3Fifo::build,
    },
    PolicyInfo {
        name: "sieve",
        about: "SIEVE: FIFO with visited bits and a moving hand (NSDI'24)",
        params: "",
        needs_next_access: false,
        build: Sieve::build,
    },
    PolicyInfo {
        name: "gdsf",
        about: "GreedyDual-Size-Frequency",
        params: "",
        needs_next_access: false,
        build: Gdsf::build,
    },
    PolicyInfo {
        name: "hyperbolic",
        about: "hyperbolic caching: sampled eviction of the lowest hits/age",
        params: "samples=64 (1..1024)",
        needs_next_access: false,
        build: Hyperbolic::build,
    },
    PolicyInfo {
        name: "belady",
        about: "offline optimal: evicts the furthest next access",
        params: "",
        needs_next_access: true,
        build: Belady::build,
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
        spec.validate().map_err(serde::de::Error::custom)?;
        Ok(spec)
    }
}

impl PolicySpec {
    /// Checks the name and parameters by building the policy once at a
    /// modest capacity, so a bad parameter is reported where it is written
    /// (e.g. at its position in an experiment file) rather than at run time.
    pub fn validate(&self) -> Result<(), String> {
        build(self, 1 << 20, false, 0).map(drop)
    }

    /// Whether the policy reads next-access positions (Belady).
    pub fn needs_next_access(&self) -> bool {
        find(&self.name).is_ok_and(|p| p.needs_next_access)
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

    /// A fraction strictly between 0 and 1 (a queue's share of the cache),
    /// written as one (`0.1`) or as a percentage (`10%`).
    pub fn fraction(&self, name: &str, default: f64) -> Result<f64, String> {
        let policy = &self.spec.name;
        let Some((_, raw)) = self.spec.params.iter().find(|(k, _)| k == name) else {
            return Ok(default);
        };
        let parsed = match raw.strip_suffix('%') {
            Some(percent) => percent.trim().parse().map(|v: f64| v / 100.0),
            None => raw.parse(),
        };
        match parsed {
            Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
            Ok(_) => Err(format!(
                "policy {policy}: parameter {name}={raw} is out of range; valid values are \
                 fractions strictly between 0 and 1, or percentages between 0% and 100% \
                 (default {default})"
            )),
            Err(_) => Err(format!(
                "policy {policy}: parameter {name}={raw:?} is not a fraction; write one \
                 like 0.1 or 10% (default {default})"
            )),
        }
    }

    /// An integer in `lo..=hi`.
    pub fn int_in(&self, name: &str, default: u32, lo: u32, hi: u32) -> Result<u32, String> {
        let v: u32 = self.get(name, default)?;
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!(
                "policy {}: parameter {name}={v} is out of range; valid values are {lo} to {hi} (default {default})",
                self.spec.name
            ))
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
    use crate::workload::Request;

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

    #[test]
    fn bad_parameter_values_list_the_valid_ones() {
        let err = |spec: &str| spec.parse::<PolicySpec>().unwrap().validate().unwrap_err();
        let e = err("slru(segments=0)");
        assert!(e.contains("valid values are 1 to 16"), "{e}");
        let e = err("wtinylfu(window=1.5)");
        assert!(e.contains("strictly between 0 and 1"), "{e}");
        let e = err("wtinylfu(window=150%)");
        assert!(e.contains("window=150% is out of range"), "{e}");
        let e = err("s3fifo(small=tenth)");
        assert!(e.contains("like 0.1 or 10%"), "{e}");
        let e = err("clock(bits=x)");
        assert!(e.contains("bits=\"x\" is not a valid value"), "{e}");
        let e = err("s3fifo(size=1)");
        assert!(
            e.contains("valid parameters: small, ghost, threshold"),
            "{e}"
        );
        let e: Result<PolicySpec, _> = toml::from_str::<
            std::collections::BTreeMap<String, PolicySpec>,
        >("p = \"slru(segments=0)\"")
        .map(|mut m| m.remove("p").unwrap());
        let e = e.unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("segments=0"), "{e}");
    }

    #[test]
    fn a_share_reads_as_a_fraction_or_a_percentage() {
        let misses = |spec: &str| {
            let mut c = build(&spec.parse().unwrap(), 200, true, 1).unwrap();
            (0..20_000u64)
                .filter(|i| {
                    let key = (i * 7919) % 1000 % (1 + i % 300);
                    !c.access(&Request {
                        key,
                        size: 1,
                        ..Default::default()
                    })
                })
                .count()
        };
        assert_eq!(
            misses("wtinylfu(window=5%)"),
            misses("wtinylfu(window=0.05)")
        );
        assert_ne!(
            misses("wtinylfu(window=5%)"),
            misses("wtinylfu(window=0.5)")
        );
    }

    #[test]
    fn every_policy_builds_with_defaults_in_both_units() {
        for p in POLICIES {
            let spec: PolicySpec = p.name.parse().unwrap();
            assert!(build(&spec, 1000, true, 1).is_ok(), "{}", p.name);
            assert!(build(&spec, 1 << 30, false, 1).is_ok(), "{}", p.name);
            assert_eq!(spec.needs_next_access(), p.name == "belady");
        }
    }
}
