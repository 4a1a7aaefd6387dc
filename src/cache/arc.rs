//! ARC (Megiddo & Modha, FAST'03), as libCacheSim's `ARC` with sizes: T1/T2
//! hold recency/frequency entries, B1/B2 their ghosts, all measured in the
//! objects' sizes, and `p` is T1's target size.
//! - A hit in T1 or T2 moves the entry to T2's head.
//! - A ghost hit in B1 raises `p` by max(|B2| / |B1|, 1), in B2 lowers it by
//!   max(|B1| / |B2|, 1) (integer division of sizes), then runs REPLACE once
//!   and drops the ghost; the object is then inserted at T2's head.
//! - Any other miss inserts at T1's head.
//! - Each eviction step: if |T1| + |B1| + size > c, drop B1's tail and
//!   REPLACE (or, when |T1| >= c, evict T1's tail outright); otherwise, when
//!   all four lists reach 2c, drop B2's tail, then REPLACE.
//! - REPLACE moves T1's tail to B1 if T1 is non-empty and |T1| > p (or
//!   |T1| = p and the request hit B2), else T2's tail to B2.

use super::slab::{List, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

const T1: u8 = 0;
const T2: u8 = 1;
const B1: u8 = 2;
const B2: u8 = 3;

pub struct Arc {
    /// Node data: the list the entry is in.
    slab: Slab<u8>,
    lists: [List; 4],
    /// Target size of T1.
    p: u64,
    capacity: u64,
}

impl Arc {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Arc {
            slab: Slab::with_capacity(expected_objects * 2),
            lists: [List::default(); 4],
            p: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    fn bytes(&self, list: u8) -> u64 {
        self.lists[list as usize].bytes()
    }

    /// Moves the tail of `from` to the head of `to`.
    fn demote(&mut self, from: u8, to: u8) {
        let slot = self
            .slab
            .pop_back(&mut self.lists[from as usize])
            .expect("non-empty list");
        self.slab.node_mut(slot).data = to;
        self.slab.push_front(&mut self.lists[to as usize], slot);
    }

    /// Drops the tail of `list` from the cache (no ghost), if any.
    fn drop_tail(&mut self, list: u8) {
        if let Some(slot) = self.slab.pop_back(&mut self.lists[list as usize]) {
            self.slab.remove(slot);
        }
    }

    /// The paper's REPLACE: one entry of T1 or T2 becomes a ghost.
    fn replace(&mut self, hit_b2: bool) {
        let t1 = self.bytes(T1);
        let from_t1 = t1 > 0 && (t1 > self.p || (t1 == self.p && hit_b2));
        if from_t1 || self.lists[T2 as usize].is_empty() {
            self.demote(T1, B1);
        } else {
            self.demote(T2, B2);
        }
    }

    fn evict(&mut self, size: u64, hit_b2: bool) {
        let c = self.capacity;
        if self.bytes(T1) + self.bytes(B1) + size > c {
            if self.bytes(T1) < c {
                self.drop_tail(B1);
                self.replace(hit_b2);
            } else {
                self.drop_tail(T1);
            }
        } else {
            let total: u64 = self.lists.iter().map(List::bytes).sum();
            if total >= 2 * c {
                self.drop_tail(B2);
            }
            self.replace(hit_b2);
        }
    }

    fn used_bytes(&self) -> u64 {
        self.bytes(T1) + self.bytes(T2)
    }
}

impl Cache for Arc {
    fn access(&mut self, req: &Request) -> bool {
        let mut ghost = None;
        if let Some(slot) = self.slab.find(req.key) {
            let list = self.slab.node(slot).data;
            if list == T1 || list == T2 {
                self.slab.unlink(&mut self.lists[list as usize], slot);
                self.slab.node_mut(slot).data = T2;
                self.slab.push_front(&mut self.lists[T2 as usize], slot);
                return true;
            }
            let (b1, b2) = (self.bytes(B1), self.bytes(B2));
            if list == B1 {
                self.p = (self.p + (b2 / b1).max(1)).min(self.capacity);
            } else {
                self.p = self.p.saturating_sub((b1 / b2).max(1));
            }
            if !self.lists[T1 as usize].is_empty() || !self.lists[T2 as usize].is_empty() {
                self.replace(list == B2);
            }
            self.slab.unlink(&mut self.lists[list as usize], slot);
            self.slab.remove(slot);
            ghost = Some(list);
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        let hit_b2 = ghost == Some(B2);
        while self.used_bytes() + size > self.capacity {
            self.evict(size, hit_b2);
        }
        let list = if ghost.is_some() { T2 } else { T1 };
        let slot = self.slab.insert(req.key, req.size, list);
        self.slab.push_front(&mut self.lists[list as usize], slot);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab
            .find(key)
            .is_some_and(|s| self.slab.node(s).data <= T2)
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let list = self.slab.node(slot).data;
        self.slab.unlink(&mut self.lists[list as usize], slot);
        self.slab.remove(slot);
        list <= T2
    }

    fn len(&self) -> usize {
        self.lists[T1 as usize].len() + self.lists[T2 as usize].len()
    }

    fn used(&self) -> u64 {
        self.used_bytes()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }
}
