//! Datagrams leaving the core.

use std::fmt;
use std::net::SocketAddr;

/// Spare capacity left in the buffer of a data-path datagram the core builds (DTLS
/// records), so that a relayed path can put the 4-byte ChannelData header in front of it
/// without a new allocation (RFC 8656 section 12.4).
pub(crate) const RELAY_HEADROOM: usize = 4;

/// One datagram the driver must send: `payload` from the local socket bound to `source`
/// to the remote `destination`.
#[derive(Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address the datagram must leave from (a host candidate's address).
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// The datagram's bytes.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Transmit {{ {} -> {}, {} bytes }}",
            self.source,
            self.destination,
            self.payload.len()
        )
    }
}
