//! Every chart kind drawn from small real experiments whose results are
//! then rewritten by hand into the cases that break charts: seventeen
//! series, one series, a single point, all-equal values, zeros and huge
//! values. Each must render in PNG and SVG without a panic and without
//! NaN or infinity reaching the SVG.

mod common;

use std::path::Path;

use common::TOPOLOGY;
use edgesim::experiment::Experiment;
use edgesim::report::{Summary, exports};
use edgesim::runner::{self, RunResult};

/// Seventeen policies at three sizes, objects of varied sizes (so byte
/// hit ratios differ), a baseline.
const MANY_POLICIES: &str = r#"
[experiment]
name = "many"
seed = 3
[workload]
kind = "synthetic"
requests = 3000
keys = 500
popularity = { dist = "zipf", alpha = 1.0 }
size = { dist = "lognormal", median = "4KiB", sigma = 1.0 }
rate = "1000/s"
[[cache]]
policy = ["fifo", "random", "lru", "clock", "clock(bits=2)", "slru", "lfu", "lfuda",
          "2q", "arc", "lirs", "wtinylfu", "s3fifo", "sieve", "hyperbolic", "gdsf", "belady"]
capacity = ["1%", "5%", "20%"]
"#;

/// One policy at one size: a single point.
const ONE_POINT: &str = r#"
[experiment]
name = "one"
[workload]
kind = "synthetic"
requests = 500
keys = 50
[[cache]]
policy = "lru"
capacity = "10%"
"#;

/// Limiters against abusers, with replications (whiskers).
const LIMITERS: &str = r#"
[experiment]
name = "limiters"
seed = 5
replications = 2
[workload]
kind = "synthetic"
requests = 4000
keys = 100
[workload.clients]
legit = 200
legit_rate = "0.5/s"
abusive = 5
abusive_rate = "10/s"
[[limiter]]
algorithm = ["none", "gcra", "token-bucket", "fixed-window", "sliding-window-log"]
rate = "1/s"
burst = 5
"#;

/// A service under a stress ladder and an endurance run, with a cache, a
/// limiter and an alert: the service charts.
const SERVICE: &str = r#"
[experiment]
name = "service"
seed = 9
[workload]
keys = 300
popularity = { dist = "zipf", alpha = 1.0 }
[[load]]
name = "stress"
connections = [2, 20, 200]
duration = "3s"
[[load]]
name = "endurance"
connections = 10
duration = "20s"
[[cache]]
policy = ["none", "lru"]
capacity = "20%"
[[limiter]]
algorithm = ["none", "gcra"]
rate = "500/s"
burst = 20
key = "global"
[service]
servers = 4
queue = 50
timeout = "1s"
service_time = { dist = "lognormal", median = "20ms", p99 = "200ms" }
rtt = { dist = "fixed", time = "10ms" }
[report]
window = "2s"
[[alert]]
name = "high_error_rate"
metric = "error_ratio"
condition = "above"
threshold = 0.05
"#;

fn simulate(source: &str) -> (Experiment, Vec<RunResult>) {
    let exp = Experiment::parse(Path::new("test.toml"), source.to_string()).unwrap();
    let results = runner::run(&exp, Some(1)).unwrap();
    (exp, results)
}

/// The hand-made variants of a result set.
fn variants(results: &[RunResult]) -> Vec<(&'static str, Vec<RunResult>)> {
    let rewrite = |f: &dyn Fn(&mut RunResult)| {
        let mut r = results.to_vec();
        r.iter_mut().for_each(f);
        r
    };
    vec![
        ("as simulated", results.to_vec()),
        (
            "all equal",
            rewrite(&|r| {
                r.stats.hits = r.stats.requests / 2;
                r.stats.hit_bytes = r.stats.bytes / 2;
                r.batches.iter_mut().for_each(|b| {
                    b.hits = b.requests / 2;
                    b.hit_bytes = b.bytes / 2;
                });
                if let Some(l) = &mut r.limits {
                    l.legit_denied = 0;
                    l.abusive_allowed = l.abusive;
                }
            }),
        ),
        (
            "zeros",
            rewrite(&|r| {
                r.stats.hits = 0;
                r.stats.hit_bytes = 0;
                r.batches.iter_mut().for_each(|b| {
                    b.hits = 0;
                    b.hit_bytes = 0;
                });
                if let Some(s) = &mut r.service {
                    s.latency = Default::default();
                    s.windows
                        .iter_mut()
                        .for_each(|w| w.latency = Default::default());
                }
                if let Some(t) = &mut r.topology {
                    t.origin_requests = 0;
                    t.locations.iter_mut().for_each(|s| s.cache.hits = 0);
                    t.spread.iter_mut().for_each(|s| s.multiple = 0.0);
                }
            }),
        ),
        (
            "huge",
            rewrite(&|r| {
                r.capacity = r.capacity.saturating_mul(1 << 40);
                if let Some(s) = &mut r.service {
                    s.latency.p50 = u64::MAX / 4;
                    s.latency.p95 = u64::MAX / 2;
                    s.latency.p99 = u64::MAX;
                    s.throughput_rps = 1e300;
                }
                if let Some(t) = &mut r.topology {
                    t.origin_bytes = u64::MAX / 2;
                    t.spread.iter_mut().for_each(|s| s.multiple = 1e12);
                }
            }),
        ),
    ]
}

#[test]
fn every_chart_kind_draws_the_hard_cases_cleanly() {
    let mut drawn: Vec<&str> = Vec::new();
    for source in [MANY_POLICIES, ONE_POINT, LIMITERS, SERVICE, TOPOLOGY] {
        let (exp, results) = simulate(source);
        for (variant, results) in variants(&results) {
            let summary = Summary::new(&exp, &results);
            for export in exports() {
                let name = export.file_name();
                if !(name.ends_with(".svg") || name.ends_with(".png")) || !export.applies(&summary)
                {
                    continue;
                }
                let bytes = export
                    .render(&summary)
                    .unwrap_or_else(|e| panic!("{} {variant}: {name}: {e}", exp.name));
                assert!(!bytes.is_empty());
                if name.ends_with(".svg") {
                    let svg = String::from_utf8(bytes).unwrap();
                    for bad in ["NaN", "inf"] {
                        assert!(
                            !svg.contains(bad),
                            "{} {variant}: {bad} in {name}",
                            exp.name
                        );
                    }
                }
                if !drawn.contains(&name) {
                    drawn.push(name);
                }
            }
        }
    }
    // Every chart kind met the hard cases at least once.
    for export in exports() {
        let name = export.file_name();
        if name.ends_with(".svg") || name.ends_with(".png") {
            assert!(drawn.contains(&name), "no case draws {name}");
        }
    }
}

#[test]
fn a_single_configuration_draws_no_curve_and_no_comparison() {
    let (exp, results) = simulate(ONE_POINT);
    let summary = Summary::new(&exp, &results);
    let drawn: Vec<&str> = exports()
        .filter(|e| e.applies(&summary))
        .map(|e| e.file_name())
        .collect();
    for chart in [
        "mrc.png",
        "configurations.png",
        "grades.png",
        "limiters.png",
    ] {
        assert!(!drawn.contains(&chart), "{chart} drawn for one point");
    }
}
