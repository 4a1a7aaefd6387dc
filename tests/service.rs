//! The service pipeline end to end: `edgesim run` and `edgesim limit` decide
//! alike on the same trace in any order, coalescing cuts origin fetches, and
//! bad service and load tables are refused with file:line:column.

use std::fs;

mod common;
use common::{assert_rejected as rejected, edgesim, results_json, run_in};

/// Six requests of one client, 100ms apart, in a CSV trace in `order`.
fn trace(order: [usize; 6]) -> String {
    let mut text = String::from("time_ms,key,client\n");
    for i in order {
        text.push_str(&format!("{},/a,alice\n", i * 100));
    }
    text
}

/// (allowed per `edgesim run`, decisions of `edgesim limit` sorted by time).
fn decide(order: [usize; 6]) -> (u64, Vec<(u64, bool)>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.csv");
    fs::write(&log, trace(order)).unwrap();
    let out = run_in(
        dir.path(),
        "[workload]\nkind = \"trace\"\npath = \"t.csv\"\nformat = \"csv\"\ntime_column = \"time_ms\"\ntime_unit = \"ms\"\nkey_column = \"key\"\nclient_column = \"client\"\n\
         [[limiter]]\nalgorithm = \"gcra\"\nrate = \"2/s\"\nburst = 2\nkey = \"client\"\n",
        &[],
    );
    let allowed = results_json(&out)["runs"][0]["allowed"].as_u64().unwrap();
    let decisions = dir.path().join("d.csv");
    edgesim()
        .arg("limit")
        .arg(&log)
        .args([
            "--format",
            "csv",
            "--time-column",
            "time_ms",
            "--time-unit",
            "ms",
        ])
        .args(["--key-column", "key", "--client-column", "client"])
        .args(["--algorithm", "gcra", "--rate", "2/s", "--burst", "2"])
        .arg("--decisions")
        .arg(&decisions)
        .assert()
        .success();
    let mut rows: Vec<(u64, bool)> = fs::read_to_string(&decisions)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().unwrap(), f[3] == "1")
        })
        .collect();
    rows.sort();
    (allowed, rows)
}

#[test]
fn run_and_limit_decide_alike_whatever_the_order_of_the_trace() {
    let (run_sorted, limit_sorted) = decide([0, 1, 2, 3, 4, 5]);
    let (run_shuffled, limit_shuffled) = decide([3, 0, 5, 1, 4, 2]);
    let limit_allowed = limit_sorted.iter().filter(|(_, a)| *a).count() as u64;
    // GCRA at 2/s with a burst of 2, requests every 100ms: the first two,
    // then one per 500ms (at 500ms) -> 3 of 6.
    assert_eq!(limit_allowed, 3);
    assert_eq!(run_sorted, limit_allowed);
    assert_eq!(run_shuffled, limit_allowed);
    assert_eq!(limit_shuffled, limit_sorted);
}

const BASE: &str = "[workload]\nrequests = 1000\nkeys = 10\n";

#[test]
fn bad_service_and_load_tables_name_file_line_and_column() {
    let service = |body: &str| format!("{BASE}[service]\n{body}\n");
    rejected(
        &service("servers = 0\nservice_time = { dist = \"fixed\", time = \"1ms\" }"),
        &["bad.toml:5:11:", "at least 1, found 0"],
    );
    rejected(
        &service("servers = 1\nservice_time = { dist = \"fixed\", time = \"0ms\" }"),
        &["bad.toml:6:", "longer than zero"],
    );
    rejected(
        &service("servers = 1\nservice_time = { dist = \"fixed\", time = \"-5ms\" }"),
        &["bad.toml:6:", "negative"],
    );
    rejected(
        &service("servers = 1\nservice_time = { dist = \"exponential\", mean = \"0s\" }"),
        &["bad.toml:6:", "longer than zero"],
    );
    rejected(
        &service("queue = 0\nservice_time = { dist = \"fixed\", time = \"1ms\" }"),
        &["bad.toml:4:1:", "missing field `servers`"],
    );
    let svc = "[service]\nservers = 1\nservice_time = { dist = \"fixed\", time = \"1ms\" }\n";
    rejected(
        &format!("{BASE}[[load]]\nphases = []\n{svc}"),
        &["bad.toml:4:1:", "phases", "empty"],
    );
    rejected(
        &format!("{BASE}[[load]]\nconnections = 0\nduration = \"1s\"\n{svc}"),
        &["bad.toml:4:1:", "connections must be at least 1"],
    );
    rejected(
        &format!(
            "{BASE}[[load]]\nconnections = 4\nduration = \"1s\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n{svc}"
        ),
        &[
            "closed loop with no think time",
            "cache hit takes no time",
            "add `think`",
        ],
    );
    rejected(
        &format!(
            "[workload]\nrequests = 1000\nkeys = 10\nroutes = [{{ name = \"a\", share = 0.5 }}, {{ name = \"b\", share = 0.3 }}]\n{svc}"
        ),
        &["bad.toml:4:10:", "shares must sum to 1", "a 0.5 + b 0.3"],
    );
}

#[test]
fn coalescing_collapses_concurrent_misses_into_one_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        "[experiment]\nseed = 5\n[workload]\nrequests = 50_000\nkeys = 500\nrate = \"2000/s\"\nttl = \"1s\"\n\
         [[cache]]\npolicy = \"lru\"\ncapacity = \"100%\"\n\
         [service]\nservers = 64\nservice_time = { dist = \"fixed\", time = \"200ms\" }\ncoalesce = [false, true]\n",
        &[],
    );
    let json = results_json(&out);
    let runs = json["runs"].as_array().unwrap();
    let origin: Vec<u64> = runs
        .iter()
        .map(|r| r["origin_requests"].as_u64().unwrap())
        .collect();
    let coalesced = runs[1]["coalesced"].as_u64().unwrap();
    assert_eq!(runs[0]["coalesced"].as_u64(), Some(0));
    assert!(coalesced > 0);
    // Every request either hit, fetched or joined a fetch.
    let hits = runs[1]["hits"].as_u64().unwrap();
    assert_eq!(hits + origin[1] + coalesced, 50_000);
    assert!(origin[1] < origin[0], "{origin:?}");
}

#[test]
fn service_outputs_are_identical_with_one_or_two_threads() {
    let experiment = "[experiment]\nseed = 4\n[workload]\nkeys = 300\nroutes = [{ name = \"get\", share = 0.8 }, { name = \"post\", share = 0.2, cacheable = false }]\n\
        [[load]]\nconnections = [5, 50]\nduration = \"5s\"\n\
        [[cache]]\npolicy = [\"none\", \"lru\"]\ncapacity = \"10%\"\n\
        [service]\nservers = 8\nqueue = 20\ntimeout = \"300ms\"\nservice_time = { dist = \"lognormal\", median = \"20ms\", p99 = \"200ms\" }\nrtt = { dist = \"exponential\", mean = \"5ms\" }\n";
    let outputs = |threads: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), experiment, &["--threads", threads]);
        let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&out)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let one = outputs("1");
    let two = outputs("2");
    let names: Vec<&str> = one.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"timeseries.csv") && names.contains(&"latency.png"),
        "{names:?}"
    );
    for ((name, a), (_, b)) in one.iter().zip(&two) {
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
}

/// A trace with a route column: `edgesim run` with a [service] reports per
/// route under the trace's own route names.
#[test]
fn trace_routes_appear_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("time_ms,key,endpoint\n");
    for i in 0..60 {
        let endpoint = ["GET /home", "POST /login", "GET /feed"][i % 3];
        text.push_str(&format!("{},/k{},{endpoint}\n", i * 10, i % 7));
    }
    fs::write(dir.path().join("t.csv"), text).unwrap();
    let out = run_in(
        dir.path(),
        "[workload]\nkind = \"trace\"\npath = \"t.csv\"\ntime_column = \"time_ms\"\ntime_unit = \"ms\"\nroute_column = \"endpoint\"\n\
         [[cache]]\npolicy = \"lru\"\ncapacity = \"50%\"\n\
         [service]\nservers = 4\nservice_time = { dist = \"fixed\", time = \"5ms\" }\n",
        &[],
    );
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let table = md
        .split("### Routes\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Routes table in:\n{md}"));
    let rows: Vec<&str> = table
        .lines()
        .skip(3)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 3, "{table}");
    for (row, name) in rows.iter().zip(["GET /home", "POST /login", "GET /feed"]) {
        assert!(row.contains(&format!("| `{name}` | 20 |")), "{row}");
    }
}
