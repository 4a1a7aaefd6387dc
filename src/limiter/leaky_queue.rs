//! The leaky bucket as a queue (a shaper, like nginx `limit_req` without
//! `nodelay`): requests leave the bucket one every T = 1/rate; a request that
//! would wait at most (burst - 1) x T is delayed by that wait, one that would
//! wait longer is rejected. It admits exactly the requests GCRA admits (the
//! wait is TAT - now), so it is GCRA's schedule with the delay reported.

use super::gcra::Gcra;
use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;

#[derive(Clone)]
pub struct LeakyQueue(Gcra);

pub fn build(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    Ok(Box::new(LeakyQueue(Gcra::new(
        ctx.interval()?,
        ctx.burst(),
    ))))
}

impl Limiter for LeakyQueue {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        match self.0.admit(key, now) {
            Ok(start) if start == now => Decision::Allow,
            Ok(start) => Decision::Delay { by: start - now },
            Err(wait) => Decision::Deny { retry_after: wait },
        }
    }

    fn evict_idle(&mut self, now: SimTime) {
        self.0.evict_idle(now)
    }

    fn keys(&self) -> usize {
        self.0.keys()
    }

    fn state_bytes(&self) -> usize {
        self.0.state_bytes()
    }
}
