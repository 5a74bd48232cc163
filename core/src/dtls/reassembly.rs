//! Reassembly of handshake messages from fragments that may arrive out of order, overlap or
//! repeat (RFC 6347 section 4.2.3), delivered strictly in message_seq order.
//!
//! Bounded: a message body may be at most [`MAX_MESSAGE_LEN`] bytes, and at most
//! [`MAX_PENDING`] future messages are buffered; anything beyond is dropped.

use super::handshake::HandshakeFragment;
use super::types::HandshakeType;
use std::collections::BTreeMap;

/// Largest handshake message body accepted.
pub const MAX_MESSAGE_LEN: usize = 32 * 1024;
/// Most messages buffered ahead of the next expected one (current one included).
pub const MAX_PENDING: u16 = 8;

/// A complete handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message type.
    pub msg_type: HandshakeType,
    /// message_seq.
    pub seq: u16,
    /// Body.
    pub body: Vec<u8>,
    /// Epoch of the record that completed it.
    pub epoch: u16,
}

#[derive(Debug, Clone)]
struct Partial {
    msg_type: HandshakeType,
    body: Vec<u8>,
    filled: Vec<bool>,
    missing: usize,
    epoch: u16,
}

/// What became of one fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// It belongs to a message already delivered: the peer is retransmitting.
    Old,
    /// Stored (or it duplicated bytes already held).
    Stored,
    /// Refused: too far ahead or too large.
    Refused,
}

/// In-order reassembly of handshake messages.
#[derive(Debug, Clone, Default)]
pub struct Reassembler {
    next_seq: u16,
    pending: BTreeMap<u16, Partial>,
}

impl Reassembler {
    /// The next message_seq to deliver.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// Skips ahead so that `seq` is delivered next (after a stateless ClientHello).
    pub fn restart_at(&mut self, seq: u16) {
        self.next_seq = seq;
        self.pending.retain(|s, _| *s >= seq);
    }

    /// Adds a fragment received in `epoch`.
    pub fn insert(&mut self, frag: &HandshakeFragment<'_>, epoch: u16) -> Insert {
        if frag.message_seq < self.next_seq {
            return Insert::Old;
        }
        if frag.message_seq - self.next_seq >= MAX_PENDING || frag.length as usize > MAX_MESSAGE_LEN
        {
            return Insert::Refused;
        }
        let len = frag.length as usize;
        let partial = self
            .pending
            .entry(frag.message_seq)
            .or_insert_with(|| Partial {
                msg_type: frag.msg_type,
                body: vec![0; len],
                filled: vec![false; len],
                missing: len,
                epoch,
            });
        if partial.msg_type != frag.msg_type || partial.body.len() != len {
            // Epoch 0 is unauthenticated: a forged fragment must not pin this slot, so the
            // latest fragment wins over an inconsistent, incomplete partial message.
            *partial = Partial {
                msg_type: frag.msg_type,
                body: vec![0; len],
                filled: vec![false; len],
                missing: len,
                epoch,
            };
        }
        let start = frag.offset as usize;
        for (i, b) in frag.body.iter().enumerate() {
            let at = start + i;
            if !partial.filled[at] {
                partial.filled[at] = true;
                partial.body[at] = *b;
                partial.missing -= 1;
            }
        }
        partial.epoch = partial.epoch.max(epoch);
        Insert::Stored
    }

    /// The next message in order, if complete.
    pub fn pop(&mut self) -> Option<Message> {
        let entry = self.pending.first_entry()?;
        if *entry.key() != self.next_seq || entry.get().missing != 0 {
            return None;
        }
        let seq = *entry.key();
        let partial = entry.remove();
        if self.pending.is_empty() {
            // An emptied map keeps its node; after the handshake nothing is pending for
            // good, so release it.
            self.pending = BTreeMap::new();
        }
        self.next_seq = self.next_seq.wrapping_add(1);
        Some(Message {
            msg_type: partial.msg_type,
            seq,
            body: partial.body,
            epoch: partial.epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(seq: u16, len: u32, offset: u32, body: &[u8]) -> HandshakeFragment<'_> {
        HandshakeFragment {
            msg_type: HandshakeType::CERTIFICATE,
            length: len,
            message_seq: seq,
            offset,
            body,
        }
    }

    #[test]
    fn out_of_order_overlapping_fragments_assemble() {
        let mut r = Reassembler::default();
        assert_eq!(r.insert(&frag(0, 6, 3, b"def"), 0), Insert::Stored);
        assert!(r.pop().is_none());
        assert_eq!(r.insert(&frag(0, 6, 0, b"abcd"), 0), Insert::Stored);
        assert_eq!(r.insert(&frag(0, 6, 0, b"abcd"), 0), Insert::Stored);
        let m = r.pop().unwrap();
        assert_eq!(m.body, b"abcdef");
        assert_eq!(r.next_seq(), 1);
    }

    #[test]
    fn messages_are_delivered_in_sequence() {
        let mut r = Reassembler::default();
        r.insert(&frag(1, 1, 0, b"b"), 0);
        assert!(r.pop().is_none());
        r.insert(&frag(0, 1, 0, b"a"), 0);
        assert_eq!(r.pop().unwrap().body, b"a");
        assert_eq!(r.pop().unwrap().body, b"b");
    }

    #[test]
    fn delivered_messages_are_reported_old() {
        let mut r = Reassembler::default();
        r.insert(&frag(0, 1, 0, b"a"), 0);
        r.pop().unwrap();
        assert_eq!(r.insert(&frag(0, 1, 0, b"a"), 0), Insert::Old);
    }

    #[test]
    fn far_future_and_oversized_messages_are_refused() {
        let mut r = Reassembler::default();
        assert_eq!(r.insert(&frag(MAX_PENDING, 1, 0, b"a"), 0), Insert::Refused);
        assert_eq!(
            r.insert(&frag(0, MAX_MESSAGE_LEN as u32 + 1, 0, b"a"), 0),
            Insert::Refused
        );
    }

    #[test]
    fn inconsistent_fragment_replaces_the_partial_message() {
        let mut r = Reassembler::default();
        r.insert(&frag(0, 4, 0, b"abc"), 0);
        assert_eq!(r.insert(&frag(0, 1, 0, b"z"), 0), Insert::Stored);
        assert_eq!(r.pop().unwrap().body, b"z");
    }
}
