//! SHARDS (Waldspurger et al., FAST 2015): spatially hashed sampling. A
//! key is tracked iff `hash(key) mod P < T`, so every request of a tracked
//! key is seen and reuse is preserved; the sample behaves like the whole
//! trace shrunk by the rate `R = T / P`, so its distances are scaled by
//! `1 / R`: the keys between two accesses, that is; the accessed key itself
//! is no estimate and counts once (else no size below `1 / R` objects could
//! ever hit).
//!
//! Fixed rate keeps `T` fixed. Fixed size keeps at most `s_max` keys: when
//! one too many is tracked, the keys of the largest hash are dropped and
//! `T` is lowered to that hash, so the rate falls as the trace goes on.
//! The paper then rescales the histogram's counts by `R_new / R_old`; here
//! each sampled request is weighted `1 / R` at its rate, which gives the
//! same proportions (every earlier weight carries the same factors) and
//! counts that estimate the whole trace's.

use std::collections::BinaryHeap;

use crate::engine::mix64;
use crate::error::ConfigError;
use crate::units::parse_percent;

/// The hash modulus: 2^24, as in the paper.
pub const MODULUS: u64 = 1 << 24;

/// How keys are sampled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Every key: the exact curve.
    All,
    /// Keys whose hash falls below `rate * MODULUS`.
    Rate(f64),
    /// At most this many keys, at the highest rate that allows it.
    Keys(usize),
}

impl Sampling {
    /// A fixed rate written as a share, `0.01`, or a percentage, `1%`.
    pub fn rate(text: &str) -> Result<Sampling, ConfigError> {
        parse_rate(text).map(Sampling::Rate)
    }
}

/// A sampling rate written as a share, `0.01`, or a percentage, `1%`:
/// above 0 and at most 1.
pub fn parse_rate(text: &str) -> Result<f64, ConfigError> {
    let rate = if text.trim().ends_with('%') {
        parse_percent(text)?
    } else {
        text.trim()
            .parse::<f64>()
            .map_err(|_| format!("a sampling rate is a share such as 0.01 or 1%, found {text:?}"))?
    };
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(
            format!("a sampling rate is above 0 and at most 1 (100%), found {text:?}").into(),
        );
    }
    Ok(rate)
}

/// The key's place in `0..MODULUS`: a fixed mixer, so samples are the same
/// on every run and machine, and sequential keys spread.
#[inline]
fn spot(key: u64) -> u64 {
    mix64(key) % MODULUS
}

/// The threshold `T` of a fixed `rate`: at least one spot, at most all.
pub fn threshold_of(rate: f64) -> u64 {
    ((rate * MODULUS as f64).round() as u64).clamp(1, MODULUS)
}

/// Whether `key` is in the fixed-rate sample of threshold `T` (the keys a
/// [`Sampler`] at that rate tracks): what a miniature simulation of any
/// policy replays (Waldspurger et al., ATC 2017).
#[inline]
pub fn in_sample(key: u64, threshold: u64) -> bool {
    spot(key) < threshold
}

/// Decides which requests are sampled and at what rate.
pub struct Sampler {
    threshold: u64,
    /// For fixed size: the most keys, and the tracked keys by spot.
    limit: Option<(usize, BinaryHeap<(u64, u64)>)>,
}

impl Sampler {
    pub fn new(sampling: Sampling) -> Self {
        match sampling {
            Sampling::All => Sampler {
                threshold: MODULUS,
                limit: None,
            },
            Sampling::Rate(rate) => Sampler {
                threshold: threshold_of(rate),
                limit: None,
            },
            Sampling::Keys(n) => Sampler {
                threshold: MODULUS,
                limit: Some((n.max(1), BinaryHeap::new())),
            },
        }
    }

    /// The current rate `R = T / P`.
    pub fn rate(&self) -> f64 {
        self.threshold as f64 / MODULUS as f64
    }

    /// Whether `key` is sampled. `new_key` says whether the stack already
    /// tracks it; `dropped` receives the keys a fixed-size sample lets go.
    #[inline]
    pub fn admits(&mut self, key: u64, new_key: bool, dropped: &mut Vec<u64>) -> bool {
        if self.threshold == MODULUS && self.limit.is_none() {
            return true;
        }
        if !in_sample(key, self.threshold) {
            return false;
        }
        let spot = spot(key);
        if let Some((most, tracked)) = &mut self.limit
            && new_key
        {
            tracked.push((spot, key));
            if tracked.len() > *most {
                // Lower T to the largest spot and drop every key at it.
                let (top, _) = *tracked.peek().expect("more than the limit");
                self.threshold = top;
                while let Some(&(s, k)) = tracked.peek()
                    && s >= top
                {
                    tracked.pop();
                    dropped.push(k);
                }
                return spot < top;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_shares_or_percentages() {
        assert_eq!(Sampling::rate("0.01"), Ok(Sampling::Rate(0.01)));
        assert_eq!(Sampling::rate("1%"), Ok(Sampling::Rate(0.01)));
        assert!(Sampling::rate("0").is_err());
        assert!(Sampling::rate("150%").is_err());
        assert!(Sampling::rate("often").is_err());
    }

    #[test]
    fn a_fixed_rate_samples_about_its_share_of_keys() {
        let mut s = Sampler::new(Sampling::Rate(0.01));
        let mut dropped = Vec::new();
        let kept = (0..1_000_000u64)
            .filter(|&k| s.admits(k, true, &mut dropped))
            .count();
        assert!((9_000..11_000).contains(&kept), "{kept}");
        assert!(dropped.is_empty());
    }

    #[test]
    fn a_fixed_size_keeps_at_most_its_keys_and_lowers_the_rate() {
        let mut s = Sampler::new(Sampling::Keys(1000));
        let mut dropped = Vec::new();
        let mut kept = std::collections::BTreeSet::new();
        for k in 0..100_000u64 {
            if s.admits(k, !kept.contains(&k), &mut dropped) {
                kept.insert(k);
            }
            for d in dropped.drain(..) {
                kept.remove(&d);
            }
        }
        assert!(kept.len() <= 1000 && kept.len() > 900, "{}", kept.len());
        assert!(kept.iter().all(|&k| spot(k) < s.threshold));
        let rate = s.rate();
        assert!((0.007..0.013).contains(&rate), "{rate}");
    }
}
