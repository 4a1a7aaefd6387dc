//! Synthetic traffic: keys drawn from a popularity law, one size per object,
//! Poisson arrivals. Each random source has its own stream, so changing the
//! size distribution leaves the key sequence untouched.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Zipf};
use serde::Deserialize;

use super::Request;
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
            requests: 5000,
            keys: 300,
            popularity: Popularity::default(),
            size,
            rate: default_rate(),
            ttl: None,
        };
        let a = generate(
            &spec(SizeDist::Lognormal {
                median: Bytes(10_000),
                sigma: 1.0,
            }),
            1,
        )
        .unwrap();
        let b = generate(&spec(SizeDist::Fixed { size: Bytes(64) }), 1).unwrap();
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
            requests: 200_000,
            keys: 10,
            popularity: Popularity::Uniform,
            size: SizeDist::default(),
            rate: Rate(500.0),
            ttl: None,
        };
        let reqs = generate(&spec, 3).unwrap();
        let rate = reqs.len() as f64 / (reqs.last().unwrap().time as f64 / SECOND as f64);
        assert!((rate / 500.0 - 1.0).abs() < 0.01, "rate {rate}");
    }
}
