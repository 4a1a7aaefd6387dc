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

use crate::cache::blocks::{InList, Lists, Moves, Queues};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

/// Index of each queue in the lists.
const SMALL: u8 = 0;
const MAIN: u8 = 1;
const GHOST: u8 = 2;

/// An entry's queue and access frequency (public only as part of the
/// policy's [`Moves::Entry`] type).
#[derive(Clone, Copy)]
pub struct Entry {
    queue: u8,
    freq: u8,
}

impl InList for Entry {
    #[inline]
    fn list(&self) -> u8 {
        self.queue
    }
}

/// S3-FIFO's moves over the small and main (cached) and ghost FIFOs, named
/// [`SMALL`], [`MAIN`], [`GHOST`].
pub struct S3Fifo {
    small_capacity: u64,
    main_capacity: u64,
    ghost_capacity: u64,
    threshold: u8,
}

impl S3Fifo {
    /// `small` and `ghost` are fractions of `capacity`; `threshold` the
    /// frequency at which small's tail moves to main.
    pub fn new(capacity: u64, small: f64, ghost: f64, threshold: u8) -> Self {
        let small_capacity = (capacity as f64 * small) as u64;
        S3Fifo {
            small_capacity,
            main_capacity: capacity - small_capacity,
            ghost_capacity: (capacity as f64 * ghost) as u64,
            threshold,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let small = ctx.params.number("small")?;
        let ghost = ctx.params.number("ghost")?;
        let threshold = ctx.params.int("threshold")? as u8;
        let expected = ctx.expected_objects();
        let moves = Self::new(ctx.capacity, small, ghost, threshold);
        Ok(Queues::build_with(ctx, moves, expected + expected * 9 / 10))
    }

    /// Moves small's tail `slot` into the ghost, or drops it when the ghost
    /// cannot hold it.
    fn retire(&self, lists: &mut Lists<Self>, slot: u32) {
        let size = lists.size(slot);
        if size > self.ghost_capacity {
            return lists.delete(slot);
        }
        while lists.bytes(GHOST) + size > self.ghost_capacity {
            lists.delete_tail(GHOST);
        }
        lists.relink(
            slot,
            Entry {
                queue: GHOST,
                freq: 0,
            },
        );
    }

    fn evict_small(&self, lists: &mut Lists<Self>) {
        while let Some(slot) = lists.tail(SMALL) {
            if lists.slab.node(slot).data.freq >= self.threshold {
                lists.relink(
                    slot,
                    Entry {
                        queue: MAIN,
                        freq: 0,
                    },
                );
            } else {
                return self.retire(lists, slot);
            }
        }
    }

    fn evict_main(lists: &mut Lists<Self>) {
        while let Some(slot) = lists.tail(MAIN) {
            let freq = lists.slab.node(slot).data.freq;
            if freq == 0 {
                return lists.delete(slot);
            }
            let freq = freq.min(3) - 1;
            lists.relink(slot, Entry { queue: MAIN, freq });
        }
    }

    fn evict(&self, lists: &mut Lists<Self>) {
        if lists.bytes(MAIN) > self.main_capacity || lists.is_empty(SMALL) {
            Self::evict_main(lists);
        } else {
            self.evict_small(lists);
        }
    }
}

impl Moves for S3Fifo {
    type Entry = Entry;
    const CACHED: u8 = 2;
    const RELINKS_ON_HIT: bool = false;

    #[inline]
    fn lookup(&mut self, lists: &mut Lists<Self>, req: &Request) -> bool {
        let mut from_ghost = false;
        if let Some((slot, queue)) = lists.find(req.key) {
            if queue != GHOST {
                let entry = &mut lists.slab.node_mut(slot).data;
                // Every reader caps the frequency at 3 (and thresholds are at
                // most 3), so stop counting there: hot entries then cost no
                // write per hit.
                if entry.freq < 3 {
                    entry.freq += 1;
                }
                return true;
            }
            lists.delete(slot);
            from_ghost = true;
        }
        let size = req.size as u64;
        if size > self.small_capacity || size > lists.capacity() {
            return false;
        }
        while lists.used() + size > lists.capacity() {
            self.evict(lists);
        }
        // As in libCacheSim, an object exactly the small FIFO's size is
        // refused only after the eviction made room for it.
        if !from_ghost && size >= self.small_capacity {
            return false;
        }
        let queue = if from_ghost { MAIN } else { SMALL };
        lists.insert(req.key, req.size, Entry { queue, freq: 0 });
        false
    }
}
