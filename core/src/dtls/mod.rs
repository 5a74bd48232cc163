//! DTLS 1.2 (RFC 6347 over RFC 5246) for WebRTC: wire formats, handshake, record protection.
//!
//! Implemented: both roles; cipher suites TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and
//! TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (RFC 5289) with ECDHE on secp256r1 (RFC 8422) and
//! ecdsa_secp256r1_sha256 signatures; mutual certificate authentication by fingerprint
//! (RFC 8122, RFC 8827); extended master secret (RFC 7627); use_srtp (RFC 5764, RFC 7714);
//! empty renegotiation_info (RFC 5746); HelloVerifyRequest cookies (stateless on the
//! server); fragmentation to an MTU and reassembly; flight retransmission with exponential
//! backoff, and a one-time early resend of the first flight when the peer signals it
//! listens ([`Dtls::resend_first_flight`]); 64-entry replay window; keying material export (RFC 5705).
//!
//! Not implemented: DTLS 1.0 and 1.3, session resumption, renegotiation (refused), other
//! suites, groups or signature schemes, certificate chains (only the leaf is used), X.509
//! path validation (WebRTC trusts the fingerprint), connection ids.
//!
//! The module is sans-IO like the rest of the crate: see [`Dtls`].

mod certificate;
mod cipher;
mod client;
mod codec;
mod config;
mod connection;
mod early_resend;
mod error;
mod events;
mod extensions;
mod flight;
mod handshake;
mod keys;
mod messages;
mod reassembly;
mod receive;
mod record;
mod replay;
mod server;
mod state;
#[cfg(test)]
mod tests;
mod types;

pub use certificate::{
    CertificateValidity, DtlsCertificate, Fingerprint, FingerprintAlgorithm, FingerprintVerified,
};
pub use cipher::{AEAD_OVERHEAD, RecordCipher};
pub use config::{DtlsConfig, DtlsRole};
pub use connection::{Dtls, MAX_APPLICATION_DATA};
pub use error::{DtlsError, FailureReason};
pub use events::{DtlsEvent, DtlsState, DtlsStats};
pub use record::{RecordView, Records, looks_like_dtls};
pub use types::{
    AlertDescription, AlertLevel, CipherSuite, ContentType, HandshakeType, SrtpProfile,
};

/// Wire-format parsers exposed for fuzzing and property tests.
pub mod wire {
    pub use super::extensions::HelloExtensions;
    pub use super::handshake::HandshakeFragment;
    pub use super::messages::{
        CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, HelloVerifyRequest,
        ServerHello, ServerKeyExchange,
    };
    pub use super::record::RecordView;
}
