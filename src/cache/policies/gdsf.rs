//! GreedyDual-Size-Frequency (Cherkasova 1998), as libCacheSim's `GDSF`:
//! priority = L + frequency x 10^6 / size, where L is the priority of the
//! last evicted entry. The lowest priority is evicted; among equal
//! priorities, the one whose priority was set earliest (FIFO).

use crate::cache::blocks::Rule;
use crate::cache::structures::Node;
use crate::workload::Request;

/// (priority as ordered bits, sequence of the last update). Priorities are
/// positive finite floats, whose bit patterns sort like them.
type Rank = (u64, u64);

/// The GDSF rule; entries carry their frequency.
#[derive(Default)]
pub struct Gdsf {
    /// Priority of the last evicted entry.
    inflation: f64,
    /// Ranks set so far, for FIFO tie-breaks.
    seq: u64,
}

impl Gdsf {
    /// The rank of an entry with `freq` and `size` set now.
    fn rank(&mut self, freq: u64, size: u32) -> Rank {
        self.seq += 1;
        let pri = self.inflation + freq as f64 * 1.0e6 / size.max(1) as f64;
        (pri.to_bits(), self.seq)
    }
}

impl Rule for Gdsf {
    type Data = u64;
    type Rank = Rank;

    fn insert(&mut self, req: &Request) -> (u64, Rank) {
        (1, self.rank(1, req.size))
    }

    fn hit(&mut self, node: &mut Node<u64>, _: &Request, _: impl FnOnce() -> Option<Rank>) -> Rank {
        node.data += 1;
        self.rank(node.data, node.size)
    }

    fn evicted(&mut self, rank: Rank, _: Option<Rank>) {
        self.inflation = f64::from_bits(rank.0);
    }
}
