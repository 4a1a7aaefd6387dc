//! What an experiment will cost before it starts: its number of runs,
//! counted without building them, and a rough estimate of its peak memory,
//! so that `requests = 1e18` or `replications = 1e9` is refused with a
//! reason instead of ending in a failed allocation hours later.
//!
//! The estimate is an upper-bound sketch, not a measurement. It counts
//! what grows with the experiment: the workload instances alive at once
//! (one per thread in use, see the runner), each a vector of requests that
//! may be twice its length while it grows, plus a table per key; a cache
//! per thread holding at most every key; and every run's result kept until
//! the report. It leaves out what does not grow with the sweep (the
//! program, the charts) and the size of traces, which is known only once
//! they are read.

use std::mem::size_of;

use super::Plan;
use crate::engine::SECOND;
use crate::experiment::{Experiment, WorkloadSpec};
use crate::machine::available_memory;
use crate::service::Load;
use crate::units::format_bytes;
use crate::workload::Request;

/// Bytes per key in a synthetic workload's tables (its size, its
/// popularity rank).
const KEY_BYTES: f64 = 16.0;
/// Bytes per cached object in a policy: an index entry and a list node,
/// rounded up (measured policies use 29 to 70 when full, LIRS up to 119,
/// see docs/policies.md).
const CACHE_ENTRY_BYTES: f64 = 100.0;
/// Bytes of one run's result (counters, ten batches, percentiles, a few
/// windows); runs with long time series hold more.
const RESULT_BYTES: f64 = 2048.0;

/// The default limit on the number of runs (`edgesim run --max-runs`).
pub const DEFAULT_MAX_RUNS: u64 = 100_000;

/// The estimated peak memory of an experiment and what it is made of.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub runs: u64,
    /// Threads with an instance in hand at once.
    pub alive: u64,
    /// Requests of the largest synthetic instance (0 when unknown).
    pub requests: f64,
    /// Keys of the largest synthetic instance.
    pub keys: f64,
    /// Objects a cache of one run may hold (0 without caches).
    pub cached: f64,
    /// Whether a trace workload was left out of the estimate.
    pub traces: bool,
}

impl Estimate {
    /// Runs of `exp` on `threads` worker threads (capped by the runner at
    /// the runs to do).
    pub fn of(exp: &Experiment, threads: usize) -> Self {
        let plan = Plan::of(exp);
        let (mut requests, mut keys, mut traces) = (0f64, 0f64, false);
        for w in &exp.workloads {
            match &w.spec {
                WorkloadSpec::Synthetic(s) => {
                    for load in &exp.loads {
                        requests = requests.max(synthetic_requests(s, &load.spec.load));
                    }
                    keys = keys.max(s.keys as f64);
                }
                WorkloadSpec::Trace(_) => traces = true,
            }
        }
        // Every cache may come to hold every key: one per location (one
        // location without a topology) and one per upper tier.
        let has_cache = exp.cache_slots.iter().any(Option::is_some) as u64;
        let caches = (exp.services.iter())
            .filter_map(|s| s.topology.as_ref())
            .map(|t| has_cache * t.location_count() + t.upper_names().len() as u64)
            .max()
            .unwrap_or(has_cache);
        let cached = keys.min(requests.max(1.0)) * caches as f64;
        let runs = exp.run_count();
        Estimate {
            runs,
            alive: (threads.max(1) as u64).min(plan.instances()).min(runs),
            requests,
            keys,
            cached,
            traces,
        }
    }

    /// Bytes of one thread's instance and cache.
    fn per_thread(&self) -> f64 {
        self.requests * size_of::<Request>() as f64 * 2.0
            + self.keys * KEY_BYTES
            + self.cached * CACHE_ENTRY_BYTES
    }

    /// The estimated peak, in bytes.
    pub fn bytes(&self) -> f64 {
        self.alive as f64 * self.per_thread() + self.runs as f64 * RESULT_BYTES
    }

    /// The estimate for people: "1.2GiB".
    pub fn size(&self) -> String {
        let bytes = self.bytes();
        if bytes >= u64::MAX as f64 {
            return format!("{bytes:.1e} bytes");
        }
        format_bytes(bytes as u64)
    }

    /// How the estimate was made, on one line.
    pub fn breakdown(&self) -> String {
        let mut text = format!(
            "{} thread(s) x ({} requests x {} B x 2 + {} keys x {} B + {} cached objects x {} B) + {} runs x {} B of results",
            self.alive,
            self.requests,
            size_of::<Request>(),
            self.keys,
            KEY_BYTES,
            self.cached,
            CACHE_ENTRY_BYTES,
            self.runs,
            RESULT_BYTES
        );
        if self.traces {
            text.push_str("; traces are not counted (their size is known only once read)");
        }
        text
    }
}

/// Requests a synthetic workload draws under `load`: its count, else its
/// rate over the load's duration (0 when neither bounds it, e.g. a closed
/// loop that draws as it goes).
fn synthetic_requests(s: &crate::workload::synthetic::SyntheticSpec, load: &Load) -> f64 {
    if let Some(n) = s.requests {
        return n as f64;
    }
    match (load, load.end()) {
        (Load::Own { .. }, Some(end)) => s.rate.0 * end as f64 / SECOND as f64,
        _ => 0.0,
    }
}

/// What may be started without asking.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Runs above this are refused.
    pub max_runs: u64,
    /// Go ahead whatever the memory estimate says.
    pub ignore_memory: bool,
}

/// Why an experiment is refused before it starts; the command that
/// refuses it says which of its options would let it through.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{runs} runs ({product}) are more than the limit of {max}")]
    TooManyRuns {
        /// The count, or "more than 2^64 - 1" when it overflows.
        runs: String,
        /// How the count is made: "2 caches x 3 sizes x ...".
        product: String,
        max: u64,
    },
    #[error(
        "needs an estimated {needs} of memory, more than the {available} this machine has available ({breakdown})"
    )]
    TooMuchMemory {
        needs: String,
        available: String,
        breakdown: String,
    },
}

/// Refuses `exp` before any work when it has more runs than `limits`
/// allow, or needs more memory than the machine has available; the
/// estimate otherwise.
pub fn check(exp: &Experiment, threads: usize, limits: Limits) -> Result<Estimate, Refusal> {
    let runs = exp.run_count();
    if runs > limits.max_runs {
        let runs = if runs == u64::MAX {
            "more than 18446744073709551615".to_string()
        } else {
            runs.to_string()
        };
        return Err(Refusal::TooManyRuns {
            runs,
            product: exp.run_product(),
            max: limits.max_runs,
        });
    }
    let estimate = Estimate::of(exp, threads);
    if let Some(available) = available_memory()
        && !limits.ignore_memory
        && estimate.bytes() > available as f64
    {
        return Err(Refusal::TooMuchMemory {
            needs: estimate.size(),
            available: format_bytes(available),
            breakdown: estimate.breakdown(),
        });
    }
    Ok(estimate)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn exp(body: &str) -> Experiment {
        Experiment::parse(Path::new("t.toml"), body.into()).unwrap()
    }

    /// Runs above the limit are refused by count, without building them.
    #[test]
    fn too_many_runs_are_refused() {
        let e = exp(
            "[experiment]\nreplications = 1000000000\n[workload]\nrequests = 10\nkeys = 5\n[[cache]]\npolicy = \"lru\"\ncapacity = 2\n",
        );
        let limits = Limits {
            max_runs: DEFAULT_MAX_RUNS,
            ignore_memory: false,
        };
        let err = check(&e, 2, limits).unwrap_err().to_string();
        assert!(err.contains("1000000000 runs"), "{err}");
        assert!(err.contains("more than the limit of 100000"), "{err}");
    }

    /// The estimate grows with requests and threads, and an impossible
    /// one is refused unless the user says yes.
    #[test]
    fn memory_estimate_scales_and_refuses() {
        let small = Estimate::of(
            &exp(
                "[workload]\nrequests = 1000\nkeys = 10\n[[cache]]\npolicy = \"lru\"\ncapacity = 2\n",
            ),
            2,
        );
        assert_eq!(small.requests, 1000.0);
        assert_eq!(small.alive, 1);
        let huge = exp(
            "[workload]\nrequests = 1_000_000_000_000_000_000\nkeys = 10\n[[cache]]\npolicy = [\"lru\", \"fifo\"]\ncapacity = 2\n",
        );
        assert!(Estimate::of(&huge, 2).bytes() > 1e19);
        if available_memory().is_some() {
            let refuse = Limits {
                max_runs: DEFAULT_MAX_RUNS,
                ignore_memory: false,
            };
            let err = check(&huge, 2, refuse).unwrap_err();
            assert!(matches!(err, Refusal::TooMuchMemory { .. }), "{err}");
            let go = Limits {
                ignore_memory: true,
                ..refuse
            };
            assert!(check(&huge, 2, go).is_ok());
        }
    }
}
