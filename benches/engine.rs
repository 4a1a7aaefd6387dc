//! Event-queue throughput on the classic "hold" model: N events pending;
//! each operation pops the earliest and pushes one at its time plus an
//! exponential increment, so N stays constant. Compares `EventQueue` with
//! the `BinaryHeap<Reverse<..>>` it replaced (a copy kept here).
//!
//! `cargo bench --bench engine [-- N...]`. Increments come from a table
//! drawn beforehand, so the RNG is not timed. Rates are per CPU second of
//! this thread (from /proc/thread-self/schedstat, wall clock elsewhere),
//! which is steadier than the wall clock on a shared machine. The "ties"
//! row rounds increments to whole milliseconds: many events share a time.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Instant;

use edgesim::engine::{EventQueue, SimTime, stream};
use rand_distr::{Distribution, Exp1};

/// Hold operations (one pop + one push) timed per queue and N.
const OPS: usize = 10_000_000;
/// Mean increment: 1 ms.
const MEAN: f64 = 1e6;

/// The payload of the service simulation's events.
#[derive(Clone, Copy)]
enum Event {
    Enter(usize),
    Done(usize),
}

trait Queue: Default {
    fn push(&mut self, time: SimTime, event: Event);
    fn pop(&mut self) -> Option<(SimTime, Event)>;
}

impl Queue for EventQueue<Event> {
    #[inline]
    fn push(&mut self, time: SimTime, event: Event) {
        EventQueue::push(self, time, event)
    }
    #[inline]
    fn pop(&mut self) -> Option<(SimTime, Event)> {
        EventQueue::pop(self)
    }
}

/// The queue as it was: a std binary heap of (time, seq, event).
#[derive(Default)]
struct Baseline {
    heap: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
}

struct Scheduled {
    time: SimTime,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

impl Queue for Baseline {
    #[inline]
    fn push(&mut self, time: SimTime, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Scheduled { time, seq, event }));
    }
    #[inline]
    fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.heap.pop().map(|Reverse(s)| (s.time, s.event))
    }
}

/// Seconds of CPU time this thread has used, if the kernel says.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(stat.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// Runs the hold model; returns (M ops/s, checksum of the popped events).
fn hold<Q: Queue>(n: usize, increments: &[SimTime]) -> (f64, u64) {
    let mask = increments.len() - 1;
    let mut q = Q::default();
    for i in 0..n {
        q.push(increments[i & mask], Event::Enter(i));
    }
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut sum = 0u64;
    for i in 0..OPS {
        let (now, event) = q.pop().expect("n >= 1");
        let (Event::Enter(k) | Event::Done(k)) = event;
        sum = sum.wrapping_mul(31).wrapping_add(now ^ k as u64);
        let next = if i & 1 == 0 {
            Event::Done(i)
        } else {
            Event::Enter(i)
        };
        q.push(now + increments[(i + n) & mask], next);
    }
    let secs = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed().as_secs_f64(),
    };
    black_box(&q);
    (OPS as f64 / secs / 1e6, sum)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1, 16, 1000, 100_000]
    } else {
        sizes
    };
    let mut rng = stream(42, "bench-hold");
    let exp: Vec<f64> = (0..1 << 16).map(|_| Exp1.sample(&mut rng)).collect();
    let fine: Vec<SimTime> = exp.iter().map(|x| (x * MEAN) as SimTime).collect();
    let coarse: Vec<SimTime> = fine.iter().map(|t| t / 1_000_000 * 1_000_000).collect();
    let clock = if cpu_seconds().is_some() {
        "CPU"
    } else {
        "wall"
    };
    println!("hold model, {OPS} pop+push per row, M ops per {clock} second");
    println!(
        "{:>12} {:>10} {:>10} {:>7}",
        "N", "BinaryHeap", "EventQueue", "speedup"
    );
    let rows = sizes
        .iter()
        .map(|&n| (n, &fine, ""))
        .chain(sizes.contains(&1000).then_some((1000, &coarse, " ties")));
    for (n, increments, label) in rows {
        let (old, old_sum) = hold::<Baseline>(n, increments);
        let (new, new_sum) = hold::<EventQueue<Event>>(n, increments);
        assert_eq!(old_sum, new_sum, "the queues disagree at N = {n}{label}");
        println!(
            "{:>12} {old:>10.1} {new:>10.1} {:>6.2}x",
            format!("{n}{label}"),
            new / old
        );
    }
}
