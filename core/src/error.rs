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
    /// An SCTP association call was misused.
    #[error(transparent)]
    Sctp(#[from] crate::sctp::SctpError),
    /// A data channel call was misused.
    #[error(transparent)]
    DataChannel(#[from] crate::datachannel::DataChannelError),
}
