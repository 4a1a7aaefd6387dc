//! The multi-list policies share one cache, [`Queues`]: several lists over
//! one slab ([`Lists`]), some of them ghosts (remembered keys), within one
//! capacity. A policy's [`Moves`] say where a request sends entries: ARC,
//! 2Q, S3-FIFO and W-TinyLFU are each a `Moves` in their own file.

use super::{Policy, Store};
use crate::cache::structures::{SizedList, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::workload::Request;

/// Node data that names the list holding the node.
pub trait InList: Copy {
    fn list(&self) -> u8;
}

impl InList for u8 {
    #[inline]
    fn list(&self) -> u8 {
        *self
    }
}

/// What distinguishes one multi-list policy from another.
pub trait Moves: Send + Sized + 'static {
    /// Node data, naming the entry's list (and any per-entry state).
    type Entry: InList + Send;
    /// Lists `0..CACHED` hold cached objects, the others ghosts.
    const CACHED: u8;
    /// Whether a hit may move its entry (so prefetching its neighbours pays).
    const RELINKS_ON_HIT: bool;
    /// [`Policy::lookup`] on the policy's lists: looks the key up, moving
    /// entries as the policy says, and inserts on a miss.
    fn lookup(&mut self, lists: &mut Lists<Self>, req: &Request) -> bool;
    /// Heap held beside the lists (a frequency sketch...).
    fn extra_heap_bytes(&self) -> usize {
        0
    }
}

/// A cache of several lists moved between by `M`.
pub struct Queues<M: Moves> {
    lists: Lists<M>,
    moves: M,
}

impl<M: Moves> Queues<M> {
    /// Builds from `ctx` once the moves are made from its parameters, with
    /// room for `nodes` entries and ghosts before the slab reallocates.
    pub(crate) fn build_with(ctx: &PolicyCtx, moves: M, nodes: usize) -> BoxedCache {
        Box::new(Queues {
            lists: Lists::new(ctx.capacity, nodes),
            moves,
        })
    }
}

impl<M: Moves> Policy for Queues<M> {
    type Store = Lists<M>;
    const RELINKS_ON_HIT: bool = M::RELINKS_ON_HIT;

    fn store(&self) -> &Self::Store {
        &self.lists
    }

    #[inline]
    fn lookup(&mut self, req: &Request) -> bool {
        self.moves.lookup(&mut self.lists, req)
    }

    fn discard(&mut self, key: u64) -> bool {
        self.lists.remove(key)
    }

    fn limit(&self) -> u64 {
        self.lists.capacity
    }

    fn extra_heap_bytes(&self) -> usize {
        self.moves.extra_heap_bytes()
    }
}

/// The most lists a policy has (ARC's four).
const MAX_LISTS: usize = 4;

/// The lists of a policy moved by `M`: up to four over one slab, each
/// keeping its byte total; each node's data names its list. Lists
/// `0..M::CACHED` hold cached objects, the others ghosts, so the cache's
/// `contains`, `remove`, `len` and `used` are answered here.
pub struct Lists<M: Moves> {
    /// Unsized: the lists keep the byte totals.
    pub slab: Slab<M::Entry, false>,
    lists: [SizedList; MAX_LISTS],
    capacity: u64,
}

impl<M: Moves> Lists<M> {
    /// Lists for a cache of `capacity` units, with room for `nodes` nodes.
    pub fn new(capacity: u64, nodes: usize) -> Self {
        Lists {
            slab: Slab::with_capacity(nodes),
            lists: [SizedList::default(); MAX_LISTS],
            capacity,
        }
    }

    /// [`crate::cache::Cache::capacity`].
    #[inline]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Sum of the sizes of the nodes in list `i`.
    #[inline]
    pub fn bytes(&self, i: u8) -> u64 {
        self.lists[i as usize].bytes()
    }

    #[inline]
    pub fn is_empty(&self, i: u8) -> bool {
        self.lists[i as usize].is_empty()
    }

    /// The tail of list `i` (its eviction end), if any.
    #[inline]
    pub fn tail(&self, i: u8) -> Option<u32> {
        self.lists[i as usize].tail()
    }

    /// The size of the node in `slot`.
    #[inline]
    pub fn size(&self, slot: u32) -> u64 {
        self.slab.node(slot).size as u64
    }

    /// The slot of `key` and the list holding it.
    #[inline]
    pub fn find(&self, key: u64) -> Option<(u32, u8)> {
        self.slab
            .find(key)
            .map(|s| (s, self.slab.node(s).data.list()))
    }

    /// Adds `key` at the head of the list named by `data`.
    pub fn insert(&mut self, key: u64, size: u32, data: M::Entry) -> u32 {
        let slot = self.slab.insert(key, size, data);
        self.slab
            .push_front(&mut self.lists[data.list() as usize], slot);
        slot
    }

    /// Moves `slot` to the head of its list.
    #[inline]
    pub fn raise(&mut self, slot: u32) {
        let i = self.slab.node(slot).data.list();
        self.slab.move_to_front(&mut self.lists[i as usize], slot);
    }

    /// Moves `slot` to the head of the list named by `data`.
    pub fn relink(&mut self, slot: u32, data: M::Entry) {
        let from = self.slab.node(slot).data.list();
        self.slab.unlink(&mut self.lists[from as usize], slot);
        self.slab.node_mut(slot).data = data;
        self.slab
            .push_front(&mut self.lists[data.list() as usize], slot);
    }

    /// Moves the tail of list `from` to the head of the list named by `to`.
    pub fn demote(&mut self, from: u8, to: M::Entry) {
        let slot = self.tail(from).expect("demoting from an empty list");
        self.relink(slot, to);
    }

    /// Removes `slot` from its list and the slab.
    pub fn delete(&mut self, slot: u32) {
        let i = self.slab.node(slot).data.list();
        self.slab.unlink(&mut self.lists[i as usize], slot);
        self.slab.remove(slot);
    }

    /// Deletes the tail of list `i`, if any.
    pub fn delete_tail(&mut self, i: u8) {
        if let Some(slot) = self.tail(i) {
            self.delete(slot);
        }
    }

    /// [`Cache::remove`](crate::cache::Cache::remove): drops `key` if
    /// cached. A ghost is history, not a cached object: it stays.
    pub fn remove(&mut self, key: u64) -> bool {
        match self.find(key) {
            Some((slot, i)) if i < M::CACHED => {
                self.delete(slot);
                true
            }
            _ => false,
        }
    }

    fn cached_lists(&self) -> &[SizedList] {
        &self.lists[..M::CACHED as usize]
    }

    /// Sum of the sizes of the cached objects.
    #[inline]
    pub fn used(&self) -> u64 {
        self.cached_lists().iter().map(SizedList::bytes).sum()
    }
}

impl<M: Moves> Store for Lists<M> {
    fn contains(&self, key: u64) -> bool {
        self.find(key).is_some_and(|(_, i)| i < M::CACHED)
    }

    fn cached_len(&self) -> usize {
        self.cached_lists().iter().map(SizedList::len).sum()
    }

    fn used(&self) -> u64 {
        Lists::used(self)
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }

    fn prefetches(&self) -> bool {
        self.slab.outgrows_l2()
    }

    #[inline]
    fn prefetch(&self, far: u64, near: u64, nearest: Option<u64>) {
        self.slab.prefetch(far, near, nearest)
    }
}
