//! The first DTLS flight against the ICE/DTLS race.
//!
//! We start DTLS on the first valid pair (RFC 8445 section 12.1), as browsers do. A peer
//! that listens for DTLS only once it applied our answer or finished its own checks
//! (Firefox, some servers) drops a flight that arrives earlier, and the handshake then
//! waits for the 1 s retransmission. When ICE reports that the peer is ready
//! ([`IceEvent::PeerReady`](crate::ice::IceEvent::PeerReady)), DTLS resends its first
//! flight at once if it is still unanswered, once per connection: a peer that answered
//! in time sees nothing extra.

use super::PeerConnection;
use crate::ice::IceRole;
use std::time::Duration;

impl PeerConnection {
    /// The peer nominated a pair, or its first check arrived. The nomination means its
    /// checks are done, so it listens now. Its first check counts only while we control
    /// (no nomination will come from the peer): on a controlled agent the first check
    /// usually comes before a peer's answer to our flight, so resending then would cost
    /// a datagram on the normal path. `rtt` (of our checks) keeps a flight whose answer
    /// may still be on its way from going twice.
    pub(crate) fn on_peer_ready(&mut self, nominated: bool, rtt: Option<Duration>) {
        if !nominated && self.ice.role() != IceRole::Controlling {
            return;
        }
        let now = self.now;
        if let Some(dtls) = self.dtls.as_mut()
            && dtls.resend_first_flight(now, rtt)
        {
            tracing::debug!(nominated, "pc: peer ready, first DTLS flight resent");
        }
    }
}
