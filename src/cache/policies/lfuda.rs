//! LFU with dynamic aging, as libCacheSim's `LFUDA` computes it. Every entry
//! has an integer priority; the cache keeps an age `L`: 0 until the first
//! eviction, then the priority of the last evicted entry, raised to the next
//! non-empty priority whenever the list at `L` empties. A new entry gets
//! priority `L + 1`; a hit adds `L` to the entry's priority (libCacheSim's
//! formula; the paper's would be frequency + `L`). Eviction takes the oldest
//! entry of the list at `L` (the lowest priority present, except in the
//! corner case libCacheSim leaves undefined, where we take the lowest).
//! Priorities compound (each hit adds the age, and the age follows the
//! evicted priorities), so on long traces at small caches they reach 2^64:
//! they saturate there, where libCacheSim's int64 overflows.

use crate::cache::blocks::Rule;
use crate::cache::structures::Node;
use crate::workload::Request;

/// (priority, sequence of the last update): lowest priority first, and
/// within one priority the longest there first, which is libCacheSim's
/// order (one FIFO list per priority).
type Rank = (u64, u64);

/// The LFU-DA rule; entries carry their priority.
///
/// Every entry's priority is at least `L`: a new entry gets `L + 1`, a hit
/// adds `L`, and `L` only ever moves to a priority present. So the list at
/// `L`, when not empty, is the lowest, and "the next priority above `L`" is
/// the lowest present: the ranked cache's min-heap answers both.
#[derive(Default)]
pub struct LfuDa {
    /// The age `L`.
    age: u64,
    /// Ranks set so far, for the FIFO order within a priority.
    seq: u64,
}

impl LfuDa {
    /// The rank of an entry given priority `pri` now.
    fn rank(&mut self, pri: u64) -> Rank {
        self.seq += 1;
        (pri, self.seq)
    }

    /// After an entry at `L` left: if it was the last, `L` moves up to the
    /// lowest priority present (if any).
    fn advance_age(&mut self, lowest: Option<Rank>) {
        if let Some((pri, _)) = lowest {
            debug_assert!(pri >= self.age, "an entry below the age");
            self.age = pri;
        }
    }
}

impl Rule for LfuDa {
    type Data = u64;
    type Rank = Rank;

    fn insert(&mut self, _: &Request) -> (u64, Rank) {
        let pri = self.age.saturating_add(1);
        (pri, self.rank(pri))
    }

    fn hit(
        &mut self,
        node: &mut Node<u64>,
        _: &Request,
        lowest_other: impl FnOnce() -> Option<Rank>,
    ) -> Rank {
        let pri = node.data;
        // The increment is the age before this hit moves it.
        node.data = pri.saturating_add(self.age);
        if pri == self.age {
            self.advance_age(lowest_other());
        }
        self.rank(node.data)
    }

    /// Eviction takes the lowest rank: the oldest entry of the list at `L`
    /// (or, before the first eviction and in libCacheSim's undefined
    /// corner, of the lowest list: the same entry, by the invariant above).
    fn evicted(&mut self, (pri, _): Rank, lowest: Option<Rank>) {
        self.age = pri;
        self.advance_age(lowest);
    }

    fn removed(&mut self, (pri, _): Rank, lowest: Option<Rank>) {
        if pri == self.age {
            self.advance_age(lowest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::structures::Slab;

    #[test]
    fn priorities_saturate_instead_of_wrapping() {
        let req = |key| Request {
            key,
            size: 1,
            ..Default::default()
        };
        // As after a long replay at a small cache.
        let mut rule = LfuDa {
            age: u64::MAX - 1,
            seq: 0,
        };
        let mut slab: Slab<u64> = Slab::with_capacity(2);
        let slot = slab.insert(3, 1, 2);
        rule.hit(slab.node_mut(slot), &req(3), || None);
        assert_eq!(slab.node(slot).data, u64::MAX);
        let (pri, _) = rule.insert(&req(4));
        assert_eq!(pri, u64::MAX);
    }
}
