//! What users feel: latency percentiles, errors by kind, throughput, origin
//! load and queueing, per run, per window of simulated time, per route, and
//! the drift between the first and last quarter of a run (the workshop's
//! endurance test and stability rating).
//!
//! Everything here is computed after the simulation from each request's
//! fate, except what only the event loop can see (queue and server
//! integrals, and the samples taken at window ends).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::ratio;
use crate::engine::{SECOND, SimTime};

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Served (by the cache or the origin).
    #[default]
    Ok,
    /// 429: denied by the limiter.
    Denied,
    /// 503: the origin's queue was full.
    Full,
    /// 504: waited or was served longer than the origin timeout.
    Timeout,
}

/// Where a request was served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Served {
    /// Denied before reaching the cache.
    #[default]
    Nowhere,
    /// A hit in its location's cache.
    Cache,
    /// A hit in an upper tier's cache.
    Upper,
    /// An origin fetch of its own (answered at once when the run models no
    /// origin).
    Origin,
    /// Waited for another request's origin fetch of the same key.
    Coalesced,
}

/// One request's end, as the event loop records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fate {
    /// When the client sent it.
    pub sent: SimTime,
    /// When the client got its answer.
    pub done: SimTime,
    pub status: Status,
    pub served: Served,
}

impl Fate {
    pub fn latency(&self) -> SimTime {
        self.done - self.sent
    }

    /// An answer the service failed to give (503 or 504); a denial is the
    /// limiter doing its job and is counted apart.
    pub fn is_error(&self) -> bool {
        matches!(self.status, Status::Full | Status::Timeout)
    }
}

/// What the event loop measures that fates cannot tell: integrals over time
/// and samples at window ends.
#[derive(Debug, Clone, Default)]
pub struct LoopStats {
    /// Requests sent to the origin (including those that timed out or were refused).
    pub origin_requests: u64,
    /// Of those, the ones that found every server busy and waited.
    pub queued: u64,
    /// Server-nanoseconds of origin work.
    pub busy_area: u128,
    /// Integral of the origin queue length (waiting, not in service) over time.
    pub queue_area: u128,
    pub queue_max: u64,
    /// Integral of the requests in the system (sent, not yet answered) over time.
    pub in_system_area: u128,
    /// Time of the first send and of the last event.
    pub start: SimTime,
    pub end: SimTime,
    /// One sample per window end: origin queue length and cache occupancy.
    pub samples: Vec<Sample>,
    /// Origin servers (for utilisation).
    pub servers: u64,
}

/// The state of the system at one window's end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub queue: u64,
    pub cache_objects: u64,
    pub cache_bytes: u64,
}

/// Latency percentiles, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// Latencies in ns from 1 ns, 3 significant digits, growing as needed.
fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

impl Latency {
    /// Percentiles from an HDR histogram; the mean is exact.
    fn of(h: &Histogram<u64>, sum: u128) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        let q = |p: f64| h.value_at_quantile(p);
        Latency {
            count: h.len(),
            mean: sum as f64 / h.len() as f64,
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: h.max(),
        }
    }

    /// Of `values`, in ns.
    pub fn of_values(values: impl IntoIterator<Item = SimTime>) -> Self {
        let (h, sum) = recorded(values);
        Latency::of(&h, sum)
    }

    /// Exact nearest-rank percentiles of `values` (sorted in place): for
    /// the small sets of one window or quarter, where building an HDR
    /// histogram would cost more than sorting.
    pub fn of_sorted(values: &mut [SimTime]) -> Self {
        if values.is_empty() {
            return Latency::default();
        }
        values.sort_unstable();
        let n = values.len();
        let q = |p: f64| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Latency {
            count: n as u64,
            mean: values.iter().map(|&v| v as u128).sum::<u128>() as f64 / n as f64,
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: values[n - 1],
        }
    }

    /// Of the answered, non-denied requests among `fates`.
    pub fn of_fates<'a>(fates: impl IntoIterator<Item = &'a Fate>) -> Self {
        Latency::of_values(
            fates
                .into_iter()
                .filter(|f| f.status != Status::Denied)
                .map(Fate::latency),
        )
    }
}

/// `values` in a histogram, with their exact sum.
fn recorded(values: impl IntoIterator<Item = SimTime>) -> (Histogram<u64>, u128) {
    let mut h = histogram();
    let mut sum = 0u128;
    for v in values {
        h.record(v.max(1)).expect("the histogram grows as needed");
        sum += v as u128;
    }
    (h, sum)
}

/// The shares at which [`ServiceStats::quantiles`] reads the latency: from
/// 0.1% to 99.99%, every 5% in the body and densest in the tail, where
/// latencies spread out.
pub const QUANTILES: [f64; 33] = [
    0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6,
    0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999,
    0.9995, 0.9999,
];

/// The latency at or under which a share of the requests were answered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// The share, between 0 and 1.
    pub quantile: f64,
    pub ns: u64,
}

/// [`QUANTILES`] of `h`; none when it is empty.
fn quantiles(h: &Histogram<u64>) -> Vec<Quantile> {
    if h.is_empty() {
        return Vec::new();
    }
    QUANTILES
        .iter()
        .map(|&quantile| Quantile {
            quantile,
            ns: h.value_at_quantile(quantile),
        })
        .collect()
}

/// Answers counted by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: u64,
    pub ok: u64,
    pub hits: u64,
    pub denied: u64,
    pub full: u64,
    pub timeouts: u64,
}

impl Counts {
    fn add(&mut self, f: &Fate) {
        self.requests += 1;
        match f.status {
            Status::Ok => self.ok += 1,
            Status::Denied => self.denied += 1,
            Status::Full => self.full += 1,
            Status::Timeout => self.timeouts += 1,
        }
        self.hits += (f.served == Served::Cache && f.status == Status::Ok) as u64;
    }

    fn of<'a>(fates: impl IntoIterator<Item = &'a Fate>) -> Self {
        let mut c = Counts::default();
        fates.into_iter().for_each(|f| c.add(f));
        c
    }

    pub fn errors(&self) -> u64 {
        self.full + self.timeouts
    }

    /// 503s and 504s over all requests.
    pub fn error_ratio(&self) -> f64 {
        ratio(self.errors(), self.requests)
    }

    pub fn hit_ratio(&self) -> f64 {
        ratio(self.hits, self.requests - self.denied)
    }
}

/// One row of timeseries.csv: the requests sent in a window and the
/// answers given in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: SimTime,
    /// Requests sent in the window, with how they ended.
    pub counts: Counts,
    /// Of the answers given in the window.
    pub latency: Latency,
    pub sample: Sample,
}

/// A quarter of a run, for drift.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quarter {
    pub p95: u64,
    pub error_ratio: f64,
    pub hit_ratio: f64,
    /// Mean cache occupancy at the window ends in the quarter.
    pub cache_bytes: f64,
}

/// The workshop's stability rating of a run (`assessStability`): by error
/// ratio and by the spread (population standard deviation) of p50, p95
/// and p99 in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stability {
    Excellent,
    Good,
    Fair,
    Poor,
}

impl Stability {
    pub fn rate(error_ratio: f64, spread_ms: f64) -> Self {
        if error_ratio > 0.05 || spread_ms > 1000.0 {
            Stability::Poor
        } else if error_ratio > 0.01 || spread_ms > 500.0 {
            Stability::Fair
        } else if error_ratio > 0.001 || spread_ms > 100.0 {
            Stability::Good
        } else {
            Stability::Excellent
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stability::Excellent => "excellent",
            Stability::Good => "good",
            Stability::Fair => "fair",
            Stability::Poor => "poor",
        }
    }
}

/// Population standard deviation of p50, p95 and p99, in ms.
pub fn latency_spread_ms(l: &Latency) -> f64 {
    let ms = [l.p50, l.p95, l.p99].map(|v| v as f64 / 1e6);
    let mean = ms.iter().sum::<f64>() / 3.0;
    (ms.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0).sqrt()
}

/// Metrics of one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStats {
    pub name: String,
    pub counts: Counts,
    pub latency: Latency,
}

/// Everything a run of the service pipeline measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStats {
    pub counts: Counts,
    /// Of answered, non-denied requests (200, 503, 504).
    pub latency: Latency,
    /// The same requests' latency at each of [`QUANTILES`] (empty when
    /// none was answered): the latency CDF.
    pub quantiles: Vec<Quantile>,
    /// Of denied requests (429).
    pub denied_latency: Latency,
    /// Simulated time from the first send to the last answer.
    pub span: SimTime,
    /// Successful answers per simulated second.
    pub throughput_rps: f64,
    pub origin_requests: u64,
    /// Origin requests that had to wait for a server.
    pub queued: u64,
    pub coalesced: u64,
    pub origin_utilization: f64,
    pub queue_mean: f64,
    pub queue_max: u64,
    /// Time-average of requests in the system (Little's L).
    pub in_system_mean: f64,
    /// Mean time in the system over every request, denied ones included, in
    /// ns (Little's W).
    pub sojourn_mean: f64,
    /// Every answer per simulated second (Little's lambda).
    pub answer_rate: f64,
    pub windows: Vec<Window>,
    pub first_quarter: Quarter,
    pub last_quarter: Quarter,
    pub stability: Stability,
    pub latency_spread_ms: f64,
    pub routes: Vec<RouteStats>,
}

impl ServiceStats {
    /// Tallies `fates` (one per request, `routes[i]` its route index into
    /// `route_names`) with what the loop measured, in windows of `window`.
    pub fn of(
        fates: &[Fate],
        routes: &[u8],
        route_names: &[String],
        looped: &LoopStats,
        window: SimTime,
    ) -> Self {
        let counts = Counts::of(fates);
        let (answered, sum) = recorded(
            fates
                .iter()
                .filter(|f| f.status != Status::Denied)
                .map(Fate::latency),
        );
        let latency = Latency::of(&answered, sum);
        let denied_latency = Latency::of_values(
            fates
                .iter()
                .filter(|f| f.status == Status::Denied)
                .map(Fate::latency),
        );
        let span = looped.end.saturating_sub(looped.start);
        let seconds = span as f64 / SECOND as f64;
        let per_second = |x: f64| if span == 0 { 0.0 } else { x / seconds };
        let sojourn: u128 = fates.iter().map(|f| f.latency() as u128).sum();
        let windows = windows(fates, looped, window);
        let first_quarter = quarter(fates, &windows, looped.start, span, 0);
        let last_quarter = quarter(fates, &windows, looped.start, span, 3);
        let spread = latency_spread_ms(&latency);
        let routes = route_names
            .iter()
            .enumerate()
            .map(|(r, name)| {
                let mine: Vec<&Fate> = fates
                    .iter()
                    .zip(routes)
                    .filter(|(_, route)| **route as usize == r)
                    .map(|(f, _)| f)
                    .collect();
                RouteStats {
                    name: name.clone(),
                    counts: Counts::of(mine.iter().copied()),
                    latency: Latency::of_fates(mine),
                }
            })
            .collect();
        ServiceStats {
            counts,
            latency,
            quantiles: quantiles(&answered),
            denied_latency,
            span,
            throughput_rps: per_second(counts.ok as f64),
            origin_requests: looped.origin_requests,
            queued: looped.queued,
            coalesced: fates
                .iter()
                .filter(|f| f.served == Served::Coalesced)
                .count() as u64,
            origin_utilization: per_second(looped.busy_area as f64 / SECOND as f64)
                / looped.servers.max(1) as f64,
            queue_mean: per_second(looped.queue_area as f64 / SECOND as f64),
            queue_max: looped.queue_max,
            in_system_mean: per_second(looped.in_system_area as f64 / SECOND as f64),
            sojourn_mean: if fates.is_empty() {
                0.0
            } else {
                sojourn as f64 / fates.len() as f64
            },
            answer_rate: per_second(fates.len() as f64),
            windows,
            first_quarter,
            last_quarter,
            stability: Stability::rate(counts.error_ratio(), spread),
            latency_spread_ms: spread,
            routes,
        }
    }
}

/// Rows of timeseries.csv: requests by the window they were sent in,
/// latencies by the window they were answered in.
fn windows(fates: &[Fate], looped: &LoopStats, window: SimTime) -> Vec<Window> {
    let n = looped.samples.len().max(1);
    let index = |t: SimTime| ((t.saturating_sub(looped.start) / window) as usize).min(n - 1);
    let mut counts = vec![Counts::default(); n];
    let mut answered: Vec<Vec<SimTime>> = vec![Vec::new(); n];
    for f in fates {
        counts[index(f.sent)].add(f);
        if f.status != Status::Denied {
            answered[index(f.done)].push(f.latency());
        }
    }
    (0..n)
        .map(|w| Window {
            start: looped.start + w as u64 * window,
            counts: counts[w],
            latency: Latency::of_values(answered[w].iter().copied()),
            sample: looped.samples.get(w).copied().unwrap_or_default(),
        })
        .collect()
}

/// Quarter `q` (0..4) of the run by send time.
fn quarter(fates: &[Fate], windows: &[Window], start: SimTime, span: SimTime, q: u64) -> Quarter {
    let (from, to) = (start + span * q / 4, start + span * (q + 1) / 4);
    let inside = |t: SimTime| t >= from && (t < to || (q == 3 && t <= to));
    let mine: Vec<&Fate> = fates.iter().filter(|f| inside(f.sent)).collect();
    let counts = Counts::of(mine.iter().copied());
    let mut latencies: Vec<SimTime> = mine
        .iter()
        .filter(|f| f.status != Status::Denied)
        .map(|f| f.latency())
        .collect();
    let ends: Vec<f64> = windows
        .iter()
        .filter(|w| inside(w.start))
        .map(|w| w.sample.cache_bytes as f64)
        .collect();
    Quarter {
        p95: Latency::of_sorted(&mut latencies).p95,
        error_ratio: counts.error_ratio(),
        hit_ratio: counts.hit_ratio(),
        cache_bytes: if ends.is_empty() {
            0.0
        } else {
            ends.iter().sum::<f64>() / ends.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stability_follows_the_workshop_thresholds() {
        assert_eq!(Stability::rate(0.0, 50.0), Stability::Excellent);
        assert_eq!(Stability::rate(0.002, 50.0), Stability::Good);
        assert_eq!(Stability::rate(0.0, 101.0), Stability::Good);
        assert_eq!(Stability::rate(0.02, 0.0), Stability::Fair);
        assert_eq!(Stability::rate(0.0, 600.0), Stability::Fair);
        assert_eq!(Stability::rate(0.06, 0.0), Stability::Poor);
        assert_eq!(Stability::rate(0.05, 1000.0), Stability::Fair);
        // p50 10, p95 40, p99 100 ms: mean 50, deviations -40, -10, 50.
        let l = Latency {
            p50: 10_000_000,
            p95: 40_000_000,
            p99: 100_000_000,
            ..Latency::default()
        };
        assert!((latency_spread_ms(&l) - (4200.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }

    #[test]
    fn quantiles_agree_with_the_percentiles_and_leave_out_denials() {
        // Latencies 1..=1000 ms, and 500 denials answered at once.
        let mut fates: Vec<Fate> = (1..=1000u64)
            .map(|i| Fate {
                sent: 0,
                done: i * 1_000_000,
                ..Fate::default()
            })
            .collect();
        fates.extend((0..500).map(|_| Fate {
            status: Status::Denied,
            ..Fate::default()
        }));
        let stats = ServiceStats::of(&fates, &[], &[], &LoopStats::default(), SECOND);
        let at = |q: f64| {
            stats
                .quantiles
                .iter()
                .find(|x| x.quantile == q)
                .map(|x| x.ns)
        };
        assert_eq!(stats.quantiles.len(), QUANTILES.len());
        assert_eq!(at(0.5), Some(stats.latency.p50));
        assert_eq!(at(0.95), Some(stats.latency.p95));
        assert_eq!(at(0.99), Some(stats.latency.p99));
        // Within the histogram's 3 significant digits of the exact values.
        assert!((at(0.001).unwrap() as f64 / 1e6 - 1.0).abs() < 0.01);
        assert!((at(0.9999).unwrap() as f64 / 1e6 - 1000.0).abs() < 1.0);
        assert!(stats.quantiles.windows(2).all(|w| w[0].ns <= w[1].ns));
        let none = ServiceStats::of(&[], &[], &[], &LoopStats::default(), SECOND);
        assert!(none.quantiles.is_empty());
    }
}
