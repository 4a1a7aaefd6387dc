//! [`Policy`], what a building block or a policy implements instead of
//! [`Cache`]: the decisions, while the [`Store`] holding its entries answers
//! the bookkeeping (`contains`, `len`, `used`, prefetching) once for all.

use crate::cache::Cache;
use crate::cache::structures::Slab;
use crate::workload::Request;

/// Where a policy keeps its entries: a [`Slab`] (every node cached) or
/// [`Lists`](super::Lists) (some lists ghosts). The bookkeeping half of
/// [`Cache`].
pub trait Store: Send {
    /// Whether `key` is cached (a ghost is not).
    fn contains(&self, key: u64) -> bool;
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

impl<T: Send> Store for Slab<T> {
    #[inline]
    fn contains(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    fn cached_len(&self) -> usize {
        self.len()
    }

    fn used(&self) -> u64 {
        self.bytes()
    }

    fn heap_bytes(&self) -> usize {
        Slab::heap_bytes(self)
    }

    fn prefetches(&self) -> bool {
        self.outgrows_l2()
    }

    #[inline]
    fn prefetch(&self, far: u64, near: u64, nearest: Option<u64>) {
        Slab::prefetch(self, far, near, nearest)
    }
}

/// A cache whose entries live in one [`Store`]: it decides hits, admissions
/// and evictions, and the rest of [`Cache`] is answered by its store.
pub trait Policy: Send {
    type Store: Store;
    /// Whether a hit may move its entry within or between lists (so
    /// prefetching its neighbours pays).
    const RELINKS_ON_HIT: bool;
    fn store(&self) -> &Self::Store;
    /// [`Cache::access`]: looks the key up, inserting on a miss.
    fn lookup(&mut self, req: &Request) -> bool;
    /// [`Cache::remove`]: drops `key` if cached; returns whether it was.
    fn discard(&mut self, key: u64) -> bool;
    /// [`Cache::capacity`].
    fn limit(&self) -> u64;
    /// Heap held beside the store (a heap of ranks, a sketch...).
    fn extra_heap_bytes(&self) -> usize {
        0
    }
}

impl<P: Policy> Cache for P {
    #[inline]
    fn access(&mut self, req: &Request) -> bool {
        self.lookup(req)
    }
    fn contains(&self, key: u64) -> bool {
        self.store().contains(key)
    }
    fn remove(&mut self, key: u64) -> bool {
        self.discard(key)
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
