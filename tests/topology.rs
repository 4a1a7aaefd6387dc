//! Many locations (`[topology]`): one location is the plain pipeline, an
//! upper tier's origin savings match a hand count, and a spread attacker
//! gets k times a per-location limit, once a global one, and in between
//! under a lagged one.

mod common;

use std::fs;

use common::{run_in, validate_error};
use serde_json::Value;

/// A service with every hop and the coalescing, timeout and limiter
/// paths, so that one location must reproduce all of them.
const SERVICE: &str = r#"
[experiment]
seed = 11

[workload]
kind = "synthetic"
requests = 20_000
keys = 2_000
popularity = { dist = "zipf", alpha = 0.9 }
ttl = "30s"

[workload.clients]
legit = 300
legit_rate = "2/s"
abusive = 3
abusive_rate = "40/s"

[[cache]]
policy = ["lru", "s3fifo"]
capacity = "10%"

[[limiter]]
algorithm = ["none", "token-bucket"]
rate = "5/s"
burst = 10

[service]
servers = 4
queue = 200
service_time = { dist = "exponential", mean = "15ms" }
timeout = "400ms"
coalesce = true
rtt = { dist = "lognormal", median = "20ms", p99 = "120ms" }
edge_time = { dist = "fixed", time = "1ms" }
origin_rtt = { dist = "fixed", time = "30ms" }
"#;

fn runs(out: &std::path::Path) -> Vec<Value> {
    let runs: Value = serde_json::from_slice(&fs::read(out.join("runs.json")).unwrap()).unwrap();
    runs["runs"].as_array().unwrap().clone()
}

#[test]
fn one_location_without_an_upper_tier_is_the_pipeline_byte_for_byte() {
    let plain = tempfile::tempdir().unwrap();
    let located = tempfile::tempdir().unwrap();
    let a = run_in(plain.path(), SERVICE, &[]);
    let topology = "[topology]\n[[topology.location]]\nname = \"only\"\nshare = 1.0\n";
    let b = run_in(located.path(), &format!("{SERVICE}{topology}"), &[]);
    for file in ["results.csv", "timeseries.csv"] {
        let (x, y) = (
            fs::read(a.join(file)).unwrap(),
            fs::read(b.join(file)).unwrap(),
        );
        assert!(x == y, "{file} differs");
    }
    let (plain_runs, located_runs) = (runs(&a), runs(&b));
    assert_eq!(plain_runs.len(), 4);
    for (mut x, mut y) in plain_runs.into_iter().zip(located_runs) {
        let t = y
            .as_object_mut()
            .unwrap()
            .remove("topology")
            .expect("topology figures");
        // The one location saw every request the run counted.
        let served = &t["locations"][0];
        assert_eq!(served["cache"], x["stats"]);
        assert_eq!(t["origin_requests"], x["service"]["origin_requests"]);
        x.as_object_mut().unwrap().remove("topology");
        assert_eq!(x, y);
    }
}

/// Three locations with equal shares: clients 0, 1 and 3 land at
/// frac(c / golden ratio) = 0, 0.618 and 0.854, so in locations 1, 2 and 3.
const HAND: &str = r#"
[experiment]
seed = 1

[workload]
kind = "trace"
path = "t.csv"

[[cache]]
policy = "lru"
capacity = 1

[service]
servers = 1
service_time = { dist = "fixed", time = "1ms" }

[topology]
tier = ["flat", "upper"]
upper = { policy = "lru", capacity = 10 }
[[topology.location]]
name = "a"
share = 0.33333333333
[[topology.location]]
name = "b"
share = 0.33333333333
[[topology.location]]
name = "c"
share = 0.33333333334
"#;

#[test]
fn an_upper_tier_saves_the_origin_what_a_hand_count_says() {
    let dir = tempfile::tempdir().unwrap();
    // Clients "x", "y", "z", "w" are ids 0..3: x -> a, y -> b, z (id 2,
    // 0.236) -> a, w (id 3) -> c. One second apart: nothing overlaps.
    let trace = "time,key,size,client\n\
        0,A,10,x\n1,A,10,y\n2,A,10,z\n3,A,10,w\n4,B,10,y\n5,B,10,w\n6,B,10,x\n7,A,10,x\n";
    fs::write(dir.path().join("t.csv"), trace).unwrap();
    let out = run_in(dir.path(), HAND, &[]);
    let runs = runs(&out);
    let origin = |r: &Value| r["topology"]["origin_requests"].as_u64().unwrap();
    let location_hits = |r: &Value| -> Vec<u64> {
        let sites = r["topology"]["locations"].as_array().unwrap();
        sites
            .iter()
            .map(|s| s["cache"]["hits"].as_u64().unwrap())
            .collect()
    };
    // Each location caches one object. a sees A A B A: miss, hit, miss,
    // miss; b sees A B: 2 misses; c sees A B: 2 misses. Flat: every miss
    // is an origin fetch: 3 + 2 + 2 = 7.
    assert_eq!(location_hits(&runs[0]), [1, 0, 0]);
    assert_eq!(origin(&runs[0]), 7);
    // Upper tier (10 objects) sees the 7 misses in time order: A(a) miss,
    // A(b) hit, A(c) hit, B(b) miss, B(c) hit, B(a) hit, A(a) hit: the
    // origin fetches A and B once each.
    assert_eq!(location_hits(&runs[1]), [1, 0, 0]);
    let upper = &runs[1]["topology"]["upper"][0];
    assert_eq!(upper["requests"], 7);
    assert_eq!(upper["cache"]["hits"], 5);
    assert_eq!(upper["forwarded"], 2);
    assert_eq!(origin(&runs[1]), 2);
    assert_eq!(runs[1]["topology"]["served"]["upper"]["count"], 5);
}

/// One attacker at 200/s for 60 s against a 5/s token bucket per client, over 8
/// equal locations; `spread` and the scope are filled in.
fn attack(spread: u64, scope: &str) -> String {
    format!(
        r#"
[experiment]
seed = 5

[workload]
kind = "synthetic"
requests = 12_000
keys = 100

[workload.clients]
legit = 0
abusive = 1
abusive_rate = "200/s"
spread = {spread}

[[limiter]]
algorithm = "token-bucket"
rate = "5/s"
burst = 1
key = "client"

[service]
servers = 1000
service_time = {{ dist = "fixed", time = "1ms" }}

[topology]
locations = {{ count = 8 }}
{scope}
"#
    )
}

/// The effective limit multiple of each run of `experiment`.
fn multiples(experiment: &str) -> Vec<f64> {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), experiment, &[]);
    runs(&out)
        .iter()
        .map(|r| r["topology"]["spread"]["multiple"].as_f64().unwrap_or(1.0))
        .collect()
}

#[test]
fn per_location_limits_give_a_spread_attacker_k_times_the_limit() {
    for k in [2, 4, 8] {
        let m = multiples(&attack(k, "limit_scope = \"location\""))[0];
        assert!((m / k as f64 - 1.0).abs() < 0.03, "spread over {k}: {m}x");
        let m = multiples(&attack(k, "limit_scope = \"global\""))[0];
        assert!((m - 1.0).abs() < 0.03, "global, spread over {k}: {m}x");
    }
}

#[test]
fn a_lagged_limit_leaks_between_and_tightens_as_the_lag_shrinks() {
    // 120 s: no merge within the 60 s run, the locations count alone.
    let lagged = attack(
        8,
        "limit_scope = \"lagged\"\nsync = [\"120s\", \"10s\", \"2s\", \"100ms\", \"1ms\"]",
    );
    let m = multiples(&lagged);
    assert_eq!(m.len(), 5);
    assert!((m[0] / 8.0 - 1.0).abs() < 0.03, "never merged: {m:?}");
    for pair in m.windows(2) {
        assert!(pair[0] > pair[1], "a shorter lag must leak less: {m:?}");
    }
    // 10 s: each location admits 50 before the first merge, 400 in all;
    // the debt (350 at 5/s = 70 s) outlasts the run: 400 / 60 s = 1.33x.
    assert!((m[1] - 400.0 / 300.0).abs() < 0.02, "10 s lag: {m:?}");
    assert!(m[2] > 1.01, "a 2 s lag still leaks: {m:?}");
    assert!(
        (m[4] - 1.0).abs() < 0.01,
        "a lag of 1 ms is nearly global: {m:?}"
    );
}

#[test]
fn a_zipf_crowd_over_twenty_locations_asks_the_origin_less_with_an_upper_tier() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = r#"
[workload]
kind = "synthetic"
requests = 60_000
keys = 20_000
popularity = { dist = "zipf", alpha = 1.0 }
[workload.clients]
legit = 2000
legit_rate = "1/s"
[[cache]]
policy = "lru"
capacity = "2%"
[service]
servers = 64
service_time = { dist = "fixed", time = "10ms" }
[topology]
locations = { count = 20, share = { dist = "zipf", alpha = 1.0 } }
tier = ["flat", "upper"]
upper = { policy = "lru", capacity = "20%" }
"#;
    let out = run_in(dir.path(), experiment, &[]);
    let runs = runs(&out);
    let origin = |r: &Value| r["topology"]["origin_requests"].as_f64().unwrap();
    let (flat, tiered) = (origin(&runs[0]), origin(&runs[1]));
    assert!(tiered < 0.8 * flat, "flat {flat}, tiered {tiered}");
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    let cut = 100.0 * (1.0 - tiered / flat);
    let said = format!("the upper tier cuts origin requests by {cut:.1}% ({flat} -> {tiered})");
    assert!(report.contains(&said), "{said:?} not in the report");
    assert!(
        report.contains("**Pick tiered (upper"),
        "the report picks a topology"
    );
    let row = format!("| upper tier | {flat} -> {tiered} | {:+.1}% |", -cut);
    assert!(report.contains(&row), "{row:?}: the flat vs tiered table");
}

#[test]
fn a_topology_that_cannot_be_is_refused_at_its_place() {
    let base = r#"[workload]
kind = "synthetic"
requests = 10
keys = 10
[service]
servers = 1
service_time = { dist = "fixed", time = "1ms" }
"#;
    let cases = [
        (
            "[topology]\n[[topology.location]]\nname = \"a\"\nshare = 1.0\n[[topology.location]]\nname = \"b\"\n",
            "bad.toml:13:8: location \"b\" has no share",
        ),
        (
            "[topology]\n[[topology.location]]\nname = \"a\"\nshare = 0.5\n[[topology.location]]\nname = \"b\"\nshare = 0.4\n",
            "bad.toml:11:9: the locations' shares sum to 0.9, they must sum to 1",
        ),
        (
            "[topology]\ntier = \"regional\"\nupper = { policy = \"lru\", capacity = 10 }\n[[topology.location]]\nname = \"a\"\nshare = 1.0\nregion = \"eu\"\n[[topology.region]]\nname = \"eu\"\n[[topology.region]]\nname = \"us\"\n",
            "bad.toml:18:8: no location uses region \"us\"",
        ),
        (
            "[topology]\nlocations = { count = 3 }\nlimit_scope = \"lagged\"\nsync = \"0s\"\n",
            "bad.toml:11:8: sync must be longer than zero",
        ),
    ];
    for (topology, expected) in cases {
        let stderr = validate_error("bad.toml", &format!("{base}{topology}"));
        assert!(stderr.contains(expected), "{expected:?} not in {stderr:?}");
    }
    // An attacker spreads over locations that exist.
    let spread = "[workload.clients]\nabusive = 1\nspread = 4\n";
    let stderr = validate_error("bad.toml", &format!("{base}{spread}"));
    assert!(
        stderr.contains(
            "bad.toml:10:10: abusive clients spread over locations only under a [topology]"
        ),
        "{stderr}"
    );
    let three = "[topology]\nlocations = { count = 3 }\n";
    let stderr = validate_error("bad.toml", &format!("{base}{spread}{three}"));
    assert!(
        stderr.contains("bad.toml:10:10: an attacker can spread over at most the 3 location(s)"),
        "{stderr}"
    );
}
