//! Which connections of an endpoint need polling, and when each next times out.

use super::ConnectionHandle;
use crate::capacity::{self, ShrinkWhenSparse};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::Instant;

/// The ready queue (connections that had an input, a command or a timeout since they were
/// last drained, in that order) and a heap of every drained connection's next timeout.
/// Every operation costs O(1) or O(log n) in the number of connections.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    ready: VecDeque<ConnectionHandle>,
    in_ready: HashSet<ConnectionHandle>,
    timeouts: BinaryHeap<Reverse<(Instant, ConnectionHandle)>>,
    /// The earliest heap entry of each connection; other entries of it are stale.
    queued: HashMap<ConnectionHandle, Instant>,
}

impl Schedule {
    /// `h` may have output: poll it.
    pub(super) fn mark(&mut self, h: ConnectionHandle) {
        if self.in_ready.insert(h) {
            self.ready.push_back(h);
        }
    }

    /// The connection to poll next (it stays first until [`drained`](Self::drained)).
    pub(super) fn next_ready(&self) -> Option<ConnectionHandle> {
        self.ready.front().copied()
    }

    /// The first ready connection returned its timeout (`None`: it is gone).
    pub(super) fn drained(&mut self, h: ConnectionHandle, timeout: Option<Instant>) {
        self.ready.pop_front();
        self.in_ready.remove(&h);
        let Some(at) = timeout else {
            return;
        };
        // A later deadline needs no entry: the queued one fires early, which is
        // harmless, and the drain after it queues the real one.
        if self.queued.get(&h).is_none_or(|queued| at < *queued) {
            self.queued.insert(h, at);
            self.timeouts.push(Reverse((at, h)));
        }
    }

    /// A connection whose queued timeout is due at `now`, taken off the heap.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<ConnectionHandle> {
        while let Some(Reverse((at, h))) = self.timeouts.peek().copied() {
            if at > now {
                return None;
            }
            self.timeouts.pop();
            self.timeouts.shrink_when_sparse();
            if self.queued.get(&h) == Some(&at) {
                self.queued.remove(&h);
                return Some(h);
            }
        }
        None
    }

    /// The earliest live timeout (stale heap entries are dropped on the way).
    pub(super) fn earliest(&mut self) -> Option<Instant> {
        let mut earliest = None;
        let mut dropped = false;
        while let Some(Reverse((at, h))) = self.timeouts.peek().copied() {
            if self.queued.get(&h) == Some(&at) {
                earliest = Some(at);
                break;
            }
            self.timeouts.pop();
            dropped = true;
        }
        if dropped {
            self.timeouts.shrink_when_sparse();
        }
        earliest
    }

    /// Timeout entries held, live and stale.
    #[cfg(test)]
    pub(super) fn timeout_entries(&self) -> usize {
        self.timeouts.len()
    }

    /// Timeout entries the heap has room for.
    #[cfg(test)]
    pub(super) fn timeout_capacity(&self) -> usize {
        self.timeouts.capacity()
    }

    /// `h` was removed.
    pub(super) fn forget(&mut self, h: ConnectionHandle) {
        self.queued.remove(&h);
        let queued = &self.queued;
        capacity::purge_stale(&mut self.timeouts, queued.len(), |Reverse((at, h))| {
            queued.get(h) == Some(at)
        });
        if self.in_ready.remove(&h) {
            self.ready.retain(|r| *r != h);
        }
        self.queued.shrink_when_sparse();
        self.in_ready.shrink_when_sparse();
        self.ready.shrink_when_sparse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_connection_is_polled_once_per_mark_and_times_out_at_its_earliest_deadline() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let (a, b) = (ConnectionHandle(1), ConnectionHandle(2));
        let mut s = Schedule::default();
        s.mark(a);
        s.mark(a);
        s.mark(b);
        assert_eq!(s.next_ready(), Some(a));
        s.drained(a, Some(t0 + Duration::from_secs(2)));
        assert_eq!(s.next_ready(), Some(b));
        s.drained(b, Some(t0 + Duration::from_secs(1)));
        assert_eq!(s.next_ready(), None, "each marked once");
        assert_eq!(s.earliest(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(s.pop_due(t0), None);
        assert_eq!(s.pop_due(t0 + Duration::from_secs(1)), Some(b));
        assert_eq!(s.pop_due(t0 + Duration::from_secs(1)), None);
        s.forget(a);
        assert_eq!(
            s.earliest(),
            None,
            "a forgotten connection's timeout is dropped"
        );
    }

    #[test]
    fn the_timeouts_of_removed_connections_do_not_outlive_them() {
        let t0 = crate::time::test_epoch();
        let mut s = Schedule::default();
        for i in 0..10_000 {
            let h = ConnectionHandle(i);
            s.mark(h);
            s.drained(h, Some(t0 + Duration::from_secs(30 + u64::from(i))));
        }
        for i in 10..10_000 {
            s.forget(ConnectionHandle(i));
        }
        // Ten live timeouts; the ended connections' entries are not kept until due.
        assert!(
            s.timeouts.len() <= 2 * 10 + capacity::STALE_SLACK,
            "{}",
            s.timeouts.len()
        );
        assert!(s.timeouts.capacity() < 1_000, "{}", s.timeouts.capacity());
        let due: Vec<_> =
            std::iter::from_fn(|| s.pop_due(t0 + Duration::from_secs(99_999))).collect();
        assert_eq!(due, (0..10).map(ConnectionHandle).collect::<Vec<_>>());
    }
}
