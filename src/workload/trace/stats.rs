//! What a trace looks like: volume, working set, time span, popularity
//! (one-hit wonders, fitted Zipf alpha, top keys), reuse distances and sizes.
//! Every field is documented in docs/traces.md; the JSON field names are part
//! of the interface.

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use hdrhistogram::Histogram;
use serde::Serialize;

use super::{KeyNames, Observed, Request};
use crate::engine::SECOND;

/// Percentiles of a distribution (None when it is empty).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Percentiles {
            min: h.min(),
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
            mean: h.mean(),
        })
    }
}

/// One entry of a top list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    /// The key (its text when hashed from a string, else the integer) or
    /// the client's name.
    pub name: String,
    pub requests: u64,
    /// Share of all requests.
    pub share: f64,
}

/// Summary statistics of a trace; see docs/traces.md for each field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStats {
    pub requests: u64,
    pub unique_objects: u64,
    /// Every distinct object is in the working set: equal to `unique_objects`.
    pub working_set_objects: u64,
    /// Sum of object sizes, each object counted once at its last seen size.
    pub working_set_bytes: u64,
    /// Sum of request sizes.
    pub requested_bytes: u64,
    pub unique_clients: u64,
    /// Earliest and latest request time (ns) and the span between, seconds.
    pub start_ns: u64,
    pub end_ns: u64,
    pub time_span_s: f64,
    /// Requests per second over the span (None for a zero span).
    pub mean_rate_per_s: Option<f64>,
    /// Objects requested exactly once, and their share of unique objects.
    pub one_hit_wonders: u64,
    pub one_hit_wonder_ratio: f64,
    /// Least-squares slope of log(requests) on log(rank), negated, over all
    /// objects (None with fewer than two objects).
    pub zipf_alpha: Option<f64>,
    /// Distinct other objects requested between two requests of an object
    /// (LRU stack distance), over re-requests; the first request of an
    /// object has none.
    pub reuse_distance: Option<Percentiles>,
    /// Request sizes in bytes.
    pub size_bytes: Option<Percentiles>,
    pub top_keys: Vec<Count>,
    pub top_clients: Vec<Count>,
    /// The real cache's hits among the requests it counted, when the trace
    /// has a cache status column (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observed>,
}

/// Per-object tally.
struct Object {
    requests: u64,
    last_index: usize,
    size: u32,
}

/// A Fenwick tree over request positions: counts marked positions in a
/// prefix in O(log n), for stack distances.
struct Fenwick(Vec<u32>);

impl Fenwick {
    fn add(&mut self, i: usize, delta: i32) {
        let mut i = i + 1;
        while i <= self.0.len() {
            self.0[i - 1] = self.0[i - 1].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Marked positions in `0..i`.
    fn prefix(&self, mut i: usize) -> u64 {
        let mut sum = 0;
        while i > 0 {
            sum += self.0[i - 1] as u64;
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// A histogram with 3 significant digits up to 2^40 (sizes are u32;
/// distances are below the request count); larger values saturate.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 1 << 40, 3).expect("valid histogram bounds")
}

/// Computes the statistics of `requests`, naming clients from `clients` and
/// hashed keys from `keys`, with `top` entries in each top list, and the
/// real cache's `observed` hits as the reader counted them.
pub fn compute(
    requests: &[Request],
    clients: &[String],
    keys: &KeyNames,
    top: usize,
    observed: Option<Observed>,
) -> TraceStats {
    let n = requests.len();
    let mut objects: HashMap<u64, Object, FixedState> = HashMap::default();
    let mut marks = Fenwick(vec![0; n]);
    let mut reuse = histogram();
    let mut sizes = histogram();
    let mut per_client: Vec<u64> = vec![0; clients.len()];
    let (mut start, mut end, mut bytes) = (u64::MAX, 0, 0u64);
    for (i, r) in requests.iter().enumerate() {
        start = start.min(r.time);
        end = end.max(r.time);
        bytes += r.size as u64;
        sizes.saturating_record(r.size as u64);
        let c = r.client as usize;
        if c >= per_client.len() {
            per_client.resize(c + 1, 0);
        }
        per_client[c] += 1;
        let object = objects.entry(r.key).or_insert(Object {
            requests: 0,
            last_index: usize::MAX,
            size: r.size,
        });
        if object.last_index != usize::MAX {
            let j = object.last_index;
            reuse.saturating_record(marks.prefix(i) - marks.prefix(j + 1));
            marks.add(j, -1);
        }
        marks.add(i, 1);
        object.requests += 1;
        object.last_index = i;
        object.size = r.size;
    }
    if n == 0 {
        start = 0;
    }
    let mut counts: Vec<(u64, u64)> = objects.iter().map(|(&k, o)| (o.requests, k)).collect();
    counts.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let unique = counts.len() as u64;
    let one_hit = counts.iter().filter(|c| c.0 == 1).count() as u64;
    let share = |requests: u64| {
        if n == 0 {
            0.0
        } else {
            requests as f64 / n as f64
        }
    };
    let top_keys = counts
        .iter()
        .take(top)
        .map(|&(requests, key)| Count {
            name: keys.get(&key).cloned().unwrap_or_else(|| key.to_string()),
            requests,
            share: share(requests),
        })
        .collect();
    let mut by_client: Vec<(u64, usize)> = per_client
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(id, &c)| (c, id))
        .collect();
    by_client.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top_clients = by_client
        .iter()
        .take(top)
        .map(|&(requests, id)| Count {
            name: clients.get(id).cloned().unwrap_or_else(|| id.to_string()),
            requests,
            share: share(requests),
        })
        .collect();
    let span = end - start;
    TraceStats {
        requests: n as u64,
        unique_objects: unique,
        working_set_objects: unique,
        working_set_bytes: objects.values().map(|o| o.size as u64).sum(),
        requested_bytes: bytes,
        unique_clients: by_client.len() as u64,
        start_ns: start,
        end_ns: end,
        time_span_s: span as f64 / SECOND as f64,
        mean_rate_per_s: (span > 0).then(|| n as f64 * SECOND as f64 / span as f64),
        one_hit_wonders: one_hit,
        one_hit_wonder_ratio: if unique == 0 {
            0.0
        } else {
            one_hit as f64 / unique as f64
        },
        zipf_alpha: zipf_alpha(counts.iter().map(|c| c.0)),
        reuse_distance: Percentiles::of(&reuse),
        size_bytes: Percentiles::of(&sizes),
        top_keys,
        top_clients,
        observed,
    }
}

/// Fits log(count) = c - alpha log(rank) by least squares over counts in
/// descending order.
fn zipf_alpha(counts: impl Iterator<Item = u64>) -> Option<f64> {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (rank, count) in counts.enumerate() {
        let x = ((rank + 1) as f64).ln();
        let y = (count as f64).ln();
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let var = n * sxx - sx * sx;
    (n >= 2.0 && var > 0.0).then(|| -(n * sxy - sx * sy) / var)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(keys: &[u64]) -> Vec<Request> {
        keys.iter()
            .enumerate()
            .map(|(i, &key)| Request {
                key,
                time: i as u64 * SECOND,
                size: 10 * key as u32,
                ..Request::default()
            })
            .collect()
    }

    #[test]
    fn counts_reuse_distances_and_top_keys() {
        let s = compute(
            &trace(&[1, 2, 3, 1, 2, 2, 4]),
            &[],
            &KeyNames::default(),
            2,
            None,
        );
        assert_eq!(
            (s.requests, s.unique_objects, s.working_set_bytes),
            (7, 4, 100)
        );
        assert_eq!((s.one_hit_wonders, s.time_span_s), (2, 6.0));
        // 1 after {2,3}: 2; 2 after {3,1}: 2; 2 after nothing: 0.
        let r = s.reuse_distance.unwrap();
        assert_eq!((r.min, r.p50, r.max), (0, 2, 2));
        assert_eq!(s.top_keys[0].name, "2");
        assert_eq!(s.top_keys[1].name, "1");
        assert_eq!(s.top_clients[0].requests, 7);
    }

    #[test]
    fn fits_the_zipf_exponent() {
        let counts = (1..=1000u64).map(|r| (1e6 / (r as f64).powf(0.8)) as u64);
        let alpha = zipf_alpha(counts).unwrap();
        assert!((alpha - 0.8).abs() < 0.01, "{alpha}");
        assert_eq!(zipf_alpha([5].into_iter()), None);
    }
}
