//! The sampling policies share one cache, [`Sampled`]: cached slots kept in a
//! dense array, so a uniform pick is one index. A [`Sampler`] keeps whatever
//! per-entry state it needs and chooses the victim among the cached slots.
//! Random and Hyperbolic are each a sampler in their own file.

use super::Policy;
use crate::cache::structures::room::{self, initial};
use crate::cache::structures::{Slab, prefetch_line};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::workload::Request;

/// What distinguishes one sampling policy from another.
pub trait Sampler: Send + 'static {
    /// Called on every request, before the lookup.
    fn tick(&mut self) {}
    /// Called on a hit of `slot`.
    fn hit(&mut self, _slot: u32) {}
    /// Called when `slot` is inserted.
    fn inserted(&mut self, _slot: u32) {}
    /// Chooses the victim among the cached `slots` (never empty).
    fn victim(&mut self, slots: &[u32]) -> u32;
    /// The victim the next eviction would choose if `slots` were still the
    /// cached slots then, without choosing it, so that its node can be
    /// fetched early; None when it cannot be told cheaply.
    fn next_victim(&self, _slots: &[u32]) -> Option<u32> {
        None
    }
    /// Heap bytes of the sampler's own state.
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// A cache evicting the victims of sampler `S`.
pub struct Sampled<S: Sampler> {
    /// Node data: the slot's position in `slots`.
    slab: Slab<u32>,
    /// The cached slots, densely.
    slots: Vec<u32>,
    capacity: u64,
    sampler: S,
}

impl<S: Sampler> Sampled<S> {
    /// A cache of `capacity` units, room reserved for `expected_objects`.
    pub fn new(capacity: u64, sampler: S, expected_objects: usize) -> Self {
        Sampled {
            slab: Slab::with_capacity(expected_objects),
            slots: Vec::with_capacity(initial(expected_objects)),
            capacity,
            sampler,
        }
    }

    /// Builds from `ctx` once the sampler is made from its parameters.
    pub(crate) fn build_with(ctx: &PolicyCtx, sampler: S) -> BoxedCache {
        Box::new(Self::new(ctx.capacity, sampler, ctx.expected_objects()))
    }

    /// Removes the cached `slot`, keeping `slots` dense.
    fn drop_slot(&mut self, slot: u32) {
        let pos = self.slab.node(slot).data as usize;
        self.slots.swap_remove(pos);
        if let Some(&moved) = self.slots.get(pos) {
            self.slab.node_mut(moved).data = pos as u32;
        }
        self.slab.remove(slot);
    }
}

impl<S: Sampler> Policy for Sampled<S> {
    type Store = Slab<u32>;
    const RELINKS_ON_HIT: bool = false;

    fn store(&self) -> &Self::Store {
        &self.slab
    }

    fn lookup(&mut self, req: &Request) -> bool {
        self.sampler.tick();
        if let Some(slot) = self.slab.find(req.key) {
            self.sampler.hit(slot);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.slab.bytes() + size > self.capacity {
            let victim = self.sampler.victim(&self.slots);
            self.drop_slot(victim);
        }
        let slot = self.slab.insert(req.key, req.size, self.slots.len() as u32);
        room::push(&mut self.slots, slot, self.slab.planned());
        self.sampler.inserted(slot);
        // A full cache evicts again at its next miss, among as many slots;
        // worth preparing only when the nodes are not all near at hand.
        if self.slab.outgrows_l2()
            && let Some(next) = self.sampler.next_victim(&self.slots)
        {
            prefetch_line(self.slab.node(next));
        }
        false
    }

    fn discard(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.drop_slot(slot);
        true
    }

    fn limit(&self) -> u64 {
        self.capacity
    }

    fn extra_heap_bytes(&self) -> usize {
        self.slots.capacity() * 4 + self.sampler.heap_bytes()
    }
}
