//! The service every request goes through: client -> (network) -> limiter
//! -> cache -> origin, simulated on the event queue. Any stage may be
//! absent; `edgesim run` and `edgesim limit` both come here.
//!
//! - The client sends at its intended time (open loop: no coordinated
//!   omission) or when its connection's previous answer came back plus a
//!   think time (closed loop). Half of the network round trip (`rtt`) is
//!   spent on the way in, half on the way back.
//! - The limiter decides at once: a denial is answered there (429); a
//!   shaper's delay postpones the rest.
//! - A cache hit is answered after `edge_time`. A miss, an expired entry or
//!   an uncacheable route goes to the origin (half of `origin_rtt` each way).
//!   With `coalesce`, a miss for a key already being fetched waits for that
//!   fetch instead of sending its own. Without it, that miss is a miss: the
//!   object is not there until its fetch returns.
//! - The origin has `servers` servers and a FIFO queue of at most `queue`
//!   waiting requests; a request arriving at a full queue is refused (503).
//!   One waiting or being served longer than `timeout` is answered 504 at
//!   that moment; its work is not cancelled (a server that has started, or
//!   will start, on it still spends its service time, as real origins do
//!   when the proxy in front gives up). A failed fetch is not cached.
//! - Events at one instant run in scheduling order; origin completions and
//!   timeouts due at an arrival's instant run before it, and a completion
//!   due exactly at a deadline is a success ("longer than" the timeout).

mod load;
mod origin;
mod pipeline;
mod stats;

pub use load::{ConnPhase, Load, LoadSpec};
pub use pipeline::{
    CacheStage, NEEDS_ORIGIN, Outcome, SiteCounts, Source, Stages, in_time_order, simulate,
    simulate_in_time_order,
};

use rand_distr::{Distribution, Exp, LogNormal};
use serde::{Deserialize, Deserializer};

use crate::engine::{RngStream, SECOND, SimTime};
use crate::error::ConfigError;
use crate::units::{Duration, checked};

/// `[service]`: the origin and the network around it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Requests served at once.
    #[serde(deserialize_with = "checked::positive")]
    pub servers: u64,
    /// Requests that may wait for a server [default: unbounded].
    #[serde(default, deserialize_with = "crate::units::checked::some_whole")]
    pub queue: Option<u64>,
    #[serde(deserialize_with = "positive_time")]
    pub service_time: TimeDist,
    /// A request waiting or in service longer than this is answered 504.
    #[serde(default, deserialize_with = "some_positive_duration")]
    pub timeout: Option<Duration>,
    /// Concurrent misses for one key wait for one origin fetch.
    #[serde(default)]
    pub coalesce: bool,
    /// Client <-> edge round trip [default: 0].
    pub rtt: Option<TimeDist>,
    /// Time to answer a cache hit at the edge [default: 0].
    pub edge_time: Option<TimeDist>,
    /// Edge <-> origin round trip [default: 0].
    pub origin_rtt: Option<TimeDist>,
}

impl ServiceSpec {
    /// An origin of `servers` servers taking `service_time` each, nothing else.
    pub fn fixed(servers: u64, service_time: SimTime) -> Self {
        ServiceSpec {
            servers,
            queue: None,
            service_time: TimeDist::Fixed {
                time: Duration(service_time),
            },
            timeout: None,
            coalesce: false,
            rtt: None,
            edge_time: None,
            origin_rtt: None,
        }
    }
}

/// A distribution of durations: service times, round trips.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum TimeDist {
    Fixed {
        time: Duration,
    },
    Exponential {
        mean: Duration,
    },
    /// By its median and either `sigma` (of the underlying normal) or `p99`.
    Lognormal {
        median: Duration,
        #[serde(default, deserialize_with = "some_positive_real")]
        sigma: Option<f64>,
        p99: Option<Duration>,
    },
}

/// The standard normal's 99th percentile: a lognormal's p99 is median x
/// exp(2.326 sigma).
const Z99: f64 = 2.326_347_874_040_841;

impl TimeDist {
    /// Checks the parameters and returns the sampler.
    pub fn sampler(&self) -> Result<TimeSampler, ConfigError> {
        let seconds = |d: Duration| d.0 as f64 / SECOND as f64;
        Ok(match *self {
            TimeDist::Fixed { time } => TimeSampler::Fixed(time.0),
            TimeDist::Exponential { mean } if mean.0 > 0 => {
                TimeSampler::Exponential(Exp::new(1.0 / seconds(mean)).map_err(|e| e.to_string())?)
            }
            TimeDist::Exponential { .. } => {
                return Err("an exponential needs a mean longer than zero".into());
            }
            TimeDist::Lognormal { median, sigma, p99 } => {
                if median.0 == 0 {
                    return Err("a lognormal needs a median longer than zero".into());
                }
                let sigma =
                    match (sigma, p99) {
                        (Some(s), None) => s,
                        (None, Some(p99)) if p99 > median => {
                            (seconds(p99) / seconds(median)).ln() / Z99
                        }
                        (None, Some(_)) => {
                            return Err("a lognormal's p99 must be above its median".into());
                        }
                        _ => return Err(
                            "a lognormal needs either `sigma` or `p99` beside `median`, not both"
                                .into(),
                        ),
                    };
                TimeSampler::Lognormal(
                    LogNormal::new(seconds(median).ln(), sigma).map_err(|e| e.to_string())?,
                )
            }
        })
    }

    /// Whether every draw is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, TimeDist::Fixed { time } if time.0 == 0)
    }
}

/// Draws durations from a [`TimeDist`].
#[derive(Debug, Clone)]
pub enum TimeSampler {
    Fixed(SimTime),
    Exponential(Exp<f64>),
    Lognormal(LogNormal<f64>),
}

impl TimeSampler {
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> SimTime {
        let seconds = match self {
            TimeSampler::Fixed(t) => return *t,
            TimeSampler::Exponential(d) => d.sample(rng),
            TimeSampler::Lognormal(d) => d.sample(rng),
        };
        // Draws are never negative, so adding a half and truncating rounds
        // to the nearest nanosecond without a call into libm's round.
        (seconds * SECOND as f64 + 0.5) as SimTime
    }
}

/// A service time: its parameters are checked and every draw must be able
/// to be above zero.
fn positive_time<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDist, D::Error> {
    let dist = TimeDist::deserialize(d)?;
    if dist.is_zero() {
        return Err(serde::de::Error::custom(
            "a service time must be longer than zero",
        ));
    }
    dist.sampler()
        .map_err(|e| serde::de::Error::custom(format!("service_time: {e}")))?;
    Ok(dist)
}

fn some_positive_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let v = Duration::deserialize(d)?;
    if v.0 == 0 {
        return Err(serde::de::Error::custom("must be longer than zero"));
    }
    Ok(Some(v))
}

fn some_positive_real<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    checked::positive_real(d).map(Some)
}

/// Why a closed loop with no think time would send forever without
/// simulated time passing, if it would: some answer can come back at the
/// instant its request was sent and the network adds no round trip.
pub fn stalls(service: Option<&ServiceSpec>, cache: bool, limiter: bool) -> Option<String> {
    if service.is_some_and(|s| s.rtt.as_ref().is_some_and(|r| !r.is_zero())) {
        return None;
    }
    let instant = [
        (service.is_none(), "there is no origin"),
        (
            cache && service.is_none_or(|s| s.edge_time.is_none()),
            "a cache hit takes no time (no edge_time)",
        ),
        (
            service.is_some_and(|s| s.queue.is_some()),
            "a full queue refuses at once",
        ),
        (limiter, "a denial is answered at once"),
    ];
    let (_, why) = instant.iter().find(|(yes, _)| *yes)?;
    Some(format!(
        "a closed loop with no think time and no network round trip would send forever without time passing ({why}): add `think` to the [[load]] or `rtt` to the [service]"
    ))
}

/// One route of a workload as the service sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub name: String,
    /// Whether the cache may answer it (a POST is not cacheable).
    pub cacheable: bool,
    /// Its own service time at the origin, if not the service's.
    pub service_time: Option<TimeDist>,
}

impl Route {
    /// The one route of a workload that declares none.
    pub fn all() -> Self {
        Route {
            name: "all".into(),
            cacheable: true,
            service_time: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_by_p99_puts_the_99th_percentile_there() {
        let d = TimeDist::Lognormal {
            median: Duration(40_000_000),
            sigma: None,
            p99: Some(Duration(400_000_000)),
        };
        let s = d.sampler().unwrap();
        let mut rng = crate::engine::stream(1, "t");
        let mut xs: Vec<SimTime> = (0..200_000).map(|_| s.sample(&mut rng)).collect();
        xs.sort_unstable();
        let p = |q: f64| xs[(q * xs.len() as f64) as usize] as f64;
        assert!((p(0.5) / 40e6 - 1.0).abs() < 0.02, "median {}", p(0.5));
        assert!((p(0.99) / 400e6 - 1.0).abs() < 0.04, "p99 {}", p(0.99));
    }
}
