//! Concurrency limit: at most `max` requests of a key in flight; a request
//! holds its slot from admission until it completes (in the service model).

use super::BoxedLimiter;
use super::registry::{LimiterCtx, REQUESTS};
use super::slots::{SlotLimit, Slotted};
use crate::error::ConfigError;
use crate::spec::Param;

pub const PARAMS: &[Param] = &[Param::new(
    "max",
    "20",
    REQUESTS,
    "requests of a key in flight at once",
)];

#[derive(Clone)]
pub struct Concurrency {
    max: u64,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    Ok(Box::new(Slotted::new(Concurrency {
        max: ctx.count("max")?,
    })))
}

impl SlotLimit for Concurrency {
    /// A fixed limit learns nothing.
    type Learned = ();

    fn fresh(&self) {}

    fn admits(&self, _: &(), in_flight: u64) -> bool {
        in_flight < self.max
    }
}
