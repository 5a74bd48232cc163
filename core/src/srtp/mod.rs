//! SRTP and SRTCP: protecting media packets with keys from the DTLS handshake.
//!
//! Implemented:
//! - RFC 3711 (SRTP): AES counter mode (`AES_CM`) with HMAC-SHA1 authentication, the
//!   AES-CM key derivation function (key derivation rate 0, labels 0 to 5), rollover counter
//!   and packet index estimation (§3.3.1, Appendix A), replay protection (§3.3.2) with a
//!   configurable window, SRTCP with the E flag and the 31-bit SRTCP index (§3.4).
//! - RFC 7714 (AES-GCM for SRTP): `AEAD_AES_128_GCM` and `AEAD_AES_256_GCM` for SRTP and
//!   SRTCP, 12-byte salts, 16-byte tags; the master salt is padded to 14 bytes for the KDF
//!   and the derived session salt is 12 bytes (§11).
//! - RFC 5764 §4.1.2 / §4.2: the DTLS-SRTP profiles `SRTP_AES128_CM_HMAC_SHA1_80`,
//!   `_32` (SRTCP always uses the 80-bit tag), `SRTP_AEAD_AES_128_GCM`, `_256_GCM`, and the
//!   layout of the exported keying material.
//!
//! Not implemented: MKI (master key identifiers), key derivation rates other than 0 (no
//! re-keying), encrypted header extensions (RFC 6904) and cryptex (RFC 9335), the
//! `NULL` cipher, AES-192/256 counter mode profiles (RFC 6188), sending unencrypted SRTCP
//! (received E=0 packets are authenticated and accepted).
//!
//! One [`SrtpContext`] holds one direction of a session: session keys are derived and
//! scheduled once, in [`SrtpContext::new`]; every packet is then processed in place in the
//! caller's `Vec` (protecting appends the tag and, for SRTCP, the index: keep that much
//! spare capacity to avoid a reallocation). Per-SSRC state (rollover counter, replay window,
//! SRTCP index) is bounded by [`SrtpConfig::max_streams`]. Unprotecting a packet that fails
//! any check changes no state.

mod context;
mod header;
mod kdf;
mod keys;
mod replay;
mod transform;

#[cfg(test)]
mod tests;

pub use crate::dtls::SrtpProfile;
pub use context::SrtpContext;

/// Settings shared by every context of a session.
#[derive(Debug, Clone)]
pub struct SrtpConfig {
    /// Replay window in packets (RFC 3711 §3.3.2); at least 64, default 128. Applies to SRTP and SRTCP.
    pub replay_window: u16,
    /// Most SSRCs tracked per context (each has a rollover counter and replay window); packets of
    /// further SSRCs are refused with `SrtpError::TooManyStreams` (bounded memory). Default 1024.
    pub max_streams: usize,
}

impl Default for SrtpConfig {
    fn default() -> Self {
        Self {
            replay_window: 128,
            max_streams: 1024,
        }
    }
}

/// Why a packet could not be protected or unprotected, or a context not built.
///
/// For unprotect, every variant means "drop the packet"; nothing in the context changed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SrtpError {
    /// The packet is shorter than its header (and tag, for unprotect).
    #[error("packet too short")]
    TooShort,
    /// The packet is not RTP/RTCP version 2, or its header lengths do not fit.
    #[error("malformed packet")]
    Malformed,
    /// The authentication tag did not verify.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The packet index was seen before or is older than the replay window.
    #[error("replayed or too old packet")]
    Replayed,
    /// The packet belongs to a new SSRC and the context already tracks `max_streams` SSRCs.
    #[error("too many SSRCs in one SRTP context")]
    TooManyStreams,
    /// The protection profile is not one rtcpeer implements.
    #[error("unsupported SRTP protection profile {0:#06x}")]
    UnsupportedProfile(u16),
    /// The master key, master salt or keying material has the wrong length for the profile.
    #[error("wrong master key, master salt or keying material length")]
    KeyLength,
    /// A sender ran out of packet indices (2^48 for SRTP, 2^31 for SRTCP); the session
    /// must be re-keyed.
    #[error("SRTP/SRTCP index exhausted")]
    IndexExhausted,
    /// The configuration is out of range (`replay_window` below 64, `max_streams` of 0).
    #[error("invalid SRTP configuration")]
    InvalidConfig,
}

/// Both directions of an SRTP session, keyed from the DTLS-SRTP exporter.
#[derive(Debug, Clone)]
pub struct SrtpSession {
    /// Protects what we send.
    pub outbound: SrtpContext,
    /// Unprotects what we receive.
    pub inbound: SrtpContext,
}

impl SrtpSession {
    /// `material` = DTLS `export_keying_material("EXTRACTOR-dtls_srtp", profile.keying_material_len())`.
    /// `is_dtls_client`: we were the DTLS client (our outbound keys are the client's).
    ///
    /// The material is split as RFC 5764 §4.2 lays it out: client_write_key,
    /// server_write_key, client_write_salt, server_write_salt.
    pub fn from_keying_material(
        profile: SrtpProfile,
        material: &[u8],
        is_dtls_client: bool,
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        let (key_len, salt_len) = transform::master_lengths(profile)?;
        if material.len() != 2 * (key_len + salt_len) {
            return Err(SrtpError::KeyLength);
        }
        let (keys, salts) = material.split_at(2 * key_len);
        let (client_key, server_key) = keys.split_at(key_len);
        let (client_salt, server_salt) = salts.split_at(salt_len);
        let client = SrtpContext::new(profile, client_key, client_salt, config)?;
        let server = SrtpContext::new(profile, server_key, server_salt, config)?;
        let (outbound, inbound) = if is_dtls_client {
            (client, server)
        } else {
            (server, client)
        };
        Ok(Self { outbound, inbound })
    }
}
