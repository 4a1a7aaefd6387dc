//! Belady's MIN (offline optimal for unit sizes): evicts the entry whose
//! next request is furthest in the future; entries never requested again go
//! first. Reads `Request::next_access`, so the trace must be annotated
//! (`annotate_next_access`, or an oracleGeneral trace that carries it).
//! Ties (several entries never requested again) do not change the miss
//! count: those entries are all evicted before any other.

use crate::cache::blocks::Rule;
use crate::cache::structures::Node;
use crate::workload::{NEVER, Request};

/// The Belady rule: rank `NEVER - next access`, so the furthest next access
/// is the lowest rank.
#[derive(Default)]
pub struct Belady;

impl Rule for Belady {
    type Data = ();
    type Rank = u64;

    fn insert(&mut self, req: &Request) -> ((), u64) {
        ((), NEVER - req.next_access)
    }

    fn hit(&mut self, _: &mut Node<()>, req: &Request, _: impl FnOnce() -> Option<u64>) -> u64 {
        NEVER - req.next_access
    }
}
