//! The service behind the limiter: the pipeline clients -> limiter -> cache
//! -> origin, simulated with the event queue.
//!
//! The model is deliberately small. Each request arrives at its trace time
//! and the limiter decides at once. A denied request ends there. An admitted
//! one enters after its shaping delay (if any), looks the cache up (when the
//! run has one) and, on a miss or without a cache, goes to the origin:
//! `servers` identical servers, one request each, fed by one unbounded FIFO
//! queue, each service taking a time drawn from `service_time` (an M/G/c
//! queue for Poisson arrivals). A hit, or any request when there is no
//! origin, completes as soon as it enters. On completion the limiter is told
//! the latency (completion - arrival, so shaping delay and queueing count),
//! which releases concurrency slots and feeds AIMD and gradient.
//!
//! Events at the same instant run in the order they were scheduled (the
//! event queue's sequence numbers); a completion due exactly when a request
//! arrives is handled first, so its slot is free for that request.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp, LogNormal};
use serde::Deserialize;

use crate::cache::{DynReplay, Replay};
use crate::engine::{EventQueue, RngStream, SECOND, SimTime, stream};
use crate::limiter::{Decision, KeyedLimiter};
use crate::units::{Duration, checked};
use crate::workload::Request;

/// `[service]`: the origin behind the limiter and cache.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Requests served at once.
    #[serde(deserialize_with = "checked::positive")]
    pub servers: u64,
    pub service_time: ServiceTime,
}

/// How long one request occupies a server.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum ServiceTime {
    Fixed {
        time: Duration,
    },
    Exponential {
        mean: Duration,
    },
    Lognormal {
        median: Duration,
        #[serde(deserialize_with = "checked::positive_real")]
        sigma: f64,
    },
}

enum Sampler {
    Fixed(SimTime),
    Exponential(Exp<f64>),
    Lognormal(LogNormal<f64>),
}

impl ServiceTime {
    fn sampler(&self) -> Result<Sampler, String> {
        let seconds = |d: Duration| d.0 as f64 / SECOND as f64;
        Ok(match *self {
            ServiceTime::Fixed { time } => Sampler::Fixed(time.0),
            ServiceTime::Exponential { mean } if mean.0 > 0 => Sampler::Exponential(
                Exp::new(1.0 / seconds(mean)).map_err(|e| format!("service_time: {e}"))?,
            ),
            ServiceTime::Exponential { .. } => {
                return Err("service_time: the mean must be longer than zero".into());
            }
            ServiceTime::Lognormal { median, sigma } if median.0 > 0 => Sampler::Lognormal(
                LogNormal::new(seconds(median).ln(), sigma)
                    .map_err(|e| format!("service_time: {e}"))?,
            ),
            ServiceTime::Lognormal { .. } => {
                return Err("service_time: the median must be longer than zero".into());
            }
        })
    }
}

impl Sampler {
    fn sample(&self, rng: &mut RngStream) -> SimTime {
        let seconds = match self {
            Sampler::Fixed(t) => return *t,
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::Lognormal(d) => d.sample(rng),
        };
        (seconds * SECOND as f64).round() as SimTime
    }
}

/// Idle limiter state is dropped once per this much simulated time.
pub const EVICT_EVERY: SimTime = SECOND;

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    pub decision: Decision,
    /// Completion time (admitted requests only).
    pub done: SimTime,
}

/// The result of one pass through the pipeline.
pub struct Outcome {
    /// One per request, in input order.
    pub fates: Vec<Fate>,
    /// Most limiter keys and state bytes held at any time.
    pub peak_keys: usize,
    pub peak_state_bytes: usize,
}

/// A cache and the replay state it counts into.
pub type CacheStage<'a> = (&'a mut dyn DynReplay, &'a mut Replay);

enum Event {
    /// An admitted request enters after its shaping delay.
    Enter(usize),
    /// The origin finished a request.
    Done(usize),
}

struct Origin {
    servers: u64,
    busy: u64,
    waiting: VecDeque<usize>,
    times: Sampler,
    rng: RngStream,
}

impl Origin {
    fn start(&mut self, i: usize, now: SimTime, events: &mut EventQueue<Event>) {
        self.busy += 1;
        events.push(now + self.times.sample(&mut self.rng), Event::Done(i));
    }
}

struct Pipeline<'r, 'a> {
    requests: &'r [Request],
    limiter: Option<&'a mut KeyedLimiter>,
    cache: Option<CacheStage<'a>>,
    origin: Option<Origin>,
    events: EventQueue<Event>,
    fates: Vec<Fate>,
}

impl Pipeline<'_, '_> {
    fn arrive(&mut self, i: usize, now: SimTime) {
        let decision = match self.limiter.as_deref_mut() {
            Some(l) => l.decide(&self.requests[i], now),
            None => Decision::Allow,
        };
        self.fates[i].decision = decision;
        match decision {
            Decision::Allow => self.enter(i, now),
            Decision::Delay { by } => self.events.push(now + by, Event::Enter(i)),
            Decision::Deny { .. } => {}
        }
    }

    /// Cache lookup, then the origin on a miss; completes at once otherwise.
    fn enter(&mut self, i: usize, now: SimTime) {
        let req = &self.requests[i];
        let hit = self.cache.as_mut().is_some_and(|(c, state)| {
            let before = state.stats.hits;
            c.replay_dyn(std::slice::from_ref(&Request { time: now, ..*req }), state);
            state.stats.hits > before
        });
        match self.origin.as_mut() {
            Some(o) if !hit => {
                if o.busy < o.servers {
                    o.start(i, now, &mut self.events);
                } else {
                    o.waiting.push_back(i);
                }
            }
            _ => self.complete(i, now),
        }
    }

    fn complete(&mut self, i: usize, now: SimTime) {
        self.fates[i].done = now;
        let req = &self.requests[i];
        if let Some(l) = self.limiter.as_deref_mut() {
            l.complete(req, now, now - req.time);
        }
    }

    fn done(&mut self, i: usize, now: SimTime) {
        self.complete(i, now);
        let o = self
            .origin
            .as_mut()
            .expect("only the origin completes later");
        o.busy -= 1;
        if let Some(j) = o.waiting.pop_front() {
            o.start(j, now, &mut self.events);
        }
    }
}

/// Runs `requests` (sorted by time) through the pipeline. Fails if a
/// concurrency limiter has no `service` to complete its requests.
pub fn simulate<'a>(
    requests: &[Request],
    limiter: Option<&'a mut KeyedLimiter>,
    cache: Option<CacheStage<'a>>,
    service: Option<&ServiceSpec>,
    seed: u64,
) -> Result<Outcome, String> {
    if limiter.as_ref().is_some_and(|l| l.holds_slots()) && service.is_none() {
        return Err("this limiter holds a slot per request until it completes, so it needs a service that completes requests: add a [service] table (servers, service_time) to the experiment, or --servers and --service-time to `limit`".into());
    }
    let origin = match service {
        Some(s) => Some(Origin {
            servers: s.servers,
            busy: 0,
            waiting: VecDeque::new(),
            times: s.service_time.sampler()?,
            rng: stream(seed, "service"),
        }),
        None => None,
    };
    let admitted = Fate {
        decision: Decision::Allow,
        done: 0,
    };
    let mut p = Pipeline {
        requests,
        limiter,
        cache,
        origin,
        events: EventQueue::new(),
        fates: vec![admitted; requests.len()],
    };
    let (mut peak_keys, mut peak_state_bytes) = (0, 0);
    let mut next_evict = EVICT_EVERY;
    let mut next = 0;
    loop {
        let event_first = match (p.events.peek_time(), requests.get(next)) {
            (Some(e), Some(r)) => e <= r.time,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if event_first {
            match p.events.pop().expect("peeked") {
                (now, Event::Enter(i)) => p.enter(i, now),
                (now, Event::Done(i)) => p.done(i, now),
            }
            continue;
        }
        let now = requests[next].time;
        if let Some(l) = p.limiter.as_deref_mut().filter(|_| now >= next_evict) {
            l.evict_idle(now);
            next_evict = (now / EVICT_EVERY + 1) * EVICT_EVERY;
        }
        p.arrive(next, now);
        if let Some(l) = p.limiter.as_deref() {
            peak_keys = peak_keys.max(l.keys());
            peak_state_bytes = peak_state_bytes.max(l.state_bytes());
        }
        next += 1;
    }
    Ok(Outcome {
        fates: p.fates,
        peak_keys,
        peak_state_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::{KeyBy, LimiterSpec, build};

    fn spec(servers: u64, time_ms: u64) -> ServiceSpec {
        ServiceSpec {
            servers,
            service_time: ServiceTime::Fixed {
                time: Duration(time_ms * 1_000_000),
            },
        }
    }

    fn at(times_ms: &[u64]) -> Vec<Request> {
        times_ms
            .iter()
            .map(|&t| Request {
                time: t * 1_000_000,
                ..Request::default()
            })
            .collect()
    }

    #[test]
    fn fifo_servers_queue_requests_in_arrival_order() {
        // One server, 10ms each: arrivals at 0, 0, 5 finish at 10, 20, 30.
        let out = simulate(&at(&[0, 0, 5]), None, None, Some(&spec(1, 10)), 1).unwrap();
        let done: Vec<u64> = out.fates.iter().map(|f| f.done / 1_000_000).collect();
        assert_eq!(done, [10, 20, 30]);
        let out = simulate(&at(&[0, 0, 5]), None, None, Some(&spec(2, 10)), 1).unwrap();
        let done: Vec<u64> = out.fates.iter().map(|f| f.done / 1_000_000).collect();
        assert_eq!(done, [10, 10, 20]);
    }

    #[test]
    fn concurrency_slots_are_released_on_completion() {
        let limiter = LimiterSpec::new("concurrency(max=2)", None, None, KeyBy::Global).unwrap();
        let mut l = build(&limiter).unwrap();
        // 2 in flight until 10ms; the one at 10ms arrives after a completion.
        let reqs = at(&[0, 1, 2, 10]);
        let out = simulate(&reqs, Some(&mut l), None, Some(&spec(8, 10)), 1).unwrap();
        let admitted: Vec<bool> = out.fates.iter().map(|f| f.decision.admitted()).collect();
        assert_eq!(admitted, [true, true, false, true]);
        let mut l = build(&limiter).unwrap();
        let err = simulate(&reqs, Some(&mut l), None, None, 1).err().unwrap();
        assert!(err.contains("add a [service] table"), "{err}");
    }
}
