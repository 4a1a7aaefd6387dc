//! Random eviction: evicts a uniformly chosen cached object. The generator
//! is the run's `"random-eviction"` stream, so runs are reproducible.

use rand::RngExt;

use super::slab::Slab;
use super::{BoxedCache, Cache, registry::Ctx};
use crate::engine::{RngStream, stream};
use crate::workload::Request;

/// Cached slots in a dense array, so a uniform pick is one index. Node data
/// is the slot's position in `slots`. Shared with Hyperbolic's sampling.
pub(super) struct Dense {
    pub slab: Slab<u32>,
    pub slots: Vec<u32>,
    pub used: u64,
}

impl Dense {
    pub fn with_capacity(n: usize) -> Self {
        Dense {
            slab: Slab::with_capacity(n),
            slots: Vec::with_capacity(n),
            used: 0,
        }
    }

    pub fn insert(&mut self, key: u64, size: u32) -> u32 {
        let slot = self.slab.insert(key, size, self.slots.len() as u32);
        self.slots.push(slot);
        self.used += size as u64;
        slot
    }

    /// Removes the cached `slot`, keeping `slots` dense.
    pub fn remove(&mut self, slot: u32) {
        let pos = self.slab.node(slot).data as usize;
        self.slots.swap_remove(pos);
        if let Some(&moved) = self.slots.get(pos) {
            self.slab.node_mut(moved).data = pos as u32;
        }
        self.used -= self.slab.node(slot).size as u64;
        self.slab.remove(slot);
    }

    pub fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.slots.capacity() * 4
    }
}

pub struct Random {
    dense: Dense,
    rng: RngStream,
    capacity: u64,
}

impl Random {
    pub fn new(capacity: u64, seed: u64, expected_objects: usize) -> Self {
        Random {
            dense: Dense::with_capacity(expected_objects),
            rng: stream(seed, "random-eviction"),
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            ctx.seed,
            ctx.expected_objects(),
        )))
    }
}

impl Cache for Random {
    fn access(&mut self, req: &Request) -> bool {
        if self.dense.slab.find(req.key).is_some() {
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.dense.used + size > self.capacity {
            let i = self.rng.random_range(0..self.dense.slots.len());
            self.dense.remove(self.dense.slots[i]);
        }
        self.dense.insert(req.key, req.size);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.dense.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.dense.slab.find(key) else {
            return false;
        };
        self.dense.remove(slot);
        true
    }

    fn len(&self) -> usize {
        self.dense.slots.len()
    }

    fn used(&self) -> u64 {
        self.dense.used
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.dense.heap_bytes()
    }
}
