//! Streamed replay (`trace::Stream`, what `edgesim cache` runs) counts
//! exactly what replaying the whole trace from memory counts: straight from
//! the decoder, through the spill that sizes relative to the working set
//! and Belady on a format without next accesses need, and through a first
//! counting pass over an oracleGeneral file read again; with 1 thread or
//! 3. The traces are longer than one chunk of the spill's backward pass.

use std::path::Path;

use edgesim::cache::{self, CapacitySpec, PolicySpec, Replay};
use edgesim::engine::stream;
use edgesim::metrics::CacheStats;
use edgesim::workload::trace::{self, OutputFormat, Stream, TraceOptions};
use edgesim::workload::{Request, WorkingSet};
use rand_distr::{Distribution, Zipf};

const POLICIES: [&str; 5] = ["lru", "belady", "s3fifo", "arc", "lfu"];

/// `n` requests over 20,000 keys, skewed, with sizes up to 10 kB, a TTL on
/// every seventh key and five clients.
fn random_trace(seed: u64, n: usize) -> Vec<Request> {
    let mut rng = stream(seed, "stream test");
    let zipf = Zipf::new(20_000.0, 0.9).unwrap();
    (0..n as u64)
        .map(|i| {
            let key = zipf.sample(&mut rng) as u64;
            Request {
                time: i * 1_000_000,
                key,
                size: (key * 7919 % 10_000) as u32 + 1,
                ttl_ms: if key.is_multiple_of(7) { 5_000 } else { 0 },
                client: (key % 5) as u32,
                ..Default::default()
            }
        })
        .collect()
}

/// The counts of every (policy, size), each run built for `working_set`.
type Counts = Vec<(CacheStats, u64, u64)>;

fn runs(
    policies: &[&str],
    sizes: &[&str],
    working_set: WorkingSet,
) -> Vec<(cache::BoxedCache, Replay)> {
    let mut runs = Vec::new();
    for policy in policies {
        let spec: PolicySpec = policy.parse().unwrap();
        for size in sizes {
            let size: CapacitySpec = size.parse().unwrap();
            let (capacity, count_objects) = size.resolve(working_set, false).unwrap();
            let cache = cache::build(&spec, capacity, count_objects, 1).unwrap();
            runs.push((cache, Replay::new(count_objects)));
        }
    }
    runs
}

fn counts(runs: Vec<(cache::BoxedCache, Replay)>) -> Counts {
    runs.into_iter()
        .map(|(_, s)| (s.stats, s.inserted, s.removed))
        .collect()
}

/// Each run over the whole trace read into memory, one after another.
fn in_memory(path: &Path, policies: &[&str], sizes: &[&str]) -> (Counts, WorkingSet) {
    let trace = trace::read(path, &TraceOptions::default()).unwrap();
    let working_set = WorkingSet::of(&trace.requests);
    let mut runs = runs(policies, sizes, working_set);
    for (cache, state) in &mut runs {
        cache.replay_dyn(&trace.requests, state);
    }
    (counts(runs), working_set)
}

/// Every run over one stream, on `threads` threads.
fn streamed(
    path: &Path,
    policies: &[&str],
    sizes: &[&str],
    spill: bool,
    threads: usize,
) -> (Counts, WorkingSet) {
    let reader = trace::open(path, &TraceOptions::default()).unwrap();
    let next_access = policies.contains(&"belady");
    let mut stream = Stream::open(reader, spill, next_access).unwrap();
    let mut runs = runs(policies, sizes, stream.working_set());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    stream
        .replay_each(&pool, &mut runs, |(cache, state), batch| {
            cache.replay_dyn(batch, state)
        })
        .unwrap();
    (counts(runs), stream.working_set())
}

#[test]
fn the_spill_gives_the_in_memory_counts_on_a_trace_without_next_accesses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let requests = random_trace(1, 150_000);
    trace::write(&path, &requests, &[], OutputFormat::Csv).unwrap();
    let sizes = ["10%", "500", "2MiB"];
    let (expected, working_set) = in_memory(&path, &POLICIES, &sizes);
    assert_eq!(working_set, WorkingSet::of(&requests));
    for threads in [1, 3] {
        let (got, streamed_set) = streamed(&path, &POLICIES, &sizes, true, threads);
        assert_eq!(streamed_set, working_set);
        assert_eq!(got, expected, "{threads} thread(s)");
    }
    // The spill hands out the very requests, next accesses included.
    let mut stream = Stream::open(
        trace::open(&path, &TraceOptions::default()).unwrap(),
        true,
        true,
    )
    .unwrap();
    let (mut all, mut batch) = (Vec::new(), Vec::new());
    while stream.next_batch(&mut batch).unwrap() {
        all.extend_from_slice(&batch);
    }
    assert_eq!(
        all,
        trace::read(&path, &TraceOptions::default())
            .unwrap()
            .requests
    );
    // Belady really read next accesses: it beats LRU at every size.
    for (lru, belady) in expected[..3].iter().zip(&expected[3..6]) {
        assert!(belady.0.misses() < lru.0.misses(), "{lru:?} {belady:?}");
    }
}

#[test]
fn straight_from_the_decoder_gives_the_in_memory_counts() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["t.bin", "t.csv.zst"] {
        let path = dir.path().join(name);
        let format = if name == "t.bin" {
            OutputFormat::OracleGeneral
        } else {
            OutputFormat::Csv
        };
        trace::write(&path, &random_trace(2, 100_000), &[], format).unwrap();
        // oracleGeneral carries next accesses, so Belady needs no spill.
        let policies: &[&str] = if name == "t.bin" {
            &POLICIES
        } else {
            &POLICIES[2..]
        };
        let sizes = ["300", "5000", "4MiB"];
        let (expected, _) = in_memory(&path, policies, &sizes);
        for threads in [1, 3] {
            let (got, _) = streamed(&path, policies, &sizes, false, threads);
            assert_eq!(got, expected, "{name}, {threads} thread(s)");
        }
    }
}

/// An oracleGeneral file is counted by a first pass and read again rather
/// than spilled: the same counts, working set, request count and times.
#[test]
fn an_oracle_general_file_counted_then_read_again_gives_the_in_memory_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.bin");
    trace::write(
        &path,
        &random_trace(3, 100_000),
        &[],
        OutputFormat::OracleGeneral,
    )
    .unwrap();
    let sizes = ["10%", "500"];
    let (expected, working_set) = in_memory(&path, &POLICIES, &sizes);
    for threads in [1, 3] {
        let (got, counted) = streamed(&path, &POLICIES, &sizes, true, threads);
        assert_eq!(counted, working_set);
        assert_eq!(got, expected, "{threads} thread(s)");
    }
    let stream = Stream::open(
        trace::open(&path, &TraceOptions::default()).unwrap(),
        true,
        false,
    )
    .unwrap();
    let times = trace::read(&path, &TraceOptions::default())
        .unwrap()
        .requests;
    let times = times.iter().map(|r| r.time);
    let range = (times.clone().min().unwrap(), times.max().unwrap());
    assert!(range.0 < range.1);
    assert_eq!(
        (stream.requests(), stream.times()),
        (Some(100_000), Some(range))
    );
}

/// One run replays on a thread of its own while the stream decodes ahead
/// (`Stream::replay_one`): the same counts, through the spill or straight
/// from the decoder, with a filter that leaves most batches empty, and an
/// error part-way through returned rather than hanging.
#[test]
fn a_single_run_replayed_beside_the_decoder_gives_the_in_memory_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut requests = random_trace(3, 100_000);
    trace::write(&path, &requests, &[], OutputFormat::Csv).unwrap();
    for (policy, size, spill) in [("lru", "5000", false), ("belady", "10%", true)] {
        let (expected, _) = in_memory(&path, &[policy], &[size]);
        let (got, _) = streamed(&path, &[policy], &[size], spill, 1);
        assert_eq!(got, expected, "{policy} at {size}");
    }

    // 1,000 requests in every 40,000: most 8,192-request batches keep none.
    let kept = |r: &Request| r.time % 40_000_000_000 < 1_000_000_000;
    let mut expected = runs(&["arc"], &["300"], WorkingSet::default());
    let filtered: Vec<Request> = requests.iter().filter(|r| kept(r)).cloned().collect();
    let (cache, state) = &mut expected[0];
    cache.replay_dyn(&filtered, state);
    let mut stream = Stream::open(
        trace::open(&path, &TraceOptions::default()).unwrap(),
        false,
        false,
    )
    .unwrap();
    stream.keep_only(kept);
    let mut got = runs(&["arc"], &["300"], WorkingSet::default());
    let pool = rayon::ThreadPoolBuilder::new().build().unwrap();
    stream
        .replay_each(&pool, &mut got, |(cache, state), batch| {
            cache.replay_dyn(batch, state)
        })
        .unwrap();
    assert_eq!(counts(got), counts(expected));
    assert_eq!(stream.seen().0, 100_000);

    // A time past the simulated clock's range, after several batches.
    requests[60_000].time = u64::MAX / 2;
    trace::write(&path, &requests, &[], OutputFormat::Csv).unwrap();
    let mut stream = Stream::open(
        trace::open(&path, &TraceOptions::default()).unwrap(),
        false,
        false,
    )
    .unwrap();
    let mut run = runs(&["lru"], &["300"], WorkingSet::default());
    let error = stream
        .replay_each(&pool, &mut run, |(cache, state), batch| {
            cache.replay_dyn(batch, state)
        })
        .unwrap_err();
    assert!(error.to_string().contains("request 60001"), "{error}");
}
