//! Hyperbolic caching (Blankstein et al., ATC'17), as libCacheSim's
//! `Hyperbolic`: an entry's priority is its hit count (1 on insertion)
//! divided by the requests since it was inserted; eviction samples `samples`
//! cached entries uniformly (with replacement, from the run's
//! `"hyperbolic-sampling"` stream) and evicts the one with the lowest
//! priority (the first sampled among equals).

use rand::distr::{Distribution, Uniform};

use crate::cache::blocks::{Sampled, Sampler};
use crate::cache::structures::prefetch_line;
use crate::cache::structures::room::{self, initial};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::engine::{RngStream, stream};
use crate::error::ConfigError;

/// Samples drawn (and their state prefetched) before any is scored.
const GROUP: usize = 32;

/// The hyperbolic sampler; keeps each slot's hit count and insertion time.
pub struct Hyperbolic {
    /// Per slot: (hit count, request number at insertion).
    state: Vec<(u32, u64)>,
    /// Objects the cache was made for.
    planned: usize,
    rng: RngStream,
    samples: u32,
    /// Requests seen.
    clock: u64,
}

impl Hyperbolic {
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let samples = ctx.params.int("samples")? as u32;
        let sampler = Hyperbolic {
            state: Vec::with_capacity(initial(ctx.expected_objects())),
            planned: ctx.expected_objects(),
            rng: stream(ctx.seed, "hyperbolic-sampling"),
            samples,
            clock: 0,
        };
        Ok(Sampled::build_with(ctx, sampler))
    }
}

impl Sampler for Hyperbolic {
    fn tick(&mut self) {
        self.clock += 1;
    }

    fn hit(&mut self, slot: u32) {
        self.state[slot as usize].0 += 1;
    }

    fn inserted(&mut self, slot: u32) {
        let slot = slot as usize;
        if slot >= self.state.len() {
            room::resize(&mut self.state, slot + 1, (0, 0), self.planned);
        }
        self.state[slot] = (1, self.clock);
    }

    fn victim(&mut self, slots: &[u32]) -> u32 {
        // One distribution for all the samples: its setup is paid once.
        let pick = Uniform::new(0, slots.len()).expect("victim() gets cached slots");
        let mut best = (f64::INFINITY, u32::MAX);
        // Drawn a group at a time, each sample's state prefetched, then
        // scored in the order drawn: the group's cache misses overlap.
        let mut group = [0u32; GROUP];
        let mut left = self.samples as usize;
        while left > 0 {
            let drawn = &mut group[..left.min(GROUP)];
            for slot in drawn.iter_mut() {
                *slot = slots[pick.sample(&mut self.rng)];
                prefetch_line(&self.state[*slot as usize]);
            }
            for &slot in drawn.iter() {
                let (hits, since) = self.state[slot as usize];
                let score = hits as f64 / (self.clock - since) as f64;
                if score < best.0 {
                    best = (score, slot);
                }
            }
            left -= drawn.len();
        }
        best.1
    }

    fn heap_bytes(&self) -> usize {
        self.state.capacity() * std::mem::size_of::<(u32, u64)>()
    }
}
