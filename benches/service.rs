//! Event-engine throughput of the service pipeline on an M/M/1 model:
//! Poisson arrivals at 800/s into one exponential server at 1000/s, no
//! limiter, no cache. Each request is two events (its arrival and its
//! completion); the figure is events per second of `service::simulate`,
//! and, beside it, of the whole run including the metrics.
//!
//!     cargo bench --bench service [-- REQUESTS]
//!
//! Target (issue "What users feel"): at least 20 M events/s on one core.

use std::hint::black_box;
use std::time::Instant;

use edgesim::metrics::service::ServiceStats;
use edgesim::service::{self, ServiceSpec, Source, Stages, TimeDist};
use edgesim::units::Duration;
use edgesim::workload::synthetic::{self, SyntheticSpec};

/// Timed passes; the median is reported.
const PASSES: usize = 5;

fn main() {
    let requests: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let spec: SyntheticSpec = toml::from_str(&format!(
        "requests = {requests}\nkeys = 1000\nrate = \"800/s\""
    ))
    .expect("valid workload");
    let workload = synthetic::generate(&spec, 42, None, None).expect("workload generates");
    let mut origin = ServiceSpec::fixed(1, 1_000_000);
    origin.service_time = TimeDist::Exponential {
        mean: Duration(1_000_000),
    };
    let stages = || Stages {
        limiter: None,
        caches: Vec::new(),
        layout: None,
        service: Some(&origin),
        routes: &[],
        window: edgesim::engine::SECOND,
    };
    let events = 2.0 * requests as f64;
    let mut simulate = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..PASSES {
        let start = Instant::now();
        let outcome = service::simulate(Source::Open(&workload), stages(), 7).expect("runs");
        simulate.push(start.elapsed().as_secs_f64());
        let stats = ServiceStats::of(
            &outcome.fates,
            &[],
            &[],
            &outcome.looped,
            edgesim::engine::SECOND,
        );
        whole.push(start.elapsed().as_secs_f64());
        black_box(stats);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (s, w) = (median(&mut simulate), median(&mut whole));
    println!(
        "M/M/1, {requests} requests ({events:.0} events), median of {PASSES}:\n  simulate        {s:.3} s  {:.1} M events/s\n  with metrics    {w:.3} s  {:.1} M events/s",
        events / s / 1e6,
        events / w / 1e6
    );
}
