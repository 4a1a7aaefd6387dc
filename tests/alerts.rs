//! `[[alert]]` end to end through the CLI: every row of alerts.csv is the
//! dashboard's rule applied to a row of timeseries.csv (recomputed here
//! from that file alone), and a bad `[[alert]]` is refused with its place.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

mod common;
use common::{assert_rejected, run_in};

/// Two load levels through no cache and a small LRU for 11 minutes of
/// simulated time in 10 s windows, long enough for the 5-minute quiet time
/// to matter. The origin saturates at 12 connections: its small queue
/// refuses many requests. The first three alerts are the workshop's.
const EXPERIMENT: &str = r#"
[experiment]
name = "alerts"
seed = 7

[workload]
keys = 300

[[load]]
name = "steady"
connections = [2, 12]
duration = "11min"

[[cache]]
policy = ["none", "lru"]
capacity = "10%"

[service]
servers = 2
queue = 4
timeout = "300ms"
service_time = { dist = "exponential", mean = "50ms" }
rtt = { dist = "fixed", time = "5ms" }

[report]
window = "10s"

[[alert]]
metric = "error_ratio"
condition = "above"
threshold = 0.05

[[alert]]
metric = "p95"
condition = "above"
threshold = "100ms"

[[alert]]
metric = "hit_ratio"
condition = "below"
threshold = 0.7

[[alert]]
name = "throughput off"
metric = "throughput"
condition = "change"
threshold = "10%"
baseline = "30/s"
"#;

/// (name, metric, condition, threshold, baseline) of the alerts above, in
/// the units of timeseries.csv (ms for latency).
const RULES: [(&str, &str, &str, f64, f64); 4] = [
    ("error_ratio above 0.05", "error_ratio", "above", 0.05, 0.01),
    ("p95 above 100ms", "p95", "above", 100.0, 500.0),
    ("hit_ratio below 0.7", "hit_ratio", "below", 0.7, 0.8),
    ("throughput off", "throughput", "change", 0.1, 30.0),
];

const WINDOW_S: f64 = 10.0;

/// A CSV file as rows of named cells.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?}", row[column]))
}

/// The value of `metric` in a row of timeseries.csv, or None when the
/// window has none (no answers for a latency).
fn metric_value(row: &BTreeMap<String, String>, metric: &str) -> Option<f64> {
    let requests = number(row, "requests");
    let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
    match metric {
        "p95" => (!row["latency_p95_ms"].is_empty()).then(|| number(row, "latency_p95_ms")),
        "error_ratio" => Some(ratio(number(row, "errors"), requests)),
        "hit_ratio" => Some(ratio(number(row, "hits"), requests - number(row, "denied"))),
        "throughput" => Some((requests - number(row, "denied") - number(row, "errors")) / WINDOW_S),
        _ => unreachable!(),
    }
}

/// The dashboard's checkAlerts: the severity when the rule triggers.
fn severity(condition: &str, value: f64, threshold: f64, baseline: f64) -> Option<&'static str> {
    if value == 0.0 {
        return None;
    }
    let (triggered, critical) = match condition {
        "above" => (value > threshold, value > baseline * 1.5),
        "below" => (value < threshold, value < baseline * 0.5),
        "change" => {
            let change = ((value - baseline) / baseline).abs();
            (change > threshold, change > 0.5)
        }
        _ => unreachable!(),
    };
    triggered.then_some(if critical { "critical" } else { "warning" })
}

#[test]
fn alerts_csv_is_the_rule_applied_to_timeseries_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), EXPERIMENT, &[]);
    let series = csv_rows(&out.join("timeseries.csv"));
    let fired = csv_rows(&out.join("alerts.csv"));

    let mut expected: Vec<Vec<String>> = Vec::new();
    let mut suppressed = 0;
    let runs: Vec<String> = {
        let mut runs: Vec<String> = series.iter().map(|r| r["run"].clone()).collect();
        runs.dedup();
        runs
    };
    assert_eq!(runs.len(), 4);
    for run in &runs {
        let windows: Vec<&BTreeMap<String, String>> =
            series.iter().filter(|r| &r["run"] == run).collect();
        assert!(windows.len() >= 66, "11 minutes in 10 s windows");
        // The last window holds what was answered after the load stopped:
        // no requests sent in it, so no throughput to divide by its length.
        let last = windows.last().unwrap();
        assert_eq!(number(last, "requests"), 0.0, "run {run}");
        let mut quiet_since: BTreeMap<&str, f64> = BTreeMap::new();
        for w in &windows {
            let t = number(w, "window_start_s");
            for (name, metric, condition, threshold, baseline) in RULES {
                let Some(value) = metric_value(w, metric) else {
                    continue;
                };
                let Some(severity) = severity(condition, value, threshold, baseline) else {
                    continue;
                };
                if quiet_since.get(name).is_some_and(|&at| t - at < 300.0) {
                    suppressed += 1;
                    continue;
                }
                quiet_since.insert(name, t);
                expected.push(vec![
                    run.clone(),
                    w["window_start_s"].clone(),
                    name.to_string(),
                    metric.to_string(),
                    condition.to_string(),
                    format!("{value:.9}"),
                    severity.to_string(),
                ]);
            }
        }
    }
    let got: Vec<Vec<String>> = fired
        .iter()
        .map(|r| {
            vec![
                r["run"].clone(),
                r["window_start_s"].clone(),
                r["alert"].clone(),
                r["metric"].clone(),
                r["condition"].clone(),
                format!("{:.9}", number(r, "value")),
                r["severity"].clone(),
            ]
        })
        .collect();
    assert_eq!(got, expected);

    // The run exercises the rules: both severities, several firings of one
    // alert in a run, and firings kept quiet.
    assert!(fired.iter().any(|r| r["severity"] == "critical"));
    assert!(fired.iter().any(|r| r["severity"] == "warning"));
    assert!(
        fired
            .iter()
            .any(|r| r["window_start_s"].parse::<f64>().unwrap() >= 300.0)
    );
    assert!(suppressed > 100, "{suppressed} firings kept quiet");
    for r in &fired {
        let rule = RULES.iter().find(|rule| rule.0 == r["alert"]).unwrap();
        assert_eq!(
            (number(r, "threshold"), number(r, "baseline")),
            (rule.3, rule.4)
        );
        // Runs 0 and 1 are the first load level, 2 and 3 the second.
        let connections = if number(r, "run") < 2.0 { 2 } else { 12 };
        assert_eq!(r["load"], format!("steady connections={connections}"));
    }

    // report.md sums them up per configuration and load level.
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let alerts = &md[md.find("## Alerts").expect("an alerts section")..];
    for (name, ..) in RULES {
        assert!(alerts.contains(&format!("- `{name}`: ")), "{alerts}");
    }
    let errors: Vec<&BTreeMap<String, String>> = fired
        .iter()
        .filter(|r| r["run"] == "2" && r["alert"] == "error_ratio above 0.05")
        .collect();
    let count = |s: &str| errors.iter().filter(|r| r["severity"] == s).count();
    let row = format!(
        "| no cache | `steady connections=12` | `error_ratio above 0.05` | {} | {} | {} | {} |",
        count("critical"),
        count("warning"),
        errors.first().map_or("", |r| &r["window_start_s"]),
        errors.last().map_or("", |r| &r["window_start_s"]),
    );
    assert!(alerts.contains(&row), "{row} not in {alerts}");
}

#[test]
fn without_alerts_there_is_no_alerts_file_or_section() {
    let dir = tempfile::tempdir().unwrap();
    let source = EXPERIMENT[..EXPERIMENT.find("[[alert]]").unwrap()]
        .replace("duration = \"11min\"", "duration = \"5s\"");
    let out = run_in(dir.path(), &source, &[]);
    assert!(!out.join("alerts.csv").exists());
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("## Alerts"), "{md}");
}

#[test]
fn a_bad_alert_is_refused_with_its_place() {
    let service = "[workload]\nkeys = 10\n\n[service]\nservers = 1\nservice_time = { dist = \"fixed\", time = \"1ms\" }\n";
    assert_rejected(
        &format!(
            "{service}\n[[alert]]\nmetric = \"p95\"\ncondition = \"above\"\nthreshold = \"1s\"\nwindow = \"5m\"\n"
        ),
        &["bad.toml:12:1:", "unknown field `window`"],
    );
    assert_rejected(
        &format!(
            "{service}\n[[alert]]\nmetric = \"cpu_usage\"\ncondition = \"above\"\nthreshold = 80\n"
        ),
        &["bad.toml:9:10:", "metric `cpu_usage`", "memory or CPU"],
    );
    assert_rejected(
        &format!(
            "{service}\n[[alert]]\nmetric = \"p95\"\ncondition = \"above\"\nthreshold = 500\n"
        ),
        &[
            "bad.toml:11:13:",
            "threshold",
            "a latency needs a unit",
            "\"500ms\"",
        ],
    );
    assert_rejected(
        &format!(
            "{service}\n[[alert]]\nmetric = \"p95\"\ncondition = \"rises\"\nthreshold = \"1s\"\n"
        ),
        &["bad.toml:10:13:", "unknown condition `rises`"],
    );
    assert_rejected(
        &format!("{service}\n[[alert]]\nmetric = \"p95\"\ncondition = \"above\"\n"),
        &["bad.toml:", "missing field `threshold`"],
    );
    assert_rejected(
        "[workload]\nkeys = 10\n\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n\n[[alert]]\nmetric = \"hit_ratio\"\ncondition = \"below\"\nthreshold = 0.7\n",
        &["bad.toml:8:", "add a [service] section"],
    );
}
