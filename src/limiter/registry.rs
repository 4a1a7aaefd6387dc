//! Limiters by name. Adding an algorithm is one new file and one entry in
//! [`ALGORITHMS`] (docs/extending.md).
//!
//! A `[[limiter]]` table (or the `limit` command's flags) gives the common
//! parameters: `rate`, `burst`, `window`, `key` and `premium`, whose
//! defaults are each entry's [`Defaults`]; anything specific to one
//! algorithm goes in parentheses after its name, as for cache policies:
//! `aimd(timeout=200ms, backoff=0.9)`, and is declared in the entry's
//! parameter table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de::Error};

use super::accuracy::Approximation;
use super::fixed_window::FixedWindow;
use super::sliding_counter::SlidingCounter;
use super::sliding_log::SlidingLog;
use super::{
    BoxedLimiter, KeyedLimiter, aimd, concurrency, gcra, gradient, leaky_bucket, leaky_queue,
    token_bucket, window, workshop,
};
use crate::engine::{SECOND, SimTime};
use crate::error::ConfigError;
use crate::spec::{self, Entry, Facts, Kind, Params, Spec};
use crate::units::{Duration, Rate};

/// One registered algorithm.
pub type AlgorithmInfo =
    Entry<fn(&LimiterCtx) -> Result<BoxedLimiter, ConfigError>, AlgorithmFacts>;

/// What the registry records of an algorithm besides its name and
/// parameters.
pub struct AlgorithmFacts {
    /// The common parameters' defaults.
    pub defaults: Defaults,
    /// Whether the algorithm handles premium clients itself: one instance
    /// serves every tier, built with the multiplier in [`LimiterCtx::premium`],
    /// and decides premium requests in `Limiter::decide_premium`. Otherwise
    /// premium clients get their own instance with every limit multiplied.
    pub tiers_inside: bool,
    /// For approximations of a sliding window: how they estimate the rate.
    pub approximates: Option<Approximation>,
}

impl Facts for AlgorithmFacts {
    const WHAT: (&'static str, &'static str) = ("limiter algorithm", "algorithms");
    /// The usual defaults, one instance per tier and no approximation.
    const USUAL: Self = AlgorithmFacts {
        defaults: Defaults::STANDARD,
        tiers_inside: false,
        approximates: None,
    };
}

/// What the common parameters (the `[[limiter]]` fields and the `limit`
/// command's flags, not written in parentheses) are when not given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Defaults {
    /// Requests admitted back to back from idle.
    pub burst: u32,
    /// Window of the window algorithms.
    pub window: SimTime,
    /// Multiplier of premium clients' limits.
    pub premium: f64,
    /// Requests per window without a rate; None when a rate is required.
    pub limit: Option<u64>,
}

impl Defaults {
    /// Every algorithm's but the workshop's.
    pub const STANDARD: Defaults = Defaults {
        burst: 1,
        window: SECOND,
        premium: 1.0,
        limit: None,
    };
}

/// Every algorithm edgesim knows, in the order listings show them.
pub const ALGORITHMS: &[AlgorithmInfo] = &[
    AlgorithmInfo {
        facts: AlgorithmFacts {
            approximates: Some(Approximation::FixedWindow),
            ..AlgorithmFacts::USUAL
        },
        ..AlgorithmInfo::new(
            "fixed-window",
            "rate x window requests per aligned window",
            window::PARAMS,
            window::build::<FixedWindow>,
        )
    },
    AlgorithmInfo::new(
        "sliding-window-log",
        "exact: at most rate x window requests in any window",
        window::PARAMS,
        window::build::<SlidingLog>,
    ),
    AlgorithmInfo {
        facts: AlgorithmFacts {
            approximates: Some(Approximation::SlidingCounter),
            ..AlgorithmFacts::USUAL
        },
        ..AlgorithmInfo::new(
            "sliding-window-counter",
            "Cloudflare's approximation: weighted previous window plus current",
            window::PARAMS,
            window::build::<SlidingCounter>,
        )
    },
    AlgorithmInfo::new(
        "token-bucket",
        "bucket of burst tokens refilled at rate, starts full",
        &[],
        token_bucket::build,
    ),
    AlgorithmInfo::new(
        "leaky-bucket",
        "leaky bucket as a meter (the same decisions as GCRA)",
        &[],
        leaky_bucket::build,
    ),
    AlgorithmInfo::new(
        "leaky-queue",
        "leaky bucket as a queue: delays up to burst-1 intervals, rejects the excess",
        &[],
        leaky_queue::build,
    ),
    AlgorithmInfo::new(
        "gcra",
        "generic cell rate algorithm (theoretical arrival time)",
        &[],
        gcra::build,
    ),
    AlgorithmInfo::new(
        "concurrency",
        "fixed cap on requests in flight",
        concurrency::PARAMS,
        concurrency::build,
    ),
    AlgorithmInfo::new(
        "aimd",
        "additive-increase multiplicative-decrease concurrency limit",
        aimd::PARAMS,
        aimd::build,
    ),
    AlgorithmInfo::new(
        "gradient",
        "gradient-style adaptive concurrency limit (Netflix Gradient2)",
        gradient::PARAMS,
        gradient::build,
    ),
    AlgorithmInfo {
        // The workshop's configuration.
        facts: AlgorithmFacts {
            defaults: Defaults {
                burst: 20,
                window: 60 * SECOND,
                premium: 2.0,
                limit: Some(100),
            },
            tiers_inside: true,
            approximates: None,
        },
        ..AlgorithmInfo::new(
            "workshop-adaptive",
            "the seed workshop's AdaptiveRateLimiter",
            workshop::PARAMS,
            workshop::build,
        )
    },
];

/// What a limiter is keyed by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyBy {
    /// One state per client (IP or id).
    #[default]
    Client,
    /// One state per client and route (the requested object).
    ClientRoute,
    /// One state for all traffic.
    Global,
}

impl FromStr for KeyBy {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text.trim() {
            "client" => Ok(KeyBy::Client),
            "client+route" => Ok(KeyBy::ClientRoute),
            "global" => Ok(KeyBy::Global),
            other => Err(format!(
                "unknown limiter key {other:?}, expected \"client\", \"client+route\" or \"global\""
            )
            .into()),
        }
    }
}

impl fmt::Display for KeyBy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            KeyBy::Client => "client",
            KeyBy::ClientRoute => "client+route",
            KeyBy::Global => "global",
        })
    }
}

impl<'de> Deserialize<'de> for KeyBy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// An algorithm name with its parameters, e.g. `aimd(timeout=200ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmSpec(pub Spec);

impl FromStr for AlgorithmSpec {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let spec: Spec = text.parse()?;
        spec::find(ALGORITHMS, &spec.name)?;
        Ok(AlgorithmSpec(spec))
    }
}

impl fmt::Display for AlgorithmSpec {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for AlgorithmSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// One `[[limiter]]` choice after sweeps are expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimiterSpec {
    pub algorithm: AlgorithmSpec,
    /// Sustained rate per key (rate algorithms).
    pub rate: Option<Rate>,
    /// Requests admitted back to back from idle (at least 1; nginx `burst=B`
    /// is `burst = B+1` here); burst tokens per window for workshop-adaptive
    /// [default there: 20].
    #[serde(default, deserialize_with = "burst")]
    pub burst: Option<u32>,
    #[serde(default)]
    pub key: KeyBy,
    /// Window of the window algorithms [default: 1s; 60s for
    /// workshop-adaptive].
    #[serde(default, deserialize_with = "window")]
    pub window: Option<Duration>,
    /// Multiplier of premium (tier 1) clients' limits [default: 1, 2 for
    /// workshop-adaptive].
    #[serde(default, deserialize_with = "premium")]
    pub premium: Option<f64>,
}

fn burst<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = crate::units::checked::integer(d)?;
    check_burst(v).map(Some).map_err(D::Error::custom)
}

/// A burst is a count of requests admitted back to back: at least 1.
pub fn check_burst(v: i64) -> Result<u32, ConfigError> {
    if v < 1 || v > u32::MAX as i64 {
        return Err(format!(
            "burst must be a whole number of requests of at least 1 (the requests admitted back to back; nginx burst=B is burst = B+1 here), found {v}"
        ).into());
    }
    Ok(v as u32)
}

fn window<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let w = Duration::deserialize(d)?;
    if w.0 == 0 {
        return Err(D::Error::custom("window must be longer than zero"));
    }
    Ok(Some(w))
}

fn premium<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v.is_finite() && v > 0.0) {
        return Err(D::Error::custom(format!(
            "premium must be a multiplier > 0, found {v}"
        )));
    }
    Ok(Some(v))
}

impl LimiterSpec {
    /// A spec for `algorithm` with the common parameters.
    pub fn new(
        algorithm: &str,
        rate: Option<f64>,
        burst: Option<u32>,
        key: KeyBy,
    ) -> Result<Self, ConfigError> {
        Ok(LimiterSpec {
            algorithm: algorithm.parse()?,
            rate: rate.map(Rate),
            burst,
            key,
            window: None,
            premium: None,
        })
    }

    pub fn info(&self) -> &'static AlgorithmInfo {
        spec::find(ALGORITHMS, &self.algorithm.0.name).expect("validated when parsed")
    }

    /// The premium multiplier in force.
    pub fn premium(&self) -> f64 {
        self.premium.unwrap_or(self.info().facts.defaults.premium)
    }

    /// The window in force.
    pub fn window_ns(&self) -> SimTime {
        self.window
            .map_or(self.info().facts.defaults.window, |w| w.0)
    }

    /// A short label: the algorithm with its parameters, rate and burst.
    pub fn label(&self) -> String {
        let mut label = self.algorithm.to_string();
        if let Some(Rate(r)) = self.rate {
            // Whole numbers per second when possible, else per minute or hour.
            let (n, per) = [(r, "s"), (r * 60.0, "min"), (r * 3600.0, "h")]
                .into_iter()
                .find(|(n, _)| *n >= 1.0 && (n - n.round()).abs() < 1e-9)
                .unwrap_or((r, "s"));
            label.push_str(&format!(" {}/{per}", (n * 1e6).round() / 1e6));
        }
        if let Some(b) = self.burst {
            label.push_str(&format!(" burst {b}"));
        }
        label
    }
}

/// The kind of a parameter counting requests, read with
/// [`LimiterCtx::count`].
pub const REQUESTS: Kind = Kind::Int {
    lo: 1,
    hi: u64::MAX,
};

/// What an algorithm's constructor gets: the common parameters, already
/// multiplied by the tier's multiplier, and its own parameters, read against
/// its table.
pub struct LimiterCtx<'a> {
    info: &'static AlgorithmInfo,
    rate: Option<f64>,
    burst: Option<u32>,
    window: Option<SimTime>,
    scale: f64,
    premium: f64,
    params: Params<'a>,
}

impl LimiterCtx<'_> {
    /// The sustained rate per second; required by rate algorithms.
    pub fn rate(&self) -> Result<f64, ConfigError> {
        self.rate.map(|r| r * self.scale).ok_or_else(|| {
            format!(
                "limiter {}: needs a rate, such as rate = \"10/s\"",
                self.info.name
            )
            .into()
        })
    }

    /// Nanoseconds between conforming requests at the rate (at least 1).
    pub fn interval(&self) -> Result<u64, ConfigError> {
        Ok(((1e9 / self.rate()?).round() as u64).max(1))
    }

    /// Requests admitted back to back from idle.
    pub fn burst(&self) -> u32 {
        let burst = self.burst.unwrap_or(self.info.facts.defaults.burst);
        self.scaled(burst as u64) as u32
    }

    /// The window of the window algorithms.
    pub fn window(&self) -> SimTime {
        self.window.unwrap_or(self.info.facts.defaults.window)
    }

    /// The premium multiplier, for algorithms registered with
    /// `tiers_inside` (1 for the others: their premium instance is scaled).
    pub fn premium(&self) -> f64 {
        self.premium
    }

    /// Requests per window: rate x window, rounded, at least 1; without a
    /// rate, the algorithm's default limit when it has one.
    pub fn window_limit(&self) -> Result<u64, ConfigError> {
        if let (None, Some(limit)) = (self.rate, self.info.facts.defaults.limit) {
            return Ok(self.scaled(limit));
        }
        let limit = (self.rate()? * self.window() as f64 / 1e9).round();
        if limit < 1.0 {
            return Err(format!(
                "limiter {}: rate x window is below one request per window; raise the rate or lengthen the window",
                self.info.name
            ).into());
        }
        Ok(limit as u64)
    }

    /// `n` times the tier multiplier, rounded, at least 1.
    fn scaled(&self, n: u64) -> u64 {
        ((n as f64 * self.scale).round() as u64).max(1)
    }

    /// A whole-number parameter counting requests, multiplied by the tier
    /// multiplier like the common limits.
    pub fn count(&self, name: &str) -> Result<u64, ConfigError> {
        Ok(self.scaled(self.params.int(name)?))
    }

    /// A number parameter.
    pub fn number(&self, name: &str) -> Result<f64, ConfigError> {
        self.params.number(name)
    }

    /// A duration parameter, in nanoseconds.
    pub fn duration(&self, name: &str) -> Result<SimTime, ConfigError> {
        self.params.duration(name)
    }

    /// A word parameter.
    pub fn word(&self, name: &str) -> Result<&'static str, ConfigError> {
        self.params.word(name)
    }
}

fn build_one(spec: &LimiterSpec, scale: f64, premium: f64) -> Result<BoxedLimiter, ConfigError> {
    let info = spec.info();
    let ctx = LimiterCtx {
        info,
        rate: spec.rate.map(|r| r.0),
        burst: spec.burst,
        window: spec.window.map(|w| w.0),
        scale,
        premium,
        params: Params::new(info, &spec.algorithm.0.params)?,
    };
    (info.build)(&ctx)
}

/// Builds the limiter `spec` describes, with a separate instance for premium
/// clients when their multiplier is not 1, or one instance for everyone
/// when the algorithm handles tiers itself.
pub fn build(spec: &LimiterSpec) -> Result<KeyedLimiter, ConfigError> {
    if spec.info().facts.tiers_inside {
        // Premium is a property of the client a key belongs to; the one
        // global key belongs to no client, so nobody is premium under it.
        let premium = match spec.key {
            KeyBy::Global => 1.0,
            _ => spec.premium(),
        };
        let limiter = build_one(spec, 1.0, premium)?;
        return Ok(KeyedLimiter::new(spec.key, limiter, None));
    }
    let standard = build_one(spec, 1.0, 1.0)?;
    let premium = spec.premium();
    let premium = if premium == 1.0 {
        None
    } else {
        Some(build_one(spec, premium, 1.0)?)
    };
    Ok(KeyedLimiter::new(spec.key, standard, premium))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_explained() {
        let err = "leaky".parse::<AlgorithmSpec>().unwrap_err();
        assert!(err.0.contains("valid algorithms: fixed-window"), "{err}");
        let err = check_burst(-3).unwrap_err();
        assert!(
            err.0.contains("at least 1") && err.0.contains("-3"),
            "{err}"
        );
        let spec = LimiterSpec::new("gcra", None, None, KeyBy::Client).unwrap();
        let err = build(&spec).err().unwrap();
        assert!(err.0.contains("needs a rate"), "{err}");
        let spec = LimiterSpec::new("aimd(backof=0.5)", None, None, KeyBy::Client).unwrap();
        let err = build(&spec).err().unwrap();
        assert!(err.0.contains("unknown parameter \"backof\""), "{err}");
        let spec = LimiterSpec::new("fixed-window", Some(0.1), None, KeyBy::Client).unwrap();
        let err = build(&spec).err().unwrap();
        assert!(err.0.contains("below one request per window"), "{err}");
        assert!("ip".parse::<KeyBy>().is_err());
    }

    #[test]
    fn every_algorithm_builds_with_its_defaults() {
        for info in ALGORITHMS {
            for p in info.params {
                let given = [(p.name.to_string(), p.default.to_string())];
                Params::new(info, &given).unwrap_or_else(|e| panic!("{e}"));
            }
            let spec = LimiterSpec::new(info.name, Some(10.0), None, KeyBy::Client).unwrap();
            build(&spec).unwrap_or_else(|e| panic!("{}: {e}", info.name));
        }
    }
}
