//! A priority queue of timed events that breaks ties by scheduling order, so
//! that two events at the same instant always come out in the same order.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::SimTime;

struct Scheduled<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Scheduled<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<E> Eq for Scheduled<E> {}
impl<E> PartialOrd for Scheduled<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Scheduled<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// Events ordered by (time, sequence number of scheduling).
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Scheduled<E>>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`; later calls at the same time come out later.
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Scheduled { time, seq, event }));
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|Reverse(s)| (s.time, s.event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(s)| s.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
