//! What a DTLS endpoint reports to its driver.

use super::error::FailureReason;
use super::types::{AlertDescription, AlertLevel, SrtpProfile};
use bytes::Bytes;

/// An event from [`super::Dtls::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// The handshake completed and the peer was authenticated by its fingerprint.
    Connected {
        /// The negotiated SRTP profile, if use_srtp was agreed.
        srtp_profile: Option<SrtpProfile>,
    },
    /// Decrypted application data.
    ApplicationData(Bytes),
    /// The peer sent close_notify.
    CloseNotify,
    /// The connection is closed (locally or after the peer's close_notify).
    Closed,
    /// A non-fatal alert other than close_notify.
    Alert {
        /// Level.
        level: AlertLevel,
        /// Description.
        description: AlertDescription,
    },
    /// The handshake or connection failed; the state is now failed.
    Failed(FailureReason),
}

/// The state of a DTLS endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsState {
    /// Created, handshake not started (the client starts on [`super::Dtls::start`]).
    New,
    /// Handshake under way.
    Handshaking,
    /// Handshake done; application data flows.
    Connected,
    /// Closed by close_notify.
    Closed,
    /// Failed; nothing more will be sent or accepted.
    Failed,
}

/// Counters of a DTLS endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsStats {
    /// Datagrams given to `handle_receive`.
    pub datagrams_received: u64,
    /// Datagrams produced.
    pub datagrams_sent: u64,
    /// Records or trailing bytes that did not parse.
    pub records_malformed: u64,
    /// Records refused by the replay window.
    pub records_replayed: u64,
    /// Records that failed authentication.
    pub records_bad_mac: u64,
    /// Records or messages that were well-formed but not acceptable now.
    pub records_unexpected: u64,
    /// Flight retransmissions (timer or peer-triggered).
    pub retransmits: u64,
    /// Application data records received.
    pub application_records_received: u64,
    /// Application data records sent.
    pub application_records_sent: u64,
}
