//! Belady's MIN (offline optimal for unit sizes): evicts the entry whose
//! next request is furthest in the future; entries never requested again go
//! first. Reads `Request::next_access`, so the trace must be annotated
//! (`annotate_next_access`, or an oracleGeneral trace that carries it).
//! Ties (several entries never requested again) do not change the miss
//! count: those entries are all evicted before any other.

use super::heap::Heap;
use super::slab::Slab;
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::{NEVER, Request};

pub struct Belady {
    slab: Slab<()>,
    /// Slots keyed by `NEVER - next access`: the furthest next access first.
    order: Heap<u64>,
    used: u64,
    capacity: u64,
}

impl Belady {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Belady {
            slab: Slab::with_capacity(expected_objects),
            order: Heap::with_capacity(expected_objects),
            used: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }
}

impl Cache for Belady {
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            self.order.update(slot, NEVER - req.next_access);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.used + size > self.capacity {
            let (_, victim) = self.order.pop().expect("evicting from an empty cache");
            self.used -= self.slab.node(victim).size as u64;
            self.slab.remove(victim);
        }
        let slot = self.slab.insert(req.key, req.size, ());
        self.order.push(slot, NEVER - req.next_access);
        self.used += size;
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.order.remove(slot);
        self.used -= self.slab.node(slot).size as u64;
        self.slab.remove(slot);
        true
    }

    fn len(&self) -> usize {
        self.slab.len()
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.order.heap_bytes()
    }
}
