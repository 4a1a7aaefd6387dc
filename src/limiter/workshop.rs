//! `workshop-adaptive`: the seed workshop's `AdaptiveRateLimiter`
//! (performance workshop, Exercise 2.1), rule for rule, so that users can
//! see what it does under an attack. The workshop's names are in brackets.
//!
//! Parameters, with the workshop's defaults: the base limit per window
//! [baseLimit] is rate x window, rounded (100 without a rate), `burst`
//! tokens [burstLimit] (20), `window` W [windowSize] (60 s), `adapt_every`
//! [adaptationInterval] (5 min) and the `premium` multiplier (2).
//!
//! - One bucket per key. A request opens a new bucket when the key has none
//!   or when `now - start > W` (strictly: a request exactly W after the
//!   start is still in the old bucket), so windows start at a key's first
//!   request after its previous one expired, not at multiples of W. A new
//!   bucket gets `start = now`, `burst` tokens, no requests counted and the
//!   limit [calculateDynamicLimit] in force at that moment.
//! - Each request counts in the global total [totalRequests] first. Then a
//!   burst token is spent if one is left (allow); else the window's count
//!   is raised if it is below the bucket's limit (allow); else it counts as
//!   denied [deniedRequests] and is denied until the bucket expires.
//! - The limit: base, times `premium` [2] for premium clients (the burst is
//!   not multiplied), times 0.8 if the load factor is above 0.8, then times
//!   1.2 if it is below 0.3, rounded down (to 0 possibly: then only the
//!   burst is admitted).
//! - The load factor [getSystemLoadFactor]: min(2 x the mean of
//!   denied/total over the last 10 adaptation points, 1); 0.5 before the
//!   first point. denied and total are cumulative since the start: the
//!   workshop code never resets them.
//! - Adaptation [adaptLimits, setInterval]: the limiter is constructed at
//!   the first request (trace times may be epoch times, so not at time 0),
//!   and every `adapt_every` after that an adaptation
//!   point records denied/total of all requests so far and moves the base
//!   [adjustBaseLimits]: if more than 10% were denied,
//!   base = min(base x 1.1, 1000); if fewer than 1%,
//!   base = max(base x 0.95, 10) (which raises a base below 10 to 10).
//!   The points due at or before a request's time are applied, in order,
//!   before it is decided. The base is not rounded; limits are.
//!
//! JavaScript's NaN cases: denied/total is 0/0 = NaN at a point before any
//! request, which the workshop code would record (no base change, and a
//! load factor of NaN, for which neither adjustment applies, until ten
//! later points pushed it out). With the clock started at the first request
//! every point has at least one request, so that cannot happen here; the
//! code below still propagates a NaN as JavaScript would.
//!
//! Not modelled: the workshop keeps 100 history points but reads only the
//! last 10, so 10 are kept; its `resetTime` is the bucket's last instant,
//! at which a retry is still denied, so `retry_after` here is 1 ns later,
//! the first instant at which the bucket has expired.

use std::collections::VecDeque;

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::spec::{Kind, Param};

/// Adaptation points the load factor averages.
const HISTORY: usize = 10;

#[derive(Clone)]
pub struct Workshop {
    /// W [windowSize].
    window: SimTime,
    /// Tokens of a new bucket [burstLimit].
    burst: u64,
    /// Multiplier of premium clients' limits.
    premium: f64,
    /// [baseLimit], adapted over time.
    base: f64,
    /// [adaptationInterval].
    adapt_every: SimTime,
    /// The next adaptation point; None before the first request.
    next_adapt: Option<SimTime>,
    /// Requests so far [totalRequests].
    total: u64,
    /// Of which denied [deniedRequests].
    denied: u64,
    /// denied / total at the last adaptation points, oldest first.
    history: VecDeque<f64>,
    buckets: KeyMap<Bucket>,
}

#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Bucket {
    start: SimTime,
    burst_tokens: u64,
    requests: u64,
    limit: u64,
}

/// The workshop's adaptation interval.
pub const PARAMS: &[Param] = &[Param::new(
    "adapt_every",
    "5min",
    Kind::Duration,
    "time between adaptation points",
)];

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    // The registry's defaults are the workshop's: 100 per 60 s window and
    // 20 burst tokens.
    Ok(Box::new(Workshop::new(
        ctx.window_limit()? as f64,
        ctx.burst() as u64,
        ctx.window(),
        ctx.duration("adapt_every")?,
        ctx.premium(),
    )))
}

impl Workshop {
    fn new(base: f64, burst: u64, window: SimTime, adapt_every: SimTime, premium: f64) -> Self {
        Workshop {
            window,
            burst,
            premium,
            base,
            adapt_every,
            next_adapt: None,
            total: 0,
            denied: 0,
            history: VecDeque::with_capacity(HISTORY + 1),
            buckets: KeyMap::default(),
        }
    }

    /// Applies the adaptation points due at or before `now`, each with the
    /// counters as they are (no request came between them).
    fn adapt(&mut self, now: SimTime) {
        let Some(mut next) = self.next_adapt else {
            // Constructed now: the first point is one interval later.
            self.next_adapt = Some(now.saturating_add(self.adapt_every));
            return;
        };
        while next <= now {
            let rate = self.denied as f64 / self.total as f64;
            self.history.push_back(rate);
            if self.history.len() > HISTORY {
                self.history.pop_front();
            }
            let before = self.base;
            if rate > 0.1 {
                self.base = (self.base * 1.1).min(1000.0);
            }
            if rate < 0.01 {
                self.base = (self.base * 0.95).max(10.0);
            }
            next = next.saturating_add(self.adapt_every);
            // Once the history holds only this rate and the base has
            // stopped moving, the remaining due points change nothing:
            // skip them (a long idle gap would otherwise cost a loop turn
            // per interval).
            if next <= now
                && self.base == before
                && self.history.len() == HISTORY
                && self.history.iter().all(|&r| r == rate)
            {
                let skipped = (now - next) / self.adapt_every + 1;
                next = next.saturating_add(skipped.saturating_mul(self.adapt_every));
            }
        }
        self.next_adapt = Some(next);
    }

    /// [getSystemLoadFactor]
    fn load_factor(&self) -> f64 {
        if self.history.is_empty() {
            return 0.5;
        }
        let mean = self.history.iter().fold(0.0, |sum, r| sum + r) / self.history.len() as f64;
        let load = mean * 2.0;
        // Math.min(load, 1), which is NaN when load is (f64::min is not).
        if load > 1.0 { 1.0 } else { load }
    }

    /// [calculateDynamicLimit]
    fn dynamic_limit(&self, premium: bool) -> u64 {
        let mut limit = self.base;
        if premium {
            limit *= self.premium;
        }
        let load = self.load_factor();
        if load > 0.8 {
            limit *= 0.8;
        }
        if load < 0.3 {
            limit *= 1.2;
        }
        limit.floor() as u64
    }

    /// [checkLimit]
    fn check(&mut self, key: u64, premium: bool, now: SimTime) -> Decision {
        self.adapt(now);
        self.total += 1;
        let window = self.window;
        let fresh = match self.buckets.get(key) {
            Some(b) if now - b.start <= window => None,
            _ => Some(Bucket {
                start: now,
                burst_tokens: self.burst,
                requests: 0,
                limit: self.dynamic_limit(premium),
            }),
        };
        let b = self.buckets.entry(key, Bucket::default);
        if let Some(fresh) = fresh {
            *b = fresh;
        }
        if b.burst_tokens > 0 {
            b.burst_tokens -= 1;
            Decision::Allow
        } else if b.requests < b.limit {
            b.requests += 1;
            Decision::Allow
        } else {
            self.denied += 1;
            Decision::Deny {
                retry_after: b.start + window + 1 - now,
            }
        }
    }
}

impl Limiter for Workshop {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.check(key, false, now)
    }

    fn decide_premium(&mut self, key: u64, now: SimTime) -> Decision {
        self.check(key, true, now)
    }

    /// An expired bucket is replaced at the key's next request whatever it
    /// held, so dropping it changes no decision.
    fn evict_idle(&mut self, now: SimTime) {
        let window = self.window;
        self.buckets
            .retain(|b| now.saturating_sub(b.start) <= window);
    }

    fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn state_bytes(&self) -> usize {
        self.buckets.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SECOND;

    const S: SimTime = SECOND;

    /// Base 10 per 10 s window, 2 burst tokens, adaptation every 30 s,
    /// premium x2: the workshop's rules at a hand-checkable scale.
    fn small() -> Workshop {
        Workshop::new(10.0, 2, 10 * S, 30 * S, 2.0)
    }

    /// `n` requests of `key` at `t` seconds: the number allowed, checking
    /// that they come first and that every denial has `retry_after`.
    fn send(
        l: &mut Workshop,
        t: u64,
        key: u64,
        premium: bool,
        n: u64,
        retry_after: SimTime,
    ) -> u64 {
        let decisions: Vec<Decision> = (0..n)
            .map(|_| match premium {
                false => l.decide(key, t * S),
                true => l.decide_premium(key, t * S),
            })
            .collect();
        let allowed = decisions.iter().take_while(|d| d.admitted()).count();
        assert!(
            decisions[allowed..]
                .iter()
                .all(|&d| d == Decision::Deny { retry_after }),
            "t={t}s key {key}: {decisions:?}"
        );
        allowed as u64
    }

    /// Two users, standard A and premium P, plus B and a crowd of one-time
    /// clients, across several windows and three adaptation points. Every
    /// expected value is worked out by hand from the workshop's code (and
    /// agrees with that code run on a fake clock).
    #[test]
    fn follows_the_workshop_rules_request_by_request() {
        let (a, p, b) = (1, 2, 3);
        let mut l = small();
        // Phase 1: no adaptation point yet, so the load factor is 0.5:
        // neither x0.8 nor x1.2. Limits: A floor(10) = 10, P floor(10 x 2)
        // = 20. The clock starts at the first request (1 s): points are
        // due at 31 s, 61 s, 91 s.

        // t=1: A opens a bucket at 1 s: 2 burst tokens, then 10 counted:
        // 12 allowed, the 13th denied until the bucket expires at
        // 1 + 10 s (+1 ns): retry after 10 s + 1 ns. [T=13, D=1]
        assert_eq!(send(&mut l, 1, a, false, 3, 0), 3);
        // The burst is spent before the window's count.
        let bucket = |l: &Workshop, key| *l.buckets.get(key).unwrap();
        assert_eq!(
            bucket(&l, a),
            Bucket {
                start: S,
                burst_tokens: 0,
                requests: 1,
                limit: 10
            }
        );
        assert_eq!(send(&mut l, 1, a, false, 10, 10 * S + 1), 9);
        // t=5: P opens a bucket at 5 s: limit doubled to 20 but still 2
        // burst tokens: 22 allowed of 23. [T=36, D=2]
        assert_eq!(send(&mut l, 5, p, true, 23, 10 * S + 1), 22);
        // t=11: 11 - 1 = 10 s is not > 10 s: still A's first bucket, which
        // is spent: denied, retry after 1 + 10 - 11 s + 1 ns. [T=37, D=3]
        assert_eq!(send(&mut l, 11, a, false, 1, 1), 0);
        // t=12: 12 - 1 > 10: A opens a bucket at 12 s: 12 allowed. [T=49]
        assert_eq!(send(&mut l, 12, a, false, 12, 0), 12);
        // t=21: 21 - 12 = 9 s: the same bucket (aligned windows would have
        // started a fresh one at 20 s): all 24 denied, retry after
        // 12 + 10 - 21 s + 1 ns. [T=73, D=27]
        assert_eq!(send(&mut l, 21, a, false, 24, S + 1), 0);
        // t=30: B's limit is still 10 (no point at 30 s: the clock started
        // at 1 s): 12 of 13. [T=86, D=28]
        assert_eq!(send(&mut l, 30, b, false, 13, 10 * S + 1), 12);
        assert_eq!((l.total, l.denied, l.base), (86, 28, 10.0));

        // Point at 31 s, applied before the request at 31 s: cumulative
        // 28/86 = 0.3256 denied > 0.1, so base = min(10 x 1.1, 1000) = 11
        // (exactly 11 in binary floating point). Load factor
        // min(2 x 0.3256, 1) = 0.651: no adjustment, limits 11 and 22.
        // t=31: A (31 - 12 > 10) opens a bucket: 2 + 11 = 13 of 14.
        // [T=100, D=29]
        assert_eq!(send(&mut l, 31, a, false, 14, 10 * S + 1), 13);
        assert_eq!(l.base, 11.0);
        assert_eq!(l.history, [28.0 / 86.0]);
        // t=35: P (35 - 5 > 10) opens a bucket: 2 + 22 = 24 of 25.
        // [T=125, D=30]
        assert_eq!(send(&mut l, 35, p, true, 25, 10 * S + 1), 24);
        // t=40: 2900 one-time clients, each allowed on a burst token.
        // [T=3025, D=30]
        for c in 0..2900 {
            assert_eq!(send(&mut l, 40, 1000 + c, false, 1, 0), 1);
        }

        // Point at 61 s (applied at the request at 65 s): cumulative
        // 30/3025 = 0.0099 < 0.01 (the requests since 31 s alone had 1
        // denied in 2939, the same side), so base = max(11 x 0.95, 10) =
        // 10.45. Load factor: the MEAN of the history, 0.3256 + 0.0099 =
        // 0.3355 after x2: no adjustment (the last point alone would give
        // 0.0198 < 0.3 and x1.2, a limit of 12).
        // t=65: A (65 - 31 > 10) opens a bucket, limit floor(10.45) = 10:
        // 12 of 14. [T=3039, D=32]
        assert_eq!(send(&mut l, 65, a, false, 14, 10 * S + 1), 12);
        assert_eq!(l.base, 11.0 * 0.95);
        assert_eq!(l.history, [28.0 / 86.0, 30.0 / 3025.0]);

        // Point at 91 s (applied at 95 s): cumulative 32/3039 = 0.0105,
        // between 1% and 10%: the base stays 10.45 (the requests since
        // 61 s alone had 2/14 = 14% denied, which would raise it). Load
        // factor 2 x mean(0.3256, 0.0099, 0.0105) = 0.2307 < 0.3: x1.2.
        // t=95: A (95 - 65 > 10): floor(10.45 x 1.2) = floor(12.54) = 12:
        // 14 of 15. P (95 - 35 > 10): floor(10.45 x 2 x 1.2) =
        // floor(25.08) = 25: 27 of 28. [T=3082, D=34]
        assert_eq!(send(&mut l, 95, a, false, 15, 10 * S + 1), 14);
        assert_eq!(send(&mut l, 95, p, true, 28, 10 * S + 1), 27);
        assert_eq!(l.base, 11.0 * 0.95);
        assert_eq!(l.history, [28.0 / 86.0, 30.0 / 3025.0, 32.0 / 3039.0]);
        assert_eq!((l.total, l.denied), (3082, 34));
    }

    /// A limiter built by the registry: `rate` per second in 1 s windows,
    /// `burst` tokens, adaptation every 10 s.
    fn built(rate: f64, burst: u32) -> crate::limiter::KeyedLimiter {
        use crate::limiter::{KeyBy, LimiterSpec, build};
        let spec = LimiterSpec {
            window: Some(crate::units::Duration(S)),
            ..LimiterSpec::new(
                "workshop-adaptive(adapt_every=10s)",
                Some(rate),
                Some(burst),
                KeyBy::Client,
            )
            .unwrap()
        };
        build(&spec).unwrap()
    }

    fn request(client: u32, time: SimTime) -> crate::workload::Request {
        crate::workload::Request {
            client,
            time,
            ..Default::default()
        }
    }

    #[test]
    fn an_attack_raises_the_base_limit() {
        // One client sends 100 requests at w s + 0, 1, ..., 99 ns in each
        // 1 s window w, at base 20, burst 5.
        let mut l = built(20.0, 5);
        let got: Vec<u64> = (0..31)
            .map(|w| {
                (0..100)
                    .filter(|i| {
                        let now = w * S + i;
                        l.decide(&request(1, now), now).admitted()
                    })
                    .count() as u64
            })
            .collect();
        // Window 0: load factor 0.5 before any adaptation: 5 + 20.
        // Window w's bucket opens at w s + w ns (the first request more
        // than 1 s after the previous opening); the earlier ones are
        // denied in the spent previous bucket. Still 5 + 20.
        assert_eq!((got[0], got[1], got[9]), (25, 25, 25));
        // At 10 s: 750 of 1000 denied, base 22, load factor
        // min(2 x 0.75, 1) = 1 > 0.8: 5 + floor(22 x 0.8 = 17.6).
        assert_eq!((got[10], got[19]), (22, 22));
        // At 20 s: 1530/2000 denied (cumulative), base 24.2, load 1:
        // 5 + floor(19.36); at 30 s: base 26.62: 5 + floor(21.296).
        assert_eq!((got[20], got[30]), (24, 26));
    }

    #[test]
    fn quiet_traffic_lowers_it_to_the_floor() {
        // Base 11, burst 1. One request per second, never denied: the base
        // falls to 11 x 0.95 = 10.45 at 10 s, to the floor of 10 at 20 s,
        // and stays there at 30 s.
        let mut l = built(11.0, 1);
        for t in 0..30 {
            assert!(l.decide(&request(1, t * S), t * S).admitted());
        }
        // At 30 s the load factor is 0 < 0.3: a new bucket gets
        // 1 + floor(10 x 1.2) = 13.
        let now = 30 * S;
        let admitted = (0..20)
            .filter(|_| l.decide(&request(2, now), now).admitted())
            .count();
        assert_eq!(admitted, 13);
    }

    #[test]
    fn evicting_expired_buckets_changes_no_decision() {
        let run = |evict: bool| {
            let mut l = small();
            let mut got = Vec::new();
            // Bursts of 13 every 5 s from two keys; a bucket is evicted
            // only once `now - start > W`, never at exactly W.
            for (i, t) in (0..40).map(|i| (i, i * 5 * S)) {
                if evict {
                    l.evict_idle(t);
                }
                for _ in 0..13 {
                    got.push(l.decide(i % 2, t));
                }
            }
            (got, l.keys())
        };
        let (kept, kept_keys) = run(false);
        let (evicted, evicted_keys) = run(true);
        assert_eq!(kept, evicted);
        // At 195 s key 0's bucket (opened at 180 s) was dropped, key 1's
        // (185 s) kept.
        assert_eq!((kept_keys, evicted_keys), (2, 1));
        let mut l = small();
        l.decide(1, 0);
        l.evict_idle(10 * S);
        assert_eq!(l.keys(), 1, "a bucket exactly W old is still in force");
        l.evict_idle(10 * S + 1);
        assert_eq!(l.keys(), 0);
    }

    #[test]
    fn a_long_idle_gap_skips_points_that_change_nothing() {
        // Each adaptation point after the last request applied one by one,
        // against all of them applied at once a day later. 20 requests:
        // 8/20 denied, the base climbs to the 1000 cap and stays; 13
        // requests: 1/13 denied, the base never moves.
        for (requests, base) in [(20, 1000.0), (13, 10.0)] {
            let start = || {
                let mut l = Workshop::new(10.0, 2, 10 * S, S, 2.0);
                for _ in 0..requests {
                    l.decide(1, 0);
                }
                l
            };
            let (mut stepwise, mut at_once) = (start(), start());
            let day = 86_400 * S;
            for t in 1..=86_400 {
                stepwise.adapt(t * S);
            }
            at_once.adapt(day);
            assert_eq!(at_once.base, base);
            assert_eq!(at_once.history.len(), HISTORY);
            assert_eq!(
                (stepwise.base, &stepwise.history, stepwise.next_adapt),
                (at_once.base, &at_once.history, at_once.next_adapt)
            );
            assert_eq!(at_once.next_adapt, Some(day + S));
        }
    }

    #[test]
    fn a_nan_denial_rate_changes_nothing_as_in_javascript() {
        // Unreachable here (every point follows a request), but followed:
        // a NaN in the history makes the load factor NaN, and neither
        // adjustment applies.
        let mut l = small();
        l.history.push_back(f64::NAN);
        assert!(l.load_factor().is_nan());
        assert_eq!((l.dynamic_limit(false), l.dynamic_limit(true)), (10, 20));
    }
}
