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
    /// Dropped: RTP/RTCP datagrams (first byte 128..=191) of any reason — before the SRTP
    /// keys, failed SRTP/SRTCP, unroutable or unwanted RTP (the reasons are in `media`).
    pub dropped_media: u64,
    /// Dropped: a first byte in no RFC 7983 range (or an empty datagram).
    pub dropped_unknown: u64,
    /// Dropped: DTLS before the transport exists, beyond the early buffer.
    pub dropped_early_dtls: u64,
    /// Dropped: DTLS or SCTP output with no selected ICE pair to carry it.
    pub dropped_no_path: u64,
    /// Dropped: input after `close`.
    pub dropped_closed: u64,
    /// Remote candidates ignored because their address is a host name that was not
    /// resolved: not a `.local` name, mDNS resolution off or over its bounds, or no answer
    /// to the queries.
    pub remote_candidates_unresolved: u64,
    /// mDNS queries emitted for remote `.local` candidates.
    pub mdns_queries_sent: u64,
    /// `.local` names resolved by an mDNS response (their candidates were added).
    pub mdns_resolved: u64,
    /// `.local` names given up after the last query went unanswered.
    pub mdns_failed: u64,
    /// DNS messages from port 5353 that resolved nothing (queries, answers for other
    /// names, goodbyes).
    pub mdns_ignored: u64,
    /// The adapter could not open the socket joined to the mDNS group (no multicast route,
    /// port refused): reported through
    /// [`PeerConnection::report_mdns_socket_error`](super::PeerConnection::report_mdns_socket_error).
    /// Queries still go out; only answers a responder unicasts to their source arrive.
    pub mdns_socket_errors: u64,
    /// What the peer sent that closed the connection, if it closed it (see
    /// [`PeerConnection::closed_by_peer`](super::PeerConnection::closed_by_peer)).
    pub closed_by_peer: Option<super::PeerClose>,
    /// The selected candidate pair, if any.
    pub selected_pair: Option<SelectedPair>,
    /// The selected pair's local candidate (the W3C `local-candidate` stats).
    pub selected_local_candidate: Option<LocalCandidateStats>,
    /// The ICE agent's counters.
    pub ice: IceStats,
    /// The DTLS counters.
    pub dtls: DtlsStats,
    /// The SCTP association's counters, once it exists.
    pub sctp: Option<SctpStats>,
    /// SRTP and RTP routing counters (`transport` stats of media).
    pub media: super::media::MediaTransportStats,
    /// One entry per transceiver: its streams' `outbound-rtp`, `remote-inbound-rtp` and
    /// `inbound-rtp` figures and the negotiated codecs.
    pub transceivers: Vec<TransceiverStats>,
}

/// Stats of one transceiver (the W3C `outbound-rtp`, `remote-inbound-rtp`, `inbound-rtp`
/// and `codec` entries that belong to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransceiverStats {
    /// The transceiver.
    pub transceiver: Option<crate::media::TransceiverId>,
    /// Its mid.
    pub mid: Option<String>,
    /// `audio` or `video`.
    pub kind: String,
    /// The sender's counters (the peer's last report about them inside).
    pub outbound: crate::media::OutboundRtpStats,
    /// With simulcast, one entry per layer (the first is `outbound`); else empty.
    pub outbound_layers: Vec<crate::media::OutboundRtpStats>,
    /// One entry per SSRC received.
    pub inbound: Vec<crate::media::InboundRtpStats>,
    /// Negotiated codecs as `mimeType` (`video/VP8`) and payload type.
    pub codecs: Vec<(String, u8)>,
}

/// One local candidate (the W3C `RTCIceCandidateStats` of a `local-candidate`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalCandidateStats {
    /// The candidate's address (the relayed address for a relayed candidate).
    pub address: std::net::SocketAddr,
    /// `candidateType`: host, srflx, prflx or relay.
    pub candidate_type: crate::ice::CandidateKind,
    /// `relatedAddress`/`relatedPort`: the base of a server-reflexive candidate, our
    /// address as the TURN server saw it for a relayed one.
    pub related_address: Option<std::net::SocketAddr>,
    /// `relayProtocol` of a relayed candidate: how we reach the TURN server, `udp`,
    /// `tcp` or `tls`.
    pub relay_protocol: Option<&'static str>,
}
