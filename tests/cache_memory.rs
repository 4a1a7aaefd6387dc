//! Memory per cached object of the lean queue policies, as the issue's
//! target states it: at most 40 heap bytes per object at 100,000 objects.

use edgesim::cache;
use edgesim::workload::Request;

#[test]
fn lru_fifo_sieve_stay_within_40_bytes_per_object() {
    for policy in ["lru", "fifo", "sieve", "clock"] {
        let mut c = cache::build(&policy.parse().unwrap(), 100_000, true, 0).unwrap();
        for key in 0..300_000u64 {
            c.access(&Request {
                key: key.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                size: 1,
                ..Default::default()
            });
        }
        assert_eq!(c.len(), 100_000);
        let per_object = c.heap_bytes() as f64 / c.len() as f64;
        assert!(
            per_object <= 40.0,
            "{policy}: {per_object:.1} bytes per object"
        );
    }
}
