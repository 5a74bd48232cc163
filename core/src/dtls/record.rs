//! The DTLS record header (RFC 6347 section 4.1) and splitting a datagram into records.
//!
//! ```text
//! type(1) version(2) epoch(2) sequence_number(6) length(2) fragment(length)
//! ```

use super::codec::{Reader, put_u16, put_u48};
use super::types::ContentType;
use core::fmt;

/// Length of a DTLS record header.
pub const RECORD_HEADER_LEN: usize = 13;
/// Largest record fragment accepted (2^14 plaintext + 2048 expansion, RFC 5246 6.2.3).
pub const MAX_RECORD_FRAGMENT: usize = (1 << 14) + 2048;

/// One record of a datagram, borrowed from it; only built by [`RecordView::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Content type.
    pub content_type: ContentType,
    /// Protocol version.
    pub version: u16,
    /// Epoch.
    pub epoch: u16,
    /// 48-bit sequence number.
    pub sequence: u64,
    /// The (possibly protected) fragment.
    pub fragment: &'a [u8],
    /// The whole record, header included.
    pub raw: &'a [u8],
}

impl<'a> RecordView<'a> {
    /// Parses the first record of `buf` and returns it with the bytes after it; `None` if the
    /// header is short, the length runs past the end, or the fragment is over-long.
    pub fn parse(buf: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let mut r = Reader::new(buf);
        let content_type = ContentType(r.u8()?);
        let version = r.u16()?;
        let epoch = r.u16()?;
        let sequence = r.u48()?;
        let fragment = r.vec16()?;
        if fragment.len() > MAX_RECORD_FRAGMENT {
            return None;
        }
        let used = RECORD_HEADER_LEN + fragment.len();
        let rec = Self {
            content_type,
            version,
            epoch,
            sequence,
            fragment,
            raw: &buf[..used],
        };
        Some((rec, r.rest()))
    }
}

impl fmt::Display for RecordView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record type={} ver={:04x} epoch={} seq={} len={}",
            self.content_type.0,
            self.version,
            self.epoch,
            self.sequence,
            self.fragment.len()
        )
    }
}

/// Iterates over the records of a datagram; stops at the first malformed one and reports
/// through [`Records::malformed`] whether trailing bytes were left.
#[derive(Debug)]
pub struct Records<'a> {
    rest: &'a [u8],
    /// Set when the remaining bytes did not form a record.
    pub malformed: bool,
}

impl<'a> Records<'a> {
    /// Records of `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        Self {
            rest: datagram,
            malformed: false,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = RecordView<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.malformed {
            return None;
        }
        match RecordView::parse(self.rest) {
            Some((rec, rest)) => {
                self.rest = rest;
                Some(rec)
            }
            None => {
                self.malformed = true;
                None
            }
        }
    }
}

/// Appends a record header with the given fields to `out`.
pub fn emit_header(
    out: &mut Vec<u8>,
    content_type: ContentType,
    version: u16,
    epoch: u16,
    sequence: u64,
    length: u16,
) {
    out.push(content_type.0);
    put_u16(out, version);
    put_u16(out, epoch);
    put_u48(out, sequence);
    put_u16(out, length);
}

/// True when the first byte of `datagram` is in the DTLS range 20..=63 (RFC 7983).
pub fn looks_like_dtls(datagram: &[u8]) -> bool {
    matches!(datagram.first(), Some(20..=63))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut out = Vec::new();
        emit_header(
            &mut out,
            ContentType::HANDSHAKE,
            0xfefd,
            1,
            0x0102_0304_0506,
            3,
        );
        out.extend_from_slice(b"abc");
        assert_eq!(out[..13], [22, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6, 0, 3]);
        let (rec, rest) = RecordView::parse(&out).unwrap();
        assert_eq!(rec.content_type, ContentType::HANDSHAKE);
        assert_eq!(rec.epoch, 1);
        assert_eq!(rec.sequence, 0x0102_0304_0506);
        assert_eq!(rec.fragment, b"abc");
        assert!(rest.is_empty());
    }

    #[test]
    fn several_records_in_one_datagram_are_split() {
        let mut out = Vec::new();
        for i in 0..3u8 {
            emit_header(&mut out, ContentType::ALERT, 0xfefd, 0, u64::from(i), 2);
            out.extend_from_slice(&[1, i]);
        }
        out.push(22); // trailing garbage
        let mut recs = Records::new(&out);
        assert_eq!(recs.by_ref().count(), 3);
        assert!(recs.malformed);
    }

    #[test]
    fn truncated_record_is_refused() {
        let mut out = Vec::new();
        emit_header(&mut out, ContentType::ALERT, 0xfefd, 0, 0, 5);
        out.extend_from_slice(&[1, 2]);
        assert!(RecordView::parse(&out).is_none());
    }

    #[test]
    fn demux_accepts_only_the_dtls_range() {
        assert!(looks_like_dtls(&[20]));
        assert!(looks_like_dtls(&[63, 0]));
        assert!(!looks_like_dtls(&[64]));
        assert!(!looks_like_dtls(&[0, 1]));
        assert!(!looks_like_dtls(&[]));
    }
}
