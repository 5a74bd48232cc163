//! Writing RTP headers into a caller's buffer without allocating (RFC 3550 §5.1, RFC 8285
//! §4.2, §4.3).
//!
//! [`RtpHeaderRef`] is the borrowed twin of [`RtpHeader`](super::RtpHeader): the same
//! fields with the CSRCs and extension values borrowed, written by
//! [`RtpHeaderRef::write_into`] into any `&mut [u8]`. Both share the encoder here, so the
//! rules are the same: at most 15 CSRCs; extensions with id 0 or a value over 255 bytes are
//! skipped, as is any past the first [`MAX_EXTENSIONS`] valid ones; the one-byte form when
//! every written id is 1..=14 and every value 1..=16 bytes, else the two-byte form; the block
//! zero-padded to a word.
//!
//! The encoder reads the extensions twice (once for the layout, once to write), so it takes
//! any cloneable iterator of `(id, value)`: the send path feeds it the negotiated mid and
//! transport-wide sequence number chained with the application's values, with no
//! intermediate collection.

use super::header::{MAX_CSRCS, MAX_EXTENSIONS};
use super::{FIXED_HEADER_LEN, ONE_BYTE_PROFILE, RTP_VERSION, TWO_BYTE_PROFILE};

/// A borrowed RTP header: write it into a buffer you own, with no heap allocation.
///
/// Padding is not part of the header: a packet's padding belongs to whoever appends the
/// payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeaderRef<'a> {
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
    pub csrcs: &'a [u32],
    /// Header extensions as `(id, value)`, written in this order (see the module doc for
    /// which are skipped).
    pub extensions: &'a [(u8, &'a [u8])],
}

/// The buffer given to [`RtpHeaderRef::write_into`] is shorter than the header.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[error("an RTP header of {needed} bytes does not fit a buffer of {available}")]
pub struct BufferTooSmall {
    /// Bytes the header takes ([`RtpHeaderRef::encoded_len`]).
    pub needed: usize,
    /// Bytes the buffer has.
    pub available: usize,
}

impl<'a> RtpHeaderRef<'a> {
    #[inline]
    fn fixed(&self) -> Fixed {
        Fixed {
            marker: self.marker,
            payload_type: self.payload_type,
            sequence_number: self.sequence_number,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        }
    }

    #[inline]
    fn extension_iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + Clone + 'a {
        self.extensions.iter().copied()
    }

    /// The number of bytes [`write_into`](Self::write_into) writes.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.csrcs.len(), layout(self.extension_iter()))
    }

    /// Whether the extensions are written in the one-byte form.
    #[inline]
    pub fn uses_one_byte_form(&self) -> bool {
        layout(self.extension_iter()).is_none_or(Layout::one_byte)
    }

    /// Writes the header at the start of `buf` and returns its length; the bytes after it
    /// are left alone. Errors with [`BufferTooSmall`] (nothing written) when `buf` is
    /// shorter than [`encoded_len`](Self::encoded_len).
    #[inline]
    pub fn write_into(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let exts = self.extension_iter();
        let layout = layout(exts.clone());
        let needed = encoded_len(self.csrcs.len(), layout);
        let available = buf.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(BufferTooSmall { needed, available })?;
        encode(&self.fixed(), self.csrcs, exts, layout, out);
        Ok(needed)
    }

    /// Appends the header to `out` (allocating only if `out` lacks the capacity).
    #[inline]
    pub fn write_to(&self, out: &mut Vec<u8>) {
        append(&self.fixed(), self.csrcs, self.extension_iter(), out);
    }
}

/// The fixed-header fields the encoder writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// How an extension block is written: the form and the bytes of its elements before
/// padding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    one_byte: bool,
    body: usize,
}

impl Layout {
    /// Whether the block is in the one-byte form.
    #[inline]
    pub(crate) fn one_byte(self) -> bool {
        self.one_byte
    }
}

/// The elements that are written, in order.
#[inline]
fn writable<'e>(
    exts: impl Iterator<Item = (u8, &'e [u8])> + Clone,
) -> impl Iterator<Item = (u8, &'e [u8])> + Clone {
    exts.filter(|(id, v)| *id != 0 && v.len() <= 255)
        .take(MAX_EXTENSIONS)
}

/// The layout of the block for `exts`; `None` when no element will be written.
#[inline]
pub(crate) fn layout<'e>(exts: impl Iterator<Item = (u8, &'e [u8])> + Clone) -> Option<Layout> {
    let (mut one_byte, mut values, mut count) = (true, 0, 0);
    for (id, v) in writable(exts) {
        one_byte &= (1..=14).contains(&id) && (1..=16).contains(&v.len());
        values += v.len();
        count += 1;
    }
    let body = values + if one_byte { count } else { 2 * count };
    (count > 0).then_some(Layout { one_byte, body })
}

/// Header length with `csrcs` CSRCs (capped at 15) and an extension block of `layout`.
#[inline]
pub(crate) fn encoded_len(csrcs: usize, layout: Option<Layout>) -> usize {
    let ext = layout.map_or(0, |l| 4 + l.body.next_multiple_of(4));
    FIXED_HEADER_LEN + 4 * csrcs.min(MAX_CSRCS) + ext
}

/// Appends the header to `out`.
#[inline]
pub(crate) fn append<'e>(
    fixed: &Fixed,
    csrcs: &[u32],
    exts: impl Iterator<Item = (u8, &'e [u8])> + Clone,
    out: &mut Vec<u8>,
) {
    let layout = layout(exts.clone());
    let start = out.len();
    out.resize(start + encoded_len(csrcs.len(), layout), 0);
    encode(fixed, csrcs, exts, layout, &mut out[start..]);
}

/// Writes the header into `out`, which is exactly `encoded_len(csrcs.len(), layout)` long
/// and `layout` is the layout of `exts`.
#[inline]
fn encode<'e>(
    fixed: &Fixed,
    csrcs: &[u32],
    exts: impl Iterator<Item = (u8, &'e [u8])> + Clone,
    layout: Option<Layout>,
    out: &mut [u8],
) {
    let csrcs = &csrcs[..csrcs.len().min(MAX_CSRCS)];
    let (fixed_part, rest) = out.split_at_mut(FIXED_HEADER_LEN);
    let x_bit = if layout.is_some() { 0x10 } else { 0 };
    fixed_part[0] = (RTP_VERSION << 6) | x_bit | csrcs.len() as u8;
    fixed_part[1] = (if fixed.marker { 0x80 } else { 0 }) | (fixed.payload_type & 0x7f);
    fixed_part[2..4].copy_from_slice(&fixed.sequence_number.to_be_bytes());
    fixed_part[4..8].copy_from_slice(&fixed.timestamp.to_be_bytes());
    fixed_part[8..12].copy_from_slice(&fixed.ssrc.to_be_bytes());
    let (csrc_part, block) = rest.split_at_mut(4 * csrcs.len());
    for (slot, csrc) in csrc_part.chunks_exact_mut(4).zip(csrcs) {
        slot.copy_from_slice(&csrc.to_be_bytes());
    }
    if let Some(layout) = layout {
        encode_block(layout, writable(exts), block);
    }
}

/// Writes the extension block (its 4-byte header, the elements, zero padding) into
/// `block`, which is exactly as long as the padded block.
#[inline]
fn encode_block<'e>(layout: Layout, exts: impl Iterator<Item = (u8, &'e [u8])>, block: &mut [u8]) {
    let profile = if layout.one_byte {
        ONE_BYTE_PROFILE
    } else {
        TWO_BYTE_PROFILE
    };
    // A block has at most 15 elements of 17 bytes or 255 of 257: the word count fits.
    let words = layout.body.div_ceil(4) as u16;
    block[..2].copy_from_slice(&profile.to_be_bytes());
    block[2..4].copy_from_slice(&words.to_be_bytes());
    // The padding (0..=3 bytes) is inside the last word, which holds at least one byte of
    // an element: zero the whole word first and let the elements overwrite their part.
    let last_word = block.len() - 4;
    block[last_word..].copy_from_slice(&[0; 4]);
    // Each element is cut off the front of what is left: one bounds check per element.
    let mut rest = &mut block[4..];
    if layout.one_byte {
        for (id, value) in exts {
            let (element, tail) = rest.split_at_mut(1 + value.len());
            element[0] = (id << 4) | (value.len() as u8 - 1);
            copy_value(&mut element[1..], value);
            rest = tail;
        }
    } else {
        for (id, value) in exts {
            let (element, tail) = rest.split_at_mut(2 + value.len());
            element[0] = id;
            element[1] = value.len() as u8;
            copy_value(&mut element[2..], value);
            rest = tail;
        }
    }
}

/// `dst.copy_from_slice(src)`, with the lengths of common extension values (abs-send-time,
/// transport-wide sequence number, audio level, short mids, abs-capture-time) copied as
/// constant-size moves instead of a `memcpy` call.
#[inline(always)]
fn copy_value(dst: &mut [u8], src: &[u8]) {
    fn fixed<const N: usize>(dst: &mut [u8], src: &[u8]) {
        let (d, s): (&mut [u8; N], &[u8; N]) = (
            dst.try_into().expect("caller matched the length"),
            src.try_into().expect("caller matched the length"),
        );
        *d = *s;
    }
    match src.len() {
        1 => fixed::<1>(dst, src),
        2 => fixed::<2>(dst, src),
        3 => fixed::<3>(dst, src),
        4 => fixed::<4>(dst, src),
        8 => fixed::<8>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}
