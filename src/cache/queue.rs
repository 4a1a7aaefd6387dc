//! LRU and FIFO: one queue, evicted from the tail. LRU moves a hit to the
//! head; FIFO leaves it where it is. They differ in that one line, so they
//! share this file.

use super::slab::{List, Slab};
use super::{Cache, registry::Ctx};
use crate::workload::Request;

/// A queue cache; `PROMOTE` selects LRU (move to head on hit) or FIFO.
pub struct Queue<const PROMOTE: bool> {
    slab: Slab<()>,
    queue: List,
    capacity: u64,
}

pub type Lru = Queue<true>;
pub type Fifo = Queue<false>;

impl<const PROMOTE: bool> Queue<PROMOTE> {
    /// A queue of `capacity` units, room reserved for `expected_objects`.
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Queue {
            slab: Slab::with_capacity(expected_objects),
            queue: List::default(),
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<super::BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }
}

impl<const PROMOTE: bool> Cache for Queue<PROMOTE> {
    #[inline]
    fn access(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            if PROMOTE {
                self.slab.move_to_front(&mut self.queue, slot);
            }
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.queue.bytes() + size > self.capacity {
            let victim = self.slab.pop_back(&mut self.queue).expect("non-empty");
            self.slab.remove(victim);
        }
        let slot = self.slab.insert(req.key, req.size, ());
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
