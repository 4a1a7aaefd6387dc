//! Hostile input that used to abort, pass validation and fail later, or give
//! a silently wrong answer (issue 13): each family refused or read right.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;

use common::{assert_rejected, edgesim, results_json, run_in};

const WORKLOAD: &str = "[workload]\nrequests = 2000\nkeys = 100\nclients = { legit = 10 }\n";

/// `validate` refuses `experiment` with a line naming `at` (file:line:col)
/// and each of `expected`; `run` refuses it the same way, creating nothing.
fn refused_up_front(experiment: &str, at: &str, expected: &[&str]) {
    let stderr = common::validate_error("bad.toml", experiment);
    assert!(
        stderr.contains(&format!("bad.toml:{at}: ")),
        "{at} in {stderr}"
    );
    let mut all = expected.to_vec();
    all.push(at);
    assert_rejected(experiment, &all);
}

#[test]
fn limiter_parameters_are_refused_by_validate_at_their_place() {
    let limiter = |algorithm: &str, extra: &str| {
        format!("{WORKLOAD}[[limiter]]\nalgorithm = \"{algorithm}\"\n{extra}")
    };
    refused_up_front(
        &limiter("gcra(x=1)", ""),
        "6:13",
        &["unknown parameter \"x\""],
    );
    refused_up_front(
        &limiter("concurrency(max=0)", ""),
        "6:13",
        &["max=0", "at least 1"],
    );
    refused_up_front(
        &limiter("concurrency(max=5)", ""),
        "6:13",
        &["add a [service] table"],
    );
    refused_up_front(
        &limiter("fixed-window", "rate = \"1/s\"\nwindow = \"100ms\"\n"),
        "6:13",
        &["below one request per window"],
    );
    // In a sweep, the broken choice is named, not the first.
    refused_up_front(
        &format!("{WORKLOAD}[[limiter]]\nalgorithm = [\"gcra\", \"gcra(x=1)\"]\nrate = \"1/s\"\n"),
        "6:22",
        &["unknown parameter"],
    );
}

#[test]
fn workload_contradictions_are_refused_by_validate() {
    refused_up_front(
        "[workload]\nrequests = 100\nkeys = 10\nsize = { dist = \"uniform\", min = \"64KiB\", max = \"1KiB\" }\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n",
        "4:8",
        &["min 64KiB is above max 1KiB"],
    );
    refused_up_front(
        "[workload]\nkind = \"trace\"\npath = [\"/dev/null\", \"missing.csv\"]\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n",
        "3:22",
        &["cannot read trace", "missing.csv"],
    );
}

#[test]
fn experiment_names_are_plain_file_names() {
    for name in ["../../x", "/tmp/abs", "..", "", ".hidden", "a/b"] {
        refused_up_front(
            &format!(
                "[experiment]\nname = {name:?}\n[workload]\nrequests = 10\nkeys = 5\n[[cache]]\npolicy = \"lru\"\ncapacity = 2\n"
            ),
            "2:8",
            &["plain file name"],
        );
    }
}

#[test]
fn counts_and_rates_in_exponent_form_are_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        "[experiment]\nseed = 1e1\n[workload]\nrequests = 2e3\nkeys = 1e2\nrate = \"1.5e2/s\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 1e1\n",
        &[],
    );
    let json = results_json(&out);
    assert_eq!(json["runs"][0]["requests"], 2000, "{json}");
    // A count that is not whole is still refused, where it is written.
    assert_rejected(
        "[workload]\nrequests = 2.5\nkeys = 10\n[[cache]]\npolicy = \"lru\"\ncapacity = 2\n",
        &["bad.toml:2:12", "whole number"],
    );
}

#[test]
fn csv_times_and_sizes_in_exponent_form_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    fs::write(&csv, "time,key,size\n1e3,a,4.096e3\n1.0005e3,b,4096\n").unwrap();
    let out = edgesim()
        .args(["trace", "stats", "--json"])
        .arg(&csv)
        .assert()
        .success();
    let stats: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(stats["requests"], 2, "{stats}");
    assert_eq!(stats["requested_bytes"], 8192, "{stats}");
    assert_eq!(stats["start_ns"], 1_000_000_000_000u64, "{stats}");
    assert_eq!(stats["end_ns"], 1_000_500_000_000u64, "{stats}");
}

/// Runs edgesim with `args`, checking it exits with an error (not a
/// signal) whose message has each of `expected`.
fn fails_cleanly(args: &[&str], dir: &Path, expected: &[&str]) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgesim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for piece in expected {
        assert!(stderr.contains(piece), "{piece:?} not in {stderr}");
    }
}

#[test]
fn populations_too_large_for_memory_are_errors_not_aborts() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("keys.toml"),
        "[workload]\nrequests = 10\nkeys = 1e15\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("clients.toml"),
        "[workload]\nrequests = 10\nkeys = 5\nclients = { legit = 4e9, abusive = 1e9 }\n[[limiter]]\nalgorithm = \"gcra\"\nrate = \"1/s\"\n",
    )
    .unwrap();
    fails_cleanly(
        &["trace", "generate", "keys.toml", "keys.csv"],
        dir.path(),
        &["1000000000000000 keys", "use fewer"],
    );
    fails_cleanly(
        &["run", "clients.toml", "--out", "o"],
        dir.path(),
        &["clients", "5000000000"],
    );
}

/// The reference binary trace, or None (skipping) without ../shared.
fn reference_trace() -> Option<std::path::PathBuf> {
    common::reference_file("cloudPhysicsIO.oracleGeneral.bin")
}

/// Runs edgesim with `args`, feeding `input` on stdin, and returns stdout.
fn through_stdin(args: &[&str], input: &[u8]) -> String {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edgesim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_trace_through_a_pipe_is_read_whole_and_once() {
    let Some(trace) = reference_trace() else {
        return;
    };
    let bytes = fs::read(&trace).unwrap();
    let file = trace.to_str().unwrap();
    let pipe = ["--format", "oracle-general"];
    // A size relative to the working set needs the whole trace first: it
    // was read twice, and through a pipe the second reading lost bytes.
    let cache = ["cache", "--policy", "lru", "--size", "10%", "--json"];
    let from_file = through_stdin(&[&cache[..], &[file]].concat(), b"");
    let from_pipe = through_stdin(&[&cache[..], &["/dev/stdin"], &pipe].concat(), &bytes);
    assert_eq!(from_pipe, from_file);
    // zstd through a pipe: its magic number was re-read by seeking back.
    let compressed = zstd::encode_all(&bytes[..], 3).unwrap();
    let stats = ["trace", "stats", "--json"];
    let from_file = through_stdin(&[&stats[..], &[file]].concat(), b"");
    let from_pipe = through_stdin(&[&stats[..], &["/dev/stdin"], &pipe].concat(), &compressed);
    assert_eq!(
        from_pipe.replace("/dev/stdin", "F"),
        from_file.replace(file, "F")
    );
}

#[test]
fn an_experiment_may_read_a_piped_trace_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let experiment = "[experiment]\nreplications = 2\n[workload]\nkind = \"trace\"\npath = \"/dev/stdin\"\nformat = \"oracle-general\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n";
    fs::write(dir.path().join("exp.toml"), experiment).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgesim"))
        .args(["validate", "exp.toml"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("exp.toml:5:8") && stderr.contains("reads it 2 times"),
        "{stderr}"
    );
}

/// `trace stats` only counts: 3 M requests of one object must fit in 32 MB
/// of data (it kept every request: 120 MB here, 219 MB for 5 M).
#[cfg(unix)]
#[test]
fn trace_stats_streams_in_memory_that_follows_the_objects() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("one.txt");
    fs::write(&trace, "1\n".repeat(3_000_000)).unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -d 32768 && exec '{}' trace stats --json '{}'",
            env!("CARGO_BIN_EXE_edgesim"),
            trace.display()
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&stats["requests"], &stats["unique_objects"]),
        (&3_000_000.into(), &1.into())
    );
}

/// A key or a header of 10 MB is named in a message, not echoed whole.
#[test]
fn huge_fields_are_shortened_in_messages_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(10_000_000);
    let csv = dir.path().join("wide.csv");
    fs::write(&csv, format!("{long},key\n1,2\n")).unwrap();
    let text = dir.path().join("long.txt");
    fs::write(&text, format!("{long}\n")).unwrap();
    for args in [
        vec![
            "trace",
            "stats",
            "--key-column",
            "nope",
            csv.to_str().unwrap(),
        ],
        vec!["trace", "stats", text.to_str().unwrap()],
        vec!["trace", "stats", "--json", text.to_str().unwrap()],
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgesim"))
            .args(&args)
            .output()
            .unwrap();
        let said = output.stdout.len() + output.stderr.len();
        assert!(said < 4_000, "{args:?}: {said} bytes of output");
    }
}

#[test]
fn times_past_the_clock_are_refused_not_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    // Near 2^64 ns, times plus a window wrapped (and the run was killed for
    // memory); such times are refused where they are read.
    let base = u64::MAX - 1_000_000_000;
    let rows: String = (0..100)
        .map(|i| format!("{},{},c{}\n", base + i * 100_000, i % 10, i % 3))
        .collect();
    fs::write(
        dir.path().join("late.csv"),
        format!("time_ns,key,client\n{rows}"),
    )
    .unwrap();
    fails_cleanly(
        &["limit", "late.csv", "--algorithm", "gcra", "--rate", "10/s"],
        dir.path(),
        &["late.csv", "request 1", "past the simulated clock's range"],
    );
    // A tiny rate over many requests used to wrap the generated times.
    fs::write(
        dir.path().join("slow.toml"),
        "[workload]\nrequests = 2000\nkeys = 100\nrate = \"1e-9/s\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 5\n",
    )
    .unwrap();
    fails_cleanly(
        &["run", "slow.toml", "--out", "o"],
        dir.path(),
        &["past the simulated clock's range"],
    );
    // oracleGeneral keeps 32-bit seconds: a later time is an error, not a wrap.
    let late = u32::MAX as u64 + 10;
    fs::write(
        dir.path().join("2200.csv"),
        format!("time_ns,key\n{},1\n", late * 1_000_000_000),
    )
    .unwrap();
    fails_cleanly(
        &["trace", "convert", "2200.csv", "2200.bin"],
        dir.path(),
        &["past oracleGeneral's 32-bit seconds"],
    );
    assert!(!dir.path().join("2200.bin").exists());
}

#[test]
fn limit_refuses_zero_servers_as_the_experiment_file_does() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), "time_ns,key,client\n0,1,a\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgesim"))
        .args(["limit", "t.csv", "--algorithm", "concurrency(max=2)"])
        .args(["--servers", "0", "--service-time", "10ms"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--servers"), "{stderr}");
}

#[test]
#[should_panic(expected = "CI must check against it")]
fn a_missing_reference_file_fails_when_required() {
    common::present("../shared/reference/no-such-file".into(), true);
}

#[test]
fn a_missing_reference_file_is_skipped_on_a_laptop() {
    assert_eq!(
        common::present("../shared/reference/no-such-file".into(), false),
        None
    );
}

/// A small zstd file can hold billions of requests: read into memory, they
/// stop at what the process may take (here `ulimit -d`), with a message,
/// instead of an allocation failure or the OOM killer. Caches alone at the
/// trace's own times stream it instead, in the same limit.
#[cfg(unix)]
#[test]
fn a_zstd_bomb_stops_at_the_memory_the_process_has() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut zst = zstd::Encoder::new(Vec::new(), 1).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        zst.write_all(&zeros).unwrap();
    }
    let bomb = zst.finish().unwrap();
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    fs::write(dir.path().join("bomb.bin.zst"), bomb).unwrap();
    let run = |load: &str| {
        fs::write(
            dir.path().join("exp.toml"),
            format!("[workload]\nkind = \"trace\"\npath = \"bomb.bin.zst\"\nformat = \"oracle-general\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 100\n{load}"),
        )
        .unwrap();
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -d 400000 && exec '{}' run exp.toml --out out --force",
                env!("CARGO_BIN_EXE_edgesim")
            ))
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    // 300 MiB of records: 13,107,200 requests, 524 MB held in memory.
    let streamed = run("");
    let stderr = String::from_utf8_lossy(&streamed.stderr);
    assert_eq!(streamed.status.code(), Some(0), "{stderr}");
    let results = fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    assert!(results.contains(",13107200,"), "{results}");
    // A duration cut needs the trace in memory.
    let held = run("[[load]]\nduration = \"1h\"\n");
    let stderr = String::from_utf8_lossy(&held.stderr);
    assert_eq!(held.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bomb.bin.zst: holds more requests than fit in this machine's memory"),
        "{stderr}"
    );
}

/// Spreadsheets start a CSV with a UTF-8 byte-order mark: it was read as
/// part of the first column's name, so `time` went unrecognised and every
/// request was sent at 0.
#[test]
fn a_byte_order_mark_does_not_rename_the_first_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("excel.csv");
    fs::write(&csv, b"\xef\xbb\xbftime_ns,key,size\n5,a,10\n9,b,20\n").unwrap();
    let output = edgesim()
        .args(["trace", "stats", "--json"])
        .arg(&csv)
        .assert()
        .success();
    let stats: serde_json::Value = serde_json::from_slice(&output.get_output().stdout).unwrap();
    assert_eq!(
        (&stats["start_ns"], &stats["end_ns"]),
        (&5.into(), &9.into())
    );
}

/// `validate` on a sweep of 6 x 10^8 runs with a baseline: counted and
/// matched without building the runs (it grew to gigabytes and aborted).
#[cfg(unix)]
#[test]
fn validate_counts_a_huge_sweep_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("huge.toml"),
        "[experiment]\nreplications = 1e8\n[workload]\nrequests = 10\nkeys = 5\n[[cache]]\npolicy = [\"lru\", \"fifo\"]\ncapacity = [1, 2, 3]\n[report]\nbaseline = { policy = \"lru\" }\n",
    )
    .unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -d 65536 && exec '{}' validate huge.toml",
            env!("CARGO_BIN_EXE_edgesim")
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("ok, 600000000 runs"), "{stdout}");
    assert!(stdout.contains("and 599999000 more runs"), "{stdout}");
}

/// Workloads are generated when their runs start and dropped when they end:
/// 20 variants of 200,000 requests (8 MB each) run in 80 MB of data on two
/// threads. Generated up front, they needed twice that (and 100 variants of
/// 1 M requests peaked at 3.9 GB).
#[cfg(unix)]
#[test]
fn workloads_live_only_while_their_runs_do() {
    let dir = tempfile::tempdir().unwrap();
    let alphas: Vec<String> = (0..20)
        .map(|i| format!("{:.2}", 0.6 + i as f64 * 0.02))
        .collect();
    fs::write(
        dir.path().join("variants.toml"),
        format!(
            "[workload]\nrequests = 200_000\nkeys = 1000\npopularity = {{ dist = \"zipf\", alpha = [{}] }}\n[[cache]]\npolicy = \"lru\"\ncapacity = 100\n",
            alphas.join(", ")
        ),
    )
    .unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -d 80000 && exec '{}' run variants.toml --out out -j 2",
            env!("CARGO_BIN_EXE_edgesim")
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        results_json(&dir.path().join("out"))["runs"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
}
