//! An indexed binary min-heap of slab slots, for the priority policies
//! (Belady, GDSF, LFU-DA): any slot's key can be changed or removed in O(log n),
//! and after warm-up no operation allocates.

use std::cmp::Ordering;

use super::room::{self, initial};

const ABSENT: u32 = u32::MAX;

pub struct Heap<K> {
    /// (key, slot), heap-ordered by key.
    items: Vec<(K, u32)>,
    /// Index in `items` of each slot, or ABSENT.
    pos: Vec<u32>,
    /// Entries the heap was made for.
    planned: usize,
}

impl<K: Ord + Copy> Heap<K> {
    /// A heap planned for `n` entries, grown to them as they come
    /// ([`super::room`]).
    pub fn with_capacity(n: usize) -> Self {
        Heap {
            items: Vec::with_capacity(initial(n)),
            pos: Vec::with_capacity(initial(n)),
            planned: n,
        }
    }

    /// Adds `slot` (not present) with `key`.
    pub fn push(&mut self, slot: u32, key: K) {
        if slot as usize >= self.pos.len() {
            room::resize(&mut self.pos, slot as usize + 1, ABSENT, self.planned);
        }
        room::push(&mut self.items, (key, slot), self.planned);
        self.place(self.items.len() - 1);
        self.sift_up(self.items.len() - 1);
    }

    /// Changes the key of `slot` (present).
    pub fn update(&mut self, slot: u32, key: K) {
        let i = self.pos[slot as usize] as usize;
        let old = std::mem::replace(&mut self.items[i].0, key);
        self.resettle(i, old);
    }

    /// The entry with the smallest key.
    pub fn peek(&self) -> Option<(K, u32)> {
        self.items.first().copied()
    }

    /// Removes and returns the entry with the smallest key.
    pub fn pop(&mut self) -> Option<(K, u32)> {
        let top = *self.items.first()?;
        self.remove(top.1);
        Some(top)
    }

    /// The smallest key of the slots other than `slot` (present), in O(1):
    /// if `slot` is at the top, the smaller of its children.
    pub fn lowest_except(&self, slot: u32) -> Option<K> {
        match self.items.first() {
            Some(&(key, top)) if top != slot => Some(key),
            _ => self.items.iter().skip(1).take(2).map(|item| item.0).min(),
        }
    }

    /// Removes `slot` (present) and returns its key.
    pub fn remove(&mut self, slot: u32) -> K {
        let i = self.pos[slot as usize] as usize;
        let key = self.items[i].0;
        self.pos[slot as usize] = ABSENT;
        let last = self.items.pop().expect("non-empty heap");
        if i < self.items.len() {
            self.items[i] = last;
            self.place(i);
            self.resettle(i, key);
        }
        key
    }

    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<(K, u32)>() + self.pos.capacity() * 4
    }

    #[inline]
    fn place(&mut self, i: usize) {
        self.pos[self.items[i].1 as usize] = i as u32;
    }

    /// Moves the item at `i`, whose key replaced `old`, to where the heap
    /// needs it: a smaller key can only go up, a larger one only down (so
    /// the other direction's reads, often cold lines, are skipped).
    fn resettle(&mut self, i: usize, old: K) {
        match self.items[i].0.cmp(&old) {
            Ordering::Less => self.sift_up(i),
            Ordering::Greater => self.sift_down(i),
            Ordering::Equal => {}
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.items[i].0 >= self.items[parent].0 {
                break;
            }
            self.items.swap(i, parent);
            self.place(i);
            self.place(parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut min = i;
            if l < self.items.len() && self.items[l].0 < self.items[min].0 {
                min = l;
            }
            if r < self.items.len() && self.items[r].0 < self.items[min].0 {
                min = r;
            }
            if min == i {
                return;
            }
            self.items.swap(i, min);
            self.place(i);
            self.place(min);
            i = min;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_key_order_after_updates_and_removals() {
        let mut h = Heap::with_capacity(4);
        for (slot, key) in [(0u32, 50u64), (1, 10), (2, 40), (3, 30), (4, 20)] {
            h.push(slot, key);
        }
        h.update(2, 5);
        h.remove(3);
        h.update(1, 60);
        let order: Vec<(u64, u32)> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(order, [(5, 2), (20, 4), (50, 0), (60, 1)]);
    }

    /// Random pushes, updates (keys up and down), removals and pops against
    /// a naive list: the same minimum after every step, and every key kept.
    #[test]
    fn stays_a_heap_under_random_operations() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut heap = Heap::with_capacity(64);
        let mut naive: Vec<(u64, u32)> = Vec::new();
        for step in 0..20_000 {
            let slot = (next() % 64) as u32;
            // Distinct keys, so the minimum's slot is unique too.
            let key = (next() % 1_000_000) * 64 + slot as u64;
            let present = naive.iter().position(|&(_, s)| s == slot);
            match (next() % 4, present) {
                (0, Some(i)) => {
                    assert_eq!(heap.remove(slot), naive.swap_remove(i).0);
                }
                (1, _) => {
                    let lowest = naive.iter().copied().min();
                    assert_eq!(heap.pop(), lowest, "step {step}");
                    naive.retain(|&item| Some(item) != lowest);
                }
                (_, Some(i)) => {
                    heap.update(slot, key);
                    naive[i].0 = key;
                }
                (_, None) => {
                    heap.push(slot, key);
                    naive.push((key, slot));
                }
            }
            assert_eq!(heap.peek(), naive.iter().copied().min(), "step {step}");
        }
    }

    #[test]
    fn lowest_except_is_the_minimum_of_the_others() {
        let keys = [50u64, 10, 40, 30, 20, 15];
        let mut h = Heap::with_capacity(keys.len());
        for (slot, &key) in keys.iter().enumerate() {
            h.push(slot as u32, key);
        }
        for slot in 0..keys.len() {
            let others = keys.iter().enumerate().filter(|&(s, _)| s != slot);
            let naive = others.map(|(_, &k)| k).min();
            assert_eq!(h.lowest_except(slot as u32), naive, "slot {slot}");
        }
        let mut single = Heap::with_capacity(1);
        single.push(7, 1u64);
        assert_eq!(single.lowest_except(7), None);
    }
}
