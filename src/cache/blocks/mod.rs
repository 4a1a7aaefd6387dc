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
//! - [`Queues`] and its [`Moves`]: several lists over one slab ([`Lists`]),
//!   some of them ghosts; the moves say where a request sends entries (ARC,
//!   2Q, S3-FIFO, W-TinyLFU).
//!
//! Each of them, and each policy written on a bare
//! [`Slab`](super::structures::Slab) (SLRU, LFU), implements [`Policy`]
//! rather than [`Cache`](super::Cache): it says where its entries are kept
//! (its [`Store`]) and makes the decisions, and the store answers the rest.
//! LIRS, whose three stacks each have their own index, implements `Cache`.

mod lists;
mod policy;
mod priority;
mod queue;
mod sampled;

pub use lists::{InList, Lists, Moves, Queues};
pub use policy::{Policy, Store};
pub use priority::{Ranked, Rule};
pub use queue::{Discipline, OneQueue};
pub use sampled::{Sampled, Sampler};
