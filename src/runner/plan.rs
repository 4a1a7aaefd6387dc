//! The runs of an experiment grouped by the workload instance they replay
//! (variant, load level, replication), computed from their position in run
//! order (see [`Experiment::run`]) without building the list, so that each
//! instance is generated once, used by its runs and dropped.

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
}
