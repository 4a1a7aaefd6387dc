//! Token bucket: a bucket of `burst` tokens, refilled at `rate`, starting
//! full; a request takes one token or is rejected. Tokens are kept in exact
//! fixed point, one token being T = 1/rate nanoseconds of credit, so refills
//! never round and decisions equal GCRA's to the nanosecond.

use super::registry::Ctx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;

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
    /// Credit in ns (tokens x T) at `at`.
    credit: u64,
    at: SimTime,
}

pub fn build(ctx: &Ctx) -> Result<BoxedLimiter, String> {
    ctx.allow(&[])?;
    let t = ctx.interval()?;
    Ok(Box::new(TokenBucket {
        t,
        capacity: t * ctx.burst() as u64,
        buckets: KeyMap::default(),
    }))
}

impl TokenBucket {
    fn refilled(&self, b: Bucket, now: SimTime) -> u64 {
        b.credit.saturating_add(now - b.at).min(self.capacity)
    }
}

impl Limiter for TokenBucket {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        let full = Bucket {
            credit: self.capacity,
            at: now,
        };
        let b = self.buckets.get(key).copied().unwrap_or(full);
        let credit = self.refilled(b, now);
        let (credit, decision) = if credit >= self.t {
            (credit - self.t, Decision::Allow)
        } else {
            let retry_after = self.t - credit;
            (credit, Decision::Deny { retry_after })
        };
        self.buckets.insert(key, Bucket { credit, at: now });
        decision
    }

    /// A full bucket behaves as a fresh one.
    fn evict_idle(&mut self, now: SimTime) {
        let cap = self.capacity;
        self.buckets
            .retain(|b| b.credit.saturating_add(now - b.at) < cap);
    }

    fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn state_bytes(&self) -> usize {
        self.buckets.bytes()
    }
}
