//! The [`IceAgent`]: its state, its public inputs and its outputs.
//!
//! The work is split by concept: [`super::gather`] (local candidates), [`super::receive`]
//! (incoming STUN), [`super::checks`] (sending checks, outcomes, nomination) and
//! [`super::consent`] (selected path liveness and the connection state).

use super::IceError;
use super::candidate::{Candidate, CandidateKind};
use super::checklist::CheckList;
use super::config::IceConfig;
use super::consent::Path;
use super::credentials::Credentials;
use super::events::{IceConnectionState, IceEvent, IceGatheringState, IceRole};
use super::gather::Gatherer;
use super::pair::{PairId, PairState};
use super::relay::{RelayWrap, Relays};
use super::stats::IceStats;
use super::timers::{Timer, Timers};
use crate::rng::Rng;
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A local candidate and the socket it sends from.
#[derive(Debug, Clone)]
pub(crate) struct LocalCandidate {
    pub(crate) candidate: Candidate,
    /// The base: the local socket address (equal to the address for host candidates).
    pub(crate) base: SocketAddr,
}

/// The path application data should use: from the local socket `local` to `remote`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SelectedPair {
    /// The local socket (host candidate address) to send from.
    pub local: SocketAddr,
    /// The remote address to send to.
    pub remote: SocketAddr,
}

/// A snapshot of one candidate pair, for diagnostics and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairInfo {
    /// The local socket the pair sends from.
    pub local: SocketAddr,
    /// The remote candidate address.
    pub remote: SocketAddr,
    /// Pair priority (RFC 8445 section 6.1.2.3).
    pub priority: u64,
    /// State.
    pub state: PairState,
    /// In the valid list.
    pub valid: bool,
    /// Nominated.
    pub nominated: bool,
}

/// A full (or lite) ICE agent for one data stream with one component (RTP/RTCP muxed,
/// BUNDLE), as WebRTC uses it.
///
/// # Contract
///
/// The agent is sans-IO: it never reads a clock, opens a socket or resolves a name.
///
/// - **Getters**: [`local_credentials`](Self::local_credentials),
///   [`connection_state`](Self::connection_state), [`gathering_state`](Self::gathering_state),
///   [`selected_pair`](Self::selected_pair), [`role`](Self::role), [`stats`](Self::stats),
///   [`pairs`](Self::pairs), [`local_candidates`](Self::local_candidates).
/// - **Inputs**, each taking `now`: [`add_local_socket`](Self::add_local_socket),
///   [`set_remote_credentials`](Self::set_remote_credentials),
///   [`add_remote_candidate`](Self::add_remote_candidate),
///   [`end_of_remote_candidates`](Self::end_of_remote_candidates),
///   [`handle_resolved`](Self::handle_resolved), [`handle_receive`](Self::handle_receive),
///   [`handle_timeout`](Self::handle_timeout), [`restart`](Self::restart),
///   [`close`](Self::close).
/// - **Outputs**, drained after every input until `None`:
///   [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event); then
///   [`poll_timeout`](Self::poll_timeout) says when to call `handle_timeout` next (calling
///   it early is harmless).
///
/// # Driving it (for example from a `sim::Node`)
///
/// Report each bound UDP socket with `add_local_socket`; feed every datagram received on
/// those sockets to `handle_receive` (it returns `false` for non-STUN datagrams, which
/// belong to DTLS/SRTP); send each [`Transmit`] from the socket bound to its `source`;
/// forward [`IceEvent::LocalCandidate`] to the peer and the peer's candidates to
/// `add_remote_candidate`; answer [`IceEvent::ResolveName`] with `handle_resolved`.
/// Application data goes on [`selected_pair`](Self::selected_pair) while it is `Some`.
///
/// With TURN servers ([`IceConfig::relay_servers`](super::IceConfig::relay_servers)) the
/// agent also sends to and receives from those servers on the same sockets: feed it
/// ChannelData (first byte 64..=79) as well as STUN, drain
/// [`poll_relayed`](Self::poll_relayed) after each datagram (application data that came
/// through a relay, unwrapped), and build application datagrams with
/// [`wrap_data`](Self::wrap_data), which wraps them for the relay when the data path's
/// local candidate is relayed.
#[derive(Debug, Clone)]
pub struct IceAgent {
    pub(super) config: IceConfig,
    pub(super) rng: Rng,
    pub(super) role: IceRole,
    pub(super) tie_breaker: u64,
    pub(super) local_creds: Credentials,
    pub(super) remote_creds: Option<Credentials>,
    /// Local sockets (host candidate bases), in the order reported.
    pub(super) sockets: Vec<SocketAddr>,
    pub(super) local: Vec<LocalCandidate>,
    pub(super) remote: Vec<Candidate>,
    /// Keys of the local foundations handed out; a foundation is its index + 1.
    pub(super) foundations: Vec<(CandidateKind, IpAddr, Option<SocketAddr>)>,
    pub(super) prflx_count: u32,
    pub(super) generation: u32,
    pub(super) checklist: CheckList,
    pub(super) gather: Gatherer,
    /// TURN clients and relayed candidates.
    pub(super) relays: Relays,
    /// The pair the controlling agent is nominating.
    pub(super) nominating: Option<PairId>,
    /// The selected path and its consent state.
    pub(super) selected: Option<Path>,
    /// The path selected before an ICE restart, used until the restart selects a new one.
    pub(super) previous: Option<Path>,
    pub(super) remote_eoc: bool,
    pub(super) checking_since: Option<Instant>,
    pub(super) first_valid_at: Option<Instant>,
    /// [`IceEvent::PeerReady`] reported: `[first check, nomination]`.
    pub(super) peer_ready: [bool; 2],
    /// Smallest round-trip time of the checks answered without retransmission: the path's
    /// own delay, without a busy peer's late answers.
    pub(super) check_rtt: Option<Duration>,
    pub(super) last_check_at: Option<Instant>,
    pub(super) failed: bool,
    pub(super) closed: bool,
    pub(super) conn_state: IceConnectionState,
    pub(super) gather_state: IceGatheringState,
    pub(super) events: VecDeque<IceEvent>,
    pub(super) transmits: VecDeque<Transmit>,
    pub(super) timers: Timers,
    pub(super) stats: IceStats,
}

impl IceAgent {
    /// A new agent with fresh credentials and tie-breaker drawn from `rng`.
    ///
    /// STUN servers given by name are asked for at once through
    /// [`IceEvent::ResolveName`]. Fails if the configuration is invalid.
    pub fn new(config: IceConfig, mut rng: Rng) -> Result<Self, IceError> {
        config.validate()?;
        let local_creds = Credentials::random(&mut rng);
        let tie_breaker = rng.u64();
        let role = if config.lite {
            IceRole::Controlled
        } else {
            config.role
        };
        let mut events = VecDeque::new();
        let (gather, relays) = if config.lite {
            (Gatherer::default(), Relays::default())
        } else {
            let stun = if config.relay_only {
                &[][..]
            } else {
                &config.stun_servers[..]
            };
            (
                Gatherer::from_servers(stun, &mut events),
                Relays::from_servers(&config.relay_servers, &mut events),
            )
        };
        Ok(IceAgent {
            checklist: CheckList::new(config.max_pairs),
            config,
            rng,
            role,
            tie_breaker,
            local_creds,
            remote_creds: None,
            sockets: Vec::new(),
            local: Vec::new(),
            remote: Vec::new(),
            foundations: Vec::new(),
            prflx_count: 0,
            generation: 0,
            gather,
            relays,
            nominating: None,
            selected: None,
            previous: None,
            remote_eoc: false,
            checking_since: None,
            first_valid_at: None,
            peer_ready: [false; 2],
            check_rtt: None,
            last_check_at: None,
            failed: false,
            closed: false,
            conn_state: IceConnectionState::New,
            gather_state: IceGatheringState::New,
            events,
            transmits: VecDeque::new(),
            timers: Timers::default(),
            stats: IceStats::default(),
        })
    }

    // ----- getters -----

    /// Our ufrag and password, to signal to the peer (`a=ice-ufrag`, `a=ice-pwd`).
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_creds
    }

    /// The peer's credentials, once set.
    pub fn remote_credentials(&self) -> Option<&Credentials> {
        self.remote_creds.as_ref()
    }

    /// The current role (it may change after a role conflict).
    pub fn role(&self) -> IceRole {
        self.role
    }

    /// The tie-breaker sent in ICE-CONTROLLING / ICE-CONTROLLED.
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    /// Whether this is a lite agent.
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// `RTCIceConnectionState`.
    pub fn connection_state(&self) -> IceConnectionState {
        self.conn_state
    }

    /// `RTCIceGatheringState`.
    pub fn gathering_state(&self) -> IceGatheringState {
        self.gather_state
    }

    /// The selected pair (nominated, RFC 8445 section 8), or during an ICE restart the pair
    /// selected before it. `None` before nomination, after consent was lost and after
    /// close. Data may flow earlier: see [`data_path`](Self::data_path).
    pub fn selected_pair(&self) -> Option<SelectedPair> {
        self.sending_path().map(|p| SelectedPair {
            local: p.local,
            remote: p.remote,
        })
    }

    /// Where application data goes now: the [selected pair](Self::selected_pair), or
    /// before nomination the highest-priority valid pair (RFC 8445 section 12.1; the
    /// connection state is then already `connected`). `None` while no check has
    /// succeeded, after consent was lost and after close.
    pub fn data_path(&self) -> Option<SelectedPair> {
        self.selected_pair().or_else(|| {
            self.provisional_path()
                .map(|(local, remote)| SelectedPair { local, remote })
        })
    }

    /// The local candidates gathered so far (host, server-reflexive, peer-reflexive).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.local.iter().map(|l| &l.candidate)
    }

    /// The remote candidates known (signalled and peer-reflexive).
    pub fn remote_candidates(&self) -> &[Candidate] {
        &self.remote
    }

    /// A snapshot of the check list, highest priority first.
    pub fn pairs(&self) -> Vec<PairInfo> {
        self.checklist
            .pairs()
            .iter()
            .map(|p| PairInfo {
                local: p.base,
                remote: p.remote,
                priority: p.priority,
                state: p.state,
                valid: p.valid,
                nominated: p.nominated,
            })
            .collect()
    }

    /// Counters.
    pub fn stats(&self) -> &IceStats {
        &self.stats
    }

    // ----- inputs -----

    /// Reports a bound local UDP socket: it becomes a host candidate (emitted as
    /// [`IceEvent::LocalCandidate`]), is paired with the remote candidates, and
    /// server-reflexive gathering starts from it towards every known STUN server.
    ///
    /// Reporting the same address twice is a no-op. Errors: [`IceError::Closed`],
    /// [`IceError::TooManySockets`].
    pub fn add_local_socket(&mut self, now: Instant, addr: SocketAddr) -> Result<(), IceError> {
        self.check_open()?;
        if self.sockets.contains(&addr) {
            return Ok(());
        }
        if self.sockets.len() >= self.config.max_local_sockets {
            return Err(IceError::TooManySockets);
        }
        self.sockets.push(addr);
        self.add_host_candidate(now, addr);
        self.finish(now);
        Ok(())
    }

    /// Sets Ta, the pacing of connectivity checks, e.g. to the value both agents agreed on
    /// (RFC 8445 section 14.2: the larger of the two proposals, `a=ice-pacing` in SDP).
    /// Takes effect from the next check.
    ///
    /// Errors: [`IceError::InvalidConfig`] for a zero duration.
    pub fn set_pacing(&mut self, now: Instant, ta: Duration) -> Result<(), IceError> {
        if ta.is_zero() {
            return Err(IceError::InvalidConfig("pacing must be positive".into()));
        }
        self.config.timing.ta = ta;
        self.arm_timers(now);
        Ok(())
    }

    /// The current Ta (check pacing).
    pub fn pacing(&self) -> Duration {
        self.config.timing.ta
    }

    /// Sets the peer's ufrag and password (from its SDP). Checks start once they are known;
    /// checks received earlier were answered and their triggered checks queued.
    ///
    /// Errors: [`IceError::Closed`], [`IceError::InvalidCredentials`] when the ufrag is
    /// shorter than 4 or the password shorter than 22 characters (RFC 8839 section 5.4),
    /// or either is not ICE characters; [`IceError::RestartRequired`] when different
    /// credentials are already set (the peer restarted ICE: call [`restart`](Self::restart)
    /// first, as JSEP does when it answers an ICE-restart offer).
    pub fn set_remote_credentials(
        &mut self,
        now: Instant,
        creds: Credentials,
    ) -> Result<(), IceError> {
        self.check_open()?;
        let ice = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        };
        if creds.ufrag.len() < 4
            || creds.pwd.len() < 22
            || creds.ufrag.len() > 256
            || creds.pwd.len() > 256
            || !ice(&creds.ufrag)
            || !ice(&creds.pwd)
        {
            return Err(IceError::InvalidCredentials);
        }
        match &self.remote_creds {
            Some(current) if *current == creds => return Ok(()),
            Some(_) => return Err(IceError::RestartRequired),
            None => {}
        }
        self.remote_creds = Some(creds);
        self.finish(now);
        Ok(())
    }

    /// Adds a remote candidate (from SDP or trickled, RFC 8838): it is paired with every
    /// local host candidate of the same IP family, and checks on the new pairs follow.
    ///
    /// Candidates the agent cannot use (TCP, components other than 1, a `ufrag` that is
    /// not the current remote one) are ignored without error; a duplicate address is a
    /// no-op (a peer-reflexive candidate learned earlier takes the signalled
    /// candidate's type and priority). Errors: [`IceError::Closed`],
    /// [`IceError::TooManyCandidates`].
    pub fn add_remote_candidate(
        &mut self,
        now: Instant,
        candidate: Candidate,
    ) -> Result<(), IceError> {
        self.check_open()?;
        self.add_remote(now, candidate)?;
        self.finish(now);
        Ok(())
    }

    /// The peer signalled that it has no more candidates (RFC 8838 end-of-candidates):
    /// once every pair failed, the agent fails.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_eoc = true;
        self.finish(now);
    }

    /// The driver's answer to [`IceEvent::ResolveName`]: the addresses of `name` (empty if
    /// resolution failed). At most four addresses are used; names never asked for are
    /// ignored.
    pub fn handle_resolved(&mut self, now: Instant, name: &str, addrs: &[IpAddr]) {
        if self.closed {
            return;
        }
        let relay = self.relay_name_resolved(now, name, addrs);
        let Some(i) = self
            .gather
            .pending_names
            .iter()
            .position(|(n, _)| n == name)
        else {
            if !relay {
                tracing::debug!(name, "ice: resolution for a name never asked for, ignored");
            }
            self.finish(now);
            return;
        };
        let (_, port) = self.gather.pending_names.remove(i);
        for ip in addrs.iter().take(4) {
            let server = SocketAddr::new(*ip, port);
            if self.gather.add_server(server) {
                for socket in self.sockets.clone() {
                    self.start_server_request(now, socket, server);
                }
            }
        }
        self.finish(now);
    }

    /// The clock reached [`poll_timeout`](Self::poll_timeout) (or any time earlier: early
    /// calls are harmless). Sends paced checks, retransmits, consent checks and
    /// keepalives, and moves states on deadlines.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.step_transactions(now);
        if self.timers.is_due(Timer::Relay, now) {
            self.relay_timeout(now);
        }
        if self.timers.is_due(Timer::Pacing, now) {
            self.send_next_check(now);
        }
        if self.timers.is_due(Timer::Nomination, now) {
            self.nominate(now, true);
        }
        if self.timers.is_due(Timer::Consent, now) {
            self.send_consent_checks(now);
        }
        if self.timers.is_due(Timer::Keepalive, now) {
            self.send_keepalives(now);
        }
        if self.timers.is_due(Timer::Gathering, now) {
            self.update_gathering_state();
        }
        self.finish(now);
    }

    /// ICE restart (RFC 8445 section 9): new local credentials, the remote credentials,
    /// candidates and check list are forgotten, local candidates are emitted again (with
    /// the new ufrag and the next generation). The currently selected pair stays in use —
    /// with consent checks under the old credentials — until the new checks select one.
    pub fn restart(&mut self, now: Instant) -> Result<(), IceError> {
        self.check_open()?;
        self.local_creds = Credentials::random(&mut self.rng);
        self.remote_creds = None;
        if let Some(sel) = self.selected.take() {
            self.previous = Some(sel);
        }
        self.checklist = CheckList::new(self.config.max_pairs);
        self.remote.clear();
        self.remote_eoc = false;
        self.checking_since = None;
        self.first_valid_at = None;
        self.peer_ready = [false; 2];
        self.last_check_at = None;
        self.nominating = None;
        self.failed = false;
        self.generation += 1;
        self.reannounce_local_candidates();
        self.finish(now);
        Ok(())
    }

    /// Forgets the remote credentials, candidates and pairs, keeping ours, so that another
    /// remote transport can be applied: an answerer that rejected the m-line whose transport
    /// it had read moves the BUNDLE transport to the first m-line it accepted (RFC 8843
    /// section 7.3). Refused once a check succeeded (that would be a restart).
    pub fn forget_remote(&mut self, now: Instant) -> Result<(), IceError> {
        self.check_open()?;
        if self.first_valid_at.is_some() || self.selected.is_some() {
            return Err(IceError::RestartRequired);
        }
        self.remote_creds = None;
        self.checklist = CheckList::new(self.config.max_pairs);
        self.remote.clear();
        self.remote_eoc = false;
        self.checking_since = None;
        self.last_check_at = None;
        self.nominating = None;
        self.failed = false;
        self.finish(now);
        Ok(())
    }

    /// Sets the role before or between checks (JSEP: the side that applies a remote
    /// offer becomes controlled). Pair priorities are recomputed; a lite agent stays
    /// controlled. Conflicts found later are still repaired by the tie-breaker.
    pub fn set_role(&mut self, role: IceRole) {
        if self.config.lite || self.role == role {
            return;
        }
        self.role = role;
        self.checklist.reprioritize(role);
    }

    /// Closes the agent: no more transmits, timers or selected pair; state `closed`.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.selected = None;
        self.previous = None;
        self.transmits.clear();
        self.close_relays(now);
        self.finish(now);
    }

    // ----- outputs -----

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// Frees the buffers of the event and transmit queues if both are drained: a burst
    /// (gathering, the checks) grows them and they would keep that capacity for the
    /// connection's life. Nothing queued is lost; a later push allocates again.
    pub(crate) fn release_drained_queues(&mut self) {
        if self.events.is_empty() && self.transmits.is_empty() {
            self.events = VecDeque::new();
            self.transmits = VecDeque::new();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ----- internals shared by the submodules -----

    fn check_open(&self) -> Result<(), IceError> {
        if self.closed {
            Err(IceError::Closed)
        } else {
            Ok(())
        }
    }

    /// Queues a datagram and notes it on the path it belongs to (for keepalives).
    pub(super) fn send(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: Vec<u8>,
    ) {
        for path in self.selected.iter_mut().chain(self.previous.iter_mut()) {
            if path.local == source && path.remote == destination {
                path.last_sent = now;
            }
        }
        match self.relay_wrap(source, destination, &payload) {
            RelayWrap::Transmit(t) => self.transmits.push_back(t),
            RelayWrap::Queued => {}
            RelayWrap::Dropped => self.stats.relay_dropped += 1,
            RelayWrap::NotRelayed if self.sockets.contains(&source) => {
                self.transmits.push_back(Transmit {
                    source,
                    destination,
                    payload,
                })
            }
            // A relayed address whose allocation is gone.
            RelayWrap::NotRelayed => self.stats.relay_dropped += 1,
        }
    }

    /// The 12 random bytes of a new transaction id.
    pub(super) fn new_transaction_id(&mut self) -> [u8; 12] {
        self.rng.array()
    }

    /// Emits `event` (bounded: the oldest is dropped past 1024 undrained events).
    pub(super) fn emit(&mut self, event: IceEvent) {
        if self.events.len() >= 1024 {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// After every input: nominate, settle the states, re-arm the timers.
    pub(super) fn finish(&mut self, now: Instant) {
        if !self.closed {
            self.pump_relays(now);
            self.nominate(now, false);
            self.check_liveness(now);
            self.probe_disconnected_relay(now);
            self.pump_relays(now);
            self.check_failure(now);
        }
        self.update_connection_state();
        self.arm_timers(now);
    }

    fn arm_timers(&mut self, now: Instant) {
        if self.closed {
            self.timers.clear();
            return;
        }
        let t = &self.config.timing;
        let pacing = (self.can_send_checks() && self.checklist.has_work())
            .then(|| self.last_check_at.map_or(now, |at| at + t.ta));
        self.timers.set(Timer::Pacing, pacing);
        let tx = self.next_transaction_deadline();
        self.timers.set(Timer::Transaction, tx);
        let nomination = self.nomination_deadline();
        self.timers.set(Timer::Nomination, nomination);
        let paths = self.selected.iter().chain(self.previous.iter());
        let consent = if self.config.lite {
            None
        } else {
            paths.clone().map(|p| p.next_consent).min()
        };
        self.timers.set(Timer::Consent, consent);
        let keepalive = paths
            .clone()
            .map(|p| p.last_sent + t.keepalive_interval)
            .min();
        self.timers.set(Timer::Keepalive, keepalive);
        let liveness = paths.map(|p| p.liveness_deadline(t)).min();
        self.timers.set(Timer::Liveness, liveness);
        let checking = match (self.checking_since, self.sending_path(), self.failed) {
            (Some(since), None, false) => Some(since + t.checking_timeout),
            _ => None,
        };
        self.timers.set(Timer::Checking, checking);
        let gathering = (self.gather_state == IceGatheringState::Gathering
            && self.gathering_idle())
        .then_some(now);
        self.timers.set(Timer::Gathering, gathering);
        let relay = self.relay_deadline();
        self.timers.set(Timer::Relay, relay);
    }

    /// Whether ordinary and triggered checks may be sent now.
    pub(super) fn can_send_checks(&self) -> bool {
        !self.config.lite && !self.closed && self.remote_creds.is_some()
    }
}
