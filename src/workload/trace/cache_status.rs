//! The real cache's verdict on each request, when a log records it: counted
//! while reading (never kept per request) into the observed hit ratio that
//! reports set beside the simulated ones.
//!
//! Values, case-insensitive: Cloudflare's `CacheCacheStatus` (Logpush:
//! unknown, miss, expired, updating, stale, hit, ignored, bypass,
//! revalidated, dynamic, stream_hit, deferred; the `CF-Cache-Status` header
//! also writes `none/unknown`) and nginx's `$upstream_cache_status` (MISS,
//! BYPASS, EXPIRED, STALE, UPDATING, REVALIDATED, HIT; empty or `-` when the
//! request did not go through the cache).
//!
//! - Hits, served from the cache: hit, stream_hit, stale and updating (an
//!   expired copy served while the origin fails or is being asked), and
//!   revalidated (the cached body, confirmed by a 304 from the origin).
//! - Misses, fetched from the origin although cacheable: miss, expired.
//! - Left out, as the real cache never considered them: dynamic, bypass,
//!   none, unknown, none/unknown, ignored, deferred, empty and `-`.

use serde::{Deserialize, Serialize};

/// Hits among the requests the real cache considered (hits and misses;
/// requests it left out are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub requests: u64,
    pub hits: u64,
}

impl Observed {
    pub fn hit_ratio(&self) -> f64 {
        crate::metrics::ratio(self.hits, self.requests)
    }

    /// Counts one request of status `status`.
    #[inline]
    pub(super) fn add(&mut self, status: Status) {
        self.requests += (status != Status::LeftOut) as u64;
        self.hits += (status == Status::Hit) as u64;
    }
}

/// How a status value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Hit,
    Miss,
    LeftOut,
}

const HITS: &[&[u8]] = &[b"hit", b"stale", b"updating", b"revalidated", b"stream_hit"];
const MISSES: &[&[u8]] = &[b"miss", b"expired"];
const LEFT_OUT: &[&[u8]] = &[
    b"",
    b"-",
    b"dynamic",
    b"bypass",
    b"none",
    b"unknown",
    b"none/unknown",
    b"ignored",
    b"deferred",
];

/// What the status `text` counts as; None for a value neither Cloudflare
/// nor nginx writes.
#[inline]
pub(super) fn classify(text: &[u8]) -> Option<Status> {
    let text = text.trim_ascii();
    let is = |list: &[&[u8]]| list.iter().any(|v| v.eq_ignore_ascii_case(text));
    if is(HITS) {
        Some(Status::Hit)
    } else if is(MISSES) {
        Some(Status::Miss)
    } else if is(LEFT_OUT) {
        Some(Status::LeftOut)
    } else {
        None
    }
}

/// What a status field may hold, for messages.
pub(super) fn expected() -> String {
    "a cache status: hit, stale, updating, revalidated, stream_hit (hits), miss, expired \
     (misses) or dynamic, bypass, none, unknown, ignored, deferred, - (left out)"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflare_and_nginx_statuses() {
        for hit in [
            "hit",
            "HIT",
            " Stale ",
            "UPDATING",
            "revalidated",
            "stream_hit",
        ] {
            assert_eq!(classify(hit.as_bytes()), Some(Status::Hit), "{hit}");
        }
        for miss in ["miss", "MISS", "expired", "EXPIRED"] {
            assert_eq!(classify(miss.as_bytes()), Some(Status::Miss), "{miss}");
        }
        for out in [
            "dynamic",
            "BYPASS",
            "none",
            "unknown",
            "NONE/UNKNOWN",
            "-",
            "",
        ] {
            assert_eq!(classify(out.as_bytes()), Some(Status::LeftOut), "{out}");
        }
        assert_eq!(classify(b"hitt"), None);
        let mut o = Observed::default();
        for s in [Status::Hit, Status::Miss, Status::LeftOut, Status::Hit] {
            o.add(s);
        }
        assert_eq!(
            o,
            Observed {
                requests: 3,
                hits: 2
            }
        );
        assert!((o.hit_ratio() - 2.0 / 3.0).abs() < 1e-15);
    }
}
