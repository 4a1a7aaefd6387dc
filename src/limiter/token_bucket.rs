//! Token bucket: a bucket of `burst` tokens, refilled at `rate`, starting
//! full; a request takes one token or is rejected. Tokens are kept in exact
//! fixed point, one token being T = 1/rate nanoseconds of credit, so refills
//! never round and decisions equal GCRA's to the nanosecond.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;

#[derive(Clone)]
pub struct TokenBucket {
    /// One token, in ns of credit.
    t: u64,
    /// Capacity: burst tokens.
    capacity: u64,
    buckets: KeyMap<Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
    /// Credit in ns (tokens x T) at `at`. A debt (a lagged scope's merged
    /// count past the limit) is no credit at an `at` in the future: credit
    /// refills one ns per ns, so owing d ns now is having none d ns later.
    credit: u64,
    at: SimTime,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    let t = ctx.interval()?;
    Ok(Box::new(TokenBucket {
        t,
        capacity: t * ctx.burst() as u64,
        buckets: KeyMap::default(),
    }))
}

impl TokenBucket {
    fn refilled(&self, b: Bucket, now: SimTime) -> u64 {
        b.credit
            .saturating_add(now.saturating_sub(b.at))
            .min(self.capacity)
    }

    fn bucket(&self, key: u64, now: SimTime) -> Bucket {
        let full = Bucket {
            credit: self.capacity,
            at: now,
        };
        self.buckets.get(key).copied().unwrap_or(full)
    }
}

impl Limiter for TokenBucket {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        let b = self.bucket(key, now);
        let credit = self.refilled(b, now);
        if b.at > now || credit < self.t {
            let owed = b.at.saturating_sub(now);
            let retry_after = owed + self.t - credit;
            self.buckets.insert(
                key,
                Bucket {
                    credit,
                    at: now.max(b.at),
                },
            );
            return Decision::Deny { retry_after };
        }
        self.buckets.insert(
            key,
            Bucket {
                credit: credit - self.t,
                at: now,
            },
        );
        Decision::Allow
    }

    /// Takes a token even from an empty bucket: the debt moves `at` on.
    fn consume(&mut self, key: u64, now: SimTime) {
        let b = self.bucket(key, now);
        let credit = self.refilled(b, now);
        let at = now.max(b.at);
        let b = match credit.checked_sub(self.t) {
            Some(credit) => Bucket { credit, at },
            None => Bucket {
                credit: 0,
                at: at + (self.t - credit),
            },
        };
        self.buckets.insert(key, b);
    }

    /// A full bucket behaves as a fresh one.
    fn evict_idle(&mut self, now: SimTime) {
        let cap = self.capacity;
        self.buckets
            .retain(|b| b.credit.saturating_add(now.saturating_sub(b.at)) < cap);
    }

    fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn state_bytes(&self) -> usize {
        self.buckets.bytes()
    }
}
