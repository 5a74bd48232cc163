//! Giving back the spare capacity of tables that grow and shrink with their connections.
//!
//! A `HashMap` keeps its largest capacity forever: a server whose table once held 10,000
//! connections keeps the buckets of 10,000 after they have all gone. The tables of
//! [`Endpoint`](crate::Endpoint), the async endpoint, and servers built on them call
//! [`ShrinkWhenSparse::shrink_when_sparse`] after removing entries.

use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// Capacity below which a table is never shrunk: small tables are not worth the copy.
pub const MIN_SHRINK_CAPACITY: usize = 64;

/// A collection that can give back spare capacity.
pub trait ShrinkWhenSparse {
    /// Shrinks to twice the length once at most a quarter full (and the capacity is at
    /// least [`MIN_SHRINK_CAPACITY`]). The copy costs O(len), and at least half the
    /// capacity's worth of removals happen between two shrinks, so removal stays O(1)
    /// amortized. Returns whether it shrank.
    fn shrink_when_sparse(&mut self) -> bool;
}

/// Whether a collection of `len` entries in `capacity` should shrink.
fn sparse(len: usize, capacity: usize) -> bool {
    capacity >= MIN_SHRINK_CAPACITY && len <= capacity / 4
}

impl<K: Eq + Hash, V, S: BuildHasher> ShrinkWhenSparse for HashMap<K, V, S> {
    fn shrink_when_sparse(&mut self) -> bool {
        let shrink = sparse(self.len(), self.capacity());
        if shrink {
            self.shrink_to(self.len() * 2);
        }
        shrink
    }
}

impl<T: Eq + Hash, S: BuildHasher> ShrinkWhenSparse for HashSet<T, S> {
    fn shrink_when_sparse(&mut self) -> bool {
        let shrink = sparse(self.len(), self.capacity());
        if shrink {
            self.shrink_to(self.len() * 2);
        }
        shrink
    }
}

impl<T: Ord> ShrinkWhenSparse for BinaryHeap<T> {
    fn shrink_when_sparse(&mut self) -> bool {
        let shrink = sparse(self.len(), self.capacity());
        if shrink {
            self.shrink_to(self.len() * 2);
        }
        shrink
    }
}

impl<T> ShrinkWhenSparse for VecDeque<T> {
    fn shrink_when_sparse(&mut self) -> bool {
        let shrink = sparse(self.len(), self.capacity());
        if shrink {
            self.shrink_to(self.len() * 2);
        }
        shrink
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_table_gives_back_its_capacity() {
        let mut map: HashMap<u32, [u8; 64]> = (0..10_000).map(|i| (i, [0; 64])).collect();
        let full = map.capacity();
        for i in 0..10_000 {
            map.remove(&i);
            let _ = map.shrink_when_sparse();
        }
        assert!(full >= 10_000);
        assert!(map.capacity() < MIN_SHRINK_CAPACITY, "{}", map.capacity());
    }

    #[test]
    fn a_table_shrinks_once_mostly_empty_and_about_once_per_halving_after() {
        let mut map: HashMap<u32, u32> = (0..1_000).map(|i| (i, i)).collect();
        let full = map.capacity();
        let mut shrunk_at = Vec::new();
        for i in 0..1_000 {
            map.remove(&i);
            if map.shrink_when_sparse() {
                shrunk_at.push(map.len());
            }
        }
        assert!(
            shrunk_at[0] <= full / 4,
            "first shrink at {shrunk_at:?} of {full}"
        );
        // About half of what is left goes before the next shrink (hashbrown's tombstones
        // make the exact point vary from run to run).
        assert!(
            shrunk_at.windows(2).all(|w| w[1] <= w[0] * 3 / 4),
            "{shrunk_at:?}"
        );
    }

    #[test]
    fn a_heap_drained_by_pops_gives_back_its_capacity() {
        let mut heap: BinaryHeap<u64> = (0..10_000).collect();
        while heap.pop().is_some() {
            let _ = heap.shrink_when_sparse();
        }
        assert!(heap.capacity() < MIN_SHRINK_CAPACITY, "{}", heap.capacity());
    }

    #[test]
    fn shrinking_keeps_every_entry() {
        let mut map: HashMap<u32, u32> = (0..1_000).map(|i| (i, i * 3)).collect();
        for i in 0..900 {
            map.remove(&i);
            let _ = map.shrink_when_sparse();
        }
        assert_eq!(map.len(), 100);
        assert!((900..1_000).all(|i| map.get(&i) == Some(&(i * 3))));
    }
}
