//! The send queue: messages accepted from the application and not yet fully handed to the
//! wire, per-stream sequence numbers and buffered amounts, and fragmentation.
//!
//! Messages leave in FIFO order across streams; each message's fragments take consecutive
//! TSNs, so a message's chunks are contiguous in the retransmission queue. A message gets
//! its SSN when its first fragment is sent, so messages dropped before sending (expired
//! lifetime) leave no gap in the SSN sequence.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How one message is to be delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Deliver without ordering (U bit).
    pub unordered: bool,
    /// Abandon after this many retransmissions (PR-SCTP limited retransmissions).
    pub max_retransmits: Option<u16>,
    /// Abandon once this old (PR-SCTP timed reliability).
    pub lifetime: Option<Duration>,
}

/// Per-message abandonment policy, kept with each chunk in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    pub max_retransmits: Option<u16>,
    pub expires: Option<Instant>,
}

/// A message waiting in the queue.
#[derive(Debug, Clone)]
pub(crate) struct OutMessage {
    pub stream: u16,
    pub ppid: u32,
    pub unordered: bool,
    pub payload: Bytes,
    /// Bytes already fragmented out.
    pub offset: usize,
    pub ssn: u16,
    pub policy: Policy,
}

/// Per outgoing stream state.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutStream {
    pub next_ssn: u16,
    /// Bytes queued and not yet sent (the data channel's `bufferedAmount`).
    pub buffered: usize,
    pub low_threshold: usize,
    /// Messages of this stream in the queue.
    pub queued: usize,
    /// A reset was asked for: no new messages until it completes.
    pub resetting: bool,
}

/// One fragment ready to be put in a DATA chunk.
#[derive(Debug)]
pub(crate) struct Fragment {
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub flags: u8,
    pub payload: Bytes,
    pub policy: Policy,
}

/// The queue of messages not yet fully sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct SendQueue {
    queue: VecDeque<OutMessage>,
    pub(crate) streams: HashMap<u16, OutStream>,
    total: usize,
}

impl SendQueue {
    pub(crate) fn total_buffered(&self) -> usize {
        self.total
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn push(&mut self, msg: OutMessage) {
        let s = self.streams.entry(msg.stream).or_default();
        s.buffered += msg.payload.len();
        s.queued += 1;
        self.total += msg.payload.len();
        self.queue.push_back(msg);
    }

    pub(crate) fn stream(&self, id: u16) -> Option<&OutStream> {
        self.streams.get(&id)
    }

    pub(crate) fn stream_mut(&mut self, id: u16) -> &mut OutStream {
        self.streams.entry(id).or_default()
    }

    /// Drops expired messages at the head that have not started; returns how many.
    pub(crate) fn drop_expired_head(&mut self, now: Instant, low: &mut Vec<u16>) -> u64 {
        let mut dropped = 0;
        while let Some(m) = self.queue.front() {
            let expired = m.offset == 0 && m.policy.expires.is_some_and(|e| e <= now);
            if !expired {
                break;
            }
            let m = self.queue.pop_front().expect("front exists");
            self.account_sent(m.stream, m.payload.len(), low);
            self.finish_message(m.stream);
            dropped += 1;
        }
        dropped
    }

    /// Takes the next fragment of at most `max` payload bytes, or `None` if the queue is
    /// empty. Stream bytes that cross a low threshold are reported in `low`.
    pub(crate) fn next_fragment(&mut self, max: usize, low: &mut Vec<u16>) -> Option<Fragment> {
        let m = self.queue.front_mut()?;
        let start = m.offset;
        let len = (m.payload.len() - start).min(max);
        let beginning = start == 0;
        if beginning && !m.unordered {
            let s = self.streams.entry(m.stream).or_default();
            m.ssn = s.next_ssn;
            s.next_ssn = s.next_ssn.wrapping_add(1);
        }
        m.offset += len;
        let ending = m.offset == m.payload.len();
        let payload = if beginning && ending {
            m.payload.clone()
        } else {
            m.payload.slice(start..start + len)
        };
        let frag = Fragment {
            stream: m.stream,
            ssn: m.ssn,
            ppid: m.ppid,
            flags: u8::from(ending) | u8::from(beginning) << 1 | u8::from(m.unordered) << 2,
            payload,
            policy: m.policy,
        };
        let stream = m.stream;
        self.account_sent(stream, len, low);
        if ending {
            self.queue.pop_front();
            self.finish_message(stream);
        }
        Some(frag)
    }

    /// Payload bytes left in the message at the head.
    pub(crate) fn head_remaining(&self) -> Option<usize> {
        self.queue.front().map(|m| m.payload.len() - m.offset)
    }

    /// Drops the unsent rest of the head message if it is the one on `stream` that has
    /// started (its earlier fragments were abandoned).
    pub(crate) fn abandon_started_head(&mut self, stream: u16, low: &mut Vec<u16>) {
        let Some(m) = self.queue.front() else { return };
        if m.stream != stream || m.offset == 0 {
            return;
        }
        let rest = m.payload.len() - m.offset;
        self.queue.pop_front();
        self.account_sent(stream, rest, low);
        self.finish_message(stream);
    }

    fn account_sent(&mut self, stream: u16, len: usize, low: &mut Vec<u16>) {
        self.total -= len;
        let s = self.streams.entry(stream).or_default();
        let before = s.buffered;
        s.buffered -= len;
        if before > s.low_threshold && s.buffered <= s.low_threshold {
            low.push(stream);
        }
    }

    fn finish_message(&mut self, stream: u16) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.queued -= 1;
        }
    }
}
