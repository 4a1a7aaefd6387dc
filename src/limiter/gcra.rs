//! GCRA, the generic cell rate algorithm: each key keeps one number, its
//! theoretical arrival time (TAT). With emission interval T = 1/rate and
//! tolerance tau = (burst - 1) x T, a request at `now` conforms when
//! `now >= TAT - tau`; it then moves TAT to `max(TAT, now) + T`. A key never
//! seen has TAT = now. These are the semantics of the `governor` crate, whose
//! decisions the tests compare against.

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, KeyMap, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;

#[derive(Clone)]
pub struct Gcra {
    /// Emission interval T in ns.
    t: u64,
    /// Tolerance tau in ns.
    tau: u64,
    tat: KeyMap<SimTime>,
}

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    Ok(Box::new(Gcra::new(ctx.interval()?, ctx.burst())))
}

impl Gcra {
    pub fn new(interval: u64, burst: u32) -> Self {
        Gcra {
            t: interval,
            tau: interval * (burst as u64 - 1),
            tat: KeyMap::default(),
        }
    }

    /// Tests a request and, when it conforms, books it: returns the time it
    /// is scheduled at (`max(TAT, now)`, which a shaper waits for), or the
    /// wait until it would conform.
    pub fn admit(&mut self, key: u64, now: SimTime) -> Result<SimTime, SimTime> {
        let tat = self.tat.get(key).copied().unwrap_or(now);
        let earliest = tat.saturating_sub(self.tau);
        if now < earliest {
            return Err(earliest - now);
        }
        Ok(self.book(key, tat, now))
    }

    /// Moves `key`'s TAT on by one request at `now`: to `max(tat, now) + T`.
    fn book(&mut self, key: u64, tat: SimTime, now: SimTime) -> SimTime {
        let start = tat.max(now);
        self.tat.insert(key, start + self.t);
        start
    }
}

impl Limiter for Gcra {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        match self.admit(key, now) {
            Ok(_) => Decision::Allow,
            Err(wait) => Decision::Deny { retry_after: wait },
        }
    }

    /// The TAT moves on whether or not the request conformed: it may run
    /// past `now + tau`, a debt that later requests wait out.
    fn consume(&mut self, key: u64, now: SimTime) {
        let tat = self.tat.get(key).copied().unwrap_or(now);
        self.book(key, tat, now);
    }

    /// A key whose TAT has passed behaves as a fresh one.
    fn evict_idle(&mut self, now: SimTime) {
        self.tat.retain(|tat| *tat > now);
    }

    fn keys(&self) -> usize {
        self.tat.len()
    }

    fn state_bytes(&self) -> usize {
        self.tat.bytes()
    }
}
