//! A Fenwick (binary indexed) tree of `u64`: point updates and prefix sums
//! in O(log n), the structure under the stack distances.

/// Sums over positions `0..len`.
pub struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    /// A tree over `values`, built in O(n).
    pub fn from_values(values: &[u64]) -> Self {
        let mut tree = values.to_vec();
        for i in 0..tree.len() {
            let parent = i | (i + 1);
            if parent < tree.len() {
                tree[parent] += tree[i];
            }
        }
        Fenwick { tree }
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Adds `delta` at `pos`.
    #[inline]
    pub fn add(&mut self, mut pos: usize, delta: u64) {
        while pos < self.tree.len() {
            self.tree[pos] = self.tree[pos].wrapping_add(delta);
            pos |= pos + 1;
        }
    }

    /// Takes `delta` from `pos` (which holds at least that much).
    #[inline]
    pub fn sub(&mut self, pos: usize, delta: u64) {
        self.add(pos, delta.wrapping_neg());
    }

    /// The sum over positions `0..end`.
    #[inline]
    pub fn prefix(&self, end: usize) -> u64 {
        let mut sum = 0u64;
        let mut i = end;
        while i > 0 {
            sum = sum.wrapping_add(self.tree[i - 1]);
            i &= i - 1;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_sums_follow_updates() {
        let values = [3u64, 0, 5, 1, 4, 1, 5, 9, 2, 6];
        let mut tree = Fenwick::from_values(&values);
        let mut plain = values.to_vec();
        tree.add(4, 10);
        plain[4] += 10;
        tree.sub(7, 9);
        plain[7] -= 9;
        for end in 0..=plain.len() {
            assert_eq!(tree.prefix(end), plain[..end].iter().sum::<u64>(), "{end}");
        }
    }
}
