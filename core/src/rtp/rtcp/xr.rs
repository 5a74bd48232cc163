//! Extended reports (XR, PT 207, RFC 3611): the receiver reference time (RRTR, §4.4) and
//! DLRR (§4.5) blocks that let a receive-only endpoint measure round-trip time; other
//! blocks are kept raw.

use super::Reader;
use crate::rtp::RtpError;

/// Block type of a receiver reference time report block.
pub const BT_RRTR: u8 = 4;
/// Block type of a DLRR report block.
pub const BT_DLRR: u8 = 5;
/// Most sub-blocks a DLRR block can hold (16-bit length in words, 3 words each).
const MAX_DLRR_ITEMS: usize = 0xffff / 3;
/// Largest raw block body (16-bit length in words).
const MAX_BLOCK_BODY: usize = 0xffff * 4;

/// An XR report block.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XrBlock {
    /// Receiver reference time: an NTP timestamp from a receiver.
    Rrtr {
        /// NTP timestamp, 32.32 fixed point.
        ntp: u64,
    },
    /// Per receiver: `(ssrc, last_rr, delay_since_last_rr)`: the middle 32 bits of that
    /// receiver's last RRTR NTP timestamp and the delay since then in 1/65536 s; at most
    /// 21,845 are written.
    Dlrr(Vec<(u32, u32, u32)>),
    /// Any other block, kept raw; `body` is zero-padded to 4 bytes and cut at 262,140
    /// bytes when written.
    Unknown {
        /// Block type.
        block_type: u8,
        /// The type-specific byte.
        type_specific: u8,
        /// The block contents after its 4-byte header.
        body: Vec<u8>,
    },
}

impl XrBlock {
    fn read(r: &mut Reader<'_>) -> Result<Self, RtpError> {
        let block_type = r.u8()?;
        let type_specific = r.u8()?;
        let len = 4 * usize::from(r.u16()?);
        let body = r
            .take(len)
            .map_err(|_| RtpError::Malformed("XR block runs past the packet"))?;
        let mut b = Reader::new(body);
        Ok(match block_type {
            BT_RRTR if len == 8 => Self::Rrtr { ntp: b.u64()? },
            BT_DLRR if len % 12 == 0 => Self::Dlrr(
                (0..len / 12)
                    .map(|_| Ok((b.u32()?, b.u32()?, b.u32()?)))
                    .collect::<Result<_, RtpError>>()?,
            ),
            _ => Self::Unknown {
                block_type,
                type_specific,
                body: body.to_vec(),
            },
        })
    }

    fn body_len(&self) -> usize {
        match self {
            Self::Rrtr { .. } => 8,
            Self::Dlrr(items) => 12 * items.len().min(MAX_DLRR_ITEMS),
            Self::Unknown { body, .. } => body.len().next_multiple_of(4).min(MAX_BLOCK_BODY),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let len = self.body_len();
        let (bt, ts) = match self {
            Self::Rrtr { .. } => (BT_RRTR, 0),
            Self::Dlrr(_) => (BT_DLRR, 0),
            Self::Unknown {
                block_type,
                type_specific,
                ..
            } => (*block_type, *type_specific),
        };
        out.extend_from_slice(&[bt, ts]);
        out.extend_from_slice(&((len / 4) as u16).to_be_bytes());
        let start = out.len();
        match self {
            Self::Rrtr { ntp } => out.extend_from_slice(&ntp.to_be_bytes()),
            Self::Dlrr(items) => {
                for (ssrc, lrr, dlrr) in &items[..items.len().min(MAX_DLRR_ITEMS)] {
                    out.extend_from_slice(&ssrc.to_be_bytes());
                    out.extend_from_slice(&lrr.to_be_bytes());
                    out.extend_from_slice(&dlrr.to_be_bytes());
                }
            }
            Self::Unknown { body, .. } => out.extend_from_slice(&body[..body.len().min(len)]),
        }
        out.resize(start + len, 0);
    }
}

/// An extended report packet: the reporter and its blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtendedReport {
    /// The reporter.
    pub ssrc: u32,
    /// The report blocks, in order.
    pub blocks: Vec<XrBlock>,
}

impl ExtendedReport {
    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        let ssrc = r.u32()?;
        let mut blocks = Vec::new();
        while r.remaining() >= 4 {
            blocks.push(XrBlock::read(&mut r)?);
        }
        Ok(Self { ssrc, blocks })
    }

    pub(super) fn body_len(&self) -> usize {
        4 + self.blocks.iter().map(|b| 4 + b.body_len()).sum::<usize>()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        self.blocks.iter().for_each(|b| b.write(out));
    }
}
