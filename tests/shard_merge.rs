//! `edgesim run --shard K/N` then `edgesim merge`: the merged directory is
//! byte for byte the directory of an unsharded run, and shards that are not
//! all the shards of one run are refused without writing anything.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::edgesim;

/// 12 runs: 2 policies x 3 sizes x 2 replications.
const EXPERIMENT: &str = r#"
[experiment]
name = "tiny"
seed = 7
replications = 2

[workload]
requests = 20_000
keys = 2_000
popularity = { dist = "zipf", alpha = 0.9 }
size = { dist = "lognormal", median = "8KiB", sigma = 1.0 }

[[cache]]
policy = ["lru", "fifo"]
capacity = ["2%", "5%", "20%"]
"#;
const RUNS: u64 = 12;

/// A temporary directory holding `exp.toml`.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(experiment: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("exp.toml"), experiment).unwrap();
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `edgesim run exp.toml --out OUT` with `extra`, which must succeed.
    fn run(&self, out: &str, extra: &[&str]) -> PathBuf {
        let out = self.path(out);
        edgesim()
            .current_dir(self.dir.path())
            .args(["run", "exp.toml", "--out"])
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        out
    }

    /// Every shard K/`count` into `shards-COUNT/K`, on one thread.
    fn shards(&self, count: u64, extra: &[&str]) -> Vec<PathBuf> {
        (1..=count)
            .map(|k| {
                let shard = format!("{k}/{count}");
                let mut args = vec!["--shard", shard.as_str(), "-j", "1"];
                args.extend_from_slice(extra);
                self.run(&format!("shards-{count}/{k}"), &args)
            })
            .collect()
    }

    /// `edgesim merge DIRS --out OUT`: its stderr, after success or failure.
    fn merge(&self, dirs: &[PathBuf], out: &str, succeeds: bool) -> String {
        let mut cmd = edgesim();
        cmd.current_dir(self.dir.path())
            .arg("merge")
            .args(dirs)
            .arg("--out")
            .arg(self.path(out));
        let assert = if succeeds {
            cmd.assert().success()
        } else {
            cmd.assert().failure()
        };
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

/// Every file in `dir` (it has no subdirectories) with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            assert!(entry.file_type().unwrap().is_file(), "{:?}", entry.path());
            let name = entry.file_name().into_string().unwrap();
            (name, fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// Asserts that directories `a` and `b` hold the same file names with the
/// same bytes.
fn assert_same_files(a: &Path, b: &Path) {
    let (a_files, b_files) = (files(a), files(b));
    assert_eq!(
        a_files.keys().collect::<Vec<_>>(),
        b_files.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (name, bytes) in &a_files {
        assert!(
            bytes == &b_files[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn merged_shards_are_byte_for_byte_the_unsharded_run() {
    let setup = Setup::new(EXPERIMENT);
    let whole = setup.run("whole", &["-j", "2"]);
    // The comparison covers the tables, the saved runs, the charts and the
    // reports, not an empty directory.
    let names = files(&whole);
    for name in [
        "results.csv",
        "results.json",
        "runs.json",
        "mrc.png",
        "mrc.svg",
        "report.md",
        "report.html",
    ] {
        assert!(names.contains_key(name), "{name} missing from {names:?}");
    }
    for count in [1, 2, 3, 5, RUNS] {
        let shards = setup.shards(count, &[]);
        // A shard holds its runs only and says which shard it is.
        for (k, shard) in shards.iter().enumerate() {
            let marker = fs::read_to_string(shard.join("shard")).unwrap();
            assert!(
                marker.starts_with(&format!("{}/{count}\n", k + 1)),
                "{marker}"
            );
        }
        if count > 1 {
            assert_ne!(
                fs::read(whole.join("runs.json")).unwrap(),
                fs::read(shards[0].join("runs.json")).unwrap()
            );
        }
        // In any order.
        let mut given = shards.clone();
        given.reverse();
        let out = format!("merged-{count}");
        setup.merge(&given, &out, true);
        assert_same_files(&whole, &setup.path(&out));
    }
}

#[test]
fn bad_shards_are_refused_naming_the_flag() {
    let setup = Setup::new(EXPERIMENT);
    for bad in ["0/3", "4/3", "x", "3", "1/0", "2/"] {
        let out = setup.path("out");
        let result = edgesim()
            .current_dir(setup.dir.path())
            .args(["run", "exp.toml", "--shard", bad, "--out"])
            .arg(&out)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&result.get_output().stderr);
        assert!(
            stderr.contains("--shard") && stderr.contains('K'),
            "{bad}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists());
    }
    // More shards than runs would leave some empty.
    let result = edgesim()
        .current_dir(setup.dir.path())
        .args(["run", "exp.toml", "--shard", "1/13"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&result.get_output().stderr);
    assert!(
        stderr.contains("--shard 1/13") && stderr.contains("12 run"),
        "{stderr}"
    );
}

/// Each kind of mismatch is refused with a message naming it, and neither
/// a new --out nor an existing one is written.
#[test]
fn mismatched_shards_are_refused_and_nothing_is_written() {
    let setup = Setup::new(EXPERIMENT);
    let shards = setup.shards(3, &[]);
    let other_seed = setup.run("seed-8", &["--shard", "2/3", "--seed", "8"]);
    let other_count = setup.run("of-four", &["--shard", "2/4"]);
    let edited = Setup::new(&EXPERIMENT.replace("0.9", "1.0"));
    let other_experiment = edited.run("edited", &["--shard", "2/3"]);
    let whole = setup.run("whole", &[]);
    let with = |k: usize, dir: &PathBuf| {
        let mut dirs = shards.clone();
        dirs[k] = dir.clone();
        dirs
    };
    let cases: Vec<(&str, Vec<PathBuf>, Vec<&str>)> = vec![
        (
            "seed",
            with(1, &other_seed),
            vec!["seed-8", "seed 8, not 7"],
        ),
        (
            "count",
            with(1, &other_count),
            vec!["of-four", "2/4", "different counts"],
        ),
        (
            "experiment",
            with(1, &other_experiment),
            vec!["edited", "other experiment file contents"],
        ),
        (
            "missing",
            shards[..2].to_vec(),
            vec!["shard(s) 3 of 3 missing"],
        ),
        (
            "missing two",
            shards[1..2].to_vec(),
            vec!["shard(s) 1, 3 of 3 missing"],
        ),
        (
            "duplicate",
            with(2, &shards[0]),
            vec!["are both shard 1/3", "shard(s) 3"],
        ),
        ("not a shard", with(0, &whole), vec!["whole", "not a shard"]),
    ];
    // An earlier merged output stays as it was.
    let kept = setup.path("kept");
    setup.merge(&shards, "kept", true);
    let before = files(&kept);
    for (what, dirs, expected) in cases {
        for out in ["fresh", "kept"] {
            let stderr = setup.merge(&dirs, out, false);
            for piece in &expected {
                // The duplicate is told before the missing shard it makes.
                if what == "duplicate" && piece.starts_with("shard(s)") {
                    continue;
                }
                assert!(stderr.contains(piece), "{what}: {piece:?} not in {stderr}");
            }
            assert!(!setup.path("fresh").exists(), "{what}: wrote --out");
            assert_eq!(files(&kept), before, "{what}: changed an existing --out");
        }
    }
}

/// Another edgesim's shard, and runs.json holding a run twice, are refused.
#[test]
fn shards_of_another_edgesim_or_with_a_run_twice_are_refused() {
    let setup = Setup::new(EXPERIMENT);
    let shards = setup.shards(2, &[]);
    let edit = |dir: &Path, name: &str, change: &dyn Fn(&mut serde_json::Value)| {
        let path = dir.join(name);
        let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        change(&mut doc);
        fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    };
    let older = setup.run("older", &["--shard", "2/2"]);
    edit(&older, "results.json", &|doc| {
        doc["edgesim_version"] = "0.0.1".into()
    });
    let stderr = setup.merge(&[shards[0].clone(), older], "out", false);
    assert!(stderr.contains("written by edgesim 0.0.1, not"), "{stderr}");

    let twice = setup.run("twice", &["--shard", "2/2"]);
    edit(&twice, "runs.json", &|doc| {
        let runs = doc["runs"].as_array_mut().unwrap();
        runs.push(runs[0].clone());
    });
    let stderr = setup.merge(&[shards[0].clone(), twice], "out", false);
    assert!(stderr.contains("run 1 appears twice"), "{stderr}");

    let stray = setup.run("stray", &["--shard", "2/2"]);
    fs::copy(shards[0].join("runs.json"), stray.join("runs.json")).unwrap();
    let stderr = setup.merge(&[shards[0].clone(), stray], "out", false);
    assert!(
        stderr.contains("is not one of shard 2/2's runs"),
        "{stderr}"
    );
    assert!(!setup.path("out").exists());
}

/// --resume keeps a shard's runs only for the same shard; `report` sends a
/// shard to `merge`.
#[test]
fn a_shard_resumes_as_itself_only_and_is_not_a_report() {
    let setup = Setup::new(EXPERIMENT);
    let shard = setup.run("shard", &["--shard", "2/3"]);
    let before = files(&shard);
    setup.run("shard", &["--shard", "2/3", "--resume"]);
    assert_eq!(files(&shard), before);
    for other in [&["--shard", "1/3", "--resume"][..], &["--resume"]] {
        let result = edgesim()
            .current_dir(setup.dir.path())
            .args(["run", "exp.toml", "--out"])
            .arg(&shard)
            .args(other)
            .assert()
            .failure();
        let stderr = String::from_utf8_lossy(&result.get_output().stderr);
        assert!(stderr.contains("it holds shard 2 of 3"), "{stderr}");
    }
    let result = edgesim().arg("report").arg(&shard).assert().failure();
    let stderr = String::from_utf8_lossy(&result.get_output().stderr);
    assert!(
        stderr.contains("holds shard 2/3") && stderr.contains("edgesim merge"),
        "{stderr}"
    );
    assert_eq!(files(&shard), before);
}
