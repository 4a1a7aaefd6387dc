//! CLOCK with k-bit counters (libCacheSim's `Clock`, `n-bit-counter`): a FIFO
//! whose entries carry a counter that a hit raises (saturating at 2^k - 1).
//! Eviction looks at the tail: a non-zero counter is decremented and the
//! entry goes back to the head; the first entry found at zero is evicted.
//! With one bit this is second chance (FIFO-Reinsertion).

use crate::cache::blocks::{Discipline, OneQueue};
use crate::cache::structures::{List, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;

/// The CLOCK discipline; entries carry their counter.
pub struct Clock {
    max_count: u8,
}

impl Clock {
    /// Counters of `bits` bits (1..=8).
    pub fn new(bits: u32) -> Self {
        Clock {
            max_count: ((1u32 << bits) - 1) as u8,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let bits = ctx.params.int("bits")? as u32;
        Ok(OneQueue::build_with(ctx, Clock::new(bits)))
    }
}

impl Discipline for Clock {
    type Data = u8;
    const RELINKS_ON_HIT: bool = false;

    #[inline]
    fn on_hit(&mut self, slab: &mut Slab<u8>, _: &mut List, slot: u32) {
        let count = &mut slab.node_mut(slot).data;
        *count = (*count + 1).min(self.max_count);
    }

    fn evict(&mut self, slab: &mut Slab<u8>, queue: &mut List) -> u32 {
        loop {
            let tail = queue.tail().expect("evicting from an empty cache");
            let count = &mut slab.node_mut(tail).data;
            if *count == 0 {
                slab.unlink(queue, tail);
                return tail;
            }
            *count -= 1;
            slab.move_to_front(queue, tail);
        }
    }
}
