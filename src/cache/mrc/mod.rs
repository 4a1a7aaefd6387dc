//! Miss-ratio curves of LRU from one pass over a trace: the stack distance
//! of each request (the weight of the distinct keys touched since its key's
//! last access, plus its own) says at which sizes it hits, so one pass
//! gives the misses at every size at once (Mattson et al., 1970), in
//! O(N log N) with a Fenwick tree. SHARDS sampling ([`Sampling`]) makes the
//! pass cheaper and approximate.
//!
//! # When one pass equals the simulation
//!
//! The simulated LRU (`OneQueue<Lru>`) hits on any key it holds; on a miss
//! it inserts the object, evicting from the tail until it fits, unless the
//! object is larger than the whole cache, which it neither inserts nor
//! evicts for. Counting objects, every object weighs 1 and fits, and the
//! cache is always the top `C` keys of the recency stack: one pass is exact.
//!
//! Counting bytes, when every key keeps one size, the cache of `C` bytes is
//! the longest prefix of the recency stack of the keys no larger than `C`
//! whose sizes sum to at most `C` (by induction: a hit reorders the prefix;
//! a miss puts the key on top and keeps the longest prefix of the rest that
//! fits beside it, which is what evicting from the tail leaves). A request
//! hits iff that prefix sum down to its key is at most `C`. That sum is the
//! byte stack distance when no key larger than `C` was touched since the
//! key's last access; a key larger than `C` in between (which the cache
//! skipped, so the request may hit) makes the distance over `C`, a false
//! miss. So the one-pass curve is exact at every `C` of at least the
//! largest object. Below it, or when a key's size changes (the cache keeps
//! the size it admitted, and which keys it evicted then depends on the
//! capacity in ways one distance cannot say), or when a request carries a
//! TTL, the size is simulated instead: every miss count here is exact, and
//! [`Point::method`] says how it was found.

mod fenwick;
mod histogram;
mod shards;
mod stack;

use rayon::prelude::*;
use serde::Serialize;

pub use shards::{MODULUS, Sampling, in_sample, parse_rate, threshold_of};

use super::blocks::OneQueue;
use super::policies::Lru;
use super::{Cache, CapacitySpec, Replay};
use crate::error::ConfigError;
use crate::metrics::CacheStats;
use crate::workload::{Request, WorkingSet};
use histogram::Histogram;
use shards::Sampler;
use stack::Stack;

/// How a point of the curve was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// From the stack distances: exact.
    Stack,
    /// By simulating LRU at this size, where one pass could be wrong: exact.
    Simulated,
    /// From a SHARDS sample: an estimate.
    Sampled,
}

impl Method {
    /// As in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Method::Stack => "stack",
            Method::Simulated => "simulated",
            Method::Sampled => "sampled",
        }
    }
}

/// The misses of LRU at one size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// In objects or bytes, as the curve counts.
    pub size: u64,
    pub misses: u64,
    pub miss_ratio: f64,
    pub byte_misses: u64,
    pub byte_miss_ratio: f64,
    pub method: Method,
}

/// What decides whether the one-pass curve is exact at a size (see the
/// module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exactness {
    /// Some request carries a TTL, which the stack does not model.
    pub ttl: bool,
    /// Some key is requested with two sizes (counting bytes).
    pub size_changes: bool,
    /// The largest object, in the curve's unit.
    pub largest: u64,
}

impl Exactness {
    /// Whether the one-pass curve is exact at `size`.
    pub fn holds_at(&self, size: u64) -> bool {
        !self.ttl && !self.size_changes && self.largest <= size
    }
}

/// Why some sizes are simulated, for the user.
impl std::fmt::Display for Exactness {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.ttl {
            f.write_str("requests carry TTLs, which the stack distances do not model")
        } else if self.size_changes {
            f.write_str("some keys change size between requests")
        } else {
            write!(
                f,
                "a size below the largest object ({}) can hit where the stack distance says miss, since the cache skips objects larger than itself",
                self.largest
            )
        }
    }
}

/// A miss-ratio curve of LRU.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Sizes count objects (each object weighs 1), or bytes.
    pub count_objects: bool,
    pub requests: u64,
    /// The points, by size ascending.
    pub points: Vec<Point>,
    /// The sampling rate at the end of the pass (1 when not sampled).
    pub rate: f64,
    /// Requests in the sample.
    pub sampled: u64,
    /// What held the exact pass to simulating some sizes.
    pub exactness: Exactness,
}

/// Resolves `sizes` against the working set: all in objects or all in
/// bytes (as `edgesim cache` reads them), since one curve has one unit.
/// Returns the sizes, ascending without repeats, and whether they count objects.
pub fn resolve_sizes(
    sizes: &[CapacitySpec],
    working_set: WorkingSet,
    ignore_size: bool,
) -> Result<(Vec<u64>, bool), ConfigError> {
    let resolved: Vec<(u64, bool)> = sizes
        .iter()
        .map(|s| s.resolve(working_set, ignore_size))
        .collect::<Result<_, _>>()?;
    let count_objects = resolved.first().is_some_and(|r| r.1);
    if resolved.iter().any(|r| r.1 != count_objects) {
        return Err(
            "sizes mix objects and bytes, but one curve has one unit: give all sizes as numbers of objects, or all with a byte unit".into(),
        );
    }
    let mut grid: Vec<u64> = resolved.into_iter().map(|r| r.0).collect();
    grid.sort_unstable();
    grid.dedup();
    Ok((grid, count_objects))
}

/// Sizes in the default grid.
pub const GRID_POINTS: usize = 100;

/// A sample resolves sizes from this many times `1 / rate` objects up:
/// below, a handful of sampled keys decide the curve (on Zipf traffic the
/// estimate there is off by 0.1 and more).
pub const RESOLVED_SAMPLE_MULTIPLE: f64 = 10.0;

/// The default sizes: [`GRID_POINTS`] spaced evenly on a log scale up to
/// the working set (its objects, or its bytes), from a ten-thousandth of it,
/// or, when sampled, from the smallest size the sample resolves.
pub fn default_grid(working_set: WorkingSet, count_objects: bool, sampling: Sampling) -> Vec<u64> {
    let objects = working_set.objects.max(1) as f64;
    let (top, object) = if count_objects {
        (working_set.objects, 1.0)
    } else {
        (working_set.bytes, working_set.bytes as f64 / objects)
    };
    let one_in = match sampling {
        Sampling::All => 0.0,
        Sampling::Rate(rate) => 1.0 / rate,
        Sampling::Keys(keys) => objects / keys as f64,
    };
    let resolved = (RESOLVED_SAMPLE_MULTIPLE * one_in * object) as u64;
    log_grid((top / 10_000).max(resolved), top, GRID_POINTS)
}

/// `points` sizes spaced evenly on a log scale from `bottom` to `top`
/// (both at least 1), rounded, without repeats.
pub fn log_grid(bottom: u64, top: u64, points: usize) -> Vec<u64> {
    let top = top.max(1);
    let bottom = bottom.clamp(1, top) as f64;
    let step = (top as f64 / bottom).ln() / (points.max(2) - 1) as f64;
    let mut grid: Vec<u64> = (0..points)
        .map(|i| ((bottom.ln() + step * i as f64).exp().round() as u64).clamp(1, top))
        .chain([top])
        .collect();
    grid.sort_unstable();
    grid.dedup();
    grid
}

/// The LRU curve of `requests` at `grid` (ascending, no repeats), counting
/// objects or bytes, exact or from a SHARDS sample; the sizes one pass
/// cannot answer are simulated in parallel.
pub fn curve(
    requests: &[Request],
    grid: &[u64],
    count_objects: bool,
    sampling: Sampling,
) -> Result<Curve, ConfigError> {
    let mut builder = CurveBuilder::new(grid, count_objects, sampling);
    builder.add(requests);
    let simulated: Vec<CacheStats> = builder
        .to_simulate()
        .par_iter()
        .map(|&size| simulate(requests, size, count_objects))
        .collect();
    builder.finish(&simulated)
}

/// A curve fed batch by batch, for a trace read once as a stream.
pub struct CurveBuilder {
    pass: Pass,
    hits: Hits,
}

/// The histogram of an exact or a sampled pass.
enum Hits {
    Exact(Histogram<u64>),
    Sampled(Histogram<f64>),
}

impl CurveBuilder {
    /// A curve at `grid` (ascending, no repeats).
    pub fn new(grid: &[u64], count_objects: bool, sampling: Sampling) -> Self {
        CurveBuilder {
            pass: Pass::new(count_objects, sampling),
            hits: match sampling {
                Sampling::All => Hits::Exact(Histogram::new(grid)),
                Sampling::Rate(_) | Sampling::Keys(_) => Hits::Sampled(Histogram::new(grid)),
            },
        }
    }

    /// The next requests of the trace.
    pub fn add(&mut self, requests: &[Request]) {
        match &mut self.hits {
            Hits::Exact(hist) => requests.iter().for_each(|r| self.pass.exact(r, hist)),
            Hits::Sampled(hist) => requests.iter().for_each(|r| self.pass.sampled(r, hist)),
        }
    }

    /// The sizes where one exact pass may differ from LRU (see the module
    /// documentation), ascending: [`CurveBuilder::finish`] takes their
    /// simulated counts. None when sampling (every point is an estimate).
    pub fn to_simulate(&self) -> Vec<u64> {
        match &self.hits {
            Hits::Exact(hist) => hist
                .grid()
                .iter()
                .copied()
                .filter(|&size| !self.pass.exactness.holds_at(size))
                .collect(),
            Hits::Sampled(_) => Vec::new(),
        }
    }

    /// The curve, given LRU's counts at each size of
    /// [`CurveBuilder::to_simulate`], in that order.
    pub fn finish(self, simulated: &[CacheStats]) -> Result<Curve, ConfigError> {
        let pass = &self.pass;
        let points = match &self.hits {
            Hits::Exact(hist) => {
                let mut simulated = simulated.iter();
                hist.grid()
                    .iter()
                    .zip(hist.hits())
                    .map(|(&size, (hits, hit_bytes))| {
                        if pass.exactness.holds_at(size) {
                            let stats = CacheStats {
                                hits,
                                hit_bytes,
                                ..pass.totals
                            };
                            point(size, &stats, Method::Stack)
                        } else {
                            let stats = simulated.next().expect("a count per size to simulate");
                            point(size, stats, Method::Simulated)
                        }
                    })
                    .collect()
            }
            Hits::Sampled(hist) => pass.sampled_points(hist)?,
        };
        Ok(Curve {
            count_objects: pass.count_objects,
            requests: pass.totals.requests,
            points,
            rate: pass.sampler.rate(),
            sampled: pass.sampled,
            exactness: pass.exactness,
        })
    }
}

/// LRU at one size over consecutive slices of a trace, from one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Sliced {
    /// The counts in each slice.
    pub slices: Vec<CacheStats>,
    /// The objects held at the end.
    pub held: u64,
}

/// LRU's counts at every size of `grid` (ascending, no repeats) in
/// `slices` consecutive slices of `requests` (as `edgesim run` takes batch
/// means), from one pass; `None` at the sizes where one pass is not exact,
/// which the caller simulates.
pub fn sliced(
    requests: &[Request],
    grid: &[u64],
    count_objects: bool,
    slices: usize,
) -> Vec<Option<Sliced>> {
    let mut pass = SlicedPass::new(grid, count_objects);
    let n = requests.len();
    for s in 0..slices {
        pass.add(&requests[s * n / slices..(s + 1) * n / slices]);
        pass.close_slice();
    }
    pass.finish()
}

/// [`sliced`] over a trace handed over a part at a time, as it is decoded.
pub struct SlicedPass {
    pass: Pass,
    /// The current slice's reuses.
    hist: Histogram<u64>,
    /// The totals when the current slice opened.
    opened: CacheStats,
    /// Per closed slice: its totals and the hits at each size.
    counted: Vec<(CacheStats, Vec<(u64, u64)>)>,
}

impl SlicedPass {
    pub fn new(grid: &[u64], count_objects: bool) -> Self {
        SlicedPass {
            pass: Pass::new(count_objects, Sampling::All),
            hist: Histogram::new(grid),
            opened: CacheStats::default(),
            counted: Vec::new(),
        }
    }

    /// The sizes it counts at.
    pub fn grid(&self) -> &[u64] {
        self.hist.grid()
    }

    /// Whether it counts objects (else bytes).
    pub fn counts_objects(&self) -> bool {
        self.pass.count_objects
    }

    /// The next requests of the trace, within the current slice.
    pub fn add(&mut self, requests: &[Request]) {
        for req in requests {
            self.pass.exact(req, &mut self.hist);
        }
    }

    /// Ends the current slice and opens the next.
    pub fn close_slice(&mut self) {
        let totals = self.pass.totals.since(&self.opened);
        self.counted.push((totals, self.hist.hits()));
        self.hist = Histogram::new(self.hist.grid());
        self.opened = self.pass.totals;
    }

    /// The counts at each size of the grid, in each closed slice; `None`
    /// where one pass is not exact.
    pub fn finish(self) -> Vec<Option<Sliced>> {
        let grid = self.hist.grid();
        let held = self.pass.stack.held(grid);
        grid.iter()
            .enumerate()
            .map(|(i, &size)| {
                self.pass.exactness.holds_at(size).then(|| Sliced {
                    slices: self
                        .counted
                        .iter()
                        .map(|(totals, hits)| CacheStats {
                            hits: hits[i].0,
                            hit_bytes: hits[i].1,
                            ..*totals
                        })
                        .collect(),
                    held: held[i],
                })
            })
            .collect()
    }
}

/// The state of one pass over the requests.
struct Pass {
    count_objects: bool,
    stack: Stack,
    sampler: Sampler,
    /// Every request, sampled or not.
    totals: CacheStats,
    sampled: u64,
    /// Sampled weight (`1 / rate` each) and bytes.
    sampled_weight: (f64, f64),
    exactness: Exactness,
    dropped: Vec<u64>,
}

impl Pass {
    fn new(count_objects: bool, sampling: Sampling) -> Self {
        Pass {
            count_objects,
            stack: Stack::default(),
            sampler: Sampler::new(sampling),
            totals: CacheStats::default(),
            sampled: 0,
            sampled_weight: (0.0, 0.0),
            exactness: Exactness::default(),
            dropped: Vec::new(),
        }
    }

    /// The request's weight in the stack: 1 counting objects, else its size.
    #[inline]
    fn weight(&self, req: &Request) -> u64 {
        if self.count_objects {
            1
        } else {
            req.size as u64
        }
    }

    /// One request of the exact pass.
    #[inline]
    fn exact(&mut self, req: &Request, hist: &mut Histogram<u64>) {
        self.totals.record(req.size, false, false);
        let weight = self.weight(req);
        self.exactness.ttl |= req.ttl_ms > 0;
        self.exactness.largest = self.exactness.largest.max(weight);
        if let Some(reuse) = self.stack.access(req.key, weight) {
            self.exactness.size_changes |= reuse.weight != weight;
            hist.add(reuse.distance, 1, req.size as u64);
        }
    }

    /// One request of a sampled pass.
    #[inline]
    fn sampled(&mut self, req: &Request, hist: &mut Histogram<f64>) {
        self.totals.record(req.size, false, false);
        let new_key = !self.stack.contains(req.key);
        if !self.sampler.admits(req.key, new_key, &mut self.dropped) {
            self.forget_dropped();
            return;
        }
        self.forget_dropped();
        let rate = self.sampler.rate();
        let weight = 1.0 / rate;
        let bytes = req.size as f64 * weight;
        self.sampled += 1;
        self.sampled_weight.0 += weight;
        self.sampled_weight.1 += bytes;
        if let Some(reuse) = self.stack.access(req.key, self.weight(req)) {
            // The key itself is certain; the others in between are a sample
            // at `rate`. A hit iff that estimate is at most the size, i.e.
            // its ceiling is.
            let others = (reuse.distance - reuse.weight) as f64 / rate;
            hist.add(reuse.weight + others.ceil() as u64, weight, bytes);
        }
    }

    fn forget_dropped(&mut self) {
        for key in self.dropped.drain(..) {
            self.stack.forget(key);
        }
    }

    /// The estimated points of a sample. Each sampled request stands for
    /// `1 / rate` requests (its key was sampled with that chance), so the
    /// sampled misses so weighted estimate the misses, and are divided by
    /// the true request count (and bytes). At a fixed rate this is the
    /// paper's SHARDS_adj, which adds the expected minus the actual sample
    /// size to the first bucket; dividing by the sample's own weight
    /// instead is far off whenever the few most popular keys (most of the
    /// hits) fall outside the sample.
    fn sampled_points(&self, hist: &Histogram<f64>) -> Result<Vec<Point>, ConfigError> {
        if self.sampled == 0 {
            return Err(format!(
                "no request of the {} was sampled: raise the sampling rate",
                self.totals.requests
            )
            .into());
        }
        let (weight, bytes) = self.sampled_weight;
        let share = |part: f64, whole: u64| match whole {
            0 => 0.0,
            w => (part / w as f64).clamp(0.0, 1.0),
        };
        Ok(hist
            .grid()
            .iter()
            .zip(hist.hits())
            .map(|(&size, (hits, hit_bytes))| {
                let miss_ratio = share(weight - hits, self.totals.requests);
                let byte_miss_ratio = share(bytes - hit_bytes, self.totals.bytes);
                Point {
                    size,
                    misses: (miss_ratio * self.totals.requests as f64).round() as u64,
                    miss_ratio,
                    byte_misses: (byte_miss_ratio * self.totals.bytes as f64).round() as u64,
                    byte_miss_ratio,
                    method: Method::Sampled,
                }
            })
            .collect())
    }
}

fn point(size: u64, stats: &CacheStats, method: Method) -> Point {
    Point {
        size,
        misses: stats.misses(),
        miss_ratio: stats.miss_ratio(),
        byte_misses: stats.byte_misses(),
        byte_miss_ratio: stats.byte_miss_ratio(),
        method,
    }
}

/// The counts of LRU at `size`, by simulation.
pub fn simulate(requests: &[Request], size: u64, count_objects: bool) -> CacheStats {
    let mut cache = OneQueue::new(size, Lru, 0);
    let mut state = Replay::new(count_objects);
    cache.replay(requests, &mut state);
    state.stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(requests: &[(u64, u32)]) -> Vec<Request> {
        requests
            .iter()
            .map(|&(key, size)| Request {
                key,
                size,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn an_object_larger_than_the_cache_between_two_accesses_is_simulated() {
        // At 10 bytes LRU skips the 11-byte object, so the second `1` hits,
        // although its byte stack distance is 12: one pass would say miss.
        let t = trace(&[(1, 1), (2, 11), (1, 1)]);
        let curve = curve(&t, &[10, 12], false, Sampling::All).unwrap();
        let got: Vec<(u64, u64, Method)> = curve
            .points
            .iter()
            .map(|p| (p.size, p.misses, p.method))
            .collect();
        assert_eq!(
            got,
            [(10, 2, Method::Simulated), (12, 2, Method::Stack)],
            "{curve:?}"
        );
        assert_eq!(curve.exactness.largest, 11);
    }

    #[test]
    fn objects_are_counted_once_whatever_their_size() {
        let t = trace(&[(1, 100), (2, 5), (3, 7), (1, 100), (3, 7)]);
        let curve = curve(&t, &[1, 2, 3], true, Sampling::All).unwrap();
        let misses: Vec<u64> = curve.points.iter().map(|p| p.misses).collect();
        assert_eq!(misses, [5, 4, 3]);
        assert_eq!(curve.points[2].byte_misses, 112);
    }

    #[test]
    fn sizes_in_one_unit_resolve_sorted() {
        let ws = WorkingSet {
            objects: 100,
            bytes: 1000,
        };
        let sizes: Vec<CapacitySpec> = ["50%", "10KiB", "100"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(resolve_sizes(&sizes, ws, false).is_err());
        assert_eq!(resolve_sizes(&sizes[..1], ws, true), Ok((vec![50], true)));
        assert_eq!(
            resolve_sizes(&sizes[..2], ws, false),
            Ok((vec![500, 10240], false))
        );
    }

    #[test]
    fn the_default_grid_starts_where_a_sample_resolves() {
        let ws = WorkingSet {
            objects: 1_000_000,
            bytes: 4_000_000_000,
        };
        let exact = default_grid(ws, true, Sampling::All);
        assert_eq!((exact[0], *exact.last().unwrap()), (100, 1_000_000));
        assert_eq!(exact.len(), GRID_POINTS);
        let sampled = default_grid(ws, false, Sampling::Rate(0.01));
        assert_eq!(sampled[0], 4_000_000);
    }
}
