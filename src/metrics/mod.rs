//! Counters the models fill and the reports read. Metrics depend on no
//! model, so that every model can fill them: the cache counts its
//! [`CacheStats`], the limiter its [`Accuracy`], and the service tallies
//! the limiter's and the topology's figures from a pass's outcome.

mod limits;
pub mod service;
pub mod topology;

pub use limits::{Accuracy, LimitStats};

use serde::{Deserialize, Serialize};

/// Outcome counts of a cache replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    pub requests: u64,
    pub hits: u64,
    /// Misses on an entry that was cached but past its TTL (included in misses).
    pub expired: u64,
    pub bytes: u64,
    pub hit_bytes: u64,
}

impl CacheStats {
    #[inline]
    pub fn record(&mut self, size: u32, hit: bool, expired: bool) {
        self.requests += 1;
        self.bytes += size as u64;
        self.hits += hit as u64;
        self.hit_bytes += if hit { size as u64 } else { 0 };
        self.expired += expired as u64;
    }

    /// Adds `other`'s counts (of another cache) to these.
    pub fn add(&mut self, other: &CacheStats) {
        self.requests += other.requests;
        self.hits += other.hits;
        self.expired += other.expired;
        self.bytes += other.bytes;
        self.hit_bytes += other.hit_bytes;
    }

    /// What was counted after `earlier`, a snapshot of these counts.
    pub fn since(&self, earlier: &CacheStats) -> CacheStats {
        CacheStats {
            requests: self.requests - earlier.requests,
            hits: self.hits - earlier.hits,
            expired: self.expired - earlier.expired,
            bytes: self.bytes - earlier.bytes,
            hit_bytes: self.hit_bytes - earlier.hit_bytes,
        }
    }

    pub fn misses(&self) -> u64 {
        self.requests - self.hits
    }

    pub fn byte_misses(&self) -> u64 {
        self.bytes - self.hit_bytes
    }

    pub fn hit_ratio(&self) -> f64 {
        ratio(self.hits, self.requests)
    }

    pub fn byte_hit_ratio(&self) -> f64 {
        ratio(self.hit_bytes, self.bytes)
    }

    pub fn miss_ratio(&self) -> f64 {
        ratio(self.misses(), self.requests)
    }

    pub fn byte_miss_ratio(&self) -> f64 {
        ratio(self.byte_misses(), self.bytes)
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
