//! The crate-wide error type: one variant per module that can report a caller's mistake.
//!
//! Errors are for the caller's mistakes (wrong state, invalid input the caller gave, bad
//! configuration). Bytes from the network never come back as an error: they are dropped,
//! counted and traced.

/// Any error an rtcpeer API call can return.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is inconsistent or out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A STUN message could not be built or parsed.
    #[error("stun: {0}")]
    Stun(#[from] crate::stun::StunError),
    /// Misuse of the network simulator (feature `sim`).
    #[cfg(feature = "sim")]
    #[error(transparent)]
    Sim(#[from] crate::sim::SimError),
    /// A mistake in using the ICE agent.
    #[error(transparent)]
    Ice(#[from] crate::ice::IceError),
    /// An SDP text could not be parsed (line number and reason inside).
    #[error(transparent)]
    Sdp(#[from] crate::sdp::SdpError),
    /// A DTLS API call failed.
    #[error(transparent)]
    Dtls(#[from] crate::dtls::DtlsError),
    /// An SCTP association call was misused.
    #[error(transparent)]
    Sctp(#[from] crate::sctp::SctpError),
    /// An SRTP context could not be built or a packet not protected.
    #[error(transparent)]
    Srtp(#[from] crate::srtp::SrtpError),
    /// A data channel call was misused.
    #[error(transparent)]
    DataChannel(#[from] crate::datachannel::DataChannelError),
    /// RTP or RTCP bytes the caller handed in could not be parsed.
    #[error("rtp: {0}")]
    Rtp(#[from] crate::rtp::RtpError),
    /// A `PeerConnection` call was refused.
    #[error(transparent)]
    PeerConnection(#[from] crate::peer_connection::PeerConnectionError),
    /// The async glue (feature `async`): sockets, or the connection's driver has ended.
    #[cfg(feature = "async")]
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
}
