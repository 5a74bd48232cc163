//! The pipeline: RFC 7983 demultiplexing of received datagrams, ICE → DTLS → SCTP →
//! data channels, the connection state, timers and [`PeerConnection::poll_output`].
//!
//! SCTP packets are built lazily: `handle_input` builds none, and `poll_output` keeps at most
//! `TRANSMIT_BATCH` datagrams built ahead of the caller. Messages waiting in the event
//! queue count against the SCTP receive window like those the application holds.

use super::channels::Slot;
use super::{ChannelState, Event, Input, Output, PeerConnection, PeerConnectionState};
use crate::datachannel::{self, DataChannelConfig, DataChannelEvent, DataChannels};
use crate::dtls::{Dtls, DtlsConfig, DtlsEvent, DtlsRole, DtlsState, Fingerprint};
use crate::ice::{IceConnectionState, IceEvent, IceGatheringState};
use crate::sctp::SctpConfig;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// DTLS datagrams kept while the DTLS endpoint does not exist yet.
const MAX_EARLY_DTLS: usize = 8;

/// How far ahead `poll_output` reports a timeout when nothing is scheduled.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Datagrams queued for [`PeerConnection::poll_output`] beyond which SCTP packets are left
/// in the association: they are built and encrypted only as the caller drains the queue.
/// So a driver that sends every few dozen datagrams overlaps its sends with the peer's
/// receive work instead of encrypting a whole window first, and packets built later carry
/// the newest acknowledgement state.
pub(crate) const TRANSMIT_BATCH: usize = 32;

impl PeerConnection {
    /// Creates DTLS and the data channel layer once negotiation fixed the roles.
    pub(crate) fn create_transport(&mut self, client: bool) -> Result<(), crate::Error> {
        let role = if client {
            DtlsRole::Client
        } else {
            DtlsRole::Server
        };
        let remote = self.jsep.remote.as_ref().ok_or_else(|| {
            super::PeerConnectionError::InvalidDescription("no remote transport".into())
        })?;
        let mut config = DtlsConfig::new(role, self.certificate.clone());
        config.remote_fingerprint = Fingerprint::parse(&remote.fingerprint.to_string()).ok();
        config.initial_retransmit = self.config.dtls_initial_retransmit;
        config.max_retransmissions = self.config.dtls_max_retransmissions;
        let mut dtls = Dtls::new(config, self.rng.child())?;
        let mut dc_config = DataChannelConfig::new(if client {
            datachannel::DtlsRole::Client
        } else {
            datachannel::DtlsRole::Server
        });
        dc_config.sctp = SctpConfig {
            remote_port: remote.sctp_port.unwrap_or(crate::sctp::DEFAULT_PORT),
            max_message_size: self.config.max_message_size,
            ..SctpConfig::default()
        };
        dc_config.remote_max_message_size = match remote.max_message_size {
            Some(0) => 0,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => 65536,
        };
        let mut dc = DataChannels::new(dc_config, self.rng.child(), self.now);
        self.channels.attach(&mut dc);
        for early in std::mem::take(&mut self.early_dtls) {
            dtls.handle_receive(self.now, &early);
        }
        self.dtls = Some(dtls);
        self.dtls_role = Some(role);
        self.sctp = Some(dc);
        self.maybe_start_dtls();
        self.pump();
        Ok(())
    }

    /// Starts the DTLS client as soon as ICE has a path data can use: the first valid
    /// pair, before nomination (RFC 8445 section 12.1), as browsers do.
    fn maybe_start_dtls(&mut self) {
        if self.dtls_started || self.ice.data_path().is_none() {
            return;
        }
        if let Some(dtls) = self.dtls.as_mut() {
            dtls.start(self.now);
            self.dtls_started = true;
        }
    }

    /// A datagram from the network. Never fails: what cannot be used is dropped and
    /// counted in [`stats`](Self::stats).
    ///
    /// What the datagram carries moves up at once (events are queued), but SCTP packets in
    /// answer are built only by [`poll_output`](Self::poll_output): datagrams fed one after
    /// the other before draining (one batch of a batched receive) are acknowledged by one
    /// SACK, as a TCP receiver acknowledges a GRO batch. Fed one at a time with a drain in
    /// between, SACKs follow RFC 9260 section 6.2 (every second packet).
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.now = now;
        let Input::Receive {
            source,
            destination,
            payload,
        } = input;
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += payload.len() as u64;
        if self.closed {
            self.stats.dropped_closed += 1;
            return;
        }
        if self.handle_mdns_datagram(source, payload) {
            // An mDNS message (source port 5353; its first byte, the id's high byte, is 0
            // like STUN's, so it is told apart by port and parse before RFC 7983).
        } else {
            self.demultiplex(now, source, destination, payload);
        }
        // Received data moves up at once; SCTP packets (acknowledgements, the data they
        // allow) are built when the caller drains, so a batch of datagrams fed together is
        // answered together.
        self.pump_layers(false);
        self.close_if_peer_left();
    }

    /// RFC 7983 demultiplexing of a datagram received directly.
    fn demultiplex(
        &mut self,
        now: Instant,
        source: std::net::SocketAddr,
        destination: std::net::SocketAddr,
        payload: &[u8],
    ) {
        match payload.first() {
            // STUN, and ChannelData from a TURN server (RFC 7983): relayed data comes back
            // out of the agent unwrapped.
            Some(64..=79) if self.receive_relayed(source, destination, payload) => {}
            Some(0..=3 | 64..=79) => {
                if !self.ice.handle_receive(now, source, destination, payload) {
                    self.stats.dropped_unknown += 1;
                }
                while let Some((_, _, data)) = self.ice.poll_relayed() {
                    self.receive_data(&data);
                }
            }
            _ => self.receive_data(payload),
        }
    }

    /// ChannelData carrying DTLS or SRTP from a TURN server on a bound channel: unwrapped
    /// in place and demultiplexed (the relayed hot path). False when `payload` is anything
    /// else (the ICE agent takes it then).
    fn receive_relayed(
        &mut self,
        source: std::net::SocketAddr,
        destination: std::net::SocketAddr,
        payload: &[u8],
    ) -> bool {
        match self
            .ice
            .relayed_application_data(source, destination, payload)
        {
            Some(data) => {
                self.receive_data(data);
                true
            }
            None => false,
        }
    }

    /// Demultiplexes a datagram that is not STUN (directly received or unwrapped from a
    /// relay): DTLS, RTP/RTCP, or dropped.
    pub(super) fn receive_data(&mut self, payload: &[u8]) {
        let now = self.now;
        match payload.first() {
            Some(20..=63) => match self.dtls.as_mut() {
                Some(dtls) => dtls.handle_receive(now, payload),
                None if self.early_dtls.len() < MAX_EARLY_DTLS => {
                    self.early_dtls.push(payload.to_vec())
                }
                None => self.stats.dropped_early_dtls += 1,
            },
            Some(128..=191) => self.handle_media_datagram(payload),
            _ => {
                tracing::debug!(
                    len = payload.len(),
                    "pc: datagram of no known protocol dropped"
                );
                self.stats.dropped_unknown += 1;
            }
        }
    }

    /// Sends one non-STUN datagram (DTLS or SRTP) on ICE's data path: as is, or
    /// wrapped for the TURN server when the path's local candidate is relayed. Dropped and
    /// counted while there is no path. Every non-STUN send goes through here.
    pub(crate) fn transmit_data(&mut self, payload: Vec<u8>) {
        match self.ice.wrap_data(self.now, payload) {
            Some(t) => self.transmits.push_back(t),
            // Relayed over TCP/TLS: queued for the TURN connection by the agent.
            None if self.ice.data_path_is_stream() => {}
            None => self.stats.dropped_no_path += 1,
        }
    }

    /// The clock reached the last [`Output::Timeout`] (an early call is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        self.ice.handle_timeout(now);
        if let Some(d) = self.dtls.as_mut() {
            d.handle_timeout(now);
        }
        if let Some(s) = self.sctp.as_mut() {
            s.handle_timeout(now);
        }
        self.poll_media_timeout();
        self.poll_estimator_timeout();
        self.mdns_on_timeout();
        self.poll_recovery_timeout();
        self.release_pending = true;
        self.pump();
        self.close_if_peer_left();
    }

    /// Datagrams built and waiting to be taken by [`poll_output`](Self::poll_output).
    pub fn queued_transmits(&self) -> usize {
        self.transmits.len()
    }

    /// The next output. Drain until [`Output::Timeout`] after every input or command.
    pub fn poll_output(&mut self) -> Output {
        self.pump();
        if let Some(t) = self.transmits.pop_front() {
            self.stats.datagrams_sent += 1;
            self.stats.bytes_sent += t.payload.len() as u64;
            return Output::Transmit(t);
        }
        if let Some(e) = self.events.pop_front() {
            if let Event::ChannelMessage { data, .. } = &e {
                self.channels.queued_message_bytes -= data.len();
                self.report_unread();
            }
            return Output::Event(e);
        }
        if self.release_pending {
            self.release_drained_queues();
        }
        Output::Timeout(self.next_timeout())
    }

    /// Frees the buffers of the drained output queues here and in ICE and DTLS, which
    /// bursts (gathering, checks, handshakes) grew and which would otherwise keep that
    /// capacity while the connection idles. Runs when a drain completes after a timeout or
    /// a connection state change: rare next to datagrams, so bulk traffic does not pay
    /// for reallocating its queues.
    fn release_drained_queues(&mut self) {
        self.release_pending = false;
        self.transmits = VecDeque::new();
        self.events = VecDeque::new();
        self.ice.release_drained_queues();
        if let Some(d) = self.dtls.as_mut() {
            d.release_drained_queues();
        }
    }

    fn next_timeout(&self) -> Instant {
        [
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(Dtls::poll_timeout),
            self.sctp.as_ref().and_then(DataChannels::poll_timeout),
            self.media
                .srtp
                .as_ref()
                .and_then(|_| self.media.reports.deadline()),
            self.media
                .srtp
                .as_ref()
                .and_then(|_| self.media.transport_feedback.deadline()),
            self.media
                .srtp
                .as_ref()
                .and_then(|_| self.media.ccfb_feedback.deadline()),
            self.media
                .srtp
                .as_ref()
                .and(self.media.remote_bwe.as_ref())
                .and_then(crate::media::bwe::ReceiveSideBwe::deadline),
            self.pacer.next_send(),
            self.media.pacer.next_send(),
            self.mdns.deadline(),
            self.recovery_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.now + IDLE_TIMEOUT)
    }

    /// Moves everything between the layers until nothing moves.
    pub(crate) fn pump(&mut self) {
        self.pump_layers(true);
    }

    /// [`pump`](Self::pump), building SCTP packets only if `build_sctp`.
    pub(super) fn pump_layers(&mut self, build_sctp: bool) {
        loop {
            let mut moved = self.pump_ice();
            moved |= self.pump_media_pacer();
            moved |= self.pump_sctp(build_sctp);
            moved |= self.pump_dtls();
            self.update_connection_state();
            if !moved {
                break;
            }
        }
    }

    fn pump_ice(&mut self) -> bool {
        let mut moved = false;
        while let Some(t) = self.ice.poll_transmit() {
            self.transmits.push_back(t);
            moved = true;
        }
        self.pump_turn_streams();
        while let Some(e) = self.ice.poll_event() {
            moved = true;
            self.on_ice_event(e);
        }
        moved
    }

    /// Bytes for TURN stream connections become [`Event::TurnSend`]s.
    fn pump_turn_streams(&mut self) {
        while let Some((id, data)) = self.ice.poll_turn_transmit() {
            self.stats.bytes_sent += data.len() as u64;
            self.events.push_back(Event::TurnSend { id, data });
        }
    }

    fn on_ice_event(&mut self, e: IceEvent) {
        match e {
            IceEvent::LocalCandidate(c) => {
                let ev = self.candidate_event(c.to_string());
                self.events.push_back(ev);
            }
            IceEvent::GatheringStateChange(s) => {
                self.gathering_state = s;
                self.events.push_back(Event::IceGatheringStateChange(s));
                if s == IceGatheringState::Complete {
                    let ev = self.candidate_event(String::new());
                    self.events.push_back(ev);
                }
            }
            IceEvent::ConnectionStateChange(s) => {
                self.ice_state = s;
                self.events.push_back(Event::IceConnectionStateChange(s));
                self.maybe_start_dtls();
            }
            IceEvent::SelectedPairChanged { .. } => self.maybe_start_dtls(),
            IceEvent::PeerReady { nominated, rtt } => self.on_peer_ready(nominated, rtt),
            IceEvent::ResolveName { name } => self.events.push_back(Event::ResolveName(name)),
            IceEvent::RelayFailed {
                server,
                transport,
                error,
            } => {
                self.events.push_back(Event::IceCandidateError {
                    server,
                    error_code: error.code().unwrap_or(701),
                    error_text: error.to_string(),
                });
                self.events.push_back(Event::TurnError {
                    server,
                    transport,
                    error,
                });
            }
            IceEvent::RelayReconnecting {
                server,
                transport,
                error,
                attempt,
                after,
            } => self.events.push_back(Event::TurnReconnecting {
                server,
                transport,
                error,
                attempt,
                after,
            }),
            IceEvent::TurnConnect(c) => self.events.push_back(Event::TurnConnect(c)),
            IceEvent::TurnClose(id) => {
                // What is queued for the connection goes first.
                self.pump_turn_streams();
                self.events.push_back(Event::TurnClose(id));
            }
            _ => {}
        }
    }

    fn candidate_event(&self, candidate: String) -> Event {
        let first = self.jsep_first_accepted();
        Event::IceCandidate(super::IceCandidate {
            candidate,
            sdp_mid: first.as_ref().map(|(_, mid)| mid.clone()),
            sdp_mline_index: first.map(|(i, _)| i),
            username_fragment: Some(self.ice.local_credentials().ufrag.clone()),
        })
    }

    /// The first accepted m-line of the local description (index, mid).
    fn jsep_first_accepted(&self) -> Option<(u16, String)> {
        let (index, mid) = self
            .jsep
            .pending_local
            .as_ref()
            .or(self.jsep.current_local.as_ref())?
            .first_accepted()?;
        Some((index, mid.to_owned()))
    }

    fn pump_dtls(&mut self) -> bool {
        let Some(dtls) = self.dtls.as_mut() else {
            return false;
        };
        let mut moved = false;
        let path = self.ice.data_path();
        // Handshake flights wait inside DTLS until ICE has a path (a DTLS server can hear
        // the ClientHello before its own check succeeded); they are bounded by the flight
        // and its retransmissions. Later records without a path are dropped and counted.
        let hold =
            path.is_none() && matches!(dtls.state(), DtlsState::New | DtlsState::Handshaking);
        let mut outgoing = Vec::new();
        while let Some(datagram) = (!hold).then(|| dtls.poll_transmit()).flatten() {
            outgoing.push(datagram);
        }
        let mut incoming = Vec::new();
        let mut connected = None;
        while let Some(e) = dtls.poll_event() {
            moved = true;
            match e {
                DtlsEvent::Connected { srtp_profile } => connected = Some(srtp_profile),
                DtlsEvent::ApplicationData(b) => incoming.push(b),
                DtlsEvent::Failed(reason) => tracing::debug!(?reason, "pc: DTLS failed"),
                DtlsEvent::CloseNotify => {
                    self.peer_close.get_or_insert(super::PeerClose::CloseNotify);
                }
                _ => {}
            }
        }
        moved |= !outgoing.is_empty();
        for datagram in outgoing {
            self.transmit_data(datagram);
        }
        if let Some(profile) = connected {
            self.setup_srtp(profile);
        }
        self.maybe_start_sctp();
        if let Some(dc) = self.sctp.as_mut() {
            for packet in incoming {
                dc.handle_receive(self.now, packet);
            }
        }
        moved
    }

    /// Starts SCTP once DTLS is connected and a data m-line was negotiated (a media-only
    /// session runs no association; one added later starts when negotiated).
    fn maybe_start_sctp(&mut self) {
        let connected = self.dtls.as_ref().map(Dtls::state) == Some(DtlsState::Connected);
        if self.sctp_started || !connected || !self.jsep.has_application() {
            return;
        }
        if let Some(dc) = self.sctp.as_mut() {
            self.sctp_started = true;
            if let Err(e) = dc.connect(self.now) {
                tracing::debug!(%e, "pc: SCTP connect refused");
            }
        }
    }

    fn pump_sctp(&mut self, build: bool) -> bool {
        if self.sctp.is_none() || self.dtls.is_none() {
            return false;
        }
        // Beside media, data channels get their share of the bandwidth estimate.
        let data_rate = self.data_channel_rate();
        let (Some(dc), Some(dtls)) = (self.sctp.as_mut(), self.dtls.as_mut()) else {
            return false;
        };
        let mut moved = false;
        let mut data_bytes = 0;
        if build && dtls.state() == DtlsState::Connected {
            let room = TRANSMIT_BATCH.saturating_sub(self.transmits.len());
            let sctp_rate = dc.association().pacing_rate();
            let rate = match data_rate {
                Some(share) => Some(sctp_rate.map_or(share, |r| r.min(share))),
                None => sctp_rate,
            };
            self.pacer.update(self.now, rate);
            for _ in 0..room {
                // Only DATA waits for the pacer's tokens: acknowledgements and control
                // leave at once (they are small, and the peer's sending waits on them).
                let packet = if self.pacer.may_send() {
                    let Some(packet) = dc.poll_transmit(self.now) else {
                        self.pacer.idle();
                        break;
                    };
                    self.pacer.on_sent(packet.len());
                    data_bytes += packet.len();
                    packet
                } else {
                    let Some(packet) = dc.poll_control(self.now) else {
                        break;
                    };
                    packet
                };
                moved = true;
                if let Err(e) = dtls.send_application_data(&packet) {
                    tracing::debug!(%e, "pc: SCTP packet not sent over DTLS");
                }
            }
        }
        let mut events = Vec::new();
        while let Some(e) = dc.poll_event() {
            events.push(e);
        }
        moved |= !events.is_empty();
        let queued_before = self.channels.queued_message_bytes;
        for e in events {
            self.on_channel_event(e);
        }
        if self.channels.queued_message_bytes != queued_before {
            self.report_unread();
        }
        if data_bytes > 0 {
            self.on_data_sent(data_bytes);
        }
        moved
    }

    fn on_channel_event(&mut self, e: DataChannelEvent) {
        let id_of = |pc: &mut Self, stream: u16| pc.channels.by_stream.get(&stream).copied();
        match e {
            DataChannelEvent::Incoming(stream) => {
                let (label, init) = self
                    .sctp
                    .as_mut()
                    .and_then(|dc| dc.channel(stream).ok())
                    .map(|h| (h.label().to_string(), h.init().clone()))
                    .unwrap_or_default();
                let id = self.channels.insert(Slot {
                    label,
                    init,
                    stream: Some(stream),
                    state: ChannelState::Connecting,
                    low_threshold: 0,
                });
                self.events.push_back(Event::DataChannel(id));
            }
            DataChannelEvent::Open(s) => {
                if let Some(id) = id_of(self, s) {
                    self.set_channel_state(id, ChannelState::Open);
                    self.events.push_back(Event::ChannelOpen(id));
                }
            }
            DataChannelEvent::Message { id, data, binary } => {
                if let Some(id) = id_of(self, id) {
                    self.channels.queued_message_bytes += data.len();
                    self.events
                        .push_back(Event::ChannelMessage { id, data, binary });
                }
            }
            DataChannelEvent::BufferedAmountLow(s) => {
                if let Some(id) = id_of(self, s) {
                    self.events.push_back(Event::ChannelBufferedAmountLow(id));
                }
            }
            DataChannelEvent::Closing(s) => {
                if let Some(id) = id_of(self, s) {
                    self.set_channel_state(id, ChannelState::Closing);
                    self.events.push_back(Event::ChannelClosing(id));
                }
            }
            DataChannelEvent::Closed(s) => {
                if let Some(id) = self.channels.by_stream.remove(&s) {
                    self.set_channel_state(id, ChannelState::Closed);
                    self.events.push_back(Event::ChannelClosed(id));
                }
            }
            DataChannelEvent::Disconnected(reason) => self.on_sctp_ended(&reason),
            _ => {}
        }
    }

    fn set_channel_state(&mut self, id: super::ChannelId, state: ChannelState) {
        if let Some(slot) = self.channels.slots.get_mut(&id) {
            slot.state = state;
        }
    }

    fn derive_state(&self) -> PeerConnectionState {
        use IceConnectionState as I;
        if self.closed {
            return PeerConnectionState::Closed;
        }
        let dtls = self.dtls.as_ref().map(Dtls::state);
        if self.ice_state == I::Failed || dtls == Some(DtlsState::Failed) {
            return PeerConnectionState::Failed;
        }
        if self.ice_state == I::Disconnected {
            return PeerConnectionState::Disconnected;
        }
        let ice_new = matches!(self.ice_state, I::New | I::Closed);
        let dtls_new = matches!(dtls, None | Some(DtlsState::New | DtlsState::Closed));
        if ice_new && dtls_new {
            return PeerConnectionState::New;
        }
        let ice_up = matches!(self.ice_state, I::Connected | I::Completed | I::Closed);
        let dtls_up = matches!(dtls, Some(DtlsState::Connected | DtlsState::Closed));
        if ice_up && dtls_up {
            PeerConnectionState::Connected
        } else {
            PeerConnectionState::Connecting
        }
    }

    fn update_connection_state(&mut self) {
        let s = self.derive_state();
        if s != self.state {
            self.state = s;
            self.events.push_back(Event::ConnectionStateChange(s));
            self.release_pending = true;
        }
    }

    /// `close()`: aborts the SCTP association (every channel closes), sends DTLS
    /// close_notify, stops ICE; the state becomes closed. Idempotent. What this sends
    /// comes out of [`poll_output`](Self::poll_output).
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        let now = self.now;
        if let Some(dc) = self.sctp.as_mut() {
            dc.association_mut().abort(now);
        }
        self.pump();
        if let Some(d) = self.dtls.as_mut() {
            d.close();
        }
        self.pump();
        for (id, slot) in self.channels.slots.iter_mut() {
            if slot.state != ChannelState::Closed {
                slot.state = ChannelState::Closed;
                self.events.push_back(Event::ChannelClosed(*id));
            }
        }
        self.ice.close(now);
        self.closed = true;
        self.jsep.state = super::SignalingState::Closed;
        self.events
            .push_back(Event::SignalingStateChange(super::SignalingState::Closed));
        self.pump_ice_events_after_close();
        self.sctp = None;
        self.dtls = None;
        self.media.srtp = None;
        self.early_dtls.clear();
        self.mdns.clear();
        self.update_connection_state();
    }

    fn pump_ice_events_after_close(&mut self) {
        while let Some(e) = self.ice.poll_event() {
            match e {
                IceEvent::ConnectionStateChange(s) => {
                    self.ice_state = s;
                    self.events.push_back(Event::IceConnectionStateChange(s));
                }
                IceEvent::TurnClose(id) => {
                    // The deallocation goes out before the connection closes.
                    self.pump_turn_streams();
                    self.events.push_back(Event::TurnClose(id));
                }
                _ => {}
            }
        }
    }
}
