//! How the structures size themselves: for what is cached, not for what
//! could be. A cache is made for a planned number of objects (its capacity,
//! or what its bytes hold at an average size) but reserves only a little
//! of it up front and grows by a quarter at a time, so a cache larger than
//! the trace's working set costs what it holds, and one grown to its plan
//! wastes at most a fifth of its room (doubling would waste up to half).

/// Most entries reserved before any is inserted.
const RESERVED_AT_MOST: usize = 1 << 16;

/// Room to reserve up front for a structure planned for `planned` entries.
pub fn initial(planned: usize) -> usize {
    planned.min(RESERVED_AT_MOST)
}

/// What a structure of `current` units grows to: a quarter more, but no
/// further than `planned` while it is below it.
pub fn grown(current: usize, planned: usize) -> usize {
    let next = current + current.div_ceil(4);
    if current < planned {
        next.min(planned)
    } else {
        next
    }
}

/// Pushes `item` onto `v`, growing it as [`grown`] says when it is full.
#[inline]
pub fn push<T>(v: &mut Vec<T>, item: T, planned: usize) {
    if v.len() == v.capacity() {
        grow(v, v.len() + 1, planned);
    }
    v.push(item);
}

/// Resizes `v` to `len` entries, new ones `fill`, growing it as [`grown`]
/// says when it is too small.
pub fn resize<T: Clone>(v: &mut Vec<T>, len: usize, fill: T, planned: usize) {
    if len > v.capacity() {
        grow(v, len, planned);
    }
    v.resize(len, fill);
}

#[cold]
fn grow<T>(v: &mut Vec<T>, len: usize, planned: usize) {
    let target = grown(v.capacity(), planned).max(len);
    v.reserve_exact(target - v.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_a_quarter_and_lands_on_the_plan() {
        assert_eq!(grown(100, 1000), 125);
        assert_eq!(grown(900, 1000), 1000);
        assert_eq!(grown(1000, 1000), 1250);
        assert_eq!(grown(0, 0), 0);
        let mut v: Vec<u32> = Vec::with_capacity(initial(1000));
        for i in 0..1000 {
            push(&mut v, i, 1000);
        }
        assert_eq!(v.capacity(), 1000);
        resize(&mut v, 1001, 0, 1000);
        assert_eq!(v.capacity(), 1250);
    }
}
