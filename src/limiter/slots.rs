//! What the concurrency limiters (concurrency, aimd, gradient) share: an
//! admitted request holds one of its key's slots until it completes, and a
//! key admits while it has fewer requests in flight than its limit allows.
//! Each algorithm is only its [`SlotLimit`]: what a key's limit starts at
//! and how completions move it.

use super::{Decision, KeyMap, Limiter};
use crate::engine::SimTime;

/// How one concurrency limiter sets a key's limit.
pub trait SlotLimit: Clone + Send + 'static {
    /// What a key learns from its completions (its limit, for the adaptive
    /// ones); what it starts with is [`SlotLimit::fresh`].
    type Learned: Copy + Send;

    fn fresh(&self) -> Self::Learned;

    /// Whether a key with `in_flight` requests in flight admits one more.
    fn admits(&self, learned: &Self::Learned, in_flight: u64) -> bool;

    /// Learns from a request that completed after `latency` ns, while
    /// `in_flight` requests (it included) were in flight.
    fn learn(&self, _learned: &mut Self::Learned, _in_flight: u64, _latency: SimTime) {}
}

/// A concurrency limiter: its limit rule and each key's slots.
#[derive(Clone)]
pub struct Slotted<L: SlotLimit> {
    limit: L,
    keys: KeyMap<Slots<L::Learned>>,
}

#[derive(Clone, Copy)]
struct Slots<S> {
    in_flight: u64,
    learned: S,
}

impl<L: SlotLimit> Slotted<L> {
    pub fn new(limit: L) -> Self {
        Slotted {
            limit,
            keys: KeyMap::default(),
        }
    }
}

impl<L: SlotLimit> Limiter for Slotted<L> {
    fn decide(&mut self, key: u64, _now: SimTime) -> Decision {
        let learned = self.limit.fresh();
        let s = self.keys.entry(key, || Slots {
            in_flight: 0,
            learned,
        });
        if self.limit.admits(&s.learned, s.in_flight) {
            s.in_flight += 1;
            Decision::Allow
        } else {
            Decision::Deny { retry_after: 0 }
        }
    }

    fn complete(&mut self, key: u64, _now: SimTime, latency: SimTime) {
        let learned = self.limit.fresh();
        let s = self.keys.entry(key, || Slots {
            in_flight: 1,
            learned,
        });
        self.limit.learn(&mut s.learned, s.in_flight, latency);
        s.in_flight -= 1;
    }

    fn holds_slots(&self) -> bool {
        true
    }

    /// Keys with nothing in flight forget what they learned and start again
    /// from [`SlotLimit::fresh`].
    fn evict_idle(&mut self, _now: SimTime) {
        self.keys.retain(|s| s.in_flight > 0);
    }

    fn keys(&self) -> usize {
        self.keys.len()
    }

    fn state_bytes(&self) -> usize {
        self.keys.bytes()
    }
}
