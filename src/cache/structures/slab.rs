//! Index-linked nodes for eviction policies: a slab of nodes addressed by
//! `u32`, a hash index from key to slot, and doubly linked lists threaded
//! through the slab. Several lists can share one slab, so a policy moves an
//! entry between its queues by relinking, never by reallocating.
//!
//! The index ([`SlotIndex`]) stores a one-byte tag and a slot number per
//! entry and compares keys in the slab, which keeps LRU under 30 bytes
//! per cached object.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use super::index::{SlotIndex, prefetch_line};
use super::room::{self, initial};

/// "No node": the end of a list.
pub const NIL: u32 = u32::MAX;

/// One cached object (or ghost) and its list links: 20 bytes before
/// `data`, because the key is kept as two 4-byte halves (a `u64` field
/// would align the node to 8 and pad LRU's to 24).
#[derive(Debug, Clone)]
pub struct Node<T> {
    key: [u32; 2],
    pub size: u32,
    prev: u32,
    next: u32,
    /// Per-policy state: a visited bit, a frequency, a segment number...
    pub data: T,
}

impl<T> Node<T> {
    #[inline]
    pub fn key(&self) -> u64 {
        u64::from(self.key[0]) | u64::from(self.key[1]) << 32
    }
}

/// A doubly linked list of slab nodes, with its length; a [`SizedList`]
/// (`SIZED`) also keeps the sum of its nodes' sizes. Only policies that
/// budget each list count its bytes: the slab counts the cache's total, so
/// a single queue pays nothing on relinks.
#[derive(Debug, Clone, Copy)]
pub struct List<const SIZED: bool = false> {
    head: u32,
    tail: u32,
    len: u32,
    bytes: u64,
}

/// A [`List`] that keeps its byte total.
pub type SizedList = List<true>;

impl<const SIZED: bool> Default for List<SIZED> {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
            bytes: 0,
        }
    }
}

impl SizedList {
    /// Sum of the sizes of the nodes in the list.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl<const SIZED: bool> List<SIZED> {
    /// Most recently pushed-front node.
    pub fn head(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }
    /// Least recently pushed-front node (the eviction end).
    pub fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Nodes addressed by slot, with a key index and a free list; it keeps the
/// sum of the live nodes' sizes unless `SIZED` is false, for a policy whose
/// lists keep their own ([`super::SizedList`]).
pub struct Slab<T, const SIZED: bool = true> {
    nodes: Vec<Node<T>>,
    /// Nodes the slab was made for.
    planned: usize,
    index: SlotIndex,
    hasher: FixedState,
    /// Head of the free-slot chain, threaded through `next`.
    free: u32,
    /// Sum of the sizes of the live nodes (0 unless `SIZED`).
    bytes: u64,
}

impl<T, const SIZED: bool> Default for Slab<T, SIZED> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<T> Slab<T> {
    /// Sum of the sizes of the live nodes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl<T, const SIZED: bool> Slab<T, SIZED> {
    /// A slab planned for `n` nodes, grown to them as they come
    /// ([`super::room`]).
    pub fn with_capacity(n: usize) -> Self {
        let start = initial(n);
        Slab {
            nodes: Vec::with_capacity(start),
            planned: n,
            index: SlotIndex::new(start, n),
            hasher: FixedState::with_seed(0),
            free: NIL,
            bytes: 0,
        }
    }

    #[inline]
    fn hash(&self, key: u64) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The slot holding `key`, if any.
    #[inline]
    pub fn find(&self, key: u64) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(self.hash(key), |i| nodes[i as usize].key() == key)
    }

    /// [`crate::cache::Cache::prefetch`]; `nearest` is `None` for a policy whose
    /// hits do not relink, which needs no neighbours.
    #[inline]
    pub fn prefetch(&self, far: u64, near: u64, nearest: Option<u64>) {
        self.index.prefetch(self.hash(far));
        if let Some(slot) = self.index.likely(self.hash(near)) {
            prefetch_line(&self.nodes[slot as usize]);
        }
        if let Some(slot) = nearest.and_then(|key| self.find(key)) {
            let node = &self.nodes[slot as usize];
            for link in [node.prev, node.next] {
                if link != NIL {
                    prefetch_line(&self.nodes[link as usize]);
                }
            }
        }
    }

    /// Whether nodes and index outgrow a core's L2 cache, so that lookups
    /// wait on memory; below that, prefetching only adds work (LRU at 1,000
    /// objects ran 20% slower with it). [`crate::cache::Cache::prefetches`].
    #[inline]
    pub fn outgrows_l2(&self) -> bool {
        const L2_BYTES: usize = 1 << 20;
        self.nodes.len() * size_of::<Node<T>>() + self.index.heap_bytes() > L2_BYTES
    }

    /// Prepares for evicting `slot`, a list's next victim: its index line
    /// and the node after it in line.
    #[inline]
    pub fn prefetch_victim(&self, slot: u32) {
        if !self.outgrows_l2() {
            return;
        }
        let node = &self.nodes[slot as usize];
        self.index.prefetch(self.hash(node.key()));
        if node.prev != NIL {
            prefetch_line(&self.nodes[node.prev as usize]);
        }
    }

    /// The nodes the slab was made for, which structures beside it that
    /// grow with it plan for too.
    pub fn planned(&self) -> usize {
        self.planned
    }

    /// Adds a node for `key` (which must not be present), unlinked.
    pub fn insert(&mut self, key: u64, size: u32, data: T) -> u32 {
        let node = Node {
            key: [key as u32, (key >> 32) as u32],
            size,
            prev: NIL,
            next: NIL,
            data,
        };
        let slot = if self.free != NIL {
            let slot = self.free;
            self.free = self.nodes[slot as usize].next;
            self.nodes[slot as usize] = node;
            slot
        } else {
            room::push(&mut self.nodes, node, self.planned);
            (self.nodes.len() - 1) as u32
        };
        if SIZED {
            self.bytes += size as u64;
        }
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.index.insert(hasher.hash_one(key), slot, |i| {
            hasher.hash_one(nodes[i as usize].key())
        });
        slot
    }

    /// Drops the (already unlinked) node in `slot` from the index and frees it.
    pub fn remove(&mut self, slot: u32) {
        if SIZED {
            self.bytes -= self.nodes[slot as usize].size as u64;
        }
        let hash = self.hash(self.nodes[slot as usize].key());
        self.index.remove(hash, slot);
        self.nodes[slot as usize].next = self.free;
        self.free = slot;
    }

    /// Number of live nodes.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    #[inline]
    pub fn node(&self, slot: u32) -> &Node<T> {
        &self.nodes[slot as usize]
    }

    #[inline]
    pub fn node_mut(&mut self, slot: u32) -> &mut Node<T> {
        &mut self.nodes[slot as usize]
    }

    /// The node after `slot` towards the tail.
    #[inline]
    pub fn next(&self, slot: u32) -> Option<u32> {
        let n = self.nodes[slot as usize].next;
        (n != NIL).then_some(n)
    }

    /// The node before `slot` towards the head.
    #[inline]
    pub fn prev(&self, slot: u32) -> Option<u32> {
        let p = self.nodes[slot as usize].prev;
        (p != NIL).then_some(p)
    }

    /// Links the unlinked `slot` at the head of `list`.
    #[inline]
    pub fn push_front<const S: bool>(&mut self, list: &mut List<S>, slot: u32) {
        self.link(list, slot, NIL, list.head);
    }

    /// Links the unlinked `slot` at the tail of `list`.
    #[inline]
    pub fn push_back<const S: bool>(&mut self, list: &mut List<S>, slot: u32) {
        self.link(list, slot, list.tail, NIL);
    }

    /// Links the unlinked `slot` between `prev` and `next`, neighbours in
    /// `list` (NIL: its ends): the inverse of [`Slab::unlink`].
    #[inline]
    fn link<const S: bool>(&mut self, list: &mut List<S>, slot: u32, prev: u32, next: u32) {
        {
            let n = &mut self.nodes[slot as usize];
            n.prev = prev;
            n.next = next;
            if S {
                list.bytes += n.size as u64;
            }
        }
        if prev != NIL {
            self.nodes[prev as usize].next = slot;
        } else {
            list.head = slot;
        }
        if next != NIL {
            self.nodes[next as usize].prev = slot;
        } else {
            list.tail = slot;
        }
        list.len += 1;
    }

    /// Unlinks `slot` from `list` (it must be in it).
    #[inline]
    pub fn unlink<const S: bool>(&mut self, list: &mut List<S>, slot: u32) {
        let (prev, next, size) = {
            let n = &self.nodes[slot as usize];
            (n.prev, n.next, n.size)
        };
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        } else {
            list.head = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        } else {
            list.tail = prev;
            // The new tail is the next victim of a queue that evicts there.
            if prev != NIL {
                self.prefetch_victim(prev);
            }
        }
        list.len -= 1;
        if S {
            list.bytes -= size as u64;
        }
    }

    /// Moves `slot`, already in `list`, to its head.
    #[inline]
    pub fn move_to_front<const S: bool>(&mut self, list: &mut List<S>, slot: u32) {
        if list.head != slot {
            self.unlink(list, slot);
            self.push_front(list, slot);
        }
    }

    /// Unlinks the tail of `list` and returns its slot.
    #[inline]
    pub fn pop_back<const S: bool>(&mut self, list: &mut List<S>) -> Option<u32> {
        let tail = list.tail()?;
        self.unlink(list, tail);
        Some(tail)
    }

    /// Bytes of heap held, for memory-per-object figures.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<T>>() + self.index.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<T>(slab: &Slab<T>, list: &SizedList) -> Vec<u64> {
        let mut out = vec![];
        let mut cur = list.head();
        while let Some(s) = cur {
            out.push(slab.node(s).key());
            cur = slab.next(s);
        }
        out
    }

    #[test]
    fn lists_link_unlink_and_reuse_slots() {
        let mut slab = Slab::default();
        let mut a = SizedList::default();
        let mut b = SizedList::default();
        let s1 = slab.insert(1, 10, ());
        let s2 = slab.insert(2, 20, ());
        let s3 = slab.insert(3, 30, ());
        slab.push_front(&mut a, s1);
        slab.push_front(&mut a, s2);
        slab.push_back(&mut a, s3);
        assert_eq!(keys(&slab, &a), [2, 1, 3]);
        assert_eq!(a.bytes(), 60);
        slab.move_to_front(&mut a, s3);
        assert_eq!(keys(&slab, &a), [3, 2, 1]);
        let t = slab.pop_back(&mut a).unwrap();
        slab.push_front(&mut b, t);
        assert_eq!((keys(&slab, &a), keys(&slab, &b)), (vec![3, 2], vec![1]));
        slab.unlink(&mut a, s2);
        slab.remove(s2);
        assert_eq!(slab.find(2), None);
        let s4 = slab.insert(4, 40, ());
        assert_eq!(s4, s2, "freed slot is reused");
        assert_eq!(slab.find(4), Some(s4));
        assert_eq!(slab.find(3), Some(s3));
        assert_eq!(slab.len(), 3);
    }
}
