//! Reuse distances binned by the sizes of a curve: a request of distance
//! `d` hits at every size of at least `d`, so it is counted once, at the
//! first such size, and the hits at a size are the counts up to it.

use std::ops::AddAssign;

/// Hits (and hit bytes) per size of `grid`, in a weight `W`: whole counts
/// for the exact curve, `1 / rate` per sampled request for SHARDS.
pub struct Histogram<W> {
    grid: Vec<u64>,
    /// Per size: the weight and bytes of the requests that first hit there.
    first_hits: Vec<(W, W)>,
}

impl<W: Copy + Default + AddAssign> Histogram<W> {
    /// Bins over `grid`, sorted ascending without repeats.
    pub fn new(grid: &[u64]) -> Self {
        debug_assert!(grid.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            grid: grid.to_vec(),
            first_hits: vec![(W::default(), W::default()); grid.len()],
        }
    }

    /// The sizes it bins over.
    pub fn grid(&self) -> &[u64] {
        &self.grid
    }

    /// Counts a reuse at `distance` (already scaled) of `weight` and `bytes`.
    #[inline]
    pub fn add(&mut self, distance: u64, weight: W, bytes: W) {
        let at = self.grid.partition_point(|&c| c < distance);
        if let Some(bin) = self.first_hits.get_mut(at) {
            bin.0 += weight;
            bin.1 += bytes;
        }
    }

    /// The weight and bytes of the hits at each size of the grid.
    pub fn hits(&self) -> Vec<(W, W)> {
        let mut sum = (W::default(), W::default());
        self.first_hits
            .iter()
            .map(|&(w, b)| {
                sum.0 += w;
                sum.1 += b;
                sum
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reuse_hits_at_every_size_from_its_distance() {
        let grid = [10, 20, 40];
        let mut h = Histogram::<u64>::new(&grid);
        h.add(10, 1, 100);
        h.add(11, 1, 7);
        h.add(41, 1, 1);
        assert_eq!(h.hits(), [(1, 100), (2, 107), (2, 107)]);
    }
}
