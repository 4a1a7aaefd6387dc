//! The event loop of the service model (its rules are in the parent
//! module's documentation).
//!
//! Three sources of events are merged by time: open-loop arrivals (already
//! sorted), the event queue, and the timeout deadlines (which come due in
//! the order their fetches started, so a FIFO holds them and the queue does
//! not have to). Ties go to the event queue, then deadlines, then arrivals.

use std::collections::VecDeque;

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::load::ConnPhase;
use super::origin::{self, Origin};
use super::{Route, Sampler, ServiceSpec};
use crate::cache::{self, DynReplay, Lookup, Replay};
use crate::engine::{EventQueue, RngStream, SECOND, SimTime, stream};
use crate::limiter::{Decision, KeyedLimiter};
use crate::metrics::service::{Fate, LoopStats, Sample, Served, Status};
use crate::workload::Request;

/// Idle limiter state is dropped once per this much simulated time.
const EVICT_EVERY: SimTime = SECOND;

/// The stages a request may pass; each is optional.
pub struct Stages<'a> {
    pub limiter: Option<&'a mut KeyedLimiter>,
    /// A cache and the replay state it counts into.
    pub cache: Option<(&'a mut (dyn DynReplay + 'static), &'a mut Replay)>,
    pub service: Option<&'a ServiceSpec>,
    /// The workload's routes (`Request::route` indexes them); empty means one.
    pub routes: &'a [Route],
    /// Width of the time-series windows.
    pub window: SimTime,
}

/// Where requests come from and when they are sent.
pub enum Source<'a> {
    /// Sent at their own times; sorted by time.
    Open(&'a [Request]),
    /// Connections send the next request as soon as their previous one is
    /// answered (plus `think`); each request's client is its connection.
    Closed {
        requests: &'a mut dyn Iterator<Item = Request>,
        phases: &'a [ConnPhase],
        think: SimTime,
    },
}

/// What a pass through the pipeline did, one entry per request in the order
/// they were sent.
pub struct Outcome {
    /// The limiter's decisions; empty without a limiter (everything allowed).
    pub decisions: Vec<Decision>,
    pub fates: Vec<Fate>,
    /// Closed loop: the requests as sent (their times and connections);
    /// open loop: empty (they are the input).
    pub sent: Vec<Request>,
    pub looped: LoopStats,
    /// Most limiter keys and state bytes held at any time.
    pub peak_keys: usize,
    pub peak_state_bytes: usize,
}

impl Outcome {
    /// The requests the entries describe.
    pub fn requests<'a>(&'a self, input: &'a [Request]) -> &'a [Request] {
        if self.sent.is_empty() {
            input
        } else {
            &self.sent
        }
    }
}

enum Event {
    /// A closed-loop connection sends its next request.
    Send(u32),
    /// A closed-loop phase begins.
    Phase(usize),
    /// A request reaches the edge.
    Edge(usize),
    /// An admitted request comes out of its shaping delay.
    Enter(usize),
    /// A fetch reaches the origin.
    Origin(usize),
    /// A server finished a fetch.
    Served(usize),
    /// The origin's answer to a fetch reaches the edge.
    Fetched(usize, Status),
    /// An answer reaches its client.
    Reply(usize),
}

struct Closed<'s> {
    requests: &'s mut dyn Iterator<Item = Request>,
    phases: &'s [ConnPhase],
    think: SimTime,
    /// Connections with nothing in flight and no send scheduled.
    idle: Vec<bool>,
    /// The connection of each request.
    conn: Vec<u32>,
}

/// A delay drawn per request: a round trip (half each way) or a time spent.
struct Hop {
    sampler: Option<Sampler>,
    rng: RngStream,
}

impl Hop {
    fn new(dist: Option<&super::TimeDist>, seed: u64, name: &str) -> Result<Self, String> {
        let sampler = dist
            .filter(|d| !d.is_zero())
            .map(|d| d.sampler().map_err(|e| format!("{name}: {e}")))
            .transpose()?;
        Ok(Hop {
            sampler,
            rng: stream(seed, name),
        })
    }

    #[inline]
    fn draw(&mut self) -> SimTime {
        match &self.sampler {
            Some(s) => s.sample(&mut self.rng),
            None => 0,
        }
    }
}

struct Pipeline<'s, 'a> {
    open: &'s [Request],
    closed: Option<Closed<'s>>,
    limiter: Option<&'a mut KeyedLimiter>,
    cache: Option<(&'a mut (dyn DynReplay + 'static), &'a mut Replay)>,
    cacheable: Vec<bool>,
    origin: Option<Origin>,
    timeout: Option<SimTime>,
    coalesce: bool,
    rtt: Hop,
    origin_rtt: Hop,
    edge_time: Hop,
    events: EventQueue<Event>,
    /// (deadline, request) of fetches with a timeout, in deadline order.
    deadlines: VecDeque<(SimTime, usize)>,
    /// Key -> the request whose fetch of it is in flight.
    fetching: HashMap<u64, usize, FixedState>,
    /// Leader -> requests waiting for its fetch (coalescing).
    followers: HashMap<usize, Vec<usize>, FixedState>,
    out: Outcome,
    /// Whether each request has been answered at the edge.
    answered: Vec<bool>,
    /// Half of each request's client round trip, and of its fetch's.
    client_half: Vec<SimTime>,
    origin_half: Vec<SimTime>,
    in_system: u64,
    last: SimTime,
    window: SimTime,
    next_window: SimTime,
    next_evict: SimTime,
}

impl Pipeline<'_, '_> {
    #[inline]
    fn request(&self, i: usize) -> &Request {
        if self.closed.is_some() {
            &self.out.sent[i]
        } else {
            &self.open[i]
        }
    }

    /// Moves the clock to `now`, integrating the state since the last event
    /// and sampling at the window ends passed.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let dt = (now - self.last) as u128;
        let l = &mut self.out.looped;
        l.in_system_area += self.in_system as u128 * dt;
        if let Some(o) = &self.origin {
            l.busy_area += o.busy as u128 * dt;
            l.queue_area += o.queued() as u128 * dt;
        }
        self.last = now;
        while now >= self.next_window {
            self.sample();
            self.next_window += self.window;
        }
    }

    fn sample(&mut self) {
        let (cache_objects, cache_bytes) = match &self.cache {
            Some((c, state)) => (
                c.len() as u64,
                if state.count_objects { 0 } else { c.used() },
            ),
            None => (0, 0),
        };
        self.out.looped.samples.push(Sample {
            queue: self.origin.as_ref().map_or(0, |o| o.queued()),
            cache_objects,
            cache_bytes,
        });
    }

    /// The client sends request `i` at `now`.
    fn send(&mut self, i: usize, now: SimTime) {
        debug_assert_eq!(i, self.out.fates.len());
        self.out.fates.push(Fate {
            sent: now,
            done: now,
            ..Fate::default()
        });
        self.answered.push(false);
        if self.origin_rtt.sampler.is_some() {
            self.origin_half.push(0);
        }
        let half = self.rtt.draw() / 2;
        if self.rtt.sampler.is_some() {
            self.client_half.push(half);
        }
        self.in_system += 1;
        if half > 0 {
            self.events.push(now + half, Event::Edge(i));
        } else {
            self.edge(i, now);
        }
    }

    /// Request `i` reaches the edge: the limiter decides.
    fn edge(&mut self, i: usize, now: SimTime) {
        if self.limiter.is_none() {
            return self.enter(i, now);
        }
        let req = Request {
            time: now,
            ..*self.request(i)
        };
        let limiter = self.limiter.as_deref_mut().expect("checked above");
        if now >= self.next_evict {
            limiter.evict_idle(now);
            self.next_evict = (now / EVICT_EVERY + 1) * EVICT_EVERY;
        }
        let decision = limiter.decide(&req, now);
        self.out.peak_keys = self.out.peak_keys.max(limiter.keys());
        self.out.peak_state_bytes = self.out.peak_state_bytes.max(limiter.state_bytes());
        self.out.decisions.push(decision);
        match decision {
            Decision::Allow => self.enter(i, now),
            Decision::Delay { by } => self.events.push(now + by, Event::Enter(i)),
            Decision::Deny { .. } => self.respond(i, now, Status::Denied, Served::Nowhere, 0),
        }
    }

    /// An admitted request looks the cache up and goes on to the origin on
    /// a miss.
    fn enter(&mut self, i: usize, now: SimTime) {
        let req = Request {
            time: now,
            ..*self.request(i)
        };
        let cacheable = self
            .cacheable
            .get(req.route as usize)
            .copied()
            .unwrap_or(true);
        if let Some((c, state)) = self.cache.as_mut().filter(|_| cacheable) {
            let found = cache::lookup(&mut **c, &req, state);
            let leader = self.fetching.get(&req.key).copied();
            let hit = found == Lookup::Hit && leader.is_none();
            state.stats.record(req.size, hit, found == Lookup::Expired);
            if hit {
                let t = self.edge_time.draw();
                return self.respond(i, now, Status::Ok, Served::Cache, t);
            }
            if let Some(leader) = leader.filter(|_| self.coalesce) {
                self.out.fates[i].served = Served::Coalesced;
                self.followers.entry(leader).or_default().push(i);
                return;
            }
            // The object arrives with the oldest fetch in flight: a later
            // one (without coalescing) does not delay it.
            if self.origin.is_some() && leader.is_none() {
                self.fetching.insert(req.key, i);
            }
        }
        self.fetch(i, now);
    }

    /// Request `i` goes to the origin (answered at once when there is none).
    fn fetch(&mut self, i: usize, now: SimTime) {
        if self.origin.is_none() {
            return self.respond(i, now, Status::Ok, Served::Origin, 0);
        }
        self.out.looped.origin_requests += 1;
        self.out.fates[i].served = Served::Origin;
        if let Some(t) = self.timeout {
            self.deadlines.push_back((now + t, i));
        }
        let half = self.origin_rtt.draw() / 2;
        if half > 0 {
            self.origin_half[i] = half;
            self.events.push(now + half, Event::Origin(i));
        } else {
            self.at_origin(i, now);
        }
    }

    fn at_origin(&mut self, i: usize, now: SimTime) {
        let route = self.request(i).route;
        let origin = self.origin.as_mut().expect("fetches go to an origin");
        match origin.arrive(i, route) {
            origin::Arrival::Started(s) => self.events.push(now + s, Event::Served(i)),
            origin::Arrival::Queued => {
                let l = &mut self.out.looped;
                l.queued += 1;
                l.queue_max = l.queue_max.max(origin.queued());
            }
            origin::Arrival::Refused => self.answer_fetch(i, now, Status::Full),
        }
    }

    fn served(&mut self, i: usize, now: SimTime) {
        let origin = self.origin.as_mut().expect("only the origin serves");
        if let Some((j, s)) = origin.finish() {
            self.events.push(now + s, Event::Served(j));
        }
        self.answer_fetch(i, now, Status::Ok);
    }

    /// The origin answers fetch `i`; the answer takes half the origin round
    /// trip to reach the edge.
    fn answer_fetch(&mut self, i: usize, now: SimTime, status: Status) {
        let half = self.origin_half.get(i).copied().unwrap_or(0);
        if half > 0 {
            self.events.push(now + half, Event::Fetched(i, status));
        } else {
            self.fetched(i, now, status);
        }
    }

    /// The edge has the origin's answer to fetch `i` (ignored if it already
    /// gave up on it).
    fn fetched(&mut self, i: usize, now: SimTime, status: Status) {
        if !self.answered[i] {
            self.end_fetch(i, now, status);
        }
    }

    /// Answers fetch `i` and everyone waiting for it; a failed fetch leaves
    /// nothing cached.
    fn end_fetch(&mut self, i: usize, now: SimTime, status: Status) {
        let key = self.request(i).key;
        if self.cache.is_some() && self.fetching.get(&key) == Some(&i) {
            self.fetching.remove(&key);
            if status != Status::Ok
                && let Some((c, state)) = self.cache.as_mut()
            {
                state.removed += c.remove(key) as u64;
            }
        }
        let served = self.out.fates[i].served;
        self.respond(i, now, status, served, 0);
        if self.coalesce
            && let Some(waiting) = self.followers.remove(&i)
        {
            for j in waiting {
                self.respond(j, now, status, Served::Coalesced, 0);
            }
        }
    }

    fn deadline(&mut self, i: usize, now: SimTime) {
        if !self.answered[i] {
            self.end_fetch(i, now, Status::Timeout);
        }
    }

    /// The edge answers request `i`; the answer reaches the client after
    /// `extra` plus half the client round trip.
    fn respond(&mut self, i: usize, now: SimTime, status: Status, served: Served, extra: SimTime) {
        self.answered[i] = true;
        let fate = &mut self.out.fates[i];
        fate.status = status;
        fate.served = served;
        let delay = extra + self.client_half.get(i).copied().unwrap_or(0);
        if delay > 0 {
            self.events.push(now + delay, Event::Reply(i));
        } else {
            self.finish(i, now);
        }
    }

    /// The client has its answer.
    fn finish(&mut self, i: usize, now: SimTime) {
        self.out.fates[i].done = now;
        self.in_system -= 1;
        if self.limiter.is_some() && self.out.decisions[i].admitted() {
            let req = *self.request(i);
            let sent = self.out.fates[i].sent;
            let limiter = self.limiter.as_deref_mut().expect("checked above");
            limiter.complete(&req, now, now - sent);
        }
        if let Some(closed) = self.closed.as_mut() {
            let c = closed.conn[i];
            self.events.push(now + closed.think, Event::Send(c));
        }
    }

    /// Connection `c` sends its next request, if its phase still wants it.
    fn send_next(&mut self, c: u32, now: SimTime) {
        let closed = self.closed.as_mut().expect("closed loop");
        let phase = closed
            .phases
            .iter()
            .find(|p| now >= p.start && p.end.is_none_or(|end| now < end));
        let wanted = phase.is_some_and(|p| (c as u64) < p.connections);
        let next = if wanted { closed.requests.next() } else { None };
        let Some(req) = next else {
            closed.idle[c as usize] = true;
            return;
        };
        closed.conn.push(c);
        let i = self.out.sent.len();
        self.out.sent.push(Request {
            time: now,
            client: c,
            ..req
        });
        self.send(i, now);
    }

    /// Phase `p` begins: its idle connections start sending.
    fn phase(&mut self, p: usize, now: SimTime) {
        let closed = self.closed.as_mut().expect("closed loop");
        let n = closed.phases[p].connections as usize;
        if closed.idle.len() < n {
            closed.idle.resize(n, true);
        }
        for c in 0..n {
            if std::mem::take(&mut closed.idle[c]) {
                self.events.push(now, Event::Send(c as u32));
            }
        }
    }

    fn dispatch(&mut self, now: SimTime, event: Event) {
        match event {
            Event::Send(c) => self.send_next(c, now),
            Event::Phase(p) => self.phase(p, now),
            Event::Edge(i) => self.edge(i, now),
            Event::Enter(i) => self.enter(i, now),
            Event::Origin(i) => self.at_origin(i, now),
            Event::Served(i) => self.served(i, now),
            Event::Fetched(i, status) => self.fetched(i, now, status),
            Event::Reply(i) => self.finish(i, now),
        }
    }
}

/// Why a limiter that holds slots cannot run without a service.
pub const NEEDS_ORIGIN: &str = "this limiter holds a slot per request until it completes, so it needs an origin that completes requests: add a [service] table (servers, service_time)";

/// Runs `source` through `stages`. Open-loop requests must be in time order
/// ([`simulate_in_time_order`] sorts them first). Fails when a stage's
/// parameters are invalid or a concurrency limiter has no origin to
/// complete its requests.
pub fn simulate(source: Source, stages: Stages, seed: u64) -> Result<Outcome, String> {
    let Stages {
        limiter,
        cache,
        service,
        routes,
        window,
    } = stages;
    if limiter.as_ref().is_some_and(|l| l.holds_slots()) && service.is_none() {
        return Err(NEEDS_ORIGIN.into());
    }
    if let Source::Closed { think: 0, .. } = source
        && let Some(why) = super::stalls(service, cache.is_some(), limiter.is_some())
    {
        return Err(why);
    }
    let origin = service.map(|s| Origin::new(s, routes, seed)).transpose()?;
    let hop = |f: fn(&ServiceSpec) -> Option<&super::TimeDist>, name| {
        Hop::new(service.and_then(f), seed, name)
    };
    let (open, closed, capacity) = match source {
        Source::Open(requests) => (requests, None, requests.len()),
        Source::Closed {
            requests,
            phases,
            think,
        } => (
            &[][..],
            Some(Closed {
                requests,
                phases,
                think,
                idle: Vec::new(),
                conn: Vec::new(),
            }),
            0,
        ),
    };
    let start = open.first().map_or(0, |r| r.time);
    let mut p = Pipeline {
        open,
        closed,
        limiter,
        cache,
        cacheable: routes.iter().map(|r| r.cacheable).collect(),
        origin,
        timeout: service.and_then(|s| s.timeout).map(|t| t.0),
        coalesce: service.is_some_and(|s| s.coalesce),
        rtt: hop(|s| s.rtt.as_ref(), "rtt")?,
        origin_rtt: hop(|s| s.origin_rtt.as_ref(), "origin-rtt")?,
        edge_time: hop(|s| s.edge_time.as_ref(), "edge-time")?,
        events: EventQueue::new(),
        deadlines: VecDeque::new(),
        fetching: HashMap::default(),
        followers: HashMap::default(),
        out: Outcome {
            decisions: Vec::with_capacity(capacity),
            fates: Vec::with_capacity(capacity),
            sent: Vec::new(),
            looped: LoopStats {
                start,
                servers: service.map_or(0, |s| s.servers),
                ..LoopStats::default()
            },
            peak_keys: 0,
            peak_state_bytes: 0,
        },
        answered: Vec::with_capacity(capacity),
        client_half: Vec::with_capacity(capacity),
        origin_half: Vec::with_capacity(capacity),
        in_system: 0,
        last: start,
        window,
        next_window: start + window,
        next_evict: EVICT_EVERY,
    };
    if let Some(closed) = &p.closed {
        for (k, phase) in closed.phases.iter().enumerate() {
            p.events.push(phase.start, Event::Phase(k));
        }
    }
    let mut next = 0;
    loop {
        let event = p.events.peek_time().unwrap_or(SimTime::MAX);
        let deadline = p.deadlines.front().map_or(SimTime::MAX, |d| d.0);
        let arrival = p.open.get(next).map_or(SimTime::MAX, |r| r.time);
        let now = event.min(deadline).min(arrival);
        if now == SimTime::MAX {
            break;
        }
        p.advance(now);
        if event == now {
            let (_, e) = p.events.pop().expect("peeked");
            p.dispatch(now, e);
        } else if deadline == now {
            let (_, i) = p.deadlines.pop_front().expect("peeked");
            p.deadline(i, now);
        } else {
            p.send(next, now);
            next += 1;
        }
    }
    p.sample();
    let mut out = p.out;
    out.looped.end = p.last;
    Ok(out)
}

/// The positions of `requests` in time order (ties in input order), or
/// None when they already are.
fn time_order(requests: &[Request]) -> Option<Vec<usize>> {
    if requests.is_sorted_by_key(|r| r.time) {
        return None;
    }
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| requests[i].time);
    Some(order)
}

/// `values` taken in `order`.
fn gather<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|&i| values[i]).collect()
}

/// Undoes [`gather`]: `values[k]` goes back to position `order[k]`.
fn scatter<T: Copy + Default>(values: &[T], order: &[usize]) -> Vec<T> {
    let mut out = vec![T::default(); values.len()];
    for (&v, &i) in values.iter().zip(order) {
        out[i] = v;
    }
    out
}

/// [`simulate`] for open-loop requests in any order: they are sent in time
/// order (ties in input order), and the outcome is given back in input
/// order, so `edgesim run` and `edgesim limit` decide alike whatever the
/// file's order.
pub fn simulate_in_time_order(
    requests: &[Request],
    stages: Stages,
    seed: u64,
) -> Result<Outcome, String> {
    let Some(order) = time_order(requests) else {
        return simulate(Source::Open(requests), stages, seed);
    };
    let mut out = simulate(Source::Open(&gather(requests, &order)), stages, seed)?;
    out.fates = scatter(&out.fates, &order);
    out.decisions = scatter(&out.decisions, &order);
    Ok(out)
}

/// Calls `f` with `requests` and their `admitted` flags in time order (ties
/// in input order), as the limiters' accuracy check needs them.
pub fn in_time_order<T>(
    requests: &[Request],
    admitted: &[bool],
    f: impl FnOnce(&[Request], &[bool]) -> T,
) -> T {
    match time_order(requests) {
        None => f(requests, admitted),
        Some(order) => f(&gather(requests, &order), &gather(admitted, &order)),
    }
}
