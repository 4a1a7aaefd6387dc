//! How far an approximate window limiter is from the exact sliding window,
//! measured the way Cloudflare reported it for its sliding window counter:
//! the fraction of requests decided differently from an exact sliding log
//! with the same limit, and the mean relative error of the estimated request
//! rate (the approximation's count over the last window against the true
//! count of arrivals in (now - W, now], taken at every request).

use std::collections::VecDeque;

use super::sliding_counter::Counts;
use super::{KeyMap, LimiterSpec, build};
use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::metrics::Accuracy;
use crate::workload::Request;

/// How an approximate algorithm estimates the count over the last window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approximation {
    /// The count of the current aligned window.
    FixedWindow,
    /// The previous window weighted by its remaining share, plus the current.
    SlidingCounter,
}

impl Approximation {
    fn estimate(self, counts: &Counts, now: SimTime, window: u64) -> f64 {
        match self {
            Approximation::FixedWindow => counts.current as f64,
            Approximation::SlidingCounter => {
                counts.scaled_estimate(now, window) as f64 / window as f64
            }
        }
    }
}

/// Compares the decisions `admitted` (one per request, in order) that the
/// limiter `spec` made on `requests` with an exact sliding log's; None for
/// algorithms that do not approximate a sliding window.
pub fn measure_accuracy(
    spec: &LimiterSpec,
    requests: &[Request],
    admitted: &[bool],
) -> Result<Option<Accuracy>, ConfigError> {
    let Some(approximation) = spec.info().facts.approximates else {
        return Ok(None);
    };
    // The same limit, window and counting rule, decided exactly.
    let mut exact_spec = LimiterSpec {
        algorithm: "sliding-window-log".parse()?,
        premium: Some(spec.premium()),
        ..spec.clone()
    };
    exact_spec.algorithm.0.params = spec.algorithm.0.params.clone();
    let mut exact = build(&exact_spec)?;
    let window = spec.window_ns();
    let mut arrivals: KeyMap<(VecDeque<SimTime>, Counts)> = KeyMap::default();
    let mut misclassified = 0;
    let mut error_sum = 0.0;
    for (req, &admitted) in requests.iter().zip(admitted) {
        let now = req.time;
        misclassified += (exact.decide(req, now).admitted() != admitted) as u64;
        let (log, counts) = arrivals.entry(exact.key(req), || {
            let counts = Counts {
                window: now / window,
                ..Counts::default()
            };
            (VecDeque::new(), counts)
        });
        while log.front().is_some_and(|&t| t + window <= now) {
            log.pop_front();
        }
        log.push_back(now);
        counts.roll(now, window);
        counts.current += 1;
        let real = log.len() as f64;
        error_sum += (approximation.estimate(counts, now, window) - real).abs() / real;
    }
    let n = admitted.len().min(requests.len()) as u64;
    Ok(Some(Accuracy {
        requests: n,
        misclassified,
        mean_rate_error: if n == 0 { 0.0 } else { error_sum / n as f64 },
    }))
}
