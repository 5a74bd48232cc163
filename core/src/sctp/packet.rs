//! The SCTP common header, the CRC-32c checksum and the chunk walk (RFC 9260 section 3,
//! appendix A; zero checksum per RFC 9653).
//!
//! [`PacketView`] is the checked, zero-copy view of an untrusted packet: after
//! [`PacketView::new_checked`] succeeds no accessor panics, and [`PacketView::chunks`]
//! yields each chunk's header fields and value as a `Bytes` slice of the packet.
//! [`PacketWriter`] builds outgoing packets chunk by chunk and seals them with a checksum.

use bytes::Bytes;

/// Length of the common header (ports, verification tag, checksum).
pub const COMMON_HEADER_LEN: usize = 12;
/// Length of a chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;

/// Why a packet could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// Shorter than the common header.
    Truncated,
    /// The CRC-32c does not match (and zero checksum was not acceptable).
    BadChecksum,
}

/// The CRC-32c of `packet` as carried in the checksum field: computed with the checksum
/// field taken as zero, and stored in the byte order of RFC 9260 appendix A.
pub fn checksum(packet: &[u8]) -> u32 {
    debug_assert!(packet.len() >= COMMON_HEADER_LEN);
    let crc = crc32c::crc32c(&packet[..8]);
    let crc = crc32c::crc32c_append(crc, &[0, 0, 0, 0]);
    crc32c::crc32c_append(crc, &packet[COMMON_HEADER_LEN..])
}

/// A checked view of a received SCTP packet.
#[derive(Debug, Clone)]
pub struct PacketView {
    buf: Bytes,
}

impl PacketView {
    /// Checks the length and the checksum. A checksum of zero is accepted only when
    /// `accept_zero_checksum` (RFC 9653, negotiated) is set.
    pub fn new_checked(
        buf: impl Into<Bytes>,
        accept_zero_checksum: bool,
    ) -> Result<Self, PacketError> {
        let buf = buf.into();
        if buf.len() < COMMON_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        let view = Self { buf };
        let carried = view.checksum_field();
        if !(accept_zero_checksum && carried == 0) && carried != checksum(&view.buf) {
            return Err(PacketError::BadChecksum);
        }
        Ok(view)
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.buf[at], self.buf[at + 1]])
    }

    /// Source port.
    pub fn source_port(&self) -> u16 {
        self.u16_at(0)
    }

    /// Destination port.
    pub fn destination_port(&self) -> u16 {
        self.u16_at(2)
    }

    /// The verification tag.
    pub fn verification_tag(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The checksum field as carried (little-endian reading of the CRC bytes).
    pub fn checksum_field(&self) -> u32 {
        u32::from_le_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// The chunks of the packet, in order. A malformed chunk ends the walk with an `Err`.
    pub fn chunks(&self) -> ChunkIter {
        ChunkIter {
            buf: self.buf.slice(COMMON_HEADER_LEN..),
        }
    }
}

/// One chunk as found in a packet: header fields and the value (without padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// Chunk type.
    pub typ: u8,
    /// Chunk flags.
    pub flags: u8,
    /// The chunk value: the bytes after the 4-byte header, up to the chunk length.
    pub value: Bytes,
}

/// A chunk header announced a length that does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedChunk;

/// Iterator over the chunks of a packet.
#[derive(Debug)]
pub struct ChunkIter {
    buf: Bytes,
}

impl Iterator for ChunkIter {
    type Item = Result<RawChunk, MalformedChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let Some(header) = self.buf.get(..CHUNK_HEADER_LEN) else {
            self.buf = Bytes::new();
            return Some(Err(MalformedChunk));
        };
        let (typ, flags) = (header[0], header[1]);
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < CHUNK_HEADER_LEN || len > self.buf.len() {
            self.buf = Bytes::new();
            return Some(Err(MalformedChunk));
        }
        let value = self.buf.slice(CHUNK_HEADER_LEN..len);
        let padded = (len + 3) & !3;
        self.buf = if padded >= self.buf.len() {
            Bytes::new()
        } else {
            self.buf.slice(padded..)
        };
        Some(Ok(RawChunk { typ, flags, value }))
    }
}

/// Builds one outgoing packet: common header, then chunks, then the checksum.
#[derive(Debug)]
pub struct PacketWriter {
    buf: Vec<u8>,
    limit: usize,
}

impl PacketWriter {
    /// Starts a packet no longer than `limit` bytes.
    pub fn new(source_port: u16, destination_port: u16, vtag: u32, limit: usize) -> Self {
        let mut buf = Vec::with_capacity(limit.max(COMMON_HEADER_LEN));
        buf.extend_from_slice(&source_port.to_be_bytes());
        buf.extend_from_slice(&destination_port.to_be_bytes());
        buf.extend_from_slice(&vtag.to_be_bytes());
        buf.extend_from_slice(&[0; 4]);
        Self { buf, limit }
    }

    /// Bytes still free for chunks (headers included).
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.buf.len())
    }

    /// Whether no chunk has been written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.len() == COMMON_HEADER_LEN
    }

    /// Appends a chunk whose value is the concatenation of `parts`, padded to 4 bytes.
    /// The caller checks [`Self::remaining`] first; a packet may exceed the limit only when
    /// a single chunk is larger than it.
    pub fn push_chunk(&mut self, typ: u8, flags: u8, parts: &[&[u8]]) {
        let value_len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u16::try_from(CHUNK_HEADER_LEN + value_len).expect("chunks are built < 64 KiB");
        self.buf.push(typ);
        self.buf.push(flags);
        self.buf.extend_from_slice(&len.to_be_bytes());
        for part in parts {
            self.buf.extend_from_slice(part);
        }
        let pad = (4 - (value_len & 3)) & 3;
        self.buf.extend_from_slice(&[0u8; 3][..pad]);
    }

    /// Finishes the packet: writes the CRC-32c, or leaves zero when `zero_checksum`.
    pub fn finish(mut self, zero_checksum: bool) -> Vec<u8> {
        if !zero_checksum {
            let crc = checksum(&self.buf);
            self.buf[8..12].copy_from_slice(&crc.to_le_bytes());
        }
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // CRC-32c of "123456789" is 0xE3069283 (RFC 3720 appendix B.4 family).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn writer_output_passes_the_checked_view() {
        let mut w = PacketWriter::new(5000, 5000, 0xdead_beef, 1200);
        w.push_chunk(11, 0, &[]);
        w.push_chunk(4, 0, &[b"abc"]);
        let pkt = Bytes::from(w.finish(false));
        assert_eq!(pkt.len(), 12 + 4 + 8);
        let view = PacketView::new_checked(pkt, false).expect("valid");
        assert_eq!(view.verification_tag(), 0xdead_beef);
        let chunks: Vec<_> = view.chunks().collect::<Result<_, _>>().expect("ok");
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].value.as_ref(), b"abc");
    }

    #[test]
    fn corrupted_packet_fails_the_checksum() {
        let mut w = PacketWriter::new(5000, 5000, 1, 1200);
        w.push_chunk(11, 0, &[]);
        let mut pkt = w.finish(false);
        pkt[14] ^= 1;
        assert_eq!(
            PacketView::new_checked(Bytes::from(pkt), false).unwrap_err(),
            PacketError::BadChecksum
        );
    }

    #[test]
    fn zero_checksum_is_accepted_only_when_negotiated() {
        let mut w = PacketWriter::new(5000, 5000, 1, 1200);
        w.push_chunk(11, 0, &[]);
        let pkt = Bytes::from(w.finish(true));
        assert!(PacketView::new_checked(pkt.clone(), true).is_ok());
        assert!(PacketView::new_checked(pkt, false).is_err());
    }

    #[test]
    fn chunk_with_overlong_length_is_malformed() {
        let mut pkt = PacketWriter::new(1, 2, 3, 100).finish(true);
        pkt.extend_from_slice(&[0, 0, 0, 40, 1, 2, 3, 4]);
        let view = PacketView::new_checked(Bytes::from(pkt), true).expect("header ok");
        let mut it = view.chunks();
        assert_eq!(it.next(), Some(Err(MalformedChunk)));
        assert_eq!(it.next(), None);
    }
}
