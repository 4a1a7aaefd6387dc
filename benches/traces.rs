//! Trace decoding throughput: records per second for oracleGeneral (plain
//! and zstd), CSV and access logs, each read through the product's reader
//! (`trace::open` + `next_batch`) from a generated file in the page cache.
//!
//!     cargo bench --bench traces [-- SCALE]
//!
//! SCALE (default 1) multiplies the file sizes: 20 M oracleGeneral records,
//! 10 M CSV lines, 4 M log lines at 1.
//! Targets (docs/traces.md): oracleGeneral >= 100 M/s, zstd oracleGeneral
//! >= 50 M/s, CSV >= 10 M lines/s, access logs >= 2 M lines/s.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use edgesim::workload::Request;
use edgesim::workload::synthetic::{self, SyntheticSpec};
use edgesim::workload::trace::{self, OutputFormat, TraceOptions};

/// Timed passes per file; the median is reported.
const PASSES: usize = 3;

/// A Zipf(1.0) workload over 1 M objects with lognormal sizes.
fn workload(requests: u64) -> Vec<Request> {
    let spec: SyntheticSpec = toml::from_str(&format!(
        "requests = {requests}\nkeys = 1_000_000\nsize = {{ dist = \"lognormal\", median = \"8KiB\", sigma = 1.0 }}\nrate = \"10000/s\""
    ))
    .expect("valid workload");
    synthetic::generate(&spec, 42, None, None).expect("workload generates")
}

/// Access-log lines for `requests`, 256 client addresses.
fn access_log(requests: &[Request]) -> Vec<u8> {
    let mut out = Vec::with_capacity(requests.len() * 110);
    for (i, r) in requests.iter().enumerate() {
        let secs = r.time / 1_000_000_000;
        writeln!(
            out,
            "10.0.{}.{} - - [10/Oct/2000:{:02}:{:02}:{:02} +0000] \"GET /objects/{}.jpg?v=1 HTTP/1.1\" 200 {} \"-\" \"bench/1.0\"",
            i % 7,
            i % 256,
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60,
            r.key,
            r.size
        )
        .expect("write to Vec");
    }
    out
}

/// CPU seconds (user + system) this process has used, from /proc (Linux);
/// None elsewhere. On a machine shared with other jobs, records per CPU
/// second shows the decoder's speed when wall-clock time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Reads `path` `PASSES` times after a warm-up read; prints the median
/// wall-clock rate and the rate per CPU second over all passes.
fn measure(label: &str, path: &Path, opts: &TraceOptions) {
    std::fs::read(path).expect("warm the page cache");
    let bytes = std::fs::metadata(path).expect("file exists").len();
    let mut rates = Vec::new();
    let mut records = 0;
    let cpu_before = cpu_seconds();
    for _ in 0..PASSES {
        let started = Instant::now();
        let mut reader = trace::open(path, opts).expect("trace opens");
        let mut batch = Vec::with_capacity(trace::BATCH);
        let (mut n, mut checksum) = (0u64, 0u64);
        while reader.next_batch(&mut batch).expect("trace decodes") {
            n += batch.len() as u64;
            checksum = batch.iter().fold(checksum, |c, r| c ^ r.key);
        }
        black_box(checksum);
        rates.push(n as f64 / started.elapsed().as_secs_f64());
        records = n;
    }
    let per_cpu = match (cpu_before, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => {
            format!("{:.2}", (records * PASSES as u64) as f64 / (b - a) / 1e6)
        }
        _ => "-".into(),
    };
    rates.sort_by(f64::total_cmp);
    println!(
        "{label:<24} {records:>10} records {:>7.1} MB  {:>7.2} M records/s wall (median of {PASSES}; min {:.2}, max {:.2})  {per_cpu} M records/CPU-s",
        bytes as f64 / 1e6,
        rates[PASSES / 2] / 1e6,
        rates[0] / 1e6,
        rates[PASSES - 1] / 1e6,
    );
}

fn main() {
    let scale: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1.0);
    let n = |count: f64| (count * scale).max(1.0) as usize;
    let dir = tempfile::tempdir().expect("temporary directory");
    let requests = workload(n(20e6) as u64);
    let opts = TraceOptions::default();

    let og = dir.path().join("bench.oracleGeneral.bin");
    trace::write(&og, &requests, &[], OutputFormat::OracleGeneral).expect("write oracleGeneral");
    measure("oracleGeneral", &og, &opts);

    // Written by edgesim's writer: independent frames, decoded in parallel.
    let zst = dir.path().join("bench.oracleGeneral.zst");
    trace::write(&zst, &requests, &[], OutputFormat::OracleGeneral).expect("write zstd");
    measure("oracleGeneral.zst", &zst, &opts);

    let lines = &requests[..n(10e6)];
    let csv = dir.path().join("bench.csv");
    trace::write(&csv, lines, &[], OutputFormat::Csv).expect("write CSV");
    measure("csv (edgesim columns)", &csv, &opts);

    let log = dir.path().join("bench.log");
    std::fs::write(&log, access_log(&requests[..n(4e6)])).expect("write log");
    measure("combined access log", &log, &opts);
}
