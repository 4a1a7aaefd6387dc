//! Sliding window log: each key keeps the times of its admitted requests in
//! the last W; a request is admitted when fewer than L = rate x W were
//! admitted in (now - W, now]. Exact, so no window of length W ever holds
//! more than L admitted requests, at the price of memory that grows with
//! traffic (one timestamp per admitted request). With `count=all` it logs
//! denied requests too, and admits only while fewer than L requests of any
//! kind arrived in the window.

use std::collections::VecDeque;
use std::mem::size_of;

use super::window::{Counter, Rule};
use super::{Decision, KeyMap};
use crate::engine::SimTime;

#[derive(Clone, Default)]
pub struct SlidingLog {
    logs: KeyMap<VecDeque<SimTime>>,
    /// Timestamps held over all keys.
    entries: usize,
}

/// Drops the times that are W or more before `now`; returns how many.
fn expire(log: &mut VecDeque<SimTime>, now: SimTime, window: u64) -> usize {
    let before = log.len();
    while log.front().is_some_and(|&t| t + window <= now) {
        log.pop_front();
    }
    before - log.len()
}

impl Counter for SlidingLog {
    fn count(&mut self, rule: &Rule, key: u64, now: SimTime, always: bool) -> Decision {
        let log = self.logs.entry(key, VecDeque::new);
        self.entries -= expire(log, now, rule.window);
        let admit = (log.len() as u64) < rule.limit;
        // Without this request, admission needs all but limit - 1 of the
        // logged times to expire.
        let retry_at = (!admit).then(|| log[log.len() - rule.limit as usize] + rule.window);
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

    fn evict_idle(&mut self, rule: &Rule, now: SimTime) {
        let window = rule.window;
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
