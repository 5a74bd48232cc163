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

/// Entries a lazily-deleted heap may hold beyond twice its live count before
/// [`purge_stale`] rebuilds it.
pub const STALE_SLACK: usize = 64;

/// Keeps only the entries `live` accepts once the heap holds more than twice `live_count`
/// entries (plus [`STALE_SLACK`]), then gives back spare capacity; returns whether it
/// purged.
///
/// For timeout heaps with lazy deletion (an entry is skipped when popped if its
/// connection ended or was re-armed earlier). Without a purge, every ended connection's
/// entry stays until its deadline passes, so a server that just lost 10,000 connections
/// holds a heap sized for them for as long as their longest timer. A purge costs O(len)
/// and leaves at most `live_count` entries, so at least `live_count + STALE_SLACK` pushes
/// or removals separate two purges: O(1) amortized.
pub fn purge_stale<T: Ord>(
    heap: &mut BinaryHeap<T>,
    live_count: usize,
    live: impl FnMut(&T) -> bool,
) -> bool {
    if heap.len() <= live_count.saturating_mul(2).saturating_add(STALE_SLACK) {
        return false;
    }
    heap.retain(live);
    heap.shrink_when_sparse();
    true
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

    #[test]
    fn a_timeout_heap_of_ended_connections_is_purged_and_shrunk() {
        // 10,000 connections each queued a timeout, then all but 10 ended.
        let mut heap: BinaryHeap<(u64, u32)> = (0..10_000).map(|h| (u64::from(h) * 7, h)).collect();
        let live = |&(_, h): &(u64, u32)| h < 10;
        assert!(purge_stale(&mut heap, 10, live));
        assert_eq!(heap.len(), 10);
        assert!(heap.capacity() < MIN_SHRINK_CAPACITY, "{}", heap.capacity());
        assert!(heap.iter().all(live), "only live entries are kept");
    }

    #[test]
    fn a_heap_mostly_live_is_left_alone() {
        let mut heap: BinaryHeap<u32> = (0..1_000).collect();
        let before = heap.capacity();
        // 600 live of 1,000: under twice the live count, nothing to purge.
        assert!(!purge_stale(&mut heap, 600, |&h| h < 600));
        assert_eq!((heap.len(), heap.capacity()), (1_000, before));
        // A small heap stays put whatever its staleness (the slack).
        let mut small: BinaryHeap<u32> = (0..STALE_SLACK as u32).collect();
        assert!(!purge_stale(&mut small, 0, |_| false));
        assert_eq!(small.len(), STALE_SLACK);
    }

    #[test]
    fn purges_are_amortized_over_the_pushes_between_them() {
        // One live connection re-armed 100,000 times, each re-arm leaving a stale entry:
        // a purge at most every STALE_SLACK + 1 pushes, never one per push.
        let mut heap = BinaryHeap::new();
        let mut purges = 0;
        for at in 0..100_000u64 {
            heap.push(std::cmp::Reverse(at));
            purges += usize::from(purge_stale(&mut heap, 1, |&std::cmp::Reverse(a)| a == at));
        }
        assert!(heap.len() <= 2 + STALE_SLACK, "{}", heap.len());
        assert!(purges <= 100_000 / STALE_SLACK, "{purges} purges");
    }
}
