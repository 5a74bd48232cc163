//! The owned RTP header, for building packets (RFC 3550 §5.1, RFC 8285 §4).

use super::writer::{self, Fixed};
use super::{RtpError, RtpPacket};
use std::fmt;

/// Most CSRCs the 4-bit CC field can count.
pub const MAX_CSRCS: usize = 15;

/// Most extension elements written (one per possible two-byte id), so that the block's
/// 16-bit word count cannot overflow.
pub const MAX_EXTENSIONS: usize = 255;

/// An owned RTP header: the fixed fields, CSRCs and header extensions.
///
/// Padding is not part of the header: a packet's padding belongs to whoever appends the
/// payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpHeader {
    /// The marker bit.
    pub marker: bool,
    /// Payload type (7 bits; the high bit is dropped when writing).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Contributing sources; at most [`MAX_CSRCS`] are written.
    pub csrcs: Vec<u32>,
    /// Header extensions as `(id, value)`, written in this order. Ids must be 1..=255 and
    /// values at most 255 bytes; others, and any past the first [`MAX_EXTENSIONS`] valid
    /// ones, are skipped when writing.
    pub extensions: Vec<(u8, Vec<u8>)>,
}

impl RtpHeader {
    /// Parses the header of an RTP packet; returns it and the header length (where the
    /// payload starts). Extensions of an unknown block profile are dropped.
    pub fn parse(packet: &[u8]) -> Result<(RtpHeader, usize), RtpError> {
        let view = RtpPacket::new_checked(packet)?;
        Ok((Self::from_packet(&view), view.header_len()))
    }

    /// The owned header of a checked packet.
    pub fn from_packet<T: AsRef<[u8]>>(view: &RtpPacket<T>) -> RtpHeader {
        RtpHeader {
            marker: view.marker(),
            payload_type: view.payload_type(),
            sequence_number: view.sequence_number(),
            timestamp: view.timestamp(),
            ssrc: view.ssrc(),
            csrcs: view.csrcs().collect(),
            extensions: view.extensions().map(|(id, v)| (id, v.to_vec())).collect(),
        }
    }

    /// The value of the first extension with `id`.
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets extension `id` to `value`, replacing an earlier value with that id.
    pub fn set_extension(&mut self, id: u8, value: Vec<u8>) {
        match self.extensions.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 = value,
            None => self.extensions.push((id, value)),
        }
    }

    /// The extensions as borrowed `(id, value)` pairs, for the shared encoder.
    fn extension_iter(&self) -> impl Iterator<Item = (u8, &[u8])> + Clone + '_ {
        self.extensions.iter().map(|(id, v)| (*id, v.as_slice()))
    }

    fn fixed(&self) -> Fixed {
        Fixed {
            marker: self.marker,
            payload_type: self.payload_type,
            sequence_number: self.sequence_number,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        }
    }

    /// Whether the extensions fit the one-byte form: every id in 1..=14 and every value
    /// 1..=16 bytes long.
    pub fn uses_one_byte_form(&self) -> bool {
        writer::layout(self.extension_iter()).is_none_or(writer::Layout::one_byte)
    }

    /// The number of bytes [`RtpHeader::write_to`] appends.
    pub fn encoded_len(&self) -> usize {
        writer::encoded_len(self.csrcs.len(), writer::layout(self.extension_iter()))
    }

    /// Appends the header to `out`: version 2, no padding bit, at most 15 CSRCs, and the
    /// extensions in the one-byte form when every id is 1..=14 and every value 1..=16 bytes,
    /// else in the two-byte form; extensions with id 0 or a value over 255 bytes are
    /// skipped. The block is zero-padded to a multiple of 4 bytes.
    ///
    /// Allocates only if `out` lacks the capacity; to write into a fixed buffer, borrow the
    /// header as an [`RtpHeaderRef`](super::RtpHeaderRef) instead.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        writer::append(&self.fixed(), &self.csrcs, self.extension_iter(), out);
    }
}

impl fmt::Display for RtpHeader {
    /// One line for traces: `pt=96 seq=1 ts=2 ssrc=0x.. M ext=[1:2B,..]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pt={} seq={} ts={} ssrc={:#010x}",
            self.payload_type, self.sequence_number, self.timestamp, self.ssrc
        )?;
        if self.marker {
            f.write_str(" M")?;
        }
        if !self.csrcs.is_empty() {
            write!(f, " csrcs={:x?}", self.csrcs)?;
        }
        if !self.extensions.is_empty() {
            f.write_str(" ext=[")?;
            for (i, (id, v)) in self.extensions.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                write!(f, "{sep}{id}:{}B", v.len())?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}
