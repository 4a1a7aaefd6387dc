//! The origin: `servers` identical servers fed by one FIFO queue of bounded
//! (or unbounded) length. Service times are drawn from the "service" stream
//! when a request starts, from its route's distribution or the service's.

use std::collections::VecDeque;

use super::{Route, ServiceSpec, TimeSampler};
use crate::engine::{RngStream, SimTime, stream};
use crate::error::ConfigError;

/// What happened to a request arriving at the origin.
pub enum Arrival {
    /// A server took it; it will take this long.
    Started(SimTime),
    Queued,
    /// The queue was full (503).
    Refused,
}

pub struct Origin {
    servers: u64,
    pub busy: u64,
    /// Waiting requests and their routes, oldest first.
    waiting: VecDeque<(usize, u8)>,
    limit: usize,
    /// Per route; routes without a service time of their own share the service's.
    times: Vec<TimeSampler>,
    rng: RngStream,
}

impl Origin {
    pub fn new(spec: &ServiceSpec, routes: &[Route], seed: u64) -> Result<Self, ConfigError> {
        let default = spec.service_time.sampler()?;
        let times = routes
            .iter()
            .map(|r| match &r.service_time {
                Some(t) => t.sampler().map_err(|e| format!("route {}: {e}", r.name)),
                None => Ok(default.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Origin {
            servers: spec.servers,
            busy: 0,
            waiting: VecDeque::new(),
            limit: spec.queue.map_or(usize::MAX, |q| q as usize),
            times: if times.is_empty() {
                vec![default]
            } else {
                times
            },
            rng: stream(seed, "service"),
        })
    }

    pub fn queued(&self) -> u64 {
        self.waiting.len() as u64
    }

    fn service_time(&mut self, route: u8) -> SimTime {
        let sampler = &self.times[(route as usize).min(self.times.len() - 1)];
        sampler.sample(&mut self.rng)
    }

    /// Request `i` of `route` arrives.
    #[inline]
    pub fn arrive(&mut self, i: usize, route: u8) -> Arrival {
        if self.busy < self.servers {
            self.busy += 1;
            Arrival::Started(self.service_time(route))
        } else if self.waiting.len() < self.limit {
            self.waiting.push_back((i, route));
            Arrival::Queued
        } else {
            Arrival::Refused
        }
    }

    /// A server finished; it takes the oldest waiting request, if any:
    /// returns it and its service time.
    #[inline]
    pub fn finish(&mut self) -> Option<(usize, SimTime)> {
        match self.waiting.pop_front() {
            Some((j, route)) => Some((j, self.service_time(route))),
            None => {
                self.busy -= 1;
                None
            }
        }
    }
}
