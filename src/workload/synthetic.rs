//! Synthetic traffic: keys drawn from a popularity law, one size per object,
//! an optional route mix, and send times from Poisson arrivals, a client
//! population or the experiment's load. Each random source has its own
//! stream, so changing the size distribution (or the load) leaves the key
//! sequence untouched.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Zipf};
use serde::Deserialize;

use super::Request;
use super::clients::ClientsSpec;
use crate::engine::{RngStream, SECOND, SimTime, stream};
use crate::error::ConfigError;
use crate::service::{Route, TimeDist};
use crate::units::{Bytes, Duration, Rate, checked};

/// `[workload]` with `kind = "synthetic"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Number of requests to generate; may be left out when the load
    /// has a duration.
    #[serde(default, deserialize_with = "some_positive")]
    pub requests: Option<u64>,
    /// Number of distinct objects.
    #[serde(deserialize_with = "checked::positive")]
    pub keys: u64,
    #[serde(default)]
    pub popularity: Popularity,
    #[serde(default, deserialize_with = "size_dist")]
    pub size: SizeDist,
    /// Mean arrival rate of the Poisson arrival process.
    #[serde(default = "default_rate")]
    pub rate: Rate,
    /// Time to live of every object; none means objects never expire.
    #[serde(default, deserialize_with = "checked::ttl")]
    pub ttl: Option<Duration>,
    /// A client population for rate limiting; without one every request
    /// comes from client 0 at the Poisson `rate` above (which a population
    /// replaces).
    pub clients: Option<ClientsSpec>,
    /// A route mix (endpoints), each with its share of the requests.
    pub routes: Option<Routes>,
}

/// A size law whose bounds are in order, checked where it is written.
fn size_dist<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SizeDist, D::Error> {
    let dist = SizeDist::deserialize(d)?;
    if let &SizeDist::Uniform { min, max } = &dist
        && min > max
    {
        return Err(serde::de::Error::custom(format!(
            "uniform sizes: min {} is above max {}",
            crate::units::format_bytes(min.0),
            crate::units::format_bytes(max.0)
        )));
    }
    Ok(dist)
}

fn some_positive<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    checked::positive(d).map(Some)
}

/// One endpoint of a route mix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    pub name: String,
    /// Share of the requests, between 0 and 1; the shares sum to 1.
    #[serde(deserialize_with = "checked::non_negative")]
    pub share: f64,
    /// Whether a cache may answer it (a POST is not) [default: true].
    #[serde(default = "yes")]
    pub cacheable: bool,
    /// Its own origin service time [default: the service's].
    pub service_time: Option<TimeDist>,
    /// Its own time to live [default: the workload's].
    #[serde(default, deserialize_with = "checked::ttl")]
    pub ttl: Option<Duration>,
}

fn yes() -> bool {
    true
}

/// `routes = [...]`: at least one, at most 256, shares summing to 1.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<RouteSpec>")]
pub struct Routes(pub Vec<RouteSpec>);

impl TryFrom<Vec<RouteSpec>> for Routes {
    type Error = ConfigError;

    fn try_from(routes: Vec<RouteSpec>) -> Result<Routes, ConfigError> {
        if routes.is_empty() || routes.len() > 256 {
            return Err(format!(
                "routes: give between 1 and 256 routes, found {}",
                routes.len()
            )
            .into());
        }
        let total: f64 = routes.iter().map(|r| r.share).sum();
        if (total - 1.0).abs() > 1e-9 {
            let shares: Vec<String> = routes
                .iter()
                .map(|r| format!("{} {}", r.name, r.share))
                .collect();
            return Err(format!(
                "routes: the shares must sum to 1, found {total} ({})",
                shares.join(" + ")
            )
            .into());
        }
        for r in &routes {
            if let Some(t) = &r.service_time {
                t.sampler()
                    .map_err(|e| format!("route {}: service_time: {e}", r.name))?;
            }
        }
        Ok(Routes(routes))
    }
}

impl SyntheticSpec {
    /// The routes as the service sees them (empty when none are declared).
    pub fn service_routes(&self) -> Vec<Route> {
        self.routes.as_ref().map_or_else(Vec::new, |r| {
            r.0.iter()
                .map(|r| Route {
                    name: r.name.clone(),
                    cacheable: r.cacheable,
                    service_time: r.service_time.clone(),
                })
                .collect()
        })
    }
}

fn default_rate() -> Rate {
    Rate(1000.0)
}

/// How often each key is requested.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Popularity {
    /// The key of rank r (1-based) has probability proportional to r^-alpha.
    Zipf {
        #[serde(deserialize_with = "checked::non_negative")]
        alpha: f64,
    },
    /// Every key equally likely.
    Uniform,
}

impl Default for Popularity {
    fn default() -> Self {
        Popularity::Zipf { alpha: 1.0 }
    }
}

/// The size of each object, drawn once per object.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum SizeDist {
    Fixed {
        size: Bytes,
    },
    Uniform {
        min: Bytes,
        max: Bytes,
    },
    Lognormal {
        median: Bytes,
        #[serde(deserialize_with = "checked::positive_real")]
        sigma: f64,
    },
    /// Pareto with scale `min` and shape `alpha` (heavier tail for smaller alpha).
    Pareto {
        min: Bytes,
        #[serde(deserialize_with = "checked::positive_real")]
        alpha: f64,
    },
}

impl Default for SizeDist {
    fn default() -> Self {
        SizeDist::Fixed { size: Bytes(4096) }
    }
}

impl SizeDist {
    /// Draws `n` object sizes (at least 1 byte, at most u32::MAX).
    fn sample_sizes(&self, n: u64, seed: u64) -> Result<Vec<u32>, ConfigError> {
        let mut rng = stream(seed, "sizes");
        let clamp = |x: f64| x.round().clamp(1.0, u32::MAX as f64) as u32;
        let mut sizes = super::with_room(n, "keys (one size each)")?;
        let n = n as usize;
        match *self {
            SizeDist::Fixed { size } => sizes.resize(n, clamp(size.0 as f64)),
            SizeDist::Uniform { min, max } => {
                let (lo, hi) = (min.0.max(1), max.0.max(1));
                sizes.extend((0..n).map(|_| clamp(rng.random_range(lo..=hi) as f64)));
            }
            SizeDist::Lognormal { median, sigma } => {
                let d = LogNormal::new((median.0.max(1) as f64).ln(), sigma)
                    .map_err(|e| format!("size: {e}"))?;
                sizes.extend((0..n).map(|_| clamp(d.sample(&mut rng))));
            }
            SizeDist::Pareto { min, alpha } => {
                let d =
                    Pareto::new(min.0.max(1) as f64, alpha).map_err(|e| format!("size: {e}"))?;
                sizes.extend((0..n).map(|_| clamp(d.sample(&mut rng))));
            }
        }
        Ok(sizes)
    }
}

/// Key sampler for a popularity law over `keys` keys (0-based, key 0 most popular).
pub enum KeySampler {
    Zipf(Zipf<f64>),
    Uniform(u64),
}

impl KeySampler {
    pub fn new(popularity: &Popularity, keys: u64) -> Result<Self, ConfigError> {
        Ok(match *popularity {
            Popularity::Zipf { alpha } => KeySampler::Zipf(
                Zipf::new(keys as f64, alpha).map_err(|e| format!("popularity: {e}"))?,
            ),
            Popularity::Uniform => KeySampler::Uniform(keys),
        })
    }

    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match self {
            KeySampler::Zipf(z) => z.sample(rng) as u64 - 1,
            KeySampler::Uniform(n) => rng.random_range(0..*n),
        }
    }
}

/// The requests of a synthetic workload in order, without send times:
/// what closed-loop connections take one after another.
pub struct Requests {
    sizes: Vec<u32>,
    sampler: KeySampler,
    keys: RngStream,
    key_count: u64,
    ttl_ms: u32,
    /// Cumulative shares and TTLs of the routes, drawn from their own stream.
    routes: Vec<(f64, u32)>,
    route_rng: RngStream,
}

/// A TTL in whole milliseconds (checked when read), 0 for none.
fn ttl_ms(ttl: Option<Duration>) -> u32 {
    ttl.map_or(0, |t| (t.0 / 1_000_000) as u32)
}

impl Requests {
    pub fn new(spec: &SyntheticSpec, seed: u64) -> Result<Self, ConfigError> {
        let ttl = ttl_ms(spec.ttl);
        let mut cumulative = 0.0;
        let routes = spec.routes.as_ref().map_or_else(Vec::new, |r| {
            r.0.iter()
                .map(|r| {
                    cumulative += r.share;
                    (cumulative, r.ttl.map_or(ttl, |t| ttl_ms(Some(t))))
                })
                .collect()
        });
        Ok(Requests {
            sizes: spec.size.sample_sizes(spec.keys, seed)?,
            sampler: KeySampler::new(&spec.popularity, spec.keys)?,
            keys: stream(seed, "keys"),
            key_count: spec.keys,
            ttl_ms: ttl,
            routes,
            route_rng: stream(seed, "routes"),
        })
    }

    /// The next request, sent at `time`. Each route has its own objects
    /// (the same popularity law over its own `keys` keys).
    #[inline]
    pub fn draw(&mut self, time: SimTime) -> Request {
        let key = self.sampler.sample(&mut self.keys);
        let (route, ttl_ms) = if self.routes.is_empty() {
            (0, self.ttl_ms)
        } else {
            let u: f64 = self.route_rng.random();
            let r = self
                .routes
                .iter()
                .position(|&(c, _)| u < c)
                .unwrap_or(self.routes.len() - 1);
            (r, self.routes[r].1)
        };
        Request {
            time,
            key: key + route as u64 * self.key_count,
            size: self.sizes[key as usize],
            ttl_ms,
            route: route as u8,
            ..Request::default()
        }
    }
}

impl Iterator for Requests {
    type Item = Request;

    fn next(&mut self) -> Option<Request> {
        Some(self.draw(0))
    }
}

/// The working set of a workload drawn as it goes: every key of every
/// route (its requests are not known in advance).
pub fn key_space(spec: &SyntheticSpec, seed: u64) -> Result<super::WorkingSet, ConfigError> {
    let routes = spec.routes.as_ref().map_or(1, |r| r.0.len()) as u64;
    let bytes: u64 = spec
        .size
        .sample_sizes(spec.keys, seed)?
        .iter()
        .map(|&s| s as u64)
        .sum();
    Ok(super::WorkingSet {
        objects: spec.keys * routes,
        bytes: bytes * routes,
    })
}

/// Generates the requests of `spec` under `seed`, sent at `times` (an
/// arrival process) or, when None, at the workload's own times (Poisson at
/// `rate`, or its client population). Stops after `requests`, or at the
/// first time at or after `end`.
pub fn generate(
    spec: &SyntheticSpec,
    seed: u64,
    times: Option<&mut dyn Iterator<Item = SimTime>>,
    end: Option<SimTime>,
) -> Result<Vec<Request>, ConfigError> {
    if spec.requests.is_none() && end.is_none() {
        return Err(
            "the workload has no end: set `requests` in [workload] or a `duration` in [load]"
                .into(),
        );
    }
    let count = spec.requests.unwrap_or(u64::MAX);
    let end = end.unwrap_or(SimTime::MAX);
    let mut requests = Requests::new(spec, seed)?;
    if let Some(clients) = &spec.clients {
        if times.is_some() {
            return Err("a client population sends on its own schedule: give the [load] no rate, arrival or phases (a duration is fine)".into());
        }
        return clients.generate(count, end, seed, |time, client, label, tier| Request {
            client,
            label,
            tier,
            ..requests.draw(time)
        });
    }
    let mut poisson;
    let times: &mut dyn Iterator<Item = SimTime> = match times {
        Some(t) => t,
        None => {
            let gaps = Exp::new(spec.rate.0).map_err(|e| format!("rate: {e}"))?;
            let mut arrivals = stream(seed, "arrivals");
            let mut time = 0u64;
            poisson = std::iter::from_fn(move || {
                let gap = (gaps.sample(&mut arrivals) * SECOND as f64).round() as u64;
                time = time.saturating_add(gap);
                Some(time)
            });
            &mut poisson
        }
    };
    let mut out = Vec::new();
    while (out.len() as u64) < count {
        let Some(t) = times.next().filter(|&t| t < end) else {
            break;
        };
        out.push(requests.draw(super::within_clock(t, out.len() + 1)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pearson's chi-square of observed key counts against `expected` probabilities.
    fn chi_square(counts: &[u64], expected: &[f64], n: u64) -> f64 {
        counts
            .iter()
            .zip(expected)
            .map(|(&o, &p)| {
                let e = p * n as f64;
                (o as f64 - e).powi(2) / e
            })
            .sum()
    }

    fn key_counts(popularity: Popularity, keys: u64, n: u64) -> Vec<u64> {
        let sampler = KeySampler::new(&popularity, keys).unwrap();
        let mut rng = stream(7, "keys");
        let mut counts = vec![0u64; keys as usize];
        for _ in 0..n {
            counts[sampler.sample(&mut rng) as usize] += 1;
        }
        counts
    }

    #[test]
    fn zipf_rank_frequencies_match_theory() {
        // 99 degrees of freedom: the 0.1% critical value of chi-square is 148.2.
        let (keys, n) = (100u64, 2_000_000u64);
        for alpha in [0.6, 0.8, 1.0, 1.2] {
            let weights: Vec<f64> = (1..=keys).map(|r| (r as f64).powf(-alpha)).collect();
            let total: f64 = weights.iter().sum();
            let expected: Vec<f64> = weights.iter().map(|w| w / total).collect();
            let counts = key_counts(Popularity::Zipf { alpha }, keys, n);
            let chi2 = chi_square(&counts, &expected, n);
            assert!(
                chi2 < 148.2,
                "alpha {alpha}: chi-square {chi2:.1} over 99 dof"
            );
            // The most popular key's share is within 1% of theory.
            let share = counts[0] as f64 / n as f64;
            assert!(
                (share / expected[0] - 1.0).abs() < 0.01,
                "alpha {alpha}: top share {share}"
            );
        }
    }

    #[test]
    fn uniform_popularity_is_flat() {
        let (keys, n) = (50u64, 1_000_000u64);
        let counts = key_counts(Popularity::Uniform, keys, n);
        let chi2 = chi_square(&counts, &vec![1.0 / keys as f64; keys as usize], n);
        // 49 degrees of freedom: 0.1% critical value 85.4.
        assert!(chi2 < 85.4, "chi-square {chi2:.1}");
    }

    #[test]
    fn sizes_are_fixed_per_object_and_streams_are_independent() {
        let spec = |size: SizeDist| SyntheticSpec {
            requests: Some(5000),
            keys: 300,
            popularity: Popularity::default(),
            size,
            rate: default_rate(),
            ttl: None,
            clients: None,
            routes: None,
        };
        let a = generate(
            &spec(SizeDist::Lognormal {
                median: Bytes(10_000),
                sigma: 1.0,
            }),
            1,
            None,
            None,
        )
        .unwrap();
        let b = generate(&spec(SizeDist::Fixed { size: Bytes(64) }), 1, None, None).unwrap();
        // Changing the size law leaves keys and arrival times untouched.
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.key == y.key && x.time == y.time)
        );
        let mut seen = std::collections::BTreeMap::new();
        for r in &a {
            assert_eq!(
                *seen.entry(r.key).or_insert(r.size),
                r.size,
                "one size per object"
            );
        }
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        // The lognormal median is where it was asked to be (within 5%).
        let mut sizes: Vec<u32> = seen.values().copied().collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2] as f64;
        assert!((median / 10_000.0 - 1.0).abs() < 0.25, "median {median}");
    }

    #[test]
    fn poisson_arrivals_have_the_requested_mean_rate() {
        let spec = SyntheticSpec {
            requests: Some(200_000),
            keys: 10,
            popularity: Popularity::Uniform,
            size: SizeDist::default(),
            rate: Rate(500.0),
            ttl: None,
            clients: None,
            routes: None,
        };
        let reqs = generate(&spec, 3, None, None).unwrap();
        let rate = reqs.len() as f64 / (reqs.last().unwrap().time as f64 / SECOND as f64);
        assert!((rate / 500.0 - 1.0).abs() < 0.01, "rate {rate}");
    }
}
