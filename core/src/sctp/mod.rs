//! SCTP over DTLS for WebRTC data channels, as a sans-IO association.
//!
//! An [`Association`] consumes and produces whole SCTP packets: the bytes carried in DTLS
//! application data records (RFC 8261). How they travel is the caller's job.
//!
//! Implemented (RFC 9260 as WebRTC uses it): INIT / INIT ACK / COOKIE ECHO / COOKIE ACK with an
//! HMAC-SHA256 state cookie, simultaneous open (section 5.2), verification tags, CRC-32c
//! (and zero checksum, RFC 9653, when both sides offer it), ABORT, SHUTDOWN sequence,
//! heartbeats, error causes, unknown-chunk handling by type bits; DATA with fragmentation,
//! reassembly, ordered and unordered delivery; SACK with gap blocks and duplicate TSNs,
//! delayed SACK; receive window with window-update SACKs as the application reads and
//! zero window probing (section 6.1 rule A); bundling up to the packet size; RTO (RFC 6298), T3-rtx,
//! fast retransmit and fast recovery, slow start and congestion avoidance, burst limit;
//! PR-SCTP FORWARD TSN (RFC 3758) for the limited-retransmissions and timed policies;
//! outgoing SSN reset requests and responses (RFC 6525).
//!
//! Departures and gaps, on purpose: one path only (no multi-homing); no association restart
//! (an INIT on an established association is answered but its cookie is refused); no
//! I-DATA (RFC 8260); loss is detected RACK-style by send order, and a loss is taken as a
//! congestion signal only when the RTT shows a standing queue (see the `congestion` module), so random
//! loss on long paths does not collapse the window.

mod assoc;
pub mod chunk;
mod congestion;
mod cookie;
mod handshake;
mod inflight;
mod output;
pub mod packet;
mod reassembly;
mod receive;
mod reconfig;
mod send;
mod stats;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod timer;

pub use assoc::{Association, AssociationState};
pub use send::SendOptions;
pub use stats::SctpStats;

use bytes::Bytes;
use std::time::Duration;

/// Default SCTP port in WebRTC (RFC 8841 `a=sctp-port`).
pub const DEFAULT_PORT: u16 = 5000;

/// PPID of the data channel establishment protocol (RFC 8832).
pub const PPID_DCEP: u32 = 50;

/// Association configuration.
#[derive(Debug, Clone)]
pub struct SctpConfig {
    /// Our SCTP port.
    pub local_port: u16,
    /// The peer's SCTP port.
    pub remote_port: u16,
    /// Largest SCTP packet we build: 1200 bytes of UDP payload minus the DTLS 1.2 AES-GCM
    /// record overhead (29 bytes), rounded down to 4.
    pub max_packet_size: usize,
    /// Largest message we reassemble (our `a=max-message-size`).
    pub max_message_size: usize,
    /// Receive buffer we advertise (a_rwnd) and the bound on buffered received data.
    pub receive_window: u32,
    /// Bound on data queued for sending but not yet sent, in bytes.
    pub send_buffer: usize,
    /// Streams we accept and open (both directions).
    pub max_streams: u16,
    /// Initial retransmission timeout.
    pub rto_initial: Duration,
    /// Lower bound of the RTO.
    pub rto_min: Duration,
    /// Upper bound of the RTO.
    pub rto_max: Duration,
    /// INIT / COOKIE ECHO retransmissions before giving up.
    pub max_init_retransmits: u32,
    /// Consecutive timeouts without progress before the association fails.
    pub max_retransmits: u32,
    /// Delay before a SACK for a single packet (RFC 9260: at most 500 ms; 200 ms default).
    pub delayed_ack: Duration,
    /// Idle time between heartbeats.
    pub heartbeat_interval: Duration,
    /// Packets of new data sent per SACK beyond what it acknowledged (burst limit).
    pub max_burst: usize,
    /// Offer and accept zero checksums (RFC 9653, error detection by DTLS).
    pub zero_checksum: bool,
    /// How long a state cookie stays valid.
    pub cookie_lifetime: Duration,
    /// Probe a zero window (RFC 9260 section 6.1 rule A): with nothing in flight, send
    /// one DATA chunk even when the peer's window has no room, with T3-rtx running, so a
    /// lost window update cannot stall us. On by default; off models peers that wait for
    /// the receiver's window update instead (tests).
    pub zero_window_probe: bool,
}

impl Default for SctpConfig {
    fn default() -> Self {
        Self {
            local_port: DEFAULT_PORT,
            remote_port: DEFAULT_PORT,
            max_packet_size: 1168,
            max_message_size: 256 * 1024,
            receive_window: 2 * 1024 * 1024,
            send_buffer: 16 * 1024 * 1024,
            max_streams: 1024,
            rto_initial: Duration::from_millis(500),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(2),
            max_init_retransmits: 8,
            max_retransmits: 10,
            delayed_ack: Duration::from_millis(200),
            heartbeat_interval: Duration::from_secs(30),
            max_burst: 4,
            zero_checksum: true,
            cookie_lifetime: Duration::from_secs(60),
            zero_window_probe: true,
        }
    }
}

/// Why an association ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer sent ABORT.
    AbortedByPeer,
    /// We called [`Association::abort`].
    AbortedLocally,
    /// The SHUTDOWN sequence completed.
    Shutdown,
    /// The handshake or data timed out ([`SctpConfig::max_retransmits`] reached).
    Timeout,
    /// The peer violated the protocol (e.g. a message above our maximum size).
    ProtocolViolation(&'static str),
}

/// Something the application should know, drained with [`Association::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SctpEvent {
    /// The association is established.
    Connected,
    /// A complete message arrived.
    Message {
        /// Stream identifier.
        stream: u16,
        /// Payload protocol identifier.
        ppid: u32,
        /// Whether it was sent unordered.
        unordered: bool,
        /// The message bytes.
        payload: Bytes,
    },
    /// The peer reset these incoming streams: their SSNs restart at 0 (RFC 6525).
    IncomingStreamsReset(Vec<u16>),
    /// Our reset of these outgoing streams was performed by the peer.
    OutgoingStreamsReset(Vec<u16>),
    /// A stream's buffered amount fell to or below its low threshold.
    BufferedAmountLow(u16),
    /// The association is gone.
    Closed(CloseReason),
}

/// Errors from calls on an [`Association`] (the caller's mistakes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SctpError {
    /// The association is not in a state that allows the call.
    #[error("association is {0:?}, which does not allow this")]
    WrongState(AssociationState),
    /// The stream id is at or above the negotiated number of streams.
    #[error("stream {0} is beyond the negotiated stream count")]
    InvalidStream(u16),
    /// The stream is being reset; wait for the reset to finish.
    #[error("stream {0} is being reset")]
    StreamResetting(u16),
    /// The message is larger than the limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// SCTP cannot carry an empty user message.
    #[error("SCTP cannot carry an empty message")]
    EmptyMessage,
    /// The send buffer is full.
    #[error("send buffer full ({0} bytes queued)")]
    SendBufferFull(usize),
}
