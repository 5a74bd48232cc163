//! The receive path of [`Dtls`]: records of a datagram, record protection and replay
//! checks, and dispatch of handshake, alert and application data content.

use super::config::DtlsRole;
use super::connection::{Dtls, MAX_EARLY_RECORDS};
use super::error::FailureReason;
use super::events::{DtlsEvent, DtlsState};
use super::handshake::HandshakeFragment;
use super::reassembly::{Insert, Message};
use super::record::{RecordView, Records};
use super::server::{self, HelloOutcome};
use super::types::{AlertDescription, AlertLevel, ContentType, DTLS_1_0, DTLS_1_2, HandshakeType};
use bytes::Bytes;
use std::time::Instant;

impl Dtls {
    /// Handles one received datagram (all records in it). Never fails: bad input is dropped
    /// and counted in [`Dtls::stats`].
    pub fn handle_receive(&mut self, now: Instant, datagram: &[u8]) {
        self.stats.datagrams_received += 1;
        if matches!(self.state, DtlsState::Failed | DtlsState::Closed) {
            self.stats.records_unexpected += 1;
            return;
        }
        if self.state == DtlsState::New {
            if self.config.role == DtlsRole::Client {
                self.stats.records_unexpected += 1;
                return;
            }
            self.state = DtlsState::Handshaking;
        }
        self.resume_if_due(now);
        if matches!(self.state, DtlsState::Failed | DtlsState::Closed) {
            return;
        }
        self.retransmitted_now = false;
        let mut records = Records::new(datagram);
        for rec in records.by_ref() {
            self.handle_record(now, &rec);
            if matches!(self.state, DtlsState::Failed | DtlsState::Closed) {
                return;
            }
        }
        if records.malformed {
            tracing::debug!("dtls: malformed record in datagram");
            self.stats.records_malformed += 1;
        }
    }

    fn handle_record(&mut self, now: Instant, rec: &RecordView<'_>) {
        tracing::trace!(%rec, "dtls: received");
        let version_ok = rec.version == DTLS_1_2 || (rec.version == DTLS_1_0 && rec.epoch == 0);
        if !version_ok {
            self.stats.records_malformed += 1;
            return;
        }
        match rec.epoch {
            0 => self.handle_plain_record(now, rec),
            1 => self.handle_protected_record(now, rec),
            _ => self.stats.records_unexpected += 1,
        }
    }

    /// Epoch 0 is unauthenticated, so it gets no replay window (a forged record with a huge
    /// sequence number would otherwise shut out the real peer); the reassembler drops
    /// repeated handshake messages instead.
    fn handle_plain_record(&mut self, now: Instant, rec: &RecordView<'_>) {
        // Application data is never accepted unprotected, alerts only during the handshake
        // (a peer that fails before it has keys can only send a plaintext alert).
        let protected_only = rec.content_type == ContentType::APPLICATION_DATA
            || (rec.content_type == ContentType::ALERT && self.state != DtlsState::Handshaking);
        if protected_only {
            self.stats.records_unexpected += 1;
            return;
        }
        self.dispatch(now, 0, rec.content_type, rec.sequence, rec.fragment);
    }

    fn handle_protected_record(&mut self, now: Instant, rec: &RecordView<'_>) {
        let Some(cipher) = self.read_cipher.as_ref() else {
            if self.early.len() < MAX_EARLY_RECORDS {
                self.early.push(rec.raw.to_vec());
            } else {
                self.stats.records_unexpected += 1;
            }
            return;
        };
        if !self.replay.check(rec.sequence) {
            self.stats.records_replayed += 1;
            return;
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        if cipher.open_record(rec, &mut scratch).is_none() {
            tracing::debug!(%rec, "dtls: record failed authentication");
            self.stats.records_bad_mac += 1;
        } else {
            self.replay.accept(rec.sequence);
            self.dispatch(now, 1, rec.content_type, rec.sequence, &scratch);
        }
        scratch.clear();
        self.scratch = scratch;
    }

    fn dispatch(&mut self, now: Instant, epoch: u16, ct: ContentType, seq: u64, body: &[u8]) {
        match ct {
            ContentType::HANDSHAKE => self.handle_handshake(now, epoch, seq, body),
            ContentType::CHANGE_CIPHER_SPEC => {
                if body != [1] {
                    self.stats.records_malformed += 1;
                }
            }
            ContentType::ALERT => self.handle_alert(body),
            ContentType::APPLICATION_DATA if self.state == DtlsState::Connected => {
                self.stats.application_records_received += 1;
                self.events
                    .push_back(DtlsEvent::ApplicationData(Bytes::copy_from_slice(body)));
            }
            _ => self.stats.records_unexpected += 1,
        }
    }

    fn handle_handshake(&mut self, now: Instant, epoch: u16, record_seq: u64, mut data: &[u8]) {
        while !data.is_empty() {
            let Some((frag, rest)) = HandshakeFragment::parse(data) else {
                self.stats.records_malformed += 1;
                return;
            };
            data = rest;
            if self.hs.as_ref().is_some_and(|s| s.expects_client_hello()) {
                self.first_client_hello(now, epoch, record_seq, &frag);
                continue;
            }
            if !self.sent_by_peer(frag.msg_type) {
                self.stats.records_unexpected += 1;
                continue;
            }
            match self.reassembler.insert(&frag, epoch) {
                Insert::Stored => {}
                Insert::Old if frag.message_seq < self.peer_flight_start => {
                    self.peer_retransmitted()
                }
                Insert::Old => {} // part of the current flight, already held
                Insert::Refused => self.stats.records_unexpected += 1,
            }
        }
        self.deliver(now);
    }

    /// True if the peer's role ever sends `msg_type` (refuses reflected messages).
    fn sent_by_peer(&self, msg_type: HandshakeType) -> bool {
        use HandshakeType as H;
        match self.config.role {
            DtlsRole::Client => matches!(
                msg_type,
                H::HELLO_VERIFY_REQUEST
                    | H::SERVER_HELLO
                    | H::CERTIFICATE
                    | H::SERVER_KEY_EXCHANGE
                    | H::CERTIFICATE_REQUEST
                    | H::SERVER_HELLO_DONE
                    | H::FINISHED
            ),
            DtlsRole::Server => matches!(
                msg_type,
                H::CLIENT_HELLO
                    | H::CERTIFICATE
                    | H::CLIENT_KEY_EXCHANGE
                    | H::CERTIFICATE_VERIFY
                    | H::FINISHED
            ),
        }
    }

    /// The peer repeated its previous flight: it lost ours, so send it again (once per datagram).
    fn peer_retransmitted(&mut self) {
        let waiting = self.state == DtlsState::Handshaking
            || (self.state == DtlsState::Connected && self.config.role == DtlsRole::Server);
        if waiting && !self.retransmitted_now {
            self.retransmitted_now = true;
            tracing::debug!("dtls: peer repeated its flight; retransmitting ours");
            self.resend_flight();
        }
    }

    fn first_client_hello(
        &mut self,
        now: Instant,
        epoch: u16,
        record_seq: u64,
        frag: &HandshakeFragment<'_>,
    ) {
        if epoch != 0 || frag.msg_type != HandshakeType::CLIENT_HELLO {
            self.stats.records_unexpected += 1;
            return;
        }
        if !frag.is_complete() {
            self.fragmented_client_hello(now, record_seq, frag);
            return;
        }
        let secret = self.cookie_secret;
        let mut cx = self.cx();
        let outcome = server::on_client_hello(&mut cx, &secret, frag.message_seq, frag.body);
        let actions = cx.actions;
        match outcome {
            Ok(HelloOutcome::Ignore) => self.stats.records_malformed += 1,
            Ok(HelloOutcome::VerifyRequest(body)) => {
                self.send_verify_request(frag.message_seq, record_seq, &body)
            }
            Ok(HelloOutcome::Accepted(next)) => {
                self.reassembler
                    .restart_at(frag.message_seq.wrapping_add(1));
                self.hs = Some(next);
                self.apply(now, actions);
            }
            Err(reason) => self.fail(reason),
        }
    }

    /// A ClientHello split over several records (Chromium's, with its large post-quantum
    /// key share, does not fit one datagram): collects it in the reassembler, whose buffers
    /// are bounded, and handles it once complete. Holding the fragments is the only state
    /// kept before a cookie is verified.
    fn fragmented_client_hello(
        &mut self,
        now: Instant,
        record_seq: u64,
        frag: &HandshakeFragment<'_>,
    ) {
        self.reassembler.restart_at(frag.message_seq);
        if self.reassembler.insert(frag, 0) == Insert::Refused {
            self.stats.records_unexpected += 1;
            return;
        }
        let Some(hello) = self.reassembler.pop() else {
            return;
        };
        let whole = HandshakeFragment {
            msg_type: hello.msg_type,
            length: hello.body.len() as u32,
            message_seq: hello.seq,
            offset: 0,
            body: &hello.body,
        };
        self.first_client_hello(now, 0, record_seq, &whole);
    }

    /// A stateless HelloVerifyRequest: same message_seq and record sequence as the hello.
    fn send_verify_request(&mut self, message_seq: u16, record_seq: u64, body: &[u8]) {
        let mut msg = Vec::with_capacity(64);
        super::handshake::emit_header(
            &mut msg,
            HandshakeType::HELLO_VERIFY_REQUEST,
            body.len() as u32,
            message_seq,
            0,
            body.len() as u32,
        );
        msg.extend_from_slice(body);
        let mut out = Vec::with_capacity(96);
        super::record::emit_header(
            &mut out,
            ContentType::HANDSHAKE,
            DTLS_1_2,
            0,
            record_seq,
            msg.len() as u16,
        );
        out.extend_from_slice(&msg);
        self.push_datagram(out);
    }

    /// Feeds complete in-order messages to the handshake, then any epoch-1 records that
    /// arrived before their keys.
    fn deliver(&mut self, now: Instant) {
        while let Some(msg) = self.reassembler.pop() {
            self.step(now, msg);
            if matches!(self.state, DtlsState::Failed | DtlsState::Closed) {
                return;
            }
            if self.read_cipher.is_some() && !self.early.is_empty() {
                for raw in core::mem::take(&mut self.early) {
                    if let Some((rec, _)) = RecordView::parse(&raw) {
                        self.handle_record(now, &rec);
                    }
                }
            }
        }
    }

    fn step(&mut self, now: Instant, msg: Message) {
        let Some(state) = self.hs.take() else {
            self.stats.records_unexpected += 1;
            return;
        };
        tracing::trace!(
            msg_type = msg.msg_type.0,
            seq = msg.seq,
            "dtls: handshake message"
        );
        let mut cx = self.cx();
        let result = state.handle(&mut cx, msg);
        let actions = cx.actions;
        match result {
            Ok(next) => {
                self.hs = Some(next);
                self.timer.touch(now);
                self.apply(now, actions);
            }
            Err(reason) => self.fail(reason),
        }
    }

    fn handle_alert(&mut self, body: &[u8]) {
        let [level, description] = body else {
            self.stats.records_malformed += 1;
            return;
        };
        let (level, description) = (AlertLevel(*level), AlertDescription(*description));
        if description == AlertDescription::CLOSE_NOTIFY {
            self.events.push_back(DtlsEvent::CloseNotify);
            self.close();
        } else if level == AlertLevel::FATAL {
            self.fail(FailureReason::PeerAlert(description));
        } else {
            self.events
                .push_back(DtlsEvent::Alert { level, description });
        }
    }
}
