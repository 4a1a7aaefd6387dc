//! 2Q (Johnson & Shasha, VLDB'94), as libCacheSim's `TwoQ`: a FIFO `A1in`
//! (25% of the capacity by default), a ghost FIFO `A1out` of keys evicted
//! from A1in (50%, counted with sizes) and an LRU `Am` (the rest).
//! - A hit in A1in changes nothing; a hit in Am moves it to Am's head.
//! - A miss on an A1out key inserts into Am (evicting Am's LRU entries while
//!   Am is over its share); any other miss inserts into A1in.
//! - Eviction takes A1in's tail (its key enters A1out) while A1in is over
//!   its share, else Am's LRU entry.
//! - Objects larger than A1in are not inserted.

use crate::cache::blocks::{Lists, Policy};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

const IN: u8 = 0;
const MAIN: u8 = 1;
const OUT: u8 = 2;

pub struct TwoQ {
    /// A1in and Am (cached) and A1out (ghosts), named [`IN`], [`MAIN`],
    /// [`OUT`] in node data.
    lists: Lists<u8, 3, 2>,
    in_capacity: u64,
    out_capacity: u64,
    main_capacity: u64,
    capacity: u64,
}

impl TwoQ {
    /// `a1in` and `a1out` are fractions of `capacity`.
    pub fn new(capacity: u64, a1in: f64, a1out: f64, expected_objects: usize) -> Self {
        let in_capacity = (capacity as f64 * a1in) as u64;
        TwoQ {
            lists: Lists::with_capacity(expected_objects + expected_objects / 2),
            in_capacity,
            out_capacity: (capacity as f64 * a1out) as u64,
            main_capacity: capacity - in_capacity,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let a1in = ctx.params.number("a1in")?;
        let a1out = ctx.params.number("a1out")?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            a1in,
            a1out,
            ctx.expected_objects(),
        )))
    }

    fn bytes(&self, list: u8) -> u64 {
        self.lists.bytes(list as usize)
    }

    fn evict(&mut self) {
        let main_empty = self.lists.list(MAIN as usize).is_empty();
        if self.bytes(IN) <= self.in_capacity && !main_empty {
            return self.lists.delete_tail(MAIN as usize);
        }
        let slot = self
            .lists
            .list(IN as usize)
            .tail()
            .expect("evicting from an empty cache");
        let size = self.lists.slab.node(slot).size as u64;
        if size > self.out_capacity {
            return self.lists.delete(slot);
        }
        while self.bytes(OUT) + size > self.out_capacity {
            self.lists.delete_tail(OUT as usize);
        }
        self.lists.relink(slot, OUT);
    }
}

impl Policy for TwoQ {
    type Store = Lists<u8, 3, 2>;
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
        let mut from_out = false;
        if let Some((slot, list)) = self.lists.find(req.key) {
            match list as u8 {
                IN => return true,
                MAIN => {
                    self.lists.raise(slot);
                    return true;
                }
                _ => {
                    self.lists.delete(slot);
                    from_out = true;
                }
            }
        }
        let size = req.size as u64;
        if size > self.in_capacity || size > self.capacity {
            return false;
        }
        while self.lists.used() + size > self.capacity {
            self.evict();
        }
        let list = if from_out {
            if size > self.main_capacity {
                return false;
            }
            while self.bytes(MAIN) + size > self.main_capacity {
                self.lists.delete_tail(MAIN as usize);
            }
            MAIN
        } else {
            IN
        };
        self.lists.insert(req.key, req.size, list);
        false
    }
}
