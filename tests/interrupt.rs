//! Interrupting `edgesim run`: SIGINT writes the runs completed so far,
//! marked partial, and `--resume` finishes them to byte-identical outputs;
//! SIGKILL at any moment, writing included, leaves the previous set or the
//! new one, whole, never a mix.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{files_of, stray_temp_names};

/// 160 cache-only runs on 16 workloads: several seconds on two cores.
const LONG: &str = r#"
[experiment]
name = "long"
seed = 7
replications = 4

[workload]
requests = 400_000
keys = 50_000
popularity = { dist = "zipf", alpha = [0.7, 0.8, 0.9, 1.0] }

[[cache]]
policy = ["lru", "fifo", "arc", "s3fifo", "lirs"]
capacity = ["1%", "10%"]
"#;

/// A short run; `{seed}` is replaced.
const SHORT: &str = r#"
[experiment]
name = "short"
seed = {seed}
replications = 2

[workload]
requests = 50_000
keys = 5000
popularity = { dist = "zipf", alpha = 0.9 }

[[cache]]
policy = ["lru", "fifo", "s3fifo"]
capacity = ["5%", "20%"]
"#;

fn start(exp: &Path, out: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("edgesim"))
        .arg("run")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs to the end and checks it succeeded.
fn run(exp: &Path, out: &Path, extra: &[&str]) {
    let output = start(exp, out, extra).wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

#[test]
fn sigint_writes_a_partial_set_that_resume_finishes_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    fs::write(&exp, LONG).unwrap();
    let full = dir.path().join("full");
    let started = Instant::now();
    run(&exp, &full, &[]);
    // A third of the way through, whatever this machine's speed (a fixed
    // two seconds came after the end on a fast one).
    let midway = started.elapsed() / 3;

    let part = dir.path().join("part");
    let child = start(&exp, &part, &[]);
    sleep(midway);
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{message}");
    assert!(message.contains("--resume"), "{message}");
    assert_eq!(stray_temp_names(dir.path()), Vec::<String>::new());

    let marker = fs::read_to_string(part.join("partial")).unwrap();
    let runs: serde_json::Value =
        serde_json::from_slice(&fs::read(part.join("runs.json")).unwrap()).unwrap();
    let done = runs["runs"].as_array().unwrap().len();
    assert!(done > 0 && done < 160, "{done} runs completed");
    let line = format!("Partial: {done} of 160 runs completed; run again with --resume to finish");
    assert!(marker.starts_with(&line), "{marker}");
    let report = fs::read_to_string(part.join("report.md")).unwrap();
    assert!(report.lines().next().unwrap().contains(&line), "{report}");
    assert!(
        fs::read_to_string(part.join("report.html"))
            .unwrap()
            .contains(&line)
    );

    // Another seed is another experiment: refused, nothing changed.
    let before = files_of(&part);
    let output = start(&exp, &part, &["--resume", "--seed", "8"])
        .wait_with_output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot resume"));
    assert!(files_of(&part) == before);

    run(&exp, &part, &["--resume"]);
    let (finished, expected) = (files_of(&part), files_of(&full));
    assert_eq!(
        finished.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &expected {
        assert!(finished[name] == *bytes, "{name} differs after --resume");
    }
}

#[test]
fn sigkill_at_any_moment_leaves_one_whole_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut sets: Vec<BTreeMap<String, Vec<u8>>> = Vec::new();
    let mut took = Duration::ZERO;
    for seed in [1, 2] {
        let exp = dir.path().join(format!("{seed}.toml"));
        fs::write(&exp, SHORT.replace("{seed}", &seed.to_string())).unwrap();
        // Beside `out`, so that the experiment's path echoed in
        // results.json is the same.
        let out = dir.path().join(format!("reference{seed}"));
        let started = Instant::now();
        run(&exp, &out, &[]);
        took = took.max(started.elapsed());
        sets.push(files_of(&out));
    }
    assert!(sets[0] != sets[1]);
    let out = dir.path().join("out");
    run(&dir.path().join("1.toml"), &out, &[]);
    // Delays across the whole run, denser near its end, where it writes.
    let steps = 16;
    for step in 0..=steps {
        let fraction = 1.0 - (1.0 - step as f64 / steps as f64).powi(2);
        let delay = took.mul_f64(fraction * 1.05);
        let now_first = files_of(&out) == sets[0];
        let seed = if now_first { 2 } else { 1 };
        let child = start(&dir.path().join(format!("{seed}.toml")), &out, &[]);
        sleep(delay);
        signal(&child, libc::SIGKILL);
        child.wait_with_output().unwrap();
        let now = files_of(&out);
        assert!(
            now == sets[0] || now == sets[1],
            "killed after {delay:?}: not one whole set: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        assert_eq!(stray_temp_names(&out), Vec::<String>::new());
    }
    // A dead run's temporary directory is never taken for results: the
    // next run succeeds and writes one whole set.
    run(&dir.path().join("2.toml"), &out, &[]);
    assert!(files_of(&out) == sets[1]);
}
