//! S3-FIFO (Yang et al., SOSP'23), as libCacheSim's original implementation
//! (`S3FIFOv0`, the one the paper measured):
//! - a small FIFO (10% of the capacity by default), a main FIFO (the rest)
//!   and a ghost FIFO of evicted keys (sized at 90% of the capacity, counted
//!   with the objects' sizes);
//! - a hit raises the entry's frequency;
//! - a miss on a ghost key inserts into main, any other miss into small;
//!   objects not smaller than the small FIFO are never inserted into it;
//! - eviction: from main when main is over its share or small is empty,
//!   else from small. Small's tail moves to main if its frequency reached
//!   the threshold (2 by default), else it is evicted and its key enters the
//!   ghost. Main's tail is reinserted at the head with its frequency capped
//!   at 3 and decremented if non-zero, else evicted.

use crate::cache::blocks::{InList, Lists, Policy};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

/// Index of each queue in `S3Fifo::lists`.
const SMALL: u8 = 0;
const MAIN: u8 = 1;
const GHOST: u8 = 2;

/// An entry's queue and access frequency (public only as part of the
/// policy's [`Policy::Store`] type).
#[derive(Clone, Copy)]
pub struct Entry {
    queue: u8,
    freq: u8,
}

impl InList for Entry {
    #[inline]
    fn list(&self) -> usize {
        self.queue as usize
    }
}

pub struct S3Fifo {
    /// Small and main (cached) and ghost FIFOs, named [`SMALL`], [`MAIN`],
    /// [`GHOST`].
    lists: Lists<Entry, 3, 2>,
    small_capacity: u64,
    main_capacity: u64,
    ghost_capacity: u64,
    threshold: u8,
    capacity: u64,
}

impl S3Fifo {
    /// `small` and `ghost` are fractions of `capacity`; `threshold` the
    /// frequency at which small's tail moves to main.
    pub fn new(capacity: u64, small: f64, ghost: f64, threshold: u8, expected: usize) -> Self {
        let small_capacity = (capacity as f64 * small) as u64;
        S3Fifo {
            lists: Lists::with_capacity(expected + expected * 9 / 10),
            small_capacity,
            main_capacity: capacity - small_capacity,
            ghost_capacity: (capacity as f64 * ghost) as u64,
            threshold,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let small = ctx.params.number("small")?;
        let ghost = ctx.params.number("ghost")?;
        let threshold = ctx.params.int("threshold")? as u8;
        Ok(Box::new(Self::new(
            ctx.capacity,
            small,
            ghost,
            threshold,
            ctx.expected_objects(),
        )))
    }

    fn bytes(&self, queue: u8) -> u64 {
        self.lists.bytes(queue as usize)
    }

    fn tail(&self, queue: u8) -> Option<u32> {
        self.lists.list(queue as usize).tail()
    }

    /// Moves small's tail `slot` into the ghost, or drops it when the ghost
    /// cannot hold it.
    fn retire(&mut self, slot: u32) {
        let size = self.lists.slab.node(slot).size as u64;
        if size > self.ghost_capacity {
            return self.lists.delete(slot);
        }
        while self.bytes(GHOST) + size > self.ghost_capacity {
            self.lists.delete_tail(GHOST as usize);
        }
        self.lists.relink(
            slot,
            Entry {
                queue: GHOST,
                freq: 0,
            },
        );
    }

    fn evict_small(&mut self) {
        while let Some(slot) = self.tail(SMALL) {
            if self.lists.slab.node(slot).data.freq >= self.threshold {
                self.lists.relink(
                    slot,
                    Entry {
                        queue: MAIN,
                        freq: 0,
                    },
                );
            } else {
                return self.retire(slot);
            }
        }
    }

    fn evict_main(&mut self) {
        while let Some(slot) = self.tail(MAIN) {
            let freq = self.lists.slab.node(slot).data.freq;
            if freq == 0 {
                return self.lists.delete(slot);
            }
            let freq = freq.min(3) - 1;
            self.lists.relink(slot, Entry { queue: MAIN, freq });
        }
    }

    fn evict(&mut self) {
        if self.bytes(MAIN) > self.main_capacity || self.tail(SMALL).is_none() {
            self.evict_main();
        } else {
            self.evict_small();
        }
    }
}

impl Policy for S3Fifo {
    type Store = Lists<Entry, 3, 2>;
    const RELINKS_ON_HIT: bool = false;

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
        let mut from_ghost = false;
        if let Some((slot, queue)) = self.lists.find(req.key) {
            if queue != GHOST as usize {
                let entry = &mut self.lists.slab.node_mut(slot).data;
                // Every reader caps the frequency at 3 (and thresholds are at
                // most 3), so stop counting there: hot entries then cost no
                // write per hit.
                if entry.freq < 3 {
                    entry.freq += 1;
                }
                return true;
            }
            self.lists.delete(slot);
            from_ghost = true;
        }
        let size = req.size as u64;
        if size > self.small_capacity || size > self.capacity {
            return false;
        }
        while self.lists.used() + size > self.capacity {
            self.evict();
        }
        // As in libCacheSim, an object exactly the small FIFO's size is
        // refused only after the eviction made room for it.
        if !from_ghost && size >= self.small_capacity {
            return false;
        }
        let queue = if from_ghost { MAIN } else { SMALL };
        self.lists
            .insert(req.key, req.size, Entry { queue, freq: 0 });
        false
    }
}
