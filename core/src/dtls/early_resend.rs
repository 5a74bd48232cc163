//! Resending the first flight when the peer signals it now listens.
//!
//! Some stacks accept DTLS only once they applied the remote description or once their own
//! ICE checks finished; a ClientHello (or, as server, a ServerHello flight) that reached
//! them earlier is dropped and would wait for the retransmission timer (1 s by default).
//! The connection layer knows when the peer became ready (its nomination, or its first
//! check) and calls [`Dtls::resend_first_flight`]: the flight goes again at once, once,
//! unless it left less than a round trip ago (its answer may be on the way).
//! The retransmission timer and its backoff are left as they were.

use super::connection::Dtls;
use super::events::DtlsState;
use std::time::{Duration, Instant};

impl Dtls {
    /// The peer showed it now listens: if our first flight that expects an answer
    /// (ClientHello as client, ServerHello … ServerHelloDone as server) went out at least
    /// `rtt` ago and is still unanswered, send it again now. An answer to a flight sent
    /// less than a round trip ago may still be on its way, so that one is left to the
    /// timer. Resends at most once per connection; returns whether it did. Nothing is
    /// sent when the peer already answered, before the handshake started or after it
    /// ended, so the normal path costs nothing.
    pub fn resend_first_flight(&mut self, now: Instant, rtt: Option<Duration>) -> bool {
        let pending = self.state == DtlsState::Handshaking
            && self.reply_flights == 1
            && self.timer.deadline().is_some()
            && !self.peer_answered_flight();
        let old_enough = self
            .first_flight_at
            .is_some_and(|sent| now.saturating_duration_since(sent) >= rtt.unwrap_or_default());
        if !pending || !old_enough || self.early_resend_done {
            return false;
        }
        self.early_resend_done = true;
        tracing::debug!("dtls: peer ready, resending the first flight");
        self.resend_flight();
        true
    }

    /// Whether any message of the peer's flight answering our last one has arrived.
    fn peer_answered_flight(&self) -> bool {
        self.reassembler.next_seq() != self.peer_flight_start
    }
}
