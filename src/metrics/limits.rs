//! What a limiter did to labelled traffic: how much it let through, whom it
//! wrongly blocked, how fast it caught each abuser and what it cost in
//! memory.

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use super::ratio;
use crate::engine::SimTime;
use crate::limiter::{Accuracy, Decision};
use crate::service::Outcome;
use crate::workload::{Label, Request};

/// Per-run limiter metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitStats {
    pub requests: u64,
    /// Admitted, with or without a delay.
    pub allowed: u64,
    pub delayed: u64,
    pub denied: u64,
    pub legit: u64,
    pub legit_denied: u64,
    pub abusive: u64,
    pub abusive_allowed: u64,
    pub legit_clients: u64,
    /// Legitimate clients with at least one request denied.
    pub clients_wrongly_blocked: u64,
    pub abusers: u64,
    /// Abusers with at least one request denied.
    pub abusers_blocked: u64,
    /// Time from an abuser's first request to its first denial, in ns: mean
    /// and maximum over the abusers that were blocked.
    pub first_block_mean: f64,
    pub first_block_max: SimTime,
    pub peak_keys: u64,
    pub peak_state_bytes: u64,
    /// For approximate window algorithms: agreement with the exact log.
    pub accuracy: Option<Accuracy>,
}

#[derive(Default)]
struct ClientTally {
    abusive: bool,
    first_seen: SimTime,
    first_denied: Option<SimTime>,
}

impl LimitStats {
    /// Tallies `outcome` of `requests` (in the same order).
    pub fn of(requests: &[Request], outcome: &Outcome, accuracy: Option<Accuracy>) -> Self {
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
            peak_keys: outcome.peak_keys as u64,
            peak_state_bytes: outcome.peak_state_bytes as u64,
            accuracy,
        };
        let mut clients: HashMap<u32, ClientTally, FixedState> = HashMap::default();
        for (req, decision) in requests.iter().zip(&outcome.decisions) {
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

    pub fn denial_ratio(&self) -> f64 {
        ratio(self.denied, self.requests)
    }

    pub fn legit_denied_ratio(&self) -> f64 {
        ratio(self.legit_denied, self.legit)
    }

    pub fn abusive_allowed_ratio(&self) -> f64 {
        ratio(self.abusive_allowed, self.abusive)
    }
}
