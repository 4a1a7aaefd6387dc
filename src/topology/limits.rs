//! A limiter in a topology's scope.
//!
//! - `location`: each location has its own copy, fresh at the start; one
//!   client spread over k locations gets up to k times the limit.
//! - `global`: one limiter decides every request, as if every location
//!   shared one exact counter.
//! - `lagged`: each location decides on its own copy of the global state;
//!   every `sync` the requests admitted anywhere since the last merge are
//!   counted, in time order, into the global state (past the limit if the
//!   locations together let too many through: for the rate algorithms the
//!   overshoot is a debt that later requests wait out, as summed counters
//!   would), and every location's copy is replaced by it. So the leak lies between the
//!   global and the per-location one: as `sync` goes to zero the copies
//!   are the global state at every decision, and as it grows they count
//!   alone.

use super::Scope;
use crate::engine::SimTime;
use crate::limiter::{Decision, KeyedLimiter};
use crate::workload::Request;

pub struct Limits<'a> {
    /// The global state; location 0's limiter in the `location` scope.
    shared: &'a mut KeyedLimiter,
    /// `location`: the limiters of locations 1.. ; `lagged`: each
    /// location's copy.
    copies: Vec<KeyedLimiter>,
    scope: Scope,
    sync: SimTime,
    next_sync: SimTime,
    /// `lagged`: requests admitted since the last merge, in decision order
    /// (which is time order).
    pending: Vec<Request>,
}

impl<'a> Limits<'a> {
    /// `limiter` (fresh) in `scope` over `locations` locations.
    pub fn new(
        limiter: &'a mut KeyedLimiter,
        scope: Scope,
        locations: usize,
        sync: SimTime,
    ) -> Self {
        let copies = match scope {
            Scope::Global => 0,
            Scope::Location => locations - 1,
            Scope::Lagged => locations,
        };
        Limits {
            copies: vec![limiter.clone(); copies],
            shared: limiter,
            scope,
            sync,
            next_sync: sync,
            pending: Vec::new(),
        }
    }

    fn at(&mut self, location: usize) -> &mut KeyedLimiter {
        match (self.scope, location) {
            (Scope::Global, _) | (Scope::Location, 0) => self.shared,
            (Scope::Location, l) => &mut self.copies[l - 1],
            (Scope::Lagged, l) => &mut self.copies[l],
        }
    }

    /// Decides on `req` arriving at `location` at `now`.
    pub fn decide(&mut self, location: usize, req: &Request, now: SimTime) -> Decision {
        if self.scope == Scope::Lagged && now >= self.next_sync {
            self.merge(now - now % self.sync);
            self.next_sync = (now / self.sync + 1) * self.sync;
        }
        let decision = self.at(location).decide(req, now);
        if self.scope == Scope::Lagged && decision.admitted() {
            self.pending.push(Request { time: now, ..*req });
        }
        decision
    }

    /// Replays what was admitted before `at` into the global state and
    /// hands every location a copy.
    fn merge(&mut self, at: SimTime) {
        for req in self.pending.drain(..) {
            self.shared.consume(&req, req.time);
        }
        self.shared.evict_idle(at);
        for copy in &mut self.copies {
            copy.clone_from(self.shared);
        }
    }

    /// A request admitted at `location` finished.
    pub fn complete(&mut self, location: usize, req: &Request, now: SimTime, latency: SimTime) {
        self.at(location).complete(req, now, latency);
    }

    /// Drops idle state; a lagged scope's global state is trimmed when it
    /// merges, as its replays run behind the clock.
    pub fn evict_idle(&mut self, now: SimTime) {
        if self.scope != Scope::Lagged {
            self.shared.evict_idle(now);
        }
        for copy in &mut self.copies {
            copy.evict_idle(now);
        }
    }

    /// Keys held over every copy.
    pub fn keys(&self) -> usize {
        self.all().map(KeyedLimiter::keys).sum()
    }

    pub fn state_bytes(&self) -> usize {
        self.all().map(KeyedLimiter::state_bytes).sum()
    }

    pub fn holds_slots(&self) -> bool {
        self.shared.holds_slots()
    }

    fn all(&self) -> impl Iterator<Item = &KeyedLimiter> {
        let shared = (self.scope != Scope::Lagged).then_some(&*self.shared);
        shared.into_iter().chain(&self.copies)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::SECOND;
    use crate::limiter::{self, KeyBy, LimiterSpec};
    use crate::workload::Request;

    /// When the first request after merging `n` admitted requests, one
    /// every 25 ms from 0, is admitted, trying every 10 ms.
    fn first_admitted_after(algorithm: &str, n: u64) -> u64 {
        let spec = LimiterSpec::new(algorithm, Some(10.0), Some(10), KeyBy::Global).unwrap();
        let mut l = limiter::build(&spec).unwrap();
        let req = Request::default();
        for i in 0..n {
            l.consume(&req, i * SECOND / 40);
        }
        let last = (n - 1) * SECOND / 40;
        (1..)
            .map(|k| last + k * SECOND / 100)
            .find(|&t| l.decide(&req, t).admitted())
            .unwrap()
    }

    #[test]
    fn a_merged_overshoot_is_owed_by_every_rate_algorithm() {
        for algorithm in [
            "token-bucket",
            "gcra",
            "leaky-bucket",
            "sliding-window-log",
            "sliding-window-counter",
        ] {
            let (at_limit, twice) = (
                first_admitted_after(algorithm, 10),
                first_admitted_after(algorithm, 20),
            );
            assert!(
                twice > at_limit,
                "{algorithm}: {at_limit} ns, then {twice} ns"
            );
        }
    }
}
