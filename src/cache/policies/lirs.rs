//! LIRS (Jiang & Zhang, SIGMETRICS'02), as libCacheSim's `LIRS` with sizes.
//! Three LRU stacks, each with its own entries (a key can be in several):
//! S (LIR entries and recently seen HIR entries, resident or not), Q (the
//! resident HIR entries; 1% of the capacity, at least one unit) and NH (the
//! non-resident HIR entries of S, oldest first, used to bound S at twice the
//! capacity). LIR entries may hold the remaining 99%.
//!
//! - A hit on an LIR entry moves it to the top of S and prunes S's bottom.
//! - A hit on a resident HIR entry in S makes it LIR (dropping it from Q,
//!   demoting bottom LIR entries to Q while LIR space is short).
//! - A hit on a resident HIR entry only in Q moves it to Q's top and pushes
//!   a copy on S.
//! - A miss on a non-resident HIR entry of S makes it a resident LIR entry;
//!   any other miss inserts LIR while LIR space lasts, else resident HIR (on
//!   S and Q). Objects larger than Q are not inserted.
//!
//! Demoting an LIR entry (S's bottom) moves it to Q's top; evicting from Q
//! marks its S copy non-resident and records it in NH.

use crate::cache::structures::{List, Slab};
use crate::cache::{BoxedCache, Cache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

const LIR: u8 = 1;
const RESIDENT: u8 = 2;

/// An LRU stack with its own key index; node data are the LIR/RESIDENT flags.
struct Stack {
    slab: Slab<u8>,
    list: List,
}

impl Stack {
    fn new(expected: usize) -> Self {
        Stack {
            slab: Slab::with_capacity(expected),
            list: List::default(),
        }
    }

    fn find(&self, key: u64) -> Option<u32> {
        self.slab.find(key)
    }

    fn flags(&self, slot: u32) -> u8 {
        self.slab.node(slot).data
    }

    fn set_flags(&mut self, slot: u32, flags: u8) {
        self.slab.node_mut(slot).data = flags;
    }

    fn size(&self, slot: u32) -> u64 {
        self.slab.node(slot).size as u64
    }

    fn key(&self, slot: u32) -> u64 {
        self.slab.node(slot).key()
    }

    fn raise(&mut self, slot: u32) {
        self.slab.move_to_front(&mut self.list, slot);
    }

    /// Pushes `key` on top (moving it there if it is already in).
    fn push(&mut self, key: u64, size: u32, flags: u8) {
        match self.slab.find(key) {
            Some(slot) => {
                self.set_flags(slot, flags);
                self.raise(slot);
            }
            None => {
                let slot = self.slab.insert(key, size, flags);
                self.slab.push_front(&mut self.list, slot);
            }
        }
    }

    /// Removes `key`; returns whether it was in.
    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.slab.unlink(&mut self.list, slot);
        self.slab.remove(slot);
        true
    }

    fn bottom(&self) -> Option<u32> {
        self.list.tail()
    }

    fn pop_bottom(&mut self) {
        if let Some(slot) = self.slab.pop_back(&mut self.list) {
            self.slab.remove(slot);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }
}

pub struct Lirs {
    s: Stack,
    q: Stack,
    nh: Stack,
    lir_limit: u64,
    hir_limit: u64,
    lir_bytes: u64,
    hir_bytes: u64,
    /// Number of LIR entries (all resident).
    lir_len: usize,
    capacity: u64,
}

impl Lirs {
    /// `hir` is Q's share of `capacity`.
    pub fn new(capacity: u64, hir: f64, expected_objects: usize) -> Self {
        let hir_limit = ((hir * capacity as f64) as u64).max(1);
        Lirs {
            s: Stack::new(expected_objects * 2),
            q: Stack::new(expected_objects / 50 + 16),
            nh: Stack::new(expected_objects),
            lir_limit: capacity.saturating_sub(hir_limit),
            hir_limit,
            lir_bytes: 0,
            hir_bytes: 0,
            lir_len: 0,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let hir = ctx.params.number("hir")?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            hir,
            ctx.expected_objects(),
        )))
    }

    /// Counts an entry of `size` entering (+) or leaving (-) the LIR set.
    fn add_lir(&mut self, size: u64) {
        self.lir_bytes += size;
        self.lir_len += 1;
    }

    fn sub_lir(&mut self, size: u64) {
        self.lir_bytes -= size;
        self.lir_len -= 1;
    }

    /// Removes HIR entries from S's bottom until an LIR entry is there.
    fn prune(&mut self) {
        while let Some(slot) = self.s.bottom() {
            if Some(slot) == self.s.list.head() || self.s.flags(slot) & LIR != 0 {
                return;
            }
            if self.s.flags(slot) & RESIDENT == 0 {
                self.nh.remove(self.s.key(slot));
            }
            self.s.pop_bottom();
        }
    }

    /// Evicts Q's bottom; its S copy becomes non-resident and enters NH.
    fn evict_hir(&mut self) {
        let Some(slot) = self.q.bottom() else { return };
        let (key, size) = (self.q.key(slot), self.q.slab.node(slot).size);
        self.hir_bytes -= size as u64;
        self.q.pop_bottom();
        if let Some(s) = self.s.find(key) {
            let flags = self.s.flags(s);
            self.s.set_flags(s, flags & !RESIDENT);
            self.nh.push(key, size, 0);
        }
    }

    /// Demotes S's bottom (an LIR entry) to a resident HIR entry on Q's top,
    /// then prunes S.
    fn evict_lir(&mut self) {
        let Some(slot) = self.s.bottom() else { return };
        let (key, size) = (self.s.key(slot), self.s.slab.node(slot).size);
        if self.s.flags(slot) & LIR == 0 {
            // Only when S holds a single HIR entry (pruning keeps S's top):
            // drop it from S as pruning would; libCacheSim would miscount.
            if self.s.flags(slot) & RESIDENT == 0 {
                self.nh.remove(key);
            }
            self.s.pop_bottom();
            return;
        }
        self.sub_lir(size as u64);
        self.s.pop_bottom();
        if size as u64 <= self.hir_limit {
            while self.hir_bytes + size as u64 > self.hir_limit {
                self.evict_hir();
            }
            self.q.push(key, size, RESIDENT);
            self.hir_bytes += size as u64;
        }
        self.prune();
    }

    /// Demotes LIR entries until `size` more fits in the LIR set (or S is
    /// empty).
    fn make_lir_room(&mut self, size: u64) {
        while self.lir_bytes + size > self.lir_limit && self.s.bottom().is_some() {
            self.evict_lir();
        }
    }

    /// Looks `key` up, updating the stacks on a hit.
    fn hit(&mut self, key: u64) -> bool {
        let s = self.s.find(key);
        let q = self.q.find(key);
        if let Some(s) = s {
            self.s.raise(s);
        }
        if let Some(q) = q {
            self.q.raise(q);
        }
        match (s, q) {
            (Some(s), _) if self.s.flags(s) & LIR != 0 => {
                self.prune();
                true
            }
            (Some(s), q) if self.s.flags(s) & RESIDENT != 0 => {
                if let Some(q) = q {
                    self.hir_bytes -= self.q.size(q);
                    self.q.remove(key);
                }
                let size = self.s.size(s);
                self.make_lir_room(size);
                if let Some(s) = self.s.find(key) {
                    self.s.set_flags(s, LIR | RESIDENT);
                }
                self.add_lir(size);
                true
            }
            (Some(_), _) => false,
            (None, Some(q)) => {
                let size = self.q.slab.node(q).size;
                self.make_lir_room(size as u64);
                self.s.push(key, size, RESIDENT);
                true
            }
            (None, None) => false,
        }
    }

    /// One step of making room for a missed object of `size`.
    fn evict(&mut self, key: u64, size: u64) {
        match self.s.find(key) {
            Some(s) if self.s.flags(s) & (LIR | RESIDENT) == 0 => {
                while self.hir_bytes >= self.hir_limit && self.q.bottom().is_some() {
                    self.evict_hir();
                }
                self.evict_lir();
            }
            Some(_) => {}
            None => {
                if self.lir_bytes + size > self.lir_limit && self.hir_bytes + size > self.hir_limit
                {
                    self.evict_hir();
                }
            }
        }
    }

    /// Keeps S within twice the capacity by dropping the oldest
    /// non-resident HIR entries.
    fn limit_stack(&mut self) {
        while self.s.slab.bytes() > 2 * self.capacity {
            let Some(slot) = self.nh.bottom() else { return };
            let key = self.nh.key(slot);
            self.s.remove(key);
            self.nh.pop_bottom();
        }
    }

    fn miss(&mut self, req: &Request) {
        let size = req.size as u64;
        if size > self.capacity {
            return;
        }
        match self.s.find(req.key) {
            Some(_) => {
                // libCacheSim assumes the object fits the LIR set here; an
                // object whose size grew past it is not inserted.
                if size > self.lir_limit {
                    return;
                }
                self.make_lir_room(size);
                self.nh.remove(req.key);
            }
            None => {
                if size > self.lir_limit || size > self.hir_limit {
                    return;
                }
                if self.lir_bytes + size > self.lir_limit && self.hir_bytes + size > self.hir_limit
                {
                    while self.hir_bytes + size > self.hir_limit {
                        self.evict_hir();
                    }
                }
            }
        }
        while self.used() + size > self.capacity {
            let before = self.used();
            self.evict(req.key, size);
            if self.used() == before {
                // No step frees room (only reachable when sizes change
                // between requests); libCacheSim would loop or crash.
                return;
            }
        }
        match self.s.find(req.key) {
            Some(s) => {
                self.s.set_flags(s, LIR | RESIDENT);
                self.add_lir(size);
            }
            None if self.lir_bytes + size <= self.lir_limit => {
                self.s.push(req.key, req.size, LIR | RESIDENT);
                self.add_lir(size);
            }
            None => {
                self.s.push(req.key, req.size, RESIDENT);
                self.q.push(req.key, req.size, RESIDENT);
                self.hir_bytes += size;
            }
        }
    }
}

impl Cache for Lirs {
    fn access(&mut self, req: &Request) -> bool {
        let hit = self.hit(req.key);
        if !hit {
            self.miss(req);
        }
        self.limit_stack();
        hit
    }

    /// Stack S holds nearly every entry; Q is 1% of the cache.
    fn prefetches(&self) -> bool {
        self.s.slab.outgrows_l2()
    }

    #[inline]
    fn prefetch(&self, far: u64, near: u64, nearest: u64) {
        self.s.slab.prefetch(far, near, Some(nearest))
    }

    fn contains(&self, key: u64) -> bool {
        self.q.find(key).is_some()
            || self
                .s
                .find(key)
                .is_some_and(|s| self.s.flags(s) & RESIDENT != 0)
    }

    fn remove(&mut self, key: u64) -> bool {
        if !self.contains(key) {
            // Non-resident entries are history, not cached objects: they stay.
            return false;
        }
        if let Some(s) = self.s.find(key) {
            let size = self.s.size(s);
            let lir = self.s.flags(s) & LIR != 0;
            self.s.remove(key);
            if lir {
                self.sub_lir(size);
                self.prune();
                return true;
            }
        }
        if let Some(q) = self.q.find(key) {
            self.hir_bytes -= self.q.size(q);
            self.q.remove(key);
        }
        true
    }

    fn len(&self) -> usize {
        self.lir_len + self.q.list.len()
    }

    fn used(&self) -> u64 {
        self.lir_bytes + self.hir_bytes
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.s.heap_bytes() + self.q.heap_bytes() + self.nh.heap_bytes()
    }
}
