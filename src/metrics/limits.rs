//! What a limiter did to labelled traffic: how much it let through, whom it
//! wrongly blocked, how fast it caught each abuser and what it cost in
//! memory.

use serde::{Deserialize, Serialize};

use super::ratio;
use crate::engine::SimTime;

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

impl LimitStats {
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

/// Accuracy of one run of an approximate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub requests: u64,
    /// Requests the exact sliding log decided differently.
    pub misclassified: u64,
    /// Mean over requests of |estimated - true| / true count in the window.
    pub mean_rate_error: f64,
}

impl Accuracy {
    pub fn misclassified_ratio(&self) -> f64 {
        ratio(self.misclassified, self.requests)
    }
}
