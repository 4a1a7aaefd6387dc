//! Several lists over one slab, for policies that move entries between
//! queues (ARC, 2Q, S3-FIFO, W-TinyLFU): [`Lists`] keeps them, and as the
//! [`Store`] of such a [`Policy`](super::Policy) answers its bookkeeping.

use super::Store;
use crate::cache::structures::{List, Slab};

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

    /// [`Cache::remove`](crate::cache::Cache::remove): drops `key` if
    /// cached. A ghost is history, not a cached object: it stays.
    pub fn remove(&mut self, key: u64) -> bool {
        match self.find(key) {
            Some((slot, i)) if i < CACHED => {
                self.delete(slot);
                true
            }
            _ => false,
        }
    }

    /// Sum of the sizes of the cached objects.
    pub fn used(&self) -> u64 {
        self.lists[..CACHED].iter().map(List::bytes).sum()
    }

    /// Deletes the tail of list `i`, if any.
    pub fn delete_tail(&mut self, i: usize) {
        if let Some(slot) = self.lists[i].tail() {
            self.delete(slot);
        }
    }
}

impl<T: InList + Send, const N: usize, const CACHED: usize> Store for Lists<T, N, CACHED> {
    fn contains(&self, key: u64) -> bool {
        self.find(key).is_some_and(|(_, i)| i < CACHED)
    }

    fn cached_len(&self) -> usize {
        self.lists[..CACHED].iter().map(List::len).sum()
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
