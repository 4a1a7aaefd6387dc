//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The edgesim binary, to give arguments to.
pub fn edgesim() -> Command {
    Command::cargo_bin("edgesim").unwrap()
}

/// Whether a missing reference file fails the test instead of skipping it:
/// set by .ci/run (`EDGESIM_REQUIRE_REFERENCE=1`), and under `CI=true`, so a
/// check that silently stopped running cannot pass CI.
fn reference_required() -> bool {
    let set = |name: &str, value: &str| std::env::var(name).is_ok_and(|v| v == value);
    set("EDGESIM_REQUIRE_REFERENCE", "1") || set("CI", "true")
}

/// The public reference data (`../shared/reference` beside the checkout), or
/// None with a printed notice when it is absent (a user's clone has none).
pub fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    present(dir, reference_required())
}

/// A file of the reference data, or None (with a notice) when absent.
pub fn reference_file(name: &str) -> Option<PathBuf> {
    present(reference_dir()?.join(name), reference_required())
}

/// `path` when it exists; otherwise a failure when `required`, else None
/// with a notice.
pub fn present(path: PathBuf, required: bool) -> Option<PathBuf> {
    if path.exists() {
        Some(path)
    } else if required {
        panic!("{} is absent, and CI must check against it", path.display());
    } else {
        eprintln!(
            "notice: {} is absent; skipping the reference-data checks",
            path.display()
        );
        None
    }
}

/// Runs `edgesim validate` on `experiment` written as `name`, checks that
/// it fails, and returns what it said on stderr.
pub fn validate_error(name: &str, experiment: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    fs::write(&file, experiment).unwrap();
    let out = edgesim().arg("validate").arg(&file).assert().failure();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// Runs `edgesim run` on `experiment` (written as bad.toml) and checks it
/// fails with one clear line containing each of `expected`, without a
/// panic and without creating the output directory.
pub fn assert_rejected(experiment: &str, expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    fs::write(&file, experiment).unwrap();
    let out = dir.path().join("out");
    let result = edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();
    let stderr = String::from_utf8(result.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for piece in expected {
        assert!(stderr.contains(piece), "{piece:?} not in {stderr:?}");
    }
    assert!(
        !out.exists(),
        "nothing may be written for a rejected experiment"
    );
}

/// Writes `experiment` as exp.toml in `dir` (beside any trace it names),
/// runs `edgesim run` on it with `extra` arguments, checks it succeeds and
/// returns the output directory.
pub fn run_in(dir: &Path, experiment: &str, extra: &[&str]) -> PathBuf {
    let file = dir.join("exp.toml");
    fs::write(&file, experiment).unwrap();
    let out = dir.join("out");
    edgesim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

/// `results.json` of an output directory.
pub fn results_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(out.join("results.json")).unwrap()).unwrap()
}

/// Every file of directory `dir` (not below), by name, with its bytes.
pub fn files_of(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Names under `dir` (at any depth) that look like a temporary file or
/// directory of an edgesim run: `.NAME.edgesim-*` or `*.tmp`.
pub fn stray_temp_names(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".edgesim-") || name.ends_with(".tmp") {
            found.push(entry.path().display().to_string());
        } else if entry.file_type().unwrap().is_dir() {
            found.extend(stray_temp_names(&entry.path()));
        }
    }
    found
}

/// Locations, flat and tiered, each limiter scope against attackers spread
/// over two and four of them, two replications: a small topology run for
/// the report and chart tests.
pub const TOPOLOGY: &str = r#"
[experiment]
name = "topology"
seed = 4
replications = 2

[workload]
requests = 3000
keys = 300

[workload.clients]
legit = 60
legit_rate = "1/s"
abusive = 2
abusive_rate = "40/s"
spread = [2, 4]

[[cache]]
policy = "lru"
capacity = "10%"

[[limiter]]
algorithm = "token-bucket"
rate = "5/s"
burst = 5

[service]
servers = 16
service_time = { dist = "fixed", time = "10ms" }

[topology]
locations = { count = 5, share = { dist = "zipf", alpha = 1.0 } }
tier = ["flat", "upper"]
upper = { policy = "lru", capacity = "30%" }
limit_scope = ["location", "global"]
"#;
