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
//! quickly after an overload. The defaults, in [`PARAMS`], are the
//! library's.

use super::BoxedLimiter;
use super::registry::{LimiterCtx, REQUESTS};
use super::slots::{SlotLimit, Slotted};
use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::spec::{Kind, Param};

/// Samples averaged plainly before the exponential average takes over.
const WARMUP: u32 = 10;

pub const PARAMS: &[Param] = &[
    Param::new("initial", "20", REQUESTS, "the limit a key starts with"),
    Param::new("min", "20", REQUESTS, "the floor of the limit"),
    Param::new("max", "200", REQUESTS, "the ceiling of the limit"),
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
        REQUESTS,
        "samples of the long-term latency average",
    ),
];

#[derive(Clone)]
pub struct Gradient {
    initial: f64,
    min: f64,
    max: f64,
    smoothing: f64,
    queue: f64,
    long_window: f64,
}

/// What a key learns from its completions.
#[derive(Clone, Copy)]
pub struct Learned {
    limit: f64,
    /// Long-term average latency in ns, and samples in it (up to WARMUP).
    long: f64,
    samples: u32,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    let initial = ctx.count("initial")? as f64;
    let min = ctx.count("min")? as f64;
    let max = ctx.count("max")? as f64;
    if !(min <= initial && initial <= max) {
        return Err(format!(
            "limiter gradient: needs min <= initial <= max, found {min}, {initial}, {max}"
        )
        .into());
    }
    Ok(Box::new(Slotted::new(Gradient {
        initial,
        min,
        max,
        smoothing: ctx.number("smoothing")?,
        queue: ctx.number("queue")?,
        long_window: ctx.count("long_window")? as f64,
    })))
}

impl SlotLimit for Gradient {
    type Learned = Learned;

    fn fresh(&self) -> Learned {
        Learned {
            limit: self.initial,
            long: 0.0,
            samples: 0,
        }
    }

    fn admits(&self, s: &Learned, in_flight: u64) -> bool {
        (in_flight as f64) < s.limit.floor()
    }

    fn learn(&self, s: &mut Learned, in_flight: u64, latency: SimTime) {
        let factor = 2.0 / (self.long_window + 1.0);
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
        // No growth while fewer than half the limit are in flight.
        let grows = in_flight as f64 >= s.limit / 2.0;
        if !grows {
            return;
        }
        let gradient = (s.long / rtt).clamp(0.5, 1.0);
        let target = s.limit * gradient + self.queue;
        s.limit =
            (s.limit * (1.0 - self.smoothing) + target * self.smoothing).clamp(self.min, self.max);
    }
}
