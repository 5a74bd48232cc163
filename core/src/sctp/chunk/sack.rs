//! SACK chunk (RFC 9260 section 3.3.4).

use super::{BadChunk, ChunkType};
use crate::sctp::packet::PacketWriter;
use bytes::Bytes;

/// Most gap blocks or duplicate TSNs parsed from one SACK; the rest is ignored.
pub const MAX_SACK_ENTRIES: usize = 512;

/// A selective acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SackChunk {
    /// Cumulative TSN ack.
    pub cumulative_tsn_ack: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Gap ack blocks as (start, end) offsets from the cumulative TSN ack.
    pub gap_blocks: Vec<(u16, u16)>,
    /// TSNs received more than once.
    pub duplicate_tsns: Vec<u32>,
}

fn u16_at(v: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([v[at], v[at + 1]])
}

impl SackChunk {
    /// Parses a SACK value.
    pub fn parse(v: &Bytes) -> Result<Self, BadChunk> {
        if v.len() < 12 {
            return Err(BadChunk);
        }
        let n_gaps = usize::from(u16_at(v, 8));
        let n_dups = usize::from(u16_at(v, 10));
        if v.len() < 12 + 4 * (n_gaps + n_dups) {
            return Err(BadChunk);
        }
        let gaps = &v[12..12 + 4 * n_gaps];
        let dups = &v[12 + 4 * n_gaps..12 + 4 * (n_gaps + n_dups)];
        Ok(Self {
            cumulative_tsn_ack: u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
            a_rwnd: u32::from_be_bytes([v[4], v[5], v[6], v[7]]),
            gap_blocks: gaps
                .chunks_exact(4)
                .take(MAX_SACK_ENTRIES)
                .map(|g| (u16_at(g, 0), u16_at(g, 2)))
                .collect(),
            duplicate_tsns: dups
                .chunks_exact(4)
                .take(MAX_SACK_ENTRIES)
                .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
                .collect(),
        })
    }

    /// Encoded length of the chunk.
    pub fn encoded_len(&self) -> usize {
        16 + 4 * (self.gap_blocks.len() + self.duplicate_tsns.len())
    }

    /// Appends the chunk to `w`.
    pub fn emit(&self, w: &mut PacketWriter) {
        let mut v = Vec::with_capacity(self.encoded_len());
        v.extend_from_slice(&self.cumulative_tsn_ack.to_be_bytes());
        v.extend_from_slice(&self.a_rwnd.to_be_bytes());
        let n_gaps = u16::try_from(self.gap_blocks.len()).expect("bounded by the builder");
        let n_dups = u16::try_from(self.duplicate_tsns.len()).expect("bounded by the builder");
        v.extend_from_slice(&n_gaps.to_be_bytes());
        v.extend_from_slice(&n_dups.to_be_bytes());
        for (s, e) in &self.gap_blocks {
            v.extend_from_slice(&s.to_be_bytes());
            v.extend_from_slice(&e.to_be_bytes());
        }
        for d in &self.duplicate_tsns {
            v.extend_from_slice(&d.to_be_bytes());
        }
        w.push_chunk(ChunkType::SACK.0, 0, &[&v]);
    }
}
