//! Errors for the caller's mistakes, and the reasons a handshake fails.

use super::types::AlertDescription;

/// An error from a DTLS API call: the caller asked for something the endpoint cannot do now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtlsError {
    /// Application data can only be sent once the handshake completed.
    #[error("the DTLS connection is not established")]
    NotConnected,
    /// The connection was closed or failed; nothing more can be sent.
    #[error("the DTLS connection is closed")]
    Closed,
    /// The application data does not fit in one record at the configured MTU.
    #[error("application data of {len} bytes exceeds the record limit of {max}")]
    TooLarge {
        /// Bytes given.
        len: usize,
        /// Largest payload one record can carry.
        max: usize,
    },
    /// The certificate or key given in the configuration is unusable.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(&'static str),
    /// A fingerprint string does not parse.
    #[error("invalid fingerprint: {0}")]
    InvalidFingerprint(&'static str),
    /// Keying material was asked for before the handshake completed.
    #[error("keying material is available only once connected")]
    NoKeyingMaterial,
    /// The configuration is inconsistent.
    #[error("invalid DTLS configuration: {0}")]
    InvalidConfig(&'static str),
}

/// Why a handshake or connection failed. The connection is unusable afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The peer's certificate does not match the expected fingerprint.
    FingerprintMismatch,
    /// No remote fingerprint was configured, so the peer cannot be authenticated.
    NoRemoteFingerprint,
    /// The peer's certificate could not be parsed or holds an unsupported key.
    BadCertificate,
    /// A signature (ServerKeyExchange or CertificateVerify) did not verify.
    BadSignature,
    /// The peer's Finished message did not match the transcript.
    BadFinished,
    /// The peer offered nothing we support (suite, group, version).
    NoCommonParameters(&'static str),
    /// The peer sent a message that is malformed or out of place in the handshake.
    ProtocolViolation(&'static str),
    /// The peer sent a fatal alert.
    PeerAlert(AlertDescription),
    /// The handshake did not complete after every retransmission.
    Timeout,
}

impl FailureReason {
    /// The alert we send the peer for this failure, if any.
    pub(crate) fn alert(&self) -> Option<AlertDescription> {
        Some(match self {
            Self::FingerprintMismatch | Self::BadCertificate | Self::NoRemoteFingerprint => {
                AlertDescription::BAD_CERTIFICATE
            }
            Self::BadSignature | Self::BadFinished => AlertDescription::DECRYPT_ERROR,
            Self::NoCommonParameters(_) => AlertDescription::HANDSHAKE_FAILURE,
            Self::ProtocolViolation(_) => AlertDescription::UNEXPECTED_MESSAGE,
            Self::PeerAlert(_) | Self::Timeout => return None,
        })
    }
}
