//! AIMD concurrency limit, after Netflix concurrency-limits' `AIMDLimit`:
//! the limit on requests in flight grows by one when a request completes
//! within `timeout` while at least half the limit was in use, and shrinks to
//! `max(1, min(limit - 1, floor(limit x backoff)))` when one takes longer
//! than `timeout` (the library's "drop"). Defaults are the library's:
//! initial limit 10, backoff 0.9, timeout 5s; edgesim adds a ceiling `max`
//! [default 200] so that an idle key cannot grow without bound.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::spec::{Kind, Param};

#[derive(Clone)]
pub struct Aimd {
    initial: u64,
    max: u64,
    backoff: f64,
    timeout: SimTime,
    state: KeyMap<State>,
}

#[derive(Clone, Copy)]
struct State {
    limit: u64,
    in_flight: u64,
}

/// The library's defaults, and edgesim's ceiling.
pub const PARAMS: &[Param] = &[
    Param::new(
        "initial",
        "10",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "the limit a key starts with",
    ),
    Param::new(
        "max",
        "200",
        Kind::Int {
            lo: 1,
            hi: u64::MAX,
        },
        "the ceiling the limit grows to",
    ),
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

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, String> {
    let initial = ctx.count("initial")?;
    let max = ctx.count("max")?;
    if initial > max {
        return Err(format!(
            "limiter aimd: initial limit {initial} is above max {max}"
        ));
    }
    Ok(Box::new(Aimd {
        initial,
        max,
        backoff: ctx.number("backoff")?,
        timeout: ctx.duration("timeout")?,
        state: KeyMap::default(),
    }))
}

impl Limiter for Aimd {
    fn decide(&mut self, key: u64, _now: SimTime) -> Decision {
        let initial = self.initial;
        let s = self.state.entry(key, || State {
            limit: initial,
            in_flight: 0,
        });
        if s.in_flight < s.limit {
            s.in_flight += 1;
            Decision::Allow
        } else {
            Decision::Deny { retry_after: 0 }
        }
    }

    fn complete(&mut self, key: u64, _now: SimTime, latency: SimTime) {
        let (initial, max, backoff, timeout) = (self.initial, self.max, self.backoff, self.timeout);
        let s = self.state.entry(key, || State {
            limit: initial,
            in_flight: 1,
        });
        if latency > timeout {
            let cut = (s.limit as f64 * backoff).floor() as u64;
            s.limit = cut.min(s.limit - 1).max(1);
        } else if s.in_flight * 2 >= s.limit {
            s.limit = (s.limit + 1).min(max);
        }
        s.in_flight -= 1;
    }

    fn holds_slots(&self) -> bool {
        true
    }

    /// Idle keys forget their learned limit and start again from `initial`.
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
