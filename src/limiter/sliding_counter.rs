//! Sliding window counter, Cloudflare's approximation of a sliding window:
//! each key keeps the admitted counts of the current aligned window and of
//! the previous one, and estimates the count over the last W as
//! `previous x (W - elapsed) / W + current`, as if the previous window's
//! requests had been spread evenly. A request is admitted when the estimate
//! is below L = rate x W. The comparison is done in integers (scaled by W),
//! so no rounding depends on the platform. With `count=all` denied requests
//! count too, which is how Cloudflare counts.

use super::window::{Counter, Rule};
use super::{Decision, KeyMap};
use crate::engine::SimTime;

#[derive(Clone, Default)]
pub struct SlidingCounter {
    counts: KeyMap<Counts>,
}

/// The counts of two consecutive windows.
#[derive(Clone, Copy, Default)]
pub struct Counts {
    /// Index of the current window (start / W).
    pub window: u64,
    pub current: u64,
    pub previous: u64,
}

impl Counts {
    /// Moves the counts forward to the window holding `now`.
    pub fn roll(&mut self, now: SimTime, window: u64) {
        let w = now / window;
        if w == self.window + 1 {
            self.previous = self.current;
        } else if w != self.window {
            self.previous = 0;
        }
        if w != self.window {
            self.current = 0;
            self.window = w;
        }
    }

    /// The estimated count over (now - W, now], times W.
    pub fn scaled_estimate(&self, now: SimTime, window: u64) -> u128 {
        let elapsed = now - self.window * window;
        self.previous as u128 * (window - elapsed) as u128 + self.current as u128 * window as u128
    }
}

impl Counter for SlidingCounter {
    fn count(&mut self, rule: &Rule, key: u64, now: SimTime, always: bool) -> Decision {
        let (w, limit) = (rule.window, rule.limit);
        let c = self.counts.entry(key, || Counts {
            window: now / w,
            ..Counts::default()
        });
        c.roll(now, w);
        let budget = limit as u128 * w as u128;
        let admit = c.scaled_estimate(now, w) < budget;
        if admit || always {
            c.current += 1;
        }
        if admit {
            return Decision::Allow;
        }
        // Earliest time the estimate falls below the limit: later in this
        // window if the previous window's weight can fall far enough, else in
        // the next one (where this window's count becomes the previous).
        let start = c.window * w;
        let room = budget.saturating_sub(c.current as u128 * w as u128);
        let retry_at = if c.current < limit && c.previous > 0 {
            // previous x (W - e) < room  <=>  e > W - room / previous
            let e = w as u128 - room / c.previous as u128 + 1;
            start + e.min(w as u128) as u64
        } else {
            let next = start + w;
            // current x (W - e) < L x W  <=>  e > W - L x W / current
            let e = (w as u128).saturating_sub(budget / c.current.max(1) as u128) + 1;
            next + e.min(w as u128) as u64
        };
        Decision::Deny {
            retry_after: retry_at.saturating_sub(now).max(1),
        }
    }

    /// Counts older than the previous window no longer matter.
    fn evict_idle(&mut self, rule: &Rule, now: SimTime) {
        let current = now / rule.window;
        self.counts.retain(|c| c.window + 1 >= current);
    }

    fn keys(&self) -> usize {
        self.counts.len()
    }

    fn state_bytes(&self) -> usize {
        self.counts.bytes()
    }
}
