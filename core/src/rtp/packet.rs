//! The checked zero-copy view of an RTP packet (RFC 3550 §5.1) and its header-extension
//! iterator (RFC 8285).

use super::{FIXED_HEADER_LEN, ONE_BYTE_PROFILE, RTP_VERSION, RtpError};
use std::fmt;

/// A checked view of an RTP packet over any byte buffer.
///
/// [`RtpPacket::new_checked`] validates the framing once; after that no accessor panics,
/// whatever the bytes were. Setters (for `AsMut` buffers) rewrite fixed-header fields in
/// place and cannot break the framing.
#[derive(Debug, Clone)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
    padding_len: usize,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Checks `buffer` and wraps it: version 2, at least the fixed header, the CSRC list and
    /// the extension block inside the buffer, and the padding count (when the P bit is set)
    /// between 1 and the bytes after the header.
    pub fn new_checked(buffer: T) -> Result<Self, RtpError> {
        let (header_len, padding_len) = check(buffer.as_ref())?;
        Ok(Self {
            buffer,
            header_len,
            padding_len,
        })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b = self.bytes();
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.bytes();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// The marker bit.
    pub fn marker(&self) -> bool {
        self.bytes()[1] & 0x80 != 0
    }

    /// The 7-bit payload type.
    pub fn payload_type(&self) -> u8 {
        self.bytes()[1] & 0x7f
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u16 {
        self.u16_at(2)
    }

    /// The RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        self.u32_at(4)
    }

    /// The synchronisation source.
    pub fn ssrc(&self) -> u32 {
        self.u32_at(8)
    }

    /// Whether the X bit announces an extension block.
    pub fn has_extension(&self) -> bool {
        self.bytes()[0] & 0x10 != 0
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + '_ {
        let count = usize::from(self.bytes()[0] & 0x0f);
        (0..count).map(move |i| self.u32_at(FIXED_HEADER_LEN + 4 * i))
    }

    /// Length of the fixed header, the CSRCs and the extension block: where the payload
    /// starts.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, without header and padding.
    pub fn payload(&self) -> &[u8] {
        let b = self.bytes();
        &b[self.header_len..b.len() - self.padding_len]
    }

    /// How many padding bytes end the packet (0 when the P bit is clear), counting the
    /// final count byte.
    pub fn padding_len(&self) -> usize {
        self.padding_len
    }

    /// The extension block's "defined by profile" field, if there is a block.
    pub fn extension_profile(&self) -> Option<u16> {
        self.has_extension()
            .then(|| self.u16_at(FIXED_HEADER_LEN + 4 * self.csrc_count()))
    }

    fn csrc_count(&self) -> usize {
        usize::from(self.bytes()[0] & 0x0f)
    }

    /// The header extensions as `(id, value)`, in wire order, in the one-byte or two-byte
    /// form (RFC 8285). Empty when there is no block or its profile is neither form.
    /// Padding bytes are skipped; a one-byte id 15 or an element running past the block
    /// ends the iteration.
    pub fn extensions(&self) -> ExtensionIter<'_> {
        extension_block(self.bytes(), self.header_len)
    }

    /// The value of the first extension element with `id`, if any.
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        self.extensions().find(|&(i, _)| i == id).map(|(_, v)| v)
    }

    /// The whole packet as given.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<'a> RtpPacket<&'a [u8]> {
    /// [`extensions`](Self::extensions) with values borrowed from the buffer instead of
    /// the view, so that they outlive it (a parser can return them).
    #[inline]
    pub fn buffer_extensions(&self) -> ExtensionIter<'a> {
        extension_block(self.buffer, self.header_len)
    }
}

/// The extension elements of checked packet bytes `b` whose header is `header_len` long.
#[inline]
fn extension_block(b: &[u8], header_len: usize) -> ExtensionIter<'_> {
    if b[0] & 0x10 == 0 {
        return ExtensionIter::empty();
    }
    let at = FIXED_HEADER_LEN + 4 * usize::from(b[0] & 0x0f);
    let profile = u16::from_be_bytes([b[at], b[at + 1]]);
    ExtensionIter::new(profile, &b[at + 4..header_len])
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    fn put_u16(&mut self, at: usize, v: u16) {
        self.buffer.as_mut()[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        self.buffer.as_mut()[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets or clears the marker bit.
    pub fn set_marker(&mut self, m: bool) {
        let b = &mut self.buffer.as_mut()[1];
        *b = (*b & 0x7f) | if m { 0x80 } else { 0 };
    }

    /// Sets the payload type; only the low 7 bits of `pt` are used.
    pub fn set_payload_type(&mut self, pt: u8) {
        let b = &mut self.buffer.as_mut()[1];
        *b = (*b & 0x80) | (pt & 0x7f);
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, s: u16) {
        self.put_u16(2, s);
    }

    /// Sets the RTP timestamp.
    pub fn set_timestamp(&mut self, t: u32) {
        self.put_u32(4, t);
    }

    /// Sets the synchronisation source.
    pub fn set_ssrc(&mut self, s: u32) {
        self.put_u32(8, s);
    }
}

/// Validates the framing; returns `(header_len, padding_len)`.
#[inline]
fn check(b: &[u8]) -> Result<(usize, usize), RtpError> {
    if b.len() < FIXED_HEADER_LEN {
        return Err(RtpError::TooShort);
    }
    if b[0] >> 6 != RTP_VERSION {
        return Err(RtpError::BadVersion);
    }
    let mut header_len = FIXED_HEADER_LEN + 4 * usize::from(b[0] & 0x0f);
    if b[0] & 0x10 != 0 {
        let words = b
            .get(header_len + 2..header_len + 4)
            .ok_or(RtpError::BadLength)?;
        header_len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if header_len > b.len() {
        return Err(RtpError::BadLength);
    }
    let padding_len = if b[0] & 0x20 != 0 {
        let count = usize::from(b[b.len() - 1]);
        if count == 0 || count > b.len() - header_len {
            return Err(RtpError::BadLength);
        }
        count
    } else {
        0
    };
    Ok((header_len, padding_len))
}

/// Iterator over the elements of an RFC 8285 extension block: `(id, value)`.
#[derive(Debug, Clone)]
pub struct ExtensionIter<'a> {
    data: &'a [u8],
    two_byte: bool,
}

impl<'a> ExtensionIter<'a> {
    /// Iterates the elements of a block body (after its 4-byte header) with the given
    /// "defined by profile" value; a profile that is neither form yields nothing.
    #[inline]
    pub fn new(profile: u16, data: &'a [u8]) -> Self {
        if profile == ONE_BYTE_PROFILE {
            Self {
                data,
                two_byte: false,
            }
        } else if profile & 0xfff0 == super::TWO_BYTE_PROFILE {
            Self {
                data,
                two_byte: true,
            }
        } else {
            Self::empty()
        }
    }

    #[inline]
    fn empty() -> Self {
        Self {
            data: &[],
            two_byte: false,
        }
    }

    #[inline]
    fn next_one_byte(&mut self) -> Option<(u8, &'a [u8])> {
        loop {
            let (&first, rest) = self.data.split_first()?;
            let id = first >> 4;
            if id == 0 {
                self.data = rest;
                continue;
            }
            if id == 15 {
                self.data = &[];
                return None;
            }
            return self.take(id, usize::from(first & 0x0f) + 1, rest);
        }
    }

    #[inline]
    fn next_two_byte(&mut self) -> Option<(u8, &'a [u8])> {
        loop {
            let (&id, rest) = self.data.split_first()?;
            if id == 0 {
                self.data = rest;
                continue;
            }
            let Some((&len, rest)) = rest.split_first() else {
                self.data = &[];
                return None;
            };
            return self.take(id, usize::from(len), rest);
        }
    }

    #[inline]
    fn take(&mut self, id: u8, len: usize, rest: &'a [u8]) -> Option<(u8, &'a [u8])> {
        if len > rest.len() {
            self.data = &[];
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.data = rest;
        Some((id, value))
    }
}

impl<'a> Iterator for ExtensionIter<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.two_byte {
            self.next_two_byte()
        } else {
            self.next_one_byte()
        }
    }
}

impl<T: AsRef<[u8]>> fmt::Display for RtpPacket<T> {
    /// One line for traces: `RTP pt=96 seq=1 ts=2 ssrc=0x.. M len=.. ext=[1:2B,..]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RTP pt={} seq={} ts={} ssrc={:#010x}{} payload={}B",
            self.payload_type(),
            self.sequence_number(),
            self.timestamp(),
            self.ssrc(),
            if self.marker() { " M" } else { "" },
            self.payload().len()
        )?;
        if self.padding_len > 0 {
            write!(f, " pad={}", self.padding_len)?;
        }
        let mut exts = self.extensions().peekable();
        if exts.peek().is_some() {
            f.write_str(" ext=[")?;
            for (i, (id, v)) in exts.enumerate() {
                let sep = if i == 0 { "" } else { "," };
                write!(f, "{sep}{id}:{}B", v.len())?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}
