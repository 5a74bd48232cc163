//! The DTLS endpoint facade: [`Dtls`], one connection in either role, driven sans-IO.

use super::certificate::Fingerprint;
use super::cipher::RecordCipher;
use super::config::{DtlsConfig, DtlsRole};
use super::error::{DtlsError, FailureReason};
use super::events::{DtlsEvent, DtlsState, DtlsStats};
use super::flight::{FlightItem, RecordWriter, RetransmitTimer, TimerAction};
use super::keys::KeyBlock;
use super::reassembly::Reassembler;
use super::replay::ReplayWindow;
use super::state::{Action, Common, Cx, Established, State};
use super::types::{AlertDescription, AlertLevel, ContentType};
use super::{client, server};
use crate::rng::Rng;
use std::collections::VecDeque;
use std::time::Instant;

/// Largest application data payload of one record (2^14, RFC 5246 6.2.1).
pub const MAX_APPLICATION_DATA: usize = 1 << 14;
/// Epoch-1 records held while their keys are not yet known (reordered flights).
pub(crate) const MAX_EARLY_RECORDS: usize = 8;

/// One DTLS 1.2 connection, client or server, as a sans-IO state machine.
///
/// Getters: [`state`](Self::state), [`stats`](Self::stats), [`srtp_profile`](Self::srtp_profile).
/// Inputs, each with `now`: [`start`](Self::start), [`handle_receive`](Self::handle_receive)
/// (one datagram), [`handle_timeout`](Self::handle_timeout).
/// Commands: [`send_application_data`](Self::send_application_data), [`close`](Self::close),
/// [`set_remote_fingerprint`](Self::set_remote_fingerprint),
/// [`export_keying_material`](Self::export_keying_material).
/// Outputs, drained after every input or command: [`poll_transmit`](Self::poll_transmit),
/// [`poll_event`](Self::poll_event), then [`poll_timeout`](Self::poll_timeout) says when to
/// call `handle_timeout` next (calling it early is harmless). The client asks for one at
/// once after the server's flight: it sends Certificate, ClientKeyExchange and
/// CertificateVerify first and computes the shared secret, ChangeCipherSpec and Finished on
/// that call (or before the next datagram), so the server's checks overlap its work.
///
/// Bytes from the network never cause an error or a panic: bad records are dropped and
/// counted in [`DtlsStats`]; a failed handshake becomes [`DtlsEvent::Failed`].
///
/// `Clone` only with feature `fuzzing` (a snapshot to restore per input): a clone holds the
/// same keys and record sequence numbers, so two clones that both sent would reuse nonces.
#[derive(Debug)]
#[cfg_attr(feature = "fuzzing", derive(Clone))]
pub struct Dtls {
    pub(crate) config: DtlsConfig,
    pub(crate) rng: Rng,
    pub(crate) state: DtlsState,
    pub(crate) hs: Option<Box<dyn State>>,
    pub(crate) common: Common,
    pub(crate) reassembler: Reassembler,
    pub(crate) writer: RecordWriter,
    pub(crate) read_cipher: Option<RecordCipher>,
    pub(crate) replay: ReplayWindow,
    /// message_seq of the peer's first message in the flight answering our last one.
    pub(crate) peer_flight_start: u16,
    pub(crate) early: Vec<Vec<u8>>,
    pub(crate) last_flight: Vec<FlightItem>,
    pub(crate) timer: RetransmitTimer,
    pub(crate) established: Option<Established>,
    pub(crate) cookie_secret: [u8; 32],
    pub(crate) transmits: VecDeque<Vec<u8>>,
    pub(crate) events: VecDeque<DtlsEvent>,
    pub(crate) stats: DtlsStats,
    /// Plaintext of the record being opened; reused so that bulk traffic allocates once.
    /// Starts empty and grows to the largest record seen, so that a connection that only
    /// handshook and idles holds no more than its few small records needed.
    pub(crate) scratch: Vec<u8>,
    pub(crate) retransmitted_now: bool,
    /// A handshake step asked to go on once what it queued has left ([`Action::Resume`]).
    pub(crate) resume_due: Option<Instant>,
    /// Flights sent that expect an answer (1 while the first one is outstanding).
    pub(crate) reply_flights: u32,
    /// [`resend_first_flight`](Self::resend_first_flight) has resent (it does so once).
    pub(crate) early_resend_done: bool,
    /// When the first flight that expects an answer was sent.
    pub(crate) first_flight_at: Option<Instant>,
    /// An early resend asked for before the flight was a round trip old, due then.
    pub(crate) early_resend_at: Option<Instant>,
}

impl Dtls {
    /// A new endpoint. Nothing is sent until [`start`](Self::start) (client) or the first
    /// ClientHello arrives (server).
    pub fn new(config: DtlsConfig, mut rng: Rng) -> Result<Self, DtlsError> {
        config.validate()?;
        let timer = RetransmitTimer::new(
            config.initial_retransmit,
            config.max_retransmit,
            config.max_retransmissions,
        );
        let cookie_secret = rng.array();
        let hs: Box<dyn State> = Box::new(server::ExpectClientHello);
        Ok(Self {
            hs: (config.role == DtlsRole::Server).then_some(hs),
            config,
            rng,
            state: DtlsState::New,
            common: Common::default(),
            reassembler: Reassembler::default(),
            writer: RecordWriter::default(),
            read_cipher: None,
            replay: ReplayWindow::default(),
            peer_flight_start: 0,
            early: Vec::new(),
            last_flight: Vec::new(),
            timer,
            established: None,
            cookie_secret,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: DtlsStats::default(),
            scratch: Vec::new(),
            retransmitted_now: false,
            resume_due: None,
            reply_flights: 0,
            early_resend_done: false,
            early_resend_at: None,
            first_flight_at: None,
        })
    }

    /// Starts the handshake: the client sends its ClientHello; the server begins waiting.
    /// Calling it again has no effect.
    pub fn start(&mut self, now: Instant) {
        if self.state != DtlsState::New {
            return;
        }
        self.state = DtlsState::Handshaking;
        if self.config.role == DtlsRole::Client {
            let mut cx = self.cx();
            let first = client::start(&mut cx);
            let actions = cx.actions;
            self.hs = Some(first);
            self.apply(now, actions);
        }
    }

    /// The connection state.
    pub fn state(&self) -> DtlsState {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> DtlsStats {
        self.stats
    }

    /// The negotiated SRTP profile once connected.
    pub fn srtp_profile(&self) -> Option<super::types::SrtpProfile> {
        self.established.as_ref().and_then(|e| e.srtp_profile)
    }

    /// Sets the peer's expected certificate fingerprint (from its SDP). Takes effect for a
    /// Certificate not yet received.
    pub fn set_remote_fingerprint(&mut self, fingerprint: Fingerprint) {
        self.config.remote_fingerprint = Some(fingerprint);
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    /// Frees the buffers of the transmit and event queues if both are drained (they grew
    /// during the handshake). Nothing queued is lost; a later push allocates again.
    pub(crate) fn release_drained_queues(&mut self) {
        if self.transmits.is_empty() && self.events.is_empty() {
            self.transmits = VecDeque::new();
            self.events = VecDeque::new();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.resume_due, self.timer.deadline(), self.early_resend_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances timers: retransmits the last flight when due, fails the handshake when every
    /// retransmission went unanswered.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, DtlsState::Failed | DtlsState::Closed) {
            return;
        }
        self.resume_if_due(now);
        self.early_resend_if_due(now);
        match self.timer.poll(now) {
            TimerAction::Idle => {}
            TimerAction::Retransmit => {
                tracing::debug!("dtls: retransmitting flight on timeout");
                self.resend_flight();
            }
            TimerAction::GiveUp => self.fail(FailureReason::Timeout),
        }
    }

    /// Queues `data` as one application data record (one datagram).
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        let len = super::cipher::protected_len(data.len()) + crate::transmit::RELAY_HEADROOM;
        let mut out = Vec::with_capacity(len);
        self.seal_application_data(data, &mut out)?;
        self.push_datagram(out);
        Ok(())
    }

    /// Appends `data` as one protected application data record to `out` instead of queueing
    /// it, for drivers that batch records or reuse buffers: nothing is allocated when `out`
    /// has room for `data.len() + 37` more bytes. The caller sends `out` itself.
    pub fn seal_application_data(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), DtlsError> {
        match self.state {
            DtlsState::Connected => {}
            DtlsState::Closed | DtlsState::Failed => return Err(DtlsError::Closed),
            _ => return Err(DtlsError::NotConnected),
        }
        if data.len() > MAX_APPLICATION_DATA {
            return Err(DtlsError::TooLarge {
                len: data.len(),
                max: MAX_APPLICATION_DATA,
            });
        }
        self.writer
            .write(out, ContentType::APPLICATION_DATA, 1, data);
        self.stats.application_records_sent += 1;
        Ok(())
    }

    /// RFC 5705 keying material for `label` without context (for DTLS-SRTP the label is
    /// `EXTRACTOR-dtls_srtp` and `len` the profile's keying material length).
    pub fn export_keying_material(&self, label: &str, len: usize) -> Result<Vec<u8>, DtlsError> {
        let est = self
            .established
            .as_ref()
            .filter(|_| self.state == DtlsState::Connected)
            .ok_or(DtlsError::NoKeyingMaterial)?;
        Ok(est.master.export(label.as_bytes(), len))
    }

    /// Sends close_notify and closes. Further sends fail; the peer answers with its own
    /// close_notify, which is not needed.
    pub fn close(&mut self) {
        if matches!(self.state, DtlsState::Closed | DtlsState::Failed) {
            return;
        }
        if self.state != DtlsState::New {
            self.send_alert(AlertLevel::WARNING, AlertDescription::CLOSE_NOTIFY);
        }
        self.enter_closed();
    }

    pub(crate) fn enter_closed(&mut self) {
        self.state = DtlsState::Closed;
        self.timer.stop();
        self.resume_due = None;
        self.hs = None;
        self.events.push_back(DtlsEvent::Closed);
    }

    pub(crate) fn cx(&mut self) -> Cx<'_> {
        Cx {
            config: &self.config,
            rng: &mut self.rng,
            common: &mut self.common,
            actions: Vec::new(),
        }
    }

    pub(crate) fn push_datagram(&mut self, datagram: Vec<u8>) {
        self.stats.datagrams_sent += 1;
        self.transmits.push_back(datagram);
    }

    /// Sends an alert, protected when our epoch-1 keys are installed.
    pub(crate) fn send_alert(&mut self, level: AlertLevel, description: AlertDescription) {
        let epoch = u16::from(self.writer.has_keys());
        let mut out = Vec::with_capacity(64);
        self.writer.write(
            &mut out,
            ContentType::ALERT,
            epoch,
            &[level.0, description.0],
        );
        self.push_datagram(out);
    }

    /// Fails the connection: fatal alert (when there is one for `reason`), state, event.
    pub(crate) fn fail(&mut self, reason: FailureReason) {
        if matches!(self.state, DtlsState::Closed | DtlsState::Failed) {
            return;
        }
        tracing::debug!(?reason, "dtls: connection failed");
        if let Some(alert) = reason.alert() {
            self.send_alert(AlertLevel::FATAL, alert);
        }
        self.state = DtlsState::Failed;
        self.timer.stop();
        self.resume_due = None;
        self.hs = None;
        self.established = None;
        self.events.push_back(DtlsEvent::Failed(reason));
    }

    pub(crate) fn resend_flight(&mut self) {
        if self.last_flight.is_empty() {
            return;
        }
        self.stats.retransmits += 1;
        self.transmit_flight();
    }

    fn transmit_flight(&mut self) {
        self.transmit_flight_from(0);
    }

    /// Sends the last flight's items from `first` on.
    fn transmit_flight_from(&mut self, first: usize) {
        let items = self.last_flight.get(first..).unwrap_or_default();
        let datagrams = self.writer.pack(items, self.config.mtu);
        for d in datagrams {
            self.push_datagram(d);
        }
    }

    /// Runs a step's [`Action::Resume`] when one is pending: before any new input, so
    /// the handshake sees everything in order.
    pub(crate) fn resume_if_due(&mut self, now: Instant) {
        if self.resume_due.take().is_none() {
            return;
        }
        let Some(state) = self.hs.take() else {
            return;
        };
        let mut cx = self.cx();
        let result = state.resume(&mut cx);
        let actions = cx.actions;
        match result {
            Ok(next) => {
                self.hs = Some(next);
                self.apply(now, actions);
            }
            Err(reason) => self.fail(reason),
        }
    }

    /// Carries out what a handshake step asked for.
    pub(crate) fn apply(&mut self, now: Instant, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::InstallKeys(block) => self.install_keys(&block),
                Action::SendFlight {
                    items,
                    expects_reply,
                } => {
                    self.last_flight = items;
                    self.peer_flight_start = self.reassembler.next_seq();
                    self.transmit_flight();
                    if expects_reply {
                        self.reply_flights += 1;
                        self.first_flight_at.get_or_insert(now);
                        self.timer.start(now);
                    } else {
                        self.timer.stop();
                    }
                }
                Action::ExtendFlight(items) => {
                    let first = self.last_flight.len();
                    self.last_flight.extend(items);
                    self.transmit_flight_from(first);
                }
                Action::Resume => self.resume_due = Some(now),
                Action::Established(est) => {
                    self.state = DtlsState::Connected;
                    // Nothing hashes the transcript after Finished (no renegotiation).
                    self.common.transcript = Vec::new();
                    if self.config.role == DtlsRole::Client {
                        self.timer.stop();
                        self.last_flight.clear();
                    }
                    self.events.push_back(DtlsEvent::Connected {
                        srtp_profile: est.srtp_profile,
                    });
                    self.established = Some(est);
                }
            }
        }
    }

    fn install_keys(&mut self, block: &KeyBlock) {
        let (write, read) = match self.config.role {
            DtlsRole::Client => (
                (&block.client_key, block.client_salt),
                (&block.server_key, block.server_salt),
            ),
            DtlsRole::Server => (
                (&block.server_key, block.server_salt),
                (&block.client_key, block.client_salt),
            ),
        };
        let write = RecordCipher::new(write.0, write.1).expect("suite key lengths are 16 or 32");
        let read = RecordCipher::new(read.0, read.1).expect("suite key lengths are 16 or 32");
        self.writer.install(write);
        self.read_cipher = Some(read);
    }
}
