//! Request sources: the compact request record every model consumes, the
//! synthetic generators and the trace readers.

pub mod arrivals;
pub mod clients;
pub mod synthetic;
pub mod trace;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::engine::{LATEST, SimTime};
use crate::error::ConfigError;

/// `next_access` of a request whose key is never requested again.
pub const NEVER: u64 = u64::MAX;

/// One request, as compact as the models allow: the trace-replay hot path
/// streams millions of these, so every field earns its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request {
    /// Arrival time in simulated nanoseconds.
    pub time: SimTime,
    /// Object identity (strings in traces are hashed to this).
    pub key: u64,
    /// Index of the next request for the same key, or [`NEVER`]; only offline
    /// policies (Belady) read it.
    pub next_access: u64,
    /// Object size in bytes.
    pub size: u32,
    /// Time to live in milliseconds; 0 means the object never expires.
    pub ttl_ms: u32,
    /// Client identity, for rate limiting.
    pub client: u32,
    /// Service tier of the client: 0 standard, 1 premium (limiters may give
    /// premium clients a multiple of the limit).
    pub tier: u8,
    /// Index of the request's route in its workload's route list (0 when it
    /// declares none).
    pub route: u8,
    /// Ground truth that only metrics see (never the policies under test).
    pub label: Label,
}

/// What the traffic generator knows about a request's sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Label {
    #[default]
    Legit,
    Abusive,
}

/// An empty vector with room for `n` items, or a message saying that `n`
/// `what` cannot be held in memory (instead of an abort on a failed
/// allocation).
pub(crate) fn with_room<T>(n: u64, what: &str) -> Result<Vec<T>, ConfigError> {
    let mut items = Vec::new();
    usize::try_from(n)
        .ok()
        .and_then(|n| items.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            let bytes = n.saturating_mul(std::mem::size_of::<T>() as u64);
            format!(
                "{n} {what} need {} of memory, more than this machine can give; use fewer",
                crate::units::format_bytes(bytes)
            )
        })?;
    Ok(items)
}

/// `time`, the send time of generated request number `n` (from 1), unless
/// it is past the simulated clock's range (a tiny rate over many requests).
pub(crate) fn within_clock(time: SimTime, n: usize) -> Result<SimTime, ConfigError> {
    if time >= LATEST {
        return Err(format!(
            "request {n} would be sent after 2^62 ns (146 years), past the simulated clock's range: raise the rate or send fewer requests"
        ).into());
    }
    Ok(time)
}

/// Fills `next_access` of every request: the index of the next request for
/// the same key, or [`NEVER`].
pub fn annotate_next_access(requests: &mut [Request]) {
    let mut next = NextAccesses::default();
    for (i, req) in requests.iter_mut().enumerate().rev() {
        req.next_access = next.before(i as u64, req.key);
    }
}

/// Next-access positions found walking a trace backwards: one entry per
/// distinct key, whatever the trace's length.
#[derive(Default)]
pub struct NextAccesses(HashMap<u64, u64, foldhash::fast::FixedState>);

impl NextAccesses {
    /// The next access of request `index` for `key`, given every later
    /// request has been seen.
    pub fn before(&mut self, index: u64, key: u64) -> u64 {
        self.0.insert(key, index).unwrap_or(NEVER)
    }
}

/// The distinct objects of a trace: their count and total size (each object
/// counted once, at its last seen size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkingSet {
    pub objects: u64,
    pub bytes: u64,
}

impl WorkingSet {
    pub fn of(requests: &[Request]) -> Self {
        let mut tally = WorkingSetTally::default();
        tally.add(requests);
        tally.finish()
    }
}

/// A [`WorkingSet`] counted batch by batch: one entry per distinct key.
#[derive(Default)]
pub struct WorkingSetTally(HashMap<u64, u32, foldhash::fast::FixedState>);

impl WorkingSetTally {
    pub fn add(&mut self, requests: &[Request]) {
        for req in requests {
            self.0.insert(req.key, req.size);
        }
    }

    pub fn finish(self) -> WorkingSet {
        WorkingSet {
            objects: self.0.len() as u64,
            bytes: self.0.values().map(|&s| s as u64).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[u64]) -> Vec<Request> {
        ks.iter()
            .map(|&key| Request {
                key,
                size: 10,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn next_access_points_at_the_following_request_of_the_same_key() {
        let mut reqs = keys(&[1, 2, 1, 3, 2, 1]);
        annotate_next_access(&mut reqs);
        let next: Vec<u64> = reqs.iter().map(|r| r.next_access).collect();
        assert_eq!(next, [2, 4, 5, NEVER, NEVER, NEVER]);
    }

    #[test]
    fn working_set_counts_each_object_once() {
        let ws = WorkingSet::of(&keys(&[1, 2, 1, 3, 2, 1]));
        assert_eq!(
            ws,
            WorkingSet {
                objects: 3,
                bytes: 30
            }
        );
    }
}
