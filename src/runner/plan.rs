//! The runs of an experiment grouped by the workload instance they replay
//! (variant, load level, replication), computed from their position in run
//! order (see [`Experiment::run`]) without building the list, so that each
//! instance is generated once, used by its runs and dropped; and the
//! shards a sweep is split into to run on several machines.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::experiment::Experiment;

/// The dimensions of the run order, outermost first.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    workloads: u64,
    loads: u64,
    services: u64,
    caches: u64,
    limiters: u64,
    replications: u64,
}

impl Plan {
    pub fn of(exp: &Experiment) -> Self {
        Plan {
            workloads: exp.workloads.len() as u64,
            loads: exp.loads.len() as u64,
            services: exp.services.len().max(1) as u64,
            caches: exp.cache_slots.len() as u64,
            limiters: exp.limiter_slots.len() as u64,
            replications: exp.meta.replications,
        }
    }

    /// Workload instances: one per (variant, load level, replication).
    pub fn instances(&self) -> u64 {
        self.workloads * self.loads * self.replications
    }

    /// Runs that replay one instance: every service, cache and limiter choice.
    pub fn runs_per_instance(&self) -> u64 {
        self.services * self.caches * self.limiters
    }

    /// All runs (the product of the dimensions; callers have checked that
    /// it fits, see [`Experiment::run_count`]).
    pub fn runs(&self) -> u64 {
        self.instances() * self.runs_per_instance()
    }

    /// Instance `instance`'s workload variant, load level and replication.
    pub fn instance(&self, instance: u64) -> (usize, usize, u64) {
        let (wl, r) = (instance / self.replications, instance % self.replications);
        ((wl / self.loads) as usize, (wl % self.loads) as usize, r)
    }

    /// The `k`-th run (in run order) of instance `instance`.
    pub fn run_of_instance(&self, instance: u64, k: u64) -> u64 {
        let (wl, r) = (instance / self.replications, instance % self.replications);
        (wl * self.runs_per_instance() + k) * self.replications + r
    }
}

/// Shard `index` of `count` (1 <= index <= count): the runs whose index
/// `i` (in run order) has `i % count == index - 1`. Dealt round-robin, so
/// that every shard gets a share of each configuration and load level, and
/// shards finish at about the same time; the shards of one count are
/// disjoint and together hold every run. [`Shard::WHOLE`] is every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Every run: the one shard of one.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Shard `index` of `count`, refused outside 1 <= index <= count.
    pub fn new(index: u64, count: u64) -> Result<Self, ConfigError> {
        if count == 0 {
            return Err("the shard count N in K/N must be at least 1, found 0".into());
        }
        if !(1..=count).contains(&index) {
            return Err(format!("the shard K must be from 1 to N ({count}), found {index}").into());
        }
        Ok(Shard { index, count })
    }

    /// Which shard this is, from 1.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many shards the runs are split into.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether run `run` (its index in run order) is in this shard.
    pub fn contains(&self, run: u64) -> bool {
        run % self.count == self.index - 1
    }

    /// How many of `total` runs this shard holds.
    pub fn runs(&self, total: u64) -> u64 {
        total / self.count + u64::from(total % self.count >= self.index)
    }
}

/// As written on the command line and in a shard's marker file: `K/N`.
impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ConfigError;

    /// Reads `K/N`, two whole numbers with 1 <= K <= N.
    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let number = |part: &str| part.trim().parse::<u64>().ok();
        let (k, n) = text
            .split_once('/')
            .and_then(|(k, n)| Some((number(k)?, number(n)?)))
            .ok_or_else(|| {
                format!("expected K/N (shard K of N, whole numbers with 1 <= K <= N, e.g. 2/8), found {text:?}")
            })?;
        Shard::new(k, n)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::Run;

    /// Every dimension swept: the computed runs are the listed ones, and
    /// grouping by instance visits every run once.
    #[test]
    fn computed_runs_are_the_listed_runs() {
        let exp = Experiment::parse(
            Path::new("t.toml"),
            r#"
            [experiment]
            replications = 3
            [workload]
            requests = 100
            keys = 10
            popularity = { dist = "zipf", alpha = [0.8, 1.0] }
            [[cache]]
            policy = ["lru", "fifo", "none"]
            capacity = 5
            [[limiter]]
            algorithm = ["gcra", "none"]
            rate = "10/s"
            burst = 2
            key = "global"
            [service]
            servers = [1, 2]
            service_time = { dist = "exponential", mean = "1ms" }
            [[load]]
            rate = ["10/s", "20/s"]
            duration = "1s"
            "#
            .into(),
        )
        .unwrap();
        let plan = Plan::of(&exp);
        // Run order written out as nested loops, the last dimension fastest.
        let services = [Some(0), Some(1)];
        let mut listed = Vec::new();
        for workload in 0..exp.workloads.len() {
            for load in 0..exp.loads.len() {
                for &service in &services {
                    for &cache in &exp.cache_slots {
                        for &limiter in &exp.limiter_slots {
                            for replication in 0..exp.meta.replications {
                                listed.push(Run {
                                    index: listed.len(),
                                    workload,
                                    load,
                                    service,
                                    cache,
                                    limiter,
                                    replication,
                                });
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(plan.runs(), listed.len() as u64);
        assert_eq!(exp.runs(), listed);
        let mut seen = vec![false; listed.len()];
        for instance in 0..plan.instances() {
            for k in 0..plan.runs_per_instance() {
                let index = plan.run_of_instance(instance, k);
                let run = &listed[index as usize];
                assert!(!std::mem::replace(&mut seen[index as usize], true));
                let (w, l) = (run.workload as u64, run.load as u64);
                assert_eq!(
                    instance,
                    (w * plan.loads + l) * plan.replications + run.replication
                );
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    /// The shards of a count are disjoint, hold every run between them,
    /// and each holds as many as it says; bad values are refused.
    #[test]
    fn shards_split_the_runs() {
        for count in 1..=7u64 {
            for total in 0..20u64 {
                let shards: Vec<Shard> =
                    (1..=count).map(|k| Shard::new(k, count).unwrap()).collect();
                for run in 0..total {
                    assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
                }
                for s in &shards {
                    let held = (0..total).filter(|&run| s.contains(run)).count() as u64;
                    assert_eq!(s.runs(total), held, "{s} of {total}");
                }
            }
        }
        let two_of_three: Shard = "2/3".parse().unwrap();
        assert_eq!((two_of_three.index(), two_of_three.count()), (2, 3));
        assert_eq!(two_of_three.to_string(), "2/3");
        assert!(two_of_three.contains(1) && two_of_three.contains(4));
        assert_eq!("1/1".parse::<Shard>().unwrap(), Shard::WHOLE);
        for bad in ["0/3", "4/3", "x", "3", "1/0", "-1/3", "1/3/5", ""] {
            let error = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(error.contains("K"), "{bad}: {error}");
        }
    }
}
