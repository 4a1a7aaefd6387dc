//! LFU as libCacheSim's `LFU`: evicts the least frequently used entry; among
//! equal frequencies, the one that reached that frequency first, i.e. the
//! least recently accessed. Frequencies start at 1 on insertion and are
//! forgotten on eviction.
//!
//! The classic O(1) layout: a list of frequency groups in increasing
//! frequency, each holding its entries in arrival order. A hit moves the
//! entry to the group of frequency + 1 (created next to its group when
//! missing); eviction takes the oldest entry of the first group.

use crate::cache::blocks::Policy;
use crate::cache::structures::{List, NIL, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

/// A frequency group, linked to its neighbours in increasing frequency.
struct Group {
    freq: u64,
    entries: List,
    prev: u32,
    next: u32,
}

pub struct Lfu {
    /// Node data: the index of the entry's group.
    slab: Slab<u32>,
    groups: Vec<Group>,
    /// Unused group indexes.
    free: Vec<u32>,
    /// The lowest-frequency group.
    first: u32,
    capacity: u64,
}

impl Lfu {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Lfu {
            slab: Slab::with_capacity(expected_objects),
            groups: Vec::new(),
            free: Vec::new(),
            first: NIL,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    /// A new empty group of `freq` linked after `prev` (NIL: at the front).
    fn new_group(&mut self, freq: u64, prev: u32) -> u32 {
        let next = if prev == NIL {
            self.first
        } else {
            self.groups[prev as usize].next
        };
        let group = Group {
            freq,
            entries: List::default(),
            prev,
            next,
        };
        let g = match self.free.pop() {
            Some(g) => {
                self.groups[g as usize] = group;
                g
            }
            None => {
                self.groups.push(group);
                (self.groups.len() - 1) as u32
            }
        };
        self.link(prev, g);
        self.link(g, next);
        g
    }

    /// Makes groups `prev` and `next` neighbours (NIL: the ends of the
    /// chain).
    fn link(&mut self, prev: u32, next: u32) {
        if prev == NIL {
            self.first = next;
        } else {
            self.groups[prev as usize].next = next;
        }
        if next != NIL {
            self.groups[next as usize].prev = prev;
        }
    }

    /// Unlinks `slot` from its group, dropping the group if it empties.
    fn leave(&mut self, slot: u32) {
        let g = self.slab.node(slot).data;
        let group = &mut self.groups[g as usize];
        self.slab.unlink(&mut group.entries, slot);
        if group.entries.is_empty() {
            let (prev, next) = (group.prev, group.next);
            self.link(prev, next);
            self.free.push(g);
        }
    }

    fn join(&mut self, slot: u32, g: u32) {
        self.slab.node_mut(slot).data = g;
        self.slab
            .push_back(&mut self.groups[g as usize].entries, slot);
    }

    fn evict(&mut self) {
        let victim = self.groups[self.first as usize]
            .entries
            .head()
            .expect("evicting from an empty cache");
        self.leave(victim);
        self.slab.remove(victim);
    }
}

impl Policy for Lfu {
    type Store = Slab<u32>;
    const RELINKS_ON_HIT: bool = true;

    fn store(&self) -> &Self::Store {
        &self.slab
    }

    fn lookup(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let g = self.slab.node(slot).data;
            let (freq, next) = (self.groups[g as usize].freq, self.groups[g as usize].next);
            let target = if next != NIL && self.groups[next as usize].freq == freq + 1 {
                next
            } else {
                self.new_group(freq + 1, g)
            };
            self.leave(slot);
            self.join(slot, target);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.slab.bytes() + size > self.capacity {
            self.evict();
        }
        let g = if self.first != NIL && self.groups[self.first as usize].freq == 1 {
            self.first
        } else {
            self.new_group(1, NIL)
        };
        let slot = self.slab.insert(req.key, req.size, g);
        self.join(slot, g);
        false
    }

    fn discard(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.leave(slot);
        self.slab.remove(slot);
        true
    }

    fn limit(&self) -> u64 {
        self.capacity
    }

    fn extra_heap_bytes(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<Group>() + self.free.capacity() * 4
    }
}
