//! SIEVE (Zhang et al., NSDI'24): a FIFO queue with a visited bit per entry
//! and a hand. A hit only sets the bit. Eviction starts at the hand (or the
//! tail), clears set bits while moving towards the head (wrapping to the
//! tail), evicts the first unvisited entry and leaves the hand just before
//! it. New entries go to the head.

use super::slab::{List, NIL, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

pub struct Sieve {
    slab: Slab<bool>,
    queue: List,
    /// Next eviction candidate; NIL means "start at the tail".
    hand: u32,
    capacity: u64,
}

impl Sieve {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Sieve {
            slab: Slab::with_capacity(expected_objects),
            queue: List::default(),
            hand: NIL,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    /// The entry towards the head from `slot`, wrapping to the tail.
    #[inline]
    fn towards_head(&self, slot: u32) -> u32 {
        self.slab
            .prev(slot)
            .or(self.queue.tail())
            .expect("non-empty queue")
    }

    fn evict(&mut self) {
        let mut slot = if self.hand != NIL {
            self.hand
        } else {
            self.queue.tail().expect("evicting from an empty cache")
        };
        while self.slab.node(slot).data {
            self.slab.node_mut(slot).data = false;
            slot = self.towards_head(slot);
        }
        self.hand = self.slab.prev(slot).unwrap_or(NIL);
        self.slab.unlink(&mut self.queue, slot);
        self.slab.remove(slot);
    }
}

impl Cache for Sieve {
    #[inline]
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            self.slab.node_mut(slot).data = true;
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.queue.bytes() + size > self.capacity {
            self.evict();
        }
        let slot = self.slab.insert(req.key, req.size, false);
        self.slab.push_front(&mut self.queue, slot);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        if self.hand == slot {
            self.hand = self.slab.prev(slot).unwrap_or(NIL);
        }
        self.slab.unlink(&mut self.queue, slot);
        self.slab.remove(slot);
        true
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn used(&self) -> u64 {
        self.queue.bytes()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }
}
