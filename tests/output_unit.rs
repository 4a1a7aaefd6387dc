//! A run's outputs are one unit: they replace the previous set whole or
//! not at all, two runs into one directory never mix, temporary names are
//! never followed through a planted symlink, no command overwrites its own
//! input, and a directory edgesim did not write is never replaced without
//! --force.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{edgesim, files_of, run_in, stray_temp_names};

/// A small cache-only experiment; `{seed}` is replaced.
const CACHE: &str = r#"
[experiment]
name = "unit-cache"
seed = {seed}
replications = 2

[workload]
requests = 20000
keys = 2000
popularity = { dist = "zipf", alpha = 0.9 }

[[cache]]
policy = ["lru", "fifo"]
capacity = ["5%", "20%"]
"#;

/// A small limiter experiment: it writes limiters.png, which a cache-only
/// run does not.
const LIMITER: &str = r#"
[experiment]
name = "unit-limiter"
seed = 3

[workload]
requests = 4000
keys = 400

[workload.clients]
legit = 50
legit_rate = "2/s"
abusive = 3
abusive_rate = "20/s"

[[limiter]]
algorithm = ["gcra", "token-bucket"]
rate = "5/s"
burst = 5
key = "client"
"#;

fn cache(seed: u64) -> String {
    CACHE.replace("{seed}", &seed.to_string())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A cache-only run into the directory of a limiter run leaves exactly the
/// cache run's files: the stale limiters.png is gone.
#[test]
fn a_run_replaces_the_previous_set_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), LIMITER, &[]);
    assert!(out.join("limiters.png").exists());
    run_in(dir.path(), &cache(1), &[]);
    let reference = tempfile::tempdir().unwrap();
    let expected = run_in(reference.path(), &cache(1), &[]);
    assert_eq!(files_of(&out), files_of(&expected));
    assert!(!out.join("limiters.png").exists());
    assert_eq!(stray_temp_names(dir.path()), Vec::<String>::new());
}

/// A write that fails halfway (files larger than RLIMIT_FSIZE allows, a
/// real EFBIG from the kernel) leaves the previous set whole, byte for
/// byte, and no temporary file or directory.
#[cfg(unix)]
#[test]
fn a_failed_write_keeps_the_previous_set_whole() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &cache(1), &[]);
    let before = files_of(&out);
    let largest = before.values().map(Vec::len).max().unwrap();
    let smallest = before.values().map(Vec::len).min().unwrap();
    assert!(
        smallest < 20_000 && largest > 20_000,
        "{smallest} {largest}"
    );
    fs::write(dir.path().join("exp.toml"), cache(2)).unwrap();
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("edgesim"));
    command
        .arg("run")
        .arg(dir.path().join("exp.toml"))
        .arg("--out")
        .arg(&out);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 20_000,
                rlim_max: 20_000,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            // Past the limit, a write fails with EFBIG instead of killing.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot write"),
        "{}",
        stderr(&output)
    );
    assert!(files_of(&out) == before, "the previous set was changed");
    assert_eq!(stray_temp_names(dir.path()), Vec::<String>::new());
}

/// Two runs of different seeds into one --out at the same time: both
/// succeed, and the directory ends as one of the two whole sets.
#[test]
fn concurrent_runs_into_one_directory_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let sets: Vec<BTreeMap<String, Vec<u8>>> = [1, 2]
        .iter()
        .map(|&seed| {
            let exp = dir.path().join(format!("{seed}.toml"));
            fs::write(&exp, cache(seed)).unwrap();
            // Beside `out`, so that the experiment's path echoed in
            // results.json is the same.
            let reference = dir.path().join(format!("reference{seed}"));
            edgesim()
                .arg("run")
                .arg(&exp)
                .arg("--out")
                .arg(&reference)
                .assert()
                .success();
            files_of(&reference)
        })
        .collect();
    let out = dir.path().join("out");
    for round in 0..4 {
        let children: Vec<_> = [1, 2]
            .iter()
            .map(|seed| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("edgesim"))
                    .arg("run")
                    .arg(dir.path().join(format!("{seed}.toml")))
                    .arg("--out")
                    .arg(&out)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                stderr(&output)
            );
        }
        let now = files_of(&out);
        assert!(
            now == sets[0] || now == sets[1],
            "round {round}: a mix of two runs: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        assert_eq!(stray_temp_names(dir.path()), Vec::<String>::new());
    }
}

/// The temporary directory of a run killed while writing is removed by a
/// later run once it is provably dead (unlocked and old); a fresh one,
/// which may belong to a live run, is left alone.
#[test]
fn a_dead_runs_temporary_directory_is_removed_later() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dir.path().join(".out.edgesim-dead01");
    let fresh = dir.path().join(".out.edgesim-fresh1");
    for d in [&dead, &fresh] {
        fs::create_dir(d).unwrap();
        fs::write(d.join("results.csv"), "half").unwrap();
    }
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::open(&dead)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let out = run_in(dir.path(), &cache(1), &[]);
    assert!(!dead.exists());
    assert!(fresh.exists());
    assert!(out.join("results.csv").exists());
}

/// A symlink planted at the temporary name an older edgesim used is not
/// followed: its target is untouched, and the link goes with the old set.
#[cfg(unix)]
#[test]
fn a_planted_symlink_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &cache(1), &[]);
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    for name in [".results.csv.tmp", ".report.md.tmp"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    run_in(dir.path(), &cache(2), &[]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!out.join(".results.csv.tmp").exists());
}

/// Runs `edgesim` with `args` and checks it fails saying `expected`,
/// leaving `input` as it was.
fn assert_refused(args: &[&std::ffi::OsStr], input: &Path, expected: &str) {
    let before = fs::read(input).unwrap();
    let output = edgesim().args(args).output().unwrap();
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    assert_eq!(
        fs::read(input).unwrap(),
        before,
        "{args:?} changed its input"
    );
}

/// No command writes over the file it reads, whatever path or symlink
/// names it.
#[cfg(unix)]
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let trace = d.join("t.csv");
    fs::write(
        &trace,
        "time,key,size,client\n1,a,10,x\n2,b,10,y\n3,a,10,x\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&trace, d.join("link.csv")).unwrap();
    let exp = d.join("exp.toml");
    fs::write(&exp, cache(1)).unwrap();
    let os = |p: &Path| p.as_os_str().to_owned();
    let (trace_os, link_os, exp_os) = (os(&trace), os(&d.join("link.csv")), os(&exp));
    let dotted = os(&d.join(".").join("t.csv"));
    for output in [&trace_os, &link_os, &dotted] {
        let args = [
            "trace".as_ref(),
            "convert".as_ref(),
            trace_os.as_os_str(),
            output,
        ];
        assert_refused(&args, &trace, "is (or holds) the input");
    }
    let args = [
        "limit".as_ref(),
        trace_os.as_os_str(),
        "--algorithm".as_ref(),
        "gcra".as_ref(),
        "--rate".as_ref(),
        "1/s".as_ref(),
        "--decisions".as_ref(),
        link_os.as_os_str(),
    ];
    assert_refused(&args, &trace, "is (or holds) the input");
    let exp_csv = d.join("exp.csv");
    fs::copy(&exp, &exp_csv).unwrap();
    let exp_csv_os = os(&exp_csv);
    let args = [
        "trace".as_ref(),
        "generate".as_ref(),
        exp_csv_os.as_os_str(),
        exp_csv_os.as_os_str(),
    ];
    assert_refused(&args, &exp_csv, "is (or holds) the input");
    // --out the directory holding the experiment, even with --force.
    let args = [
        "run".as_ref(),
        exp_os.as_os_str(),
        "--out".as_ref(),
        d.as_os_str(),
        "--force".as_ref(),
    ];
    assert_refused(&args, &exp, "is (or holds) the input");
    // --out the directory holding a trace the experiment reads.
    let traces = d.join("traces");
    fs::create_dir(&traces).unwrap();
    fs::copy(&trace, traces.join("t.csv")).unwrap();
    let traced = d.join("traced.toml");
    fs::write(
        &traced,
        "[workload]\nkind = \"trace\"\npath = \"traces/t.csv\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 1\n",
    )
    .unwrap();
    let (traced_os, traces_os) = (os(&traced), os(&traces));
    let args = [
        "run".as_ref(),
        traced_os.as_os_str(),
        "--out".as_ref(),
        traces_os.as_os_str(),
        "--force".as_ref(),
    ];
    assert_refused(&args, &traces.join("t.csv"), "is (or holds) the input");
}

/// A non-empty directory that edgesim did not write is refused, with
/// nothing touched, unless --force; one that holds an edgesim run plus a
/// file of the user's is refused too.
#[test]
fn a_directory_edgesim_did_not_write_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    fs::write(&exp, cache(1)).unwrap();
    let mine = dir.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let output = edgesim()
        .arg("run")
        .arg(&exp)
        .arg("--out")
        .arg(&mine)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("not an edgesim output directory"),
        "{message}"
    );
    assert!(message.contains("notes.txt"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_eq!(
        fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );

    let out = run_in(dir.path(), &cache(1), &[]);
    fs::write(out.join("notes.txt"), "keep me too").unwrap();
    let output = edgesim()
        .arg("run")
        .arg(&exp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(out.join("notes.txt").exists());

    edgesim()
        .arg("run")
        .arg(&exp)
        .arg("--out")
        .arg(&mine)
        .arg("--force")
        .assert()
        .success();
    assert!(!mine.join("notes.txt").exists());
    assert!(mine.join("results.csv").exists());
}

/// A run that fails (here: its trace does not exist) creates nothing, not
/// even the output directory or its parent.
#[test]
fn a_failed_run_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    fs::write(
        &exp,
        "[workload]\nkind = \"trace\"\npath = \"missing.csv\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 1\n",
    )
    .unwrap();
    let out: PathBuf = dir.path().join("outputs").join("x");
    let output = edgesim()
        .arg("run")
        .arg(&exp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("missing.csv"),
        "{}",
        stderr(&output)
    );
    let entries: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("exp.toml")]);
}
