//! Cache models: the [`Cache`] trait every eviction policy implements, the
//! replay loop that drives one through a request stream, and the registry
//! that builds a policy from its name.
//!
//! The folders follow how a policy is made: `policies/` holds one file per
//! policy, most a few lines on a building block of `blocks/` (one queue, a
//! ranking, sampling, several lists), which are built on the data
//! structures of `structures/` (a slab of linked nodes, its hash index, a
//! heap).
//!
//! Semantics (the same as libCacheSim's defaults, so results compare with the
//! literature): a request for a cached object is a hit; otherwise it is a miss
//! and the object is inserted, evicting until it fits; an object larger than
//! the whole cache is not inserted. An entry past its TTL is a miss, counted
//! as `expired`, and is fetched again.

mod blocks;
mod capacity;
pub mod mrc;
mod policies;
mod registry;
mod structures;

pub use capacity::CapacitySpec;
pub use registry::{POLICIES, PolicyCtx, PolicyFacts, PolicyInfo, PolicySpec, build};
// The single-queue block and the slab under it, so a policy can be written
// against them (docs/extending.md does, as a doc-test).
pub use blocks::{Discipline, OneQueue};
pub use structures::{List, Slab};

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use crate::metrics::CacheStats;
use crate::workload::Request;

/// An eviction policy with a capacity, in bytes or in objects (then every
/// request reaches it with size 1).
pub trait Cache: Send {
    /// Looks `req.key` up; on a miss inserts it (unless it is larger than the
    /// whole cache). Returns whether it was a hit.
    fn access(&mut self, req: &Request) -> bool;
    /// Whether `key` is cached, without touching any policy state.
    fn contains(&self, key: u64) -> bool;
    /// Drops `key` if cached; returns whether it was.
    fn remove(&mut self, key: u64) -> bool;
    /// Cached objects.
    fn len(&self) -> usize;
    /// Capacity used, in the unit of [`Cache::capacity`].
    fn used(&self) -> u64;
    fn capacity(&self) -> u64;
    /// Heap bytes held by the policy's data structures.
    fn heap_bytes(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether replay should call [`Cache::prefetch`]: the policy's data
    /// have outgrown the CPU's nearer caches. Asked every few thousand
    /// requests.
    fn prefetches(&self) -> bool {
        false
    }

    /// A hint about the requests to come, so that their memory loads while
    /// this one is served (replay waits on memory, not on arithmetic):
    /// `far` will want its index line, `near` its node, `nearest` its
    /// node's neighbours. It takes `&self`: results cannot depend on it.
    #[inline]
    fn prefetch(&self, _far: u64, _near: u64, _nearest: u64) {}

    /// Replays `requests` into `state`. A provided method, so each policy gets
    /// its own monomorphized copy of the loop: one virtual call per batch,
    /// none per request.
    fn replay(&mut self, requests: &[Request], state: &mut Replay)
    where
        Self: Sized,
    {
        replay_batch(self, requests, state)
    }
}

/// What persists across the batches of one replay: the counters, the size
/// mode and the expiry times of TTL'd entries.
#[derive(Default)]
pub struct Replay {
    pub stats: CacheStats,
    /// Count objects instead of bytes: every object reaches the policy as size 1.
    pub count_objects: bool,
    /// Expiry time of each inserted key; created at the first request that
    /// carries a TTL, so traces without TTLs pay nothing for them.
    expiry: Option<HashMap<u64, u64, FixedState>>,
    /// Misses whose object fits the cache (so the policy took it in).
    pub inserted: u64,
    /// Entries dropped other than by eviction (expired, or a failed fetch).
    pub removed: u64,
}

impl Replay {
    /// A replay counting objects (`count_objects`) or bytes.
    pub fn new(count_objects: bool) -> Self {
        Replay {
            stats: CacheStats::default(),
            count_objects,
            ..Replay::default()
        }
    }

    /// Entries the policy evicted, given how many it holds now.
    pub fn evictions(&self, cached: usize) -> u64 {
        (self.inserted - self.removed).saturating_sub(cached as u64)
    }
}

/// A policy behind a trait object still replays through its own
/// monomorphized loop.
pub trait DynReplay: Cache {
    fn replay_dyn(&mut self, requests: &[Request], state: &mut Replay);
}

/// A policy chosen at run time.
pub type BoxedCache = Box<dyn DynReplay>;

impl<C: Cache> DynReplay for C {
    fn replay_dyn(&mut self, requests: &[Request], state: &mut Replay) {
        self.replay(requests, state)
    }
}

/// How many requests ahead replay asks for a request's index line; its
/// node follows at half the distance and the node's neighbours at a quarter.
/// ARC ran as fast at any distance from 8 to 32 (2-core EPYC VM): what
/// matters is that loads start several requests before they are needed.
const PREFETCH_FAR: usize = 16;

/// Requests replayed between two [`Cache::prefetches`] questions: a cache
/// fills up during a batch, and an experiment replays its whole trace as one.
const PREFETCH_CHECK_EVERY: usize = 4096;

#[inline]
fn replay_batch<C: Cache>(cache: &mut C, requests: &[Request], state: &mut Replay) {
    for start in (0..requests.len()).step_by(PREFETCH_CHECK_EVERY) {
        let chunk = start..requests.len().min(start + PREFETCH_CHECK_EVERY);
        if cache.prefetches() {
            replay_requests::<C, true>(cache, requests, chunk, state)
        } else {
            replay_requests::<C, false>(cache, requests, chunk, state)
        }
    }
}

/// Replays `requests[chunk]`, prefetching from the requests after each.
#[inline(always)]
fn replay_requests<C: Cache, const PREFETCH: bool>(
    cache: &mut C,
    requests: &[Request],
    chunk: std::ops::Range<usize>,
    state: &mut Replay,
) {
    for i in chunk {
        let req = &requests[i];
        if PREFETCH && let Some(far) = requests.get(i + PREFETCH_FAR) {
            let near = requests[i + PREFETCH_FAR / 2].key;
            cache.prefetch(far.key, near, requests[i + PREFETCH_FAR / 4].key);
        }
        let outcome = lookup(cache, req, state);
        state
            .stats
            .record(req.size, outcome == Lookup::Hit, outcome == Lookup::Expired);
    }
}

/// What one cache access found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    /// Not cached; now inserted (unless larger than the cache).
    Miss,
    /// Cached but past its TTL: a miss, refetched (its TTL restarts).
    Expired,
}

/// One access with TTL handling: the step replay repeats per request, and
/// what the service pipeline calls for each request it lets through. Counts
/// nothing: callers record the outcome as they classify it.
#[inline(always)]
pub fn lookup<C: Cache + ?Sized>(cache: &mut C, req: &Request, state: &mut Replay) -> Lookup {
    let mut expired = false;
    if let Some(&at) = state.expiry.as_ref().and_then(|e| e.get(&req.key)) {
        expired = at <= req.time && cache.remove(req.key);
        state.removed += expired as u64;
    }
    let size = if state.count_objects { 1 } else { req.size };
    let hit = cache.access(&Request { size, ..*req });
    state.inserted += (!hit && size as u64 <= cache.capacity()) as u64;
    debug_assert!(cache.used() <= cache.capacity(), "cache over capacity");
    if !hit && req.ttl_ms > 0 {
        let expiry = state.expiry.get_or_insert_with(HashMap::default);
        expiry.insert(req.key, req.time + req.ttl_ms as u64 * 1_000_000);
    }
    match (hit, expired) {
        (true, _) => Lookup::Hit,
        (false, true) => Lookup::Expired,
        (false, false) => Lookup::Miss,
    }
}

#[cfg(test)]
mod tests {
    use super::blocks::OneQueue;
    use super::policies::Lru;
    use super::*;
    use crate::engine::SECOND;

    #[test]
    fn an_entry_past_its_ttl_is_an_expired_miss_and_is_refreshed() {
        let req = |t: u64, key: u64| Request {
            time: t * SECOND / 2,
            key,
            size: 1,
            ttl_ms: 1000,
            ..Default::default()
        };
        // times in half seconds: miss, hit, expired, hit (refreshed at 2), other key, expired again at 3.5
        let trace = [
            req(0, 1),
            req(1, 1),
            req(2, 1),
            req(3, 1),
            req(3, 2),
            req(6, 1),
        ];
        let mut cache = OneQueue::new(10, Lru, 10);
        let mut state = Replay::new(false);
        cache.replay(&trace, &mut state);
        assert_eq!(state.stats.hits, 2);
        assert_eq!(state.stats.expired, 2);
        assert_eq!(state.stats.misses(), 4);
    }

    #[test]
    fn an_evicted_entry_is_a_plain_miss_not_an_expired_one() {
        let req = |t: u64, key: u64| Request {
            time: t * SECOND,
            key,
            size: 1,
            ttl_ms: 1000,
            ..Default::default()
        };
        let trace = [req(0, 1), req(1, 2), req(5, 1)];
        let mut cache = OneQueue::new(1, Lru, 1);
        let mut state = Replay::new(false);
        cache.replay(&trace, &mut state);
        assert_eq!((state.stats.hits, state.stats.expired), (0, 0));
    }
}
