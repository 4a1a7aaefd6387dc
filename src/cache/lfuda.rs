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

use std::collections::BTreeMap;

use super::slab::{List, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

/// One list per priority value, each in arrival order, in a B-tree because
/// priorities jump (a hit adds `L`) and `L` needs "the next priority above".
/// Empty lists are dropped, so the map holds one entry per distinct priority
/// in the cache.
#[derive(Default)]
struct Buckets {
    lists: BTreeMap<u64, List>,
    bytes: u64,
}

impl Buckets {
    /// Appends `slot` (whose data is `key`) to the list of `key`.
    fn push<T>(&mut self, slab: &mut Slab<T>, key: u64, slot: u32) {
        self.bytes += slab.node(slot).size as u64;
        slab.push_back(self.lists.entry(key).or_default(), slot);
    }

    /// Unlinks `slot` from the list of `key`.
    fn unlink<T>(&mut self, slab: &mut Slab<T>, key: u64, slot: u32) {
        self.bytes -= slab.node(slot).size as u64;
        let list = self.lists.get_mut(&key).expect("entry's bucket exists");
        slab.unlink(list, slot);
        if list.is_empty() {
            self.lists.remove(&key);
        }
    }

    /// The oldest entry of the list of `key`, if that list is non-empty.
    fn oldest(&self, key: u64) -> Option<u32> {
        self.lists.get(&key).and_then(List::head)
    }

    /// The lowest key with entries.
    fn lowest(&self) -> Option<u64> {
        self.lists.keys().next().copied()
    }

    /// The lowest key above `key` with entries.
    fn lowest_above(&self, key: u64) -> Option<u64> {
        self.lists.range(key + 1..).next().map(|(&k, _)| k)
    }

    fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Heap bytes of the map (one B-tree entry per list, estimated).
    fn heap_bytes(&self) -> usize {
        self.lists.len() * (std::mem::size_of::<(u64, List)>() + 8)
    }
}

pub struct LfuDa {
    /// Node data: the entry's priority.
    slab: Slab<u64>,
    buckets: Buckets,
    /// The age `L`.
    age: u64,
    capacity: u64,
}

impl LfuDa {
    fn new(capacity: u64, expected_objects: usize) -> Self {
        LfuDa {
            slab: Slab::with_capacity(expected_objects),
            buckets: Buckets::default(),
            age: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    /// After the list at `L` lost an entry: if it is now empty, `L` moves up
    /// to the next priority that has entries (if any).
    fn advance_age(&mut self) {
        if self.buckets.oldest(self.age).is_none()
            && let Some(next) = self.buckets.lowest_above(self.age)
        {
            self.age = next;
        }
    }

    fn evict(&mut self) {
        let at = self.age.max(1);
        let (pri, victim) = match self.buckets.oldest(at) {
            Some(v) => (at, v),
            None => {
                let low = self.buckets.lowest().expect("evicting from an empty cache");
                (low, self.buckets.oldest(low).expect("non-empty bucket"))
            }
        };
        self.age = pri;
        self.buckets.unlink(&mut self.slab, pri, victim);
        self.slab.remove(victim);
        self.advance_age();
    }
}

impl Cache for LfuDa {
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let pri = self.slab.node(slot).data;
            // The increment is the age before this hit moves it.
            let new = pri.saturating_add(self.age);
            self.buckets.unlink(&mut self.slab, pri, slot);
            if pri == self.age {
                self.advance_age();
            }
            self.slab.node_mut(slot).data = new;
            self.buckets.push(&mut self.slab, new, slot);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.buckets.bytes() + size > self.capacity {
            self.evict();
        }
        let pri = self.age.saturating_add(1);
        let slot = self.slab.insert(req.key, req.size, pri);
        self.buckets.push(&mut self.slab, pri, slot);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn prefetches(&self) -> bool {
        self.slab.outgrows_l2()
    }

    #[inline]
    fn prefetch(&self, far: u64, near: u64, nearest: u64) {
        self.slab.prefetch(far, near, Some(nearest))
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let pri = self.slab.node(slot).data;
        self.buckets.unlink(&mut self.slab, pri, slot);
        self.slab.remove(slot);
        if pri == self.age {
            self.advance_age();
        }
        true
    }

    fn len(&self) -> usize {
        self.slab.len()
    }

    fn used(&self) -> u64 {
        self.buckets.bytes()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.buckets.heap_bytes()
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
