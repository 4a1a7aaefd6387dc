//! CLOCK with k-bit counters (libCacheSim's `Clock`, `n-bit-counter`): a FIFO
//! whose entries carry a counter that a hit raises (saturating at 2^k - 1).
//! Eviction looks at the tail: a non-zero counter is decremented and the
//! entry goes back to the head; the first entry found at zero is evicted.
//! With one bit this is second chance (FIFO-Reinsertion).

use super::slab::{List, Slab};
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

pub struct Clock {
    slab: Slab<u8>,
    queue: List,
    capacity: u64,
    max_count: u8,
}

impl Clock {
    /// A CLOCK of `capacity` units whose counters have `bits` bits (1..=8).
    pub fn new(capacity: u64, bits: u32, expected_objects: usize) -> Self {
        Clock {
            slab: Slab::with_capacity(expected_objects),
            queue: List::default(),
            capacity,
            max_count: ((1u32 << bits) - 1) as u8,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&["bits"])?;
        let bits = ctx.params.int_in("bits", 1, 1, 8)?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            bits,
            ctx.expected_objects(),
        )))
    }

    fn evict(&mut self) {
        loop {
            let tail = self.queue.tail().expect("evicting from an empty cache");
            let count = &mut self.slab.node_mut(tail).data;
            if *count == 0 {
                self.slab.unlink(&mut self.queue, tail);
                self.slab.remove(tail);
                return;
            }
            *count -= 1;
            self.slab.move_to_front(&mut self.queue, tail);
        }
    }
}

impl Cache for Clock {
    #[inline]
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let count = &mut self.slab.node_mut(slot).data;
            *count = (*count + 1).min(self.max_count);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.queue.bytes() + size > self.capacity {
            self.evict();
        }
        let slot = self.slab.insert(req.key, req.size, 0);
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
