//! Configuration of a DTLS endpoint.

use super::certificate::{DtlsCertificate, Fingerprint};
use super::error::DtlsError;
use super::types::{CipherSuite, SrtpProfile};
use std::time::Duration;

/// Which side of the handshake this endpoint plays (SDP `a=setup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// Sends the ClientHello (`setup:active`).
    Client,
    /// Answers it (`setup:passive`).
    Server,
}

/// Everything a [`super::Dtls`] endpoint needs.
#[derive(Debug, Clone)]
pub struct DtlsConfig {
    /// Client or server.
    pub role: DtlsRole,
    /// Our certificate and key.
    pub certificate: DtlsCertificate,
    /// The peer's certificate fingerprint (from its SDP); required before the peer's
    /// Certificate arrives, else the handshake fails.
    pub remote_fingerprint: Option<Fingerprint>,
    /// Largest datagram we send (handshake flights are fragmented to fit). Default 1200.
    pub mtu: usize,
    /// Cipher suites in preference order. Default AES-128-GCM then AES-256-GCM.
    pub cipher_suites: Vec<CipherSuite>,
    /// SRTP protection profiles in preference order; empty disables use_srtp.
    /// Default AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES128_CM_HMAC_SHA1_80.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// First retransmission timeout. Default 1 s.
    pub initial_retransmit: Duration,
    /// Cap of the doubling retransmission timeout. Default 60 s.
    pub max_retransmit: Duration,
    /// Retransmissions of one flight before the handshake fails. Default 6: with the
    /// defaults above the handshake fails 1+2+4+8+16+32+60 = 123 s after a flight went
    /// unanswered.
    pub max_retransmissions: u32,
    /// Server only: answer a ClientHello without a valid cookie with a HelloVerifyRequest
    /// (stateless cookie, RFC 6347 4.2.1). Default false.
    pub hello_verify: bool,
}

impl DtlsConfig {
    /// Defaults for `role` with `certificate`.
    pub fn new(role: DtlsRole, certificate: DtlsCertificate) -> Self {
        Self {
            role,
            certificate,
            remote_fingerprint: None,
            mtu: 1200,
            cipher_suites: vec![
                CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256,
                CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384,
            ],
            srtp_profiles: vec![
                SrtpProfile::AEAD_AES_128_GCM,
                SrtpProfile::AEAD_AES_256_GCM,
                SrtpProfile::AES128_CM_HMAC_SHA1_80,
            ],
            initial_retransmit: Duration::from_secs(1),
            max_retransmit: Duration::from_secs(60),
            max_retransmissions: 6,
            hello_verify: false,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), DtlsError> {
        if !(256..=65_000).contains(&self.mtu) {
            return Err(DtlsError::InvalidConfig("mtu must be within 256..=65000"));
        }
        if self.cipher_suites.is_empty()
            || self
                .cipher_suites
                .iter()
                .any(|s| super::keys::suite_params(*s).is_none())
        {
            return Err(DtlsError::InvalidConfig(
                "cipher suites must be non-empty and supported",
            ));
        }
        if self
            .srtp_profiles
            .iter()
            .any(|p| p.keying_material_len().is_none())
        {
            return Err(DtlsError::InvalidConfig("unknown SRTP profile"));
        }
        if self.initial_retransmit.is_zero() || self.max_retransmit < self.initial_retransmit {
            return Err(DtlsError::InvalidConfig("retransmission timeouts"));
        }
        Ok(())
    }
}
