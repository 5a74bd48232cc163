//! ECDSA on P-256 with SHA-256 (FIPS 186-4): the certificate key of a DTLS endpoint.
//!
//! Signatures are DER-encoded (`Ecdsa-Sig-Value`), the form TLS and X.509 carry.

use super::fast_p256::{Backend, secret_bytes};
use crate::rng::Rng;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::Curve;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::DecodePrivateKey;
use p256::{FieldBytes, NistP256, NonZeroScalar, Scalar, U256};
use rfc6979::KGenerator;
use sha2::{Digest, Sha256};

/// A P-256 private key for signing.
#[derive(Clone)]
pub struct EcdsaP256Key {
    key: SigningKey,
    public: Vec<u8>,
}

impl core::fmt::Debug for EcdsaP256Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdsaP256Key").finish_non_exhaustive()
    }
}

impl EcdsaP256Key {
    /// A fresh key drawn from `rng`.
    pub fn generate(rng: &mut Rng) -> Self {
        Self::from_signing_key(SigningKey::generate_from_rng(rng))
    }

    /// Parses a PKCS#8 DER private key; `None` if it is not a P-256 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Option<Self> {
        SigningKey::from_pkcs8_der(der)
            .ok()
            .map(Self::from_signing_key)
    }

    fn from_signing_key(key: SigningKey) -> Self {
        let public = key
            .verifying_key()
            .as_affine()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Self { key, public }
    }

    /// The public key as an uncompressed SEC1 point.
    pub fn public_key_sec1(&self) -> &[u8] {
        &self.public
    }

    /// ECDSA-SHA256 signature over `msg`, DER-encoded. The nonce is RFC 6979's, a function
    /// of key and message, so the same key signs the same message with the same bytes
    /// whichever backend computes it.
    pub fn sign_sha256_der(&self, msg: &[u8]) -> Vec<u8> {
        let sig = match Backend::get() {
            Some(fast) => self.sign_fast(fast, msg),
            None => self.key.sign(msg),
        };
        sig.to_der().as_bytes().to_vec()
    }

    /// RFC 6979 signing as `p256` does it (`ecdsa::hazmat::sign_prehashed_rfc6979`, no
    /// additional data, no low-S normalisation), with the nonce point `k·G` computed by the
    /// fast backend: that multiplication is most of a signature's cost.
    fn sign_fast(&self, fast: Backend, msg: &[u8]) -> Signature {
        let digest = Sha256::digest(msg);
        let secret: &NonZeroScalar = self.key.as_nonzero_scalar();
        let secret_bytes = secret_bytes(secret);
        let order = <NistP256 as Curve>::ORDER;
        let mut nonces =
            KGenerator::<Sha256, U256>::new(secret_bytes.as_slice(), &digest, &[], order.as_ref());
        let z = reduce_to_scalar(&digest);
        loop {
            let mut k_bytes = Zeroizing::new(FieldBytes::default());
            nonces.fill_next_k(&mut k_bytes);
            let Some(k) = NonZeroScalar::from_repr(*k_bytes).into_option() else {
                continue;
            };
            let Some(nonce_point) = fast.public_key(&(*k_bytes).into()) else {
                continue;
            };
            let r = reduce_to_scalar(&nonce_point[1..33]);
            let k_inverse: NonZeroScalar = Invert::invert(&k);
            let s = *k_inverse * (z + r * secret.as_ref());
            if let Ok(sig) = Signature::from_scalars(r, s) {
                return sig;
            }
        }
    }
}

/// A 32-byte big-endian integer reduced modulo the group order.
fn reduce_to_scalar(bytes: &[u8]) -> Scalar {
    <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(bytes))
}

/// Checks a DER ECDSA-SHA256 signature over `msg` with a SEC1 P-256 public key.
///
/// The DER is always read by `p256` (strict DER), so both backends accept exactly the same
/// encodings; only the arithmetic moves to the fast backend when there is one.
pub fn verify_p256_sha256_der(public_sec1: &[u8], msg: &[u8], sig_der: &[u8]) -> bool {
    let Ok(sig) = Signature::from_der(sig_der) else {
        return false;
    };
    match Backend::get() {
        Some(fast) if public_sec1.len() == UNCOMPRESSED_POINT_LEN => {
            fast.verify_sha256(public_sec1, msg, &sig.to_bytes().into())
        }
        _ => verify_portable(public_sec1, msg, &sig),
    }
}

/// Length of an uncompressed SEC1 P-256 point, the form certificates carry.
const UNCOMPRESSED_POINT_LEN: usize = 65;

fn verify_portable(public_sec1: &[u8], msg: &[u8], sig: &Signature) -> bool {
    VerifyingKey::from_sec1_bytes(public_sec1).is_ok_and(|key| key.verify(msg, sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_with_the_public_key() {
        let key = EcdsaP256Key::generate(&mut Rng::from_u64(1));
        let sig = key.sign_sha256_der(b"message");
        assert!(verify_p256_sha256_der(
            key.public_key_sec1(),
            b"message",
            &sig
        ));
        assert!(!verify_p256_sha256_der(
            key.public_key_sec1(),
            b"messagf",
            &sig
        ));
    }

    /// The fast path's signatures are byte for byte `p256`'s (RFC 6979 makes them a function
    /// of key and message).
    #[test]
    fn both_backends_make_the_same_signature() {
        let mut rng = Rng::from_u64(7);
        for i in 0..16u8 {
            let key = EcdsaP256Key::generate(&mut rng);
            let msg = vec![i; usize::from(i) * 7];
            let portable: Signature = key.key.sign(&msg);
            assert_eq!(key.sign_sha256_der(&msg), portable.to_der().as_bytes());
        }
    }

    /// Both backends reach the same verdict on valid signatures and on each one-bit
    /// corruption of message, signature or key.
    #[test]
    fn both_backends_agree_on_every_verdict() {
        let key = EcdsaP256Key::generate(&mut Rng::from_u64(5));
        let other = EcdsaP256Key::generate(&mut Rng::from_u64(6));
        let public = key.public_key_sec1();
        let sig_der = key.sign_sha256_der(b"message");
        let both = |public: &[u8], msg: &[u8], sig_der: &[u8]| {
            let fast = verify_p256_sha256_der(public, msg, sig_der);
            let portable =
                Signature::from_der(sig_der).is_ok_and(|sig| verify_portable(public, msg, &sig));
            assert_eq!(fast, portable, "backends disagree");
            fast
        };
        assert!(both(public, b"message", &sig_der));
        assert!(!both(other.public_key_sec1(), b"message", &sig_der));
        for bit in 0..sig_der.len() * 8 {
            let mut bad = sig_der.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!both(public, b"message", &bad));
        }
        for bit in 0..public.len() * 8 {
            let mut bad = public.to_vec();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!both(&bad, b"message", &sig_der));
        }
    }

    #[test]
    fn garbage_signatures_do_not_verify() {
        let key = EcdsaP256Key::generate(&mut Rng::from_u64(3));
        assert!(!verify_p256_sha256_der(
            key.public_key_sec1(),
            b"m",
            &[0x30, 0]
        ));
        assert!(!verify_p256_sha256_der(&[1, 2, 3], b"m", &[]));
    }
}
