//! Counters of what the agent sent, received and dropped.

/// Counters kept by the agent; read with [`IceAgent::stats`](super::IceAgent::stats).
///
/// Every datagram handed to `handle_receive` that looks like STUN ends in exactly one of
/// the `*_received` counters or one `dropped_*` counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IceStats {
    /// Connectivity checks sent (first transmissions, including nominations).
    pub checks_sent: u64,
    /// Retransmissions of checks and gathering requests.
    pub retransmits: u64,
    /// Authenticated Binding requests received (and answered, or answered with 487).
    pub checks_received: u64,
    /// Binding success responses sent.
    pub responses_sent: u64,
    /// Authenticated responses matched to one of our transactions.
    pub responses_received: u64,
    /// Binding requests sent to STUN servers (first transmissions).
    pub gather_requests_sent: u64,
    /// Consent freshness checks sent (RFC 7675).
    pub consent_checks_sent: u64,
    /// Binding indications sent as keepalives.
    pub keepalives_sent: u64,
    /// Binding indications received.
    pub indications_received: u64,
    /// Role conflicts detected, in requests or through 487 responses.
    pub role_conflicts: u64,
    /// Connectivity checks that failed (timeout, error response, asymmetric response).
    pub checks_failed: u64,
    /// Dropped: not parseable as STUN although it looked like STUN.
    pub dropped_malformed: u64,
    /// Dropped: FINGERPRINT missing or wrong.
    pub dropped_bad_fingerprint: u64,
    /// Dropped: MESSAGE-INTEGRITY missing or wrong.
    pub dropped_bad_integrity: u64,
    /// Dropped: USERNAME missing or not addressed to our ufrag.
    pub dropped_unknown_ufrag: u64,
    /// Dropped: a response matching none of our transactions.
    pub dropped_unmatched_response: u64,
    /// Dropped: a STUN method or class the agent does not handle.
    pub dropped_unsupported: u64,
    /// Dropped: a request to an address that is not one of our sockets, or over a bound.
    pub dropped_other: u64,
    /// TURN allocations made (first ones and re-allocations).
    pub relay_allocations: u64,
    /// TURN failures: allocations, permissions and channel bindings refused or unanswered.
    pub relay_errors: u64,
    /// Relayed datagrams dropped because `poll_relayed` was not drained.
    pub relay_dropped: u64,
    /// Connections to TURN servers over TCP/TLS opened again after the previous one
    /// closed or a reconnection attempt failed (see [`IceEvent::RelayReconnecting`](super::IceEvent::RelayReconnecting)).
    pub relay_reconnects: u64,
}
