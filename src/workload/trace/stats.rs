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
    /// Position of its last request in the (compacted) request order.
    last: usize,
    size: u32,
}

/// A Fenwick tree over request positions: counts marked positions in a
/// prefix in O(log n), for stack distances.
struct Fenwick(Vec<u32>);

impl Fenwick {
    /// A tree over `len` positions whose first `marked` are marked, built in
    /// O(len).
    fn with_marked(len: usize, marked: usize) -> Self {
        let mut tree: Vec<u32> = (0..len).map(|i| (i < marked) as u32).collect();
        for i in 1..=len {
            let parent = i + (i & i.wrapping_neg());
            if parent <= len {
                tree[parent - 1] += tree[i - 1];
            }
        }
        Fenwick(tree)
    }

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

/// Statistics gathered one request at a time, in memory that grows with the
/// distinct objects and clients, not with the requests: a trace of billions
/// of requests of a few objects is summed up in kilobytes.
pub struct Tally {
    objects: HashMap<u64, Object, FixedState>,
    /// One mark per object, at its last request's position. Positions are
    /// renumbered (compacted) when the tree is full, so it holds about twice
    /// the objects, whatever the requests.
    marks: Fenwick,
    next: usize,
    reuse: Histogram<u64>,
    sizes: Histogram<u64>,
    per_client: Vec<u64>,
    requests: u64,
    start: u64,
    end: u64,
    bytes: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            objects: HashMap::default(),
            marks: Fenwick::with_marked(MIN_POSITIONS, 0),
            next: 0,
            reuse: histogram(),
            sizes: histogram(),
            per_client: Vec::new(),
            requests: 0,
            start: u64::MAX,
            end: 0,
            bytes: 0,
        }
    }
}

/// The smallest position tree, so that small traces compact rarely.
const MIN_POSITIONS: usize = 1 << 12;

impl Tally {
    pub fn add(&mut self, r: &Request) {
        if self.next == self.marks.0.len() {
            self.compact();
        }
        self.requests += 1;
        self.start = self.start.min(r.time);
        self.end = self.end.max(r.time);
        self.bytes += r.size as u64;
        self.sizes.saturating_record(r.size as u64);
        let c = r.client as usize;
        if c >= self.per_client.len() {
            self.per_client.resize(c + 1, 0);
        }
        self.per_client[c] += 1;
        let i = self.next;
        let object = self.objects.entry(r.key).or_insert(Object {
            requests: 0,
            last: usize::MAX,
            size: r.size,
        });
        if object.last != usize::MAX {
            let j = object.last;
            self.reuse
                .saturating_record(self.marks.prefix(i) - self.marks.prefix(j + 1));
            self.marks.add(j, -1);
        }
        self.marks.add(i, 1);
        object.requests += 1;
        object.last = i;
        object.size = r.size;
        self.next += 1;
    }

    /// Renumbers the objects' last positions 0.. in their order (which keeps
    /// every stack distance) and rebuilds the tree with room for as many
    /// requests again.
    fn compact(&mut self) {
        let mut order: Vec<&mut Object> = self.objects.values_mut().collect();
        order.sort_unstable_by_key(|o| o.last);
        for (position, object) in order.into_iter().enumerate() {
            object.last = position;
        }
        let live = self.objects.len();
        self.marks = Fenwick::with_marked((2 * live).max(MIN_POSITIONS), live);
        self.next = live;
    }

    /// The statistics, naming clients from `clients` and hashed keys from
    /// `keys`, with `top` entries in each top list, and the real cache's
    /// `observed` hits as the reader counted them.
    pub fn finish(
        self,
        clients: &[String],
        keys: &KeyNames,
        top: usize,
        observed: Option<Observed>,
    ) -> TraceStats {
        let n = self.requests;
        let start = if n == 0 { 0 } else { self.start };
        let mut counts: Vec<(u64, u64)> =
            self.objects.iter().map(|(&k, o)| (o.requests, k)).collect();
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
                name: keys
                    .get(&key)
                    .map_or_else(|| key.to_string(), |k| shorten(k)),
                requests,
                share: share(requests),
            })
            .collect();
        let mut by_client: Vec<(u64, usize)> = self
            .per_client
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
                name: clients
                    .get(id)
                    .map_or_else(|| id.to_string(), |c| shorten(c)),
                requests,
                share: share(requests),
            })
            .collect();
        let span = self.end.saturating_sub(start);
        TraceStats {
            requests: n,
            unique_objects: unique,
            working_set_objects: unique,
            working_set_bytes: self.objects.values().map(|o| o.size as u64).sum(),
            requested_bytes: self.bytes,
            unique_clients: by_client.len() as u64,
            start_ns: start,
            end_ns: self.end,
            time_span_s: span as f64 / SECOND as f64,
            mean_rate_per_s: (span > 0).then(|| n as f64 * SECOND as f64 / span as f64),
            one_hit_wonders: one_hit,
            one_hit_wonder_ratio: if unique == 0 {
                0.0
            } else {
                one_hit as f64 / unique as f64
            },
            zipf_alpha: zipf_alpha(counts.iter().map(|c| c.0)),
            reuse_distance: Percentiles::of(&self.reuse),
            size_bytes: Percentiles::of(&self.sizes),
            top_keys,
            top_clients,
            observed,
        }
    }
}

/// A name for a top list, cut when long (a 10 MB key is not echoed whole).
fn shorten(name: &str) -> String {
    const MAX: usize = 200;
    match name.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_string(),
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

    fn compute(
        requests: &[Request],
        clients: &[String],
        keys: &KeyNames,
        top: usize,
        observed: Option<Observed>,
    ) -> TraceStats {
        let mut tally = Tally::default();
        requests.iter().for_each(|r| tally.add(r));
        tally.finish(clients, keys, top, observed)
    }

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

    /// Compaction renumbers positions: distances must match a naive LRU
    /// stack on a trace far longer than the position tree.
    #[test]
    fn stack_distances_survive_compaction() {
        let keys: Vec<u64> = (0..50_000u64).map(|i| (i * i * 7 + i / 3) % 97).collect();
        let s = compute(&trace(&keys), &[], &KeyNames::default(), 1, None);
        let mut stack: Vec<u64> = Vec::new();
        let mut naive = histogram();
        for &k in &keys {
            if let Some(at) = stack.iter().rposition(|&x| x == k) {
                naive.record((stack.len() - 1 - at) as u64).unwrap();
                stack.remove(at);
            }
            stack.push(k);
        }
        assert_eq!(s.reuse_distance, Percentiles::of(&naive));
        assert_eq!(s.requests, 50_000);
    }

    #[test]
    fn fits_the_zipf_exponent() {
        let counts = (1..=1000u64).map(|r| (1e6 / (r as f64).powf(0.8)) as u64);
        let alpha = zipf_alpha(counts).unwrap();
        assert!((alpha - 0.8).abs() < 0.01, "{alpha}");
        assert_eq!(zipf_alpha([5].into_iter()), None);
    }
}
