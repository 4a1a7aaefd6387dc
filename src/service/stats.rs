//! What one pass through the pipeline comes to in the limiter's and the
//! topology's metrics. The tallies read the pass's [`Outcome`], so they
//! live beside it, and `metrics` keeps the figures without depending on
//! the models that fill them.

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::Outcome;
use crate::engine::{SECOND, SimTime};
use crate::limiter::Decision;
use crate::metrics::service::{Latency, Served};
use crate::metrics::topology::{ServedLatency, SiteStats, SpreadStats, TopologyStats};
use crate::metrics::{Accuracy, CacheStats, LimitStats};
use crate::topology::Layout;
use crate::workload::{Label, Request};

#[derive(Default)]
struct ClientTally {
    abusive: bool,
    first_seen: SimTime,
    first_denied: Option<SimTime>,
}

impl Outcome {
    /// What the limiter did to `requests` (the ones the entries describe),
    /// with its `accuracy` when measured.
    pub fn limit_stats(&self, requests: &[Request], accuracy: Option<Accuracy>) -> LimitStats {
        let mut s = LimitStats {
            requests: requests.len() as u64,
            allowed: 0,
            delayed: 0,
            denied: 0,
            legit: 0,
            legit_denied: 0,
            abusive: 0,
            abusive_allowed: 0,
            legit_clients: 0,
            clients_wrongly_blocked: 0,
            abusers: 0,
            abusers_blocked: 0,
            first_block_mean: 0.0,
            first_block_max: 0,
            peak_keys: self.peak_keys as u64,
            peak_state_bytes: self.peak_state_bytes as u64,
            accuracy,
        };
        let mut clients: HashMap<u32, ClientTally, FixedState> = HashMap::default();
        for (req, decision) in requests.iter().zip(&self.decisions) {
            let abusive = req.label == Label::Abusive;
            let tally = clients.entry(req.client).or_insert_with(|| ClientTally {
                abusive,
                first_seen: req.time,
                first_denied: None,
            });
            let admitted = decision.admitted();
            if admitted {
                s.allowed += 1;
            } else {
                s.denied += 1;
                tally.first_denied.get_or_insert(req.time);
            }
            s.delayed += matches!(decision, Decision::Delay { .. }) as u64;
            if abusive {
                s.abusive += 1;
                s.abusive_allowed += admitted as u64;
            } else {
                s.legit += 1;
                s.legit_denied += !admitted as u64;
            }
        }
        let mut block_sum: u128 = 0;
        for t in clients.values() {
            let blocked = t.first_denied.map(|d| d - t.first_seen);
            if t.abusive {
                s.abusers += 1;
                if let Some(b) = blocked {
                    s.abusers_blocked += 1;
                    block_sum += b as u128;
                    s.first_block_max = s.first_block_max.max(b);
                }
            } else {
                s.legit_clients += 1;
                s.clients_wrongly_blocked += blocked.is_some() as u64;
            }
        }
        if s.abusers_blocked > 0 {
            s.first_block_mean = block_sum as f64 / s.abusers_blocked as f64;
        }
        s
    }

    /// What the pass says per site of `layout` (`requests` are the ones the
    /// entries describe; `rate` is the limiter's per key, when it has one).
    /// The sites' cache figures are left at zero for the caller, who holds
    /// the caches.
    pub fn topology_stats(
        &self,
        layout: &Layout,
        requests: &[Request],
        rate: Option<f64>,
    ) -> TopologyStats {
        let location = |i: usize| self.locations.get(i).map_or(0, |&l| l as usize);
        let mut latencies = vec![Vec::new(); layout.locations()];
        for (i, f) in self.fates.iter().enumerate() {
            latencies[location(i)].push(f);
        }
        let site = |name: &String, s: usize| SiteStats {
            name: name.clone(),
            requests: self.sites[s].requests,
            cache: CacheStats::default(),
            forwarded: self.sites[s].forwarded,
            forwarded_bytes: self.sites[s].forwarded_bytes,
            latency: Latency::default(),
        };
        let locations = layout
            .names
            .iter()
            .zip(latencies)
            .enumerate()
            .map(|(l, (name, fates))| SiteStats {
                latency: Latency::of_fates(fates),
                ..site(name, l)
            })
            .collect();
        let upper = (layout.upper_names.iter().enumerate())
            .map(|(u, name)| site(name, layout.locations() + u))
            .collect();
        let served = |kinds: &[Served]| {
            Latency::of_fates(self.fates.iter().filter(|f| kinds.contains(&f.served)))
        };
        TopologyStats {
            locations,
            upper,
            origin_requests: self.looped.origin_requests,
            origin_bytes: self.origin_bytes,
            served: ServedLatency {
                edge: served(&[Served::Cache]),
                upper: served(&[Served::Upper]),
                origin: served(&[Served::Origin, Served::Coalesced]),
            },
            spread: rate
                .filter(|_| !self.decisions.is_empty())
                .and_then(|rate| spread(self, requests, location, rate)),
        }
    }
}

/// The limit that clients seen at more than one location got.
fn spread(
    outcome: &Outcome,
    requests: &[Request],
    location: impl Fn(usize) -> usize,
    rate: f64,
) -> Option<SpreadStats> {
    #[derive(Default)]
    struct Client {
        first: SimTime,
        last: SimTime,
        admitted: u64,
        locations: Vec<usize>,
    }
    let mut clients: HashMap<u32, Client, FixedState> = HashMap::default();
    for (i, (req, fate)) in requests.iter().zip(&outcome.fates).enumerate() {
        let c = clients.entry(req.client).or_insert_with(|| Client {
            first: fate.sent,
            ..Client::default()
        });
        c.last = fate.sent;
        c.admitted += outcome.decisions[i].admitted() as u64;
        let l = location(i);
        if !c.locations.contains(&l) {
            c.locations.push(l);
        }
    }
    // In client order, so that the sums do not depend on the hash map's.
    let mut spread: Vec<(u32, &Client)> = clients
        .iter()
        .filter(|(_, c)| c.locations.len() > 1 && c.last > c.first)
        .map(|(&id, c)| (id, c))
        .collect();
    if spread.is_empty() {
        return None;
    }
    spread.sort_unstable_by_key(|(id, _)| *id);
    let n = spread.len() as f64;
    let effective = spread
        .iter()
        .map(|(_, c)| c.admitted as f64 * SECOND as f64 / (c.last - c.first) as f64)
        .sum::<f64>()
        / n;
    Some(SpreadStats {
        clients: spread.len() as u64,
        locations_mean: spread
            .iter()
            .map(|(_, c)| c.locations.len() as f64)
            .sum::<f64>()
            / n,
        configured_rps: rate,
        effective_rps: effective,
        multiple: effective / rate,
    })
}
