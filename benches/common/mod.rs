//! The trace the benches replay: 20 M requests, Zipf(1.0) over 1 M objects,
//! generated once as an oracleGeneral file under target/ (or
//! $EDGESIM_BENCH_TRACE) and read from disk by every run.

use std::path::PathBuf;

use edgesim::engine::{mix64, stream};
use edgesim::workload::trace::{self, OutputFormat};
use edgesim::workload::{Request, annotate_next_access};
use rand_distr::{Distribution, Zipf};

pub const REQUESTS: usize = 20_000_000;
pub const OBJECTS: u64 = 1_000_000;
/// Every object's size.
pub const OBJECT_BYTES: u32 = 4096;

pub fn trace_path() -> PathBuf {
    std::env::var_os("EDGESIM_BENCH_TRACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/zipf1.0-20M-1M.oracleGeneral.bin")
        })
}

/// Writes the trace unless it exists: Zipf(1.0) ranks scrambled into ids,
/// 4 KiB objects, next-access positions filled in (for Belady).
pub fn ensure_trace() -> PathBuf {
    let path = trace_path();
    if path.exists() {
        return path;
    }
    eprintln!("generating {} ...", path.display());
    let zipf = Zipf::new(OBJECTS as f64, 1.0).unwrap();
    let mut rng = stream(42, "bench-keys");
    let mut reqs: Vec<Request> = (0..REQUESTS)
        .map(|i| Request {
            time: i as u64 / 1000 * edgesim::engine::SECOND,
            key: mix64(zipf.sample(&mut rng) as u64),
            size: OBJECT_BYTES,
            ..Default::default()
        })
        .collect();
    annotate_next_access(&mut reqs);
    trace::write(&path, &reqs, &[], OutputFormat::OracleGeneral).unwrap();
    path
}
