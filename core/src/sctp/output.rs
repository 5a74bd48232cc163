//! Building outgoing packets: control chunks that travel alone, then bundles of control
//! chunks, SACK, FORWARD TSN, retransmissions and new DATA up to the packet size, within
//! the congestion window, the peer's receive window and the burst limit.

use super::assoc::Association;
use super::chunk::Chunk;
use super::chunk::data::{DATA_HEADER_LEN, emit_data};
use super::packet::PacketWriter;
use super::timer::Timer;
use std::time::Instant;

/// Smallest fragment worth starting in a packet that already holds chunks.
const MIN_FRAGMENT: usize = 256;

impl Association {
    /// The next packet to send, if any. Call until `None` after every input.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        let Some(pkt) = self.poll_alone().or_else(|| self.poll_bundle(now, true)) else {
            // The send opportunity is over: the next SACK starts a fresh burst budget, and
            // is judged against the window as this opportunity left it.
            self.burst_pending = false;
            self.window_was_full =
                self.inflight.flight_bytes + self.config.max_packet_size >= self.cc.cwnd;
            return None;
        };
        self.stats.packets_sent += 1;
        self.last_send = Some(now);
        Some(pkt)
    }

    /// The next packet that carries no DATA chunk, if any: chunks that travel alone,
    /// control chunks, a due SACK, FORWARD TSN. For a caller that holds DATA back (a
    /// pacer waiting for tokens): acknowledgements and control must not wait behind it,
    /// or the peer's sending stalls for want of SACKs. Unlike
    /// [`poll_transmit`](Self::poll_transmit), `None` here does not end the send
    /// opportunity: the burst budget of the SACKs received so far is kept for the DATA
    /// that follows once the caller lets it go.
    pub fn poll_control(&mut self, now: Instant) -> Option<Vec<u8>> {
        let pkt = self.poll_alone().or_else(|| self.poll_bundle(now, false))?;
        self.stats.packets_sent += 1;
        Some(pkt)
    }

    fn writer(&self, vtag: u32) -> PacketWriter {
        PacketWriter::new(
            self.config.local_port,
            self.config.remote_port,
            vtag,
            self.config.max_packet_size,
        )
    }

    /// INIT, INIT ACK, ABORT and SHUTDOWN COMPLETE go in packets of their own.
    fn poll_alone(&mut self) -> Option<Vec<u8>> {
        let idx = self.control.iter().position(|c| c.alone)?;
        let c = self.control.remove(idx).expect("found");
        let mut w = self.writer(c.vtag);
        c.chunk.emit(&mut w);
        // INIT and INIT ACK carry the checksum: zero checksum is not negotiated yet.
        let zero = self.tx_zero_checksum && !matches!(c.chunk, Chunk::Init(_) | Chunk::InitAck(_));
        Some(w.finish(zero))
    }

    /// A packet of control chunks, SACK and FORWARD TSN, then (if `data`)
    /// retransmissions and new DATA.
    fn poll_bundle(&mut self, now: Instant, data: bool) -> Option<Vec<u8>> {
        if self.peer_tag == 0 || self.control.is_empty() && !self.is_data_state() {
            return None;
        }
        let mut w = self.writer(self.peer_tag);
        self.bundle_control(&mut w);
        if self.is_data_state() {
            self.maybe_send_reset_request(now);
            self.bundle_control(&mut w);
            if self.ack.sack_now
                || !self.timers.is_set(Timer::DelayedAck) && self.ack.packets_unacked > 0
            {
                self.bundle_sack(&mut w);
            }
            self.bundle_forward_tsn(&mut w);
            if data {
                self.bundle_retransmissions(now, &mut w);
                self.bundle_new_data(now, &mut w);
            }
        }
        if w.is_empty() {
            return None;
        }
        Some(w.finish(self.tx_zero_checksum))
    }

    fn bundle_control(&mut self, w: &mut PacketWriter) {
        while let Some(c) = self.control.front() {
            if c.alone || c.vtag != self.peer_tag {
                break;
            }
            let len = c.chunk.encoded_len();
            if len > w.remaining() && !w.is_empty() {
                break;
            }
            let c = self.control.pop_front().expect("front exists");
            c.chunk.emit(w);
        }
    }

    fn bundle_sack(&mut self, w: &mut PacketWriter) {
        let max_entries = (w.remaining().saturating_sub(16)) / 4;
        let sack = self.build_sack(max_entries.min(256));
        sack.emit(w);
    }

    fn bundle_forward_tsn(&mut self, w: &mut PacketWriter) {
        if !self.peer_forward_tsn {
            return;
        }
        let point = self.inflight.advanced_ack_point();
        if point <= self.inflight.cum_ack() || point <= self.inflight.fwd_sent {
            return;
        }
        let mut streams = self.inflight.forward_streams(point);
        let room = w.remaining().saturating_sub(8) / 4;
        streams.truncate(room);
        Chunk::ForwardTsn {
            new_cumulative_tsn: point as u32,
            streams,
        }
        .emit(w);
        self.inflight.fwd_sent = point;
    }

    fn bundle_retransmissions(&mut self, now: Instant, w: &mut PacketWriter) {
        let mut sent_any = false;
        while let Some(tsn) = self.inflight.peek_retransmit() {
            if self.inflight.should_abandon(tsn, now) {
                if let Some(a) = self.inflight.abandon_message(tsn) {
                    self.stats.messages_abandoned += 1;
                    if a.truncated {
                        self.abandon_queued_rest(a.stream);
                    }
                }
                continue;
            }
            let len = self.inflight.get(tsn).map_or(0, |s| s.payload.len());
            let enc = (DATA_HEADER_LEN + len + 3) & !3;
            if (sent_any || !w.is_empty()) && enc > w.remaining() {
                break;
            }
            let cwnd_ok = self.inflight.flight_bytes + len <= self.cc.cwnd;
            let first_after_timeout = self.inflight.flight_bytes == 0 && !sent_any;
            if !cwnd_ok && !self.fast_rtx_pending && !first_after_timeout {
                break;
            }
            let s = self.inflight.mark_retransmitted(now, tsn);
            emit_data(w, s.flags, tsn as u32, s.stream, s.ssn, s.ppid, &s.payload);
            sent_any = true;
        }
        if sent_any {
            self.fast_rtx_pending = false;
            if !self.timers.is_set(Timer::T3) {
                self.timers.set(Timer::T3, now + self.rto.rto());
            }
        }
    }

    fn may_send_new_data(&self) -> bool {
        use super::AssociationState::*;
        matches!(self.state, Established | ShutdownPending | ShutdownReceived)
            && !self.inflight.has_retransmissions()
            && self.inflight.flight_bytes < self.cc.cwnd
            && (self.burst_budget > 0 || self.inflight.flight_bytes == 0)
    }

    /// Whether a new chunk of `len` payload bytes fits the congestion window and the
    /// peer's receive window. With nothing in flight one chunk always may go (RFC 9260
    /// section 6.1 rules A and B): into a zero window that is the zero window probe, kept
    /// alive by T3-rtx; without [`SctpConfig::zero_window_probe`](super::SctpConfig) the
    /// peer's window must have room.
    fn window_allows(&self, len: usize) -> bool {
        let flight = self.inflight.flight_bytes;
        let rwnd_ok = len <= self.inflight.peer_rwnd;
        if flight == 0 {
            return rwnd_ok || self.config.zero_window_probe;
        }
        flight + len <= self.cc.cwnd && rwnd_ok
    }

    fn bundle_new_data(&mut self, now: Instant, w: &mut PacketWriter) {
        if !self.may_send_new_data() {
            return;
        }
        let idle_since = self.last_send.is_some_and(|t| now >= t + self.rto.rto());
        if self.inflight.flight_bytes == 0 && idle_since {
            self.cc.on_idle();
        }
        let mut low = Vec::new();
        let dropped = self.send.drop_expired_head(now, &mut low);
        self.stats.messages_abandoned += dropped;
        let start_len = w.remaining();
        let mut payload_sent = 0;
        while let Some(remaining) = self.send.head_remaining() {
            let space = w.remaining().saturating_sub(DATA_HEADER_LEN);
            let want = remaining.min(space);
            if want == 0 || (want < remaining && want < MIN_FRAGMENT && !w.is_empty()) {
                break;
            }
            if !self.window_allows(want) {
                break;
            }
            let frag = self
                .send
                .next_fragment(want, &mut low)
                .expect("head exists");
            let tsn = self.inflight.next_tsn() as u32;
            emit_data(
                w,
                frag.flags,
                tsn,
                frag.stream,
                frag.ssn,
                frag.ppid,
                &frag.payload,
            );
            self.inflight.peer_rwnd = self.inflight.peer_rwnd.saturating_sub(frag.payload.len());
            payload_sent += frag.payload.len();
            self.inflight.push(now, frag);
            self.stats.data_chunks_sent += 1;
        }
        let used = start_len - w.remaining();
        if used > 0 {
            // In payload bytes, the unit of what SACKs acknowledge, of the flight and of cwnd:
            // counting headers too would stop each refill short of the window it may fill.
            self.burst_budget = self.burst_budget.saturating_sub(payload_sent);
            if !self.timers.is_set(Timer::T3) {
                self.timers.set(Timer::T3, now + self.rto.rto());
            }
        }
        self.push_low_events(low);
    }
}
