//! The fast P-256 backend: ECDH, public keys and ECDSA verification by `graviola`, whose
//! field and point arithmetic is formally verified assembly (no C). Measured here about 4×
//! faster than `p256` for each of them, which is most of what a DTLS handshake costs a server.
//!
//! It exists only with the `fast-p256` feature on x86_64 and aarch64, and is used only when
//! the CPU has what `graviola` needs (AVX2, ADX, ... on x86_64); everywhere else
//! [`Backend::get`] is `None` and the callers use `p256`. Both backends compute the same
//! values from the same inputs, so outputs stay byte-identical whichever runs.
//!
//! Signing stays with `p256`: its RFC 6979 nonces are a function of key and message, whereas
//! `graviola` mixes system randomness into them, which the core must not draw.

use p256::elliptic_curve::zeroize::Zeroizing;
use p256::{FieldBytes, NonZeroScalar};

/// The big-endian bytes of `secret`, as the backend takes scalars; wiped when dropped.
pub(crate) fn secret_bytes(secret: &NonZeroScalar) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(FieldBytes::from(secret).into())
}

/// Proof that the fast backend is compiled in and that this CPU can run it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backend(Available);

#[cfg(all(
    feature = "fast-p256",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod available {
    use graviola::hashing::Sha256;
    use graviola::key_agreement::p256::{PublicKey, StaticPrivateKey};
    use graviola::signing::ecdsa::{P256, VerifyingKey};

    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Available;

    pub(super) fn detect() -> Option<Available> {
        graviola::util::is_cpu_supported().then_some(Available)
    }

    pub(super) fn public_key(secret: &[u8; 32]) -> Option<[u8; 65]> {
        let key = StaticPrivateKey::from_bytes(secret).ok()?;
        Some(key.public_key_uncompressed())
    }

    pub(super) fn agree(secret: &[u8; 32], peer_uncompressed: &[u8]) -> Option<[u8; 32]> {
        let peer = PublicKey::from_x962_uncompressed(peer_uncompressed).ok()?;
        let key = StaticPrivateKey::from_bytes(secret).ok()?;
        key.diffie_hellman(&peer).ok().map(|shared| shared.0)
    }

    pub(super) fn verify_sha256(public_uncompressed: &[u8], msg: &[u8], sig: &[u8; 64]) -> bool {
        VerifyingKey::<P256>::from_x962_uncompressed(public_uncompressed)
            .and_then(|key| key.verify::<Sha256>(&[msg], sig))
            .is_ok()
    }
}

#[cfg(not(all(
    feature = "fast-p256",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod available {
    /// Never constructed: without the backend, [`super::Backend::get`] is always `None`.
    #[derive(Debug, Clone, Copy)]
    pub(crate) enum Available {}

    pub(super) fn detect() -> Option<Available> {
        None
    }

    pub(super) fn public_key(_: &[u8; 32]) -> Option<[u8; 65]> {
        None
    }

    pub(super) fn agree(_: &[u8; 32], _: &[u8]) -> Option<[u8; 32]> {
        None
    }

    pub(super) fn verify_sha256(_: &[u8], _: &[u8], _: &[u8; 64]) -> bool {
        false
    }
}

use available::Available;

impl Backend {
    /// The backend, when it is compiled in and the CPU supports it.
    pub(crate) fn get() -> Option<Self> {
        available::detect().map(Backend)
    }

    /// The uncompressed public point of the big-endian scalar `secret` (which must be in
    /// `1..n`; `None` otherwise).
    pub(crate) fn public_key(self, secret: &[u8; 32]) -> Option<[u8; 65]> {
        available::public_key(secret)
    }

    /// The ECDH shared secret (x coordinate) of `secret` with the peer's uncompressed point;
    /// `None` if the point is not on the curve or not uncompressed.
    pub(crate) fn agree(self, secret: &[u8; 32], peer_uncompressed: &[u8]) -> Option<[u8; 32]> {
        available::agree(secret, peer_uncompressed)
    }

    /// Whether `sig` (fixed-width `r || s`) is a valid ECDSA-SHA256 signature of `msg` by
    /// the uncompressed point `public_uncompressed`.
    pub(crate) fn verify_sha256(
        self,
        public_uncompressed: &[u8],
        msg: &[u8],
        sig: &[u8; 64],
    ) -> bool {
        available::verify_sha256(public_uncompressed, msg, sig)
    }
}
