//! `edgesim report DIR` renders an output directory again from what `edgesim
//! run` saved there: byte for byte the same files, and clear refusals (with
//! nothing destroyed) when the saved files are missing, damaged or of
//! another version.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::{TOPOLOGY, edgesim, run_in};

/// Caches behind limiters in front of a service, open loop, with abusive
/// clients: the miss-ratio curve, the limiter chart and the time series.
const OPEN: &str = r#"
[experiment]
name = "rerender-open"
description = "Caches behind limiters in front of a service."
seed = 5
replications = 2

[workload]
requests = 6000
keys = 500
popularity = { dist = "zipf", alpha = 0.9 }
size = { dist = "lognormal", median = "4KiB", sigma = 1.0 }

[workload.clients]
legit = 100
legit_rate = "2/s"
abusive = 3
abusive_rate = "20/s"

[[cache]]
policy = ["lru", "s3fifo"]
capacity = ["5%", "20%"]

[[limiter]]
algorithm = ["none", "gcra", "sliding-window-counter"]
rate = "5/s"
burst = 10
window = "1s"
key = "client"

[service]
servers = 8
service_time = { dist = "lognormal", median = "20ms", sigma = 0.5 }
"#;

/// A closed-loop load ladder: the latency and error charts, the breaking
/// points and an alert that fires.
const LADDER: &str = r#"
[experiment]
name = "rerender-ladder"
seed = 9

[workload]
requests = 4000
keys = 400
popularity = { dist = "zipf", alpha = 1.0 }

[[load]]
name = "ladder"
connections = [4, 16]
duration = "5s"
think = "50ms"

[[cache]]
policy = ["none", "lru"]
capacity = "10%"

[[limiter]]
algorithm = ["none", "gcra"]
rate = "100/s"
burst = 10
key = "global"

[service]
servers = 2
queue = 8
timeout = "500ms"
service_time = { dist = "exponential", mean = "20ms" }

[[alert]]
metric = "p95"
condition = "above"
threshold = "1ms"
"#;

/// Every file of `dir` by name, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Runs `experiment` in a fresh directory: (its temp dir, the output dir).
fn run(experiment: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), experiment, extra);
    (dir, out)
}

/// Deletes the report and every chart, re-renders, and checks that every
/// file is back byte for byte; returns the names of the files.
fn assert_rerendered(out: &Path) -> Vec<String> {
    let before = snapshot(out);
    for name in before.keys() {
        if name.starts_with("report.") || name.ends_with(".png") || name.ends_with(".svg") {
            fs::remove_file(out.join(name)).unwrap();
        }
    }
    edgesim().arg("report").arg(out).assert().success();
    let after = snapshot(out);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        assert!(after[name] == *bytes, "{name} differs after re-rendering");
    }
    before.into_keys().collect()
}

#[test]
fn report_renders_every_output_again_byte_for_byte() {
    let (_open_dir, open) = run(OPEN, &[]);
    let (_ladder_dir, ladder) = run(LADDER, &[]);
    let (_topology_dir, topology) = run(TOPOLOGY, &[]);
    let mut written = assert_rerendered(&open);
    written.extend(assert_rerendered(&ladder));
    written.extend(assert_rerendered(&topology));
    // Together the experiments write every kind of output, so a new
    // export is covered here as soon as it exists.
    for export in edgesim::report::exports() {
        assert!(
            written.iter().any(|w| w == export.file_name()),
            "no test experiment writes {}",
            export.file_name()
        );
    }
}

#[test]
fn saved_runs_do_not_depend_on_threads_and_keep_a_seed_override() {
    let (_one, one) = run(OPEN, &["-j", "1", "--seed", "77"]);
    let (_two, two) = run(OPEN, &["-j", "2", "--seed", "77"]);
    assert_eq!(
        fs::read(one.join("runs.json")).unwrap(),
        fs::read(two.join("runs.json")).unwrap()
    );
    // The overridden seed, not the file's, is what report.md states.
    assert_rerendered(&one);
    let report = fs::read_to_string(one.join("report.md")).unwrap();
    assert!(report.contains("seed 77"), "{report}");
}

/// Runs `edgesim report` on `dir` and checks that it fails with one line
/// containing each of `expected`, leaving the directory as it was.
fn assert_refused(dir: &Path, expected: &[&str]) {
    let before = dir.is_dir().then(|| snapshot(dir));
    let result = edgesim().arg("report").arg(dir).assert().failure();
    let stderr = String::from_utf8(result.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for piece in expected {
        assert!(stderr.contains(piece), "{piece:?} not in {stderr:?}");
    }
    assert_eq!(before, dir.is_dir().then(|| snapshot(dir)));
}

#[test]
fn report_refuses_missing_damaged_and_foreign_files() {
    let scratch = tempfile::tempdir().unwrap();
    assert_refused(
        &scratch.path().join("nowhere"),
        &["nowhere", "no such directory"],
    );
    assert_refused(
        scratch.path(),
        &["results.json", "not found", "edgesim run"],
    );

    let (dir, out) = run(OPEN, &[]);
    let exp = dir.path().join("exp.toml");
    let again = format!("edgesim run {}", exp.display());
    let runs = out.join("runs.json");
    let results = out.join("results.json");
    let saved_runs = fs::read(&runs).unwrap();
    let saved_results = fs::read(&results).unwrap();
    // Recorded relative to the output directory, so outputs made elsewhere
    // are the same bytes.
    assert_eq!(
        common::results_json(&out)["experiment"]["path"],
        "../exp.toml"
    );

    fs::remove_file(&runs).unwrap();
    assert_refused(&out, &["runs.json", "not found", &again]);

    fs::write(&runs, &saved_runs[..saved_runs.len() / 2]).unwrap();
    assert_refused(&out, &["runs.json", "damaged", &again]);

    let text = String::from_utf8(saved_runs.clone()).unwrap();
    let current = format!("\"version\":{},", edgesim::report::runs::FORMAT_VERSION);
    let future = text.replacen(&current, "\"version\":999,", 1);
    assert_ne!(future, text);
    fs::write(&runs, future).unwrap();
    assert_refused(&out, &["runs.json", "runs format 999", &again]);

    fs::write(
        &runs,
        b"{\"format\":\"something-else\",\"version\":1,\"edgesim_version\":\"0\",\"runs\":[]}",
    )
    .unwrap();
    assert_refused(&out, &["runs.json", "not an edgesim runs file", &again]);

    // The runs of another experiment (same shape, other run count).
    let (_other_dir, other) = run(LADDER, &[]);
    fs::copy(other.join("runs.json"), &runs).unwrap();
    assert_refused(&out, &["runs.json", "are not the 24 runs", &again]);
    fs::write(&runs, &saved_runs).unwrap();

    fs::write(&results, b"{\"edgesim_version\": \"0.1.0\"").unwrap();
    assert_refused(&out, &["results.json", "damaged", "edgesim run"]);

    // A results.json from before the experiment's path was recorded.
    let mut old: serde_json::Value = serde_json::from_slice(&saved_results).unwrap();
    old["experiment"].as_object_mut().unwrap().remove("path");
    fs::write(&results, serde_json::to_vec(&old).unwrap()).unwrap();
    assert_refused(
        &out,
        &["results.json", "did not record the experiment's path"],
    );

    fs::write(&results, &saved_results).unwrap();
    edgesim().arg("report").arg(&out).assert().success();
}
