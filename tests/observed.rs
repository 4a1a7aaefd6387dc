//! Observed vs simulated: a trace's own cache status (Cloudflare's
//! `CacheCacheStatus`, nginx's `$upstream_cache_status`) gives the real
//! cache's hit ratio, counted here independently from the lines; reports set
//! it beside the simulated ones with the size that matches it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::edgesim;
use serde_json::Value;

use edgesim::workload::trace::{self, Observed, TraceOptions};

/// How docs/traces.md says a status counts: Some(true) a hit, Some(false)
/// a miss, None left out.
fn counts_as(status: &str) -> Option<bool> {
    match status.trim().to_lowercase().as_str() {
        "hit" | "stale" | "updating" | "revalidated" | "stream_hit" => Some(true),
        "miss" | "expired" => Some(false),
        _ => None,
    }
}

/// (requests counted, hits) over `statuses`.
fn tally<'a>(statuses: impl Iterator<Item = &'a str>) -> (u64, u64) {
    statuses.fold((0, 0), |(n, h), s| match counts_as(s) {
        Some(hit) => (n + 1, h + hit as u64),
        None => (n, h),
    })
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/cloudflare_logs.toml")
}

#[test]
fn the_cloudflare_example_reports_its_observed_hit_ratio_and_matching_sizes() {
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/data/cloudflare_sample.jsonl");
    let lines: Vec<Value> = fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (requests, hits) = tally(
        lines
            .iter()
            .map(|l| l["CacheCacheStatus"].as_str().unwrap()),
    );
    assert!(requests > 0 && hits > 0 && hits < requests);
    let observed = hits as f64 / requests as f64;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    edgesim()
        .arg("run")
        .arg(shipped())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let results = common::results_json(&out);
    let o = &results["observed"][0];
    assert_eq!(
        (o["requests"].as_u64(), o["hits"].as_u64()),
        (Some(requests), Some(hits))
    );
    assert_eq!(o["hit_ratio"].as_f64(), Some(observed));

    // Each policy's matching size lies between the two tested sizes whose
    // simulated hit ratios bracket the observed one.
    let rows = results["runs"].as_array().unwrap();
    let matching = o["matching_sizes"].as_array().unwrap();
    assert_eq!(matching.len(), 2);
    for m in matching {
        let policy = m["policy"].as_str().unwrap();
        let mut curve: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r["policy"] == policy)
            .map(|r| {
                (
                    r["capacity_value"].as_f64().unwrap(),
                    r["hit_ratio"].as_f64().unwrap(),
                )
            })
            .collect();
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        let bracket = curve
            .windows(2)
            .find(|w| w[0].1 <= observed && observed <= w[1].1)
            .unwrap_or_else(|| panic!("{policy}: no sizes bracket {observed}: {curve:?}"));
        assert_eq!(m["position"], "within", "{policy}");
        let size = m["capacity_value"].as_f64().unwrap();
        assert!(
            bracket[0].0 <= size && size <= bracket[1].0,
            "{policy}: {size} outside {bracket:?}"
        );
    }

    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let section = &md[md.find("## Observed vs simulated").expect("the section")..];
    assert!(section.contains("(`CacheCacheStatus`)"), "{section}");
    assert!(
        section.contains(&format!("{hits} hits in {requests} requests")),
        "{section}"
    );
    assert!(section.contains(&format!("**{observed:.4}**")), "{section}");
    assert!(section.contains("| `lru` |") && section.contains("of the working set"));

    // runs.json carries the counts, so `edgesim report` renders them again.
    let before = fs::read(out.join("report.md")).unwrap();
    fs::remove_file(out.join("report.md")).unwrap();
    edgesim().arg("report").arg(&out).assert().success();
    assert_eq!(fs::read(out.join("report.md")).unwrap(), before);
}

#[test]
fn experiments_without_a_cache_status_have_no_observed_section() {
    let dir = tempfile::tempdir().unwrap();
    let source = fs::read_to_string(shipped())
        .unwrap()
        .replace("cache_status_column = \"CacheCacheStatus\"", "")
        .replace(
            "data/",
            &format!("{}/data/", shipped().parent().unwrap().display()),
        );
    let out = common::run_in(dir.path(), &source, &[]);
    assert!(common::results_json(&out).get("observed").is_none());
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("Observed"), "{md}");
}

/// nginx's and Cloudflare's values, in any case, in CSV and JSON lines:
/// counted as docs/traces.md says, lines dropped by `ops` not at all.
#[test]
fn csv_and_json_lines_count_every_documented_status() {
    let statuses = [
        "HIT",
        "MISS",
        "EXPIRED",
        "STALE",
        "UPDATING",
        "REVALIDATED",
        "BYPASS",
        "-",
        "hit",
        "miss",
        "expired",
        "stale",
        "updating",
        "revalidated",
        "stream_hit",
        "dynamic",
        "bypass",
        "none",
        "unknown",
        "none/unknown",
        "ignored",
        "deferred",
        "Hit",
        "",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("key,status,op\n");
    let mut jsonl = String::new();
    for (i, s) in statuses.iter().enumerate() {
        csv.push_str(&format!("{i},{s},get\n"));
        jsonl.push_str(&format!(
            "{{\"key\":{i},\"status\":\"{s}\",\"op\":\"get\"}}\n"
        ));
    }
    // A line the op filter drops is not counted either.
    csv.push_str("99,HIT,set\n");
    jsonl.push_str("{\"key\":99,\"status\":\"HIT\",\"op\":\"set\"}\n");
    let (requests, hits) = tally(statuses.iter().copied());
    let expected = Some(Observed { requests, hits });
    assert_eq!(
        expected,
        Some(Observed {
            requests: 14,
            hits: 10
        })
    );
    let opts = TraceOptions {
        cache_status_column: Some("status".parse().unwrap()),
        op_column: Some("op".parse().unwrap()),
        ops: Some("get".into()),
        ..TraceOptions::default()
    };
    for (name, text) in [("t.csv", &csv), ("t.jsonl", &jsonl)] {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let read = trace::read(&path, &opts).unwrap();
        assert_eq!(read.requests.len(), statuses.len(), "{name}");
        assert_eq!(read.observed, expected, "{name}");
        let plain = trace::read(&path, &TraceOptions::default()).unwrap();
        assert_eq!(plain.observed, None, "{name}: no column, no counts");
    }

    // `trace stats` shows it; an unknown value is a bad line, pointed at.
    let path = dir.path().join("t.csv");
    let out = edgesim()
        .args([
            "trace",
            "stats",
            path.to_str().unwrap(),
            "--cache-status-column",
            "status",
            "--op-column",
            "op",
            "--ops",
            "get",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "observed hit ratio     {:.4} ({hits} hits in {requests} requests",
            hits as f64 / requests as f64
        )),
        "{text}"
    );
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "key,status\n1,hit\n2,cached\n").unwrap();
    let out = edgesim()
        .args([
            "trace",
            "stats",
            bad.to_str().unwrap(),
            "--cache-status-column",
            "status",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(
        err.contains("bad.csv:3:3: expected a cache status") && err.contains("found \"cached\""),
        "{err}"
    );
}

#[test]
fn an_access_log_cannot_carry_a_cache_status() {
    common::assert_rejected(
        r#"
[workload]
kind = "trace"
path = "access.log"
cache_status_column = "status"

[[cache]]
policy = "lru"
capacity = "10%"
"#,
        &[
            "bad.toml:2:1",
            "cache_status_column",
            "a combined trace has no such field",
        ],
    );
}
