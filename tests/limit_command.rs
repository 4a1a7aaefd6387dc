//! `edgesim limit` end to end: a real access log replayed through GCRA,
//! every decision checked against governor, and clear errors.

mod common;

use std::fs;
use std::num::NonZeroU32;
use std::time::Duration;

use common::edgesim;
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};

#[test]
fn decisions_on_a_real_log_match_governor_line_by_line() {
    let Some(log) = common::reference_file("logs/apache_combined_attack.log") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let decisions = dir.path().join("decisions.csv");
    let out = edgesim()
        .arg("limit")
        .arg(&log)
        .args([
            "--algorithm",
            "gcra",
            "--rate",
            "1/min",
            "--burst",
            "3",
            "--key",
            "client",
        ])
        .arg("--decisions")
        .arg(&decisions)
        .assert()
        .success();
    let summary = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        summary.contains("3456 requests from 520 client(s)"),
        "{summary}"
    );

    let csv = fs::read_to_string(&decisions).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("index,time_ns,key,allowed"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3456);

    // The log is in time order with 1s resolution: replay it into governor.
    let quota = Quota::with_period(Duration::from_secs(60))
        .unwrap()
        .allow_burst(NonZeroU32::new(3).unwrap());
    let clock = FakeRelativeClock::default();
    let oracle = RateLimiter::hashmap_with_clock(quota, clock.clone());
    let mut now = 0u64;
    let mut allowed = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        let t: u64 = row[1].parse().unwrap();
        clock.advance(Duration::from_nanos(t - now));
        now = t;
        let expected = oracle.check_key(&row[2].to_string()).is_ok();
        assert_eq!(row[3], if expected { "1" } else { "0" }, "line {}", i + 1);
        allowed += expected as usize;
    }
    assert!(
        summary.contains(&format!("allowed {allowed} ")),
        "{summary} vs {allowed}"
    );
}

fn limit_error(log_text: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    fs::write(&log, log_text).unwrap();
    let out = edgesim()
        .arg("limit")
        .arg(&log)
        .args(args)
        .assert()
        .failure();
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

#[test]
fn bad_parameters_and_lines_are_clear_errors() {
    let good = "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 10\n";
    let cases: [(&str, &[&str], &str); 6] = [
        (
            good,
            &["--algorithm", "gcra", "--rate", "0/s"],
            "a rate must be above zero",
        ),
        (
            good,
            &["--algorithm", "gcra", "--rate", "1/s", "--burst", "-3"],
            "burst must be a whole number of requests of at least 1",
        ),
        (
            good,
            &["--algorithm", "leaky"],
            "unknown limiter algorithm \"leaky\"",
        ),
        (good, &["--algorithm", "gcra"], "needs a rate"),
        (
            good,
            &["--algorithm", "gcra", "--rate", "1/s", "--key", "ip"],
            "unknown limiter key",
        ),
        (
            good,
            &["--algorithm", "concurrency"],
            "--servers and --service-time",
        ),
    ];
    for (log, args, message) in cases {
        let err = limit_error(log, args);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // A log line without its client field, a line without a time, and a
    // trace with no client column when limiting by client.
    let no_client = format!("{good} - - [10/Oct/2000:13:55:37 -0700] \"GET /b HTTP/1.0\" 200 10\n");
    let err = limit_error(&no_client, &["--algorithm", "gcra", "--rate", "1/s"]);
    assert!(
        err.contains("access.log:2:1: expected 3 fields (client ident user)"),
        "{err}"
    );
    let no_time = format!("{good}5.6.7.8 - - \"GET /b HTTP/1.0\" 200 10\n");
    let err = limit_error(&no_time, &["--algorithm", "gcra", "--rate", "1/s"]);
    assert!(
        err.contains("access.log:2:1: expected") && err.contains("no [time]"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trace.csv");
    fs::write(&csv, "time,key,size\n1,a,10\n2,b,10\n").unwrap();
    let out = edgesim()
        .arg("limit")
        .arg(&csv)
        .args(["--algorithm", "gcra", "--rate", "1/s", "--key", "client"])
        .assert()
        .failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("trace.csv: --key client needs a client field"),
        "{err}"
    );
}

/// The workshop's limiter on a trace, with its defaults (100 per 60 s
/// window after 20 burst tokens): a client named `premium-...` gets twice
/// the limit (not the burst) from the one limiter everyone shares.
#[test]
fn workshop_adaptive_on_a_trace_doubles_premium_limits() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trace.csv");
    let mut text = String::from("time,key,client\n");
    for client in ["alice", "premium-bob"] {
        for i in 0..300 {
            text.push_str(&format!("1,{i},{client}\n"));
        }
    }
    fs::write(&csv, text).unwrap();
    let decisions = dir.path().join("decisions.csv");
    let out = edgesim()
        .arg("limit")
        .arg(&csv)
        .args(["--algorithm", "workshop-adaptive", "--decisions"])
        .arg(&decisions)
        .assert()
        .success();
    let summary = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // alice 20 + 100, premium-bob 20 + 200.
    assert!(summary.contains("allowed 340 "), "{summary}");
    let allowed: Vec<usize> = fs::read_to_string(&decisions)
        .unwrap()
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .chunks(300)
        .map(|c| c.iter().filter(|l| l.ends_with(",1")).count())
        .collect();
    assert_eq!(allowed, [120, 220]);
}

#[test]
fn a_trace_without_clients_is_limited_globally_and_summarised_without_them() {
    // Denials used to index the (empty) client names and panic.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    fs::write(&trace, "key,size\na,10\nb,10\na,10\na,10\n").unwrap();
    let out = edgesim()
        .arg("limit")
        .arg(&trace)
        .args(["--algorithm", "gcra", "--rate", "1/min", "--burst", "1"])
        .args(["--key", "global"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("4 requests (clients not recorded)"),
        "{stdout}"
    );
    assert!(stdout.contains("denied 3 (75.00%)"), "{stdout}");
    assert!(!stdout.contains("most denied"), "{stdout}");
}
