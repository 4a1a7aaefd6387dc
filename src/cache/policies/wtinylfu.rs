//! W-TinyLFU (Einziger, Friedman & Manes, TOS'17), in Caffeine's shape: a
//! window LRU (1% of the capacity by default) in front of a segmented LRU
//! main cache (probation, and protected = 80% of main), with admission to
//! main decided by a frequency sketch.
//!
//! - Every request is counted in a count-min sketch (4 rows of 4-bit
//!   counters) behind a doorkeeper bit set: a key's first occurrence only
//!   sets its doorkeeper bits. After `10 x width` counted requests all
//!   counters are halved and the doorkeeper is cleared (aging).
//! - A miss enters the window's head. Entries pushed out of the window are
//!   candidates for main: admitted to probation's head if main has room;
//!   otherwise, while main lacks room, the candidate is compared with main's
//!   victim (probation's tail, else protected's): the victim is evicted if
//!   the candidate is estimated strictly more frequent, else the candidate
//!   is dropped.
//! - A hit in the window moves it to the window's head; in probation, to
//!   protected's head (protected's tail goes back to probation when over its
//!   share); in protected, to its head.
//!
//! The sketch has one counter per expected cached object (rounded up to a
//! power of two; in byte mode, assuming 4 KiB objects).

use crate::cache::blocks::{Lists, Moves, Queues};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::engine::mix64;
use crate::error::ConfigError;
use crate::workload::Request;

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;

/// Count-min sketch of 4-bit counters (stored one per byte) with a
/// doorkeeper and periodic halving.
struct Sketch {
    counters: Vec<u8>,
    doorkeeper: Vec<u64>,
    /// `width - 1`; the width is a power of two.
    mask: u64,
    added: u64,
    sample: u64,
}

impl Sketch {
    const ROWS: u64 = 4;

    fn new(expected: usize) -> Self {
        let width = expected.max(16).next_power_of_two();
        Sketch {
            counters: vec![0; width * Self::ROWS as usize],
            doorkeeper: vec![0; width.div_ceil(64)],
            mask: width as u64 - 1,
            added: 0,
            sample: 10 * width as u64,
        }
    }

    /// The counter index of `key` in `row`.
    #[inline]
    fn index(&self, key: u64, row: u64) -> usize {
        let h = mix64(key ^ row.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        (row * (self.mask + 1) + (h & self.mask)) as usize
    }

    #[inline]
    fn door_bit(&self, key: u64) -> (usize, u64) {
        let h = mix64(key.wrapping_add(0x2545_f491_4f6c_dd1d)) & self.mask;
        ((h / 64) as usize, 1 << (h % 64))
    }

    fn estimate(&self, key: u64) -> u32 {
        let min = (0..Self::ROWS)
            .map(|r| self.counters[self.index(key, r)])
            .min()
            .unwrap_or(0);
        let (word, bit) = self.door_bit(key);
        min as u32 + (self.doorkeeper[word] & bit != 0) as u32
    }

    fn record(&mut self, key: u64) {
        let (word, bit) = self.door_bit(key);
        if self.doorkeeper[word] & bit == 0 {
            self.doorkeeper[word] |= bit;
        } else {
            for r in 0..Self::ROWS {
                let i = self.index(key, r);
                self.counters[i] = (self.counters[i] + 1).min(15);
            }
        }
        self.added += 1;
        if self.added >= self.sample {
            self.counters.iter_mut().for_each(|c| *c /= 2);
            self.doorkeeper.fill(0);
            self.added /= 2;
        }
    }

    fn heap_bytes(&self) -> usize {
        self.counters.capacity() + self.doorkeeper.capacity() * 8
    }
}

/// W-TinyLFU's moves over the window, probation and protected lists (all
/// cached), named [`WINDOW`], [`PROBATION`], [`PROTECTED`] in node data.
pub struct WTinyLfu {
    sketch: Sketch,
    window_capacity: u64,
    main_capacity: u64,
    protected_capacity: u64,
}

impl WTinyLfu {
    /// `window` is the window's share of `capacity`; `sketch_width` the
    /// number of counters per sketch row (before rounding).
    pub fn new(capacity: u64, window: f64, sketch_width: usize) -> Self {
        let window_capacity = ((capacity as f64 * window) as u64).max(1);
        let main_capacity = capacity.saturating_sub(window_capacity);
        WTinyLfu {
            sketch: Sketch::new(sketch_width),
            window_capacity,
            main_capacity,
            protected_capacity: (main_capacity as f64 * 0.8) as u64,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let window = ctx.params.number("window")?;
        let width = if ctx.count_objects {
            ctx.capacity.min(1 << 26) as usize
        } else {
            (ctx.capacity / 4096).clamp(1 << 10, 1 << 24) as usize
        };
        let moves = Self::new(ctx.capacity, window, width);
        Ok(Queues::build_with(ctx, moves, ctx.expected_objects()))
    }

    fn estimate(&self, lists: &Lists<Self>, slot: u32) -> u32 {
        self.sketch.estimate(lists.slab.node(slot).key())
    }

    /// Offers the window's tail to main.
    fn admit_candidate(&self, lists: &mut Lists<Self>) {
        let cand = lists.tail(WINDOW).expect("non-empty window");
        let size = lists.size(cand);
        let freq = self.estimate(lists, cand);
        while lists.bytes(PROBATION) + lists.bytes(PROTECTED) + size > self.main_capacity {
            // Main's victim: probation's tail, else protected's.
            match lists.tail(PROBATION).or(lists.tail(PROTECTED)) {
                Some(victim) if freq > self.estimate(lists, victim) => lists.delete(victim),
                _ => return lists.delete(cand),
            }
        }
        lists.relink(cand, PROBATION);
    }
}

impl Moves for WTinyLfu {
    type Entry = u8;
    const CACHED: u8 = 3;
    const RELINKS_ON_HIT: bool = true;

    #[inline]
    fn lookup(&mut self, lists: &mut Lists<Self>, req: &Request) -> bool {
        self.sketch.record(req.key);
        if let Some((slot, list)) = lists.find(req.key) {
            if list == PROBATION {
                lists.relink(slot, PROTECTED);
                while lists.bytes(PROTECTED) > self.protected_capacity {
                    lists.demote(PROTECTED, PROBATION);
                }
            } else {
                lists.raise(slot);
            }
            return true;
        }
        if req.size as u64 > lists.capacity() {
            return false;
        }
        lists.insert(req.key, req.size, WINDOW);
        while lists.bytes(WINDOW) > self.window_capacity {
            self.admit_candidate(lists);
        }
        false
    }

    fn extra_heap_bytes(&self) -> usize {
        self.sketch.heap_bytes()
    }
}
