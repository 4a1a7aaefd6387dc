//! Replay throughput of every policy on a 20 M request Zipf(1.0) trace over
//! 1 M objects at a 100,000-object cache (objects counted), single thread,
//! beside a bare LRU loop (the speed of light) for comparison.
//!
//! `cargo bench --bench policies [-- POLICY...]`. The trace is generated
//! once as an oracleGeneral file under target/ (or $EDGESIM_BENCH_TRACE)
//! and every run reads it from disk through the product's reader: reading
//! and decoding are timed, as in `edgesim cache`. With `EDGESIM_BENCH_BYTES` set, the capacity is counted
//! in bytes (the same 100,000 objects of 4 KiB, so the same misses), and
//! the policies' indexes grow from their small byte-mode start.

mod common;

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use edgesim::cache::{self, POLICIES, Replay};
use edgesim::io::read_full;
use edgesim::workload::trace::oracle_general::RECORD_BYTES;
use edgesim::workload::trace::{self, TraceFormat, TraceOptions};

use common::OBJECT_BYTES;

const CAPACITY: u64 = 100_000;
/// Records the bare loop reads at a time.
const BATCH: usize = 1 << 16;

/// The product path: a registry-built policy replaying decoded batches.
fn product(path: &Path, policy: &str, count_objects: bool) -> (f64, f64, f64) {
    let start = Instant::now();
    let capacity = if count_objects {
        CAPACITY
    } else {
        CAPACITY * OBJECT_BYTES as u64
    };
    let mut cache = cache::build(&policy.parse().unwrap(), capacity, count_objects, 42).unwrap();
    let mut state = Replay::new(count_objects);
    // Named by $EDGESIM_BENCH_TRACE, the file may have any extension.
    let options = TraceOptions {
        format: Some(TraceFormat::OracleGeneral),
        ..TraceOptions::default()
    };
    let mut reader = trace::open(path, &options).unwrap();
    let mut batch = Vec::with_capacity(trace::BATCH);
    while reader.next_batch(&mut batch).unwrap() {
        cache.replay_dyn(&batch, &mut state);
    }
    let secs = start.elapsed().as_secs_f64();
    let per_object = cache.heap_bytes() as f64 / cache.len().max(1) as f64;
    (
        state.stats.requests as f64 / secs,
        state.stats.miss_ratio(),
        per_object,
    )
}

/// The speed of light: a minimal LRU over the raw records, index-linked
/// nodes and a fast hash map, nothing else.
fn bare_lru(path: &Path) -> (f64, f64) {
    #[derive(Clone, Copy)]
    struct Node {
        key: u64,
        prev: u32,
        next: u32,
    }
    const NIL: u32 = u32::MAX;
    let start = Instant::now();
    let mut map: hashbrown::HashMap<u64, u32, foldhash::fast::FixedState> =
        hashbrown::HashMap::with_capacity_and_hasher(CAPACITY as usize, Default::default());
    let mut nodes: Vec<Node> = Vec::with_capacity(CAPACITY as usize);
    let (mut head, mut tail) = (NIL, NIL);
    let (mut requests, mut misses) = (0u64, 0u64);
    let mut file = File::open(path).unwrap();
    let mut bytes = vec![0u8; BATCH * RECORD_BYTES];
    loop {
        // The raw records, without the product's reader.
        let n = read_full(&mut file, &mut bytes).unwrap();
        if n == 0 {
            break;
        }
        for rec in bytes[..n].chunks_exact(RECORD_BYTES) {
            let key = u64::from_le_bytes(rec[4..12].try_into().unwrap());
            requests += 1;
            let slot = match map.get(&key) {
                Some(&s) => {
                    if s == head {
                        continue;
                    }
                    let Node { prev, next, .. } = nodes[s as usize];
                    nodes[prev as usize].next = next;
                    if next != NIL {
                        nodes[next as usize].prev = prev;
                    } else {
                        tail = prev;
                    }
                    s
                }
                None => {
                    misses += 1;
                    let s = if nodes.len() < CAPACITY as usize {
                        nodes.push(Node {
                            key,
                            prev: NIL,
                            next: NIL,
                        });
                        (nodes.len() - 1) as u32
                    } else {
                        let s = tail;
                        tail = nodes[s as usize].prev;
                        nodes[tail as usize].next = NIL;
                        map.remove(&nodes[s as usize].key);
                        nodes[s as usize].key = key;
                        s
                    };
                    map.insert(key, s);
                    s
                }
            };
            nodes[slot as usize].prev = NIL;
            nodes[slot as usize].next = head;
            if head != NIL {
                nodes[head as usize].prev = slot;
            }
            head = slot;
            if tail == NIL {
                tail = slot;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    (requests as f64 / secs, misses as f64 / requests as f64)
}

/// libCacheSim's requests/s on this workload: 20 M requests over its
/// `cachesim` whole-process median time, built as its README recommends
/// (Release, tcmalloc, transparent huge pages on madvise), on this project's
/// 2-core VM (AMD EPYC), 2026-12-02 (docs/policies.md, "Side by side with
/// libCacheSim").
fn libcachesim(policy: &str) -> Option<f64> {
    Some(match policy {
        "lru" => 8.62e6,
        "fifo" => 9.90e6,
        "sieve" => 12.35e6,
        "arc" => 7.35e6,
        "s3fifo" => 4.21e6,
        "clock" => 9.66e6,
        "slru" => 9.26e6,
        "2q" => 4.77e6,
        "lirs" => 3.21e6,
        "wtinylfu" => 3.82e6,
        "lfu" => 5.08e6,
        "lfuda" => 3.27e6,
        "gdsf" => 2.06e6,
        "hyperbolic" => 2.62e6,
        "random" => 12.99e6,
        "belady" => 5.41e6,
        _ => return None,
    })
}

/// One round for a policy: the bare loop, then the policy.
struct Round {
    rate: f64,
    miss: f64,
    per_object: f64,
    /// The bare loop's requests/s in the same round.
    bare: f64,
}

fn median(runs: &mut [Round], figure: fn(&Round) -> f64) -> f64 {
    runs.sort_by(|a, b| figure(a).total_cmp(&figure(b)));
    figure(&runs[runs.len() / 2])
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let policies: Vec<&str> = if args.is_empty() {
        POLICIES.iter().map(|p| p.name).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let path = common::ensure_trace();
    let rounds: usize = std::env::var("EDGESIM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let count_objects = std::env::var_os("EDGESIM_BENCH_BYTES").is_none();
    if !count_objects {
        println!("capacity in bytes (EDGESIM_BENCH_BYTES): {CAPACITY} objects of {OBJECT_BYTES} B");
    }
    println!(
        "median of {rounds} rounds (EDGESIM_BENCH_ROUNDS), each running the bare loop and the \
         policy back to back; x bare is the median of the per-round ratios, which stays \
         steady on a noisy host where rates swing by 30%"
    );
    println!(
        "x libCS: against libCacheSim's cachesim measured side by side on this VM (docs/policies.md); \
         on a busy machine x bare is the fairer figure"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>9} {:>9} {:>10}",
        "policy", "Mreq/s", "miss", "B/object", "x bare", "x libCS", "bare Mr/s"
    );
    for policy in policies {
        let mut runs: Vec<Round> = (0..rounds)
            .map(|_| {
                let (bare, bare_miss) = bare_lru(&path);
                let (rate, miss, per_object) = product(&path, policy, count_objects);
                if policy == "lru" {
                    assert_eq!(miss, bare_miss, "the bare loop must do LRU's work");
                }
                Round {
                    rate,
                    miss,
                    per_object,
                    bare,
                }
            })
            .collect();
        let ratio = median(&mut runs, |r| r.rate / r.bare);
        let bare = median(&mut runs, |r| r.bare);
        let rate = median(&mut runs, |r| r.rate);
        let (miss, per_object) = (runs[0].miss, runs[0].per_object);
        let vs_lib = libcachesim(policy).map_or("-".to_string(), |l| format!("{:.2}", rate / l));
        println!(
            "{:<12} {:>10.2} {:>10.4} {:>10.1} {:>9.2} {:>9} {:>10.2}",
            policy,
            rate / 1e6,
            miss,
            per_object,
            ratio,
            vs_lib,
            bare / 1e6
        );
    }
}
