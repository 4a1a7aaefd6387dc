//! Gradient-style adaptive concurrency limit, after Netflix
//! concurrency-limits' `Gradient2Limit`. On every completion it compares a
//! long-term average latency (an exponential average over `long_window`
//! samples, a plain average over the first 10) with the latest latency:
//!
//!   gradient = clamp(long / latest, 0.5, 1.0)
//!   target   = limit x gradient + queue
//!   limit    = clamp(limit x (1 - smoothing) + target x smoothing, min, max)
//!
//! It does not grow while fewer than half the limit are in flight, and when
//! the long average exceeds twice the latest it is cut by 10% to recover
//! quickly after an overload. Defaults are the library's: initial 20, min 20,
//! max 200, smoothing 0.2, queue 4, long_window 600.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::spec::{Kind, Param};

/// Samples averaged plainly before the exponential average takes over.
const WARMUP: u32 = 10;

#[derive(Clone)]
pub struct Gradient {
    initial: f64,
    min: f64,
    max: f64,
    smoothing: f64,
    queue: f64,
    long_window: f64,
    state: KeyMap<State>,
}

#[derive(Clone, Copy)]
struct State {
    limit: f64,
    in_flight: u64,
    /// Long-term average latency in ns, and samples in it (up to WARMUP).
    long: f64,
    samples: u32,
}

/// The library's defaults.
pub const PARAMS: &[Param] = &[
    Param::new(
        "initial",
        "20",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "the limit a key starts with",
    ),
    Param::new(
        "min",
        "20",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "the floor of the limit",
    ),
    Param::new(
        "max",
        "200",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "the ceiling of the limit",
    ),
    Param::new(
        "smoothing",
        "0.2",
        Kind::Number { lo: 0.0, hi: 1.0 },
        "how far each completion moves the limit towards its target",
    ),
    Param::new(
        "queue",
        "4",
        Kind::Number { lo: 0.0, hi: 1e6 },
        "requests the target allows above limit x gradient",
    ),
    Param::new(
        "long_window",
        "600",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "samples of the long-term latency average",
    ),
];

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, String> {
    let initial = ctx.count("initial")? as f64;
    let min = ctx.count("min")? as f64;
    let max = ctx.count("max")? as f64;
    if !(min <= initial && initial <= max) {
        return Err(format!(
            "limiter gradient: needs min <= initial <= max, found {min}, {initial}, {max}"
        ));
    }
    Ok(Box::new(Gradient {
        initial,
        min,
        max,
        smoothing: ctx.number("smoothing")?,
        queue: ctx.number("queue")?,
        long_window: ctx.count("long_window")? as f64,
        state: KeyMap::default(),
    }))
}

impl Gradient {
    fn fresh(&self, in_flight: u64) -> State {
        State {
            limit: self.initial,
            in_flight,
            long: 0.0,
            samples: 0,
        }
    }
}

impl Limiter for Gradient {
    fn decide(&mut self, key: u64, _now: SimTime) -> Decision {
        let fresh = self.fresh(0);
        let s = self.state.entry(key, || fresh);
        if (s.in_flight as f64) < s.limit.floor() {
            s.in_flight += 1;
            Decision::Allow
        } else {
            Decision::Deny { retry_after: 0 }
        }
    }

    fn complete(&mut self, key: u64, _now: SimTime, latency: SimTime) {
        let fresh = self.fresh(1);
        let (min, max, smoothing, queue) = (self.min, self.max, self.smoothing, self.queue);
        let factor = 2.0 / (self.long_window + 1.0);
        let s = self.state.entry(key, || fresh);
        let rtt = latency.max(1) as f64;
        if s.samples < WARMUP {
            s.samples += 1;
            s.long += (rtt - s.long) / s.samples as f64;
        } else {
            s.long = s.long * (1.0 - factor) + rtt * factor;
        }
        if s.long / rtt > 2.0 {
            s.long *= 0.9;
        }
        let grows = s.in_flight as f64 >= s.limit / 2.0;
        s.in_flight -= 1;
        if !grows {
            return;
        }
        let gradient = (s.long / rtt).clamp(0.5, 1.0);
        let target = s.limit * gradient + queue;
        s.limit = (s.limit * (1.0 - smoothing) + target * smoothing).clamp(min, max);
    }

    fn holds_slots(&self) -> bool {
        true
    }

    /// Idle keys forget their learned limit and latency.
    fn evict_idle(&mut self, _now: SimTime) {
        self.state.retain(|s| s.in_flight > 0);
    }

    fn keys(&self) -> usize {
        self.state.len()
    }

    fn state_bytes(&self) -> usize {
        self.state.bytes()
    }
}
