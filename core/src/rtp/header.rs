//! The owned RTP header, for building packets (RFC 3550 §5.1, RFC 8285 §4).

use super::{
    FIXED_HEADER_LEN, ONE_BYTE_PROFILE, RTP_VERSION, RtpError, RtpPacket, TWO_BYTE_PROFILE,
};
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

    fn writable_extensions(&self) -> impl Iterator<Item = &(u8, Vec<u8>)> + '_ {
        self.extensions
            .iter()
            .filter(|(id, v)| *id != 0 && v.len() <= 255)
            .take(MAX_EXTENSIONS)
    }

    /// Whether the extensions fit the one-byte form: every id in 1..=14 and every value
    /// 1..=16 bytes long.
    pub fn uses_one_byte_form(&self) -> bool {
        self.extension_layout().0
    }

    /// One pass over the written extensions: whether they fit the one-byte form, and the
    /// bytes of the block's elements before padding (`None` when none will be written).
    fn extension_layout(&self) -> (bool, Option<usize>) {
        let (mut one_byte, mut values, mut count) = (true, 0, 0);
        for (id, v) in self.writable_extensions() {
            one_byte &= (1..=14).contains(id) && (1..=16).contains(&v.len());
            values += v.len();
            count += 1;
        }
        let body = values + if one_byte { count } else { 2 * count };
        (one_byte, (count > 0).then_some(body))
    }

    /// The number of bytes [`RtpHeader::write_to`] appends.
    pub fn encoded_len(&self) -> usize {
        let csrcs = self.csrcs.len().min(MAX_CSRCS);
        let ext = self
            .extension_layout()
            .1
            .map_or(0, |body| 4 + body.next_multiple_of(4));
        FIXED_HEADER_LEN + 4 * csrcs + ext
    }

    /// Appends the header to `out`: version 2, no padding bit, at most 15 CSRCs, and the
    /// extensions in the one-byte form when every id is 1..=14 and every value 1..=16 bytes,
    /// else in the two-byte form; extensions with id 0 or a value over 255 bytes are
    /// skipped. The block is zero-padded to a multiple of 4 bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let csrcs = &self.csrcs[..self.csrcs.len().min(MAX_CSRCS)];
        let (one_byte, ext_body) = self.extension_layout();
        let x_bit = if ext_body.is_some() { 0x10 } else { 0 };
        out.reserve(
            FIXED_HEADER_LEN + 4 * csrcs.len() + ext_body.map_or(0, |b| 4 + b.next_multiple_of(4)),
        );
        out.push((RTP_VERSION << 6) | x_bit | csrcs.len() as u8);
        out.push((if self.marker { 0x80 } else { 0 }) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for csrc in csrcs {
            out.extend_from_slice(&csrc.to_be_bytes());
        }
        if let Some(body) = ext_body {
            self.write_extensions(out, one_byte, body);
        }
    }

    fn write_extensions(&self, out: &mut Vec<u8>, one_byte: bool, body: usize) {
        let padded = body.next_multiple_of(4);
        let profile = if one_byte {
            ONE_BYTE_PROFILE
        } else {
            TWO_BYTE_PROFILE
        };
        out.extend_from_slice(&profile.to_be_bytes());
        // A block has at most 15 elements of 17 bytes or 255 of 257: the word count fits.
        out.extend_from_slice(&((padded / 4) as u16).to_be_bytes());
        for (id, value) in self.writable_extensions() {
            if one_byte {
                out.push((id << 4) | (value.len() as u8 - 1));
            } else {
                out.push(*id);
                out.push(value.len() as u8);
            }
            out.extend_from_slice(value);
        }
        out.resize(out.len() + padded - body, 0);
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
