//! Reassembly and ordering of received DATA (RFC 9260 section 6.5, 6.9).
//!
//! Ordered fragments are grouped per stream by SSN; a message completes when its B and E
//! fragments and everything between (consecutive TSNs) are present, then waits until its
//! SSN is next. Unordered fragments are grouped by TSN runs. Single-chunk messages in order
//! are delivered straight from the packet (zero copy). Memory is bounded by the caller via
//! [`Reassembly::buffered`] and per message by the maximum message size.

use super::SctpEvent;
use super::chunk::DataChunk;
use bytes::{Bytes, BytesMut};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// A message above the maximum size was being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageTooLarge;

#[derive(Debug, Clone, Default)]
struct Partial {
    frags: Vec<(u64, Bytes)>,
    first: Option<u64>,
    last: Option<u64>,
    bytes: usize,
    ppid: u32,
}

impl Partial {
    fn add(&mut self, tsn: u64, c: &DataChunk) {
        let idx = self.frags.partition_point(|(t, _)| *t < tsn);
        if self.frags.get(idx).is_some_and(|(t, _)| *t == tsn) {
            return;
        }
        self.frags.insert(idx, (tsn, c.payload.clone()));
        self.bytes += c.payload.len();
        if c.beginning {
            self.first = Some(tsn);
            self.ppid = c.ppid;
        }
        if c.ending {
            self.last = Some(tsn);
        }
    }

    fn complete(&self) -> bool {
        match (self.first, self.last, self.frags.first(), self.frags.last()) {
            (Some(f), Some(l), Some(a), Some(b)) => {
                l >= f && a.0 == f && b.0 == l && (l - f + 1) as usize == self.frags.len()
            }
            _ => false,
        }
    }
}

fn concat(parts: impl Iterator<Item = Bytes>, total: usize, count: usize) -> Bytes {
    let mut parts = parts.peekable();
    if count == 1 {
        return parts.next().unwrap_or_default();
    }
    let mut buf = BytesMut::with_capacity(total);
    for p in parts {
        buf.extend_from_slice(&p);
    }
    buf.freeze()
}

#[derive(Debug, Clone, Default)]
struct InStream {
    expected: u64,
    partial: BTreeMap<u64, Partial>,
    ready: BTreeMap<u64, (u32, Bytes)>,
}

#[derive(Debug, Clone)]
struct Frag {
    stream: u16,
    ppid: u32,
    beginning: bool,
    ending: bool,
    payload: Bytes,
}

/// Received data not yet delivered.
#[derive(Debug, Clone)]
pub(crate) struct Reassembly {
    streams: HashMap<u16, InStream>,
    unordered: BTreeMap<u64, Frag>,
    buffered: usize,
    max_message: usize,
}

fn message(stream: u16, ppid: u32, unordered: bool, payload: Bytes) -> SctpEvent {
    SctpEvent::Message {
        stream,
        ppid,
        unordered,
        payload,
    }
}

impl Reassembly {
    pub(crate) fn new(max_message: usize) -> Self {
        Self {
            streams: HashMap::new(),
            unordered: BTreeMap::new(),
            buffered: 0,
            max_message,
        }
    }

    /// Bytes held (fragments and complete messages waiting for their turn).
    pub(crate) fn buffered(&self) -> usize {
        self.buffered
    }

    /// Whether an ordered chunk's SSN is within the window we accept (not old, not too far).
    pub(crate) fn ssn_acceptable(&self, c: &DataChunk) -> bool {
        if c.unordered {
            return true;
        }
        let expected = self.streams.get(&c.stream).map_or(0, |s| s.expected);
        c.ssn.wrapping_sub(expected as u16) < 0x8000
    }

    /// Takes one new DATA chunk (`tsn` unwrapped); complete messages go to `out`.
    pub(crate) fn insert(
        &mut self,
        tsn: u64,
        c: DataChunk,
        out: &mut VecDeque<SctpEvent>,
    ) -> Result<(), MessageTooLarge> {
        if c.unordered {
            if c.beginning && c.ending {
                out.push_back(message(c.stream, c.ppid, true, c.payload));
                return Ok(());
            }
            return self.insert_unordered(tsn, c, out);
        }
        let s = self.streams.entry(c.stream).or_default();
        let ssn = s.expected + u64::from(c.ssn.wrapping_sub(s.expected as u16));
        if c.beginning && c.ending {
            if ssn == s.expected {
                out.push_back(message(c.stream, c.ppid, false, c.payload));
                s.expected += 1;
                self.drain_ready(c.stream, out);
            } else {
                self.buffered += c.payload.len();
                s.ready.insert(ssn, (c.ppid, c.payload));
            }
            return Ok(());
        }
        self.insert_ordered_fragment(tsn, ssn, c, out)
    }

    fn insert_ordered_fragment(
        &mut self,
        tsn: u64,
        ssn: u64,
        c: DataChunk,
        out: &mut VecDeque<SctpEvent>,
    ) -> Result<(), MessageTooLarge> {
        let stream = c.stream;
        let s = self
            .streams
            .get_mut(&stream)
            .expect("created by the caller");
        let p = s.partial.entry(ssn).or_default();
        let before = p.bytes;
        p.add(tsn, &c);
        self.buffered += p.bytes - before;
        if p.bytes > self.max_message {
            return Err(MessageTooLarge);
        }
        if !p.complete() {
            return Ok(());
        }
        let p = s.partial.remove(&ssn).expect("just seen");
        let count = p.frags.len();
        let payload = concat(p.frags.into_iter().map(|(_, b)| b), p.bytes, count);
        if ssn == s.expected {
            self.buffered -= p.bytes;
            out.push_back(message(stream, p.ppid, false, payload));
            s.expected += 1;
            self.drain_ready(stream, out);
        } else {
            s.ready.insert(ssn, (p.ppid, payload));
        }
        Ok(())
    }

    fn drain_ready(&mut self, stream: u16, out: &mut VecDeque<SctpEvent>) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        while let Some((ppid, payload)) = s.ready.remove(&s.expected) {
            self.buffered -= payload.len();
            out.push_back(message(stream, ppid, false, payload));
            s.expected += 1;
        }
    }

    fn insert_unordered(
        &mut self,
        tsn: u64,
        c: DataChunk,
        out: &mut VecDeque<SctpEvent>,
    ) -> Result<(), MessageTooLarge> {
        self.buffered += c.payload.len();
        self.unordered.insert(
            tsn,
            Frag {
                stream: c.stream,
                ppid: c.ppid,
                beginning: c.beginning,
                ending: c.ending,
                payload: c.payload,
            },
        );
        let (mut first, mut last) = (tsn, tsn);
        let mut bytes = self.unordered[&tsn].payload.len();
        while !self.unordered[&first].beginning {
            match self.unordered.get(&(first - 1)) {
                Some(f) if !f.ending => {
                    first -= 1;
                    bytes += f.payload.len();
                }
                _ => return self.check_size(bytes),
            }
        }
        while !self.unordered[&last].ending {
            match self.unordered.get(&(last + 1)) {
                Some(f) if !f.beginning => {
                    last += 1;
                    bytes += f.payload.len();
                }
                _ => return self.check_size(bytes),
            }
        }
        let frags: Vec<Frag> = (first..=last)
            .map(|t| self.unordered.remove(&t).expect("walked"))
            .collect();
        self.buffered -= bytes;
        let (stream, ppid) = (frags[0].stream, frags[0].ppid);
        let count = frags.len();
        let payload = concat(frags.into_iter().map(|f| f.payload), bytes, count);
        out.push_back(message(stream, ppid, true, payload));
        Ok(())
    }

    fn check_size(&self, bytes: usize) -> Result<(), MessageTooLarge> {
        if bytes > self.max_message {
            Err(MessageTooLarge)
        } else {
            Ok(())
        }
    }

    /// FORWARD TSN (RFC 3758 section 3.6): drops fragments up to `new_cum` and skips the
    /// listed ordered SSNs, then delivers what became in order.
    pub(crate) fn forward(
        &mut self,
        new_cum: u64,
        skipped: &[(u16, u16)],
        out: &mut VecDeque<SctpEvent>,
    ) {
        let keep = self.unordered.split_off(&(new_cum + 1));
        let dropped = std::mem::replace(&mut self.unordered, keep);
        self.buffered -= dropped.values().map(|f| f.payload.len()).sum::<usize>();
        for &(stream, ssn) in skipped {
            // The stream may have lost every chunk so far: its state starts here.
            let s = self.streams.entry(stream).or_default();
            let diff = ssn.wrapping_sub(s.expected as u16);
            if diff >= 0x8000 {
                continue;
            }
            let last = s.expected + u64::from(diff);
            let keep = s.partial.split_off(&(last + 1));
            let gone = std::mem::replace(&mut s.partial, keep);
            self.buffered -= gone.values().map(|p| p.bytes).sum::<usize>();
            // Complete messages up to `last` are delivered, not dropped: they arrived.
            while s.expected <= last {
                if let Some((ppid, payload)) = s.ready.remove(&s.expected) {
                    self.buffered -= payload.len();
                    out.push_back(message(stream, ppid, false, payload));
                }
                s.expected += 1;
            }
            self.drain_ready(stream, out);
        }
    }

    /// The peer reset this incoming stream: its SSNs restart at 0.
    pub(crate) fn reset_stream(&mut self, stream: u16) {
        if let Some(s) = self.streams.remove(&stream) {
            self.buffered -= s.partial.values().map(|p| p.bytes).sum::<usize>();
            self.buffered -= s.ready.values().map(|(_, b)| b.len()).sum::<usize>();
        }
    }
}
