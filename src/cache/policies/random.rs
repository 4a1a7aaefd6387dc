//! Random eviction: evicts a uniformly chosen cached object. The generator
//! is the run's `"random-eviction"` stream, so runs are reproducible.

use rand::RngExt;

use crate::cache::blocks::{Sampled, Sampler};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::engine::{RngStream, stream};
use crate::error::ConfigError;

/// The random sampler: one uniform pick.
pub struct Random {
    rng: RngStream,
}

impl Random {
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let rng = stream(ctx.seed, "random-eviction");
        Ok(Sampled::build_with(ctx, Random { rng }))
    }
}

impl Sampler for Random {
    fn victim(&mut self, slots: &[u32]) -> u32 {
        slots[self.rng.random_range(0..slots.len())]
    }

    /// The next draw, from a copy of the generator: right whenever the
    /// number of cached slots is the same at the next eviction.
    fn next_victim(&self, slots: &[u32]) -> Option<u32> {
        Some(slots[self.rng.clone().random_range(0..slots.len())])
    }
}
