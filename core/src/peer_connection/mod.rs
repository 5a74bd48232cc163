//! `peer_connection`: the browser's `RTCPeerConnection` as a sans-IO state machine, and
//! [`Endpoint`](crate::endpoint::Endpoint)'s building block.
//!
//! Specifications: JSEP (RFC 8829) for offer/answer, W3C webrtc-pc for names, states and
//! events, RFC 7983 for demultiplexing, RFC 8843 (BUNDLE, max-bundle only), RFC 8841 (the
//! data channel m-line), RFC 8842 (`a=setup` and the DTLS role), RFC 8838 (trickle ICE).
//!
//! Implemented: offer/answer/pranswer/rollback with the six signaling states; max-bundle
//! (one ICE/DTLS/SCTP transport, a BUNDLE group of every accepted mid); m-line ordering
//! kept across renegotiation and rejected m-lines recycled; DTLS role from `a=setup`;
//! `restart_ice`; `negotiationneeded`; trickled and in-SDP candidates both ways; the
//! ICE → DTLS → SCTP → data channel pipeline; connection state per W3C; close, and closing
//! at once when the peer closes (DTLS close_notify, SCTP ABORT or SHUTDOWN; see
//! [`PeerClose`]).
//!
//! Remote candidates with mDNS `.local` names are resolved by multicast queries the
//! connection emits as transmits (see [`RtcConfiguration::resolve_mdns`]; answers multicast
//! to the group are fed in from a socket bound to port 5353 that joined it, which the
//! adapters open on the first query).
//!
//! Not implemented: media (audio/video m-lines in a remote offer are rejected with port 0;
//! the transceiver list keeps their kind so media can be added later), TURN (URLs are
//! parsed and kept), changing the DTLS fingerprint or role on renegotiation (the first
//! negotiated transport stays), rolling back a remote offer's ICE credentials.

mod candidates;
mod channels;
mod close;
mod config;
mod description;
mod error;
mod events;
mod first_flight;
mod jsep;
mod mdns;
mod media;
mod media_io;
mod media_jsep;
mod media_pacing;
mod media_recovery;
mod pacer;
mod sdp_build;
#[cfg(feature = "sim")]
mod sim_node;
mod stats;
#[cfg(test)]
mod tests;
mod transport;

pub use channels::{ChannelId, DataChannelHandle};
pub use close::PeerClose;
pub use config::{
    BundlePolicy, DEFAULT_ICE_PACING, IceServer, IceServerUrl, IceTransportPolicy, MIN_ICE_PACING,
    RtcConfiguration,
};
pub use description::{IceCandidate, RtcSessionDescription, SdpType};
pub use error::PeerConnectionError;
pub use events::{ChannelState, Event, Input, Output, PeerConnectionState, SignalingState};
pub use media::{MediaTransportStats, TransceiverHandle};
#[cfg(feature = "sim")]
pub use sim_node::SimPeer;
pub use stats::{LocalCandidateStats, PeerConnectionStats, TransceiverStats};

pub use crate::datachannel::DataChannelInit;
pub use crate::ice::{IceConnectionState, IceGatheringState};

use crate::datachannel::DataChannels;
use crate::dtls::{Dtls, DtlsCertificate, DtlsRole};
use crate::ice::{IceAgent, IceConfig, IceRole};
use crate::media::codec::MediaCodecs;
use crate::rng::Rng;
use crate::transmit::Transmit;
use channels::Channels;
use jsep::Jsep;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// The browser's `RTCPeerConnection`, sans-IO.
///
/// It reads no clock and opens no socket: the driver feeds datagrams and time in and sends
/// what comes out. Its methods form four groups:
///
/// - **Getters**: [`signaling_state`](Self::signaling_state),
///   [`connection_state`](Self::connection_state),
///   [`ice_connection_state`](Self::ice_connection_state),
///   [`ice_gathering_state`](Self::ice_gathering_state),
///   [`local_description`](Self::local_description),
///   [`remote_description`](Self::remote_description), [`stats`](Self::stats),
///   [`selected_pair`](Self::selected_pair), [`local_ufrag`](Self::local_ufrag).
/// - **Inputs**, each taking `now`: [`handle_input`](Self::handle_input) (a received
///   datagram), [`handle_timeout`](Self::handle_timeout), [`add_local_socket`](Self::add_local_socket),
///   [`handle_resolved`](Self::handle_resolved). JSEP calls
///   ([`create_offer`](Self::create_offer), [`set_local_description`](Self::set_local_description),
///   [`set_remote_description`](Self::set_remote_description),
///   [`add_ice_candidate`](Self::add_ice_candidate), ...) use the time of the last input.
/// - **Commands through short-lived handles**: [`create_data_channel`](Self::create_data_channel)
///   then [`data_channel(id)`](Self::data_channel) gives a [`DataChannelHandle`] to send,
///   close and tune one channel; [`restart_ice`](Self::restart_ice), [`close`](Self::close).
/// - **Output**: [`poll_output`](Self::poll_output). After *every* input or command, call
///   it until it returns [`Output::Timeout`]: transmits and events come first, the timeout
///   last. Then wait for the first of a datagram, the timeout or an application command.
///   Calling `handle_timeout` early is harmless.
///
/// ```
/// use rtcpeer::peer_connection::{Output, PeerConnection, RtcConfiguration};
/// # #[allow(clippy::disallowed_methods)]
/// let now = std::time::Instant::now(); // a driver reads its clock; the core never does
/// let mut pc = PeerConnection::new(RtcConfiguration::with_seed(7), now)?;
/// pc.add_local_socket(now, "127.0.0.1:5000".parse().unwrap())?;
/// let channel = pc.create_data_channel("chat", Default::default())?;
/// let offer = pc.create_offer()?;
/// pc.set_local_description(offer.clone())?;
/// assert!(offer.sdp.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
/// loop {
///     match pc.poll_output() {
///         Output::Transmit(t) => { /* send t.payload from t.source to t.destination */ }
///         Output::Event(e) => { /* signal candidates, react to states */ let _ = e; }
///         Output::Timeout(_at) => break, // wait until `_at` or the next input
///     }
/// }
/// let _ = channel;
/// # Ok::<(), rtcpeer::Error>(())
/// ```
#[derive(Debug)]
#[cfg_attr(feature = "fuzzing", derive(Clone))]
pub struct PeerConnection {
    /// The configuration, less its codecs (moved to `codecs`).
    pub(crate) config: RtcConfiguration,
    /// `config.codecs`, shared with every connection that has the same list.
    pub(crate) codecs: std::sync::Arc<MediaCodecs>,
    pub(crate) rng: Rng,
    pub(crate) now: Instant,
    pub(crate) certificate: DtlsCertificate,
    pub(crate) ice: IceAgent,
    pub(crate) sockets: Vec<SocketAddr>,
    pub(crate) gathering_started: bool,
    pub(crate) jsep: Jsep,
    pub(crate) dtls: Option<Dtls>,
    pub(crate) dtls_role: Option<DtlsRole>,
    pub(crate) dtls_started: bool,
    pub(crate) early_dtls: Vec<Vec<u8>>,
    pub(crate) sctp: Option<DataChannels>,
    pub(crate) sctp_started: bool,
    pub(crate) channels: Channels,
    pub(crate) events: VecDeque<Event>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) state: PeerConnectionState,
    pub(crate) ice_state: IceConnectionState,
    pub(crate) gathering_state: IceGatheringState,
    pub(crate) closed: bool,
    /// What the peer sent to close the connection, once it did (see `close.rs`).
    pub(crate) peer_close: Option<PeerClose>,
    pub(crate) stats: PeerConnectionStats,
    pub(crate) media: media::MediaState,
    /// A timeout or state change happened: free the drained queues' buffers at the end
    /// of the next drain.
    pub(crate) release_pending: bool,
    /// Paces SCTP output (see `pacer.rs`).
    pub(crate) pacer: pacer::Pacer,
    /// Remote `.local` candidates being resolved (see `mdns.rs`).
    pub(crate) mdns: mdns::MdnsResolver,
}

impl PeerConnection {
    /// A new connection. Draws, in order from the seed: the certificate (unless given),
    /// the ICE agent's randomness, the JSEP session id, DTLS and SCTP randomness.
    ///
    /// Errors: an invalid configuration (bad ICE server URL, TURN without credentials,
    /// limits out of range).
    pub fn new(mut config: RtcConfiguration, now: Instant) -> Result<Self, crate::Error> {
        config.validate()?;
        let codecs = std::mem::replace(&mut config.codecs, MediaCodecs::none()).into_shared();
        let mut rng = config
            .seed
            .as_ref()
            .ok_or(PeerConnectionError::MissingSeed)?
            .rng();
        let certificate = match &config.certificate {
            Some(c) => c.clone(),
            None => DtlsCertificate::generate(&mut rng, crate::dtls::CertificateValidity::fixed())?,
        };
        let ice_config = IceConfig {
            role: IceRole::Controlling,
            lite: config.ice_lite,
            stun_servers: config.stun_servers()?,
            relay_servers: config.relay_servers()?,
            relay_only: config.ice_transport_policy == IceTransportPolicy::Relay,
            timing: config.ice_timing.clone(),
            ..IceConfig::default()
        };
        let ice = IceAgent::new(ice_config, rng.child())?;
        let jsep = Jsep::new(rng.u64() >> 1);
        let mut pc = Self {
            config,
            codecs,
            rng,
            now,
            certificate,
            ice,
            sockets: Vec::new(),
            gathering_started: false,
            jsep,
            dtls: None,
            dtls_role: None,
            dtls_started: false,
            early_dtls: Vec::new(),
            sctp: None,
            sctp_started: false,
            channels: Channels::default(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            state: PeerConnectionState::New,
            ice_state: IceConnectionState::New,
            gathering_state: IceGatheringState::New,
            closed: false,
            peer_close: None,
            stats: PeerConnectionStats::default(),
            media: media::MediaState::default(),
            release_pending: false,
            pacer: pacer::Pacer::default(),
            mdns: mdns::MdnsResolver::default(),
        };
        if pc.config.wall_clock.is_none() {
            let anchor = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
            pc.config.wall_clock = Some(std::sync::Arc::new(crate::time::AnchoredWallClock::new(
                now, anchor,
            )));
        }
        pc.pump();
        Ok(pc)
    }

    // ----- getters -----

    /// `signalingState`.
    pub fn signaling_state(&self) -> SignalingState {
        if self.closed {
            SignalingState::Closed
        } else {
            self.jsep.state
        }
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> PeerConnectionState {
        self.state
    }

    /// `iceConnectionState`.
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.gathering_state
    }

    /// The pair ICE selected by nomination, once it did.
    pub fn selected_pair(&self) -> Option<crate::ice::SelectedPair> {
        self.ice.selected_pair()
    }

    /// The path DTLS and data use now: the selected pair, or before nomination the
    /// best valid pair (RFC 8445 section 12.1), like a browser's
    /// `getSelectedCandidatePair()`.
    pub fn data_path(&self) -> Option<crate::ice::SelectedPair> {
        self.ice.data_path()
    }

    /// Our current ICE ufrag (changes on ICE restart).
    pub fn local_ufrag(&self) -> &str {
        &self.ice.local_credentials().ufrag
    }

    /// The sockets reported with [`add_local_socket`](Self::add_local_socket).
    pub fn local_sockets(&self) -> &[SocketAddr] {
        &self.sockets
    }

    /// Counters.
    pub fn stats(&self) -> PeerConnectionStats {
        let mut s = self.stats.clone();
        s.selected_pair = self.ice.selected_pair();
        s.selected_local_candidate = s.selected_pair.and_then(|p| {
            let (kind, related_address, relay) = self.ice.local_candidate_info(p.local)?;
            Some(stats::LocalCandidateStats {
                address: p.local,
                candidate_type: kind,
                related_address,
                relay_protocol: relay.map(crate::turn::TurnTransport::relay_protocol),
            })
        });
        s.closed_by_peer = self.closed_by_peer();
        s.ice = self.ice.stats().clone();
        s.dtls = self.dtls.as_ref().map(|d| d.stats()).unwrap_or_default();
        s.sctp = self.sctp_stats().cloned();
        s.media = self.media.stats.clone();
        s.media.transport_feedback = self.media.transport_feedback.stats();
        s.media.ccfb_feedback = self.media.ccfb_feedback.stats();
        s.media.available_outgoing_bitrate = self
            .media
            .bwe
            .as_ref()
            .map(crate::media::bwe::SendSideBwe::target_bitrate);
        s.media.receive_estimate = self
            .media
            .remote_bwe
            .as_ref()
            .map(crate::media::bwe::ReceiveSideBwe::stats);
        s.media.pacer = self.media.pacer.stats;
        s.dropped_media = s.media.dropped();
        s.transceivers = self
            .media
            .transceivers
            .iter()
            .map(media::transceiver_stats)
            .collect();
        s
    }

    /// The SCTP association's counters, once it exists: the `sctp` part of
    /// [`stats`](Self::stats) without building the rest.
    pub fn sctp_stats(&self) -> Option<&crate::sctp::SctpStats> {
        self.sctp.as_ref().map(|dc| dc.association().stats())
    }

    /// The ICE agent, for inspection (pairs, candidates).
    pub fn ice_agent(&self) -> &IceAgent {
        &self.ice
    }

    /// The DTLS role negotiated, once known.
    pub fn dtls_role(&self) -> Option<DtlsRole> {
        self.dtls_role
    }

    // ----- inputs -----

    /// Reports a bound UDP socket of ours. It becomes a host candidate once gathering
    /// starts (at the first `set_local_description`), or at once if it already started.
    pub fn add_local_socket(&mut self, now: Instant, addr: SocketAddr) -> Result<(), crate::Error> {
        self.now = now;
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        if self.sockets.contains(&addr) {
            return Ok(());
        }
        if self.gathering_started {
            self.ice.add_local_socket(now, addr)?;
        }
        self.sockets.push(addr);
        Ok(())
    }

    /// Answers [`Event::ResolveName`]: the addresses of a STUN server name (empty when
    /// resolution failed).
    pub fn handle_resolved(&mut self, now: Instant, name: &str, addrs: &[std::net::IpAddr]) {
        self.now = now;
        self.ice.handle_resolved(now, name, addrs);
    }

    /// The application (an adapter) could not open its socket joined to the mDNS group,
    /// which it opens when this connection first sends a query to 224.0.0.251:5353:
    /// counted in [`PeerConnectionStats::mdns_socket_errors`]. Resolution goes on with
    /// the answers that reach the connection's own sockets.
    pub fn report_mdns_socket_error(&mut self) {
        self.stats.mdns_socket_errors += 1;
    }

    /// Answers [`Event::TurnConnect`]: the TCP connection (and for `turns:` the TLS
    /// handshake) to the TURN server is up; the allocation starts. Write what
    /// [`Event::TurnSend`] carries for `id` to the connection from now on.
    pub fn handle_turn_connected(&mut self, now: Instant, id: crate::turn::TurnConnectionId) {
        self.now = now;
        if !self.closed {
            self.ice.handle_turn_connected(now, id);
        }
    }

    /// Bytes that arrived on TURN connection `id` (decrypted, for TLS), in order, in any
    /// pieces. Bytes that are not TURN framing make the core close the connection
    /// ([`Event::TurnClose`]) and report the relay failed.
    pub fn handle_turn_data(
        &mut self,
        now: Instant,
        id: crate::turn::TurnConnectionId,
        data: &[u8],
    ) {
        self.now = now;
        self.stats.bytes_received += data.len() as u64;
        if self.closed {
            return;
        }
        self.ice.handle_turn_data(now, id, data);
        while let Some((_, _, data)) = self.ice.poll_relayed() {
            self.receive_data(&data);
        }
        self.pump_layers(false);
        self.close_if_peer_left();
    }

    /// TURN connection `id` could not be made ([`TurnError::Connect`](crate::turn::TurnError::Connect),
    /// [`TurnError::Tls`](crate::turn::TurnError::Tls),
    /// [`TurnError::Certificate`](crate::turn::TurnError::Certificate)) or closed
    /// ([`TurnError::ConnectionClosed`](crate::turn::TurnError::ConnectionClosed)): no
    /// relayed candidate comes (or stays) from it; [`Event::TurnError`] and
    /// [`Event::IceCandidateError`] report it.
    pub fn handle_turn_failed(
        &mut self,
        now: Instant,
        id: crate::turn::TurnConnectionId,
        error: crate::turn::TurnError,
    ) {
        self.now = now;
        if !self.closed {
            self.ice.handle_turn_failed(now, id, error);
        }
    }
}
