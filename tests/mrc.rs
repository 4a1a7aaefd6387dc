//! `edgesim mrc`: the one-pass LRU curve equals LRU simulated at each size
//! (objects and bytes, random traces and the reference trace), SHARDS at
//! 1% stays within 0.01 of it on a Zipf trace, and the command's JSON
//! agrees with `edgesim cache`.

mod common;

use edgesim::cache::mrc::{self, Curve, Method, Sampling};
use edgesim::cache::{self, Replay};
use edgesim::engine::stream;
use edgesim::workload::trace::{self, oracle_general};
use edgesim::workload::{Request, WorkingSet};
use rand::RngExt;
use rand_distr::{Distribution, Zipf};

/// (misses, byte misses) of the registry's LRU at `size`.
fn simulated(trace: &[Request], size: u64, count_objects: bool) -> (u64, u64) {
    let mut lru = cache::build(&"lru".parse().unwrap(), size, count_objects, 0).unwrap();
    let mut state = Replay::new(count_objects);
    lru.replay_dyn(trace, &mut state);
    (state.stats.misses(), state.stats.byte_misses())
}

/// Checks the exact curve against simulation at every size of `grid`;
/// returns it.
fn assert_exact(trace: &[Request], grid: &[u64], count_objects: bool, what: &str) -> Curve {
    let curve = mrc::curve(trace, grid, count_objects, Sampling::All).unwrap();
    assert_eq!(curve.points.len(), grid.len());
    for p in &curve.points {
        assert_eq!(
            (p.misses, p.byte_misses),
            simulated(trace, p.size, count_objects),
            "{what}: size {} ({:?})",
            p.size,
            p.method
        );
    }
    curve
}

/// `n` requests over `keys` keys (skewed), each key with one size from
/// 1..=max_size, and every 50th key `huge` bytes.
fn random_trace(seed: u64, n: usize, keys: u64, max_size: u32, huge: u32) -> Vec<Request> {
    let mut rng = stream(seed, "mrc test");
    let zipf = Zipf::new(keys as f64, 0.8).unwrap();
    let sizes: Vec<u32> = (0..keys)
        .map(|k| {
            if k % 50 == 7 {
                huge
            } else {
                rng.random_range(1..=max_size)
            }
        })
        .collect();
    (0..n)
        .map(|_| {
            let key = zipf.sample(&mut rng) as u64 - 1;
            Request {
                key,
                size: sizes[key as usize],
                ..Default::default()
            }
        })
        .collect()
}

/// Sizes around the ones that matter: every small count, then a log grid.
fn grid(top: u64) -> Vec<u64> {
    let mut grid: Vec<u64> = (1..=20).chain(mrc::log_grid(1, top, 60)).collect();
    grid.sort_unstable();
    grid.dedup();
    grid
}

#[test]
fn one_pass_equals_lru_in_objects_on_random_traces() {
    for seed in 0..6 {
        let keys = [30, 200, 1000, 5000, 300, 50][seed as usize];
        let trace = random_trace(seed, 20_000, keys, 4096, 1 << 20);
        let ws = WorkingSet::of(&trace);
        let curve = assert_exact(&trace, &grid(ws.objects + 5), true, "objects");
        assert!(curve.points.iter().all(|p| p.method == Method::Stack));
    }
}

#[test]
fn one_pass_equals_lru_in_bytes_on_random_traces() {
    for seed in 0..6 {
        let keys = [30, 200, 1000, 5000, 300, 50][seed as usize];
        let max_size = [1, 100, 4096, 64, 100_000, 10][seed as usize];
        // Objects larger than some grid sizes, so those fall back.
        let huge = max_size * 37;
        let trace = random_trace(seed, 20_000, keys, max_size, huge);
        let ws = WorkingSet::of(&trace);
        let curve = assert_exact(&trace, &grid(ws.bytes + 5), false, "bytes");
        // One pass answers at every size from the largest object up.
        for p in &curve.points {
            let stack = p.size >= huge as u64;
            assert_eq!(
                p.method == Method::Stack,
                stack,
                "seed {seed} size {}",
                p.size
            );
        }
    }
}

#[test]
fn keys_that_change_size_are_simulated_and_still_exact() {
    let mut trace = random_trace(9, 10_000, 300, 500, 2000);
    for (i, r) in trace.iter_mut().enumerate() {
        if i % 7 == 0 {
            r.size += 1;
        }
    }
    let ws = WorkingSet::of(&trace);
    let curve = assert_exact(&trace, &grid(ws.bytes), false, "changing sizes");
    assert!(curve.exactness.size_changes);
    assert!(curve.points.iter().all(|p| p.method == Method::Simulated));
}

fn reference() -> Option<Vec<Request>> {
    let path = common::reference_file("cloudPhysicsIO.oracleGeneral.bin")?;
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(oracle_general::decode_all(&bytes).unwrap())
}

#[test]
fn one_pass_equals_lru_on_the_reference_trace() {
    let Some(trace) = reference() else { return };
    let ws = WorkingSet::of(&trace);
    assert_exact(&trace, &mrc::log_grid(1, ws.objects, 40), true, "objects");
    let curve = assert_exact(&trace, &mrc::log_grid(1, ws.bytes, 40), false, "bytes");
    let stack = curve
        .points
        .iter()
        .filter(|p| p.method == Method::Stack)
        .count();
    println!(
        "reference trace in bytes: {stack} of {} sizes from one pass, the rest simulated ({})",
        curve.points.len(),
        curve.exactness
    );
    assert!(stack > 0);
}

/// The mean absolute difference of two curves' miss ratios.
fn mean_absolute_error(a: &Curve, b: &Curve) -> f64 {
    let sum: f64 = a
        .points
        .iter()
        .zip(&b.points)
        .map(|(x, y)| (x.miss_ratio - y.miss_ratio).abs())
        .sum();
    sum / a.points.len() as f64
}

fn zipf_trace(n: usize, keys: u64) -> Vec<Request> {
    let mut rng = stream(42, "mrc zipf");
    let zipf = Zipf::new(keys as f64, 1.0).unwrap();
    (0..n)
        .map(|_| Request {
            key: zipf.sample(&mut rng) as u64,
            size: 4096,
            ..Default::default()
        })
        .collect()
}

#[test]
fn shards_at_one_percent_is_within_a_hundredth_of_exact() {
    let trace = zipf_trace(1_000_000, 100_000);
    let grid = mrc::default_grid(WorkingSet::of(&trace), true, Sampling::Rate(0.01));
    let exact = mrc::curve(&trace, &grid, true, Sampling::All).unwrap();
    let rate = mrc::curve(&trace, &grid, true, Sampling::Rate(0.01)).unwrap();
    let size = mrc::curve(&trace, &grid, true, Sampling::Keys(2000)).unwrap();
    let (rate_error, size_error) = (
        mean_absolute_error(&rate, &exact),
        mean_absolute_error(&size, &exact),
    );
    println!("SHARDS mean absolute error: 1% {rate_error:.5}, 2000 keys {size_error:.5}");
    assert!(rate_error < 0.01, "{rate_error}");
    assert!(size_error < 0.01, "{size_error}");
    assert!(rate.points.iter().all(|p| p.method == Method::Sampled));
    assert!(rate.sampled < 30_000, "{}", rate.sampled);
}

#[test]
fn the_command_agrees_with_edgesim_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let trace = random_trace(3, 5000, 400, 1000, 4000);
    let mut text = String::from("key,size\n");
    for r in &trace {
        text += &format!("{},{}\n", r.key, r.size);
    }
    std::fs::write(&path, text).unwrap();
    let sizes = "1KiB,10KiB,100KiB,1MiB";
    let run = |args: &[&str]| -> serde_json::Value {
        let out = common::edgesim().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let csv = dir.path().join("mrc.csv");
    let chart = dir.path().join("mrc.svg");
    let p = path.to_str().unwrap();
    let curve = run(&[
        "mrc",
        p,
        "--size",
        sizes,
        "--json",
        "--csv",
        csv.to_str().unwrap(),
        "--chart",
        chart.to_str().unwrap(),
    ]);
    let lru = run(&["cache", p, "--policy", "lru", "--size", sizes, "--json"]);
    let misses = |v: &serde_json::Value| -> Vec<(u64, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["misses"].as_u64().unwrap(),
                    r["byte_misses"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(misses(&curve), misses(&lru));
    // 1 KiB is below the largest object: simulated, in a second pass.
    assert_eq!(curve[0]["method"], "simulated");
    assert_eq!(curve[0]["size"], 1024);
    // A pipe cannot be read twice: it is spilled, and gives the same curve.
    let out = common::edgesim()
        .args([
            "mrc",
            "/dev/stdin",
            "--format",
            "csv",
            "--size",
            sizes,
            "--json",
        ])
        .pipe_stdin(&path)
        .unwrap()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let piped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(piped, curve);
    // Shares of the working set (spilled to count it first).
    let shares = ["--size", "0.1%,1%,30%", "--json"];
    let by_share = run(&[&["mrc", p][..], &shares].concat());
    let lru = run(&[&["cache", p, "--policy", "lru"][..], &shares].concat());
    assert_eq!(misses(&by_share), misses(&lru));
    assert_eq!(by_share[0]["method"], "simulated");
    assert!(curve[0]["miss_ratio"].is_f64() && curve[0]["byte_miss_ratio"].is_f64());
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(
        csv.starts_with(
            "size,unit,requests,misses,miss_ratio,byte_misses,byte_miss_ratio,method\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);
    assert!(std::fs::read_to_string(chart).unwrap().starts_with("<svg"));
    // The default grid: up to the working set, 100 sizes at most.
    let default = run(&["mrc", p, "--ignore-size", "--json", "--sample", "50%"]);
    let rows = default.as_array().unwrap();
    assert!(rows.len() > 10 && rows.len() <= 101, "{}", rows.len());
    assert_eq!(rows.last().unwrap()["unit"], "objects");
    assert_eq!(rows.last().unwrap()["method"], "sampled");
}

#[test]
fn mixed_units_and_bad_rates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "key,size\n1,10\n2,10\n").unwrap();
    let p = path.to_str().unwrap();
    let err = |args: &[&str]| {
        let out = common::edgesim().args(args).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(err(&["mrc", p, "--size", "10,1KiB"]).contains("one unit"));
    assert!(err(&["mrc", p, "--sample", "2"]).contains("at most 1"));
    assert!(err(&["mrc", p, "--chart", "x.jpg"]).contains(".png or .svg"));
}

/// `edgesim cache --policy P --size S --ignore-size --json [--sample R]`:
/// the miss ratio of each (policy, size).
fn cache_miss_ratios(trace: &std::path::Path, sample: Option<&str>) -> Vec<f64> {
    let mut args = vec![
        "cache",
        trace.to_str().unwrap(),
        "--policy",
        "lru,arc,s3fifo,lfu",
        "--size",
        "2000,20000",
        "--ignore-size",
        "--json",
    ];
    args.extend(sample.map(|r| ["--sample", r]).into_iter().flatten());
    let out = common::edgesim().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    rows.iter()
        .map(|r| r["miss_ratio"].as_f64().unwrap())
        .collect()
}

#[test]
fn miniature_simulations_of_any_policy_come_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    let trace = random_trace(11, 1_000_000, 200_000, 100, 100);
    trace::write(&path, &trace, &[], trace::OutputFormat::OracleGeneral).unwrap();
    let exact = cache_miss_ratios(&path, None);
    // The whole sample is the whole trace.
    assert_eq!(cache_miss_ratios(&path, Some("100%")), exact);
    let estimate = cache_miss_ratios(&path, Some("10%"));
    let errors: Vec<f64> = exact
        .iter()
        .zip(&estimate)
        .map(|(a, b)| (a - b).abs())
        .collect();
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean < 0.01, "{errors:?}");
}
