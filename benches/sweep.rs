//! A 16-configuration sweep (4 policies x 4 sizes, objects counted) over
//! the 20 M request Zipf(1.0) trace, streamed as `edgesim cache` streams
//! it: decoded once, each batch replayed by all 16 caches in parallel. One
//! thread against two; the target is a speed-up of at least 1.8x.
//!
//! `cargo bench --bench sweep`; `EDGESIM_BENCH_ROUNDS` rounds (default 3),
//! each one thread then two, and the medians are printed. Every round
//! checks that the miss counts do not depend on the threads.

mod common;

use std::time::Instant;

use edgesim::cache::{self, Replay};
use edgesim::workload::trace::{self, Stream, TraceFormat, TraceOptions};

const POLICIES: [&str; 4] = ["lru", "s3fifo", "arc", "sieve"];
const SIZES: [u64; 4] = [10_000, 50_000, 100_000, 200_000];

/// Seconds for the whole sweep on `threads` threads, and every run's misses.
fn sweep(path: &std::path::Path, threads: usize) -> (f64, Vec<u64>) {
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let options = TraceOptions {
        format: Some(TraceFormat::OracleGeneral),
        ..TraceOptions::default()
    };
    let mut stream = Stream::open(trace::open(path, &options).unwrap(), false, false).unwrap();
    let mut runs: Vec<_> = POLICIES
        .iter()
        .flat_map(|p| SIZES.map(|size| (p.parse().unwrap(), size)))
        .map(|(spec, size)| {
            (
                cache::build(&spec, size, true, 42).unwrap(),
                Replay::new(true),
            )
        })
        .collect();
    stream
        .replay_each(&pool, &mut runs, |(cache, state), batch| {
            cache.replay_dyn(batch, state)
        })
        .unwrap();
    let misses = runs.iter().map(|(_, s)| s.stats.misses()).collect();
    (start.elapsed().as_secs_f64(), misses)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let path = common::ensure_trace();
    let rounds: usize = std::env::var("EDGESIM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (t1, misses1) = sweep(&path, 1);
        let (t2, misses2) = sweep(&path, 2);
        assert_eq!(misses1, misses2, "the threads changed a miss count");
        println!(
            "round {round}: 1 thread {t1:.2} s, 2 threads {t2:.2} s ({:.2}x)",
            t1 / t2
        );
        one.push(t1);
        two.push(t2);
    }
    let (t1, t2) = (median(one), median(two));
    let requests = (common::REQUESTS * POLICIES.len() * SIZES.len()) as f64;
    println!(
        "{} configurations x {} M requests, decoded once: 1 thread {t1:.2} s ({:.1} M requests/s), 2 threads {t2:.2} s ({:.1} M/s), speed-up {:.2}x (target 1.8x)",
        POLICIES.len() * SIZES.len(),
        common::REQUESTS / 1_000_000,
        requests / t1 / 1e6,
        requests / t2 / 1e6,
        t1 / t2
    );
}
