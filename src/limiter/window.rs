//! What the window algorithms (fixed window, sliding log, sliding counter)
//! share: a limit of L = rate x W requests per window W, the `count`
//! parameter, and what a decision and a merged count do with a key's counts.
//! Each algorithm is only its per-key counts, a [`Counter`].

use super::registry::LimiterCtx;
use super::{BoxedLimiter, Decision, Limiter};
use crate::engine::SimTime;
use crate::error::ConfigError;
use crate::spec::{Kind, Param};

pub const PARAMS: &[Param] = &[Param::new(
    "count",
    "admitted",
    Kind::Word(&["admitted", "all"]),
    "whether denied requests count too (all, as Cloudflare counts) or only admitted ones",
)];

/// The limit a window algorithm enforces.
#[derive(Clone, Copy)]
pub struct Rule {
    /// W, in ns.
    pub window: u64,
    /// L, requests per window.
    pub limit: u64,
    /// Whether denied requests count towards the limit too (`count=all`).
    pub count_all: bool,
}

/// The per-key counts of one window algorithm.
pub trait Counter: Clone + Default + Send + 'static {
    /// Decides on a request for `key` at `now`; counts it even when it is
    /// denied if `always`.
    fn count(&mut self, rule: &Rule, key: u64, now: SimTime, always: bool) -> Decision;

    /// Drops the counts that no longer matter at `now`.
    fn evict_idle(&mut self, rule: &Rule, now: SimTime);

    fn keys(&self) -> usize;

    fn state_bytes(&self) -> usize;
}

/// A window algorithm: its rule and its counts.
#[derive(Clone)]
pub struct Windowed<C> {
    rule: Rule,
    counts: C,
}

/// Builds the window algorithm whose counts are `C`.
pub fn build<C: Counter>(ctx: &LimiterCtx) -> Result<BoxedLimiter, ConfigError> {
    let rule = Rule {
        window: ctx.window(),
        limit: ctx.window_limit()?,
        count_all: ctx.word("count")? == "all",
    };
    Ok(Box::new(Windowed {
        rule,
        counts: C::default(),
    }))
}

impl<C: Counter> Limiter for Windowed<C> {
    fn decide(&mut self, key: u64, now: SimTime) -> Decision {
        self.counts.count(&self.rule, key, now, self.rule.count_all)
    }

    /// Counts it even past the limit: the overshoot is owed.
    fn consume(&mut self, key: u64, now: SimTime) {
        self.counts.count(&self.rule, key, now, true);
    }

    fn evict_idle(&mut self, now: SimTime) {
        self.counts.evict_idle(&self.rule, now);
    }

    fn keys(&self) -> usize {
        self.counts.keys()
    }

    fn state_bytes(&self) -> usize {
        self.counts.state_bytes()
    }
}
