//! End-to-end checks of `edgesim run` and `edgesim validate`: determinism
//! across threads and seeds, and clear errors on bad input.

mod common;

use std::fs;
use std::path::Path;

use common::{assert_rejected, edgesim};

const EXPERIMENT: &str = r#"
[experiment]
name = "tiny"
seed = 7
replications = 2

[workload]
kind = "synthetic"
requests = 20_000
keys = 2_000
popularity = { dist = "zipf", alpha = [0.8, 1.0] }
size = { dist = "lognormal", median = "8KiB", sigma = 1.0 }

[[cache]]
policy = ["lru", "fifo"]
capacity = ["5%", "20%"]

[[cache]]
policy = "lru"
capacity = 300
"#;

const OUTPUTS: [&str; 5] = [
    "results.csv",
    "results.json",
    "report.md",
    "mrc.png",
    "mrc.svg",
];

/// Runs `experiment` into a fresh directory and returns the bytes of every output.
fn run(experiment: &str, extra: &[&str]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(dir.path(), experiment, extra);
    OUTPUTS
        .iter()
        .map(|name| fs::read(out.join(name)).unwrap())
        .collect()
}

#[test]
fn outputs_are_identical_with_one_or_two_threads_and_change_with_the_seed() {
    let one = run(EXPERIMENT, &["--threads", "1"]);
    let two = run(EXPERIMENT, &["--threads", "2"]);
    for (name, (a, b)) in OUTPUTS.iter().zip(one.iter().zip(&two)) {
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
    let again = run(EXPERIMENT, &["--threads", "2"]);
    assert_eq!(two, again, "same seed, different bytes");
    let other = run(EXPERIMENT, &["--seed", "8"]);
    assert_ne!(one[0], other[0], "results.csv must change with the seed");
}

#[test]
fn results_have_one_row_per_run_and_a_recommendation() {
    let outputs = run(EXPERIMENT, &[]);
    let csv = String::from_utf8(outputs[0].clone()).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("run,replication,seed,workload.popularity.alpha,policy,capacity,"));
    assert!(header.ends_with("hit_ratio,byte_hit_ratio"));
    // 2 alphas x (2 policies x 2 sizes + 1) caches x 2 replications.
    assert_eq!(lines.count(), 2 * 5 * 2);
    let json: serde_json::Value = serde_json::from_slice(&outputs[1]).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 20);
    assert_eq!(json["edgesim_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        json["experiment"]["source"]
            .as_str()
            .unwrap()
            .contains("[[cache]]")
    );
    let report = String::from_utf8(outputs[2].clone()).unwrap();
    // One recommendation per traffic (alpha), each a configuration.
    assert!(
        report.contains("## Recommendation at alpha=0.8"),
        "{report}"
    );
    assert!(report.contains("**Pick `lru 20%`.**"), "{report}");
    assert!(outputs[3].starts_with(b"\x89PNG"));
    assert!(String::from_utf8_lossy(&outputs[4]).contains("<svg"));
}

#[test]
fn typo_in_a_key_names_file_line_and_column() {
    let bad = EXPERIMENT.replace("capacity = 300", "capacty = 300");
    assert_rejected(
        &bad,
        &["bad.toml:20:1:", "unknown field `capacty`", "`capacity`"],
    );
}

#[test]
fn negative_capacity_is_refused() {
    let bad = EXPERIMENT.replace("capacity = 300", "capacity = -300");
    assert_rejected(&bad, &["bad.toml:20:12:", "must not be negative"]);
}

#[test]
fn megabytes_and_mebibytes_are_both_accepted_and_bare_m_is_ambiguous() {
    let ok = EXPERIMENT.replace("capacity = 300", r#"capacity = ["64MB", "64MiB"]"#);
    let outputs = run(&ok, &[]);
    let csv = String::from_utf8(outputs[0].clone()).unwrap();
    assert!(
        csv.contains(",lru,64MB,64000000,bytes,"),
        "64MB = 64 x 10^6 bytes"
    );
    assert!(
        csv.contains(",lru,64MiB,67108864,bytes,"),
        "64MiB = 64 x 2^20 bytes"
    );
    let bad = EXPERIMENT.replace("capacity = 300", r#"capacity = "64M""#);
    assert_rejected(
        &bad,
        &["bad.toml:20:12:", "ambiguous size unit \"M\"", "MiB", "MB"],
    );
}

#[test]
fn empty_sweep_list_is_refused() {
    let bad = EXPERIMENT.replace(r#"policy = ["lru", "fifo"]"#, "policy = []");
    assert_rejected(&bad, &["bad.toml:15:10:", "empty list"]);
}

#[test]
fn missing_experiment_file_is_reported() {
    edgesim()
        .args(["run", "no/such/experiment.toml"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "cannot read experiment no/such/experiment.toml",
        ));
}

#[test]
fn unwritable_output_directory_fails_before_running_and_keeps_old_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    fs::write(&file, EXPERIMENT).unwrap();
    // A regular file where a directory is needed cannot be written into.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, "keep me").unwrap();
    edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(blocker.join("out"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("cannot create output directory"));
    assert_eq!(fs::read_to_string(&blocker).unwrap(), "keep me");
}

#[test]
fn a_failed_run_leaves_earlier_results_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("exp.toml");
    fs::write(&file, EXPERIMENT).unwrap();
    edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let before = fs::read(out.join("results.csv")).unwrap();
    // Bytes capacity with sizes ignored only fails once the run starts.
    let bad = EXPERIMENT.replace("capacity = 300", "capacity = \"1MiB\"\nignore_size = true");
    fs::write(&file, bad).unwrap();
    edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();
    assert_eq!(fs::read(out.join("results.csv")).unwrap(), before);
    let names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn validate_lists_the_runs_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    fs::write(&file, EXPERIMENT).unwrap();
    let assert = edgesim()
        .current_dir(dir.path())
        .arg("validate")
        .arg(&file)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("ok, 20 runs"), "{stdout}");
    assert!(
        stdout.contains("policy=fifo capacity=20% workload.popularity.alpha=1.0 replication=1")
    );
    assert!(!Path::new(&dir.path().join("outputs")).exists());
}

#[test]
fn a_trace_without_requests_is_an_error_not_a_pick_on_nothing() {
    // It used to report hit ratio 0.0000 and "Pick lru" on 0 requests.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.csv"), "time,key,size\nx,a,10\n").unwrap();
    let experiment = "[experiment]\nname = \"empty\"\n[workload]\nkind = \"trace\"\npath = \"t.csv\"\ntime_unit = \"s\"\non_error = \"skip\"\n[[cache]]\npolicy = [\"lru\", \"fifo\"]\ncapacity = 10\n";
    let file = dir.path().join("exp.toml");
    fs::write(&file, experiment).unwrap();
    let out = edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .failure();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("t.csv: holds no requests (1 bad line(s) skipped; the first: ")
            && stderr.contains("t.csv:2:1: "),
        "{stderr}"
    );
    assert!(!dir.path().join("out/results.csv").exists());
}

#[test]
fn skipped_trace_lines_are_told_before_the_outcome_even_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("t.csv"),
        "time,key,size\n1,a,10\nx,b,10\n2,c,10\n",
    )
    .unwrap();
    let notice = "t.csv: skipped 1 bad line(s)\n";
    let workload =
        "[workload]\nkind = \"trace\"\npath = \"t.csv\"\ntime_unit = \"s\"\non_error = \"skip\"\n";
    let run = |experiment: String| {
        let file = dir.path().join("exp.toml");
        fs::write(&file, experiment).unwrap();
        let out = edgesim()
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8(out.stderr).unwrap())
    };
    let (ok, stderr) = run(format!(
        "[experiment]\nname = \"s\"\n{workload}[[cache]]\npolicy = \"lru\"\ncapacity = 10\n"
    ));
    assert!(
        ok && stderr_order(&stderr, notice, "1 runs in "),
        "{stderr}"
    );
    assert!(stderr.contains("t.csv:3:1: expected a time"), "{stderr}");
    // The trace has no client field: the limiter's run fails after the read.
    let (ok, stderr) = run(format!(
        "[experiment]\nname = \"s\"\n{workload}[[limiter]]\nalgorithm = \"token-bucket\"\nrate = \"10/s\"\nkey = \"client\"\n"
    ));
    assert!(
        !ok && stderr_order(&stderr, notice, "error: ") && stderr.contains("limiter key"),
        "{stderr}"
    );
}

/// Whether `first` and then `then` appear in `text`.
fn stderr_order(text: &str, first: &str, then: &str) -> bool {
    text.find(first).is_some_and(|at| text[at..].contains(then))
}

#[test]
fn an_exact_tie_is_called_a_tie() {
    // A cache that holds everything: LRU and FIFO miss only the first
    // request of each key, the very same number.
    let experiment = "[experiment]\nname = \"tie\"\n[workload]\nkind = \"synthetic\"\nrequests = 20_000\nkeys = 100\n[[cache]]\npolicy = [\"lru\", \"fifo\"]\ncapacity = \"100%\"\n";
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(dir.path(), experiment, &[]);
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Pick `lru`: they tie exactly, and it comes first in the experiment."),
        "{report}"
    );
}

#[test]
fn a_ttl_that_requests_cannot_keep_is_refused_where_written() {
    // "0s" used to become 1 ms, and 500us never to expire.
    for (ttl, column) in [("\"0s\"", 7), ("\"500us\"", 7), ("[\"30s\", \"60d\"]", 15)] {
        let experiment = format!(
            "[experiment]\nname = \"t\"\n[workload]\nkind = \"synthetic\"\nrequests = 100\nkeys = 10\nttl = {ttl}\n[[cache]]\npolicy = \"lru\"\ncapacity = \"10%\"\n"
        );
        assert_rejected(
            &experiment,
            &[
                &format!("bad.toml:7:{column}: "),
                "a TTL is a whole number of milliseconds from 1ms to 49 days",
            ],
        );
    }
}

#[test]
fn thousands_of_threads_are_capped_with_a_note_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exp.toml");
    fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.path().join("out");
    let result = edgesim()
        .arg("run")
        .arg(&file)
        .args(["--threads", "10000", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8(result.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("note: 10000 threads capped at "),
        "{stderr}"
    );
    let one = run(EXPERIMENT, &["--threads", "1"]);
    for (name, bytes) in OUTPUTS.iter().zip(&one) {
        assert_eq!(&fs::read(out.join(name)).unwrap(), bytes, "{name} differs");
    }
}
