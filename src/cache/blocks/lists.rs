//! Several lists over one slab, for policies that move entries between
//! queues (ARC, 2Q, S3-FIFO, W-TinyLFU): [`Lists`] keeps them, and a
//! [`ListsPolicy`] decides hits, admissions and evictions while its lists
//! answer the rest of [`Cache`].

use crate::cache::Cache;
use crate::cache::structures::{List, Slab};
use crate::workload::Request;

/// Node data that names the list holding the node.
pub trait InList: Copy {
    fn list(&self) -> usize;
}

impl InList for u8 {
    #[inline]
    fn list(&self) -> usize {
        *self as usize
    }
}

/// `N` lists over one slab, for policies that move entries between queues
/// (ARC, 2Q, S3-FIFO, W-TinyLFU); each node's data records its list. Lists
/// `0..CACHED` hold cached objects, the others ghosts (remembered keys), so
/// the cache's `contains`, `remove`, `len` and `used` are answered here.
pub struct Lists<T, const N: usize, const CACHED: usize> {
    pub slab: Slab<T>,
    lists: [List; N],
}

impl<T: InList, const N: usize, const CACHED: usize> Lists<T, N, CACHED> {
    pub fn with_capacity(n: usize) -> Self {
        Lists {
            slab: Slab::with_capacity(n),
            lists: [List::default(); N],
        }
    }

    pub fn list(&self, i: usize) -> &List {
        &self.lists[i]
    }

    pub fn bytes(&self, i: usize) -> u64 {
        self.lists[i].bytes()
    }

    /// The slot of `key` and the list holding it.
    #[inline]
    pub fn find(&self, key: u64) -> Option<(u32, usize)> {
        self.slab
            .find(key)
            .map(|s| (s, self.slab.node(s).data.list()))
    }

    /// Adds `key` at the head of the list named by `data`.
    pub fn insert(&mut self, key: u64, size: u32, data: T) -> u32 {
        let slot = self.slab.insert(key, size, data);
        self.slab.push_front(&mut self.lists[data.list()], slot);
        slot
    }

    /// Moves `slot` to the head of its list.
    #[inline]
    pub fn raise(&mut self, slot: u32) {
        let i = self.slab.node(slot).data.list();
        self.slab.move_to_front(&mut self.lists[i], slot);
    }

    /// Moves `slot` to the head of the list named by `data`.
    pub fn relink(&mut self, slot: u32, data: T) {
        let from = self.slab.node(slot).data.list();
        self.slab.unlink(&mut self.lists[from], slot);
        self.slab.node_mut(slot).data = data;
        self.slab.push_front(&mut self.lists[data.list()], slot);
    }

    /// Removes `slot` from its list and the slab.
    pub fn delete(&mut self, slot: u32) {
        let i = self.slab.node(slot).data.list();
        self.slab.unlink(&mut self.lists[i], slot);
        self.slab.remove(slot);
    }

    /// Deletes the tail of list `i`, if any.
    pub fn delete_tail(&mut self, i: usize) {
        if let Some(slot) = self.lists[i].tail() {
            self.delete(slot);
        }
    }
}

/// What a [`Lists`] answers for its cache without knowing the policy: the
/// bookkeeping half of [`Cache`].
pub trait ListStore: Send {
    /// Whether `key` is cached (a ghost is not).
    fn contains(&self, key: u64) -> bool;
    /// Drops `key` if cached; returns whether it was. A ghost is history,
    /// not a cached object: it stays.
    fn remove(&mut self, key: u64) -> bool;
    /// Cached objects (ghosts not counted).
    fn cached_len(&self) -> usize;
    /// Sum of the sizes of the cached objects.
    fn used(&self) -> u64;
    fn heap_bytes(&self) -> usize;
    /// [`Slab::outgrows_l2`].
    fn prefetches(&self) -> bool;
    /// [`Slab::prefetch`].
    fn prefetch(&self, far: u64, near: u64, nearest: Option<u64>);
}

impl<T: InList + Send, const N: usize, const CACHED: usize> ListStore for Lists<T, N, CACHED> {
    fn contains(&self, key: u64) -> bool {
        self.find(key).is_some_and(|(_, i)| i < CACHED)
    }

    fn remove(&mut self, key: u64) -> bool {
        match self.find(key) {
            Some((slot, i)) if i < CACHED => {
                self.delete(slot);
                true
            }
            _ => false,
        }
    }

    fn cached_len(&self) -> usize {
        self.lists[..CACHED].iter().map(List::len).sum()
    }

    fn used(&self) -> u64 {
        self.lists[..CACHED].iter().map(List::bytes).sum()
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

/// A policy whose entries all live in one [`Lists`] (ARC, 2Q, S3-FIFO,
/// W-TinyLFU): it decides hits, admissions and evictions in `lookup`, and the
/// rest of [`Cache`] is answered by its lists.
pub trait ListsPolicy: Send {
    type Store: ListStore;
    fn store(&self) -> &Self::Store;
    fn store_mut(&mut self) -> &mut Self::Store;
    /// [`Cache::access`]: looks the key up, inserting on a miss.
    fn lookup(&mut self, req: &Request) -> bool;
    /// [`Cache::capacity`].
    fn limit(&self) -> u64;
    /// Whether a hit may move its entry within or between lists (so
    /// prefetching its neighbours pays).
    const RELINKS_ON_HIT: bool;
    /// Heap held beside the lists (a sketch, say).
    fn extra_heap_bytes(&self) -> usize {
        0
    }
}

impl<P: ListsPolicy> Cache for P {
    #[inline]
    fn access(&mut self, req: &Request) -> bool {
        self.lookup(req)
    }
    fn contains(&self, key: u64) -> bool {
        self.store().contains(key)
    }
    fn remove(&mut self, key: u64) -> bool {
        self.store_mut().remove(key)
    }
    fn len(&self) -> usize {
        self.store().cached_len()
    }
    fn used(&self) -> u64 {
        self.store().used()
    }
    fn capacity(&self) -> u64 {
        self.limit()
    }
    fn heap_bytes(&self) -> usize {
        self.store().heap_bytes() + self.extra_heap_bytes()
    }
    fn prefetches(&self) -> bool {
        self.store().prefetches()
    }
    #[inline]
    fn prefetch(&self, far: u64, near: u64, nearest: u64) {
        self.store()
            .prefetch(far, near, Self::RELINKS_ON_HIT.then_some(nearest))
    }
}
