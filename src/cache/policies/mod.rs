//! The eviction policies, one file each, named as the registry names them.
//! Each says in its `//!` whose implementation it matches and how; most are
//! a few lines on a building block ([`super::blocks`]).

mod arc;
mod belady;
mod clock;
mod fifo;
mod gdsf;
mod hyperbolic;
mod lfu;
mod lfuda;
mod lirs;
mod lru;
mod random;
mod s3fifo;
mod sieve;
mod slru;
mod twoq;
mod wtinylfu;

pub(super) use arc::Arc;
pub(super) use belady::Belady;
pub(super) use clock::Clock;
pub(super) use fifo::Fifo;
pub(super) use gdsf::Gdsf;
pub(super) use hyperbolic::Hyperbolic;
pub(super) use lfu::Lfu;
pub(super) use lfuda::LfuDa;
pub(super) use lirs::Lirs;
pub(super) use lru::Lru;
pub(super) use random::Random;
pub(super) use s3fifo::S3Fifo;
pub(super) use sieve::Sieve;
pub(super) use slru::Slru;
pub(super) use twoq::TwoQ;
pub(super) use wtinylfu::WTinyLfu;
