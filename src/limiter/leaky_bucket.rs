//! The leaky bucket as a meter: each key's bucket holds "water" that drains
//! at `rate`; a request adds T = 1/rate of water and is admitted only if the
//! bucket (capacity burst x T) does not overflow. Its decisions are GCRA's
//! (the water level is TAT - now); it is kept as its own model so that the
//! equivalence is shown by the tests, not assumed.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;

#[derive(Clone)]
pub struct LeakyBucket {
    t: u64,
    /// Highest water level at which one more request still fits.
    limit: u64,
    buckets: KeyMap<Water>,
}

#[derive(Clone, Copy)]
struct Water {
    /// Water in ns at `at`.
    level: u64,
    at: SimTime,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    let t = ctx.interval()?;
    Ok(Box::new(LeakyBucket {
        t,
        limit: t * (ctx.burst() as u64 - 1),
        buckets: KeyMap::default(),
    }))
}

impl LeakyBucket {
    /// Decides on a request for `key` at `now`; counts it even when it
    /// is denied if `always`.
    fn count(&mut self, key: u64, now: SimTime, always: bool) -> Decision {
        let w = self
            .buckets
            .get(key)
            .copied()
            .unwrap_or(Water { level: 0, at: now });
        let level = w.level.saturating_sub(now - w.at);
        let (level, decision) = if level <= self.limit {
            (level + self.t, Decision::Allow)
        } else {
            let retry_after = level - self.limit;
            let level = if always { level + self.t } else { level };
            (level, Decision::Deny { retry_after })
        };
        self.buckets.insert(key, Water { level, at: now });
        decision
    }
}

impl Limiter for LeakyBucket {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.count(key, now, false)
    }

    /// Counts it even past the limit: the overshoot is owed.
    fn consume(&mut self, key: u64, now: SimTime) {
        self.count(key, now, true);
    }

    /// An empty bucket behaves as a fresh one.
    fn evict_idle(&mut self, now: SimTime) {
        self.buckets.retain(|w| w.level > now - w.at);
    }

    fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn state_bytes(&self) -> usize {
        self.buckets.bytes()
    }
}
