//! LFU as libCacheSim's `LFU`: evicts the least frequently used entry; among
//! equal frequencies, the one that reached that frequency first, i.e. the
//! least recently accessed. Frequencies start at 1 on insertion and are
//! forgotten on eviction.
//!
//! Entries are kept in one list per frequency ([`Buckets`]), oldest arrival
//! at the head, so every step is O(log distinct frequencies).

use std::collections::BTreeMap;

use super::slab::{List, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

/// One list per priority value, each in arrival order. Shared by LFU and
/// LFU-DA; empty lists are dropped so the map stays as small as the number
/// of distinct priorities in the cache.
#[derive(Default)]
pub(super) struct Buckets {
    lists: BTreeMap<u64, List>,
    bytes: u64,
}

impl Buckets {
    /// Appends `slot` (whose data is `key`) to the list of `key`.
    pub fn push<T>(&mut self, slab: &mut Slab<T>, key: u64, slot: u32) {
        self.bytes += slab.node(slot).size as u64;
        slab.push_back(self.lists.entry(key).or_default(), slot);
    }

    /// Unlinks `slot` from the list of `key`.
    pub fn unlink<T>(&mut self, slab: &mut Slab<T>, key: u64, slot: u32) {
        self.bytes -= slab.node(slot).size as u64;
        let list = self.lists.get_mut(&key).expect("entry's bucket exists");
        slab.unlink(list, slot);
        if list.is_empty() {
            self.lists.remove(&key);
        }
    }

    /// The oldest entry of the list of `key`, if that list is non-empty.
    pub fn oldest(&self, key: u64) -> Option<u32> {
        self.lists.get(&key).and_then(List::head)
    }

    /// The lowest key with entries.
    pub fn lowest(&self) -> Option<u64> {
        self.lists.keys().next().copied()
    }

    /// The lowest key above `key` with entries.
    pub fn lowest_above(&self, key: u64) -> Option<u64> {
        self.lists.range(key + 1..).next().map(|(&k, _)| k)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Heap bytes of the map (one B-tree entry per list, estimated).
    pub fn heap_bytes(&self) -> usize {
        self.lists.len() * (std::mem::size_of::<(u64, List)>() + 8)
    }
}

pub struct Lfu {
    /// Node data: the entry's frequency.
    slab: Slab<u64>,
    buckets: Buckets,
    capacity: u64,
}

impl Lfu {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Lfu {
            slab: Slab::with_capacity(expected_objects),
            buckets: Buckets::default(),
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    fn evict(&mut self) {
        let freq = self.buckets.lowest().expect("evicting from an empty cache");
        let victim = self.buckets.oldest(freq).expect("non-empty bucket");
        self.buckets.unlink(&mut self.slab, freq, victim);
        self.slab.remove(victim);
    }
}

impl Cache for Lfu {
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let freq = self.slab.node(slot).data;
            self.buckets.unlink(&mut self.slab, freq, slot);
            self.slab.node_mut(slot).data = freq + 1;
            self.buckets.push(&mut self.slab, freq + 1, slot);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.buckets.bytes() + size > self.capacity {
            self.evict();
        }
        let slot = self.slab.insert(req.key, req.size, 1);
        self.buckets.push(&mut self.slab, 1, slot);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let freq = self.slab.node(slot).data;
        self.buckets.unlink(&mut self.slab, freq, slot);
        self.slab.remove(slot);
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
