//! WebRTC data channels over an SCTP association (RFC 8831) with the Data Channel
//! Establishment Protocol (RFC 8832).
//!
//! [`DataChannels`] owns one [`Association`](crate::sctp::Association) and the channels on
//! it, in the shape of the browser's `RTCDataChannel`: create a channel with a label and a
//! [`DataChannelInit`], send text or binary messages through a short-lived
//! [`DataChannel`] handle, and receive [`DataChannelEvent`]s.
//!
//! Implemented: DATA_CHANNEL_OPEN / ACK, channel types (reliable, limited retransmissions,
//! limited lifetime; ordered or not), priority and protocol carried in the OPEN,
//! stream ids by DTLS role (client even, server odd), pre-negotiated channels without DCEP,
//! PPIDs 51/53 and 56/57 for empty messages (50 for DCEP), the ordered-until-ACK rule,
//! `bufferedAmount` and its low-threshold event, closing by stream reset (RFC 8831 6.7),
//! maximum message size checks on both sides.
//! Not implemented: scheduling by priority (messages leave in FIFO order), the deprecated
//! PPIDs 52/54 for partial messages (dropped and counted).

mod channel;
mod channels;
mod dcep;

pub use channel::{ChannelState, DataChannel, DataChannelEvent, DataChannelInit};
pub use channels::{DataChannelConfig, DataChannelStats, DataChannels, DtlsRole};
pub use dcep::{BadDcep, ChannelType, DcepMessage};

use crate::sctp::SctpError;

/// PPID of DCEP messages.
pub const PPID_DCEP: u32 = 50;
/// PPID of a UTF-8 string message.
pub const PPID_STRING: u32 = 51;
/// PPID of a binary message.
pub const PPID_BINARY: u32 = 53;
/// PPID of an empty string message (the payload is one ignored byte).
pub const PPID_STRING_EMPTY: u32 = 56;
/// PPID of an empty binary message (the payload is one ignored byte).
pub const PPID_BINARY_EMPTY: u32 = 57;

/// Errors from the data channel API (the caller's mistakes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataChannelError {
    /// No channel with this id.
    #[error("no data channel with id {0}")]
    NoSuchChannel(u16),
    /// The channel is not open.
    #[error("data channel {id} is {state:?}, not open")]
    NotOpen {
        /// Channel id.
        id: u16,
        /// Its state.
        state: ChannelState,
    },
    /// The message exceeds the peer's maximum message size.
    #[error("message of {size} bytes exceeds the peer's max-message-size of {limit} bytes")]
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The peer's limit.
        limit: usize,
    },
    /// The init dictionary is inconsistent.
    #[error("invalid DataChannelInit: {0}")]
    InvalidInit(&'static str),
    /// The stream id is in use by another channel.
    #[error("stream id {0} is in use")]
    IdInUse(u16),
    /// Every stream id of our parity is in use.
    #[error("no free stream id")]
    NoFreeId,
    /// The association refused the call.
    #[error(transparent)]
    Sctp(#[from] SctpError),
}

#[cfg(test)]
mod tests;
