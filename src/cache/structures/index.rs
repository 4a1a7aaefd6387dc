//! The slab's key index: a hash table from a key's hash to its slab slot,
//! laid out so that one 64-byte line answers almost every lookup and the
//! replay loop can prefetch that line before it needs it.
//!
//! Why not hashbrown: replay waits on memory, not on arithmetic. hashbrown
//! keeps tags and slots in separate arrays and does not say where a hash
//! lands, so a lookup costs two cold lines and cannot be started early. Here
//! a group holds 12 one-byte tags and their 12 slots in one line, and the
//! group of a hash is computed from the hash alone.
//!
//! Collisions spill into the next group (linear probing by group). Each
//! group keeps 8 overflow bits, one per hash class, set when an insert of
//! that class found the group full; a lookup stops at the first group
//! whose bit for its class is clear. A group also counts the entries
//! displaced past it, and clears its bits when a removal brings the count
//! back to zero; bits that linger (no class can be told apart from
//! another) make the table rebuild itself when too many are set.

use super::room::grown;

/// Entries per group.
const LANES: usize = 12;
/// The lanes of a match mask.
const LANE_MASK: u32 = (1 << LANES) - 1;
/// Byte of `tags` that holds the overflow bits.
const OVERFLOW: usize = LANES;
/// Byte of `tags` that counts the entries placed past the group because it
/// was full (saturating: at 255 it stays).
const DISPLACED: usize = LANES + 1;
/// Tag of an empty lane; every real tag is non-zero.
const EMPTY: u8 = 0;
/// Average entries per group before the table grows (load 0.75).
const MAX_PER_GROUP: usize = 9;
/// Average entries per group a table is sized for (load 0.58). Above it,
/// so many groups are full that a rebuild would leave nearly as many
/// overflow bits as it cleared: a rebuild then grows the table too.
const ROOMY_PER_GROUP: usize = 7;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Group {
    /// Lanes' tags, the overflow bits, the displaced count, then padding.
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
    /// Groups for the entries the index was made for.
    planned: usize,
    len: usize,
    /// Overflow bits set since the last rebuild.
    marks: usize,
}

impl SlotIndex {
    /// An index for `planned` entries that starts with room for `start`.
    pub fn new(start: usize, planned: usize) -> Self {
        SlotIndex {
            groups: vec![Group::EMPTY; start.div_ceil(ROOMY_PER_GROUP).max(1)],
            planned: planned.div_ceil(ROOMY_PER_GROUP),
            len: 0,
            marks: 0,
        }
    }

    /// The group a hash belongs to: its low 32 bits scaled to the group
    /// count (multiply-shift), so the table can have any number of groups
    /// and grow by a quarter instead of doubling.
    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((hash as u32 as u64 * self.groups.len() as u64) >> 32) as usize
    }

    #[inline]
    fn next(&self, group: usize) -> usize {
        if group + 1 == self.groups.len() {
            0
        } else {
            group + 1
        }
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
            self.rebuild(grown(self.groups.len(), self.planned), &hash_of);
        }
        self.place(hash, slot);
        self.len += 1;
        // Rebuilding at once keeps each class's bit set in at most one
        // group in 16 on average, so a miss seldom reads a second group. A
        // small table can keep too many bits even when rebuilt, and then
        // grows until it does not.
        let groups = self.groups.len();
        if too_many_marks(self.marks, groups) {
            let crowded = self.len > groups * ROOMY_PER_GROUP;
            let size = if crowded {
                grown(groups, self.planned)
            } else {
                groups
            };
            self.rebuild(size, &hash_of);
            while too_many_marks(self.marks, self.groups.len()) {
                self.rebuild(grown(self.groups.len(), self.planned), &hash_of);
            }
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
            group.tags[DISPLACED] = group.tags[DISPLACED].saturating_add(1);
            g = self.next(g);
        }
    }

    /// Drops the entry of `slot` under `hash`, if there is one.
    #[inline]
    pub fn remove(&mut self, hash: u64, slot: u32) {
        if let Some((g, lane)) = self.locate(hash, |s| s == slot) {
            self.groups[g].tags[lane] = EMPTY;
            self.len -= 1;
            let home = self.home(hash);
            if g != home {
                self.undisplace(home, g);
            }
        }
    }

    /// An entry displaced from `home` to `to` is gone: each group it passed
    /// counts one fewer, and one left with none clears its overflow bits,
    /// as no lookup needs to go past it any more.
    #[cold]
    fn undisplace(&mut self, home: usize, to: usize) {
        let mut g = home;
        while g != to {
            let tags = &mut self.groups[g].tags;
            // A saturated count no longer knows how many remain.
            if tags[DISPLACED] != u8::MAX {
                tags[DISPLACED] -= 1;
                if tags[DISPLACED] == 0 {
                    self.marks -= tags[OVERFLOW].count_ones() as usize;
                    tags[OVERFLOW] = 0;
                }
            }
            g = self.next(g);
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

/// Whether `marks` overflow bits over `groups` call for a rebuild: more
/// than one per two groups. (One per four, tried first, rebuilt a
/// 100,000-entry table 51 times in 4.4 M FIFO inserts, where bits settle
/// near 0.27 per group; at one per two it rebuilt once, and a miss read
/// 1.04 groups instead of 1.02.)
fn too_many_marks(marks: usize, groups: usize) -> bool {
    marks > groups / 2
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

    /// Every group's displaced count is the number of entries placed past
    /// it, its bits are clear when that is zero, and `marks` counts them.
    fn assert_bookkeeping(index: &SlotIndex, hash_of: impl Fn(u32) -> u64) {
        let mut displaced = vec![0usize; index.groups.len()];
        for (g, group) in index.groups.iter().enumerate() {
            let mut lanes = !group.lanes_with(EMPTY) & LANE_MASK;
            while lanes != 0 {
                let mut passed = index.home(hash_of(group.slots[lanes.trailing_zeros() as usize]));
                while passed != g {
                    displaced[passed] += 1;
                    passed = index.next(passed);
                }
                lanes &= lanes - 1;
            }
        }
        let mut bits = 0;
        for (group, &count) in index.groups.iter().zip(&displaced) {
            assert_eq!(group.tags[DISPLACED] as usize, count.min(255));
            if count == 0 {
                assert_eq!(group.tags[OVERFLOW], 0);
            }
            bits += group.tags[OVERFLOW].count_ones() as usize;
        }
        assert_eq!(index.marks, bits);
    }

    #[test]
    fn agrees_with_a_hash_map_under_churn() {
        for hash_of in [crowded as fn(u32) -> u64, |s| {
            (s as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)
        }] {
            let mut index = SlotIndex::new(16, 16);
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
                assert_bookkeeping(&index, hash_of);
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
        let mut index = SlotIndex::new(4 * ROOMY_PER_GROUP, 0);
        // Growing to 150,000 entries passes every load up to 0.75, where
        // groups fill up; then four rounds of churn at that size.
        let live = 150_000;
        for slot in 0..5 * live {
            if slot >= live {
                index.remove(hash_of(slot - live), slot - live);
            }
            index.insert(hash_of(slot), slot, hash_of);
            assert!(
                !too_many_marks(index.marks, index.groups.len()),
                "at slot {slot}"
            );
        }
        assert_eq!(index.len(), live as usize);
    }

    #[test]
    fn a_miss_ends_at_a_group_without_overflow() {
        let mut index = SlotIndex::new(1, 1);
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
