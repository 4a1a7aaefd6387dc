//! 2Q (Johnson & Shasha, VLDB'94), as libCacheSim's `TwoQ`: a FIFO `A1in`
//! (25% of the capacity by default), a ghost FIFO `A1out` of keys evicted
//! from A1in (50%, counted with sizes) and an LRU `Am` (the rest).
//! - A hit in A1in changes nothing; a hit in Am moves it to Am's head.
//! - A miss on an A1out key inserts into Am (evicting Am's LRU entries while
//!   Am is over its share); any other miss inserts into A1in.
//! - Eviction takes A1in's tail (its key enters A1out) while A1in is over
//!   its share, else Am's LRU entry.
//! - Objects larger than A1in are not inserted.

use super::slab::{List, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

const IN: u8 = 0;
const MAIN: u8 = 1;
const OUT: u8 = 2;

pub struct TwoQ {
    /// Node data: the list the entry is in.
    slab: Slab<u8>,
    /// A1in, Am and A1out, indexed by [`IN`], [`MAIN`], [`OUT`].
    lists: [List; 3],
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
            slab: Slab::with_capacity(expected_objects + expected_objects / 2),
            lists: [List::default(); 3],
            in_capacity,
            out_capacity: (capacity as f64 * a1out) as u64,
            main_capacity: capacity - in_capacity,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&["a1in", "a1out"])?;
        let a1in = ctx.params.fraction("a1in", 0.25)?;
        let a1out = ctx.params.fraction("a1out", 0.5)?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            a1in,
            a1out,
            ctx.expected_objects(),
        )))
    }

    fn bytes(&self, list: u8) -> u64 {
        self.lists[list as usize].bytes()
    }

    fn drop_tail(&mut self, list: u8) {
        let slot = self
            .slab
            .pop_back(&mut self.lists[list as usize])
            .expect("non-empty list");
        self.slab.remove(slot);
    }

    fn evict(&mut self) {
        if self.bytes(IN) > self.in_capacity || self.lists[MAIN as usize].is_empty() {
            let slot = self
                .slab
                .pop_back(&mut self.lists[IN as usize])
                .expect("evicting from an empty cache");
            let size = self.slab.node(slot).size as u64;
            if size > self.out_capacity {
                self.slab.remove(slot);
                return;
            }
            while self.bytes(OUT) + size > self.out_capacity {
                self.drop_tail(OUT);
            }
            self.slab.node_mut(slot).data = OUT;
            self.slab.push_front(&mut self.lists[OUT as usize], slot);
        } else {
            self.drop_tail(MAIN);
        }
    }
}

impl Cache for TwoQ {
    fn access(&mut self, req: &Request) -> bool {
        let mut from_out = false;
        if let Some(slot) = self.slab.find(req.key) {
            match self.slab.node(slot).data {
                IN => return true,
                MAIN => {
                    self.slab
                        .move_to_front(&mut self.lists[MAIN as usize], slot);
                    return true;
                }
                _ => {
                    self.slab.unlink(&mut self.lists[OUT as usize], slot);
                    self.slab.remove(slot);
                    from_out = true;
                }
            }
        }
        let size = req.size as u64;
        if size > self.in_capacity || size > self.capacity {
            return false;
        }
        while self.bytes(IN) + self.bytes(MAIN) + size > self.capacity {
            self.evict();
        }
        let list = if from_out {
            if size > self.main_capacity {
                return false;
            }
            while self.bytes(MAIN) + size > self.main_capacity {
                self.drop_tail(MAIN);
            }
            MAIN
        } else {
            IN
        };
        let slot = self.slab.insert(req.key, req.size, list);
        self.slab.push_front(&mut self.lists[list as usize], slot);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab
            .find(key)
            .is_some_and(|s| self.slab.node(s).data != OUT)
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let list = self.slab.node(slot).data;
        self.slab.unlink(&mut self.lists[list as usize], slot);
        self.slab.remove(slot);
        list != OUT
    }

    fn len(&self) -> usize {
        self.lists[IN as usize].len() + self.lists[MAIN as usize].len()
    }

    fn used(&self) -> u64 {
        self.bytes(IN) + self.bytes(MAIN)
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }
}
