//! Memory per cached object, as issue 14 states it: LRU and FIFO within 32
//! heap bytes per cached object at every size, and every policy's
//! structures following what a cache holds rather than what it could hold.

use edgesim::cache;
use edgesim::workload::Request;

/// Heap bytes per cached object of `policy` at `capacity` objects after
/// `objects` distinct keys, each requested twice, in a scattered order.
fn bytes_per_object(policy: &str, capacity: u64, objects: u64) -> (usize, f64) {
    let mut c = cache::build(&policy.parse().unwrap(), capacity, true, 0).unwrap();
    for round in 0..2 {
        for i in 0..objects {
            // A permutation of 0..objects (7 is coprime with every size here
            // but multiples of 7), scrambled into 64-bit keys.
            let key = (i * 7 + round) % objects;
            c.access(&Request {
                key: key.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                size: 1,
                ..Default::default()
            });
        }
    }
    (c.len(), c.heap_bytes() as f64 / c.len() as f64)
}

#[test]
fn lru_and_fifo_stay_within_32_bytes_per_object_at_every_size() {
    // (capacity, distinct objects): full caches, a power of two, and caches
    // larger than the working set (914,507 objects is the benchmark trace's).
    let sizes = [
        (1_000, 3_000),
        (100_000, 300_000),
        (131_072, 400_000),
        (1_000_000, 914_507),
        (4_000_000, 914_507),
    ];
    for policy in ["lru", "fifo"] {
        for (capacity, objects) in sizes {
            let (held, per_object) = bytes_per_object(policy, capacity, objects);
            assert_eq!(held as u64, capacity.min(objects));
            assert!(
                per_object <= 32.0,
                "{policy} at {capacity} objects holding {held}: {per_object:.1} bytes per object"
            );
        }
    }
}

#[test]
fn a_cache_larger_than_the_working_set_costs_what_it_holds() {
    let objects = 914_507;
    for policy in cache::POLICIES.iter().map(|p| p.name) {
        // W-TinyLFU's frequency sketch is sized from the capacity by design:
        // one counter per object the cache could hold.
        if policy == "wtinylfu" {
            continue;
        }
        let (_, fitted) = bytes_per_object(policy, objects, objects);
        let (held, larger) = bytes_per_object(policy, 4 * objects, objects);
        assert_eq!(held as u64, objects, "{policy}");
        assert!(
            larger <= fitted * 1.1,
            "{policy}: {larger:.1} bytes per object at 4x the working set, {fitted:.1} at 1x"
        );
    }
}
