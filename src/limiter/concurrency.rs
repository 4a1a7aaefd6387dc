//! Concurrency limit: at most `max` requests of a key in flight; a request
//! holds its slot from admission until it completes (in the service model).

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::spec::{Kind, Param};

#[derive(Clone)]
pub struct Concurrency {
    max: u64,
    in_flight: KeyMap<u64>,
}

pub const PARAMS: &[Param] = &[Param::new(
    "max",
    "20",
    Kind::Int {
        lo: 1,
        hi: u64::MAX,
    },
    "requests of a key in flight at once",
)];

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, String> {
    Ok(Box::new(Concurrency {
        max: ctx.count("max")?,
        in_flight: KeyMap::default(),
    }))
}

impl Limiter for Concurrency {
    fn decide(&mut self, key: u64, _now: SimTime) -> Decision {
        let n = self.in_flight.entry(key, || 0);
        if *n < self.max {
            *n += 1;
            Decision::Allow
        } else {
            Decision::Deny { retry_after: 0 }
        }
    }

    fn complete(&mut self, key: u64, _now: SimTime, _latency: SimTime) {
        let n = self.in_flight.entry(key, || 1);
        *n -= 1;
    }

    fn holds_slots(&self) -> bool {
        true
    }

    fn evict_idle(&mut self, _now: SimTime) {
        self.in_flight.retain(|n| *n > 0);
    }

    fn keys(&self) -> usize {
        self.in_flight.len()
    }

    fn state_bytes(&self) -> usize {
        self.in_flight.bytes()
    }
}
