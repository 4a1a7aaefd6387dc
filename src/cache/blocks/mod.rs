//! The building blocks policies are made of: each is a whole cache but for
//! one decision, which a policy supplies as a small trait.
//!
//! - [`OneQueue`] and a [`Discipline`]: one list, inserting at the head; the
//!   discipline says what a hit does and which entry goes (FIFO, LRU, CLOCK,
//!   SIEVE).
//! - [`Ranked`] and a [`Rule`]: entries in a min-heap of ranks; the rule
//!   ranks them and the lowest goes (LFU-DA, GDSF, Belady).
//! - [`Sampled`] and a [`Sampler`]: entries in a dense array; the sampler
//!   picks the victim (Random, Hyperbolic).
//! - [`Lists`] and a [`ListsPolicy`]: several lists over one slab, some of
//!   them ghosts; the policy decides everything about an access and the
//!   lists answer the rest (ARC, 2Q, S3-FIFO, W-TinyLFU).
//!
//! A policy that fits none (SLRU, LFU, LIRS) implements
//! [`Cache`](super::Cache) itself on a [`Slab`](super::structures::Slab).

mod lists;
mod priority;
mod queue;
mod sampled;

pub use lists::{InList, ListStore, Lists, ListsPolicy};
pub use priority::{Ranked, Rule};
pub use queue::{Discipline, OneQueue};
pub use sampled::{Sampled, Sampler};
