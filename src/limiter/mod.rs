//! Rate limiters and concurrency limiters: the [`Limiter`] trait every
//! algorithm implements, one file per algorithm, the registry that builds one
//! from its name, and [`KeyedLimiter`], which turns a request into the key a
//! limiter sees (client, client+route or global) and applies tier multipliers
//! (or, for an algorithm that handles tiers itself, tells it the tier).
//!
//! Parameters and their burst off-by-ones are documented in docs/limiters.md.

mod accuracy;
mod aimd;
mod concurrency;
mod fixed_window;
mod gcra;
mod gradient;
mod leaky_bucket;
mod leaky_queue;
mod registry;
mod sliding_counter;
mod sliding_log;
mod slots;
mod token_bucket;
mod window;
mod workshop;

pub use accuracy::measure_accuracy;
pub use registry::{
    ALGORITHMS, AlgorithmFacts, AlgorithmInfo, AlgorithmSpec, Defaults, KeyBy, LimiterCtx,
    LimiterSpec, build, check_burst,
};

use std::mem::size_of;

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::engine::{SimTime, mix64};
use crate::workload::Request;

/// What a limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decision {
    /// Serve it now.
    #[default]
    Allow,
    /// Serve it after waiting `by` nanoseconds (shapers only); the wait is
    /// part of the request's latency.
    Delay { by: SimTime },
    /// Reject it; a retry after `retry_after` ns could succeed (0 when the
    /// limiter cannot know, as for concurrency limits).
    Deny { retry_after: SimTime },
}

impl Decision {
    /// Whether the request goes on (now or after a delay).
    pub fn admitted(self) -> bool {
        !matches!(self, Decision::Deny { .. })
    }
}

/// One limiting algorithm with per-key state.
pub trait Limiter: Send + CloneLimiter {
    /// Decides on a request for `key` arriving at `now` (never earlier than
    /// the previous call) and updates the state.
    fn decide(&mut self, key: u64, now: SimTime) -> Decision;

    /// [`Limiter::decide`] for a request from a premium (tier 1) client.
    /// Only algorithms registered with `tiers_inside` override it (one
    /// instance serves every tier); for the others premium clients have
    /// their own instance built with the multiplier, and this is `decide`.
    fn decide_premium(&mut self, key: u64, now: SimTime) -> Decision {
        self.decide(key, now)
    }

    /// Counts a request that another copy of this limiter admitted for
    /// `key` at `now`, even past the limit (a lagged scope merging the
    /// locations' counts). The rate algorithms count it whole, so the
    /// overshoot is owed; by default (the adaptive and concurrency
    /// limiters) the request is decided again.
    fn consume(&mut self, key: u64, now: SimTime) {
        self.decide(key, now);
    }

    /// A request admitted under `key` finished at `now` after `latency` ns.
    /// Concurrency limiters release its slot and learn from the latency.
    fn complete(&mut self, _key: u64, _now: SimTime, _latency: SimTime) {}

    /// Whether admitted requests hold a slot until [`Limiter::complete`].
    fn holds_slots(&self) -> bool {
        false
    }

    /// Drops the state of keys that have been idle long enough; for the rate
    /// limiters an evicted key decides exactly as a never-seen key would.
    fn evict_idle(&mut self, now: SimTime);

    /// Keys with state.
    fn keys(&self) -> usize;

    /// Bytes of limiter state: key and value of each entry plus any per-key
    /// logs (what a shared store such as Redis would have to hold), not the
    /// hash table's own overhead.
    fn state_bytes(&self) -> usize;
}

/// A limiter chosen at run time.
pub type BoxedLimiter = Box<dyn Limiter>;

/// Copies a limiter with its state: a lagged global scope hands each
/// location a copy of the merged state.
pub trait CloneLimiter {
    fn clone_boxed(&self) -> BoxedLimiter;
}

impl<T: Limiter + Clone + 'static> CloneLimiter for T {
    fn clone_boxed(&self) -> BoxedLimiter {
        Box::new(self.clone())
    }
}

impl Clone for BoxedLimiter {
    fn clone(&self) -> Self {
        self.clone_boxed()
    }
}

/// Per-key state with a fixed hasher, so nothing depends on a random seed.
/// Its iteration order never reaches any output. Public so that an
/// algorithm's code reads the same inside the crate and in the docs.
#[derive(Clone)]
pub struct KeyMap<S> {
    map: HashMap<u64, S, FixedState>,
}

impl<S> Default for KeyMap<S> {
    fn default() -> Self {
        KeyMap {
            map: HashMap::default(),
        }
    }
}

impl<S> KeyMap<S> {
    pub fn get(&self, key: u64) -> Option<&S> {
        self.map.get(&key)
    }

    /// The state of `key`, created by `fresh` when absent.
    pub fn entry(&mut self, key: u64, fresh: impl FnOnce() -> S) -> &mut S {
        self.map.entry(key).or_insert_with(fresh)
    }

    pub fn insert(&mut self, key: u64, state: S) {
        self.map.insert(key, state);
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&mut S) -> bool) {
        self.map.retain(|_, s| keep(s));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Key plus value bytes of every entry.
    pub fn bytes(&self) -> usize {
        self.map.len() * (size_of::<u64>() + size_of::<S>())
    }
}

/// A limiter as a run uses it: requests are mapped to keys by `by`, and
/// premium clients (tier 1) go to their own instance built with the premium
/// multiplier, so that they get that many times the limit; an algorithm
/// that handles tiers itself has one instance, which decides premium
/// requests in [`Limiter::decide_premium`].
#[derive(Clone)]
pub struct KeyedLimiter {
    by: KeyBy,
    instances: Vec<BoxedLimiter>,
    /// Instance of tier 0 and of tier 1.
    tier_instance: [usize; 2],
}

impl KeyedLimiter {
    pub fn new(by: KeyBy, standard: BoxedLimiter, premium: Option<BoxedLimiter>) -> Self {
        let mut instances = vec![standard];
        let premium_at = match premium {
            Some(p) => {
                instances.push(p);
                1
            }
            None => 0,
        };
        KeyedLimiter {
            by,
            instances,
            tier_instance: [0, premium_at],
        }
    }

    pub fn key_by(&self) -> KeyBy {
        self.by
    }

    /// The key `req` is limited under.
    pub fn key(&self, req: &Request) -> u64 {
        match self.by {
            KeyBy::Client => req.client as u64,
            KeyBy::ClientRoute => mix64((req.client as u64) << 32 ^ mix64(req.key)),
            KeyBy::Global => 0,
        }
    }

    fn instance(&mut self, req: &Request) -> &mut BoxedLimiter {
        let i = self.tier_instance[(req.tier as usize).min(1)];
        &mut self.instances[i]
    }

    pub fn decide(&mut self, req: &Request, now: SimTime) -> Decision {
        let key = self.key(req);
        let premium = req.tier >= 1;
        let limiter = self.instance(req);
        if premium {
            limiter.decide_premium(key, now)
        } else {
            limiter.decide(key, now)
        }
    }

    /// See [`Limiter::consume`].
    pub fn consume(&mut self, req: &Request, now: SimTime) {
        let key = self.key(req);
        self.instance(req).consume(key, now);
    }

    pub fn complete(&mut self, req: &Request, now: SimTime, latency: SimTime) {
        let key = self.key(req);
        self.instance(req).complete(key, now, latency);
    }

    pub fn holds_slots(&self) -> bool {
        self.instances.iter().any(|l| l.holds_slots())
    }

    pub fn evict_idle(&mut self, now: SimTime) {
        self.instances.iter_mut().for_each(|l| l.evict_idle(now));
    }

    pub fn keys(&self) -> usize {
        self.instances.iter().map(|l| l.keys()).sum()
    }

    pub fn state_bytes(&self) -> usize {
        self.instances.iter().map(|l| l.state_bytes()).sum()
    }
}
