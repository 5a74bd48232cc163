//! AES-GCM authenticated encryption (NIST SP 800-38D) for DTLS records and, later, SRTP.
//!
//! Sealing and opening work in place on caller-owned buffers so that hot paths do not
//! allocate. `aes-gcm` picks AES-NI and CLMUL at run time when the CPU has them.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};

/// Length of an AES-GCM authentication tag.
pub const GCM_TAG_LEN: usize = 16;
/// Length of an AES-GCM nonce.
pub const GCM_NONCE_LEN: usize = 12;

/// An expanded AES-GCM key (128 or 256 bits).
#[derive(Clone)]
pub enum AesGcmKey {
    /// AES-128-GCM.
    Aes128(Box<Aes128Gcm>),
    /// AES-256-GCM.
    Aes256(Box<Aes256Gcm>),
}

impl core::fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Aes128(_) => f.write_str("AesGcmKey::Aes128(..)"),
            Self::Aes256(_) => f.write_str("AesGcmKey::Aes256(..)"),
        }
    }
}

/// Authentication failed: the ciphertext, tag or associated data was altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadOpenError;

impl AesGcmKey {
    /// Expands a 16-byte (AES-128) or 32-byte (AES-256) key; `None` for other lengths.
    pub fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Aes128Gcm::new_from_slice(key)
                .ok()
                .map(|k| Self::Aes128(Box::new(k))),
            32 => Aes256Gcm::new_from_slice(key)
                .ok()
                .map(|k| Self::Aes256(Box::new(k))),
            _ => None,
        }
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; GCM_TAG_LEN] {
        let nonce = Nonce::from(*nonce);
        let tag = match self {
            Self::Aes128(k) => k.encrypt_inout_detached(&nonce, aad, buf.into()),
            Self::Aes256(k) => k.encrypt_inout_detached(&nonce, aad, buf.into()),
        }
        .expect("AES-GCM encrypts any buffer shorter than 64 GiB");
        tag.into()
    }

    /// Checks `tag` and decrypts `buf` in place. On failure `buf` content is unspecified.
    pub fn open_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; GCM_TAG_LEN],
    ) -> Result<(), AeadOpenError> {
        let nonce = Nonce::from(*nonce);
        let tag = Tag::from(*tag);
        match self {
            Self::Aes128(k) => k.decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
            Self::Aes256(k) => k.decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
        }
        .map_err(|_| AeadOpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn aes128_gcm_matches_gcm_spec_test_case_3() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 3.
        let key = AesGcmKey::new(&unhex("feffe9928665731c6d6a8f9467308308")).unwrap();
        let nonce: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
        let mut buf = unhex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        );
        let tag = key.seal_in_place(&nonce, &[], &mut buf);
        assert_eq!(
            buf,
            unhex(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
            )
        );
        assert_eq!(tag.to_vec(), unhex("4d5c2af327cd64a62cf35abd2ba6fab4"));
        key.open_in_place(&nonce, &[], &mut buf, &tag).unwrap();
        assert_eq!(buf[..4], unhex("d9313225")[..]);
    }

    #[test]
    fn aes256_gcm_rejects_a_flipped_bit() {
        let key = AesGcmKey::new(&[7u8; 32]).unwrap();
        let nonce = [1u8; 12];
        let mut buf = b"hello rtcpeer".to_vec();
        let tag = key.seal_in_place(&nonce, b"aad", &mut buf);
        buf[0] ^= 1;
        assert_eq!(
            key.open_in_place(&nonce, b"aad", &mut buf, &tag),
            Err(AeadOpenError)
        );
    }

    #[test]
    fn other_key_lengths_are_refused() {
        assert!(AesGcmKey::new(&[0u8; 24]).is_none());
    }
}
