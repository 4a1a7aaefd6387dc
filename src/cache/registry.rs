//! Policies by name. Adding a policy is one new file and one line in
//! [`POLICIES`], with its parameter table: the one place its defaults and
//! ranges are written (`edgesim policies` prints them).
//!
//! A policy is written as its name with optional parameters in parentheses,
//! in experiment files and on the command line alike: `lru`,
//! `slru(segments=4)`, `s3fifo(small=0.1, threshold=2)`; [`crate::spec`]
//! reads that syntax and the values.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;

use super::BoxedCache;
use super::blocks::{OneQueue, Ranked};
use super::policies::{
    Arc, Belady, Clock, Fifo, Gdsf, Hyperbolic, Lfu, LfuDa, Lirs, Lru, Random, S3Fifo, Sieve, Slru,
    TwoQ, WTinyLfu,
};
use crate::error::ConfigError;
use crate::spec::{self, Entry, Facts, Kind, Param, Params, Spec};

/// One registered policy.
pub type PolicyInfo = Entry<fn(&PolicyCtx) -> Result<BoxedCache, ConfigError>, PolicyFacts>;

/// What the registry records of a policy besides its name and parameters.
pub struct PolicyFacts {
    /// Offline policies read `Request::next_access`, so the runner annotates
    /// the trace before replaying it through them.
    pub needs_next_access: bool,
}

impl Facts for PolicyFacts {
    const WHAT: (&'static str, &'static str) = ("policy", "policies");
    /// An online policy: one that never reads next accesses.
    const USUAL: Self = PolicyFacts {
        needs_next_access: false,
    };
}

/// A queue's share of the capacity.
const fn share(name: &'static str, default: &'static str, about: &'static str) -> Param {
    Param::new(name, default, Kind::Fraction, about)
}

/// Every policy edgesim knows, in the order listings show them.
pub const POLICIES: &[PolicyInfo] = &[
    PolicyInfo::new("fifo", "first in, first out", &[], OneQueue::<Fifo>::build),
    PolicyInfo::new("lru", "least recently used", &[], OneQueue::<Lru>::build),
    PolicyInfo::new("random", "random victim (seeded)", &[], Random::build),
    PolicyInfo::new(
        "clock",
        "CLOCK / second chance with k-bit counters",
        &[Param::new(
            "bits",
            "1",
            Kind::Int { lo: 1, hi: 8 },
            "bits per counter; a hit raises it up to 2^bits - 1",
        )],
        Clock::build,
    ),
    PolicyInfo::new(
        "slru",
        "segmented LRU with n equal segments",
        &[Param::new(
            "segments",
            "4",
            Kind::Int { lo: 1, hi: 16 },
            "how many equal segments",
        )],
        Slru::build,
    ),
    PolicyInfo::new(
        "lfu",
        "least frequently used; ties: least recently accessed",
        &[],
        Lfu::build,
    ),
    PolicyInfo::new(
        "lfuda",
        "LFU with dynamic aging (libCacheSim's formula)",
        &[],
        Ranked::<LfuDa>::build,
    ),
    PolicyInfo::new(
        "2q",
        "2Q: FIFO A1in + ghost A1out + LRU Am (Johnson & Shasha)",
        &[
            share("a1in", "0.25", "the FIFO A1in's share of the capacity"),
            share(
                "a1out",
                "0.5",
                "the ghost A1out's share of the capacity, counted with sizes",
            ),
        ],
        TwoQ::build,
    ),
    PolicyInfo::new(
        "arc",
        "adaptive replacement cache (Megiddo & Modha)",
        &[],
        Arc::build,
    ),
    PolicyInfo::new(
        "lirs",
        "low inter-reference recency set (Jiang & Zhang)",
        &[share(
            "hir",
            "0.01",
            "the resident HIR queue's share of the capacity",
        )],
        Lirs::build,
    ),
    PolicyInfo::new(
        "wtinylfu",
        "W-TinyLFU: window LRU + SLRU main + frequency sketch admission",
        &[share(
            "window",
            "0.01",
            "the window LRU's share of the capacity",
        )],
        WTinyLfu::build,
    ),
    PolicyInfo::new(
        "s3fifo",
        "S3-FIFO: small + main + ghost FIFOs (SOSP'23)",
        &[
            share("small", "0.1", "the small FIFO's share of the capacity"),
            Param::new(
                "ghost",
                "0.9",
                Kind::Number { lo: 0.0, hi: 4.0 },
                "the ghost FIFO's size relative to the capacity, counted with sizes",
            ),
            Param::new(
                "threshold",
                "2",
                Kind::Int { lo: 1, hi: 3 },
                "hits that move an entry from the small FIFO to main",
            ),
        ],
        S3Fifo::build,
    ),
    PolicyInfo::new(
        "sieve",
        "SIEVE: FIFO with visited bits and a moving hand (NSDI'24)",
        &[],
        OneQueue::<Sieve>::build,
    ),
    PolicyInfo::new(
        "gdsf",
        "GreedyDual-Size-Frequency",
        &[],
        Ranked::<Gdsf>::build,
    ),
    PolicyInfo::new(
        "hyperbolic",
        "hyperbolic caching: sampled eviction of the lowest hits/age",
        &[Param::new(
            "samples",
            "64",
            Kind::Int { lo: 1, hi: 1024 },
            "entries sampled per eviction",
        )],
        Hyperbolic::build,
    ),
    PolicyInfo {
        facts: PolicyFacts {
            needs_next_access: true,
        },
        ..PolicyInfo::new(
            "belady",
            "offline optimal: evicts the furthest next access",
            &[],
            Ranked::<Belady>::build,
        )
    },
];

/// What a policy's constructor gets.
pub struct PolicyCtx<'a> {
    /// Capacity in bytes, or in objects when `count_objects`.
    pub capacity: u64,
    pub count_objects: bool,
    /// Read against the policy's table: defaults filled in, ranges checked.
    pub params: Params<'a>,
    /// Seed for randomized policies (Random, Hyperbolic).
    pub seed: u64,
}

impl PolicyCtx<'_> {
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

/// A policy name with its parameters, e.g. `slru(segments=4)`: a [`Spec`]
/// that, read from an experiment file, is checked against the registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicySpec(Spec);

impl Deref for PolicySpec {
    type Target = Spec;
    fn deref(&self) -> &Spec {
        &self.0
    }
}

/// Editable like any spec (the limiter's accuracy check copies parameters
/// across); [`build`] checks whatever it is given.
impl DerefMut for PolicySpec {
    fn deref_mut(&mut self) -> &mut Spec {
        &mut self.0
    }
}

impl FromStr for PolicySpec {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        text.parse()
            .map(PolicySpec)
            .map_err(|e: ConfigError| format!("policy {e}").into())
    }
}

impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.fmt(f)
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
    pub fn validate(&self) -> Result<(), ConfigError> {
        build(self, 1 << 20, false, 0).map(drop)
    }

    /// Whether the policy reads next-access positions (Belady).
    pub fn needs_next_access(&self) -> bool {
        spec::find(POLICIES, &self.name).is_ok_and(|p| p.facts.needs_next_access)
    }
}

/// Builds the policy `spec` with `capacity` (objects when `count_objects`,
/// else bytes).
pub fn build(
    spec: &PolicySpec,
    capacity: u64,
    count_objects: bool,
    seed: u64,
) -> Result<BoxedCache, ConfigError> {
    let info = spec::find(POLICIES, &spec.name)?;
    let ctx = PolicyCtx {
        capacity,
        count_objects,
        params: Params::new(info, &spec.params)?,
        seed,
    };
    (info.build)(&ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Request;

    #[test]
    fn unknown_names_and_parameters_are_explained() {
        let err = build(&"lruu".parse().unwrap(), 10, true, 0).err().unwrap();
        assert!(err.0.contains("valid policies: fifo, lru"), "{err}");
        let err = build(&"lru(x=1)".parse().unwrap(), 10, true, 0)
            .err()
            .unwrap();
        assert!(err.0.contains("takes no parameters"), "{err}");
    }

    #[test]
    fn bad_parameter_values_list_the_valid_ones() {
        let err = |spec: &str| spec.parse::<PolicySpec>().unwrap().validate().unwrap_err();
        let e = err("slru(segments=0)");
        assert!(e.0.contains("valid values are 1 to 16"), "{e}");
        let e = err("wtinylfu(window=1.5)");
        assert!(e.0.contains("strictly between 0 and 1"), "{e}");
        let e = err("wtinylfu(window=150%)");
        assert!(e.0.contains("window=150% is out of range"), "{e}");
        let e = err("s3fifo(small=tenth)");
        assert!(e.0.contains("like 0.1 or 10%"), "{e}");
        let e = err("clock(bits=x)");
        assert!(e.0.contains("bits=\"x\" is not a valid value"), "{e}");
        let e = err("s3fifo(size=1)");
        assert!(
            e.0.contains("valid parameters: small, ghost, threshold"),
            "{e}"
        );
        let e: Result<PolicySpec, _> = toml::from_str::<
            std::collections::BTreeMap<String, PolicySpec>,
        >("p = \"slru(segments=0)\"")
        .map(|mut m| m.remove("p").unwrap());
        let e = e.unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("segments=0"), "{e}");
    }

    /// Misses of `spec` at `capacity` objects over `n` skewed requests,
    /// each due again 1000 requests later (for Belady).
    fn misses_of(spec: &str, capacity: u64, n: u64) -> usize {
        let mut c = build(&spec.parse().unwrap(), capacity, true, 1).unwrap();
        (0..n)
            .filter(|i| {
                let key = (i * 7919) % 1000 % (1 + i % 300);
                !c.access(&Request {
                    key,
                    size: 1,
                    next_access: i + 1000,
                    ..Default::default()
                })
            })
            .count()
    }

    #[test]
    fn a_share_reads_as_a_fraction_or_a_percentage() {
        let misses = |spec: &str| misses_of(spec, 200, 20_000);
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

    #[test]
    fn a_default_given_explicitly_changes_nothing() {
        let misses = |spec: &str| misses_of(spec, 100, 5_000);
        for p in POLICIES {
            let given: Vec<String> = p
                .params
                .iter()
                .map(|q| format!("{}={}", q.name, q.default))
                .collect();
            let explicit = format!("{}({})", p.name, given.join(","));
            assert_eq!(misses(p.name), misses(&explicit), "{explicit}");
        }
    }
}
