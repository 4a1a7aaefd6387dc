//! Fixed window: time is cut into aligned windows of length W (starting at
//! time 0) and each key may have L = rate x W requests admitted per window.
//! Around a window boundary it admits up to 2L requests within less than W:
//! L at the end of one window and L more at the start of the next.
//! With `count=all` denied requests count too, so a client that keeps
//! sending over the limit stays blocked for the rest of the window.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;

#[derive(Clone)]
pub struct FixedWindow {
    window: u64,
    limit: u64,
    count_all: bool,
    counts: KeyMap<Count>,
}

#[derive(Clone, Copy)]
struct Count {
    /// Window index (start / W).
    window: u64,
    counted: u64,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, String> {
    Ok(Box::new(FixedWindow {
        window: ctx.window(),
        limit: ctx.window_limit()?,
        count_all: ctx.counts_all()?,
        counts: KeyMap::default(),
    }))
}

impl FixedWindow {
    /// Decides on a request for `key` at `now`; counts it even when it
    /// is denied if `always`.
    fn count(&mut self, key: u64, now: SimTime, always: bool) -> Decision {
        let window = now / self.window;
        let c = self.counts.entry(key, || Count { window, counted: 0 });
        if c.window != window {
            *c = Count { window, counted: 0 };
        }
        let admit = c.counted < self.limit;
        if admit || always {
            c.counted += 1;
        }
        if admit {
            Decision::Allow
        } else {
            Decision::Deny {
                retry_after: (window + 1) * self.window - now,
            }
        }
    }
}

impl Limiter for FixedWindow {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.count(key, now, self.count_all)
    }

    /// Counts it even past the limit: the overshoot is owed.
    fn consume(&mut self, key: u64, now: SimTime) {
        self.count(key, now, true);
    }

    /// A count from an earlier window no longer matters.
    fn evict_idle(&mut self, now: SimTime) {
        let current = now / self.window;
        self.counts.retain(|c| c.window == current);
    }

    fn keys(&self) -> usize {
        self.counts.len()
    }

    fn state_bytes(&self) -> usize {
        self.counts.bytes()
    }
}
