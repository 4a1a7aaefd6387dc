//! ARC (Megiddo & Modha, FAST'03), as libCacheSim's current `ARC` with
//! sizes: T1/T2 hold recency/frequency entries, B1/B2 their ghosts, all
//! measured in the objects' sizes, and `p` (a float) is T1's target size.
//! - A hit in T1 or T2 moves the entry to T2's head.
//! - A ghost hit in B1 raises `p` by max(|B2| / |B1|, 1), in B2 lowers it by
//!   max(|B1| / |B2|, 1); the ghost is dropped, room is made by REPLACE
//!   alone and the object goes to T2's head.
//! - Any other miss makes room with the paper's case IV and inserts at T1's
//!   head. Case IV step: if |T1| + |B1| + size > c, drop B1's tail and
//!   REPLACE, or evict T1's tail outright when B1 is empty; otherwise drop
//!   B2's tail when all four lists reach 2c, then REPLACE.
//! - REPLACE moves T1's tail to B1 if T2 is empty, or T1 is non-empty and
//!   |T1| > p (or |T1| = p and the request hit B2); else T2's tail to B2.

use crate::cache::blocks::{Lists, Policy};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

const T1: u8 = 0;
const T2: u8 = 1;
const B1: u8 = 2;
const B2: u8 = 3;

pub struct Arc {
    /// T1, T2 (cached), B1, B2 (ghosts); node data names the list.
    lists: Lists<u8, 4, 2>,
    /// Target size of T1.
    p: f64,
    capacity: u64,
}

impl Arc {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Arc {
            lists: Lists::with_capacity(expected_objects * 2),
            p: 0.0,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    fn bytes(&self, list: u8) -> u64 {
        self.lists.bytes(list as usize)
    }

    fn is_empty(&self, list: u8) -> bool {
        self.lists.list(list as usize).is_empty()
    }

    /// Moves the tail of `from` to the head of `to`.
    fn demote(&mut self, from: u8, to: u8) {
        let slot = self
            .lists
            .list(from as usize)
            .tail()
            .expect("non-empty list");
        self.lists.relink(slot, to);
    }

    /// The paper's REPLACE: one entry of T1 or T2 becomes a ghost.
    fn replace(&mut self, hit_b2: bool) {
        let t1 = self.bytes(T1) as f64;
        let from_t1 = t1 > 0.0 && (t1 > self.p || (t1 == self.p && hit_b2));
        if from_t1 || self.is_empty(T2) {
            self.demote(T1, B1);
        } else {
            self.demote(T2, B2);
        }
    }

    /// The paper's case IV: make room for a miss that hit no list.
    fn evict(&mut self, size: u64) {
        let c = self.capacity;
        if self.bytes(T1) + self.bytes(B1) + size > c {
            if !self.is_empty(B1) {
                self.lists.delete_tail(B1 as usize);
                self.replace(false);
            } else {
                self.lists.delete_tail(T1 as usize);
            }
        } else {
            let total: u64 = (0..4).map(|l| self.bytes(l)).sum();
            if total >= 2 * c {
                self.lists.delete_tail(B2 as usize);
            }
            self.replace(false);
        }
    }
}

impl Policy for Arc {
    type Store = Lists<u8, 4, 2>;
    const RELINKS_ON_HIT: bool = true;

    fn store(&self) -> &Self::Store {
        &self.lists
    }

    fn discard(&mut self, key: u64) -> bool {
        self.lists.remove(key)
    }

    fn limit(&self) -> u64 {
        self.capacity
    }

    #[inline]
    fn lookup(&mut self, req: &Request) -> bool {
        let mut ghost = None;
        if let Some((slot, list)) = self.lists.find(req.key) {
            let list = list as u8;
            if list == T1 || list == T2 {
                self.lists.relink(slot, T2);
                return true;
            }
            let (b1, b2) = (self.bytes(B1) as f64, self.bytes(B2) as f64);
            if list == B1 {
                self.p = (self.p + (b2 / b1).max(1.0)).min(self.capacity as f64);
            } else {
                self.p = (self.p - (b1 / b2).max(1.0)).max(0.0);
            }
            self.lists.delete(slot);
            ghost = Some(list);
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.lists.used() + size > self.capacity {
            match ghost {
                Some(list) => self.replace(list == B2),
                None => self.evict(size),
            }
        }
        let list = if ghost.is_some() { T2 } else { T1 };
        self.lists.insert(req.key, req.size, list);
        false
    }
}
