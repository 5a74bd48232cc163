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
    /// `try_send`: the channel is still connecting or holds more than its high water mark.
    #[error(
        "the data channel cannot take a message now (connecting or buffer above its high water mark)"
    )]
    WouldBlock,
    /// `wait_gathering_complete` before `set_local_description`: gathering never starts.
    #[error("no local description was set, so ICE gathering has not started")]
    NoLocalDescription,
    /// The connection failed (ICE or DTLS failure) while waiting for it.
    #[error("the connection failed")]
    ConnectionFailed,
}
