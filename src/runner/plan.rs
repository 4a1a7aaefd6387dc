//! The runs of an experiment computed from their position, without building
//! the list: run order is a mixed-radix number (workload variant, load
//! level, service variant, cache choice, limiter choice, replication), so
//! run `i` is its digits. The runner takes runs grouped by the workload
//! instance they replay (variant, load level, replication), so that each
//! instance is generated once, used by its runs and dropped.

use crate::experiment::{Experiment, Run};

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

    /// The instance run `index` replays, as numbered by [`Plan::instances`].
    pub fn instance_of(&self, index: u64) -> u64 {
        let r = index % self.replications;
        let wl = index / (self.runs_per_instance() * self.replications);
        wl * self.replications + r
    }

    /// The `k`-th run (in run order) of instance `instance`.
    pub fn run_of_instance(&self, instance: u64, k: u64) -> u64 {
        let (wl, r) = (instance / self.replications, instance % self.replications);
        (wl * self.runs_per_instance() + k) * self.replications + r
    }

    /// Run `index` of `exp`, equal to `exp.runs()[index]`.
    pub fn run(&self, exp: &Experiment, index: u64) -> Run {
        let mut rest = index;
        let mut digit = |n: u64| {
            let d = rest % n;
            rest /= n;
            d as usize
        };
        let replication = digit(self.replications) as u64;
        let limiter = exp.limiter_slots[digit(self.limiters)];
        let cache = exp.cache_slots[digit(self.caches)];
        let service = digit(self.services);
        let load = digit(self.loads);
        let workload = digit(self.workloads);
        Run {
            index: index as usize,
            workload,
            load,
            service: (!exp.services.is_empty()).then_some(service),
            cache,
            limiter,
            replication,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

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
        let listed = exp.runs();
        assert_eq!(plan.runs(), listed.len() as u64);
        for run in &listed {
            assert_eq!(plan.run(&exp, run.index as u64), *run);
        }
        let mut seen = vec![false; listed.len()];
        for instance in 0..plan.instances() {
            for k in 0..plan.runs_per_instance() {
                let index = plan.run_of_instance(instance, k);
                let run = &listed[index as usize];
                assert_eq!(plan.instance_of(index), instance);
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
