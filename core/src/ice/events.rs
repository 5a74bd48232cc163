//! What the agent tells the application: events and the two W3C state machines.

use super::candidate::Candidate;
use std::net::SocketAddr;

/// `RTCIceConnectionState` of the W3C webrtc-pc specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IceConnectionState {
    /// Nothing checked yet.
    New,
    /// Checks are running and no pair is selected yet.
    Checking,
    /// A pair is selected and has consent.
    Connected,
    /// Connected, and checking is over (every pair done, both sides' gathering over).
    Completed,
    /// The selected pair stopped answering consent checks; it may come back.
    Disconnected,
    /// Every pair failed, checking timed out, or consent was lost.
    Failed,
    /// [`IceAgent::close`](super::IceAgent::close) was called.
    Closed,
}

/// `RTCIceGatheringState` of the W3C webrtc-pc specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IceGatheringState {
    /// No local socket reported yet.
    New,
    /// Candidates are being gathered (STUN servers asked, names being resolved).
    Gathering,
    /// Every gathering task finished.
    Complete,
}

/// The agent's role (RFC 8445 section 6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceRole {
    /// Nominates the pair (the offerer, unless the peer is lite).
    Controlling,
    /// Follows the controlling agent's nomination.
    Controlled,
}

/// Something the application should know or do, drained with
/// [`IceAgent::poll_event`](super::IceAgent::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// A new local candidate to signal to the peer (trickle, RFC 8838).
    LocalCandidate(Candidate),
    /// The gathering state changed; `Complete` means "end of candidates" may be signalled.
    GatheringStateChange(IceGatheringState),
    /// The connection state changed.
    ConnectionStateChange(IceConnectionState),
    /// Application data should now go from the local socket bound to `local` to `remote`.
    SelectedPairChanged {
        /// The local socket (a host candidate's address, the base of the pair).
        local: SocketAddr,
        /// The remote address.
        remote: SocketAddr,
    },
    /// The agent switched role (after a role conflict, RFC 8445 section 7.3.1.1).
    RoleChange(IceRole),
    /// A TURN allocation failed for good: wrong credentials
    /// ([`TurnError::Unauthorized`](crate::turn::TurnError::Unauthorized)), no answer
    /// ([`TurnError::Timeout`](crate::turn::TurnError::Timeout)) or another server error.
    /// No relayed candidate comes from this server and socket.
    RelayFailed {
        /// The TURN server.
        server: SocketAddr,
        /// How it was reached.
        transport: crate::turn::TurnTransport,
        /// Why.
        error: crate::turn::TurnError,
    },
    /// The peer showed it uses the connection now: its first valid connectivity check
    /// arrived (`nominated: false`; it holds our credentials, so it has our description),
    /// or, on a controlled agent, its first nomination (USE-CANDIDATE, `nominated: true`).
    /// Each is reported once per ICE generation. A stack that listens for DTLS only from
    /// such a moment on may have dropped what reached it before.
    PeerReady {
        /// The peer nominated a pair (rather than sent its first check).
        nominated: bool,
        /// The smallest round-trip time of our checks answered without retransmission, if
        /// any: what was sent to the peer less than this long ago may still be answered.
        rtt: Option<std::time::Duration>,
    },
    /// The TCP/TLS connection to a TURN server closed (or a reconnection failed) and the
    /// agent will open a new one in `after` and allocate again (a new relayed candidate
    /// follows; the old one is gone). At most
    /// [`MAX_RELAY_RECONNECTS`](super::MAX_RELAY_RECONNECTS) attempts in a row, then
    /// [`IceEvent::RelayFailed`].
    RelayReconnecting {
        /// The TURN server.
        server: SocketAddr,
        /// How it is reached.
        transport: crate::turn::TurnTransport,
        /// Why the last connection ended.
        error: crate::turn::TurnError,
        /// 1 for the first attempt after a connection that worked.
        attempt: u32,
        /// When the attempt starts, from now.
        after: std::time::Duration,
    },
    /// Open a TCP connection (with TLS for `turns:`) to a TURN server, then answer with
    /// [`IceAgent::handle_turn_connected`](super::IceAgent::handle_turn_connected) or
    /// [`IceAgent::handle_turn_failed`](super::IceAgent::handle_turn_failed).
    TurnConnect(crate::turn::TurnConnect),
    /// Close the TURN stream connection (after writing what
    /// [`IceAgent::poll_turn_transmit`](super::IceAgent::poll_turn_transmit) gave for it).
    TurnClose(crate::turn::TurnConnectionId),
    /// Please resolve this STUN or TURN server name and answer with
    /// [`IceAgent::handle_resolved`](super::IceAgent::handle_resolved).
    ResolveName {
        /// The host name from the configuration.
        name: String,
    },
}
