//! Stream reset (RFC 6525): outgoing SSN reset requests we send when a data channel closes,
//! and the handling of the peer's requests. One request of ours is outstanding at a time;
//! streams asked for meanwhile wait and go together in the next one. A request waits
//! until every queued message of its streams has been sent; the receiver performs it only
//! once it has every TSN up to the sender's last assigned TSN.

use super::assoc::Association;
use super::chunk::{Chunk, ReconfigParam, ReconfigResult};
use super::timer::Timer;
use super::{AssociationState, SctpError, SctpEvent};
use std::time::Instant;

/// Most streams waiting for a reset at once.
const MAX_QUEUED: usize = 4096;

#[derive(Debug, Clone)]
struct Request {
    seq: u32,
    streams: Vec<u16>,
    last_tsn: u32,
}

/// Stream reset state of one association.
#[derive(Debug, Clone)]
pub(crate) struct StreamReset {
    next_seq: u32,
    queued: Vec<u16>,
    outstanding: Option<Request>,
    /// Sequence number we expect in the peer's next request.
    peer_next_seq: u32,
    last_response: Option<(u32, ReconfigResult)>,
    deferred: Option<(u32, u32, Vec<u16>)>,
}

impl StreamReset {
    pub(crate) fn new(local_initial_tsn: u32) -> Self {
        Self {
            next_seq: local_initial_tsn,
            queued: Vec::new(),
            outstanding: None,
            peer_next_seq: 0,
            last_response: None,
            deferred: None,
        }
    }

    pub(crate) fn set_peer_initial(&mut self, peer_initial_tsn: u32) {
        self.peer_next_seq = peer_initial_tsn;
    }
}

impl Association {
    /// Resets our outgoing `streams` (RFC 6525): their SSNs restart at 0 and the peer learns
    /// through [`SctpEvent::IncomingStreamsReset`]. New messages on them are refused until
    /// [`SctpEvent::OutgoingStreamsReset`] reports completion. Queued messages go first.
    pub fn reset_streams(&mut self, now: Instant, streams: &[u16]) -> Result<(), SctpError> {
        if self.state != AssociationState::Established {
            return Err(SctpError::WrongState(self.state));
        }
        if let Some(&bad) = streams.iter().find(|&&s| s >= self.outbound_streams) {
            return Err(SctpError::InvalidStream(bad));
        }
        for &s in streams {
            let st = self.send.stream_mut(s);
            if !st.resetting && self.reset.queued.len() < MAX_QUEUED {
                st.resetting = true;
                self.reset.queued.push(s);
            }
        }
        self.maybe_send_reset_request(now);
        Ok(())
    }

    /// Sends the next reset request if none is outstanding and its streams are drained.
    pub(super) fn maybe_send_reset_request(&mut self, now: Instant) {
        if self.reset.outstanding.is_some() || self.reset.queued.is_empty() {
            return;
        }
        let drained = self
            .reset
            .queued
            .iter()
            .all(|s| self.send.stream(*s).is_none_or(|st| st.queued == 0));
        if !drained {
            return;
        }
        let req = Request {
            seq: self.reset.next_seq,
            streams: std::mem::take(&mut self.reset.queued),
            last_tsn: (self.inflight.next_tsn() - 1) as u32,
        };
        self.reset.next_seq = self.reset.next_seq.wrapping_add(1);
        self.reset.outstanding = Some(req);
        self.send_reset_request(now);
    }

    fn send_reset_request(&mut self, now: Instant) {
        let Some(req) = self.reset.outstanding.clone() else {
            return;
        };
        self.queue_control(Chunk::Reconfig(vec![ReconfigParam::OutgoingReset {
            request_seq: req.seq,
            response_seq: self.reset.peer_next_seq.wrapping_sub(1),
            last_tsn: req.last_tsn,
            streams: req.streams,
        }]));
        self.timers.set(Timer::Reconfig, now + self.rto.rto());
    }

    pub(super) fn on_reconfig_timer(&mut self, now: Instant) {
        if self.reset.outstanding.is_some() && self.is_data_state() {
            self.send_reset_request(now);
        }
    }

    pub(super) fn on_reconfig(&mut self, now: Instant, params: Vec<ReconfigParam>) {
        if !self.is_data_state() {
            self.stats.unexpected_chunks += 1;
            return;
        }
        for p in params {
            match p {
                ReconfigParam::OutgoingReset {
                    request_seq,
                    last_tsn,
                    streams,
                    ..
                } => self.on_incoming_reset(now, request_seq, last_tsn, streams),
                ReconfigParam::Response {
                    response_seq,
                    result,
                } => self.on_reset_response(now, response_seq, result),
                ReconfigParam::Unknown(typ, _) => {
                    tracing::debug!(typ, "sctp: unsupported re-config parameter");
                    self.stats.unknown_chunks += 1;
                }
            }
        }
    }

    fn respond(&mut self, seq: u32, result: ReconfigResult) {
        self.queue_control(Chunk::Reconfig(vec![ReconfigParam::Response {
            response_seq: seq,
            result,
        }]));
    }

    fn on_incoming_reset(&mut self, now: Instant, seq: u32, last_tsn: u32, streams: Vec<u16>) {
        if seq == self.reset.peer_next_seq.wrapping_sub(1) {
            if let Some((s, r)) = self.reset.last_response {
                self.respond(s, r);
            }
            return;
        }
        if seq != self.reset.peer_next_seq {
            self.respond(seq, ReconfigResult::ERROR_BAD_SEQUENCE);
            return;
        }
        if self.reset.deferred.as_ref().is_some_and(|d| d.0 == seq) {
            self.respond(seq, ReconfigResult::IN_PROGRESS);
            return;
        }
        self.reset.deferred = Some((seq, last_tsn, streams));
        self.check_deferred_reset(now);
        if self.reset.deferred.is_some() {
            self.respond(seq, ReconfigResult::IN_PROGRESS);
        }
    }

    /// Performs the peer's pending reset once every TSN up to its last assigned TSN arrived.
    pub(super) fn check_deferred_reset(&mut self, _now: Instant) {
        let Some((seq, last_tsn, _)) = &self.reset.deferred else {
            return;
        };
        if self.tsns.unwrap(*last_tsn) > self.tsns.cum() {
            return;
        }
        let seq = *seq;
        let (_, _, streams) = self.reset.deferred.take().expect("checked");
        for &s in &streams {
            self.reasm.reset_stream(s);
        }
        self.reset.peer_next_seq = seq.wrapping_add(1);
        self.reset.last_response = Some((seq, ReconfigResult::SUCCESS_PERFORMED));
        self.respond(seq, ReconfigResult::SUCCESS_PERFORMED);
        self.events
            .push_back(SctpEvent::IncomingStreamsReset(streams));
    }

    fn on_reset_response(&mut self, now: Instant, seq: u32, result: ReconfigResult) {
        let Some(req) = self.reset.outstanding.as_ref() else {
            return;
        };
        if req.seq != seq || result == ReconfigResult::IN_PROGRESS {
            return;
        }
        let req = self.reset.outstanding.take().expect("checked");
        self.timers.stop(Timer::Reconfig);
        let ok = matches!(
            result,
            ReconfigResult::SUCCESS_PERFORMED | ReconfigResult::SUCCESS_NOTHING
        );
        for &s in &req.streams {
            let st = self.send.stream_mut(s);
            st.resetting = false;
            if ok {
                st.next_ssn = 0;
            }
        }
        if ok {
            self.events
                .push_back(SctpEvent::OutgoingStreamsReset(req.streams));
        } else {
            tracing::debug!(?result, "sctp: peer refused stream reset");
        }
        self.maybe_send_reset_request(now);
    }
}
