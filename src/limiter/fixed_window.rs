//! Fixed window: time is cut into aligned windows of length W (starting at
//! time 0) and each key may have L = rate x W requests admitted per window.
//! Around a window boundary it admits up to 2L requests within less than W:
//! L at the end of one window and L more at the start of the next.
//! With `count=all` denied requests count too, so a client that keeps
//! sending over the limit stays blocked for the rest of the window.

use super::window::{Counter, Rule};
use super::{Decision, KeyMap};
use crate::engine::SimTime;

#[derive(Clone, Default)]
pub struct FixedWindow {
    counts: KeyMap<Count>,
}

#[derive(Clone, Copy)]
struct Count {
    /// Window index (start / W).
    window: u64,
    counted: u64,
}

impl Counter for FixedWindow {
    fn count(&mut self, rule: &Rule, key: u64, now: SimTime, always: bool) -> Decision {
        let window = now / rule.window;
        let c = self.counts.entry(key, || Count { window, counted: 0 });
        if c.window != window {
            *c = Count { window, counted: 0 };
        }
        let admit = c.counted < rule.limit;
        if admit || always {
            c.counted += 1;
        }
        if admit {
            Decision::Allow
        } else {
            Decision::Deny {
                retry_after: (window + 1) * rule.window - now,
            }
        }
    }

    /// A count from an earlier window no longer matters.
    fn evict_idle(&mut self, rule: &Rule, now: SimTime) {
        let current = now / rule.window;
        self.counts.retain(|c| c.window == current);
    }

    fn keys(&self) -> usize {
        self.counts.len()
    }

    fn state_bytes(&self) -> usize {
        self.counts.bytes()
    }
}
