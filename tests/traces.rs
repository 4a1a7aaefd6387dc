//! Trace readers and tools against the public reference data and against
//! each other: counts from EXPECTED.md, convert/generate round trips, and
//! next-access positions equal to libCacheSim's.

mod common;

use std::path::{Path, PathBuf};

use common::edgesim;
use serde_json::Value;

use edgesim::experiment::Experiment;
use edgesim::runner;
use edgesim::workload::trace::{self, TraceOptions};
use edgesim::workload::{NEVER, Request};

/// Runs edgesim with `args`, expecting success; returns stdout.
fn ok(args: &[&str]) -> Vec<u8> {
    let out = edgesim().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "edgesim {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `trace stats --json` of `file` with extra options.
fn stats(file: &Path, opts: &[&str]) -> Value {
    let mut args = vec!["trace", "stats", s(file), "--json"];
    args.extend_from_slice(opts);
    serde_json::from_slice(&ok(&args)).unwrap()
}

/// A row of EXPECTED.md's "Request and object counts": file, reader
/// options, requests, unique objects, unique clients (for the logs).
type Counts = (&'static str, &'static [&'static str], u64, u64, Option<u64>);

const EXPECTED: &[Counts] = &[
    (
        "cloudPhysicsIO.oracleGeneral.bin",
        &[],
        113_872,
        48_974,
        None,
    ),
    // The CSV holds the same requests as the binary file, keyed by lbn.
    (
        "cloudPhysicsIO.csv",
        &["--key-column", "lbn", "--size-column", "size"],
        113_872,
        48_974,
        None,
    ),
    ("lirs/2_pools.trace.gz", &[], 100_000, 9_939, None),
    ("lirs/backf.trace.gz", &[], 9_000, 751, None),
    ("lirs/cpp.trace.gz", &[], 9_047, 1_223, None),
    ("lirs/cs.trace.gz", &[], 6_781, 1_409, None),
    ("lirs/gli.trace.gz", &[], 6_015, 2_529, None),
    ("lirs/loop.trace.gz", &[], 505_500, 1_011, None),
    ("lirs/multi1.trace.gz", &[], 15_858, 2_606, None),
    ("lirs/multi2.trace.gz", &[], 26_311, 5_684, None),
    ("lirs/multi3.trace.gz", &[], 30_241, 7_454, None),
    ("lirs/ps.trace.gz", &[], 10_448, 3_083, None),
    ("lirs/scan.trace.gz", &[], 50_025, 2_001, None),
    ("lirs/sprite.trace.gz", &[], 133_996, 7_075, None),
    ("lirs/zigzag.trace.gz", &[], 52_001, 2_001, None),
    ("arc/OLTP.lis.zst", &[], 914_145, 186_880, None),
    (
        "logs/apache_combined_elastic.log",
        &[],
        10_000,
        1_498,
        Some(1_753),
    ),
    ("logs/apache_combined_attack.log", &[], 3_456, 41, Some(520)),
];

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_reference_file_parses_with_the_expected_counts() {
    let Some(dir) = common::reference_dir() else {
        return;
    };
    for name in files_under(&dir) {
        if name.ends_with(".md") {
            continue;
        }
        assert!(
            EXPECTED.iter().any(|e| e.0 == name),
            "{name} is in the reference data but not in this test's copy of EXPECTED.md"
        );
    }
    for &(name, opts, requests, objects, clients) in EXPECTED {
        let st = stats(&dir.join(name), opts);
        assert_eq!(st["requests"], requests, "{name}: requests");
        assert_eq!(st["unique_objects"], objects, "{name}: unique objects");
        if let Some(c) = clients {
            assert_eq!(st["unique_clients"], c, "{name}: clients");
        }
    }
    // EXPECTED.md: each object counted once at its last size.
    let st = stats(&dir.join("cloudPhysicsIO.oracleGeneral.bin"), &[]);
    assert_eq!(st["working_set_bytes"], 2_029_769_728u64);
    // Hashed keys are reported by their text: every client of this log hit
    // an unadvertised URL.
    let st = stats(&dir.join("logs/apache_combined_attack.log"), &[]);
    assert_eq!(st["top_keys"][0]["name"], "/join_form");
    assert_eq!(st["top_keys"][0]["requests"], 1161);
}

/// The `(time, key, size, next_access)` of each request, time truncated to
/// whole seconds (the resolution of oracleGeneral).
fn in_seconds(requests: &[Request]) -> Vec<(u64, u64, u32, u64)> {
    requests
        .iter()
        .map(|r| (r.time / 1_000_000_000, r.key, r.size, r.next_access))
        .collect()
}

#[test]
fn generate_then_convert_to_oracle_general_and_csv_keeps_the_request_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("rt.toml");
    std::fs::write(
        &exp,
        r#"
[experiment]
seed = 7
[workload]
requests = 20000
keys = 2000
popularity = { dist = "zipf", alpha = 0.9 }
size = { dist = "lognormal", median = "4KiB", sigma = 1.0 }
ttl = "30s"
rate = "50/s"
[[cache]]
policy = "lru"
capacity = "10%"
"#,
    )
    .unwrap();
    let generated = dir.path().join("generated.csv");
    let og = dir.path().join("converted.oracleGeneral.bin.zst");
    let back = dir.path().join("back.csv");
    ok(&["trace", "generate", s(&exp), s(&generated)]);
    ok(&[
        "trace",
        "convert",
        s(&generated),
        s(&og),
        "--to",
        "oracle-general",
    ]);
    ok(&["trace", "convert", s(&og), s(&back)]);

    let loaded = Experiment::load(&exp).unwrap();
    let expected = runner::generate(
        &loaded.workloads[0].spec,
        &loaded.loads[0].spec.load,
        loaded.workload_seed(0, 0),
        true,
    )
    .unwrap()
    .requests;
    let read = |p: &PathBuf| trace::read(p, &TraceOptions::default()).unwrap();
    // Generated straight to oracleGeneral, next accesses included.
    let direct = dir.path().join("direct.oracleGeneral.bin");
    ok(&["trace", "generate", s(&exp), s(&direct)]);
    assert_eq!(in_seconds(&read(&direct).requests), in_seconds(&expected));
    // edgesim's CSV keeps everything, TTL and nanosecond times included.
    assert_eq!(read(&generated).requests, expected);
    // oracleGeneral keeps whole seconds, keys, sizes and next accesses.
    let round_trip = read(&back).requests;
    assert_eq!(round_trip.len(), 20000);
    assert_eq!(in_seconds(&round_trip), in_seconds(&expected));
    assert!(round_trip.iter().any(|r| r.next_access != NEVER));
}

/// Next-access fields (bytes 16..24) of every oracleGeneral record.
fn next_access_fields(bytes: &[u8]) -> Vec<i64> {
    bytes
        .chunks_exact(24)
        .map(|r| i64::from_le_bytes(r[16..24].try_into().unwrap()))
        .collect()
}

#[test]
fn convert_computes_the_next_access_times_of_the_reference_trace() {
    let (Some(bin), Some(csv)) = (
        common::reference_file("cloudPhysicsIO.oracleGeneral.bin"),
        common::reference_file("cloudPhysicsIO.csv"),
    ) else {
        return;
    };
    let reference = std::fs::read(&bin).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // From the CSV, which carries no next-access times at all.
    let from_csv = dir.path().join("from_csv.oracleGeneral.bin");
    ok(&[
        "trace",
        "convert",
        s(&csv),
        s(&from_csv),
        "--key-column",
        "lbn",
        "--time-column",
        "time",
        "--time-unit",
        "s",
    ]);
    let converted = std::fs::read(&from_csv).unwrap();
    assert_eq!(converted.len(), reference.len());
    assert_eq!(
        next_access_fields(&converted),
        next_access_fields(&reference)
    );
    // Through edgesim's CSV (whose next_access column the reader ignores)
    // and back: byte for byte the reference file.
    let as_csv = dir.path().join("cp.csv");
    let again = dir.path().join("again.oracleGeneral.bin");
    ok(&["trace", "convert", s(&bin), s(&as_csv)]);
    ok(&["trace", "convert", s(&as_csv), s(&again)]);
    assert!(std::fs::read(&again).unwrap() == reference);
}

#[test]
fn cache_command_matches_libcachesim_on_the_reference_trace() {
    let Some(bin) = common::reference_file("cloudPhysicsIO.oracleGeneral.bin") else {
        return;
    };
    let out = ok(&[
        "cache",
        s(&bin),
        "--policy",
        "lru,fifo",
        "--size",
        "128MiB,256MiB,384MiB,512MiB,640MiB,768MiB,896MiB,1GiB",
        "--json",
    ]);
    let rows: Vec<Value> = serde_json::from_slice(&out).unwrap();
    let misses = |policy: &str, field: &str| -> Vec<u64> {
        rows.iter()
            .filter(|r| r["policy"] == policy)
            .map(|r| r[field].as_u64().unwrap())
            .collect()
    };
    // EXPECTED.md, libCacheSim's own test expectations.
    assert_eq!(
        misses("lru", "misses"),
        [93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704]
    );
    assert_eq!(
        misses("fifo", "misses"),
        [93403, 89386, 84387, 84025, 72498, 72228, 72182, 72140]
    );
    assert_eq!(
        misses("lru", "byte_misses"),
        [
            4214303232, 4061242368, 3778040320, 3660569600, 3100927488, 3078128640, 3075403776,
            3061662720
        ]
    );
    let first = &rows[0];
    assert_eq!(first["size"], 134_217_728u64);
    assert_eq!(first["requests"], 113_872u64);
    let ratio = first["miss_ratio"].as_f64().unwrap();
    assert!((ratio - 93374.0 / 113872.0).abs() < 1e-12);
    assert!(first["byte_miss_ratio"].as_f64().is_some());
}

#[test]
fn cache_command_resolves_sizes_and_explains_unknown_policies() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    std::fs::write(&t, "a\nb\na\nc\na\nb\n").unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&ok(&[
        "cache",
        s(&t),
        "--policy",
        "lru",
        "--size",
        "1,50%",
        "--ignore-size",
        "--json",
    ]))
    .unwrap();
    // 50% of 3 objects rounds to 2.
    assert_eq!(rows[1]["size"], 2);
    assert_eq!(rows[1]["misses"], 4);
    assert_eq!(rows[0]["misses"], 6);
    let out = edgesim()
        .args(["cache", s(&t), "--policy", "lruu", "--size", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("valid policies"), "{err}");
}

#[test]
fn experiments_replay_traces_relative_to_their_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/t.csv"),
        "time,key,size\n1,1,10\n2,2,10\noops\n3,1,10\n",
    )
    .unwrap();
    let exp = dir.path().join("e.toml");
    std::fs::write(
        &exp,
        r#"
[workload]
kind = "trace"
path = "data/t.csv"
format = "csv"
time_unit = "ms"
on_error = "skip"
[[cache]]
policy = "lru"
capacity = 10
"#,
    )
    .unwrap();
    let loaded = Experiment::load(&exp).unwrap();
    let results = runner::run(&loaded, Some(1)).unwrap();
    assert_eq!(results[0].stats.requests, 3);
    assert_eq!(results[0].stats.hits, 1);

    std::fs::write(&exp, "[workload]\nkind = \"trace\"\npath = \"data/t.csv\"\nkey_colum = 1\n[[cache]]\npolicy = \"lru\"\ncapacity = 1\n").unwrap();
    let err = Experiment::load(&exp).unwrap_err().to_string();
    assert!(
        err.contains("e.toml:4:") && err.contains("key_colum"),
        "{err}"
    );
}

#[test]
fn the_shipped_cloudflare_example_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/cloudflare_logs.toml");
    let exp = Experiment::load(&path).unwrap();
    let results = runner::run(&exp, Some(1)).unwrap();
    assert_eq!(results.len(), 6);
    assert!(results.iter().all(|r| r.stats.requests == 400));
}

#[test]
fn json_lines_with_a_cloudflare_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("cf.jsonl");
    std::fs::write(
        &t,
        concat!(
            r#"{"ClientIP":"192.0.2.1","ClientRequestURI":"/a.png","EdgeStartTimestamp":1700000000000000000,"EdgeResponseBytes":1200}"#,
            "\n",
            r#"{"ClientIP":"192.0.2.2","ClientRequestURI":"/b.png","EdgeStartTimestamp":1700000001000000000,"EdgeResponseBytes":800}"#,
            "\n",
            r#"{"ClientIP":"192.0.2.1","ClientRequestURI":"/a.png","EdgeStartTimestamp":1700000002000000000,"EdgeResponseBytes":1200}"#,
            "\n",
        ),
    )
    .unwrap();
    let st = stats(
        &t,
        &[
            "--key-column",
            "ClientRequestURI",
            "--time-column",
            "EdgeStartTimestamp",
            "--time-unit",
            "ns",
            "--size-column",
            "EdgeResponseBytes",
            "--client-column",
            "ClientIP",
        ],
    );
    assert_eq!(st["requests"], 3);
    assert_eq!(st["unique_objects"], 2);
    assert_eq!(st["working_set_bytes"], 2000);
    assert_eq!(st["time_span_s"], 2.0);
    assert_eq!(st["top_clients"][0]["name"], "192.0.2.1");
    assert_eq!(st["top_keys"][0]["name"], "/a.png");
    assert_eq!(st["top_clients"][0]["requests"], 2);
}

/// Premium clients (tier 1): named `premium-...`, or marked by a tier
/// column (`premium` or `1`), which then decides alone.
#[test]
fn premium_clients_by_name_or_tier_column() {
    let dir = tempfile::tempdir().unwrap();
    let tiers = |name: &str, text: &str, opts: &TraceOptions| -> Vec<u8> {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let read = trace::read(&path, opts).unwrap();
        read.requests.iter().map(|r| r.tier).collect()
    };
    let by_name = TraceOptions::default();
    assert_eq!(
        tiers(
            "a.csv",
            "key,client\n1,alice\n2,premium-bob\n3,premium\n",
            &by_name
        ),
        [0, 1, 0]
    );
    assert_eq!(
        tiers(
            "b.csv",
            "key,client,tier\n1,alice,premium\n2,bob,1\n3,premium-carol,free\n4,dave,2\n",
            &by_name
        ),
        [1, 1, 0, 0]
    );
    let column = TraceOptions {
        tier_column: Some("plan".parse().unwrap()),
        ..TraceOptions::default()
    };
    assert_eq!(
        tiers(
            "c.csv",
            "key,client,plan\n1,alice,PREMIUM\n2,bob,standard\n",
            &column
        ),
        [1, 0]
    );
    assert_eq!(
        tiers(
            "d.jsonl",
            concat!(
                r#"{"key":1,"client":"premium-a"}"#,
                "\n",
                r#"{"key":2,"client":"premium-a","tier":"standard"}"#,
                "\n",
                r#"{"key":3,"client":"b","tier":1}"#,
                "\n",
                r#"{"key":4,"client":"b"}"#,
                "\n"
            ),
            &by_name
        ),
        [1, 0, 1, 0]
    );
    assert_eq!(
        tiers(
            "e.log",
            concat!(
                "premium-gw - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 10\n",
                "1.2.3.4 - - [10/Oct/2000:13:55:37 -0700] \"GET /a HTTP/1.0\" 200 10\n"
            ),
            &by_name
        ),
        [1, 0]
    );
}

/// A route column: each distinct value is a route, numbered in first-seen
/// order, in CSV (by name or index) and JSON lines alike; without the
/// option every request is on route 0 and there are no names.
#[test]
fn routes_come_from_a_route_column() {
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str, text: &str, opts: &TraceOptions| -> (Vec<u8>, Vec<String>) {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let read = trace::read(&path, opts).unwrap();
        (read.requests.iter().map(|r| r.route).collect(), read.routes)
    };
    let by = |column: &str| TraceOptions {
        route_column: Some(column.parse().unwrap()),
        ..TraceOptions::default()
    };
    let csv = "key,endpoint,route\n1,GET /a,x\n2, POST /b ,x\n3,GET /a,x\n4,GET /c,x\n";
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        read("a.csv", csv, &by("endpoint")),
        (vec![0, 1, 0, 2], names(&["GET /a", "POST /b", "GET /c"]))
    );
    assert_eq!(
        read("b.csv", csv, &by("1")),
        read("a.csv", csv, &by("endpoint"))
    );
    // No default: a `route` header alone changes nothing.
    assert_eq!(
        read("c.csv", csv, &TraceOptions::default()),
        (vec![0; 4], vec![])
    );
    let jsonl = concat!(
        r#"{"key":1,"path":"/login"}"#,
        "\n",
        r#"{"key":2,"path":"/feed"}"#,
        "\n",
        r#"{"key":3,"path":"/feed"}"#,
        "\n",
        r#"{"key":4,"path":7}"#,
        "\n"
    );
    assert_eq!(
        read("d.jsonl", jsonl, &by("path")),
        (vec![0, 1, 1, 2], names(&["/login", "/feed", "7"]))
    );
    assert_eq!(
        read("e.jsonl", jsonl, &TraceOptions::default()),
        (vec![0; 4], vec![])
    );
}

/// `log_key` turns request targets into keys the same way in access logs,
/// CSV and JSON lines (where the key column holds the target and the host
/// column the virtual host); settings that cannot apply are refused.
#[test]
fn log_keys_apply_alike_to_access_logs_csv_and_json_lines() {
    use edgesim::workload::trace::LogKey;
    let dir = tempfile::tempdir().unwrap();
    let requests = [
        ("shop.example.com:443", "/a.png?v=1"),
        ("shop.example.com", "/a.png?v=2"),
        ("blog.example.com", "/a.png?v=1"),
        ("shop.example.com:8443", "/a.png?v=1"),
        ("blog.example.com", "/b"),
    ];
    let mut log = String::new();
    let mut csv = String::from("host,uri,size\n");
    let mut jsonl = String::new();
    for (i, (host, target)) in requests.iter().enumerate() {
        log.push_str(&format!(
            "{host} 192.0.2.{i} - - [10/Oct/2000:13:55:3{i} -0700] \"GET {target} HTTP/1.1\" 200 10\n"
        ));
        csv.push_str(&format!("{host},{target},10\n"));
        jsonl.push_str(&format!(
            "{{\"ClientRequestHost\":\"{host}\",\"ClientRequestURI\":\"{target}\"}}\n"
        ));
    }
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (log, csv, jsonl) = (
        write("a.log", &log),
        write("a.csv", &csv),
        write("a.jsonl", &jsonl),
    );
    let keys = |path: &Path, opts: &TraceOptions| -> Vec<u64> {
        trace::read(path, opts)
            .unwrap()
            .requests
            .iter()
            .map(|r| r.key)
            .collect()
    };
    // Which requests share a key: distinct keys numbered in first-seen order.
    let classes = |keys: Vec<u64>| -> Vec<usize> {
        let mut seen: Vec<u64> = Vec::new();
        keys.iter()
            .map(|k| {
                seen.iter().position(|s| s == k).unwrap_or_else(|| {
                    seen.push(*k);
                    seen.len() - 1
                })
            })
            .collect()
    };
    for (log_key, expected) in [
        (LogKey::Path, vec![0, 1, 0, 0, 2]),
        (LogKey::PathWithoutQuery, vec![0, 0, 0, 0, 1]),
        (LogKey::HostPath, vec![0, 1, 2, 0, 3]),
    ] {
        let host = (log_key == LogKey::HostPath).then(|| "host".parse().unwrap());
        let from_log = keys(
            &log,
            &TraceOptions {
                log_key,
                ..TraceOptions::default()
            },
        );
        let from_csv = keys(
            &csv,
            &TraceOptions {
                log_key,
                key_column: Some("uri".parse().unwrap()),
                host_column: host,
                ..TraceOptions::default()
            },
        );
        let from_jsonl = keys(
            &jsonl,
            &TraceOptions {
                log_key,
                key_column: Some("ClientRequestURI".parse().unwrap()),
                host_column: (log_key == LogKey::HostPath)
                    .then(|| "ClientRequestHost".parse().unwrap()),
                ..TraceOptions::default()
            },
        );
        assert_eq!(classes(from_log.clone()), expected, "{log_key:?}");
        assert_eq!(from_csv, from_log, "{log_key:?}: CSV");
        assert_eq!(from_jsonl, from_log, "{log_key:?}: JSON lines");
    }

    let refused = |path: &Path, args: &[&str], expected: &str| {
        let mut all = vec!["trace", "stats", s(path)];
        all.extend_from_slice(args);
        let out = edgesim().args(&all).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(expected),
            "{args:?}: {err}"
        );
    };
    let text = write("keys.txt", "/a?x\n/b\n");
    refused(
        &text,
        &["--log-key", "path-without-query"],
        "--log-key path-without-query (TOML: log_key) applies to access logs, CSV and JSON lines",
    );
    refused(
        &jsonl,
        &["--key-column", "ClientRequestURI", "--log-key", "host-path"],
        "needs --host-column",
    );
    refused(
        &csv,
        &["--key-column", "uri", "--host-column", "host"],
        "--host-column (TOML: host_column) is read only with --log-key host-path",
    );
    refused(
        &log,
        &["--host-column", "host"],
        "needs a CSV or JSON lines trace",
    );
    // Options for named fields on formats without them used to be ignored.
    let lirs = write("t.lirs", "1\n2\n1\n");
    refused(
        &lirs,
        &["--ops", "get"],
        "--ops (TOML: ops) needs a CSV or JSON lines trace; a lirs trace has no such field",
    );
    refused(
        &text,
        &["--client-column", "ip"],
        "--client-column (TOML: client_column) needs a CSV or JSON lines trace",
    );
    refused(
        &jsonl,
        &["--delimiter", "tab"],
        "--delimiter (TOML: delimiter) needs a CSV trace, not jsonl",
    );
}
