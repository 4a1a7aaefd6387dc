//! GreedyDual-Size-Frequency (Cherkasova 1998), as libCacheSim's `GDSF`:
//! priority = L + frequency x 10^6 / size, where L is the priority of the
//! last evicted entry. The lowest priority is evicted; among equal
//! priorities, the one whose priority was set earliest (FIFO).

use super::heap::Heap;
use super::slab::Slab;
use super::{BoxedCache, Cache, registry::Ctx};
use crate::workload::Request;

/// (priority as ordered bits, sequence of the last update). Priorities are
/// positive finite floats, whose bit patterns sort like them.
type Rank = (u64, u64);

pub struct Gdsf {
    /// Node data: the entry's frequency.
    slab: Slab<u64>,
    order: Heap<Rank>,
    /// Priority of the last evicted entry.
    inflation: f64,
    /// Request counter for FIFO tie-breaks.
    seq: u64,
    used: u64,
    capacity: u64,
}

impl Gdsf {
    pub fn new(capacity: u64, expected_objects: usize) -> Self {
        Gdsf {
            slab: Slab::with_capacity(expected_objects),
            order: Heap::with_capacity(expected_objects),
            inflation: 0.0,
            seq: 0,
            used: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&[])?;
        Ok(Box::new(Self::new(ctx.capacity, ctx.expected_objects())))
    }

    fn rank(&self, freq: u64, size: u32) -> Rank {
        let pri = self.inflation + freq as f64 * 1.0e6 / size.max(1) as f64;
        (pri.to_bits(), self.seq)
    }

    fn evict(&mut self) {
        let (rank, slot) = self.order.pop().expect("evicting from an empty cache");
        self.inflation = f64::from_bits(rank.0);
        self.used -= self.slab.node(slot).size as u64;
        self.slab.remove(slot);
    }
}

impl Cache for Gdsf {
    fn access(&mut self, req: &Request) -> bool {
        self.seq += 1;
        if let Some(slot) = self.slab.find(req.key) {
            let node = self.slab.node_mut(slot);
            node.data += 1;
            let (freq, size) = (node.data, node.size);
            self.order.update(slot, self.rank(freq, size));
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.used + size > self.capacity {
            self.evict();
        }
        let slot = self.slab.insert(req.key, req.size, 1);
        self.order.push(slot, self.rank(1, req.size));
        self.used += size;
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        self.order.remove(slot);
        self.used -= self.slab.node(slot).size as u64;
        self.slab.remove(slot);
        true
    }

    fn len(&self) -> usize {
        self.slab.len()
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.order.heap_bytes()
    }
}
