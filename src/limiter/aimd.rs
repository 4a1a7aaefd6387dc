//! AIMD concurrency limit, after Netflix concurrency-limits' `AIMDLimit`:
//! the limit on requests in flight grows by one when a request completes
//! within `timeout` while at least half the limit was in use, and shrinks to
//! `max(1, min(limit - 1, floor(limit x backoff)))` when one takes longer
//! than `timeout` (the library's "drop"). The defaults, in [`PARAMS`], are
//! the library's; edgesim adds a ceiling `max` so that an idle key cannot
//! grow without bound.

use super::BoxedLimiter;
use super::registry::{LimiterCtx, REQUESTS};
use super::slots::{SlotLimit, Slotted};
use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::spec::{Kind, Param};

pub const PARAMS: &[Param] = &[
    Param::new("initial", "10", REQUESTS, "the limit a key starts with"),
    Param::new("max", "200", REQUESTS, "the ceiling the limit grows to"),
    Param::new(
        "backoff",
        "0.9",
        Kind::Number { lo: 0.5, hi: 0.999 },
        "what a slow completion multiplies the limit by",
    ),
    Param::new(
        "timeout",
        "5s",
        Kind::Duration,
        "latency above which a completion is slow",
    ),
];

#[derive(Clone)]
pub struct Aimd {
    initial: u64,
    max: u64,
    backoff: f64,
    timeout: SimTime,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    let initial = ctx.count("initial")?;
    let max = ctx.count("max")?;
    if initial > max {
        return Err(format!("limiter aimd: initial limit {initial} is above max {max}").into());
    }
    Ok(Box::new(Slotted::new(Aimd {
        initial,
        max,
        backoff: ctx.number("backoff")?,
        timeout: ctx.duration("timeout")?,
    })))
}

impl SlotLimit for Aimd {
    /// The key's limit.
    type Learned = u64;

    fn fresh(&self) -> u64 {
        self.initial
    }

    fn admits(&self, limit: &u64, in_flight: u64) -> bool {
        in_flight < *limit
    }

    fn learn(&self, limit: &mut u64, in_flight: u64, latency: SimTime) {
        if latency > self.timeout {
            let cut = (*limit as f64 * self.backoff).floor() as u64;
            *limit = cut.min(*limit - 1).max(1);
        } else if in_flight * 2 >= *limit {
            *limit = (*limit + 1).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::SECOND;
    use crate::limiter::{KeyBy, LimiterSpec, build};
    use crate::workload::Request;

    #[test]
    fn grows_when_busy_and_fast_and_backs_off_on_slow_completions() {
        let spec =
            LimiterSpec::new("aimd(initial=4, timeout=100ms)", None, None, KeyBy::Global).unwrap();
        let mut l = build(&spec).unwrap();
        let req = Request::default();
        let admitted = |l: &mut crate::limiter::KeyedLimiter| {
            (0..20).filter(|_| l.decide(&req, 0).admitted()).count()
        };
        assert_eq!(admitted(&mut l), 4);
        // Four fast completions: the first two see at least half the limit
        // in flight (4 of 4, 3 of 5) and grow it; the last two do not.
        for _ in 0..4 {
            l.complete(&req, 0, SECOND / 100);
        }
        assert_eq!(admitted(&mut l), 6);
        // Six slow ones: each cuts to max(1, min(limit - 1, floor(0.9 limit))):
        // 6 -> 5 -> 4 -> 3 -> 2 -> 1 -> 1.
        for _ in 0..6 {
            l.complete(&req, 0, SECOND);
        }
        assert_eq!(admitted(&mut l), 1);
    }
}
