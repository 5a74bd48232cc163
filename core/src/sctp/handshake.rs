//! Association setup and teardown (RFC 9260 sections 5, 9): INIT / INIT ACK / COOKIE ECHO /
//! COOKIE ACK with simultaneous open (5.2), ABORT, the SHUTDOWN sequence, T1 and T2 timers.

use super::assoc::{Association, AssociationState, Control};
use super::chunk::{Chunk, ChunkType, ErrorCause, InitChunk, InitParams};
use super::congestion::Congestion;
use super::cookie::Cookie;
use super::inflight::InFlight;
use super::receive::TsnTracker;
use super::timer::Timer;
use super::{CloseReason, SctpError, SctpEvent};
use bytes::Bytes;
use std::time::Instant;

/// Error detection method of RFC 9653 for SCTP over DTLS.
const ZERO_CHECKSUM_DTLS: u32 = 1;
const COOKIE_FLAG_FORWARD_TSN: u8 = 1;
const COOKIE_FLAG_ZERO_CHECKSUM: u8 = 2;

impl Association {
    /// Starts the handshake (active open): sends INIT. Both peers may call it at once.
    pub fn connect(&mut self, now: Instant) -> Result<(), SctpError> {
        if self.state != AssociationState::Closed || self.finished {
            return Err(SctpError::WrongState(self.state));
        }
        tracing::debug!(local_tag = self.local_tag, "sctp: sending INIT");
        self.epoch.get_or_insert(now);
        self.state = AssociationState::CookieWait;
        self.init_retransmits = 0;
        self.queue_init();
        self.timers.set(Timer::T1, now + self.rto.rto());
        Ok(())
    }

    fn our_init(&self) -> InitChunk {
        InitChunk {
            initiate_tag: self.local_tag,
            a_rwnd: self.config.receive_window,
            outbound_streams: self.config.max_streams,
            inbound_streams: self.config.max_streams,
            initial_tsn: self.local_initial_tsn,
            params: InitParams {
                cookie: None,
                forward_tsn: true,
                extensions: vec![ChunkType::FORWARD_TSN.0, ChunkType::RECONFIG.0],
                zero_checksum: self.config.zero_checksum.then_some(ZERO_CHECKSUM_DTLS),
                unknown: Vec::new(),
            },
        }
    }

    fn queue_init(&mut self) {
        self.control.push_back(Control {
            vtag: 0,
            chunk: Chunk::Init(self.our_init()),
            alone: true,
        });
    }

    /// Handles chunks other than DATA, SACK, FORWARD TSN, HEARTBEAT(-ACK), RE-CONFIG.
    /// Returns `false` when the rest of the packet must be skipped.
    pub(super) fn on_control(&mut self, now: Instant, chunk: Chunk) -> bool {
        match chunk {
            Chunk::Init(init) => self.on_init(now, &init),
            Chunk::InitAck(ack) => self.on_init_ack(now, ack),
            Chunk::CookieEcho(cookie) => self.on_cookie_echo(now, &cookie),
            Chunk::CookieAck => self.on_cookie_ack(now),
            Chunk::Abort { causes, .. } => {
                tracing::debug!(?causes, "sctp: peer aborted");
                self.close(CloseReason::AbortedByPeer);
                return false;
            }
            Chunk::Shutdown(cum) => self.on_shutdown(now, cum),
            Chunk::ShutdownAck => self.on_shutdown_ack(),
            Chunk::ShutdownComplete { .. } => {
                if self.state == AssociationState::ShutdownAckSent {
                    self.close(CloseReason::Shutdown);
                }
            }
            _ => self.stats.unexpected_chunks += 1,
        }
        true
    }

    fn on_init(&mut self, now: Instant, init: &InitChunk) {
        use AssociationState::*;
        if matches!(self.state, ShutdownAckSent) || self.finished {
            self.stats.unexpected_chunks += 1;
            return;
        }
        // In every state we answer with our one tag (RFC 9260 5.2.1 for the collision case;
        // restart after establishment is not supported, so such a cookie will not match a
        // new association and is ignored).
        let ours = InitChunk {
            params: InitParams {
                cookie: None,
                ..self.our_init().params
            },
            ..self.our_init()
        };
        tracing::debug!(state = ?self.state, peer_tag = init.initiate_tag, "sctp: INIT received; answering with INIT ACK");
        let mut flags = 0;
        if init.params.forward_tsn || init.params.extensions.contains(&ChunkType::FORWARD_TSN.0) {
            flags |= COOKIE_FLAG_FORWARD_TSN;
        }
        if init.params.zero_checksum == Some(ZERO_CHECKSUM_DTLS) {
            flags |= COOKIE_FLAG_ZERO_CHECKSUM;
        }
        let created = self.elapsed_ms(now);
        let cookie = Cookie::new(init, &ours, flags, created).seal(&self.cookie_key);
        let mut ack = ours;
        ack.params.cookie = Some(Bytes::from(cookie));
        if self.control.len() < 64 {
            self.control.push_back(Control {
                vtag: init.initiate_tag,
                chunk: Chunk::InitAck(ack),
                alone: true,
            });
        }
    }

    fn on_init_ack(&mut self, now: Instant, ack: InitChunk) {
        if self.state != AssociationState::CookieWait {
            self.stats.unexpected_chunks += 1;
            return;
        }
        let Some(cookie) = ack.params.cookie.clone() else {
            self.stats.dropped_malformed += 1;
            return;
        };
        tracing::debug!(
            peer_tag = ack.initiate_tag,
            "sctp: INIT ACK received; echoing the cookie"
        );
        self.peer_tag = ack.initiate_tag;
        self.learn_peer(&ack);
        self.cookie_echo = Some(cookie);
        self.state = AssociationState::CookieEchoed;
        self.init_retransmits = 0;
        self.queue_control(Chunk::CookieEcho(
            self.cookie_echo.clone().expect("just set"),
        ));
        self.timers.set(Timer::T1, now + self.rto.rto());
    }

    /// Negotiated values from the peer's INIT or INIT ACK.
    fn learn_peer(&mut self, peer: &InitChunk) {
        self.peer_forward_tsn =
            peer.params.forward_tsn || peer.params.extensions.contains(&ChunkType::FORWARD_TSN.0);
        self.tx_zero_checksum =
            self.config.zero_checksum && peer.params.zero_checksum == Some(ZERO_CHECKSUM_DTLS);
        self.outbound_streams = self.config.max_streams.min(peer.inbound_streams);
        self.inbound_streams = self.config.max_streams.min(peer.outbound_streams);
        self.tsns = TsnTracker::new(peer.initial_tsn);
        self.reset.set_peer_initial(peer.initial_tsn);
        self.inflight = InFlight::new(self.local_initial_tsn, peer.a_rwnd as usize);
        self.cc = Congestion::new(self.config.max_packet_size, peer.a_rwnd as usize);
    }

    fn on_cookie_echo(&mut self, now: Instant, bytes: &[u8]) {
        use AssociationState::*;
        let Some(cookie) = Cookie::open(bytes, &self.cookie_key) else {
            self.stats.bad_cookies += 1;
            tracing::debug!("sctp: refused cookie with bad MAC");
            return;
        };
        let age_ms = self.elapsed_ms(now).saturating_sub(cookie.created_ms);
        if cookie.local_tag != self.local_tag
            || age_ms > self.config.cookie_lifetime.as_millis() as u64
        {
            self.stats.bad_cookies += 1;
            return;
        }
        match self.state {
            Closed | CookieWait | CookieEchoed if !self.finished => {
                let fresh =
                    self.peer_tag != cookie.peer_tag || matches!(self.state, Closed | CookieWait);
                tracing::debug!(state = ?self.state, fresh, peer_tag = cookie.peer_tag, "sctp: COOKIE ECHO accepted");
                self.peer_tag = cookie.peer_tag;
                if fresh {
                    self.learn_peer(&InitChunk {
                        initiate_tag: cookie.peer_tag,
                        a_rwnd: cookie.peer_rwnd,
                        outbound_streams: cookie.inbound_streams,
                        inbound_streams: cookie.outbound_streams,
                        initial_tsn: cookie.peer_initial_tsn,
                        params: InitParams {
                            forward_tsn: cookie.flags & COOKIE_FLAG_FORWARD_TSN != 0,
                            zero_checksum: (cookie.flags & COOKIE_FLAG_ZERO_CHECKSUM != 0)
                                .then_some(ZERO_CHECKSUM_DTLS),
                            ..InitParams::default()
                        },
                    });
                }
                self.queue_control(Chunk::CookieAck);
                self.establish(now);
            }
            // Our COOKIE ACK was lost: send it again.
            Established if cookie.peer_tag == self.peer_tag => self.queue_control(Chunk::CookieAck),
            _ => {
                tracing::debug!(state = ?self.state, peer_tag = cookie.peer_tag, "sctp: COOKIE ECHO ignored");
                self.stats.unexpected_chunks += 1;
            }
        }
    }

    fn on_cookie_ack(&mut self, now: Instant) {
        tracing::debug!(state = ?self.state, "sctp: COOKIE ACK received");
        if self.state == AssociationState::CookieEchoed {
            self.establish(now);
        }
    }

    fn establish(&mut self, now: Instant) {
        tracing::debug!(
            local_tag = self.local_tag,
            peer_tag = self.peer_tag,
            "sctp: association established"
        );
        self.state = AssociationState::Established;
        self.timers.stop(Timer::T1);
        self.cookie_echo = None;
        self.control
            .retain(|c| !matches!(c.chunk, Chunk::Init(_) | Chunk::CookieEcho(_)));
        self.burst_budget = self.config.max_burst * self.config.max_packet_size;
        self.timers
            .set(Timer::Heartbeat, now + self.config.heartbeat_interval);
        self.events.push_back(SctpEvent::Connected);
    }

    pub(super) fn on_t1(&mut self, now: Instant) {
        use AssociationState::*;
        if !matches!(self.state, CookieWait | CookieEchoed) {
            return;
        }
        self.init_retransmits += 1;
        tracing::debug!(state = ?self.state, attempt = self.init_retransmits, "sctp: T1 expired");
        if self.init_retransmits > self.config.max_init_retransmits {
            self.close(CloseReason::Timeout);
            return;
        }
        self.rto.back_off();
        match (self.state, self.cookie_echo.clone()) {
            (CookieEchoed, Some(cookie)) => self.queue_control(Chunk::CookieEcho(cookie)),
            _ => self.queue_init(),
        }
        self.timers.set(Timer::T1, now + self.rto.rto());
    }

    /// Starts a graceful shutdown: queued data is sent first, then SHUTDOWN.
    pub fn shutdown(&mut self, now: Instant) -> Result<(), SctpError> {
        match self.state {
            AssociationState::Established => {
                self.state = AssociationState::ShutdownPending;
                self.maybe_continue_shutdown(now);
                Ok(())
            }
            other => Err(SctpError::WrongState(other)),
        }
    }

    /// Aborts at once: sends ABORT (user-initiated) and closes.
    pub fn abort(&mut self, now: Instant) {
        if self.state == AssociationState::Closed {
            return;
        }
        self.send_abort(
            now,
            vec![ErrorCause {
                code: super::chunk::CauseCode::USER_ABORT,
                info: Bytes::new(),
            }],
        );
        self.close(CloseReason::AbortedLocally);
    }

    pub(super) fn send_abort(&mut self, _now: Instant, causes: Vec<ErrorCause>) {
        self.control.clear();
        if self.peer_tag != 0 {
            self.control.push_back(Control {
                vtag: self.peer_tag,
                chunk: Chunk::Abort {
                    reflected: false,
                    causes,
                },
                alone: true,
            });
        }
    }

    fn all_sent_and_acked(&self) -> bool {
        self.send.is_empty() && self.inflight.is_empty()
    }

    /// Moves the shutdown sequence on once everything is acknowledged.
    pub(super) fn maybe_continue_shutdown(&mut self, now: Instant) {
        if !self.all_sent_and_acked() {
            return;
        }
        match self.state {
            AssociationState::ShutdownPending => {
                self.state = AssociationState::ShutdownSent;
                self.send_shutdown(now);
            }
            AssociationState::ShutdownReceived => {
                self.state = AssociationState::ShutdownAckSent;
                self.queue_control(Chunk::ShutdownAck);
                self.timers.set(Timer::T2, now + self.rto.rto());
            }
            _ => {}
        }
    }

    fn send_shutdown(&mut self, now: Instant) {
        self.queue_control(Chunk::Shutdown(self.tsns.cum() as u32));
        self.timers.set(Timer::T2, now + self.rto.rto());
    }

    fn on_shutdown(&mut self, now: Instant, cum: u32) {
        use AssociationState::*;
        if !matches!(
            self.state,
            Established | ShutdownPending | ShutdownReceived | ShutdownSent
        ) {
            self.stats.unexpected_chunks += 1;
            return;
        }
        // The cumulative TSN in SHUTDOWN acknowledges like a SACK without gaps.
        let sack = super::chunk::SackChunk {
            cumulative_tsn_ack: cum,
            a_rwnd: self.inflight.peer_rwnd as u32 + self.inflight.flight_bytes as u32,
            ..Default::default()
        };
        let _ = self.inflight.on_sack(now, &sack, &mut self.stats);
        if self.state == ShutdownSent {
            // Both sides shut down at once: answer with SHUTDOWN ACK.
            self.state = ShutdownAckSent;
            self.queue_control(Chunk::ShutdownAck);
            self.timers.set(Timer::T2, now + self.rto.rto());
            return;
        }
        self.state = ShutdownReceived;
        self.maybe_continue_shutdown(now);
    }

    fn on_shutdown_ack(&mut self) {
        use AssociationState::*;
        if matches!(self.state, ShutdownSent | ShutdownAckSent) {
            self.control.push_back(Control {
                vtag: self.peer_tag,
                chunk: Chunk::ShutdownComplete { reflected: false },
                alone: true,
            });
            self.close(CloseReason::Shutdown);
        }
    }

    pub(super) fn on_t2(&mut self, now: Instant) {
        use AssociationState::*;
        self.error_count += 1;
        if self.error_count > self.config.max_retransmits {
            self.fail(now, CloseReason::Timeout);
            return;
        }
        self.rto.back_off();
        match self.state {
            ShutdownSent => self.send_shutdown(now),
            ShutdownAckSent => {
                self.queue_control(Chunk::ShutdownAck);
                self.timers.set(Timer::T2, now + self.rto.rto());
            }
            _ => {}
        }
    }
}
