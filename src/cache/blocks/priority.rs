//! The priority-ordered policies share one cache, [`Ranked`]: a slab of
//! entries and an indexed min-heap of their ranks. A [`Rule`] says what rank
//! an entry gets when it is inserted or hit; eviction always takes the lowest
//! rank. Belady, GDSF and LFU-DA are each a rule in their own file.

use super::Policy;
use crate::cache::structures::Heap;
use crate::cache::structures::{Node, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

/// What distinguishes one priority policy from another.
pub trait Rule: Send + 'static {
    /// Per-entry state (a frequency...).
    type Data: Copy + Send;
    /// Heap order: the lowest rank is evicted first.
    type Rank: Ord + Copy + Send;
    /// The data and rank of a new entry for `req` (after eviction made room).
    fn insert(&mut self, req: &Request) -> (Self::Data, Self::Rank);
    /// Updates the entry `node` on a hit by `req` and returns its new rank;
    /// `lowest_other` gives the lowest rank among the other entries.
    fn hit(
        &mut self,
        node: &mut Node<Self::Data>,
        req: &Request,
        lowest_other: impl FnOnce() -> Option<Self::Rank>,
    ) -> Self::Rank;
    /// Called with the rank of each evicted entry and the lowest rank left.
    fn evicted(&mut self, _rank: Self::Rank, _lowest: Option<Self::Rank>) {}
    /// Called with the rank of each entry removed other than by eviction
    /// (an expired one) and the lowest rank left.
    fn removed(&mut self, _rank: Self::Rank, _lowest: Option<Self::Rank>) {}
}

/// A cache ordered by the ranks of rule `R`.
pub struct Ranked<R: Rule> {
    slab: Slab<R::Data>,
    order: Heap<R::Rank>,
    capacity: u64,
    rule: R,
}

impl<R: Rule> Ranked<R> {
    /// A cache of `capacity` units, room reserved for `expected_objects`.
    pub fn new(capacity: u64, rule: R, expected_objects: usize) -> Self {
        Ranked {
            slab: Slab::with_capacity(expected_objects),
            order: Heap::with_capacity(expected_objects),
            capacity,
            rule,
        }
    }

    /// Builds from `ctx` once the rule is made from its parameters.
    pub(crate) fn build_with(ctx: &PolicyCtx, rule: R) -> BoxedCache {
        Box::new(Self::new(ctx.capacity, rule, ctx.expected_objects()))
    }

    fn lowest(&self) -> Option<R::Rank> {
        self.order.peek().map(|(rank, _)| rank)
    }
}

impl<R: Rule + Default> Ranked<R> {
    /// Builds a rule that takes no parameters.
    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        Ok(Self::build_with(ctx, R::default()))
    }
}

impl<R: Rule> Policy for Ranked<R> {
    type Store = Slab<R::Data>;
    const RELINKS_ON_HIT: bool = false;

    fn store(&self) -> &Self::Store {
        &self.slab
    }

    fn lookup(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let order = &self.order;
            let rank = self
                .rule
                .hit(self.slab.node_mut(slot), req, || order.lowest_except(slot));
            self.order.update(slot, rank);
            return true;
        }
        let size = req.size as u64;
        if size > self.capacity {
            return false;
        }
        while self.slab.bytes() + size > self.capacity {
            let (rank, victim) = self.order.pop().expect("evicting from an empty cache");
            self.slab.remove(victim);
            self.rule.evicted(rank, self.lowest());
        }
        let (data, rank) = self.rule.insert(req);
        let slot = self.slab.insert(req.key, req.size, data);
        self.order.push(slot, rank);
        false
    }

    fn discard(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let rank = self.order.remove(slot);
        self.slab.remove(slot);
        self.rule.removed(rank, self.lowest());
        true
    }

    fn limit(&self) -> u64 {
        self.capacity
    }

    fn extra_heap_bytes(&self) -> usize {
        self.order.heap_bytes()
    }
}
