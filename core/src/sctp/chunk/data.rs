//! DATA chunk (RFC 9260 section 3.3.1).

use super::{BadChunk, ChunkType};
use crate::sctp::packet::PacketWriter;
use bytes::Bytes;

/// Length of the DATA chunk header including the chunk header.
pub const DATA_HEADER_LEN: usize = 16;

/// A DATA chunk. The payload is a zero-copy slice of the received packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChunk {
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number (ignored for unordered data).
    pub ssn: u16,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// U bit: unordered delivery.
    pub unordered: bool,
    /// B bit: first fragment of a message.
    pub beginning: bool,
    /// E bit: last fragment of a message.
    pub ending: bool,
    /// I bit: the sender asks for an immediate SACK (RFC 7053).
    pub immediate: bool,
    /// User data.
    pub payload: Bytes,
}

impl DataChunk {
    /// Parses the value of a DATA chunk. Empty user data is malformed (RFC 9260 6.2).
    pub fn parse(flags: u8, v: &Bytes) -> Result<Self, BadChunk> {
        if v.len() <= DATA_HEADER_LEN - 4 {
            return Err(BadChunk);
        }
        Ok(Self {
            tsn: u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
            stream: u16::from_be_bytes([v[4], v[5]]),
            ssn: u16::from_be_bytes([v[6], v[7]]),
            ppid: u32::from_be_bytes([v[8], v[9], v[10], v[11]]),
            unordered: flags & 4 != 0,
            beginning: flags & 2 != 0,
            ending: flags & 1 != 0,
            immediate: flags & 8 != 0,
            payload: v.slice(12..),
        })
    }

    /// The chunk flags byte.
    pub fn flags(&self) -> u8 {
        u8::from(self.ending)
            | u8::from(self.beginning) << 1
            | u8::from(self.unordered) << 2
            | u8::from(self.immediate) << 3
    }

    /// Encoded length with padding.
    pub fn encoded_len(&self) -> usize {
        (DATA_HEADER_LEN + self.payload.len() + 3) & !3
    }

    /// Appends the chunk to `w`.
    pub fn emit(&self, w: &mut PacketWriter) {
        emit_data(
            w,
            self.flags(),
            self.tsn,
            self.stream,
            self.ssn,
            self.ppid,
            &self.payload,
        );
    }
}

/// Appends a DATA chunk built from its fields (the send path uses this to avoid building
/// a [`DataChunk`]).
pub(crate) fn emit_data(
    w: &mut PacketWriter,
    flags: u8,
    tsn: u32,
    stream: u16,
    ssn: u16,
    ppid: u32,
    payload: &[u8],
) {
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(&tsn.to_be_bytes());
    head[4..6].copy_from_slice(&stream.to_be_bytes());
    head[6..8].copy_from_slice(&ssn.to_be_bytes());
    head[8..].copy_from_slice(&ppid.to_be_bytes());
    w.push_chunk(ChunkType::DATA.0, flags, &[&head, payload]);
}
