//! Limiters inside experiments: the example file end to end, the sliding
//! window counter's accuracy on a large population, and clear errors.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::edgesim;
use edgesim::experiment::Experiment;
use edgesim::runner;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/limiters.toml")
}

const OUTPUTS: [&str; 5] = [
    "results.csv",
    "results.json",
    "report.md",
    "limiters.png",
    "limiters.svg",
];

fn run_example(threads: &str) -> (tempfile::TempDir, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    edgesim()
        .arg("run")
        .arg(example())
        .arg("--out")
        .arg(dir.path())
        .args(["--threads", threads])
        .assert()
        .success();
    let bytes = OUTPUTS
        .iter()
        .map(|n| fs::read(dir.path().join(n)).unwrap())
        .collect();
    (dir, bytes)
}

#[test]
fn example_compares_every_algorithm_identically_with_any_thread_count() {
    let (dir, one) = run_example("1");
    let (_, four) = run_example("4");
    for (name, (a, b)) in OUTPUTS.iter().zip(one.iter().zip(&four)) {
        assert!(a == b, "{name} differs between 1 and 4 threads");
    }
    assert!(
        !dir.path().join("mrc.png").exists(),
        "no cache chart without caches"
    );
    let csv = String::from_utf8(one[0].clone()).unwrap();
    for algorithm in edgesim::limiter::ALGORITHMS {
        assert!(
            csv.lines()
                .any(|l| l.contains(&format!(",{}", algorithm.name))),
            "{} missing from the example",
            algorithm.name
        );
    }
    // Same seed: every limiter saw the same requests.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (req, legit) = (col("offered_requests"), col("legit_requests"));
    let counts: Vec<(String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[req].to_string(), f[legit].to_string())
        })
        // The "none" row has no limiter to count them.
        .filter(|(req, _)| !req.is_empty())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
    let report = String::from_utf8(one[2].clone()).unwrap();
    assert!(
        report.contains("## Limiters") && report.contains("**Pick `"),
        "{report}"
    );
}

/// Cloudflare reported 0.003% of requests wrongly allowed or limited and a
/// 6% mean rate error for its sliding window counter on its own traffic.
/// Here: 5000 legitimate clients and 20 abusers at 10x the limit.
#[test]
fn sliding_window_counter_stays_close_to_the_exact_log() {
    let source = r#"
[workload]
requests = 300_000
keys = 1000
clients = { legit = 5000, legit_rate = "0.2/s", legit_alpha = 2.5, abusive = 20, abusive_rate = "20/s" }

[[limiter]]
algorithm = ["sliding-window-counter(count=all)", "sliding-window-counter", "fixed-window(count=all)"]
rate = "2/s"
window = "10s"
"#;
    let exp = Experiment::parse(Path::new("accuracy.toml"), source.to_string()).unwrap();
    let results = runner::run(&exp, None).unwrap();
    let accuracy: Vec<_> = results
        .iter()
        .map(|r| r.limits.as_ref().unwrap().accuracy.unwrap())
        .collect();
    for (r, a) in results.iter().zip(&accuracy) {
        eprintln!(
            "{}: {} of {} requests decided differently from the exact log ({:.4}%), mean rate error {:.2}%",
            exp.limiters[r.run.limiter.unwrap()].spec.algorithm,
            a.misclassified,
            a.requests,
            a.misclassified_ratio() * 100.0,
            a.mean_rate_error * 100.0
        );
    }
    let (counter, counter_admitted, fixed) = (accuracy[0], accuracy[1], accuracy[2]);
    assert!(counter.misclassified_ratio() < 0.002, "{counter:?}");
    assert!(counter.mean_rate_error < 0.12, "{counter:?}");
    // Counting only admitted requests lets the two drift apart on abusers.
    assert!(counter_admitted.misclassified_ratio() > counter.misclassified_ratio());
    // The fixed window is a much worse estimate of the sliding rate.
    assert!(
        fixed.mean_rate_error > 2.0 * counter.mean_rate_error,
        "{fixed:?}"
    );
    assert!(fixed.misclassified_ratio() > 10.0 * counter.misclassified_ratio());
}

fn error_of(source: &str) -> String {
    common::validate_error("bad.toml", source)
}

#[test]
fn bad_limiter_parameters_are_errors_that_name_the_place() {
    let workload = "[workload]\nrequests = 10\nkeys = 10\n\n";
    let cases = [
        (
            "[[limiter]]\nalgorithm = \"gcra\"\nrate = \"0/s\"\n",
            "bad.toml:7:8",
            "above zero",
        ),
        (
            "[[limiter]]\nalgorithm = \"gcra\"\nrate = \"1/s\"\nburst = -2\n",
            "bad.toml:8:9",
            "burst must be",
        ),
        (
            "[[limiter]]\nalgorithm = [\"gcra\", \"leaky\"]\n",
            "bad.toml:6:22",
            "unknown limiter algorithm \"leaky\"",
        ),
        (
            "[[limiter]]\nalgorithm = \"gcra\"\nkey = \"ip\"\n",
            "bad.toml:7:7",
            "unknown limiter key",
        ),
        (
            "[[limiter]]\nalgorithm = \"gcra\"\nwindow = \"0s\"\n",
            "bad.toml:7:10",
            "longer than zero",
        ),
    ];
    for (limiter, place, message) in cases {
        let err = error_of(&format!("{workload}{limiter}"));
        assert!(
            err.contains(place) && err.contains(message),
            "{limiter}: {err}"
        );
    }
    let err = error_of(workload);
    assert!(err.contains("[[cache]] or [[limiter]]"), "{err}");
}

/// A limiter that cannot be built is refused by `validate` at the choice
/// that names it (it used to fail the run, naming only the run).
#[test]
fn limiter_errors_name_the_choice_in_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    let source = "[workload]\nrequests = 10\nkeys = 10\n\n[[limiter]]\nalgorithm = [\"gcra\", \"concurrency\"]\nrate = \"1/s\"\n";
    fs::write(&file, source).unwrap();
    let out = edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("exp.toml:6:22") && err.contains("add a [service] table"),
        "{err}"
    );
}

#[test]
fn admitted_requests_go_on_to_the_cache() {
    let source = r#"
[workload]
requests = 20_000
keys = 500
clients = { legit = 200, abusive = 2, abusive_rate = "50/s" }

[[cache]]
policy = "lru"
capacity = 100

[[limiter]]
algorithm = "gcra"
rate = "1/s"
burst = 5
"#;
    let exp = Experiment::parse(Path::new("both.toml"), source.to_string()).unwrap();
    let results = runner::run(&exp, Some(1)).unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    let limits = r.limits.as_ref().unwrap();
    assert!(limits.denied > 0);
    assert_eq!(
        r.stats.requests, limits.allowed,
        "only admitted requests reach the cache"
    );
}

#[test]
fn limiting_a_clientless_trace_by_client_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), "time,key,size\n1,a,10\n2,b,10\n").unwrap();
    let exp = dir.path().join("e.toml");
    let source = |key: &str| {
        format!(
            "[workload]\nkind = \"trace\"\npath = \"t.csv\"\ntime_unit = \"s\"\n\n[[limiter]]\nalgorithm = \"gcra\"\nrate = \"1/s\"\nkey = \"{key}\"\n"
        )
    };
    fs::write(&exp, source("client")).unwrap();
    let err = runner::run(&Experiment::load(&exp).unwrap(), Some(1))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("t.csv: limiter key \"client\" needs a client field"),
        "{err}"
    );
    fs::write(&exp, source("global")).unwrap();
    let results = runner::run(&Experiment::load(&exp).unwrap(), Some(1)).unwrap();
    assert_eq!(results[0].limits.as_ref().unwrap().allowed, 2);
}
