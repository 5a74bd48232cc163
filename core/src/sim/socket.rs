//! A node's receive socket buffer: datagrams that reached the host wait in a bounded
//! queue until the node reads them, at a modelled speed. What does not fit is dropped,
//! as a kernel drops what overflows `SO_RCVBUF` (counted in Linux's `Udp: RcvbufErrors`).
//!
//! Without a buffer configured a node reads every datagram the instant it arrives and
//! never drops one (the default, and what every other part of the model assumes).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How a node's receive socket buffer and reading behave. Set with
/// [`Sim::set_receive_buffer`](super::Sim::set_receive_buffer).
///
/// Each datagram is charged `payload + overhead` bytes against `capacity`, as Linux
/// charges a socket buffer's true size (a 1,200-byte datagram costs about 2,304 bytes of
/// the default 212,992). The node takes datagrams one at a time: each keeps the reader
/// busy for `per_datagram` plus its payload at `bytes_per_second`, and leaves the buffer
/// when the node starts handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiveBuffer {
    /// Buffer size in charged bytes (Linux default `net.core.rmem_default`: 212,992).
    pub capacity: usize,
    /// Bytes charged per datagram on top of its payload.
    pub overhead: usize,
    /// Fixed time to read and handle one datagram.
    pub per_datagram: Duration,
    /// Payload read rate in bytes per second; `None` adds no per-byte time.
    pub bytes_per_second: Option<u64>,
}

impl ReceiveBuffer {
    /// Linux's default UDP receive buffer (212,992 bytes, about 2,304 charged per
    /// 1,200-byte datagram), read at `bytes_per_second` of payload.
    pub fn linux_default(bytes_per_second: u64) -> Self {
        Self::new(212_992, bytes_per_second)
    }

    /// A buffer of `capacity` bytes (with Linux's per-datagram overhead) read at
    /// `bytes_per_second` of payload.
    pub fn new(capacity: usize, bytes_per_second: u64) -> Self {
        Self {
            capacity,
            overhead: 1_104,
            per_datagram: Duration::ZERO,
            bytes_per_second: Some(bytes_per_second),
        }
    }

    /// Sets the fixed time per datagram.
    pub fn per_datagram(mut self, time: Duration) -> Self {
        self.per_datagram = time;
        self
    }

    fn charge(&self, len: usize) -> usize {
        len + self.overhead
    }

    /// How long the reader is busy with a datagram of `len` payload bytes.
    fn read_time(&self, len: usize) -> Duration {
        let bytes = self.bytes_per_second.filter(|r| *r > 0).map_or(0, |rate| {
            let nanos = (len as u128 * 1_000_000_000).div_ceil(u128::from(rate));
            u64::try_from(nanos).unwrap_or(u64::MAX)
        });
        self.per_datagram + Duration::from_nanos(bytes)
    }
}

/// The queue of one node, with its reader's state.
#[derive(Debug)]
pub(crate) struct RxQueue<P> {
    pub(crate) config: ReceiveBuffer,
    queue: VecDeque<(P, usize)>,
    used: usize,
    /// The reader handles the last datagram it took until then.
    busy_until: Option<Instant>,
    /// A read is scheduled in the event queue.
    pub(crate) read_scheduled: bool,
}

impl<P> RxQueue<P> {
    pub(crate) fn new(config: ReceiveBuffer) -> Self {
        Self {
            config,
            queue: VecDeque::new(),
            used: 0,
            busy_until: None,
            read_scheduled: false,
        }
    }

    /// Queues a datagram of `len` payload bytes; gives it back if it does not fit.
    pub(crate) fn push(&mut self, item: P, len: usize) -> Result<(), P> {
        let charge = self.config.charge(len);
        if self.used + charge > self.config.capacity {
            return Err(item);
        }
        self.used += charge;
        self.queue.push_back((item, len));
        Ok(())
    }

    /// When the reader can take the next datagram, if one waits and no read is scheduled.
    pub(crate) fn next_read(&self, now: Instant) -> Option<Instant> {
        if self.read_scheduled || self.queue.is_empty() {
            return None;
        }
        Some(self.busy_until.map_or(now, |b| b.max(now)))
    }

    /// The reader takes the head datagram at `now`.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<P> {
        let (item, len) = self.queue.pop_front()?;
        self.used -= self.config.charge(len);
        self.busy_until = Some(now + self.config.read_time(len));
        Some(item)
    }

    /// Charged bytes waiting.
    pub(crate) fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    #[test]
    fn datagrams_beyond_the_capacity_are_refused() {
        let mut q = RxQueue::new(ReceiveBuffer::new(3 * 2304, 1_000_000));
        for i in 0..3 {
            assert!(q.push(i, 1200).is_ok());
        }
        assert_eq!(q.push(3, 1200), Err(3));
        assert_eq!(q.used(), 3 * 2304);
    }

    #[test]
    fn the_reader_takes_one_datagram_per_read_time() {
        // 1,000,000 B/s: 1,000 bytes take 1 ms.
        let mut q = RxQueue::new(ReceiveBuffer::new(1 << 20, 1_000_000));
        let now = t0();
        q.push('a', 1000).expect("fits");
        q.push('b', 1000).expect("fits");
        assert_eq!(q.next_read(now), Some(now));
        assert_eq!(q.pop(now), Some('a'));
        assert_eq!(q.next_read(now), Some(now + Duration::from_millis(1)));
        assert!(q.push('c', 1000).is_ok(), "room freed when read");
    }
}
