//! What a run over many locations measured, per location and per tier.

use serde::{Deserialize, Serialize};

use super::CacheStats;
use super::service::Latency;

/// Per location, per upper tier, and at the origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopologyStats {
    /// One per location, in the topology's order.
    pub locations: Vec<SiteStats>,
    /// One per upper tier (one shared, or one per region); empty when flat.
    pub upper: Vec<SiteStats>,
    /// Fetches that reached the origin, and the bytes they brought.
    pub origin_requests: u64,
    pub origin_bytes: u64,
    /// Answered, non-denied requests by where they were served.
    pub served: ServedLatency,
    /// Clients that sent from more than one location, when a rate limiter
    /// with a rate decided: the limit they got against the configured one.
    pub spread: Option<SpreadStats>,
}

/// One location or upper tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteStats {
    pub name: String,
    /// Requests that reached it: a location's from its clients (denied
    /// ones included), an upper tier's from its locations.
    pub requests: u64,
    /// Its cache's lookups (all zero without a cache).
    pub cache: CacheStats,
    /// Fetches it sent on (to its upper tier or the origin) and their bytes.
    pub forwarded: u64,
    pub forwarded_bytes: u64,
    /// A location: its clients' answered, non-denied requests. An upper
    /// tier: empty.
    pub latency: Latency,
}

/// Latency of answered, non-denied requests by where they were served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ServedLatency {
    /// A location's cache.
    pub edge: Latency,
    /// An upper tier's cache.
    pub upper: Latency,
    /// The origin (waiting for another request's fetch included).
    pub origin: Latency,
}

/// The limit clients got when they sent from several locations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SpreadStats {
    /// Clients seen at more than one location.
    pub clients: u64,
    /// Locations each of them used, on average.
    pub locations_mean: f64,
    /// The limiter's rate per key, per second.
    pub configured_rps: f64,
    /// Their admitted requests per second of their sending span, averaged.
    pub effective_rps: f64,
    /// `effective_rps / configured_rps`: 1 when the limit held, k when k
    /// locations each gave the whole limit.
    pub multiple: f64,
}

/// Totals over sites (a tier).
pub fn tier_total(sites: &[SiteStats]) -> SiteStats {
    let mut total = SiteStats::default();
    for s in sites {
        total.requests += s.requests;
        total.cache.add(&s.cache);
        total.forwarded += s.forwarded;
        total.forwarded_bytes += s.forwarded_bytes;
    }
    total
}
