//! A priority queue of timed events that breaks ties by scheduling order, so
//! that two events at the same instant always come out in the same order.
//!
//! It is the service simulation's hot path, so it is not `BinaryHeap`: an
//! implicit 4-ary min-heap of (time, sequence number, event) entries, where
//! (time, seq) compares as one `u128` and the smallest of four children is
//! chosen without branches. The array always ends with four sentinel
//! entries (keys that lose to every real one), so every node has four
//! children to compare and no partial-family branch is needed.
//!
//! Two more tricks fit the simulation pattern "pop an event, push the events
//! it causes". `pop` takes the root and leaves it vacant; the next `push`
//! drops its entry there (or the next `pop` moves the last entry there) and
//! sifts it bottom-up: the vacancy moves down the path of smaller children
//! to a leaf, then the entry climbs back, usually a level or none, since new
//! events tend to be late ones. `cargo bench --bench engine` compares it with
//! the `BinaryHeap` it replaced.

use std::mem::{self, MaybeUninit};
use std::ptr;

use super::SimTime;

/// Children per node.
const D: usize = 4;

struct Entry<E> {
    time: SimTime,
    seq: u64,
    /// Initialised in live entries only (not in sentinels or the vacant root).
    event: MaybeUninit<E>,
}

impl<E> Entry<E> {
    const SENTINEL: Self = Entry {
        time: SimTime::MAX,
        seq: u64::MAX,
        event: MaybeUninit::uninit(),
    };
}

/// The ordering key of the entry at `p`. No real entry reaches u128::MAX:
/// sequence numbers stop short of u64::MAX.
#[inline(always)]
unsafe fn key<E>(p: *const Entry<E>) -> u128 {
    // SAFETY: the caller passes a pointer into the entry array.
    let e = unsafe { &*p };
    (e.time as u128) << 64 | e.seq as u128
}

/// Events ordered by (time, sequence number of scheduling).
pub struct EventQueue<E> {
    /// The heap: `slots` entries (live ones, and the vacant root if
    /// `vacant`), then `D` sentinels.
    entries: Vec<Entry<E>>,
    slots: usize,
    vacant: bool,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        let mut entries = Vec::with_capacity(16);
        entries.extend((0..D).map(|_| Entry::SENTINEL));
        Self {
            entries,
            slots: 0,
            vacant: false,
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`; later calls at the same time come out later.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let entry = Entry {
            time,
            seq: self.next_seq,
            event: MaybeUninit::new(event),
        };
        self.next_seq += 1;
        if self.vacant {
            self.vacant = false;
            // SAFETY: the root is vacant and `slots` >= 1 counts it.
            unsafe { self.settle_from_root(entry, self.slots) };
        } else {
            // The new last slot is the first sentinel; add one at the end.
            self.entries.push(Entry::SENTINEL);
            let i = self.slots;
            self.slots += 1;
            // SAFETY: slot i exists and holds a sentinel, which may be
            // overwritten.
            unsafe { self.sift_up(i, entry) };
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.vacant {
            self.fill_root();
        }
        if self.slots == 0 {
            return None;
        }
        self.vacant = true;
        // SAFETY: the root is live; marking it vacant hands its event over.
        let root = unsafe { ptr::read(self.entries.as_ptr()) };
        Some((root.time, unsafe { root.event.assume_init() }))
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        if !self.vacant {
            return (self.slots > 0).then(|| self.entries[0].time);
        }
        if self.slots == 1 {
            return None;
        }
        // SAFETY: the root's D children exist (live or sentinel) and at
        // least one is live, so the smallest is.
        Some(unsafe { self.entries[Self::min_child(self.entries.as_ptr(), 1)].time })
    }

    pub fn len(&self) -> usize {
        self.slots - self.vacant as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of the smallest of the D children starting at `c`, with no
    /// data-dependent branch.
    ///
    /// # Safety
    /// `c + D <= entries.len()`, with `p` the array's pointer.
    #[inline(always)]
    unsafe fn min_child(p: *const Entry<E>, c: usize) -> usize {
        // SAFETY: c..c + D are in the array.
        unsafe {
            let a = c + (key(p.add(c + 1)) < key(p.add(c))) as usize;
            let b = c + 2 + (key(p.add(c + 3)) < key(p.add(c + 2))) as usize;
            let b_first = (key(p.add(b)) < key(p.add(a))) as usize;
            a ^ ((a ^ b) & b_first.wrapping_neg())
        }
    }

    /// Moves the vacant root's hole down the path of smaller children to
    /// the bottom of the first `len` slots, then sifts `entry` up from there.
    ///
    /// # Safety
    /// The root is vacant, `1 <= len <= slots`, and every slot below `len`
    /// but the root is live.
    #[inline(always)]
    unsafe fn settle_from_root(&mut self, entry: Entry<E>, len: usize) {
        let p = self.entries.as_mut_ptr();
        let mut hole = 0;
        loop {
            let c = D * hole + 1;
            if c >= len {
                break;
            }
            // SAFETY: c < len <= slots, and the D sentinels follow the
            // slots, so c + D <= entries.len(); child m is live (sentinels
            // lose to it) and moves into the hole, leaving its own place
            // vacant.
            unsafe {
                let m = Self::min_child(p, c);
                ptr::copy_nonoverlapping(p.add(m), p.add(hole), 1);
                hole = m;
            }
        }
        // SAFETY: `hole` is vacant and in the heap.
        unsafe { self.sift_up(hole, entry) };
    }

    /// Puts `entry` in the vacant (or sentinel) slot `i`, moving it up past
    /// larger parents.
    ///
    /// # Safety
    /// `i < slots` and slot i may be overwritten.
    #[inline(always)]
    unsafe fn sift_up(&mut self, mut i: usize, entry: Entry<E>) {
        let p = self.entries.as_mut_ptr();
        // SAFETY: parents of a slot are live slots below it; each moves
        // down into the current hole, which moves up to its place.
        unsafe {
            let k = key(&entry);
            while i > 0 {
                let parent = (i - 1) / D;
                if key(p.add(parent)) <= k {
                    break;
                }
                ptr::copy_nonoverlapping(p.add(parent), p.add(i), 1);
                i = parent;
            }
            ptr::write(p.add(i), entry);
        }
    }

    /// Fills the vacant root with the last entry, shrinking the heap by one.
    fn fill_root(&mut self) {
        self.vacant = false;
        self.slots -= 1;
        let last = self.slots;
        let p = self.entries.as_mut_ptr();
        // SAFETY: slot `last` exists; it becomes the first sentinel (its
        // event, if live, is moved out first) and the array drops the
        // extra sentinel at its end, which has no drop glue.
        unsafe {
            let entry = ptr::replace(p.add(last), Entry::SENTINEL);
            self.entries.set_len(last + D);
            if last > 0 {
                // The root was not the last slot, so `entry` is live.
                self.settle_from_root(entry, last);
            }
        }
    }
}

impl<E> Drop for EventQueue<E> {
    fn drop(&mut self) {
        if !mem::needs_drop::<E>() {
            return;
        }
        let first = self.vacant as usize;
        for entry in &mut self.entries[first..self.slots] {
            // SAFETY: these slots are live and dropped once.
            unsafe { entry.event.assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::rc::Rc;

    #[test]
    fn orders_by_time_then_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(5, "late");
        q.push(1, "first at 1");
        q.push(1, "second at 1");
        q.push(0, "earliest");
        q.push(1, "third at 1");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            [
                (0, "earliest"),
                (1, "first at 1"),
                (1, "second at 1"),
                (1, "third at 1"),
                (5, "late")
            ]
        );
    }

    #[test]
    fn events_are_dropped_once_whatever_state_the_queue_is_in() {
        let token = Rc::new(());
        for pops in 0..6 {
            let mut q = EventQueue::new();
            for t in [3, 1, 4, 1, 5, 9, 2, 6] {
                q.push(t, Rc::clone(&token));
            }
            for _ in 0..pops {
                drop(q.pop());
            }
            assert_eq!(Rc::strong_count(&token), 9 - pops);
            drop(q);
            assert_eq!(Rc::strong_count(&token), 1);
        }
    }

    /// The reference: a list kept sorted stably by time, so equal times
    /// stay in push order.
    #[derive(Default)]
    struct Naive(Vec<(SimTime, u32)>);

    impl Naive {
        fn push(&mut self, time: SimTime, event: u32) {
            let at = self.0.partition_point(|&(t, _)| t <= time);
            self.0.insert(at, (time, event));
        }
        fn pop(&mut self) -> Option<(SimTime, u32)> {
            (!self.0.is_empty()).then(|| self.0.remove(0))
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(SimTime),
        Pop,
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        // Few distinct times, so many ties; pushes outnumber pops so the
        // heap grows several levels deep, then drains.
        let op = prop_oneof![
            3 => (0..8u64).prop_map(Op::Push),
            1 => (0..1u64 << 40).prop_map(Op::Push),
            2 => Just(Op::Pop),
        ];
        proptest::collection::vec(op, 0..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn pops_the_same_sequence_as_a_stably_sorted_list(ops in ops()) {
            let (mut q, mut naive) = (EventQueue::new(), Naive::default());
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Push(t) => {
                        q.push(t, i as u32);
                        naive.push(t, i as u32);
                    }
                    Op::Pop => prop_assert_eq!(q.pop(), naive.pop()),
                }
                prop_assert_eq!(q.len(), naive.0.len());
                prop_assert_eq!(q.is_empty(), naive.0.is_empty());
                prop_assert_eq!(q.peek_time(), naive.0.first().map(|e| e.0));
            }
            while let Some(e) = naive.pop() {
                prop_assert_eq!(q.pop(), Some(e));
            }
            prop_assert_eq!(q.pop(), None);
            prop_assert_eq!(q.peek_time(), None);
        }
    }
}
