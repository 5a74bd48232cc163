//! Errors of the async glue.

use std::io;

/// What can go wrong in the async glue beyond a core API error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// Binding or using a socket failed.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// The peer connection was closed (by the application, or its driver ended).
    #[error("the peer connection is closed")]
    Closed,
    /// The data channel is closed or closing.
    #[error("the data channel is closed")]
    ChannelClosed,
    /// The connection failed (ICE or DTLS failure) while waiting for it.
    #[error("the connection failed")]
    ConnectionFailed,
}
