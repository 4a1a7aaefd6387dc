//! A miss-ratio curve two ways, on one in-memory 10 M request Zipf(1.0)
//! trace over 1 M objects (objects counted): `cache::mrc` at 100 sizes from
//! one pass (exact, and SHARDS at 1%), against 100 separate LRU
//! simulations of the registry's `lru` at the same sizes, run in parallel
//! as `edgesim cache --policy lru --size LIST` runs them. Checks that the
//! exact curve and the simulations agree, and prints the SHARDS error.
//!
//! `cargo bench --bench mrc [-- REQUESTS]` (default 10,000,000).

use std::time::Instant;

use edgesim::cache::mrc::{self, Sampling};
use edgesim::cache::{self, Replay};
use edgesim::engine::{mix64, stream};
use edgesim::workload::{Request, WorkingSet};
use rand_distr::{Distribution, Zipf};
use rayon::prelude::*;

const OBJECTS: u64 = 1_000_000;

fn main() {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let zipf = Zipf::new(OBJECTS as f64, 1.0).unwrap();
    let mut rng = stream(42, "bench-keys");
    let trace: Vec<Request> = (0..requests)
        .map(|_| Request {
            key: mix64(zipf.sample(&mut rng) as u64),
            size: 4096,
            ..Default::default()
        })
        .collect();
    let grid = mrc::default_grid(WorkingSet::of(&trace), true, Sampling::Rate(0.01));
    println!(
        "{requests} requests, {} sizes from {} to {} objects, {} threads",
        grid.len(),
        grid[0],
        grid[grid.len() - 1],
        rayon::current_num_threads()
    );

    let start = Instant::now();
    let exact = mrc::curve(&trace, &grid, true, Sampling::All).unwrap();
    let one_pass = start.elapsed().as_secs_f64();
    println!("mrc, exact, one pass:        {one_pass:7.2} s");

    let start = Instant::now();
    let sampled = mrc::curve(&trace, &grid, true, Sampling::Rate(0.01)).unwrap();
    let shards = start.elapsed().as_secs_f64();
    let error: f64 = exact
        .points
        .iter()
        .zip(&sampled.points)
        .map(|(a, b)| (a.miss_ratio - b.miss_ratio).abs())
        .sum::<f64>()
        / grid.len() as f64;
    println!("mrc, SHARDS 1%:              {shards:7.2} s  (mean absolute error {error:.4})");

    let start = Instant::now();
    let lru = "lru".parse().unwrap();
    let misses: Vec<u64> = grid
        .par_iter()
        .map(|&size| {
            let mut cache = cache::build(&lru, size, true, 0).unwrap();
            let mut state = Replay::new(true);
            cache.replay_dyn(&trace, &mut state);
            state.stats.misses()
        })
        .collect();
    let simulations = start.elapsed().as_secs_f64();
    println!(
        "{} LRU simulations:          {simulations:7.2} s  ({:.1}x the one pass, {:.1}x SHARDS)",
        grid.len(),
        simulations / one_pass,
        simulations / shards
    );
    let exact_misses: Vec<u64> = exact.points.iter().map(|p| p.misses).collect();
    assert_eq!(exact_misses, misses, "the one-pass curve differs from LRU");
}
