//! The slab's key index: a hash table from a key's hash to its slab slot,
//! laid out so that one 64-byte line answers almost every lookup and the
//! replay loop can prefetch that line before it needs it.
//!
//! Why not hashbrown: replay waits on memory, not on arithmetic. hashbrown
//! keeps tags and slots in separate arrays and does not say where a hash
//! lands, so a lookup costs two cold lines and cannot be started early. Here
//! a group holds 12 one-byte tags and their 12 slots in one line, and the
//! group of a hash is its low bits.
//!
//! Collisions spill into the next group (linear probing by group). Each
//! group keeps 8 overflow bits, one per hash class, set when an insert of
//! that class found the group full; a lookup stops at the first group
//! whose bit for its class is clear. Bits are never cleared by removals,
//! so the table rebuilds itself when too many are set.

/// Entries per group.
const LANES: usize = 12;
/// The lanes of a match mask.
const LANE_MASK: u32 = (1 << LANES) - 1;
/// Byte of `tags` that holds the overflow bits.
const OVERFLOW: usize = LANES;
/// Tag of an empty lane; every real tag is non-zero.
const EMPTY: u8 = 0;
/// Average entries per group before the table doubles (load 0.75).
const MAX_PER_GROUP: usize = 9;
/// Average entries per group a table is sized for (load 0.58). Above it,
/// so many groups are full that a rebuild would leave nearly as many
/// overflow bits as it cleared: a rebuild then doubles the table too.
const ROOMY_PER_GROUP: usize = 7;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Group {
    /// Lanes' tags, then the overflow bits, then padding.
    tags: [u8; 16],
    slots: [u32; LANES],
}

impl Group {
    const EMPTY: Group = Group {
        tags: [EMPTY; 16],
        slots: [0; LANES],
    };

    /// Bit i set when lane i has `tag`.
    #[inline]
    fn lanes_with(&self, tag: u8) -> u32 {
        #[cfg(target_arch = "x86_64")]
        let mask = {
            use std::arch::x86_64::{
                __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
            };
            // SAFETY: `tags` is 16 readable bytes; SSE2 is part of x86-64.
            unsafe {
                let tags = _mm_loadu_si128(self.tags.as_ptr().cast::<__m128i>());
                _mm_movemask_epi8(_mm_cmpeq_epi8(tags, _mm_set1_epi8(tag as i8))) as u32
            }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let mask = self
            .tags
            .iter()
            .enumerate()
            .fold(0, |mask, (i, &t)| mask | ((t == tag) as u32) << i);
        mask & LANE_MASK
    }

    #[inline]
    fn overflowed(&self, class: u8) -> bool {
        self.tags[OVERFLOW] & class != 0
    }
}

/// The tag stored for a hash: its top byte, never [`EMPTY`].
#[inline]
fn tag(hash: u64) -> u8 {
    ((hash >> 56) as u8).max(1)
}

/// The overflow bit of a hash: three bits the tag and group do not use.
#[inline]
fn class(hash: u64) -> u8 {
    1 << ((hash >> 53) & 7)
}

/// Hash → slot, for hashes the caller computes; equal keys are told apart
/// by the caller's `eq`, so the index never sees a key.
pub struct SlotIndex {
    groups: Vec<Group>,
    len: usize,
    /// Overflow bits set since the last rebuild.
    marks: usize,
}

impl SlotIndex {
    /// An index that holds `n` entries before it grows.
    pub fn with_capacity(n: usize) -> Self {
        SlotIndex {
            groups: vec![Group::EMPTY; n.div_ceil(ROOMY_PER_GROUP).next_power_of_two()],
            len: 0,
            marks: 0,
        }
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        hash as usize & (self.groups.len() - 1)
    }

    #[inline]
    fn next(&self, group: usize) -> usize {
        (group + 1) & (self.groups.len() - 1)
    }

    /// Starts loading the line a lookup of `hash` reads first.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        prefetch_line(&self.groups[self.home(hash)]);
    }

    /// The first slot in `hash`'s home group with its tag: most likely the
    /// one a lookup will find, named without reading any key.
    #[inline]
    pub fn likely(&self, hash: u64) -> Option<u32> {
        let group = &self.groups[self.home(hash)];
        let lanes = group.lanes_with(tag(hash));
        (lanes != 0).then(|| group.slots[lanes.trailing_zeros() as usize])
    }

    /// The slot with `hash` for which `eq` holds, if any.
    #[inline(always)]
    pub fn find(&self, hash: u64, eq: impl FnMut(u32) -> bool) -> Option<u32> {
        self.locate(hash, eq)
            .map(|(g, lane)| self.groups[g].slots[lane])
    }

    /// The group and lane of the entry with `hash` for which `eq` holds.
    /// (Always inlined: left to the inliner, ARC's lookups stopped being
    /// inlined and ran 9% more instructions.)
    #[inline(always)]
    fn locate(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<(usize, usize)> {
        let (tag, class) = (tag(hash), class(hash));
        let mut g = self.home(hash);
        loop {
            let group = &self.groups[g];
            let mut lanes = group.lanes_with(tag);
            while lanes != 0 {
                let lane = lanes.trailing_zeros() as usize;
                if eq(group.slots[lane]) {
                    return Some((g, lane));
                }
                lanes &= lanes - 1;
            }
            if !group.overflowed(class) {
                return None;
            }
            g = self.next(g);
        }
    }

    /// Adds `slot` under `hash`; `hash_of` gives any entry's hash, for
    /// when the table grows or rebuilds.
    #[inline]
    pub fn insert(&mut self, hash: u64, slot: u32, hash_of: impl Fn(u32) -> u64) {
        if self.len >= self.groups.len() * MAX_PER_GROUP {
            self.rebuild(self.groups.len() * 2, &hash_of);
        }
        self.place(hash, slot);
        self.len += 1;
        // Rebuilding at once keeps every class's bit clear in at least 3/4
        // of the groups, so each lookup stops soon.
        let groups = self.groups.len();
        if self.marks > groups / 4 {
            let crowded = self.len > groups * ROOMY_PER_GROUP;
            self.rebuild(if crowded { groups * 2 } else { groups }, &hash_of);
        }
    }

    #[inline]
    fn place(&mut self, hash: u64, slot: u32) {
        let class = class(hash);
        let mut g = self.home(hash);
        loop {
            let group = &mut self.groups[g];
            let free = group.lanes_with(EMPTY);
            if free != 0 {
                let lane = free.trailing_zeros() as usize;
                group.tags[lane] = tag(hash);
                group.slots[lane] = slot;
                return;
            }
            if !group.overflowed(class) {
                group.tags[OVERFLOW] |= class;
                self.marks += 1;
            }
            g = self.next(g);
        }
    }

    /// Drops the entry of `slot` under `hash`, if there is one.
    #[inline]
    pub fn remove(&mut self, hash: u64, slot: u32) {
        if let Some((g, lane)) = self.locate(hash, |s| s == slot) {
            self.groups[g].tags[lane] = EMPTY;
            self.len -= 1;
        }
    }

    /// Re-places every entry into `groups` fresh groups, clearing the
    /// overflow bits.
    #[cold]
    fn rebuild(&mut self, groups: usize, hash_of: &impl Fn(u32) -> u64) {
        let old = std::mem::replace(&mut self.groups, vec![Group::EMPTY; groups]);
        self.marks = 0;
        for group in &old {
            let mut lanes = !group.lanes_with(EMPTY) & LANE_MASK;
            while lanes != 0 {
                let slot = group.slots[lanes.trailing_zeros() as usize];
                self.place(hash_of(slot), slot);
                lanes &= lanes - 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn heap_bytes(&self) -> usize {
        self.groups.capacity() * size_of::<Group>()
    }
}

/// Asks the CPU to start loading the cache line holding `value`. A hint
/// only: it never faults and changes no result.
#[inline]
pub fn prefetch_line<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching reads nothing architecturally; any address is allowed.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A deliberately poor hash (few distinct homes and tags) so that
    /// groups overflow, probes run long and rebuilds happen.
    fn crowded(slot: u32) -> u64 {
        let h = (slot as u64 % 97).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h & !(0xff << 56) | ((slot as u64 % 3) << 56)
    }

    #[test]
    fn agrees_with_a_hash_map_under_churn() {
        for hash_of in [crowded as fn(u32) -> u64, |s| {
            (s as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)
        }] {
            let mut index = SlotIndex::with_capacity(16);
            let mut model: HashMap<u32, ()> = HashMap::new();
            let mut x = 1u64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let slot = (x % 600) as u32;
                if model.remove(&slot).is_some() {
                    index.remove(hash_of(slot), slot);
                } else {
                    index.insert(hash_of(slot), slot, hash_of);
                    model.insert(slot, ());
                }
                let probe = ((x >> 20) % 600) as u32;
                assert_eq!(
                    index.find(hash_of(probe), |s| s == probe),
                    model.contains_key(&probe).then_some(probe)
                );
                assert_eq!(index.len(), model.len());
            }
            for slot in 0..600 {
                let found = index.find(hash_of(slot), |s| s == slot);
                assert_eq!(found.is_some(), model.contains_key(&slot), "slot {slot}");
            }
        }
    }

    #[test]
    fn overflow_bits_stay_few_while_growing_and_churning() {
        // A rebuild that left as many bits as it cleared would rebuild again
        // on the next insert, and the next: replay slowed 50- to 600-fold.
        let hash_of = |s: u32| {
            // splitmix64's finalizer: random-looking, unlike a bare multiply,
            // which spreads consecutive slots perfectly evenly.
            let mut z = (s as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut index = SlotIndex::with_capacity(16);
        // Growing to 150,000 entries passes every load up to 0.75, where
        // groups fill up; then four rounds of churn at that size.
        let live = 150_000;
        for slot in 0..5 * live {
            if slot >= live {
                index.remove(hash_of(slot - live), slot - live);
            }
            index.insert(hash_of(slot), slot, hash_of);
            assert!(index.marks <= index.groups.len() / 4, "at slot {slot}");
        }
        assert_eq!(index.len(), live as usize);
    }

    #[test]
    fn a_miss_ends_at_a_group_without_overflow() {
        let mut index = SlotIndex::with_capacity(1);
        let hash_of = |_| 0u64;
        for slot in 0..LANES as u32 + 1 {
            index.insert(0, slot, hash_of);
        }
        // The 13th entry spilled into the next group and marked the first.
        assert!(index.groups[0].overflowed(class(0)));
        assert_eq!(index.find(0, |s| s == LANES as u32), Some(LANES as u32));
        assert_eq!(index.find(0, |s| s == 99), None);
    }
}
