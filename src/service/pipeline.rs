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
use super::{Route, ServiceSpec, TimeSampler};
use crate::cache::{self, DynReplay, Lookup, Replay};
use crate::engine::{EventQueue, RngStream, SECOND, SimTime, stream};
use crate::error::ConfigError;
use crate::limiter::{Decision, KeyedLimiter};
use crate::metrics::service::{Fate, LoopStats, Sample, Served, Status};
use crate::topology::limits::Limits;
use crate::topology::{Layout, Placer};
use crate::workload::Request;

/// Idle limiter state is dropped once per this much simulated time.
const EVICT_EVERY: SimTime = SECOND;

/// A cache and the replay state it counts into.
pub type CacheStage<'a> = (&'a mut (dyn DynReplay + 'static), &'a mut Replay);

/// The stages a request may pass; each is optional.
pub struct Stages<'a> {
    /// Fresh; copied per location as the layout's scope says.
    pub limiter: Option<&'a mut KeyedLimiter>,
    /// One per site: the locations in order, then the upper tiers. A site
    /// past the end, or None, has no cache.
    pub caches: Vec<Option<CacheStage<'a>>>,
    /// The locations and upper tiers [default: one location].
    pub layout: Option<&'a Layout>,
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
    /// Each request's location, in the order sent; empty for one location.
    pub locations: Vec<u32>,
    /// What each site (locations, then upper tiers) passed on.
    pub sites: Vec<SiteCounts>,
    /// Bytes of the origin's successful answers.
    pub origin_bytes: u64,
}

/// Requests one site received and the fetches it sent on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteCounts {
    pub requests: u64,
    pub forwarded: u64,
    pub forwarded_bytes: u64,
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
    /// A location's fetch reaches its upper tier.
    Up(usize),
    /// The upper tier's answer to a fetch reaches the location.
    Down(usize, Status),
    /// A fetch reaches the origin.
    Origin(usize),
    /// A server finished a fetch.
    Served(usize),
    /// The origin's answer to a fetch reaches whoever fetched it.
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
    sampler: Option<TimeSampler>,
    rng: RngStream,
}

/// The sampler of `dist`, or None when every draw is zero.
fn sampler(dist: Option<&super::TimeDist>, name: &str) -> Result<Option<TimeSampler>, ConfigError> {
    dist.filter(|d| !d.is_zero())
        .map(|d| d.sampler().map_err(|e| format!("{name}: {e}").into()))
        .transpose()
}

impl Hop {
    fn new(dist: Option<&super::TimeDist>, seed: u64, name: &str) -> Result<Self, ConfigError> {
        Ok(Hop {
            sampler: sampler(dist, name)?,
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

/// What a site's cache does with a request.
enum Found {
    Hit,
    /// It waits for the fetch of its key in flight (coalescing).
    Waits,
    /// It must be fetched from the next tier or the origin.
    Fetch,
}

/// A location or an upper tier: a cache and the fetches in flight there.
struct Site<'a> {
    cache: Option<CacheStage<'a>>,
    /// Key -> the request whose fetch of it is in flight.
    fetching: HashMap<u64, usize, FixedState>,
    /// Leader -> requests waiting for its fetch (coalescing).
    followers: HashMap<usize, Vec<usize>, FixedState>,
}

struct Pipeline<'s, 'a> {
    open: &'s [Request],
    closed: Option<Closed<'s>>,
    limits: Option<Limits<'a>>,
    layout: &'a Layout,
    placer: Placer<'a>,
    sites: Vec<Site<'a>>,
    cacheable: Vec<bool>,
    origin: Option<Origin>,
    timeout: Option<SimTime>,
    coalesce: bool,
    /// Client round trip samplers per location, drawn from one stream.
    rtt: Vec<Option<TimeSampler>>,
    /// Whether some location has a client round trip.
    any_rtt: bool,
    rtt_rng: RngStream,
    upper_rtt: Hop,
    origin_rtt: Hop,
    edge_time: Hop,
    events: EventQueue<Event>,
    /// (deadline, request) of fetches with a timeout, in deadline order.
    deadlines: VecDeque<(SimTime, usize)>,
    out: Outcome,
    /// Whether each request has been answered at its location.
    answered: Vec<bool>,
    /// Half of each request's client round trip, of its trip to the upper
    /// tier, and of its fetch's from the origin.
    client_half: Vec<SimTime>,
    upper_half: Vec<SimTime>,
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
        let (mut cache_objects, mut cache_bytes) = (0, 0);
        for (c, state) in self.sites.iter().filter_map(|s| s.cache.as_ref()) {
            cache_objects += c.len() as u64;
            cache_bytes += if state.count_objects { 0 } else { c.used() };
        }
        self.out.looped.samples.push(Sample {
            queue: self.origin.as_ref().map_or(0, |o| o.queued()),
            cache_objects,
            cache_bytes,
        });
    }

    /// The location of request `i`.
    #[inline]
    fn location(&self, i: usize) -> usize {
        self.out.locations.get(i).map_or(0, |&l| l as usize)
    }

    /// The client sends request `i` at `now` to its location.
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
        if self.upper_rtt.sampler.is_some() {
            self.upper_half.push(0);
        }
        let location = if self.layout.locations() > 1 {
            let req = *self.request(i);
            let l = self.placer.place(&req, i as u64);
            self.out.locations.push(l as u32);
            l
        } else {
            0
        };
        self.out.sites[location].requests += 1;
        let rtt = self.rtt[location].as_ref();
        let half = rtt.map_or(0, |s| s.sample(&mut self.rtt_rng) / 2);
        if self.any_rtt {
            self.client_half.push(half);
        }
        self.in_system += 1;
        if self.limits.is_some() {
            // Set when it reaches the limiter: round trips that vary reorder
            // requests on the way.
            self.out.decisions.push(Decision::Allow);
        }
        if half > 0 {
            self.events.push(now + half, Event::Edge(i));
        } else {
            self.edge(i, now);
        }
    }

    /// Request `i` reaches its location: the limiter decides.
    fn edge(&mut self, i: usize, now: SimTime) {
        if self.limits.is_none() {
            return self.enter(i, now);
        }
        let req = Request {
            time: now,
            ..*self.request(i)
        };
        let location = self.location(i);
        let limits = self.limits.as_mut().expect("checked above");
        if now >= self.next_evict {
            limits.evict_idle(now);
            self.next_evict = (now / EVICT_EVERY + 1) * EVICT_EVERY;
        }
        let decision = limits.decide(location, &req, now);
        self.out.peak_keys = self.out.peak_keys.max(limits.keys());
        self.out.peak_state_bytes = self.out.peak_state_bytes.max(limits.state_bytes());
        self.out.decisions[i] = decision;
        match decision {
            Decision::Allow => self.enter(i, now),
            Decision::Delay { by } => self.events.push(now + by, Event::Enter(i)),
            Decision::Deny { .. } => self.respond(i, now, Status::Denied, Served::Nowhere, 0),
        }
    }

    /// What site `site`'s cache does with request `i`.
    fn look_up(&mut self, site: usize, i: usize, now: SimTime) -> Found {
        let req = Request {
            time: now,
            ..*self.request(i)
        };
        let cacheable = self
            .cacheable
            .get(req.route as usize)
            .copied()
            .unwrap_or(true);
        let site = &mut self.sites[site];
        let Some((c, state)) = site.cache.as_mut().filter(|_| cacheable) else {
            return Found::Fetch;
        };
        let found = cache::lookup(&mut **c, &req, state);
        let leader = site.fetching.get(&req.key).copied();
        let hit = found == Lookup::Hit && leader.is_none();
        state.stats.record(req.size, hit, found == Lookup::Expired);
        if hit {
            return Found::Hit;
        }
        if let Some(leader) = leader.filter(|_| self.coalesce) {
            self.out.fates[i].served = Served::Coalesced;
            site.followers.entry(leader).or_default().push(i);
            return Found::Waits;
        }
        // The object arrives with the oldest fetch in flight: a later one
        // (without coalescing) does not delay it.
        if self.origin.is_some() && leader.is_none() {
            site.fetching.insert(req.key, i);
        }
        Found::Fetch
    }

    /// An admitted request looks its location's cache up and goes on (to
    /// the upper tier or the origin) on a miss.
    fn enter(&mut self, i: usize, now: SimTime) {
        let location = self.location(i);
        match self.look_up(location, i, now) {
            Found::Hit => {
                let t = self.edge_time.draw();
                self.respond(i, now, Status::Ok, Served::Cache, t);
            }
            Found::Waits => {}
            Found::Fetch => self.forward(i, location, now),
        }
    }

    /// Site `site` sends request `i` on: a location to its upper tier or
    /// the origin, an upper tier to the origin. The location's timeout
    /// starts with its fetch.
    fn forward(&mut self, i: usize, site: usize, now: SimTime) {
        let size = self.request(i).size as u64;
        let counts = &mut self.out.sites[site];
        counts.forwarded += 1;
        counts.forwarded_bytes += size;
        let is_location = site < self.layout.locations();
        if is_location
            && self.origin.is_some()
            && let Some(t) = self.timeout
        {
            self.deadlines.push_back((now + t, i));
        }
        let upper = if is_location {
            self.layout.parent_site(site)
        } else {
            None
        };
        let Some(upper) = upper else {
            return self.fetch(i, now);
        };
        let half = self.upper_rtt.draw() / 2;
        if half > 0 {
            self.upper_half[i] = half;
            self.events.push(now + half, Event::Up(i));
        } else {
            self.at_upper(i, upper, now);
        }
    }

    /// Request `i` reaches upper tier `site`.
    fn at_upper(&mut self, i: usize, site: usize, now: SimTime) {
        self.out.sites[site].requests += 1;
        match self.look_up(site, i, now) {
            Found::Hit => {
                self.out.fates[i].served = Served::Upper;
                let t = self.edge_time.draw();
                self.answer_down(i, now, t, Status::Ok);
            }
            Found::Waits => {}
            Found::Fetch => self.forward(i, site, now),
        }
    }

    /// The upper tier answers request `i` after `extra`; the answer takes
    /// half the upper round trip to reach the location.
    fn answer_down(&mut self, i: usize, now: SimTime, extra: SimTime, status: Status) {
        let delay = extra + self.upper_half.get(i).copied().unwrap_or(0);
        if delay > 0 {
            self.events.push(now + delay, Event::Down(i, status));
        } else {
            self.fetched_at_location(i, now, status);
        }
    }

    /// Request `i` goes to the origin (answered at once when there is none).
    fn fetch(&mut self, i: usize, now: SimTime) {
        if self.origin.is_none() {
            return self.respond(i, now, Status::Ok, Served::Origin, 0);
        }
        self.out.looped.origin_requests += 1;
        self.out.fates[i].served = Served::Origin;
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

    /// The origin's answer to fetch `i` reaches whoever fetched it: its
    /// location, or the upper tier, which answers every location waiting.
    fn fetched(&mut self, i: usize, now: SimTime, status: Status) {
        if status == Status::Ok {
            self.out.origin_bytes += self.request(i).size as u64;
        }
        match self.layout.parent_site(self.location(i)) {
            Some(upper) => {
                let waiting = self.end_fetch_at(upper, i, status);
                for j in std::iter::once(i).chain(waiting) {
                    self.answer_down(j, now, 0, status);
                }
            }
            None => self.fetched_at_location(i, now, status),
        }
    }

    /// The location has the answer to fetch `i` (ignored if it already gave
    /// up on it).
    fn fetched_at_location(&mut self, i: usize, now: SimTime, status: Status) {
        if !self.answered[i] {
            self.end_fetch(i, now, status);
        }
    }

    /// Ends fetch `i` at `site` (a failed fetch leaves nothing cached) and
    /// gives the requests waiting there for it (coalescing).
    fn end_fetch_at(&mut self, site: usize, i: usize, status: Status) -> Vec<usize> {
        let key = self.request(i).key;
        let site = &mut self.sites[site];
        if let Some((c, state)) = site.cache.as_mut()
            && site.fetching.get(&key) == Some(&i)
        {
            site.fetching.remove(&key);
            if status != Status::Ok {
                state.removed += c.remove(key) as u64;
            }
        }
        match self.coalesce {
            true => site.followers.remove(&i).unwrap_or_default(),
            false => Vec::new(),
        }
    }

    /// Answers fetch `i` at its location, and everyone waiting there.
    fn end_fetch(&mut self, i: usize, now: SimTime, status: Status) {
        let waiting = self.end_fetch_at(self.location(i), i, status);
        let served = self.out.fates[i].served;
        self.respond(i, now, status, served, 0);
        for j in waiting {
            self.respond(j, now, status, Served::Coalesced, 0);
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
        if self.limits.is_some() && self.out.decisions[i].admitted() {
            let req = *self.request(i);
            let latency = now - self.out.fates[i].sent;
            let location = self.location(i);
            if let Some(limits) = self.limits.as_mut() {
                limits.complete(location, &req, now, latency);
            }
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
            Event::Up(i) => {
                let upper = self.layout.parent_site(self.location(i));
                self.at_upper(i, upper.expect("it went up"), now);
            }
            Event::Down(i, status) => self.fetched_at_location(i, now, status),
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
pub fn simulate(source: Source, stages: Stages, seed: u64) -> Result<Outcome, ConfigError> {
    let Stages {
        limiter,
        caches,
        layout,
        service,
        routes,
        window,
    } = stages;
    let single = Layout::single();
    let layout = layout.unwrap_or(&single);
    let has_cache = caches.iter().any(Option::is_some);
    if limiter.as_ref().is_some_and(|l| l.holds_slots()) && service.is_none() {
        return Err(NEEDS_ORIGIN.into());
    }
    if let Source::Closed { think: 0, .. } = source
        && let Some(why) = super::stalls(service, has_cache, limiter.is_some())
    {
        return Err(why.into());
    }
    let origin = service.map(|s| Origin::new(s, routes, seed)).transpose()?;
    let hop = |f: fn(&ServiceSpec) -> Option<&super::TimeDist>, name| {
        Hop::new(service.and_then(f), seed, name)
    };
    let rtt = (layout.rtt.iter())
        .map(|own| sampler(own.as_ref().or(service.and_then(|s| s.rtt.as_ref())), "rtt"))
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let site_count = layout.locations() + layout.upper_names.len();
    let mut caches = caches.into_iter();
    let sites = (0..site_count)
        .map(|_| Site {
            cache: caches.next().flatten(),
            fetching: HashMap::default(),
            followers: HashMap::default(),
        })
        .collect();
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
        limits: limiter.map(|l| Limits::new(l, layout.scope, layout.locations(), layout.sync)),
        layout,
        placer: Placer::new(layout, seed),
        sites,
        cacheable: routes.iter().map(|r| r.cacheable).collect(),
        origin,
        timeout: service.and_then(|s| s.timeout).map(|t| t.0),
        coalesce: service.is_some_and(|s| s.coalesce),
        any_rtt: rtt.iter().any(Option::is_some),
        rtt,
        rtt_rng: stream(seed, "rtt"),
        upper_rtt: Hop::new(layout.upper_rtt.as_ref(), seed, "upper-rtt")?,
        origin_rtt: hop(|s| s.origin_rtt.as_ref(), "origin-rtt")?,
        edge_time: hop(|s| s.edge_time.as_ref(), "edge-time")?,
        events: EventQueue::new(),
        deadlines: VecDeque::new(),
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
            locations: Vec::new(),
            sites: vec![SiteCounts::default(); site_count],
            origin_bytes: 0,
        },
        answered: Vec::with_capacity(capacity),
        client_half: Vec::with_capacity(capacity),
        upper_half: Vec::new(),
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
) -> Result<Outcome, ConfigError> {
    let Some(order) = time_order(requests) else {
        return simulate(Source::Open(requests), stages, seed);
    };
    let mut out = simulate(Source::Open(&gather(requests, &order)), stages, seed)?;
    out.fates = scatter(&out.fates, &order);
    out.decisions = scatter(&out.decisions, &order);
    if !out.locations.is_empty() {
        out.locations = scatter(&out.locations, &order);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::{self, KeyBy, LimiterSpec};
    use crate::units::Duration;

    #[test]
    fn each_request_keeps_its_own_decision_when_round_trips_reorder_them() {
        // Client 0 sends every 1 ms, client 1 every 7 ms; a bucket of 1 per 100 s
        // admits each client's first request only. Lognormal round trips
        // (up to seconds) bring requests to the limiter out of send order.
        let requests: Vec<Request> = (0..400u64)
            .map(|i| Request {
                time: i * 1_000_000,
                key: i,
                client: (i % 7 == 0) as u32,
                ..Request::default()
            })
            .collect();
        let mut service = ServiceSpec::fixed(8, 1_000_000);
        service.rtt = Some(super::super::TimeDist::Lognormal {
            median: Duration(5_000_000),
            sigma: Some(1.5),
            p99: None,
        });
        let spec = LimiterSpec::new("token-bucket", Some(0.01), Some(1), KeyBy::Client).unwrap();
        let mut limiter = limiter::build(&spec).unwrap();
        let stages = Stages {
            limiter: Some(&mut limiter),
            caches: Vec::new(),
            layout: None,
            service: Some(&service),
            routes: &[],
            window: SECOND,
        };
        let out = simulate(Source::Open(&requests), stages, 3).unwrap();
        for (d, f) in out.decisions.iter().zip(&out.fates) {
            assert_eq!(d.admitted(), f.status != Status::Denied);
        }
        let admitted = out.decisions.iter().filter(|d| d.admitted()).count();
        assert_eq!(admitted, 2, "one per client");
    }
}
