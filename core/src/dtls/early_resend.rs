//! Resending the first flight when the peer signals it now listens.
//!
//! Some stacks accept DTLS only once they applied the remote description or once their own
//! ICE checks finished; a ClientHello (or, as server, a ServerHello flight) that reached
//! them earlier is dropped and would wait for the retransmission timer (1 s by default).
//! The connection layer knows when the peer became ready (its nomination, or its first
//! check) and calls [`Dtls::resend_first_flight`]: the flight goes again at once, once, if
//! it left at least a round trip before (the peer was not listening yet when it arrived).
//! A younger flight reached a peer that listened, so its answer should be on the way; but
//! round-trip estimates can be too long (a busy peer answered the check that measured it
//! late), so if that answer has not come a round trip plus `PEER_FLIGHT_ALLOWANCE` (50 ms)
//! after the flight left, the flight goes again then. The retransmission timer and its
//! backoff are left as they were.

use super::connection::Dtls;
use super::events::DtlsState;
use std::time::{Duration, Instant};

/// Time a peer may take to compute and send its answer to our flight (key generation,
/// signing) beyond the round trip, before a deferred early resend goes out.
pub const PEER_FLIGHT_ALLOWANCE: Duration = Duration::from_millis(50);

impl Dtls {
    /// The peer showed it now listens: if our first flight that expects an answer
    /// (ClientHello as client, ServerHello … ServerHelloDone as server) is still
    /// unanswered, send it again: now if it left at least `rtt` ago, else when it is
    /// `rtt` + `PEER_FLIGHT_ALLOWANCE` (50 ms) old (through [`poll_timeout`](Self::poll_timeout))
    /// and only if still unanswered then. Resends at most once per connection; returns
    /// whether it resent now. Nothing is sent when the peer already answered, before the
    /// handshake started or after it ended, so the normal path costs nothing.
    pub fn resend_first_flight(&mut self, now: Instant, rtt: Option<Duration>) -> bool {
        if self.early_resend_done || !self.first_flight_unanswered() {
            return false;
        }
        let Some(sent) = self.first_flight_at else {
            return false;
        };
        let rtt = rtt.unwrap_or_default();
        if now < sent + rtt {
            self.early_resend_at = Some(sent + rtt + PEER_FLIGHT_ALLOWANCE);
            return false;
        }
        self.resend_first_flight_now();
        true
    }

    /// Carries out a resend deferred by [`resend_first_flight`](Self::resend_first_flight)
    /// once due, unless the answer came meanwhile.
    pub(crate) fn early_resend_if_due(&mut self, now: Instant) {
        if self.early_resend_at.is_none_or(|due| now < due) {
            return;
        }
        self.early_resend_at = None;
        if !self.early_resend_done && self.first_flight_unanswered() {
            self.resend_first_flight_now();
        }
    }

    fn resend_first_flight_now(&mut self) {
        self.early_resend_done = true;
        tracing::debug!("dtls: peer ready, resending the first flight");
        self.resend_flight();
    }

    /// Whether the first flight that expects an answer is out, unanswered, and its
    /// retransmission timer running.
    fn first_flight_unanswered(&self) -> bool {
        self.state == DtlsState::Handshaking
            && self.reply_flights == 1
            && self.timer.deadline().is_some()
            && !self.peer_answered_flight()
    }

    /// Whether any message of the peer's flight answering our last one has arrived.
    fn peer_answered_flight(&self) -> bool {
        self.reassembler.next_seq() != self.peer_flight_start
    }
}
