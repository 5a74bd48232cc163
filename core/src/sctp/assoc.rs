//! The association: state, public API and the dispatch of received chunks.
//!
//! Handshake and teardown live in `handshake.rs`, packet building in `output.rs`, stream
//! reset in `reconfig.rs`; this file holds the shared state, the API and DATA / SACK /
//! FORWARD TSN / HEARTBEAT handling.

use super::chunk::{CauseCode, Chunk, ChunkType, DataChunk, ErrorCause, SackChunk};
use super::congestion::{Congestion, Rto};
use super::inflight::InFlight;
use super::packet::{PacketError, PacketView, RawChunk};
use super::reassembly::Reassembly;
use super::receive::{TsnClass, TsnTracker};
use super::reconfig::StreamReset;
use super::send::{OutMessage, Policy, SendOptions, SendQueue};
use super::timer::{Timer, Timers};
use super::{CloseReason, SctpConfig, SctpError, SctpEvent, SctpStats};
use crate::rng::Rng;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Instant;

/// Association states (RFC 9260 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssociationState {
    /// No association (initial, or ended).
    Closed,
    /// INIT sent.
    CookieWait,
    /// COOKIE ECHO sent.
    CookieEchoed,
    /// Data flows.
    Established,
    /// Shutdown asked for; sending what is queued.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received; sending what is queued.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
}

/// A control chunk waiting to be sent, with the verification tag its packet needs.
#[derive(Debug, Clone)]
pub(super) struct Control {
    pub vtag: u32,
    pub chunk: Chunk,
    /// Must travel alone (INIT ACK, SHUTDOWN COMPLETE, reflected ABORT).
    pub alone: bool,
}

/// Receiver-side acknowledgement state.
#[derive(Debug, Clone, Default)]
pub(super) struct AckState {
    pub packets_unacked: u32,
    pub sack_now: bool,
}

/// An SCTP association, sans-IO.
///
/// Getters: [`state`](Self::state), [`stats`](Self::stats),
/// [`buffered_amount`](Self::buffered_amount). Inputs, each with `now`:
/// [`handle_receive`](Self::handle_receive), [`handle_timeout`](Self::handle_timeout).
/// Commands: [`connect`](Self::connect), [`send`](Self::send),
/// [`reset_streams`](Self::reset_streams), [`shutdown`](Self::shutdown),
/// [`abort`](Self::abort). Outputs, drained after every input or command:
/// [`poll_transmit`](Self::poll_transmit) until `None`, [`poll_event`](Self::poll_event)
/// until `None`, then [`poll_timeout`](Self::poll_timeout) says when to call
/// `handle_timeout` next.
#[derive(Debug, Clone)]
pub struct Association {
    pub(super) config: SctpConfig,
    pub(super) rng: Rng,
    pub(super) state: AssociationState,
    pub(super) local_tag: u32,
    pub(super) peer_tag: u32,
    pub(super) local_initial_tsn: u32,
    pub(super) cookie_key: [u8; 32],
    pub(super) epoch: Option<Instant>,
    pub(super) peer_forward_tsn: bool,
    pub(super) tx_zero_checksum: bool,
    pub(super) outbound_streams: u16,
    pub(super) inbound_streams: u16,
    pub(super) init_retransmits: u32,
    pub(super) cookie_echo: Option<Bytes>,
    pub(super) send: SendQueue,
    pub(super) inflight: InFlight,
    pub(super) cc: Congestion,
    pub(super) rto: Rto,
    pub(super) tsns: TsnTracker,
    pub(super) reasm: Reassembly,
    pub(super) ack: AckState,
    pub(super) reset: StreamReset,
    pub(super) timers: Timers,
    pub(super) events: VecDeque<SctpEvent>,
    pub(super) control: VecDeque<Control>,
    pub(super) burst_budget: usize,
    /// SACKs arrived since `poll_transmit` last ran dry: their budgets add up (see
    /// `on_sack`).
    pub(super) burst_pending: bool,
    /// The congestion window was full when `poll_transmit` last ran dry: the SACKs that
    /// arrive before the next send opportunity acknowledge a fully used window.
    pub(super) window_was_full: bool,
    pub(super) fast_rtx_pending: bool,
    pub(super) error_count: u32,
    pub(super) heartbeat_nonce: Option<u64>,
    pub(super) last_send: Option<Instant>,
    pub(super) stats: SctpStats,
    /// The association ended (Closed was reported); it is not reused.
    pub(super) finished: bool,
    /// Bytes of messages in `events` not yet polled.
    pub(super) unread: usize,
    /// Bytes of messages the application holds elsewhere, unread.
    pub(super) external_unread: usize,
    /// The window in our last SACK.
    pub(super) last_rwnd: usize,
}

impl Association {
    /// A new association in state `Closed`. It answers an incoming INIT (passive open) or
    /// starts one with [`connect`](Self::connect). All tags, TSNs and the cookie key come
    /// from `rng`.
    pub fn new(config: SctpConfig, mut rng: Rng) -> Self {
        let local_tag = loop {
            let t = rng.u32();
            if t != 0 {
                break t;
            }
        };
        let local_initial_tsn = rng.u32();
        let cookie_key = rng.array();
        let mtu = config.max_packet_size;
        Self {
            rto: Rto::new(config.rto_initial, config.rto_min, config.rto_max),
            cc: Congestion::new(mtu, config.receive_window as usize),
            inflight: InFlight::new(local_initial_tsn, 0),
            tsns: TsnTracker::new(0),
            reasm: Reassembly::new(config.max_message_size),
            reset: StreamReset::new(local_initial_tsn),
            outbound_streams: config.max_streams,
            inbound_streams: config.max_streams,
            config,
            rng,
            state: AssociationState::Closed,
            local_tag,
            peer_tag: 0,
            local_initial_tsn,
            cookie_key,
            epoch: None,
            peer_forward_tsn: false,
            tx_zero_checksum: false,
            init_retransmits: 0,
            cookie_echo: None,
            send: SendQueue::default(),
            ack: AckState::default(),
            timers: Timers::default(),
            events: VecDeque::new(),
            control: VecDeque::new(),
            burst_budget: 0,
            burst_pending: false,
            window_was_full: false,
            fast_rtx_pending: false,
            error_count: 0,
            heartbeat_nonce: None,
            last_send: None,
            stats: SctpStats::default(),
            finished: false,
            unread: 0,
            external_unread: 0,
            last_rwnd: usize::MAX,
        }
    }

    /// The association state.
    pub fn state(&self) -> AssociationState {
        self.state
    }

    /// Our verification tag (what the peer puts in its packets).
    pub fn verification_tag(&self) -> u32 {
        self.local_tag
    }

    /// (Feature `fuzzing`.) The cumulative TSN received and the next TSN this side will
    /// send, so that a fuzz target can place DATA, FORWARD TSN and SACK chunks inside the
    /// windows of an association it does not own the peer of.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn fuzzing_tsns(&self) -> (u32, u32) {
        (self.tsns.cum() as u32, self.inflight.next_tsn() as u32)
    }

    /// Counters.
    pub fn stats(&self) -> &SctpStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &SctpConfig {
        &self.config
    }

    /// Number of outgoing streams negotiated (before establishment: our configured count).
    pub fn outbound_streams(&self) -> u16 {
        self.outbound_streams
    }

    /// Bytes queued on `stream` and not yet handed to the wire.
    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.send.stream(stream).map_or(0, |s| s.buffered)
    }

    /// Total bytes queued and not yet sent, over all streams.
    pub fn total_buffered(&self) -> usize {
        self.send.total_buffered()
    }

    /// Bytes sent and not yet acknowledged.
    pub fn bytes_in_flight(&self) -> usize {
        self.inflight.flight_bytes
    }

    /// The rate at which a pacer should let this association's packets leave, in bytes
    /// per second: the congestion window per smoothed RTT, times two while the window
    /// grows as in slow start (it doubles per round trip) and times 1.25 after, plus the
    /// packets' header overhead. `None` before the first RTT sample.
    pub fn pacing_rate(&self) -> Option<u64> {
        let srtt = self.rto.srtt()?;
        let growing = self.cc.cwnd <= self.cc.ssthresh || !self.rto.queue_building();
        let gain_percent: u128 = if growing { 210 } else { 130 };
        let nanos = srtt.as_nanos().max(1_000);
        let rate = self.cc.cwnd as u128 * gain_percent * 10_000_000 / nanos;
        Some(u64::try_from(rate).unwrap_or(u64::MAX))
    }

    /// Sets the threshold below which [`SctpEvent::BufferedAmountLow`] fires for `stream`.
    pub fn set_buffered_amount_low_threshold(&mut self, stream: u16, threshold: usize) {
        self.send.stream_mut(stream).low_threshold = threshold;
    }

    /// Whether the peer supports PR-SCTP (FORWARD TSN).
    pub fn peer_supports_partial_reliability(&self) -> bool {
        self.peer_forward_tsn
    }

    /// Queues a message on `stream`. Allowed once `connect` was called or an INIT arrived
    /// (data waits for establishment) and until shutdown starts.
    pub fn send(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        payload: Bytes,
        opts: SendOptions,
    ) -> Result<(), SctpError> {
        use AssociationState::*;
        if !matches!(self.state, CookieWait | CookieEchoed | Established) {
            return Err(SctpError::WrongState(self.state));
        }
        if stream >= self.outbound_streams {
            return Err(SctpError::InvalidStream(stream));
        }
        if payload.is_empty() {
            return Err(SctpError::EmptyMessage);
        }
        if self.send.stream(stream).is_some_and(|s| s.resetting) {
            return Err(SctpError::StreamResetting(stream));
        }
        let queued = self.send.total_buffered();
        if queued + payload.len() > self.config.send_buffer {
            return Err(SctpError::SendBufferFull(queued));
        }
        self.send.push(OutMessage {
            stream,
            ppid,
            unordered: opts.unordered,
            payload,
            offset: 0,
            ssn: 0,
            policy: Policy {
                max_retransmits: opts.max_retransmits,
                expires: opts.lifetime.map(|l| now + l),
            },
        });
        Ok(())
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SctpEvent> {
        let ev = self.events.pop_front()?;
        if let SctpEvent::Message { payload, .. } = &ev {
            self.unread -= payload.len();
            self.maybe_window_update();
        }
        Some(ev)
    }

    /// After the application consumed data: once the window we would advertise is larger
    /// than the one in our last SACK by [`window_update_step`](Self::window_update_step),
    /// tell the peer at once (a window-update SACK). A peer that saw a small or zero window
    /// may be waiting for exactly this: not every stack probes a zero window.
    fn maybe_window_update(&mut self) {
        if !self.is_data_state() {
            return;
        }
        let window = self.config.receive_window as usize;
        let open = window.saturating_sub(self.receive_backlog());
        if open >= self.last_rwnd.saturating_add(self.window_update_step()) {
            self.ack.sack_now = true;
        }
    }

    /// Growth of the open window that is worth a SACK of its own: an eighth of the
    /// receive window, at least two packets. Any read of that much after a small window
    /// reaches the peer, and on a busy association (SACKs every second packet keep
    /// `last_rwnd` current) it costs at most one extra SACK per eighth of a window read.
    pub(super) fn window_update_step(&self) -> usize {
        (self.config.receive_window as usize / 8).max(2 * self.config.max_packet_size)
    }

    /// Tells the association how many bytes of delivered messages the application still
    /// holds unread in its own queues. They count against the receive window, so a peer
    /// cannot make us buffer without bound when the application falls behind.
    pub fn set_external_unread(&mut self, bytes: usize) {
        self.external_unread = bytes;
        self.maybe_window_update();
    }

    /// Bytes received and not yet consumed: reassembly, unpolled messages, and what the
    /// application reported with [`set_external_unread`](Self::set_external_unread).
    fn receive_backlog(&self) -> usize {
        self.reasm.buffered() + self.unread + self.external_unread
    }

    /// Accounts messages just pushed to the event queue from index `from`.
    fn count_delivered(&mut self, from: usize) {
        let mut bytes = 0;
        for ev in self.events.range(from..) {
            if let SctpEvent::Message { payload, .. } = ev {
                bytes += payload.len();
            }
        }
        self.unread += bytes;
        self.stats.messages_delivered += (self.events.len() - from) as u64;
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    pub(super) fn elapsed_ms(&mut self, now: Instant) -> u64 {
        let epoch = *self.epoch.get_or_insert(now);
        now.saturating_duration_since(epoch).as_millis() as u64
    }

    /// Feeds one received SCTP packet. Never fails: bad input is dropped and counted.
    pub fn handle_receive(&mut self, now: Instant, packet: impl Into<Bytes>) {
        self.epoch.get_or_insert(now);
        let view = match PacketView::new_checked(packet.into(), self.config.zero_checksum) {
            Ok(v) => v,
            Err(PacketError::BadChecksum) => {
                self.stats.dropped_bad_checksum += 1;
                tracing::debug!("sctp: dropped packet with bad checksum");
                return;
            }
            Err(PacketError::Truncated) => {
                self.stats.dropped_malformed += 1;
                return;
            }
        };
        if view.destination_port() != self.config.local_port
            || view.source_port() != self.config.remote_port
        {
            self.stats.dropped_bad_vtag += 1;
            tracing::debug!("sctp: dropped packet for wrong ports");
            return;
        }
        self.stats.packets_received += 1;
        let mut had_data = false;
        let mut first = true;
        let mut chunks = view.chunks().peekable();
        while let Some(raw) = chunks.next() {
            let Ok(raw) = raw else {
                self.stats.dropped_malformed += 1;
                break;
            };
            let only = first && chunks.peek().is_none();
            if !self.tag_ok(&raw, view.verification_tag(), first, only) {
                self.stats.dropped_bad_vtag += 1;
                tracing::debug!(
                    typ = raw.typ,
                    "sctp: dropped chunk with bad verification tag"
                );
                break;
            }
            first = false;
            had_data |= raw.typ == ChunkType::DATA.0;
            if !self.handle_raw_chunk(now, raw) {
                break;
            }
        }
        if had_data {
            self.after_data_packet(now);
        }
    }

    /// Verification tag rules (RFC 9260 section 8.5, 8.5.1).
    fn tag_ok(&self, raw: &RawChunk, vtag: u32, first: bool, only: bool) -> bool {
        let t_bit = raw.flags & 1 == 1;
        match ChunkType(raw.typ) {
            ChunkType::INIT => first && only && vtag == 0,
            ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE if t_bit => {
                vtag == self.peer_tag && vtag != 0
            }
            ChunkType::ABORT => vtag == self.local_tag,
            _ => vtag == self.local_tag,
        }
    }

    /// Handles one chunk; returns `false` when the rest of the packet must be skipped.
    fn handle_raw_chunk(&mut self, now: Instant, raw: RawChunk) -> bool {
        let typ = raw.typ;
        let chunk = match Chunk::parse(raw) {
            Ok(c) => c,
            Err(_) => {
                self.stats.dropped_malformed += 1;
                tracing::debug!(typ, "sctp: malformed chunk");
                return false;
            }
        };
        match chunk {
            Chunk::Data(d) => self.on_data(now, d),
            Chunk::Sack(s) => self.on_sack(now, &s),
            Chunk::ForwardTsn {
                new_cumulative_tsn,
                streams,
            } => self.on_forward_tsn(new_cumulative_tsn, &streams),
            Chunk::Heartbeat(info) => self.queue_control(Chunk::HeartbeatAck(info)),
            Chunk::HeartbeatAck(info) => self.on_heartbeat_ack(now, &info),
            Chunk::Reconfig(params) => self.on_reconfig(now, params),
            Chunk::Error(causes) => {
                tracing::debug!(?causes, "sctp: peer reported errors");
            }
            Chunk::Unknown(raw) => return self.on_unknown(raw),
            other => return self.on_control(now, other),
        }
        true
    }

    /// Unknown chunk: the upper two type bits say what to do (RFC 9260 section 3.2).
    fn on_unknown(&mut self, raw: RawChunk) -> bool {
        self.stats.unknown_chunks += 1;
        tracing::debug!(typ = raw.typ, "sctp: unknown chunk type");
        if raw.typ & 0x40 != 0 && self.control.len() < 16 {
            let mut info = vec![raw.typ, raw.flags];
            let len = u16::try_from(4 + raw.value.len().min(256)).unwrap_or(u16::MAX);
            info.extend_from_slice(&len.to_be_bytes());
            info.extend_from_slice(&raw.value[..raw.value.len().min(256)]);
            self.queue_control(Chunk::Error(vec![ErrorCause {
                code: CauseCode::UNRECOGNIZED_CHUNK,
                info: Bytes::from(info),
            }]));
        }
        raw.typ & 0x80 != 0
    }

    pub(super) fn queue_control(&mut self, chunk: Chunk) {
        if self.control.len() >= 64 {
            return;
        }
        self.control.push_back(Control {
            vtag: self.peer_tag,
            chunk,
            alone: false,
        });
    }

    pub(super) fn is_data_state(&self) -> bool {
        use AssociationState::*;
        matches!(
            self.state,
            Established | ShutdownPending | ShutdownSent | ShutdownReceived
        )
    }

    fn on_data(&mut self, now: Instant, d: DataChunk) {
        if !self.is_data_state() {
            self.stats.unexpected_chunks += 1;
            return;
        }
        let t = match self.tsns.classify(d.tsn) {
            TsnClass::New(t) => t,
            TsnClass::Duplicate => {
                self.stats.duplicate_data_received += 1;
                self.tsns.note_duplicate(d.tsn);
                self.ack.sack_now = true;
                return;
            }
            TsnClass::Refused => {
                self.stats.data_dropped += 1;
                return;
            }
        };
        let next_in_order = t == self.tsns.cum() + 1;
        let window = self.config.receive_window as usize;
        let full = self.receive_backlog() + d.payload.len() > window;
        // The next chunk in order is taken even when full (it may complete what fills the
        // buffer), unless the application itself is what is behind.
        let app_behind = self.unread + self.external_unread >= window / 2;
        if (full && (!next_in_order || app_behind)) || !self.reasm.ssn_acceptable(&d) {
            self.stats.data_dropped += 1;
            self.ack.sack_now = true;
            return;
        }
        if d.immediate {
            self.ack.sack_now = true;
        }
        self.tsns.record(t);
        self.stats.data_chunks_received += 1;
        if d.stream >= self.inbound_streams {
            self.stats.data_dropped += 1;
            let mut info = d.stream.to_be_bytes().to_vec();
            info.extend_from_slice(&[0, 0]);
            self.queue_control(Chunk::Error(vec![ErrorCause {
                code: CauseCode::INVALID_STREAM,
                info: Bytes::from(info),
            }]));
            return;
        }
        let before = self.events.len();
        if self.reasm.insert(t, d, &mut self.events).is_err() {
            self.fail(
                now,
                CloseReason::ProtocolViolation("message above max-message-size"),
            );
            return;
        }
        self.count_delivered(before);
        self.check_deferred_reset(now);
    }

    fn after_data_packet(&mut self, now: Instant) {
        self.ack.packets_unacked += 1;
        if self.ack.packets_unacked >= 2 || self.tsns.has_gaps() || self.tsns.has_dups() {
            self.ack.sack_now = true;
        }
        if !self.ack.sack_now && !self.timers.is_set(Timer::DelayedAck) {
            self.timers
                .set(Timer::DelayedAck, now + self.config.delayed_ack);
        }
    }

    /// The SACK to send now (clears the acknowledgement state).
    pub(super) fn build_sack(&mut self, max_entries: usize) -> SackChunk {
        self.ack = AckState::default();
        self.timers.stop(Timer::DelayedAck);
        self.stats.sacks_sent += 1;
        let rwnd = (self.config.receive_window as usize).saturating_sub(self.receive_backlog());
        self.last_rwnd = rwnd;
        self.tsns.sack(rwnd as u32, max_entries)
    }

    fn on_sack(&mut self, now: Instant, sack: &SackChunk) {
        if !self.is_data_state() {
            self.stats.unexpected_chunks += 1;
            return;
        }
        self.stats.sacks_received += 1;
        // Whether cwnd was fully used (RFC 9260 section 7.2.1) is judged at the last send
        // opportunity, not after earlier SACKs of the same batch shrank the flight: each
        // SACK of a batch acknowledges data sent while the window was full.
        let window_full = self.window_was_full
            || self.inflight.flight_bytes + self.config.max_packet_size >= self.cc.cwnd;
        let out = self.inflight.on_sack(now, sack, &mut self.stats);
        if let Some(rtt) = out.rtt {
            self.rto.sample(rtt);
        }
        // Progress, or a peer answering our zero window probes, is not a path failure
        // (RFC 9260 section 6.1). A window too small for a packet counts as zero: a
        // receiver may advertise a few hundred bytes while it drops every probe.
        if out.cum_advanced || (sack.a_rwnd as usize) < self.config.max_packet_size {
            self.error_count = 0;
        }
        self.cc.on_ack(now, out.acked_bytes, window_full, &self.rto);
        if out.new_loss && self.inflight.recovery_until.is_none() {
            self.cc.on_fast_loss(now, &self.rto);
            self.inflight.recovery_until = Some(self.inflight.next_tsn() - 1);
            self.fast_rtx_pending = true;
        }
        // Burst limit (RFC 9260 section 6.1 D): what this SACK freed plus Max.Burst packets.
        // SACKs handled before the next send opportunity (a caller feeding a batch of
        // datagrams before draining) add their freed bytes to one budget, so a batch of
        // SACKs opens as much as the same SACKs one by one; Max.Burst is added once.
        let base = if self.burst_pending {
            self.burst_budget
        } else {
            self.config.max_burst * self.config.max_packet_size
        };
        self.burst_budget = base + out.acked_bytes;
        self.burst_pending = true;
        for a in &out.abandoned {
            if a.truncated {
                self.abandon_queued_rest(a.stream);
            }
        }
        self.update_t3(now, out.cum_advanced);
        self.after_progress(now);
    }

    /// The rest of a partly sent, now abandoned message is dropped from the send queue.
    pub(super) fn abandon_queued_rest(&mut self, stream: u16) {
        let mut low = Vec::new();
        self.send.abandon_started_head(stream, &mut low);
        self.push_low_events(low);
    }

    pub(super) fn push_low_events(&mut self, low: Vec<u16>) {
        self.events
            .extend(low.into_iter().map(SctpEvent::BufferedAmountLow));
    }

    pub(super) fn update_t3(&mut self, now: Instant, progress: bool) {
        let outstanding = self.inflight.flight_bytes > 0 || self.inflight.has_retransmissions();
        if !outstanding && self.inflight.is_empty() {
            self.timers.stop(Timer::T3);
        } else if progress || !self.timers.is_set(Timer::T3) {
            self.timers.set(Timer::T3, now + self.rto.rto());
        }
    }

    /// After acknowledgements: shutdown and stream reset may proceed.
    pub(super) fn after_progress(&mut self, now: Instant) {
        self.maybe_send_reset_request(now);
        self.maybe_continue_shutdown(now);
    }

    fn on_forward_tsn(&mut self, new_cum: u32, streams: &[(u16, u16)]) {
        if !self.is_data_state() {
            self.stats.unexpected_chunks += 1;
            return;
        }
        let t = self.tsns.unwrap(new_cum);
        self.ack.sack_now = true;
        if self.tsns.forward(t) {
            let before = self.events.len();
            let limit = self.inbound_streams;
            let streams: Vec<(u16, u16)> = streams
                .iter()
                .copied()
                .filter(|(sid, _)| *sid < limit)
                .collect();
            self.reasm.forward(t, &streams, &mut self.events);
            self.count_delivered(before);
        }
    }

    fn on_heartbeat_ack(&mut self, now: Instant, info: &[u8]) {
        let Some(nonce) = self.heartbeat_nonce else {
            return;
        };
        if info.len() != 16 || info[..8] != nonce.to_be_bytes() {
            return;
        }
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&info[8..]);
        let sent_ms = u64::from_be_bytes(ms);
        let rtt = self.elapsed_ms(now).saturating_sub(sent_ms);
        self.rto.sample(std::time::Duration::from_millis(rtt));
        self.heartbeat_nonce = None;
        self.error_count = 0;
    }

    /// Ends the association for `reason`, telling the peer with an ABORT.
    pub(super) fn fail(&mut self, now: Instant, reason: CloseReason) {
        let cause = match reason {
            CloseReason::ProtocolViolation(why) => Some(ErrorCause {
                code: CauseCode::PROTOCOL_VIOLATION,
                info: Bytes::from_static(why.as_bytes()),
            }),
            _ => None,
        };
        self.send_abort(now, cause.into_iter().collect());
        self.close(reason);
    }

    /// Moves to `Closed` and reports why.
    pub(super) fn close(&mut self, reason: CloseReason) {
        if self.finished {
            return;
        }
        self.finished = true;
        tracing::debug!(?reason, "sctp: association closed");
        self.state = AssociationState::Closed;
        self.timers.clear();
        self.events.push_back(SctpEvent::Closed(reason));
    }

    /// Handles expired timers. Calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers.take_expired(Timer::T1, now) {
            self.on_t1(now);
        }
        if self.timers.take_expired(Timer::T2, now) {
            self.on_t2(now);
        }
        if self.timers.take_expired(Timer::T3, now) {
            self.on_t3(now);
        }
        if self.timers.take_expired(Timer::DelayedAck, now) {
            self.ack.sack_now = true;
        }
        if self.timers.take_expired(Timer::Heartbeat, now) {
            self.on_heartbeat_timer(now);
        }
        if self.timers.take_expired(Timer::Reconfig, now) {
            self.on_reconfig_timer(now);
        }
    }

    fn on_t3(&mut self, now: Instant) {
        if self.inflight.is_empty() {
            return;
        }
        self.stats.t3_timeouts += 1;
        self.error_count += 1;
        if self.error_count > self.config.max_retransmits {
            self.fail(now, CloseReason::Timeout);
            return;
        }
        self.rto.back_off();
        self.cc.on_timeout(now);
        let n = self.inflight.on_timeout();
        self.stats.timeout_retransmits += n as u64;
        let abandoned = self.inflight.abandon_expired(now, &mut self.stats);
        for a in abandoned {
            if a.truncated {
                self.abandon_queued_rest(a.stream);
            }
        }
        self.inflight.recovery_until = None;
        self.inflight.fwd_sent = self.inflight.cum_ack();
        self.burst_budget = self.config.max_burst * self.config.max_packet_size;
        self.timers.set(Timer::T3, now + self.rto.rto());
    }

    fn on_heartbeat_timer(&mut self, now: Instant) {
        if self.state != AssociationState::Established {
            return;
        }
        if self.heartbeat_nonce.is_some() {
            self.error_count += 1;
            if self.error_count > self.config.max_retransmits {
                self.fail(now, CloseReason::Timeout);
                return;
            }
        }
        let idle = self
            .last_send
            .is_none_or(|t| now >= t + self.config.heartbeat_interval);
        if idle || self.heartbeat_nonce.is_some() {
            let nonce = self.rng.u64();
            let mut info = nonce.to_be_bytes().to_vec();
            info.extend_from_slice(&self.elapsed_ms(now).to_be_bytes());
            self.heartbeat_nonce = Some(nonce);
            self.queue_control(Chunk::Heartbeat(Bytes::from(info)));
        }
        self.timers.set(
            Timer::Heartbeat,
            now + self.config.heartbeat_interval + self.rto.rto(),
        );
    }
}
