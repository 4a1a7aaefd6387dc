//! What a run over many locations measured, per location and per tier.

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::CacheStats;
use super::service::{Latency, Served};
use crate::engine::{SECOND, SimTime};
use crate::service::Outcome;
use crate::topology::Layout;
use crate::workload::Request;

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

impl TopologyStats {
    /// What `outcome` says per site of `layout` (`requests` are the ones it
    /// describes; `rate` is the limiter's per key, when it has one). The
    /// sites' cache figures are left at zero for the caller, who holds the
    /// caches.
    pub fn of(layout: &Layout, outcome: &Outcome, requests: &[Request], rate: Option<f64>) -> Self {
        let location = |i: usize| outcome.locations.get(i).map_or(0, |&l| l as usize);
        let mut latencies = vec![Vec::new(); layout.locations()];
        for (i, f) in outcome.fates.iter().enumerate() {
            latencies[location(i)].push(f);
        }
        let site = |name: &String, s: usize| SiteStats {
            name: name.clone(),
            requests: outcome.sites[s].requests,
            cache: CacheStats::default(),
            forwarded: outcome.sites[s].forwarded,
            forwarded_bytes: outcome.sites[s].forwarded_bytes,
            latency: Latency::default(),
        };
        let locations = layout
            .names
            .iter()
            .zip(latencies)
            .enumerate()
            .map(|(l, (name, fates))| SiteStats {
                latency: Latency::of_fates(fates),
                ..site(name, l)
            })
            .collect();
        let upper = (layout.upper_names.iter().enumerate())
            .map(|(u, name)| site(name, layout.locations() + u))
            .collect();
        let served = |kinds: &[Served]| {
            Latency::of_fates(outcome.fates.iter().filter(|f| kinds.contains(&f.served)))
        };
        TopologyStats {
            locations,
            upper,
            origin_requests: outcome.looped.origin_requests,
            origin_bytes: outcome.origin_bytes,
            served: ServedLatency {
                edge: served(&[Served::Cache]),
                upper: served(&[Served::Upper]),
                origin: served(&[Served::Origin, Served::Coalesced]),
            },
            spread: rate
                .filter(|_| !outcome.decisions.is_empty())
                .and_then(|rate| spread(outcome, requests, location, rate)),
        }
    }
}

/// The limit that clients seen at more than one location got.
fn spread(
    outcome: &Outcome,
    requests: &[Request],
    location: impl Fn(usize) -> usize,
    rate: f64,
) -> Option<SpreadStats> {
    #[derive(Default)]
    struct Client {
        first: SimTime,
        last: SimTime,
        admitted: u64,
        locations: Vec<usize>,
    }
    let mut clients: HashMap<u32, Client, FixedState> = HashMap::default();
    for (i, (req, fate)) in requests.iter().zip(&outcome.fates).enumerate() {
        let c = clients.entry(req.client).or_insert_with(|| Client {
            first: fate.sent,
            ..Client::default()
        });
        c.last = fate.sent;
        c.admitted += outcome.decisions[i].admitted() as u64;
        let l = location(i);
        if !c.locations.contains(&l) {
            c.locations.push(l);
        }
    }
    // In client order, so that the sums do not depend on the hash map's.
    let mut spread: Vec<(u32, &Client)> = clients
        .iter()
        .filter(|(_, c)| c.locations.len() > 1 && c.last > c.first)
        .map(|(&id, c)| (id, c))
        .collect();
    if spread.is_empty() {
        return None;
    }
    spread.sort_unstable_by_key(|(id, _)| *id);
    let n = spread.len() as f64;
    let effective = spread
        .iter()
        .map(|(_, c)| c.admitted as f64 * SECOND as f64 / (c.last - c.first) as f64)
        .sum::<f64>()
        / n;
    Some(SpreadStats {
        clients: spread.len() as u64,
        locations_mean: spread
            .iter()
            .map(|(_, c)| c.locations.len() as f64)
            .sum::<f64>()
            / n,
        configured_rps: rate,
        effective_rps: effective,
        multiple: effective / rate,
    })
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
