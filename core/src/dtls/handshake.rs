//! The DTLS handshake message header (RFC 6347 section 4.2.2) and fragments of messages.
//!
//! ```text
//! msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3) body
//! ```

use super::codec::{Reader, put_u16, put_u24};
use super::types::HandshakeType;

/// Length of the DTLS handshake header.
pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// One handshake fragment borrowed from a record; only built by [`HandshakeFragment::parse`],
/// which guarantees `offset + body.len() <= length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeFragment<'a> {
    /// Message type.
    pub msg_type: HandshakeType,
    /// Length of the whole message body.
    pub length: u32,
    /// Message sequence number.
    pub message_seq: u16,
    /// Offset of this fragment in the body.
    pub offset: u32,
    /// The fragment bytes.
    pub body: &'a [u8],
}

impl<'a> HandshakeFragment<'a> {
    /// Parses the first fragment of `buf` and returns the bytes after it.
    pub fn parse(buf: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let mut r = Reader::new(buf);
        let msg_type = HandshakeType(r.u8()?);
        let length = r.u24()?;
        let message_seq = r.u16()?;
        let offset = r.u24()?;
        let frag_len = r.u24()?;
        if offset.checked_add(frag_len)? > length {
            return None;
        }
        let body = r.take(frag_len as usize)?;
        let frag = Self {
            msg_type,
            length,
            message_seq,
            offset,
            body,
        };
        Some((frag, r.rest()))
    }

    /// True if this fragment holds the whole message.
    pub fn is_complete(&self) -> bool {
        self.offset == 0 && self.body.len() as u32 == self.length
    }
}

/// Appends a handshake header for a fragment of `frag_len` bytes at `offset` of a message of
/// `length` bytes.
pub fn emit_header(
    out: &mut Vec<u8>,
    msg_type: HandshakeType,
    length: u32,
    message_seq: u16,
    offset: u32,
    frag_len: u32,
) {
    out.push(msg_type.0);
    put_u24(out, length);
    put_u16(out, message_seq);
    put_u24(out, offset);
    put_u24(out, frag_len);
}

/// A whole handshake message as it enters the transcript: header with offset 0 and
/// fragment length equal to the length, then the body.
pub fn full_message(msg_type: HandshakeType, message_seq: u16, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("handshake bodies are far below 16 MiB");
    let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
    emit_header(&mut out, msg_type, len, message_seq, 0, len);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_round_trips() {
        let mut out = Vec::new();
        emit_header(&mut out, HandshakeType::CERTIFICATE, 10, 3, 4, 2);
        out.extend_from_slice(b"xy");
        assert_eq!(out[..12], [11, 0, 0, 10, 0, 3, 0, 0, 4, 0, 0, 2]);
        let (f, rest) = HandshakeFragment::parse(&out).unwrap();
        assert_eq!(f.msg_type, HandshakeType::CERTIFICATE);
        assert_eq!((f.length, f.message_seq, f.offset), (10, 3, 4));
        assert_eq!(f.body, b"xy");
        assert!(!f.is_complete());
        assert!(rest.is_empty());
    }

    #[test]
    fn fragment_past_the_message_end_is_refused() {
        let mut out = Vec::new();
        emit_header(&mut out, HandshakeType::FINISHED, 4, 0, 3, 2);
        out.extend_from_slice(b"xy");
        assert!(HandshakeFragment::parse(&out).is_none());
    }

    #[test]
    fn full_message_has_offset_zero_and_full_length() {
        let m = full_message(HandshakeType::SERVER_HELLO_DONE, 5, &[]);
        assert_eq!(m, [14, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]);
    }
}
