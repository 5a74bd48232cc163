//! Closing because the peer said goodbye.
//!
//! A browser that closes its `RTCPeerConnection` ends the SCTP association (Chromium sends
//! ABORT, others may run the SHUTDOWN sequence, RFC 9260 sections 9.1 and 9.2) and then
//! sends a DTLS close_notify alert (RFC 5246 section 7.2.1, as used by RFC 6347). Any one
//! of those three means the peer has gone: waiting for ICE consent to expire (RFC 7675,
//! about 30 s) would keep every buffer and, for a server, a session slot for nothing.
//!
//! So on any of them the connection closes at once, in the same input that carried it: the
//! association's channels close (`close` events), what courtesy asks for is sent (our own
//! close_notify in reply, a SHUTDOWN ACK), then everything is torn down as by
//! [`close`](super::PeerConnection::close) and the state becomes `closed`. Drivers
//! (adapters, [`Endpoint`](crate::endpoint::Endpoint) users) see
//! [`Event::ConnectionStateChange`](super::Event::ConnectionStateChange)`(Closed)` and free
//! the connection; [`PeerConnection::closed_by_peer`] says why.
//!
//! Not done: W3C webrtc-pc keeps `signalingState` and `connectionState` apart from the
//! transport's end (a browser reports its DTLS transport `closed` and the channels closed
//! but leaves the connection as it was); here the connection itself closes, which is what a
//! server wants. SCTP ending for other reasons (retransmission timeout, protocol violation)
//! does not close the connection.

use super::PeerConnection;
use crate::sctp::{AssociationState, CloseReason};

/// What the peer sent that closed the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerClose {
    /// A DTLS close_notify alert.
    CloseNotify,
    /// An SCTP ABORT chunk.
    SctpAbort,
    /// An SCTP SHUTDOWN chunk (or the SHUTDOWN sequence completed).
    SctpShutdown,
}

impl std::fmt::Display for PeerClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PeerClose::CloseNotify => "DTLS close_notify",
            PeerClose::SctpAbort => "SCTP ABORT",
            PeerClose::SctpShutdown => "SCTP SHUTDOWN",
        })
    }
}

impl PeerConnection {
    /// Why the connection closed, if the peer closed it (see the module docs); `None`
    /// while open, and after a local [`close`](Self::close).
    pub fn closed_by_peer(&self) -> Option<PeerClose> {
        self.peer_close.filter(|_| self.closed)
    }

    /// The SCTP association ended for `reason`; the peer's ABORT or a completed SHUTDOWN
    /// closes the connection. Our own abort (from `close`) and failures do not.
    pub(super) fn on_sctp_ended(&mut self, reason: &CloseReason) {
        let cause = match reason {
            CloseReason::AbortedByPeer => PeerClose::SctpAbort,
            CloseReason::Shutdown => PeerClose::SctpShutdown,
            _ => return,
        };
        self.peer_close.get_or_insert(cause);
    }

    /// Whether the peer started the SHUTDOWN sequence (we never start one).
    fn peer_shutting_down(&self) -> bool {
        self.sctp.as_ref().is_some_and(|dc| {
            matches!(
                dc.association().state(),
                AssociationState::ShutdownReceived | AssociationState::ShutdownAckSent
            )
        })
    }

    /// Closes the connection if the peer said goodbye during the last input. Call after
    /// the layers were pumped.
    pub(super) fn close_if_peer_left(&mut self) {
        if self.closed {
            return;
        }
        if self.peer_close.is_none() && self.peer_shutting_down() {
            self.peer_close = Some(PeerClose::SctpShutdown);
        }
        let Some(cause) = self.peer_close else {
            return;
        };
        tracing::debug!(%cause, "pc: the peer closed the connection");
        // Send what the goodbye asks for: the SHUTDOWN ACK, our close_notify in reply.
        self.pump();
        // The association has ended or is ending on the peer's side: nothing more goes
        // out on it (no ABORT after a SHUTDOWN ACK). `pump` delivered its channel events;
        // `close` closes the channels it did not report. Its final counters stay in
        // `stats()` for whoever logs a finished session.
        self.stats.sctp = self
            .sctp
            .as_ref()
            .map(|dc| dc.association().stats().clone());
        self.sctp = None;
        self.close();
    }
}

#[cfg(test)]
#[path = "close_tests.rs"]
mod tests;
