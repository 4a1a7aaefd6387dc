//! Segmented LRU with n equal segments, as libCacheSim's `SLRU`: segment 0
//! is the probationary end, segment n-1 the most protected. A hit moves an
//! entry up one segment (or to the head of the top one); a segment over its
//! share pushes its LRU entry down one segment, and segment 0 pushes out of
//! the cache. A new object goes to the lowest segment with room for it (so
//! an empty cache fills every segment), else to segment 0. Eviction takes
//! the LRU entry of the lowest non-empty segment. Objects larger than one
//! segment are not inserted.

use crate::cache::blocks::Policy;
use crate::cache::structures::{SizedList, Slab};
use crate::cache::{BoxedCache, PolicyCtx};
use crate::error::ConfigError;
use crate::workload::Request;

pub struct Slru {
    /// Node data: the segment the entry is in.
    slab: Slab<u8>,
    segments: Vec<SizedList>,
    /// Capacity of each segment: `capacity / n`.
    segment_capacity: u64,
    capacity: u64,
}

impl Slru {
    pub fn new(capacity: u64, segments: u32, expected_objects: usize) -> Self {
        Slru {
            slab: Slab::with_capacity(expected_objects),
            segments: vec![SizedList::default(); segments as usize],
            segment_capacity: capacity / segments as u64,
            capacity,
        }
    }

    pub(crate) fn build(ctx: &PolicyCtx) -> Result<BoxedCache, ConfigError> {
        let n = ctx.params.int("segments")? as u32;
        Ok(Box::new(Self::new(ctx.capacity, n, ctx.expected_objects())))
    }

    /// Evicts the LRU entry of the lowest non-empty segment.
    fn evict(&mut self) {
        let seg = self
            .segments
            .iter()
            .position(|l| !l.is_empty())
            .expect("evicting from an empty cache");
        let victim = self
            .slab
            .pop_back(&mut self.segments[seg])
            .expect("non-empty");
        self.slab.remove(victim);
    }

    /// Moves the LRU entry of segment `seg` down one segment (out of the
    /// cache from segment 0), cascading while the lower one is over its share.
    fn cool(&mut self, seg: usize) {
        if seg == 0 {
            return self.evict();
        }
        let slot = self
            .slab
            .pop_back(&mut self.segments[seg])
            .expect("non-empty");
        self.slab.node_mut(slot).data = (seg - 1) as u8;
        self.slab.push_front(&mut self.segments[seg - 1], slot);
        while self.segments[seg - 1].bytes() > self.segment_capacity {
            self.cool(seg - 1);
        }
    }

    fn segment_of(&self, slot: u32) -> usize {
        self.slab.node(slot).data as usize
    }
}

impl Policy for Slru {
    type Store = Slab<u8>;
    const RELINKS_ON_HIT: bool = true;

    fn store(&self) -> &Self::Store {
        &self.slab
    }

    fn lookup(&mut self, req: &Request) -> bool {
        if let Some(slot) = self.slab.find(req.key) {
            let seg = self.segment_of(slot);
            let top = self.segments.len() - 1;
            if seg == top {
                self.slab.move_to_front(&mut self.segments[top], slot);
            } else {
                self.slab.unlink(&mut self.segments[seg], slot);
                self.slab.node_mut(slot).data = (seg + 1) as u8;
                self.slab.push_front(&mut self.segments[seg + 1], slot);
                while self.segments[seg + 1].bytes() > self.segment_capacity {
                    self.cool(seg + 1);
                }
            }
            return true;
        }
        let size = req.size as u64;
        if size > self.segment_capacity {
            return false;
        }
        while self.slab.bytes() + size > self.capacity {
            self.evict();
        }
        let seg = self
            .segments
            .iter()
            .position(|l| l.bytes() + size <= self.segment_capacity)
            .unwrap_or(0);
        let slot = self.slab.insert(req.key, req.size, seg as u8);
        self.slab.push_front(&mut self.segments[seg], slot);
        false
    }

    fn discard(&mut self, key: u64) -> bool {
        let Some(slot) = self.slab.find(key) else {
            return false;
        };
        let seg = self.segment_of(slot);
        self.slab.unlink(&mut self.segments[seg], slot);
        self.slab.remove(slot);
        true
    }

    fn limit(&self) -> u64 {
        self.capacity
    }
}
