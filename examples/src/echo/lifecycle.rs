//! The session lifecycle as `info` log lines, the same on every backend: created, connected,
//! ended (and why), freed. One line each, keyed by the session id, so an operator can follow
//! a session and count why sessions end.

use super::backend::SessionId;
use rtcpeer::peer_connection::{PeerClose, PeerConnectionStats};
use std::fmt;
use std::net::IpAddr;

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The client closed it (close_notify, SCTP ABORT or SHUTDOWN).
    ClosedByPeer(PeerClose),
    /// No ICE check arrived within the unchecked timeout.
    NoCheck,
    /// Not connected within the connect timeout.
    ConnectTimeout,
    /// `DELETE /sessions/{id}` or the server closed it.
    Closed,
    /// ICE or DTLS failed (consent lost, handshake failed).
    Failed,
    /// ICE gathering did not complete in time.
    GatherTimeout,
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndReason::ClosedByPeer(how) => write!(f, "closed by the client ({how})"),
            EndReason::NoCheck => f.write_str("no ICE check arrived in time"),
            EndReason::ConnectTimeout => f.write_str("did not connect in time"),
            EndReason::Closed => f.write_str("closed by the server"),
            EndReason::Failed => f.write_str("failed"),
            EndReason::GatherTimeout => f.write_str("ICE gathering did not complete"),
        }
    }
}

/// The reason a connection that has just ended gives in its counters, or `fallback`.
pub fn end_reason(stats: &PeerConnectionStats, fallback: EndReason) -> EndReason {
    stats
        .closed_by_peer
        .map_or(fallback, EndReason::ClosedByPeer)
}

/// A session was registered for `client`.
pub fn created(id: SessionId, client: IpAddr, server_offers: bool) {
    let role = if server_offers { "offerer" } else { "answerer" };
    tracing::info!(%id, %client, role, "echo session created");
}

/// The session reached `connected` over `pair`.
pub fn connected(id: SessionId, pair: Option<&str>) {
    tracing::info!(%id, pair = pair.unwrap_or("?"), "echo session connected");
}

/// The session ended for `reason`; its slot is freed.
pub fn ended(id: SessionId, reason: EndReason, stats: &PeerConnectionStats) {
    tracing::info!(
        %id,
        %reason,
        received = stats.datagrams_received,
        sent = stats.datagrams_sent,
        "echo session ended and freed"
    );
    tracing::debug!(%id, ?stats, "echo session final counters");
}
