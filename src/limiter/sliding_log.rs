//! Sliding window log: each key keeps the times of its admitted requests in
//! the last W; a request is admitted when fewer than L = rate x W were
//! admitted in (now - W, now]. Exact, so no window of length W ever holds
//! more than L admitted requests, at the price of memory that grows with
//! traffic (one timestamp per admitted request). With `count=all` it logs
//! denied requests too, and admits only while fewer than L requests of any
//! kind arrived in the window.

use std::collections::VecDeque;
use std::mem::size_of;

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;

#[derive(Clone)]
pub struct SlidingLog {
    window: u64,
    limit: u64,
    count_all: bool,
    logs: KeyMap<VecDeque<SimTime>>,
    /// Timestamps held over all keys.
    entries: usize,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, String> {
    Ok(Box::new(SlidingLog {
        window: ctx.window(),
        limit: ctx.window_limit()?,
        count_all: ctx.counts_all()?,
        logs: KeyMap::default(),
        entries: 0,
    }))
}

/// Drops the times that are W or more before `now`; returns how many.
fn expire(log: &mut VecDeque<SimTime>, now: SimTime, window: u64) -> usize {
    let before = log.len();
    while log.front().is_some_and(|&t| t + window <= now) {
        log.pop_front();
    }
    before - log.len()
}

impl SlidingLog {
    /// Decides on a request for `key` at `now`; counts it even when it
    /// is denied if `always`.
    fn count(&mut self, key: u64, now: SimTime, always: bool) -> Decision {
        let log = self.logs.entry(key, VecDeque::new);
        self.entries -= expire(log, now, self.window);
        let admit = (log.len() as u64) < self.limit;
        // Without this request, admission needs all but limit - 1 of the
        // logged times to expire.
        let retry_at = (!admit).then(|| log[log.len() - self.limit as usize] + self.window);
        if admit || always {
            log.push_back(now);
            self.entries += 1;
        }
        match retry_at {
            None => Decision::Allow,
            Some(at) => Decision::Deny {
                retry_after: at - now,
            },
        }
    }
}

impl Limiter for SlidingLog {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.count(key, now, self.count_all)
    }

    /// Counts it even past the limit: the overshoot is owed.
    fn consume(&mut self, key: u64, now: SimTime) {
        self.count(key, now, true);
    }

    fn evict_idle(&mut self, now: SimTime) {
        let window = self.window;
        let mut dropped = 0;
        self.logs.retain(|log| {
            dropped += expire(log, now, window);
            !log.is_empty()
        });
        self.entries -= dropped;
    }

    fn keys(&self) -> usize {
        self.logs.len()
    }

    fn state_bytes(&self) -> usize {
        self.logs.bytes() + self.entries * size_of::<SimTime>()
    }
}
