//! Errors of the `PeerConnection` API (the caller's mistakes), shaped like the browser's
//! `DOMException`s.

use super::SignalingState;

/// A `PeerConnection` call that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerConnectionError {
    /// The call is not allowed in the current signaling state (`InvalidStateError`).
    #[error("{call} is not allowed in signaling state {state:?}")]
    InvalidState {
        /// The API call.
        call: &'static str,
        /// The state it was called in.
        state: SignalingState,
    },
    /// The connection is closed (`InvalidStateError`).
    #[error("the peer connection is closed")]
    Closed,
    /// The description is well-formed SDP but not acceptable (`InvalidAccessError` /
    /// `OperationError`): missing credentials, fingerprint, an answer that does not match.
    #[error("unacceptable session description: {0}")]
    InvalidDescription(String),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// [`RtcConfiguration::seed`](super::RtcConfiguration::seed) is `None`: a connection
    /// needs a seed from a random source (the adapters supply one), or a fixed one for a
    /// replayable test.
    #[error(
        "no seed: set RtcConfiguration::seed to 32 bytes from the OS random source \
         (the runtime adapters and endpoints do this), or with_seed(n) for a replayable test"
    )]
    MissingSeed,
    /// An ICE candidate could not be used (`OperationError`).
    #[error("invalid ICE candidate: {0}")]
    InvalidCandidate(String),
    /// No data channel with this id.
    #[error("no data channel {0:?}")]
    NoSuchChannel(super::ChannelId),
    /// Too many data channels.
    #[error("too many data channels")]
    TooManyChannels,
    /// A track or transceiver call that cannot be honoured (wrong kind, limits, duplicates).
    #[error("invalid media call: {0}")]
    InvalidMedia(&'static str),
    /// No transceiver with this id.
    #[error("no transceiver {0:?}")]
    NoSuchTransceiver(crate::media::TransceiverId),
    /// The transceiver is stopped.
    #[error("transceiver {0:?} is stopped")]
    TransceiverStopped(crate::media::TransceiverId),
    /// The negotiated direction of the transceiver does not send.
    #[error("transceiver {0:?} does not send (negotiated direction)")]
    NotSending(crate::media::TransceiverId),
    /// The payload type is not negotiated on this transceiver.
    #[error("payload type {0} is not negotiated on this transceiver")]
    UnknownPayloadType(u8),
    /// Media cannot be sent yet (no SRTP keys, no path, no known peer SSRC).
    #[error("media not ready: {0}")]
    MediaNotReady(&'static str),
    /// The sender has no simulcast layer with this rid, or the peer did not accept it.
    #[error("no simulcast layer {0:?} on this sender")]
    NoSuchLayer(String),
    /// The simulcast layer is switched off (`active: false`).
    #[error("simulcast layer {0:?} is inactive")]
    LayerInactive(String),
}
