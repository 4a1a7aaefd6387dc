//! LRU, least recently used: a hit moves the entry to the head of the
//! queue, and eviction takes the tail.

use crate::cache::blocks::Discipline;
use crate::cache::structures::{List, Slab};

/// The LRU discipline.
#[derive(Default)]
pub struct Lru;

impl Discipline for Lru {
    type Data = ();
    const RELINKS_ON_HIT: bool = true;

    #[inline]
    fn on_hit(&mut self, slab: &mut Slab<()>, queue: &mut List, slot: u32) {
        slab.move_to_front(queue, slot);
    }
}
