//! LFU with dynamic aging, as libCacheSim's `LFUDA` computes it. Every entry
//! has an integer priority; the cache keeps an age `L`: 0 until the first
//! eviction, then the priority of the last evicted entry, raised to the next
//! non-empty priority whenever the list at `L` empties. A new entry gets
//! priority `L + 1`; a hit adds `L` to the entry's priority (libCacheSim's
//! formula; the paper's would be frequency + `L`). Eviction takes the oldest
//! entry of the list at `L` (the lowest priority present, except in the
//! corner case libCacheSim leaves undefined, where we take the lowest).
//! Priorities compound (each hit adds the age, and the age follows the
//! evicted priorities), so on long traces at small caches they reach 2^64:
//! they saturate there, where libCacheSim's int64 overflows.

use super::heap::Heap;
use super::slab::Slab;
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

/// (priority, sequence of the last push): lowest priority first, and within
/// one priority the longest there first, which is libCacheSim's order (one
/// FIFO list per priority).
type Rank = (u64, u64);

/// Every entry's priority is at least `L`: a new entry gets `L + 1`, a hit
/// adds `L`, and `L` only ever moves to a priority present. So the list at
/// `L`, when not empty, is the lowest, and "the next priority above `L`" is
/// the lowest present: one min-heap answers both.
pub struct LfuDa {
    /// Node data: the entry's priority.
    slab: Slab<u64>,
    order: Heap<Rank>,
    /// Pushes so far, for the FIFO order within a priority.
    seq: u64,
    used: u64,
    /// The age `L`.
    age: u64,
    capacity: u64,
}

impl LfuDa {
    fn new(capacity: u64, expected_objects: usize) -> Self {
        LfuDa {
            slab: Slab::with_capacity(expected_objects),
            order: Heap::with_capacity(expected_objects),
            seq: 0,
            used: 0,
            age: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    /// Puts `slot` at the back of the entries with priority `pri`.
    fn push(&mut self, slot: u32, pri: u64) {
        self.seq += 1;
        self.slab.node_mut(slot).data = pri;
        self.order.push(slot, (pri, self.seq));
    }

    /// After an entry at `L` left: if it was the last, `L` moves up to the
    /// lowest priority present (if any).
    fn advance_age(&mut self) {
        if let Some(((lowest, _), _)) = self.order.peek() {
            debug_assert!(lowest >= self.age, "an entry below the age");
            self.age = lowest;
        }
    }

    /// Evicts the oldest entry of the list at `L` (or, before the first
    /// eviction and in libCacheSim's undefined corner, of the lowest list:
    /// the same entry, by the invariant above).
    fn evict(&mut self) {
        let ((pri, _), victim) = self.order.pop().expect("evicting from an empty cache");
        self.age = pri;
        self.drop_slot(victim);
        self.advance_age();
    }

    /// Drops the (already unranked) entry in `slot`.
    fn drop_slot(&mut self, slot: u32) {
        self.used -= self.slab.node(slot).size as u64;
        self.slab.remove(slot);
    }
}

impl Cache for LfuDa {
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let pri = self.slab.node(slot).data;
            // The increment is the age before this hit moves it.
            let new = pri.saturating_add(self.age);
            self.order.remove(slot);
            if pri == self.age {
                self.advance_age();
            }
            self.push(slot, new);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.used + size > self.capacity {
            self.evict();
        }
        let slot = self.slab.insert(req.key, req.size, 0);
        self.push(slot, self.age.saturating_add(1));
        self.used += size;
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn prefetches(&self) -> bool {
        self.slab.outgrows_l2()
    }

    #[inline]
    fn prefetch(&self, far: u64, near: u64, _nearest: u64) {
        self.slab.prefetch(far, near, None)
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let pri = self.slab.node(slot).data;
        self.order.remove(slot);
        self.drop_slot(slot);
        if pri == self.age {
            self.advance_age();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_saturate_instead_of_wrapping() {
        let req = |key| Request {
            key,
            size: 1,
            ..Default::default()
        };
        let mut c = LfuDa::new(2, 2);
        for key in [1, 2, 3] {
            c.access(&req(key));
        }
        // As after a long replay at a small cache.
        c.age = u64::MAX - 1;
        assert!(c.access(&req(3)));
        let slot = c.slab.find(3).unwrap();
        assert_eq!(c.slab.node(slot).data, u64::MAX);
        assert!(!c.access(&req(4)));
        assert_eq!(c.slab.node(c.slab.find(4).unwrap()).data, u64::MAX);
    }
}
