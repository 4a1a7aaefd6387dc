//! The single-queue policies share one cache, [`OneQueue`]: a slab of nodes
//! linked into one list, inserting at the head. A [`Discipline`] says what a
//! hit does and which entry goes on eviction: FIFO, LRU, CLOCK and SIEVE
//! are each a discipline in their own file.

use super::Policy;
use crate::cache::structures::{List, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

/// What distinguishes one single-queue policy from another.
pub trait Discipline: Send + 'static {
    /// Per-entry state (a visited bit, a counter...); new entries get the default.
    type Data: Copy + Default + Send;
    /// Whether `on_hit` moves the entry (so prefetching its neighbours pays).
    const RELINKS_ON_HIT: bool;
    /// Updates state on a hit of `slot`; by default a hit changes nothing.
    #[inline]
    fn on_hit(&mut self, _slab: &mut Slab<Self::Data>, _queue: &mut List, _slot: u32) {}
    /// Chooses a victim and unlinks it from `queue`; by default the tail.
    #[inline]
    fn evict(&mut self, slab: &mut Slab<Self::Data>, queue: &mut List) -> u32 {
        slab.pop_back(queue).expect("evicting from an empty cache")
    }
    /// Called before `slot` is removed other than by eviction.
    fn forget(&mut self, _slab: &Slab<Self::Data>, _slot: u32) {}
}

/// A cache of one queue under discipline `D`.
pub struct OneQueue<D: Discipline> {
    slab: Slab<D::Data>,
    queue: List,
    capacity: u64,
    discipline: D,
}

impl<D: Discipline> OneQueue<D> {
    /// A cache of `capacity` units, room reserved for `expected_objects`.
    pub fn new(capacity: u64, discipline: D, expected_objects: usize) -> Self {
        OneQueue {
            slab: Slab::with_capacity(expected_objects),
            queue: List::default(),
            capacity,
            discipline,
        }
    }

    /// Builds from `ctx` once the discipline is made from its parameters.
    pub(crate) fn build_with(ctx: &PolicyCtx, discipline: D) -> BoxedCache {
        Box::new(Self::new(ctx.capacity, discipline, ctx.expected_objects()))
    }
}

impl<D: Discipline + Default> OneQueue<D> {
    /// Builds a discipline that takes no parameters.
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        Ok(Self::build_with(ctx, D::default()))
    }
}

impl<D: Discipline> Policy for OneQueue<D> {
    type Store = Slab<D::Data>;
    const RELINKS_ON_HIT: bool = D::RELINKS_ON_HIT;

    fn store(&self) -> &Self::Store {
        &self.slab
    }

    fn limit(&self) -> u64 {
        self.capacity
    }

    #[inline]
    fn lookup(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            self.discipline
                .on_hit(&mut self.slab, &mut self.queue, slot);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.slab.bytes() + size > self.capacity {
            let victim = self.discipline.evict(&mut self.slab, &mut self.queue);
            self.slab.remove(victim);
        }
        let slot = self.slab.insert(req.key, req.size, D::Data::default());
        self.slab.push_front(&mut self.queue, slot);
        false
    }

    fn discard(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.discipline.forget(&self.slab, slot);
        self.slab.unlink(&mut self.queue, slot);
        self.slab.remove(slot);
        true
    }
}
