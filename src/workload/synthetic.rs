//! Synthetic traffic: keys drawn from a popularity law, one size per object,
//! Poisson arrivals. Each random source has its own stream, so changing the
//! size distribution leaves the key sequence untouched.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Zipf};
use serde::Deserialize;

use super::Request;
use super::clients::ClientsSpec;
use crate::engine::{SECOND, stream};
use crate::units::{Bytes, Duration, Rate, checked};

/// `[workload]` with `kind = "synthetic"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Number of requests to generate.
    #[serde(deserialize_with = "checked::positive")]
    pub requests: u64,
    /// Number of distinct objects.
    #[serde(deserialize_with = "checked::positive")]
    pub keys: u64,
    #[serde(default)]
    pub popularity: Popularity,
    #[serde(default)]
    pub size: SizeDist,
    /// Mean arrival rate of the Poisson arrival process.
    #[serde(default = "default_rate")]
    pub rate: Rate,
    /// Time to live of every object; none means objects never expire.
    pub ttl: Option<Duration>,
    /// A client population for rate limiting; without one every request
    /// comes from client 0 at the Poisson `rate` above (which a population
    /// replaces).
    pub clients: Option<ClientsSpec>,
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
    fn sample_sizes(&self, n: u64, seed: u64) -> Result<Vec<u32>, String> {
        let mut rng = stream(seed, "sizes");
        let clamp = |x: f64| x.round().clamp(1.0, u32::MAX as f64) as u32;
        let sizes = match *self {
            SizeDist::Fixed { size } => vec![clamp(size.0 as f64); n as usize],
            SizeDist::Uniform { min, max } => {
                if min > max {
                    return Err(format!("size: min {} is above max {}", min.0, max.0));
                }
                let (lo, hi) = (min.0.max(1), max.0.max(1));
                (0..n)
                    .map(|_| clamp(rng.random_range(lo..=hi) as f64))
                    .collect()
            }
            SizeDist::Lognormal { median, sigma } => {
                let d = LogNormal::new((median.0.max(1) as f64).ln(), sigma)
                    .map_err(|e| format!("size: {e}"))?;
                (0..n).map(|_| clamp(d.sample(&mut rng))).collect()
            }
            SizeDist::Pareto { min, alpha } => {
                let d =
                    Pareto::new(min.0.max(1) as f64, alpha).map_err(|e| format!("size: {e}"))?;
                (0..n).map(|_| clamp(d.sample(&mut rng))).collect()
            }
        };
        Ok(sizes)
    }
}

/// Key sampler for a popularity law over `keys` keys (0-based, key 0 most popular).
pub enum KeySampler {
    Zipf(Zipf<f64>),
    Uniform(u64),
}

impl KeySampler {
    pub fn new(popularity: &Popularity, keys: u64) -> Result<Self, String> {
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

/// Generates the requests of `spec` under `seed`.
pub fn generate(spec: &SyntheticSpec, seed: u64) -> Result<Vec<Request>, String> {
    let sizes = spec.size.sample_sizes(spec.keys, seed)?;
    let sampler = KeySampler::new(&spec.popularity, spec.keys)?;
    let gaps = Exp::new(spec.rate.0).map_err(|e| format!("rate: {e}"))?;
    let ttl_ms = spec
        .ttl
        .map(|t| (t.0 / 1_000_000).clamp(1, u32::MAX as u64) as u32)
        .unwrap_or(0);
    let mut keys = stream(seed, "keys");
    if let Some(clients) = &spec.clients {
        return clients.generate(spec.requests, seed, |time, client, label, tier| {
            let key = sampler.sample(&mut keys);
            Request {
                time,
                key,
                size: sizes[key as usize],
                ttl_ms,
                client,
                label,
                tier,
                ..Request::default()
            }
        });
    }
    let mut arrivals = stream(seed, "arrivals");
    let mut time = 0u64;
    let requests = (0..spec.requests)
        .map(|_| {
            time += (gaps.sample(&mut arrivals) * SECOND as f64).round() as u64;
            let key = sampler.sample(&mut keys);
            Request {
                time,
                key,
                size: sizes[key as usize],
                ttl_ms,
                ..Request::default()
            }
        })
        .collect();
    Ok(requests)
}
