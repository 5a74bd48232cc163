//! MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (CRC-32),
//! RFC 8489 sections 14.5, 14.6, 14.7 and 9.

use crate::crypto;
use std::fmt;

/// The constant XORed into the CRC-32 of a message to form its FINGERPRINT ("STUN").
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The key for MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 (RFC 8489 section 9).
///
/// Password preparation: RFC 8489 asks for OpaqueString (RFC 8265) preparation of the
/// password (SASLprep in RFC 5389). For ASCII passwords, which include every ICE password
/// (RFC 8839 `ice-char`), the preparation is the identity. rtcpeer does **not** implement
/// the Unicode preparation (width mapping, space mapping, NFC): non-ASCII passwords are
/// used as their UTF-8 bytes exactly as given, so a caller with non-ASCII credentials must
/// pass the already prepared string (RFC 5769 section 2.4 shows one: the prepared form of
/// its password is `TheMatrIX`).
#[derive(Clone, PartialEq, Eq)]
pub struct IntegrityKey {
    key: Vec<u8>,
}

impl IntegrityKey {
    /// The short-term credential key: the password's bytes (ICE uses this, with the
    /// password of the agent that receives the request).
    pub fn short_term(password: &str) -> IntegrityKey {
        IntegrityKey {
            key: password.as_bytes().to_vec(),
        }
    }

    /// The long-term credential key: `MD5(username ":" realm ":" password)`.
    pub fn long_term(username: &str, realm: &str, password: &str) -> IntegrityKey {
        let digest = crypto::md5(&[
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ]);
        IntegrityKey {
            key: digest.to_vec(),
        }
    }

    /// The long-term credential key for PASSWORD-ALGORITHM SHA-256:
    /// `SHA-256(username ":" realm ":" password)`.
    pub fn long_term_sha256(username: &str, realm: &str, password: &str) -> IntegrityKey {
        let digest = crypto::sha256(&[
            username.as_bytes(),
            b":",
            realm.as_bytes(),
            b":",
            password.as_bytes(),
        ]);
        IntegrityKey {
            key: digest.to_vec(),
        }
    }

    /// A key given as raw bytes.
    pub fn from_bytes(key: &[u8]) -> IntegrityKey {
        IntegrityKey { key: key.to_vec() }
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    /// HMAC-SHA1 over `prefix` (the message up to the MESSAGE-INTEGRITY attribute) with
    /// the header's length field replaced by `adjusted_len`.
    pub(crate) fn hmac_sha1(&self, prefix: &[u8], adjusted_len: u16) -> [u8; 20] {
        let (head, rest) = split_length_field(prefix);
        crypto::hmac_sha1(&self.key, &[head, &adjusted_len.to_be_bytes(), rest])
    }

    /// HMAC-SHA256 over `prefix` with the length field replaced by `adjusted_len`.
    pub(crate) fn hmac_sha256(&self, prefix: &[u8], adjusted_len: u16) -> [u8; 32] {
        let (head, rest) = split_length_field(prefix);
        crypto::hmac_sha256(&self.key, &[head, &adjusted_len.to_be_bytes(), rest])
    }
}

impl fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        write!(f, "IntegrityKey({} bytes)", self.key.len())
    }
}

/// Splits a message prefix around its length field (bytes 2..4): returns the two type
/// bytes and everything from the cookie on.
fn split_length_field(prefix: &[u8]) -> (&[u8], &[u8]) {
    (
        prefix.get(..2).unwrap_or_default(),
        prefix.get(4..).unwrap_or_default(),
    )
}

/// The FINGERPRINT value for `prefix`: the message up to the FINGERPRINT attribute, with
/// a length field that already counts the FINGERPRINT attribute.
pub(crate) fn fingerprint(prefix: &[u8]) -> u32 {
    crc32fast::hash(prefix) ^ FINGERPRINT_XOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_term_key_is_the_password_bytes() {
        assert_eq!(IntegrityKey::short_term("pass").as_bytes(), b"pass");
    }

    #[test]
    fn long_term_key_is_md5_of_user_realm_password() {
        let key = IntegrityKey::long_term("user", "realm", "pass");
        assert_eq!(key.as_bytes(), crypto::md5(&[b"user:realm:pass"]));
    }

    #[test]
    fn debug_does_not_reveal_the_key() {
        let text = format!("{:?}", IntegrityKey::short_term("secret"));
        assert!(!text.contains("secret"));
    }

    #[test]
    fn hmac_replaces_the_length_field() {
        let key = IntegrityKey::short_term("k");
        let a = [0u8, 1, 0xAA, 0xBB, 9, 9, 9, 9];
        let b = [0u8, 1, 0x00, 0x18, 9, 9, 9, 9];
        assert_eq!(key.hmac_sha1(&a, 0x18), crypto::hmac_sha1(b"k", &[&b]));
        assert_eq!(key.hmac_sha256(&a, 0x18), crypto::hmac_sha256(b"k", &[&b]));
    }
}
