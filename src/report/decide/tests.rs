//! The decision on hand-made result sets: each test would fail with its
//! rule broken.

use std::path::Path;

use super::*;
use crate::experiment::{GradeBands, Run};

/// An experiment whose `[report]` is `report` (its runs are not used:
/// the candidates below are made by hand).
fn experiment(report: &str) -> Experiment {
    let source = format!(
        r#"
[workload]
keys = 100
requests = 1000
[[cache]]
policy = ["lru", "fifo", "s3fifo", "belady"]
capacity = ["1%", "10%"]
[report]
{report}
"#
    );
    Experiment::parse(Path::new("test.toml"), source).unwrap()
}

fn measure(metric: Metric, samples: &[f64]) -> Measure {
    Measure {
        metric,
        mean: Mean::of(samples),
        samples: samples.to_vec(),
    }
}

/// A cache configuration with hit ratios per replication (and a p95 when
/// given).
fn cache(policy: &str, capacity: &str, hits: &[f64], size: f64) -> Candidate {
    Candidate {
        run: Run {
            cache: Some(0),
            ..Run::default()
        },
        runs: vec![0],
        label: format!("{policy} {capacity}"),
        values: vec![
            ("policy".into(), policy.into()),
            ("capacity".into(), capacity.into()),
        ],
        environment: Vec::new(),
        environment_label: String::new(),
        offline: policy == "belady",
        measures: vec![measure(Metric::HitRatio, hits)],
        requests: 1_000_000,
        size: [0.0, size, 0.0],
    }
}

fn with(mut c: Candidate, metric: Metric, samples: &[f64]) -> Candidate {
    c.measures.push(measure(metric, samples));
    c
}

#[test]
fn overlapping_intervals_are_a_tie_not_a_pick() {
    let exp = experiment("");
    // Paired differences 0.02, -0.01, 0.02: mean 0.01, interval wider.
    let close = [
        cache("lru", "10%", &[0.50, 0.52, 0.51], 10.0),
        cache("s3fifo", "10%", &[0.52, 0.51, 0.53], 10.0),
    ];
    let r = &recommend(&exp, &close)[0];
    assert_eq!((r.pick, r.runner_up), (Some(1), Some(0)));
    assert!(r.indistinguishable);
    // The same means with a steady gap are told apart.
    let apart = [
        cache("lru", "10%", &[0.50, 0.51, 0.52], 10.0),
        cache("s3fifo", "10%", &[0.52, 0.53, 0.54], 10.0),
    ];
    let r = &recommend(&exp, &apart)[0];
    assert_eq!(r.pick, Some(1));
    assert!(!r.indistinguishable);
}

#[test]
fn when_nothing_meets_the_targets_the_closest_is_named_with_its_misses() {
    let exp = experiment(r#"targets = ["hit_ratio >= 0.9"]"#);
    let set = [
        cache("lru", "1%", &[0.60], 1.0),
        cache("s3fifo", "1%", &[0.70], 1.0),
        cache("fifo", "10%", &[0.85], 10.0),
    ];
    let r = &recommend(&exp, &set)[0];
    assert!(r.meeting.is_empty());
    assert_eq!(r.pick, Some(2), "the closest to 0.9 is fifo at 10%");
    assert_eq!(r.misses.len(), 1);
    assert_eq!(r.misses[0].value, Some(0.85));
    assert_eq!(r.misses[0].target.value, 0.9);
}

#[test]
fn targets_pick_the_cheapest_that_meets_them() {
    let exp = experiment(r#"targets = ["hit_ratio >= 0.6"]"#);
    let set = [
        cache("lru", "1%", &[0.55], 1.0),
        cache("s3fifo", "1%", &[0.62], 1.0),
        cache("lru", "10%", &[0.80], 10.0),
    ];
    let r = &recommend(&exp, &set)[0];
    assert_eq!(r.rule, Rule::Cheapest);
    assert_eq!(r.meeting, vec![1, 2]);
    assert_eq!(r.pick, Some(1));
    assert_eq!(r.runner_up, Some(2));
}

#[test]
fn belady_is_a_bound_never_a_pick() {
    let exp = experiment("");
    let set = [
        cache("lru", "10%", &[0.50, 0.51, 0.52], 10.0),
        cache("belady", "10%", &[0.70, 0.71, 0.72], 10.0),
        cache("s3fifo", "10%", &[0.55, 0.56, 0.57], 10.0),
    ];
    let r = &recommend(&exp, &set)[0];
    assert_eq!(r.pick, Some(2));
    assert_eq!(r.runner_up, Some(0));
    assert_eq!(r.bound, Some(1));
    // Even when it is the only one meeting a target.
    let exp = experiment(r#"targets = ["hit_ratio >= 0.7"]"#);
    let r = &recommend(&exp, &set)[0];
    assert_ne!(r.pick, Some(1));
    assert!(r.meeting.is_empty());
}

#[test]
fn a_full_baseline_names_one_configuration_for_all() {
    let exp = experiment(r#"baseline = { policy = "fifo", capacity = "1%" }"#);
    let set = [
        cache("fifo", "1%", &[0.30], 1.0),
        cache("fifo", "10%", &[0.50], 10.0),
        cache("s3fifo", "10%", &[0.60], 10.0),
    ];
    let cmp = compare(&exp, &set);
    assert_eq!(cmp[0].baseline, None, "the baseline itself");
    assert_eq!(cmp[1].baseline, Some(0));
    assert_eq!(cmp[2].baseline, Some(0));
    let change = cmp[2].changes[0];
    assert!((change.delta.mean - 0.30).abs() < 1e-12);
    assert!((change.relative.unwrap() - 100.0).abs() < 1e-9);
    // A policy alone: each size against its own size.
    let exp = experiment(r#"baseline = { policy = "fifo" }"#);
    let cmp = compare(&exp, &set);
    assert_eq!(cmp[2].baseline, Some(1));
}

#[test]
fn grades_at_each_band_edge() {
    let bands = GradeBands::default();
    // p95 reduction: >50 excellent, 30-50 good, 10-30 fair, <10 poor.
    let p95 = |x| Band::of(x, &bands.p95);
    assert_eq!(p95(50.0001), Band::Excellent);
    assert_eq!(p95(50.0), Band::Good);
    assert_eq!(p95(30.0), Band::Good);
    assert_eq!(p95(29.999), Band::Fair);
    assert_eq!(p95(10.0), Band::Fair);
    assert_eq!(p95(9.999), Band::Poor);
    let throughput = |x| Band::of(x, &bands.throughput);
    assert_eq!(throughput(100.1), Band::Excellent);
    assert_eq!(throughput(100.0), Band::Good);
    assert_eq!(throughput(50.0), Band::Good);
    assert_eq!(throughput(20.0), Band::Fair);
    assert_eq!(throughput(19.9), Band::Poor);
    let errors = |x| Band::of(x, &bands.error_ratio);
    assert_eq!(errors(80.1), Band::Excellent);
    assert_eq!(errors(80.0), Band::Good);
    assert_eq!(errors(50.0), Band::Good);
    assert_eq!(errors(20.0), Band::Fair);
    assert_eq!(errors(19.9), Band::Poor);
    let hits = |x| Band::of(x, &bands.hit_ratio);
    assert_eq!(hits(40.1), Band::Excellent);
    assert_eq!(hits(40.0), Band::Good);
    assert_eq!(hits(20.0), Band::Good);
    assert_eq!(hits(10.0), Band::Fair);
    assert_eq!(hits(9.9), Band::Poor);
}

#[test]
fn grades_follow_the_direction_of_each_metric() {
    let exp = experiment(r#"baseline = { policy = "lru", capacity = "1%" }"#);
    let base = with(
        with(cache("lru", "1%", &[0.50], 1.0), Metric::P95, &[200.0]),
        Metric::ErrorRatio,
        &[0.10],
    );
    // p95 200 -> 100 ms is a 50% reduction (good, not excellent); errors
    // 10% -> 1% a 90% reduction; hit ratio 0.5 -> 0.6 a 20% increase.
    let after = with(
        with(cache("s3fifo", "10%", &[0.60], 10.0), Metric::P95, &[100.0]),
        Metric::ErrorRatio,
        &[0.01],
    );
    let cmp = compare(&exp, &[base, after]);
    let grade = |m| cmp[1].grades.iter().find(|g| g.metric == m).unwrap().band;
    assert_eq!(grade(Metric::P95), Band::Good);
    assert_eq!(grade(Metric::ErrorRatio), Band::Excellent);
    assert_eq!(grade(Metric::HitRatio), Band::Good);
}

#[test]
fn improvement_from_nothing() {
    assert_eq!(improvement(Metric::HitRatio, 0.0, 0.4), Some(f64::INFINITY));
    assert_eq!(improvement(Metric::HitRatio, 0.0, 0.0), None);
    assert_eq!(improvement(Metric::ErrorRatio, 0.0, 0.0), None);
    assert_eq!(improvement(Metric::P95, 100.0, 150.0), Some(-50.0));
}

#[test]
fn short_runs_and_missing_intervals_are_warned_about() {
    let exp = experiment("");
    let mut a = cache("lru", "10%", &[0.5], 10.0);
    a.requests = 400;
    let b = cache("fifo", "10%", &[0.49], 10.0);
    let r = &recommend(&exp, &[a, b])[0];
    assert!(r.warnings.iter().any(|w| w.contains("only 400 requests")));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("no confidence interval"))
    );
}
