//! Hyperbolic caching (Blankstein et al., ATC'17), as libCacheSim's
//! `Hyperbolic`: an entry's priority is its hit count (1 on insertion)
//! divided by the requests since it was inserted; eviction samples `samples`
//! cached entries uniformly (with replacement, from the run's
//! `"hyperbolic-sampling"` stream) and evicts the one with the lowest
//! priority (the first sampled among equals).

use rand::RngExt;

use super::random::Dense;
use super::{BoxedCache, Cache, registry::Ctx};
use crate::engine::{RngStream, stream};
use crate::workload::Request;

pub struct Hyperbolic {
    dense: Dense,
    /// Per slot: (hit count, request number at insertion).
    state: Vec<(u32, u64)>,
    rng: RngStream,
    samples: u32,
    /// Requests seen.
    clock: u64,
    capacity: u64,
}

impl Hyperbolic {
    pub fn new(capacity: u64, samples: u32, seed: u64, expected_objects: usize) -> Self {
        Hyperbolic {
            dense: Dense::with_capacity(expected_objects),
            state: Vec::with_capacity(expected_objects),
            rng: stream(seed, "hyperbolic-sampling"),
            samples,
            clock: 0,
            capacity,
        }
    }

    pub(super) fn build(ctx: &mut Ctx) -> Result<BoxedCache, String> {
        ctx.params.allow(&["samples"])?;
        let samples = ctx.params.int_in("samples", 64, 1, 1024)?;
        Ok(Box::new(Self::new(
            ctx.capacity,
            samples,
            ctx.seed,
            ctx.expected_objects(),
        )))
    }

    fn evict(&mut self) {
        let mut best = (f64::INFINITY, u32::MAX);
        for _ in 0..self.samples {
            let i = self.rng.random_range(0..self.dense.slots.len());
            let slot = self.dense.slots[i];
            let (hits, since) = self.state[slot as usize];
            let score = hits as f64 / (self.clock - since) as f64;
            if score < best.0 {
                best = (score, slot);
            }
        }
        self.dense.remove(best.1);
    }
}

impl Cache for Hyperbolic {
    fn access(&mut self, req: &Request) -> bool {
        self.clock += 1;
        if let Some(slot) = self.dense.slab.find(req.key) {
            self.state[slot as usize].0 += 1;
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.dense.used + size > self.capacity {
            self.evict();
        }
        let slot = self.dense.insert(req.key, req.size) as usize;
        if slot >= self.state.len() {
            self.state.resize(slot + 1, (0, 0));
        }
        self.state[slot] = (1, self.clock);
        false
    }

    fn contains(&self, key: u64) -> bool {
        self.dense.slab.find(key).is_some()
    }

    fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.dense.slab.find(key) else {
            return false;
        };
        self.dense.remove(slot);
        true
    }

    fn len(&self) -> usize {
        self.dense.slots.len()
    }

    fn used(&self) -> u64 {
        self.dense.used
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn heap_bytes(&self) -> usize {
        self.dense.heap_bytes() + self.state.capacity() * std::mem::size_of::<(u32, u64)>()
    }
}
