//! Counters of a [`PeerConnection`](super::PeerConnection).

use crate::dtls::DtlsStats;
use crate::ice::{IceStats, SelectedPair};
use crate::sctp::SctpStats;

/// What the connection received, sent and dropped, with the layers' own counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerConnectionStats {
    /// Datagrams given to `handle_input`.
    pub datagrams_received: u64,
    /// Bytes of those datagrams.
    pub bytes_received: u64,
    /// Datagrams handed out as transmits.
    pub datagrams_sent: u64,
    /// Bytes of those datagrams.
    pub bytes_sent: u64,
    /// Dropped: RTP/RTCP (first byte 128..=191), which is not handled yet.
    pub dropped_media: u64,
    /// Dropped: a first byte in no RFC 7983 range (or an empty datagram).
    pub dropped_unknown: u64,
    /// Dropped: DTLS before the transport exists, beyond the early buffer.
    pub dropped_early_dtls: u64,
    /// Dropped: DTLS or SCTP output with no selected ICE pair to carry it.
    pub dropped_no_path: u64,
    /// Dropped: input after `close`.
    pub dropped_closed: u64,
    /// Remote candidates ignored because their address is a host name (e.g. mDNS `.local`),
    /// which the core does not resolve.
    pub remote_candidates_unresolved: u64,
    /// What the peer sent that closed the connection, if it closed it (see
    /// [`PeerConnection::closed_by_peer`](super::PeerConnection::closed_by_peer)).
    pub closed_by_peer: Option<super::PeerClose>,
    /// The selected candidate pair, if any.
    pub selected_pair: Option<SelectedPair>,
    /// The ICE agent's counters.
    pub ice: IceStats,
    /// The DTLS counters.
    pub dtls: DtlsStats,
    /// The SCTP association's counters, once it exists.
    pub sctp: Option<SctpStats>,
}
