//! FIFO, first in, first out: eviction takes the oldest insertion, and a
//! hit changes nothing. It is the single queue's default discipline.

use crate::cache::blocks::Discipline;

/// The FIFO discipline.
#[derive(Default)]
pub struct Fifo;

impl Discipline for Fifo {
    type Data = ();
    const RELINKS_ON_HIT: bool = false;
}
