//! SIEVE (Zhang et al., NSDI'24): a FIFO queue with a visited bit per entry
//! and a hand. A hit only sets the bit. Eviction starts at the hand (or the
//! tail), clears set bits while moving towards the head (wrapping to the
//! tail), evicts the first unvisited entry and leaves the hand just before
//! it. New entries go to the head.

use crate::cache::blocks::Discipline;
use crate::cache::structures::{List, NIL, Slab};

/// The SIEVE discipline; entries carry their visited bit.
pub struct Sieve {
    /// Next eviction candidate; NIL means "start at the tail".
    hand: u32,
}

impl Default for Sieve {
    fn default() -> Self {
        Sieve { hand: NIL }
    }
}

impl Discipline for Sieve {
    type Data = bool;
    const RELINKS_ON_HIT: bool = false;

    #[inline]
    fn on_hit(&mut self, slab: &mut Slab<bool>, _: &mut List, slot: u32) {
        // Write only when the bit changes: popular entries stay clean in
        // the CPU cache instead of being written back on every hit.
        let visited = &mut slab.node_mut(slot).data;
        if !*visited {
            *visited = true;
        }
    }

    fn evict(&mut self, slab: &mut Slab<bool>, queue: &mut List) -> u32 {
        let tail = queue.tail().expect("evicting from an empty cache");
        let mut slot = if self.hand != NIL { self.hand } else { tail };
        while slab.node(slot).data {
            slab.node_mut(slot).data = false;
            slot = slab.prev(slot).unwrap_or(tail);
        }
        self.hand = slab.prev(slot).unwrap_or(NIL);
        slab.unlink(queue, slot);
        if self.hand != NIL {
            slab.prefetch_victim(self.hand);
        }
        slot
    }

    fn forget(&mut self, slab: &Slab<bool>, slot: u32) {
        if self.hand == slot {
            self.hand = slab.prev(slot).unwrap_or(NIL);
        }
    }
}
