//! AES counter mode (RFC 3711 §4.1.1) and the AES-CM key derivation function (§4.3).
//!
//! The keystream is AES in counter mode over a 128-bit big-endian counter block; callers
//! build the initial block. The KDF runs with key derivation rate 0, so every session key
//! is derived once: `x = label << 48 XOR master_salt`, keystream from IV `x << 16`.

use aes::{Aes128, Aes256};
use ctr::CtrCore;
use ctr::cipher::array::Array;
use ctr::cipher::{
    BlockCipherEncrypt, InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper, consts::U16,
};
use ctr::flavors::Ctr128BE;

/// KDF label of the SRTP encryption key.
pub(super) const LABEL_RTP_KEY: u8 = 0;
/// KDF label of the SRTP authentication key.
pub(super) const LABEL_RTP_AUTH: u8 = 1;
/// KDF label of the SRTP salt.
pub(super) const LABEL_RTP_SALT: u8 = 2;
/// KDF label of the SRTCP encryption key.
pub(super) const LABEL_RTCP_KEY: u8 = 3;
/// KDF label of the SRTCP authentication key.
pub(super) const LABEL_RTCP_AUTH: u8 = 4;
/// KDF label of the SRTCP salt.
pub(super) const LABEL_RTCP_SALT: u8 = 5;

/// Length of the salt the KDF works with (112 bits); shorter master salts (RFC 7714's 96
/// bits) are padded with zeros on the right.
const KDF_SALT_LEN: usize = 14;

/// XORs `buf` with the AES-CTR keystream that starts at counter block `iv`.
///
/// The block cipher is borrowed, so no key is scheduled here.
pub(super) fn aes_ctr_xor<C>(cipher: &C, iv: &[u8; 16], buf: &mut [u8])
where
    C: BlockCipherEncrypt<BlockSize = U16>,
{
    let iv = Array::from(*iv);
    let core = CtrCore::<&C, Ctr128BE>::inner_iv_init(cipher, &iv);
    let mut ctr = StreamCipherCoreWrapper::from_core(core);
    ctr.apply_keystream(buf);
}

/// The AES-CM PRF of RFC 3711 §4.3.3 with key derivation rate 0: fills `out` with the
/// session key, salt or authentication key of `label`.
///
/// `master_key` is 16 or 32 bytes and `master_salt` at most 14 bytes (callers check).
pub(super) fn derive(master_key: &[u8], master_salt: &[u8], label: u8, out: &mut [u8]) {
    debug_assert!(master_salt.len() <= KDF_SALT_LEN);
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    // key_id = label || 48-bit index (0 with rate 0), aligned to the right of the salt.
    iv[KDF_SALT_LEN - 7] ^= label;
    out.fill(0);
    match master_key.len() {
        16 => aes_ctr_xor(
            &Aes128::new(&Array::from(to_array::<16>(master_key))),
            &iv,
            out,
        ),
        32 => aes_ctr_xor(
            &Aes256::new(&Array::from(to_array::<32>(master_key))),
            &iv,
            out,
        ),
        n => unreachable!("master key length {n} is checked by the caller"),
    }
}

/// Copies a slice whose length the caller has checked into an array.
pub(super) fn to_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().expect("length checked by the caller")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::tests::unhex;

    const B3_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
    const B3_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";

    #[test]
    fn rfc3711_b2_aes_cm_keystream() {
        let key = Aes128::new(&Array::from(to_array::<16>(&unhex(
            "2B7E151628AED2A6ABF7158809CF4F3C",
        ))));
        // SSRC 0 and index 0: the counter block is the session salt shifted 16 bits.
        let iv = to_array::<16>(&unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
        let mut stream = vec![0u8; 0xFF02 * 16];
        aes_ctr_xor(&key, &iv, &mut stream);
        assert_eq!(
            stream[..48],
            unhex(
                "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0"
            )[..]
        );
        assert_eq!(
            stream[0xFEFF * 16..],
            unhex(
                "EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44"
            )[..]
        );
    }

    #[test]
    fn rfc3711_b3_key_derivation() {
        let (key, salt) = (unhex(B3_KEY), unhex(B3_SALT));
        let mut enc = [0u8; 16];
        derive(&key, &salt, LABEL_RTP_KEY, &mut enc);
        assert_eq!(enc[..], unhex("C61E7A93744F39EE10734AFE3FF7A087")[..]);
        let mut session_salt = [0u8; 14];
        derive(&key, &salt, LABEL_RTP_SALT, &mut session_salt);
        assert_eq!(session_salt[..], unhex("30CBBC08863D8C85D49DB34A9AE1")[..]);
        // B.3 lists 94 bytes of the authentication key stream; SRTP uses the first 20.
        let mut auth = [0u8; 94];
        derive(&key, &salt, LABEL_RTP_AUTH, &mut auth);
        assert_eq!(
            auth[..],
            unhex(
                "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCEE049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC256D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"
            )[..]
        );
    }

    #[test]
    fn labels_select_different_keys() {
        let (key, salt) = (unhex(B3_KEY), unhex(B3_SALT));
        let mut outs = [[0u8; 16]; 6];
        for (label, out) in outs.iter_mut().enumerate() {
            derive(&key, &salt, label as u8, out);
        }
        for i in 0..6 {
            for j in i + 1..6 {
                assert_ne!(outs[i], outs[j]);
            }
        }
    }
}
