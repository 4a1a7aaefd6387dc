//! 2Q (Johnson & Shasha, VLDB'94), as libCacheSim's `TwoQ`: a FIFO `A1in`
//! (25% of the capacity by default), a ghost FIFO `A1out` of keys evicted
//! from A1in (50%, counted with sizes) and an LRU `Am` (the rest).
//! - A hit in A1in changes nothing; a hit in Am moves it to Am's head.
//! - A miss on an A1out key inserts into Am (evicting Am's LRU entries while
//!   Am is over its share); any other miss inserts into A1in.
//! - Eviction takes A1in's tail (its key enters A1out) while A1in is over
//!   its share, else Am's LRU entry.
//! - Objects larger than A1in are not inserted.

use crate::cache::blocks::{Lists, Moves, Queues};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

const IN: u8 = 0;
const MAIN: u8 = 1;
const OUT: u8 = 2;

/// 2Q's moves over A1in and Am (cached) and A1out (ghosts), named [`IN`],
/// [`MAIN`], [`OUT`] in node data.
pub struct TwoQ {
    in_capacity: u64,
    out_capacity: u64,
    main_capacity: u64,
}

impl TwoQ {
    /// `a1in` and `a1out` are fractions of `capacity`.
    pub fn new(capacity: u64, a1in: f64, a1out: f64) -> Self {
        let in_capacity = (capacity as f64 * a1in) as u64;
        TwoQ {
            in_capacity,
            out_capacity: (capacity as f64 * a1out) as u64,
            main_capacity: capacity - in_capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let a1in = ctx.params.number("a1in")?;
        let a1out = ctx.params.number("a1out")?;
        let expected = ctx.expected_objects();
        let moves = Self::new(ctx.capacity, a1in, a1out);
        Ok(Queues::build_with(ctx, moves, expected + expected / 2))
    }

    fn evict(&self, lists: &mut Lists<Self>) {
        if lists.bytes(IN) <= self.in_capacity && !lists.is_empty(MAIN) {
            return lists.delete_tail(MAIN);
        }
        let slot = lists.tail(IN).expect("evicting from an empty cache");
        let size = lists.size(slot);
        if size > self.out_capacity {
            return lists.delete(slot);
        }
        while lists.bytes(OUT) + size > self.out_capacity {
            lists.delete_tail(OUT);
        }
        lists.relink(slot, OUT);
    }
}

impl Moves for TwoQ {
    type Entry = u8;
    const CACHED: u8 = 2;
    const RELINKS_ON_HIT: bool = true;

    #[inline]
    fn lookup(&mut self, lists: &mut Lists<Self>, req: &Request) -> bool {
        let mut from_out = false;
        if let Some((slot, list)) = lists.find(req.key) {
            match list {
                IN => return true,
                MAIN => {
                    lists.raise(slot);
                    return true;
                }
                _ => {
                    lists.delete(slot);
                    from_out = true;
                }
            }
        }
        let size = req.size as u64;
        if size > self.in_capacity || size > lists.capacity() {
            return false;
        }
        while lists.used() + size > lists.capacity() {
            self.evict(lists);
        }
        let list = if from_out {
            if size > self.main_capacity {
                return false;
            }
            while lists.bytes(MAIN) + size > self.main_capacity {
                lists.delete_tail(MAIN);
            }
            MAIN
        } else {
            IN
        };
        lists.insert(req.key, req.size, list);
        false
    }
}
