//! `workshop-adaptive`: the seed workshop's AdaptiveRateLimiter, rule for
//! rule, so that users can see what it does under an attack.
//!
//! - Fixed windows of length W; the base limit starts at rate x W requests
//!   per window and every key may have `limit + burst` requests admitted per
//!   window (`burst` tokens are added to every window).
//! - Premium clients get 2x (the premium multiplier defaults to 2 here).
//! - Load adjustment, per key and per window: the key's recent load factor is
//!   its arrivals in the previous window over its limit then; the window's
//!   limit is `base x 0.8` when that factor is above 0.8, `base x 1.2` when
//!   below 0.3, else `base`.
//! - Adaptation, every `adapt_every` [default 10s] of traffic: if more than
//!   10% of the requests since the last adaptation were denied the base limit
//!   rises by 10% (capped at 1000); if fewer than 1% were, it falls by 5%
//!   (floored at 10). Under an attack the denials are the attacker's, so the
//!   base limit rises: the policy loosens exactly when it should not.

use super::registry::Ctx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::{SECOND, SimTime};

pub struct Workshop {
    window: u64,
    burst: u64,
    /// Base limit per window, adapted over time.
    base: f64,
    adapt_every: SimTime,
    next_adapt: SimTime,
    seen: u64,
    denied: u64,
    keys: KeyMap<State>,
}

#[derive(Clone, Copy, Default)]
struct State {
    window: u64,
    arrivals: u64,
    admitted: u64,
    limit: u64,
}

pub fn build(ctx: &Ctx) -> Result<BoxedLimiter, String> {
    ctx.allow(&["adapt_every"])?;
    let adapt_every = ctx.duration("adapt_every", 10 * SECOND)?;
    Ok(Box::new(Workshop {
        window: ctx.window(),
        burst: ctx.window_burst(),
        base: ctx.window_limit()? as f64,
        adapt_every,
        next_adapt: adapt_every,
        seen: 0,
        denied: 0,
        keys: KeyMap::default(),
    }))
}

impl Workshop {
    /// The base-limit rule, applied at most once per decision.
    fn adapt(&mut self, now: SimTime) {
        if now < self.next_adapt {
            return;
        }
        self.next_adapt = (now / self.adapt_every + 1) * self.adapt_every;
        if self.seen > 0 {
            let denial_rate = self.denied as f64 / self.seen as f64;
            if denial_rate > 0.10 {
                self.base = (self.base * 1.10).min(1000.0);
            } else if denial_rate < 0.01 {
                self.base = (self.base * 0.95).max(10.0);
            }
        }
        self.seen = 0;
        self.denied = 0;
    }

    /// This window's limit for a key whose previous window is given.
    fn window_limit(&self, previous_arrivals: u64, previous_limit: u64) -> u64 {
        let load = if previous_limit == 0 {
            0.0
        } else {
            previous_arrivals as f64 / previous_limit as f64
        };
        let factor = if load > 0.8 {
            0.8
        } else if load < 0.3 {
            1.2
        } else {
            1.0
        };
        (self.base * factor).floor().max(1.0) as u64
    }
}

impl Limiter for Workshop {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.adapt(now);
        let w = now / self.window;
        let mut s = self.keys.get(key).copied().unwrap_or(State {
            window: w,
            ..State::default()
        });
        if s.limit == 0 || s.window != w {
            let (arrivals, limit) = if s.limit > 0 && w == s.window + 1 {
                (s.arrivals, s.limit)
            } else {
                (0, 0)
            };
            s = State {
                window: w,
                limit: self.window_limit(arrivals, limit),
                ..State::default()
            };
        }
        s.arrivals += 1;
        self.seen += 1;
        let decision = if s.admitted < s.limit + self.burst {
            s.admitted += 1;
            Decision::Allow
        } else {
            self.denied += 1;
            Decision::Deny {
                retry_after: (w + 1) * self.window - now,
            }
        };
        self.keys.insert(key, s);
        decision
    }

    /// Keys idle for two windows start again as fresh ones.
    fn evict_idle(&mut self, now: SimTime) {
        let current = now / self.window;
        self.keys.retain(|s| s.window + 1 >= current);
    }

    fn keys(&self) -> usize {
        self.keys.len()
    }

    fn state_bytes(&self) -> usize {
        self.keys.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::{KeyBy, LimiterSpec, build};
    use crate::workload::Request;

    /// Admitted requests of a client sending `per_window` at the start of
    /// each 1s window, for `windows` windows, at base 20/window, burst 5.
    fn admitted_per_window(per_window: u64, windows: u64) -> Vec<u64> {
        let spec =
            LimiterSpec::new("workshop-adaptive", Some(20.0), Some(5), KeyBy::Client).unwrap();
        let mut l = build(&spec).unwrap();
        (0..windows)
            .map(|w| {
                (0..per_window)
                    .filter(|i| {
                        let now = w * SECOND + i;
                        l.decide(
                            &Request {
                                client: 1,
                                time: now,
                                ..Request::default()
                            },
                            now,
                        )
                        .admitted()
                    })
                    .count() as u64
            })
            .collect()
    }

    #[test]
    fn an_attack_raises_the_base_limit() {
        let got = admitted_per_window(100, 31);
        // Window 0: fresh key, load 0 < 0.3 -> 20 x 1.2 + 5 burst.
        assert_eq!(got[0], 29);
        // Then load 100/24 > 0.8 -> 20 x 0.8 + 5.
        assert_eq!(got[1], 21);
        // Every 10s more than 10% were denied: base 22, then 24.2.
        assert_eq!(
            (got[10], got[20], got[30]),
            (
                (22.0f64 * 0.8) as u64 + 5,
                (24.2f64 * 0.8) as u64 + 5,
                (26.62f64 * 0.8) as u64 + 5
            )
        );
    }

    #[test]
    fn quiet_traffic_lowers_it_to_the_floor() {
        let spec = LimiterSpec::new("workshop-adaptive", Some(11.0), None, KeyBy::Client).unwrap();
        let mut l = build(&spec).unwrap();
        // One request per window: never denied, so the base falls 5% per 10s
        // from 11 to the floor of 10; a fresh key gets floor(base x 1.2).
        for w in 0..30 {
            let now = w * SECOND;
            assert!(
                l.decide(
                    &Request {
                        client: 1,
                        time: now,
                        ..Request::default()
                    },
                    now
                )
                .admitted()
            );
        }
        let now = 30 * SECOND;
        let burst: usize = (0..20)
            .filter(|_| {
                l.decide(
                    &Request {
                        client: 2,
                        time: now,
                        ..Request::default()
                    },
                    now,
                )
                .admitted()
            })
            .count();
        assert_eq!(burst, 12);
    }
}
