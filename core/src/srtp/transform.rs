//! The per-profile cryptographic transforms, with session keys derived and scheduled once.
//!
//! - AES-CM + HMAC-SHA1 (RFC 3711 §4.1.1, §4.2; RFC 5764 §4.1.2): payload XORed with the
//!   keystream from IV `salt<<16 ^ SSRC<<64 ^ index<<16`; SRTP tag = HMAC(packet || ROC)
//!   truncated to 10 or 4 bytes; SRTCP: `E|index` appended, tag always 10 bytes.
//! - AES-GCM (RFC 7714 §8, §9): IV = `00 00 || SSRC || ROC || SEQ` (SRTCP: `00 00 || SSRC
//!   || 00 00 || index`) XOR the 12-byte session salt; SRTP AAD = the RTP header with CSRCs
//!   and extension; SRTCP AAD = the 8-byte header || `E|index` (E=0: the whole packet ||
//!   `E|index`); wire layout `header | ciphertext | tag(16) [| E|index]`.

use super::header::{RTCP_HEADER_LEN, RtpHeader};
use super::kdf::{self, aes_ctr_xor, to_array};
use super::{SrtpError, SrtpProfile};
use crate::crypto::aead::{AesGcmKey, GCM_NONCE_LEN, GCM_TAG_LEN};
use aes::Aes128;
use ctr::cipher::array::Array;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Length of the SRTCP `E|index` word.
const RTCP_INDEX_LEN: usize = 4;
/// The E (encrypted) flag of the SRTCP index word.
pub(super) const RTCP_E_FLAG: u32 = 0x8000_0000;
/// AES-CM session salt length (112 bits).
const CM_SALT_LEN: usize = 14;
/// AES-GCM session salt length (96 bits).
const GCM_SALT_LEN: usize = 12;
/// HMAC-SHA1 session authentication key length (160 bits).
const AUTH_KEY_LEN: usize = 20;
/// The long HMAC-SHA1 tag (80 bits), also the SRTCP tag of both CM profiles.
const CM_TAG_80: usize = 10;
/// The short HMAC-SHA1 tag (32 bits) of `AES128_CM_HMAC_SHA1_32` SRTP.
const CM_TAG_32: usize = 4;

/// Bytes SRTP appends to an RTP packet of `profile` (its tag).
pub(super) fn rtp_tag_len(profile: SrtpProfile) -> usize {
    match profile {
        SrtpProfile::AES128_CM_HMAC_SHA1_32 => CM_TAG_32,
        SrtpProfile::AEAD_AES_128_GCM | SrtpProfile::AEAD_AES_256_GCM => GCM_TAG_LEN,
        _ => CM_TAG_80,
    }
}

/// Bytes SRTCP appends to an RTCP packet of `profile` (tag and `E|index`; the SRTCP tag of
/// both AES-CM profiles is 80 bits).
pub(super) fn rtcp_trailer_len(profile: SrtpProfile) -> usize {
    RTCP_INDEX_LEN
        + match profile {
            SrtpProfile::AEAD_AES_128_GCM | SrtpProfile::AEAD_AES_256_GCM => GCM_TAG_LEN,
            _ => CM_TAG_80,
        }
}

/// The master key and salt lengths of `profile`, once `master_key` and `master_salt` are
/// checked to have them. Errors: `UnsupportedProfile`, `KeyLength`.
pub(super) fn check_master(
    profile: SrtpProfile,
    master_key: &[u8],
    master_salt: &[u8],
) -> Result<(usize, usize), SrtpError> {
    let (key_len, salt_len) = master_lengths(profile)?;
    if master_key.len() != key_len || master_salt.len() != salt_len {
        return Err(SrtpError::KeyLength);
    }
    Ok((key_len, salt_len))
}

/// Master key and master salt lengths of `profile`.
pub(super) fn master_lengths(profile: SrtpProfile) -> Result<(usize, usize), SrtpError> {
    match profile {
        SrtpProfile::AES128_CM_HMAC_SHA1_80 | SrtpProfile::AES128_CM_HMAC_SHA1_32 => {
            Ok((16, CM_SALT_LEN))
        }
        SrtpProfile::AEAD_AES_128_GCM => Ok((16, GCM_SALT_LEN)),
        SrtpProfile::AEAD_AES_256_GCM => Ok((32, GCM_SALT_LEN)),
        other => Err(SrtpError::UnsupportedProfile(other.0)),
    }
}

/// Session keys of one context, ready to use.
#[derive(Clone)]
pub(super) enum Transform {
    /// AES counter mode with HMAC-SHA1.
    CmSha1(Box<CmKeys>),
    /// AES-GCM (128 or 256).
    Gcm(Box<GcmKeys>),
}

/// AES-CM keys: ciphers scheduled and HMACs keyed once.
#[derive(Clone)]
pub(super) struct CmKeys {
    rtp_cipher: Aes128,
    rtp_salt: [u8; CM_SALT_LEN],
    rtp_mac: Hmac<Sha1>,
    rtp_tag_len: usize,
    rtcp_cipher: Aes128,
    rtcp_salt: [u8; CM_SALT_LEN],
    rtcp_mac: Hmac<Sha1>,
}

/// AES-GCM keys.
#[derive(Clone)]
pub(super) struct GcmKeys {
    rtp: AesGcmKey,
    rtp_salt: [u8; GCM_SALT_LEN],
    rtcp: AesGcmKey,
    rtcp_salt: [u8; GCM_SALT_LEN],
}

impl Transform {
    /// Derives the session keys of `profile` from the master key and salt.
    pub(super) fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        let (key_len, salt_len) = check_master(profile, master_key, master_salt)?;
        let derive = |label: u8, out: &mut [u8]| kdf::derive(master_key, master_salt, label, out);
        if salt_len == GCM_SALT_LEN {
            let mut key = vec![0u8; key_len];
            let mut rtp_salt = [0u8; GCM_SALT_LEN];
            derive(kdf::LABEL_RTP_KEY, &mut key);
            derive(kdf::LABEL_RTP_SALT, &mut rtp_salt);
            let rtp = AesGcmKey::new(&key).ok_or(SrtpError::KeyLength)?;
            let mut rtcp_salt = [0u8; GCM_SALT_LEN];
            derive(kdf::LABEL_RTCP_KEY, &mut key);
            derive(kdf::LABEL_RTCP_SALT, &mut rtcp_salt);
            let rtcp = AesGcmKey::new(&key).ok_or(SrtpError::KeyLength)?;
            key.fill(0);
            return Ok(Self::Gcm(Box::new(GcmKeys {
                rtp,
                rtp_salt,
                rtcp,
                rtcp_salt,
            })));
        }
        let cipher = |label: u8| {
            let mut key = [0u8; 16];
            derive(label, &mut key);
            Aes128::new(&Array::from(key))
        };
        let salt = |label: u8| {
            let mut salt = [0u8; CM_SALT_LEN];
            derive(label, &mut salt);
            salt
        };
        let mac = |label: u8| {
            let mut key = [0u8; AUTH_KEY_LEN];
            derive(label, &mut key);
            <Hmac<Sha1> as KeyInit>::new_from_slice(&key).expect("HMAC accepts any key length")
        };
        let rtp_tag_len = rtp_tag_len(profile);
        Ok(Self::CmSha1(Box::new(CmKeys {
            rtp_cipher: cipher(kdf::LABEL_RTP_KEY),
            rtp_salt: salt(kdf::LABEL_RTP_SALT),
            rtp_mac: mac(kdf::LABEL_RTP_AUTH),
            rtp_tag_len,
            rtcp_cipher: cipher(kdf::LABEL_RTCP_KEY),
            rtcp_salt: salt(kdf::LABEL_RTCP_SALT),
            rtcp_mac: mac(kdf::LABEL_RTCP_AUTH),
        })))
    }

    /// Bytes SRTP appends to an RTP packet.
    fn rtp_tag_len(&self) -> usize {
        match self {
            Self::CmSha1(k) => k.rtp_tag_len,
            Self::Gcm(_) => GCM_TAG_LEN,
        }
    }

    /// Bytes SRTCP appends to an RTCP packet (tag and `E|index`).
    fn rtcp_trailer_len(&self) -> usize {
        RTCP_INDEX_LEN
            + match self {
                Self::CmSha1(_) => CM_TAG_80,
                Self::Gcm(_) => GCM_TAG_LEN,
            }
    }

    /// Encrypts the payload of `packet` (header `hdr`, packet index `index`) and appends the tag.
    pub(super) fn protect_rtp(&self, packet: &mut Vec<u8>, hdr: &RtpHeader, index: u64) {
        match self {
            Self::CmSha1(k) => {
                let iv = cm_iv(&k.rtp_salt, hdr.ssrc, index);
                aes_ctr_xor(&k.rtp_cipher, &iv, &mut packet[hdr.len..]);
                let tag = rtp_hmac(&k.rtp_mac, packet, index);
                packet.extend_from_slice(&tag[..k.rtp_tag_len]);
            }
            Self::Gcm(k) => {
                let iv = gcm_rtp_iv(&k.rtp_salt, hdr.ssrc, index);
                let (aad, payload) = packet.split_at_mut(hdr.len);
                let tag = k.rtp.seal_in_place(&iv, aad, payload);
                packet.extend_from_slice(&tag);
            }
        }
    }

    /// Verifies the tag at the end of `packet` and decrypts the payload in place; the
    /// caller then removes the tag. On error the payload bytes are unspecified.
    pub(super) fn unprotect_rtp(
        &self,
        packet: &mut [u8],
        hdr: &RtpHeader,
        index: u64,
    ) -> Result<(), SrtpError> {
        let body_len = packet.len() - self.rtp_tag_len();
        let (body, tag) = packet.split_at_mut(body_len);
        match self {
            Self::CmSha1(k) => {
                let mut mac = k.rtp_mac.clone();
                mac.update(body);
                mac.update(&roc_bytes(index));
                mac.verify_truncated_left(tag)
                    .map_err(|_| SrtpError::AuthenticationFailed)?;
                let iv = cm_iv(&k.rtp_salt, hdr.ssrc, index);
                aes_ctr_xor(&k.rtp_cipher, &iv, &mut body[hdr.len..]);
                Ok(())
            }
            Self::Gcm(k) => {
                let iv = gcm_rtp_iv(&k.rtp_salt, hdr.ssrc, index);
                let tag: &[u8; GCM_TAG_LEN] = (&*tag).try_into().expect("tag length split");
                let (aad, payload) = body.split_at_mut(hdr.len);
                k.rtp
                    .open_in_place(&iv, aad, payload, tag)
                    .map_err(|_| SrtpError::AuthenticationFailed)
            }
        }
    }

    /// Encrypts everything after the first 8 bytes of `packet` with SRTCP index `index`
    /// (< 2^31) and appends the `E|index` word and the tag in the profile's order.
    pub(super) fn protect_rtcp(&self, packet: &mut Vec<u8>, ssrc: u32, index: u32) {
        let e_index = (RTCP_E_FLAG | index).to_be_bytes();
        match self {
            Self::CmSha1(k) => {
                let iv = cm_iv(&k.rtcp_salt, ssrc, u64::from(index));
                aes_ctr_xor(&k.rtcp_cipher, &iv, &mut packet[RTCP_HEADER_LEN..]);
                packet.extend_from_slice(&e_index);
                let mut mac = k.rtcp_mac.clone();
                mac.update(packet);
                let tag = mac.finalize().into_bytes();
                packet.extend_from_slice(&tag[..CM_TAG_80]);
            }
            Self::Gcm(k) => {
                let iv = gcm_rtcp_iv(&k.rtcp_salt, ssrc, index);
                let aad = rtcp_gcm_aad(packet, e_index);
                let tag = k
                    .rtcp
                    .seal_in_place(&iv, &aad, &mut packet[RTCP_HEADER_LEN..]);
                packet.extend_from_slice(&tag);
                packet.extend_from_slice(&e_index);
            }
        }
    }

    /// The `E|index` word of an SRTCP packet, read (unauthenticated) from its trailer.
    pub(super) fn rtcp_e_index(&self, packet: &[u8]) -> Result<u32, SrtpError> {
        if packet.len() < RTCP_HEADER_LEN + self.rtcp_trailer_len() {
            return Err(SrtpError::TooShort);
        }
        let at = match self {
            Self::CmSha1(_) => packet.len() - CM_TAG_80 - RTCP_INDEX_LEN,
            Self::Gcm(_) => packet.len() - RTCP_INDEX_LEN,
        };
        Ok(u32::from_be_bytes(to_array(
            &packet[at..at + RTCP_INDEX_LEN],
        )))
    }

    /// Verifies an SRTCP packet whose trailer holds `e_index` and decrypts it in place if
    /// the E flag is set. Returns the length of the RTCP packet (the trailer is after it).
    /// On error the bytes are unspecified.
    pub(super) fn unprotect_rtcp(
        &self,
        packet: &mut [u8],
        ssrc: u32,
        e_index: u32,
    ) -> Result<usize, SrtpError> {
        let plain_len = packet.len() - self.rtcp_trailer_len();
        let index = e_index & !RTCP_E_FLAG;
        let encrypted = e_index & RTCP_E_FLAG != 0;
        match self {
            Self::CmSha1(k) => {
                let (body, tag) = packet.split_at_mut(plain_len + RTCP_INDEX_LEN);
                let mut mac = k.rtcp_mac.clone();
                mac.update(body);
                mac.verify_truncated_left(tag)
                    .map_err(|_| SrtpError::AuthenticationFailed)?;
                if encrypted {
                    let iv = cm_iv(&k.rtcp_salt, ssrc, u64::from(index));
                    aes_ctr_xor(&k.rtcp_cipher, &iv, &mut body[RTCP_HEADER_LEN..plain_len]);
                }
            }
            Self::Gcm(k) => {
                let iv = gcm_rtcp_iv(&k.rtcp_salt, ssrc, index);
                let tag: [u8; GCM_TAG_LEN] = to_array(&packet[plain_len..plain_len + GCM_TAG_LEN]);
                let opened = if encrypted {
                    let aad = rtcp_gcm_aad(packet, e_index.to_be_bytes());
                    let payload = &mut packet[RTCP_HEADER_LEN..plain_len];
                    k.rtcp.open_in_place(&iv, &aad, payload, &tag)
                } else {
                    // Unencrypted: the AAD is the whole packet followed by `E|index`. Move
                    // the index word over the tag so that the AAD is contiguous.
                    packet.copy_within(plain_len + GCM_TAG_LEN.., plain_len);
                    let aad = &packet[..plain_len + RTCP_INDEX_LEN];
                    k.rtcp.open_in_place(&iv, aad, &mut [], &tag)
                };
                opened.map_err(|_| SrtpError::AuthenticationFailed)?;
            }
        }
        Ok(plain_len)
    }
}

/// The AES-CM counter block: `salt<<16 XOR ssrc<<64 XOR index<<16`.
fn cm_iv(salt: &[u8; CM_SALT_LEN], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..CM_SALT_LEN].copy_from_slice(salt);
    xor_into(&mut iv[4..8], &ssrc.to_be_bytes());
    xor_into(&mut iv[8..14], &index.to_be_bytes()[2..]);
    iv
}

/// The RFC 7714 §8.1 SRTP IV.
fn gcm_rtp_iv(salt: &[u8; GCM_SALT_LEN], ssrc: u32, index: u64) -> [u8; GCM_NONCE_LEN] {
    let mut iv = *salt;
    xor_into(&mut iv[2..6], &ssrc.to_be_bytes());
    xor_into(&mut iv[6..12], &index.to_be_bytes()[2..]);
    iv
}

/// The RFC 7714 §9.1 SRTCP IV.
fn gcm_rtcp_iv(salt: &[u8; GCM_SALT_LEN], ssrc: u32, index: u32) -> [u8; GCM_NONCE_LEN] {
    let mut iv = *salt;
    xor_into(&mut iv[2..6], &ssrc.to_be_bytes());
    xor_into(&mut iv[8..12], &index.to_be_bytes());
    iv
}

/// SRTCP GCM AAD with the E flag set: the 8-byte RTCP header, then `E|index`.
fn rtcp_gcm_aad(packet: &[u8], e_index: [u8; 4]) -> [u8; RTCP_HEADER_LEN + RTCP_INDEX_LEN] {
    let mut aad = [0u8; RTCP_HEADER_LEN + RTCP_INDEX_LEN];
    aad[..RTCP_HEADER_LEN].copy_from_slice(&packet[..RTCP_HEADER_LEN]);
    aad[RTCP_HEADER_LEN..].copy_from_slice(&e_index);
    aad
}

/// HMAC-SHA1 over the authenticated portion of an SRTP packet followed by its ROC.
fn rtp_hmac(mac: &Hmac<Sha1>, packet: &[u8], index: u64) -> [u8; 20] {
    let mut mac = mac.clone();
    mac.update(packet);
    mac.update(&roc_bytes(index));
    mac.finalize().into_bytes().into()
}

/// The rollover counter of a 48-bit packet index, big-endian.
fn roc_bytes(index: u64) -> [u8; 4] {
    ((index >> 16) as u32).to_be_bytes()
}

fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

#[cfg(test)]
impl Transform {
    /// GCM with the given session key and salt for both SRTP and SRTCP, skipping the KDF:
    /// the shape of the RFC 7714 §16/§17 vectors.
    pub(super) fn gcm_session(key: &[u8], salt: &[u8]) -> Self {
        let key = || AesGcmKey::new(key).expect("16 or 32 bytes");
        Self::Gcm(Box::new(GcmKeys {
            rtp: key(),
            rtp_salt: to_array(salt),
            rtcp: key(),
            rtcp_salt: to_array(salt),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::tests::unhex;

    #[test]
    fn rfc7714_iv_vectors() {
        let salt = to_array(&unhex("517569642070726f2071756f"));
        // §16.1: SSRC 0x5501a0b2, ROC 0, SEQ 0xf17b.
        assert_eq!(
            gcm_rtp_iv(&salt, 0x5501_a0b2, 0xf17b)[..],
            unhex("51753c6580c2726f20718414")[..]
        );
        // §17.1: SSRC 0x4d617273, SRTCP index 0x5d4.
        assert_eq!(
            gcm_rtcp_iv(&salt, 0x4d61_7273, 0x5d4)[..],
            unhex("517524055203726f207170bb")[..]
        );
    }

    #[test]
    fn cm_iv_places_ssrc_and_index() {
        let salt = [0u8; CM_SALT_LEN];
        let iv = cm_iv(&salt, 0xcafe_babe, 0x1234_5678_9abc);
        assert_eq!(iv[..], unhex("00000000cafebabe123456789abc0000")[..]);
    }
}
