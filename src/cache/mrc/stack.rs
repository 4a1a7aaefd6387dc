//! LRU stack distances in one pass: each key's weight sits in a Fenwick
//! tree at the position of its last access, so the weight of everything
//! touched since (the distance) is one suffix sum, O(log n) per request.
//!
//! Positions are handed out in request order; when the tree is full, the
//! live keys are renumbered in order of last access into a tree twice
//! their number. Memory follows the distinct keys, not the trace length.

use foldhash::fast::FixedState;
use hashbrown::HashMap;

use super::fenwick::Fenwick;

/// Where a key last was, and the weight it carries there.
#[derive(Clone, Copy)]
struct Last {
    pos: usize,
    weight: u64,
}

/// A key seen before: how far down the stack it was, and what it weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// The weight of the distinct keys accessed since its last access,
    /// plus its own weight then.
    pub distance: u64,
    /// Its weight at its last access.
    pub weight: u64,
}

/// The recency stack of keys, each weighted (1 for objects, its size for bytes).
pub struct Stack {
    last: HashMap<u64, Last, FixedState>,
    tree: Fenwick,
    /// The position the next access takes.
    next: usize,
    /// The sum of every live weight.
    total: u64,
}

/// The smallest tree: renumbering a handful of keys often costs more than
/// the room.
const MIN_POSITIONS: usize = 1 << 10;

impl Default for Stack {
    fn default() -> Self {
        Stack {
            last: HashMap::default(),
            tree: Fenwick::from_values(&[0; MIN_POSITIONS]),
            next: 0,
            total: 0,
        }
    }
}

impl Stack {
    /// Accesses `key`, which now weighs `weight`; None on its first access.
    #[inline]
    pub fn access(&mut self, key: u64, weight: u64) -> Option<Reuse> {
        if self.next == self.tree.len() {
            self.renumber();
        }
        let pos = self.next;
        self.next += 1;
        self.tree.add(pos, weight);
        self.total += weight;
        let previous = self.last.insert(key, Last { pos, weight })?;
        // Everything at or after its old position, but not the new access.
        let distance = self.total - weight - self.tree.prefix(previous.pos);
        self.tree.sub(previous.pos, previous.weight);
        self.total -= previous.weight;
        Some(Reuse {
            distance,
            weight: previous.weight,
        })
    }

    /// Whether `key` is in the stack.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        self.last.contains_key(&key)
    }

    /// Drops `key` from the stack (a sampler stopped tracking it).
    pub fn forget(&mut self, key: u64) {
        if let Some(last) = self.last.remove(&key) {
            self.tree.sub(last.pos, last.weight);
            self.total -= last.weight;
        }
    }

    /// For each size of `sizes` (ascending), how many keys the longest
    /// prefix of the stack (most recent first) whose weights sum to at most
    /// that size holds: what LRU of that size holds at this point, when
    /// one pass is exact (see the module documentation of `mrc`).
    pub fn held(&self, sizes: &[u64]) -> Vec<u64> {
        let mut recent: Vec<&Last> = self.last.values().collect();
        recent.sort_unstable_by_key(|l| std::cmp::Reverse(l.pos));
        let mut sum = 0;
        let mut keys = 0;
        sizes
            .iter()
            .map(|&size| {
                while let Some(l) = recent.get(keys as usize).filter(|l| sum + l.weight <= size) {
                    sum += l.weight;
                    keys += 1;
                }
                keys
            })
            .collect()
    }

    /// Packs the live keys into positions `0..len`, in order of last
    /// access, in a tree with as much room again.
    fn renumber(&mut self) {
        let mut live: Vec<&mut Last> = self.last.values_mut().collect();
        live.sort_unstable_by_key(|l| l.pos);
        let mut weights = vec![0; (2 * live.len()).max(MIN_POSITIONS)];
        for (pos, last) in live.into_iter().enumerate() {
            last.pos = pos;
            weights[pos] = last.weight;
        }
        self.next = self.last.len();
        self.tree = Fenwick::from_values(&weights);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distances by definition: the weight of the distinct keys since the
    /// last access, plus the key's own.
    fn naive(trace: &[(u64, u64)]) -> Vec<Option<u64>> {
        (0..trace.len())
            .map(|i| {
                let (key, _) = trace[i];
                let j = trace[..i].iter().rposition(|r| r.0 == key)?;
                let mut seen = Vec::new();
                let mut d = 0;
                for &(k, w) in trace[j..i].iter().rev() {
                    if !seen.contains(&k) {
                        seen.push(k);
                        // Each key's weight as at its last access in the window.
                        d += w;
                    }
                }
                Some(d)
            })
            .collect()
    }

    #[test]
    fn distances_equal_the_definition_across_renumbering() {
        let mut x = 7u64;
        let trace: Vec<(u64, u64)> = (0..5000)
            .map(|_| {
                x = crate::engine::mix64(x);
                (x % 300, 1 + (x >> 40) % 50)
            })
            .collect();
        let mut stack = Stack::default();
        let got: Vec<Option<u64>> = trace
            .iter()
            .map(|&(k, w)| stack.access(k, w).map(|r| r.distance))
            .collect();
        assert_eq!(got, naive(&trace));
        assert!((0..300).all(|k| stack.contains(k)));
    }

    #[test]
    fn held_counts_the_longest_recent_prefix_that_fits() {
        let mut stack = Stack::default();
        for (key, weight) in [(1, 5), (2, 3), (3, 4), (1, 5)] {
            stack.access(key, weight);
        }
        // Most recent first: 1 (5), 3 (4), 2 (3).
        assert_eq!(stack.held(&[4, 5, 8, 11, 12, 100]), [0, 1, 1, 2, 3, 3]);
    }

    #[test]
    fn a_forgotten_key_weighs_nothing() {
        let mut stack = Stack::default();
        stack.access(1, 5);
        stack.access(2, 7);
        stack.forget(2);
        assert_eq!(stack.access(1, 5).map(|r| r.distance), Some(5));
        assert_eq!(stack.access(2, 7), None);
    }
}
