//! FIFO, first in, first out: eviction takes the oldest insertion, and a
//! hit changes nothing. It is the single queue's default discipline.

use crate::cache::blocks::{Discipline, OneQueue};
use crate::cache::{BoxedCache, PolicyCtx};

/// The FIFO discipline.
pub struct Fifo;

impl Fifo {
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, String> {
        Ok(OneQueue::build_with(ctx, Fifo))
    }
}

impl Discipline for Fifo {
    type Data = ();
    const RELINKS_ON_HIT: bool = false;
}
