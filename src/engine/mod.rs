//! The deterministic core shared by every model: simulated time, the event
//! queue and the random-number streams.

mod queue;
mod rng;

pub use queue::EventQueue;
pub use rng::{RngStream, derive_seed, fnv1a, mix64, stream};

/// Simulated time in nanoseconds since the start of a run.
pub type SimTime = u64;

/// Nanoseconds in one second, for converting rates and durations.
pub const SECOND: SimTime = 1_000_000_000;

/// The latest time a request may be sent: 2^62 ns, in the year 2116 as a
/// Unix time. Past it, times plus windows, latencies and TTLs could wrap
/// the 64-bit clock; readers and generators refuse such times instead.
pub const LATEST: SimTime = 1 << 62;
