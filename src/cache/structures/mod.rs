//! The data structures under the policies, which know nothing of eviction:
//! a slab of index-linked nodes threaded into lists ([`Slab`]), the compact
//! hash index that finds a key's slot in it, and an indexed min-heap
//! ([`Heap`]), all sized for what is cached ([`room`]).

mod heap;
mod index;
pub mod room;
mod slab;

pub use heap::Heap;
pub use index::prefetch_line;
pub use slab::{List, NIL, Node, SizedList, Slab};
