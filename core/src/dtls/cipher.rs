//! AEAD record protection for the AES-GCM suites (RFC 5288 section 3, RFC 6347 4.1.2.1).
//!
//! The nonce is the 4-byte implicit salt followed by the 8-byte explicit part, which
//! rtcpeer sets to epoch and sequence number; the explicit part leads the record fragment.
//! Additional data: epoch(2) sequence(6) type(1) version(2) plaintext_length(2).

use super::record::{RECORD_HEADER_LEN, RecordView, emit_header};
use super::types::ContentType;
use crate::crypto::aead::{AesGcmKey, GCM_TAG_LEN};

/// Bytes a protected record adds to its plaintext: explicit nonce and tag.
pub const AEAD_OVERHEAD: usize = 8 + GCM_TAG_LEN;

/// One direction's record key.
#[derive(Debug, Clone)]
pub struct RecordCipher {
    key: AesGcmKey,
    salt: [u8; 4],
}

fn aad(epoch_seq: &[u8; 8], content_type: ContentType, version: u16, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    a[..8].copy_from_slice(epoch_seq);
    a[8] = content_type.0;
    a[9..11].copy_from_slice(&version.to_be_bytes());
    a[11..].copy_from_slice(&(len as u16).to_be_bytes());
    a
}

fn epoch_seq(epoch: u16, seq: u64) -> [u8; 8] {
    ((u64::from(epoch) << 48) | (seq & 0xffff_ffff_ffff)).to_be_bytes()
}

impl RecordCipher {
    /// A cipher from a write key and salt; `None` if the key length is not 16 or 32.
    pub fn new(key: &[u8], salt: [u8; 4]) -> Option<Self> {
        Some(Self {
            key: AesGcmKey::new(key)?,
            salt,
        })
    }

    fn nonce(&self, explicit: &[u8; 8]) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&self.salt);
        n[4..].copy_from_slice(explicit);
        n
    }

    /// Appends one protected record carrying `plaintext` to `out`. Allocates nothing when
    /// `out` has room for `plaintext.len() + 37` more bytes.
    pub fn seal_record(
        &self,
        out: &mut Vec<u8>,
        content_type: ContentType,
        version: u16,
        epoch: u16,
        seq: u64,
        plaintext: &[u8],
    ) {
        let explicit = epoch_seq(epoch, seq);
        let len = plaintext.len() + AEAD_OVERHEAD;
        let len16 = u16::try_from(len).expect("callers keep records under 64 KiB");
        emit_header(out, content_type, version, epoch, seq, len16);
        out.extend_from_slice(&explicit);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let a = aad(&explicit, content_type, version, plaintext.len());
        let tag = self
            .key
            .seal_in_place(&self.nonce(&explicit), &a, &mut out[start..]);
        out.extend_from_slice(&tag);
    }

    /// Authenticates and decrypts `rec` into `scratch` (cleared first) and returns the
    /// plaintext; `None` if the record is too short or fails authentication.
    pub fn open_record<'s>(
        &self,
        rec: &RecordView<'_>,
        scratch: &'s mut Vec<u8>,
    ) -> Option<&'s [u8]> {
        let frag = rec.fragment;
        if frag.len() < AEAD_OVERHEAD {
            return None;
        }
        let explicit: [u8; 8] = frag[..8].try_into().ok()?;
        let (body, tag) = frag[8..].split_at(frag.len() - 8 - GCM_TAG_LEN);
        let tag: [u8; GCM_TAG_LEN] = tag.try_into().ok()?;
        scratch.clear();
        scratch.extend_from_slice(body);
        let a = aad(
            &epoch_seq(rec.epoch, rec.sequence),
            rec.content_type,
            rec.version,
            body.len(),
        );
        self.key
            .open_in_place(&self.nonce(&explicit), &a, scratch, &tag)
            .ok()?;
        Some(&scratch[..])
    }
}

/// Length of a protected record for `plaintext_len` bytes, header included.
pub const fn protected_len(plaintext_len: usize) -> usize {
    RECORD_HEADER_LEN + AEAD_OVERHEAD + plaintext_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_returns_the_plaintext() {
        let c = RecordCipher::new(&[1; 16], [2; 4]).unwrap();
        let mut out = Vec::new();
        c.seal_record(&mut out, ContentType::APPLICATION_DATA, 0xfefd, 1, 7, b"hi");
        assert_eq!(out.len(), protected_len(2));
        assert_eq!(out[13..21], [0, 1, 0, 0, 0, 0, 0, 7]);
        let (rec, _) = RecordView::parse(&out).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(c.open_record(&rec, &mut scratch), Some(&b"hi"[..]));
    }

    #[test]
    fn changed_header_fails_authentication() {
        let c = RecordCipher::new(&[1; 16], [2; 4]).unwrap();
        let mut out = Vec::new();
        c.seal_record(&mut out, ContentType::APPLICATION_DATA, 0xfefd, 1, 7, b"hi");
        out[10] ^= 1; // sequence number
        let (rec, _) = RecordView::parse(&out).unwrap();
        assert!(c.open_record(&rec, &mut Vec::new()).is_none());
    }
}
