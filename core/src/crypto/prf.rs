//! SHA-384/512 helpers and the TLS 1.2 pseudo-random function (RFC 5246 section 5),
//! `P_hash` over HMAC-SHA256 or HMAC-SHA384.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha384, Sha512};

/// The hash a TLS 1.2 cipher suite uses for its PRF and Finished messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrfHash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl PrfHash {
    /// The hash of the concatenation of `parts` (32 or 48 bytes).
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Self::Sha256 => super::sha256(parts).to_vec(),
            Self::Sha384 => sha384(parts).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Self::Sha256 => super::hmac_sha256(key, parts).to_vec(),
            Self::Sha384 => hmac_sha384(key, parts).to_vec(),
        }
    }
}

/// SHA-384 of the concatenation of `parts`.
pub fn sha384(parts: &[&[u8]]) -> [u8; 48] {
    let mut h = Sha384::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// SHA-512 of the concatenation of `parts`.
pub fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// HMAC-SHA384 of the concatenation of `parts` under `key`.
pub fn hmac_sha384(key: &[u8], parts: &[&[u8]]) -> [u8; 48] {
    let mut mac =
        <Hmac<Sha384> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Fills `out` with `PRF(secret, label, seed)` of TLS 1.2 using `hash`.
pub fn tls12_prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    // A(1) = HMAC(secret, label + seed); output blocks are HMAC(secret, A(i) + label + seed).
    let mut a = hash.hmac(secret, &[label, seed]);
    let mut filled = 0;
    while filled < out.len() {
        let block = hash.hmac(secret, &[&a, label, seed]);
        let take = block.len().min(out.len() - filled);
        out[filled..filled + take].copy_from_slice(&block[..take]);
        filled += take;
        a = hash.hmac(secret, &[&a]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn prf_sha256_matches_the_ietf_tls_wg_vector() {
        // The widely used TLS 1.2 PRF test vector (SHA-256, 100 bytes).
        let secret = unhex("9bbe436ba940f017b17652849a71db35");
        let seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
        let mut out = [0u8; 100];
        tls12_prf(PrfHash::Sha256, &secret, b"test label", &seed, &mut out);
        assert_eq!(
            hex(&out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
        );
    }

    #[test]
    fn prf_sha384_matches_the_ietf_tls_wg_vector() {
        let secret = unhex("b80b733d6ceefcdc71566ea48e5567df");
        let seed = unhex("cd665cf6a8447dd6ff8b27555edb7465");
        let mut out = [0u8; 148];
        tls12_prf(PrfHash::Sha384, &secret, b"test label", &seed, &mut out);
        assert_eq!(
            hex(&out[..32]),
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
        );
    }

    #[test]
    fn sha384_and_sha512_match_fips180_abc() {
        assert_eq!(hex(&sha384(&[b"abc"]))[..16], *"cb00753f45a35e8b");
        assert_eq!(hex(&sha512(&[b"a", b"bc"]))[..16], *"ddaf35a193617aba");
    }
}
