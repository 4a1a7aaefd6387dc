//! The service outputs end to end through the library: timeseries.csv
//! against the runs, a breaking point that queueing arithmetic predicts,
//! and the service section of report.md.

use std::fs;
use std::path::Path;

use edgesim::experiment::Experiment;
use edgesim::report::{self, Summary};
use edgesim::runner::{self, RunResult};

/// One server taking exactly 10ms, 10 places in its queue and a 50ms
/// timeout, behind closed-loop connections with no think time. With 5
/// connections at most 4 requests are ahead of any other (40ms + its own
/// 10ms: not longer than the timeout), so nothing fails; with 20, 9 of them
/// find the queue full at every try, far more than 10% of the requests.
const LADDER: &str = r#"
[experiment]
name = "ladder"
seed = 3

[workload]
keys = 200

[[load]]
name = "ladder"
connections = [1, 5, 20, 100]
duration = "2s"

[[cache]]
policy = ["none", "lru"]
capacity = "50%"

[service]
servers = 1
queue = 10
timeout = "50ms"
service_time = { dist = "fixed", time = "10ms" }
# Refusals take a round trip, so a refused connection does not retry at
# the same instant forever.
rtt = { dist = "fixed", time = "1ms" }

[report]
window = "500ms"
"#;

/// Runs `source` through the library into `out` in a temporary directory
/// (beside the experiment file: an output directory is replaced whole).
fn run(source: &str) -> (tempfile::TempDir, Vec<RunResult>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    fs::write(&file, source).unwrap();
    let exp = Experiment::load(&file).unwrap();
    let results = runner::run(&exp, Some(2)).unwrap();
    let summary = Summary::new(&exp, &results);
    report::write_all(&dir.path().join("out"), &summary).unwrap();
    (dir, results)
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Rows of a CSV file as (header, rows of cells).
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn ladder_outputs_agree_with_the_runs_and_the_arithmetic() {
    let (dir, results) = run(LADDER);
    let dir = &dir.path().join("out");

    // timeseries.csv: one row per window of each run, adding up to the run.
    let (header, rows) = csv(&read(dir, "timeseries.csv"));
    let (run_col, requests_col) = (column(&header, "run"), column(&header, "requests"));
    let (results_header, results_rows) = csv(&read(dir, "results.csv"));
    let cache_requests = column(&results_header, "requests");
    for r in &results {
        let service = r.service.as_ref().unwrap();
        let mine: Vec<&Vec<String>> = rows
            .iter()
            .filter(|row| row[run_col] == r.run.index.to_string())
            .collect();
        assert_eq!(mine.len(), service.windows.len(), "run {}", r.run.index);
        assert!(mine.len() >= 4, "2s in 500ms windows");
        let sum: u64 = mine
            .iter()
            .map(|row| row[requests_col].parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, service.counts.requests, "run {}", r.run.index);
        // Every request is cacheable and none is denied: with a cache, the
        // cache saw them all.
        if r.run.cache.is_some() {
            let listed: u64 = results_rows[r.run.index][cache_requests].parse().unwrap();
            assert_eq!(sum, listed, "run {}", r.run.index);
        }
    }

    // The breaking point of the origin alone.
    let json: serde_json::Value = serde_json::from_str(&read(dir, "results.json")).unwrap();
    let points = json["breaking_points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "one per cache configuration");
    let bare = &points[0];
    assert_eq!(bare["cache"], "none");
    assert_eq!(bare["limiter"], "none");
    assert_eq!(bare["load"], "ladder");
    assert_eq!(bare["holds"], "ladder connections=5");
    assert_eq!(bare["holds_error_ratio"], 0.0);
    assert_eq!(bare["breaks"], "ladder connections=20");
    assert!(bare["breaks_error_ratio"].as_f64().unwrap() > 0.5, "{bare}");
    assert_eq!(points[1]["cache"], "lru 50%");

    // report.md says it in words and compares with the bare origin.
    let md = read(dir, "report.md");
    let service = &md[md.find("## Service").expect("a service section")..];
    assert!(
        service.contains("### Load `ladder connections=20`"),
        "{service}"
    );
    assert!(service.contains("### Before/after"), "{service}");
    assert!(
        service.contains("Each configuration against no cache at the same load level"),
        "{service}"
    );
    assert!(
        service.contains("| `ladder connections=20` | lru 50% |"),
        "{service}"
    );
    let breaks = format!(
        "- no cache, load `ladder`: holds up to 5 connections, breaks at 20: {:.1}% errors.",
        bare["breaks_error_ratio"].as_f64().unwrap() * 100.0
    );
    assert!(service.contains(&breaks), "{breaks} not in {service}");
    for chart in ["latency", "errors", "latency_cdf", "timeseries"] {
        assert!(
            service.contains(&format!("]({chart}.png)")),
            "{chart}: {service}"
        );
        let png = fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{chart}.png");
        let svg = read(dir, &format!("{chart}.svg"));
        assert!(svg.contains("<svg"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{chart}.svg");
    }
}

#[test]
fn a_service_alone_gets_a_report_without_cache_or_limiter_sections() {
    let source = r#"
[experiment]
name = "alone"
[workload]
requests = 2000
keys = 100
rate = "100/s"
[service]
servers = 2
service_time = { dist = "fixed", time = "5ms" }
"#;
    let (dir, results) = run(source);
    let dir = &dir.path().join("out");
    let md = read(dir, "report.md");
    assert!(!md.contains("## Limiters"), "{md}");
    assert!(!md.contains("mrc.png"), "{md}");
    assert!(md.contains("| service | 5.0 | "), "{md}");
    assert!(md.contains("### Endurance: load `default`"), "{md}");
    assert!(!md.contains("Before/after"), "nothing to compare: {md}");
    assert!(
        !dir.join("latency.png").exists(),
        "no ladder, no load chart"
    );
    let json: serde_json::Value = serde_json::from_str(&read(dir, "results.json")).unwrap();
    assert_eq!(json["breaking_points"], serde_json::json!([]));
    let (_, rows) = csv(&read(dir, "timeseries.csv"));
    assert_eq!(
        rows.len(),
        results[0].service.as_ref().unwrap().windows.len()
    );
}
