//! Ephemeral elliptic-curve Diffie-Hellman on secp256r1 (P-256), as used by ECDHE key
//! exchange (RFC 8422). Public keys travel as uncompressed SEC1 points (65 bytes).

use super::fast_p256::{Backend, secret_bytes};
use crate::rng::Rng;
use p256::NonZeroScalar;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::elliptic_curve::zeroize::Zeroize;

/// Length of an uncompressed P-256 point.
pub const P256_POINT_LEN: usize = 65;

/// An ephemeral P-256 key pair; the secret is used once and then dropped (and zeroed).
///
/// `Clone` so that a handshake in progress can be cloned with its connection (a fuzzing
/// snapshot); a clone holds the same secret.
#[derive(Clone)]
pub struct EcdhP256 {
    secret: NonZeroScalar,
    public: [u8; P256_POINT_LEN],
}

impl core::fmt::Debug for EcdhP256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdhP256").finish_non_exhaustive()
    }
}

impl EcdhP256 {
    /// A fresh key pair drawn from `rng`.
    pub fn generate(rng: &mut Rng) -> Self {
        // The same draw as `p256::ecdh::EphemeralSecret`, which is not `Clone`.
        let secret = NonZeroScalar::generate_from_rng(rng);
        let public = Backend::get()
            .and_then(|fast| fast.public_key(&secret_bytes(&secret)))
            .unwrap_or_else(|| portable_public_key(&secret));
        Self { secret, public }
    }

    /// Our public key, uncompressed SEC1.
    pub fn public_key(&self) -> &[u8; P256_POINT_LEN] {
        &self.public
    }

    /// Whether `peer` is a valid P-256 point (cheap: a decoding and curve check, no
    /// scalar multiplication), so a step can refuse it before [`agree`](Self::agree).
    pub fn is_valid_point(peer: &[u8]) -> bool {
        p256::PublicKey::from_sec1_bytes(peer).is_ok()
    }

    /// The shared secret (x coordinate) with the peer's SEC1 point; `None` if the point is
    /// not a valid P-256 point.
    pub fn agree(&self, peer: &[u8]) -> Option<[u8; 32]> {
        match Backend::get() {
            // The fast backend reads uncompressed points only (all TLS sends, RFC 8422
            // section 5.4.1); a compressed one still gets the portable path.
            Some(fast) if peer.len() == P256_POINT_LEN => {
                fast.agree(&secret_bytes(&self.secret), peer)
            }
            _ => self.agree_portable(peer),
        }
    }

    fn agree_portable(&self, peer: &[u8]) -> Option<[u8; 32]> {
        let peer = p256::PublicKey::from_sec1_bytes(peer).ok()?;
        let shared = p256::ecdh::diffie_hellman(self.secret, peer.as_affine());
        Some((*shared.raw_secret_bytes()).into())
    }
}

/// The public point of `secret` computed by `p256`.
fn portable_public_key(secret: &NonZeroScalar) -> [u8; P256_POINT_LEN] {
    let point = p256::PublicKey::from_secret_scalar(secret).to_sec1_point(false);
    point
        .as_bytes()
        .try_into()
        .expect("an uncompressed P-256 point is 65 bytes")
}

impl Drop for EcdhP256 {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_the_secret() {
        let mut rng = Rng::from_u64(1);
        let a = EcdhP256::generate(&mut rng);
        let b = EcdhP256::generate(&mut rng);
        assert_eq!(a.agree(b.public_key()), b.agree(a.public_key()));
        assert!(a.agree(b.public_key()).is_some());
    }

    #[test]
    fn both_backends_compute_the_same_keys_and_secrets() {
        let mut rng = Rng::from_u64(3);
        for _ in 0..16 {
            let a = EcdhP256::generate(&mut rng);
            let b = EcdhP256::generate(&mut rng);
            assert_eq!(a.public_key(), &portable_public_key(&a.secret));
            assert_eq!(a.agree(b.public_key()), a.agree_portable(b.public_key()));
        }
    }

    #[test]
    fn a_compressed_peer_point_is_accepted() {
        let mut rng = Rng::from_u64(4);
        let (a, b) = (EcdhP256::generate(&mut rng), EcdhP256::generate(&mut rng));
        let compressed = p256::PublicKey::from_sec1_bytes(b.public_key())
            .unwrap()
            .to_sec1_point(true);
        assert_eq!(a.agree(compressed.as_bytes()), a.agree(b.public_key()));
    }

    #[test]
    fn invalid_points_are_refused() {
        let a = EcdhP256::generate(&mut Rng::from_u64(2));
        assert!(a.agree(&[4u8; 65]).is_none());
        assert!(a.agree(&[]).is_none());
        assert!(!EcdhP256::is_valid_point(&[4u8; 65]));
        assert!(EcdhP256::is_valid_point(a.public_key()));
    }
}
