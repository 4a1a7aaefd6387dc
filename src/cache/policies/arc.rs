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

use crate::cache::blocks::{Lists, Moves, Queues};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

const T1: u8 = 0;
const T2: u8 = 1;
const B1: u8 = 2;
const B2: u8 = 3;

/// ARC's moves over T1, T2 (cached), B1, B2 (ghosts); node data names the
/// list.
#[derive(Default)]
pub struct Arc {
    /// Target size of T1.
    p: f64,
}

impl Arc {
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        // The ghosts hold up to the capacity again.
        let nodes = ctx.expected_objects() * 2;
        Ok(Queues::build_with(ctx, Arc::default(), nodes))
    }

    /// The paper's REPLACE: one entry of T1 or T2 becomes a ghost.
    fn replace(&self, lists: &mut Lists<Self>, hit_b2: bool) {
        let t1 = lists.bytes(T1) as f64;
        let from_t1 = t1 > 0.0 && (t1 > self.p || (t1 == self.p && hit_b2));
        if from_t1 || lists.is_empty(T2) {
            lists.demote(T1, B1);
        } else {
            lists.demote(T2, B2);
        }
    }

    /// The paper's case IV: make room for a miss that hit no list.
    fn evict(&self, lists: &mut Lists<Self>, size: u64) {
        let c = lists.capacity();
        if lists.bytes(T1) + lists.bytes(B1) + size > c {
            if !lists.is_empty(B1) {
                lists.delete_tail(B1);
                self.replace(lists, false);
            } else {
                lists.delete_tail(T1);
            }
        } else {
            let total: u64 = (0..4).map(|l| lists.bytes(l)).sum();
            if total >= 2 * c {
                lists.delete_tail(B2);
            }
            self.replace(lists, false);
        }
    }
}

impl Moves for Arc {
    type Entry = u8;
    const CACHED: u8 = 2;
    const RELINKS_ON_HIT: bool = true;

    #[inline]
    fn lookup(&mut self, lists: &mut Lists<Self>, req: &Request) -> bool {
        let capacity = lists.capacity();
        let mut ghost = None;
        if let Some((slot, list)) = lists.find(req.key) {
            if list == T1 || list == T2 {
                lists.relink(slot, T2);
                return true;
            }
            let (b1, b2) = (lists.bytes(B1) as f64, lists.bytes(B2) as f64);
            if list == B1 {
                self.p = (self.p + (b2 / b1).max(1.0)).min(capacity as f64);
            } else {
                self.p = (self.p - (b1 / b2).max(1.0)).max(0.0);
            }
            lists.delete(slot);
            ghost = Some(list);
        }
        let size = req.size as u64;
        if size > capacity {
            return false;
        }
        while lists.used() + size > capacity {
            match ghost {
                Some(list) => self.replace(lists, list == B2),
                None => self.evict(lists, size),
            }
        }
        let list = if ghost.is_some() { T2 } else { T1 };
        lists.insert(req.key, req.size, list);
        false
    }
}
