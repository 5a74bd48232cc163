//! The echo sessions on a hand-written mio event loop: one thread owns a core [`Endpoint`]
//! holding every session's peer connection, and the one UDP socket of the listen address
//! they all share (the endpoint routes each datagram to its session by 5-tuple and ICE
//! ufrag). The thread waits in `Poll::poll` until the earliest deadline (the endpoint's or
//! a session's guard) and takes commands from the HTTP layer through a channel plus a
//! `mio::Waker`. The same echo rule and session table as the async backend, but the
//! sans-IO core is driven by hand. Sessions configured with TURN over TCP/TLS get their
//! connections from `rtcpeer_mio::MioTurnStreams` on the same `Poll`.

use super::backend::{
    BackendError, BoxFuture, Created, GATHER_TIMEOUT, SessionBackend, SessionId, SessionStats,
    os_seed,
};
use super::config::EchoConfig;
use super::lifecycle::{self, EndReason};
use super::session::{self, EchoSession, echo_config};
use super::table::SessionTable;
use mio::{Events, Interest, Poll, Token, Waker};
use rtcpeer::capacity::ShrinkWhenSparse;
use rtcpeer::peer_connection::{Event, PeerConnection, PeerConnectionState, RtcConfiguration};
use rtcpeer::{ConnectionHandle, Endpoint, EndpointOutput, Transmit};
use rtcpeer_mio::{MioTurnStreams, MioUdpSocket, SocketConfig};
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

const WAKER: Token = Token(usize::MAX);
const SOCKET: Token = Token(0);
/// Transmits taken from the endpoint between two sends: about one GSO send's worth.
const FLUSH_EVERY: usize = 32;

enum Command {
    Start(Box<Start>),
    Answer(SessionId, String, oneshot::Sender<Result<(), BackendError>>),
    Close(SessionId),
}

/// What a new session does first: answer the client's offer, or offer a channel itself.
enum Role {
    Answer(String),
    Offer,
}

/// A request for a new session, run on the loop (where its peer connection lives).
struct Start {
    client: IpAddr,
    role: Role,
    config: RtcConfiguration,
    /// The new session's id, or why it could not be made.
    created: oneshot::Sender<Result<SessionId, BackendError>>,
    /// The complete local description, once gathered.
    gathered: oneshot::Sender<String>,
}

struct Shared {
    /// The UDP address every session is served on.
    udp: SocketAddr,
    config: EchoConfig,
    /// The sessions; they themselves live on the loop thread.
    sessions: SessionTable<()>,
    commands: Mutex<mpsc::Sender<Command>>,
    waker: Waker,
}

impl Shared {
    fn send(&self, command: Command) -> bool {
        let sent = self
            .commands
            .lock()
            .expect("command sender lock is never poisoned")
            .send(command)
            .is_ok();
        sent && self.waker.wake().is_ok()
    }
}

/// [`SessionBackend`] whose sessions all run on one mio loop thread, on one UDP socket.
#[derive(Clone)]
pub struct MioEchoBackend {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MioEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioEchoBackend")
            .field("udp", &self.shared.udp)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl MioEchoBackend {
    /// Binds the one UDP socket every session shares on `listen_ip` and starts the loop
    /// thread; sessions run under `config`.
    pub fn start(listen_ip: IpAddr, config: EchoConfig) -> std::io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let sockets = SocketConfig {
            port: config.udp_port,
            ..SocketConfig::with_addresses([listen_ip])
        };
        let mut socket = MioUdpSocket::bind_all(&sockets)?
            .into_iter()
            .next()
            .ok_or_else(|| std::io::Error::other(format!("no UDP socket on {listen_ip}")))?;
        poll.registry()
            .register(socket.source(), SOCKET, Interest::READABLE)?;
        let udp = socket.local_addr();
        let mut endpoint = Endpoint::new(os_seed().map_err(std::io::Error::other)?);
        endpoint
            .add_local_socket(Instant::now(), udp)
            .map_err(std::io::Error::other)?;
        let (commands, receiver) = mpsc::channel();
        let shared = Arc::new(Shared {
            udp,
            config,
            sessions: SessionTable::new(config.limits),
            commands: Mutex::new(commands),
            waker,
        });
        let event_loop = EventLoop {
            poll,
            socket,
            endpoint,
            deadline: None,
            receiver,
            shared: Arc::clone(&shared),
            sessions: HashMap::new(),
            touched: BTreeSet::new(),
            streams: MioTurnStreams::default(),
        };
        std::thread::Builder::new()
            .name("echo-mio".into())
            .spawn(move || event_loop.run())?;
        Ok(Self { shared })
    }

    /// The UDP address every session is served on (one socket, bound at start).
    pub fn udp_addrs(&self) -> Vec<SocketAddr> {
        vec![self.shared.udp]
    }

    async fn create(self, role: Role, client: IpAddr) -> Result<Created, BackendError> {
        self.shared.sessions.check_room(client)?;
        // The endpoint replaces this seed with 32 bytes from its own OS-seeded rng.
        let config = echo_config(os_seed()?, self.shared.config.ice_lite);
        let (created, id) = oneshot::channel();
        let (gathered, sdp) = oneshot::channel();
        let start = Start {
            client,
            role,
            config,
            created,
            gathered,
        };
        if !self.shared.send(Command::Start(Box::new(start))) {
            return Err(BackendError::Internal("the mio loop has stopped".into()));
        }
        let id = id
            .await
            .map_err(|_| BackendError::Internal("the mio loop has stopped".into()))??;
        match tokio::time::timeout(GATHER_TIMEOUT, sdp).await {
            Ok(Ok(sdp)) => Ok(Created { id, sdp }),
            _ => {
                self.close(id);
                Err(BackendError::Internal(
                    "ICE gathering did not complete".into(),
                ))
            }
        }
    }
}

impl SessionBackend for MioEchoBackend {
    fn answer_offer(
        &self,
        offer: String,
        client: IpAddr,
    ) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().create(Role::Answer(offer), client))
    }

    fn create_offer(&self, client: IpAddr) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().create(Role::Offer, client))
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let (reply, result) = oneshot::channel();
        let turn = self.shared.sessions.take_answer_turn(id);
        let sent = turn.map(|()| self.shared.send(Command::Answer(id, answer, reply)));
        Box::pin(async move {
            if !sent? {
                return Err(BackendError::NoSession(id));
            }
            result.await.map_err(|_| BackendError::NoSession(id))?
        })
    }

    fn close(&self, id: SessionId) -> bool {
        self.shared.sessions.handle(id).is_some() && self.shared.send(Command::Close(id))
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        self.shared.sessions.stats(id)
    }

    fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }
}

/// One session as the loop holds it; its peer connection is in the endpoint.
struct Running {
    id: SessionId,
    echo: EchoSession,
    /// Closed unless an ICE check arrived by then.
    checked_by: Instant,
    saw_check: bool,
    connect_by: Instant,
    ever_connected: bool,
    /// Why the loop ended the session, if it did.
    why: Option<EndReason>,
    gathered: Option<oneshot::Sender<String>>,
}

impl Running {
    /// When [`enforce_timeouts`](Self::enforce_timeouts) must next look at the session,
    /// `None` once it connected or ended.
    fn guard_deadline(&self) -> Option<Instant> {
        if self.ever_connected || self.why.is_some() {
            return None;
        }
        Some(if self.saw_check {
            self.connect_by
        } else {
            self.checked_by.min(self.connect_by)
        })
    }

    /// Closes `pc` if it saw no ICE check by `checked_by` or did not connect by
    /// `connect_by`.
    fn enforce_timeouts(&mut self, pc: &mut PeerConnection, now: Instant) {
        if self.ever_connected || self.why.is_some() {
            return;
        }
        self.saw_check = self.saw_check || pc.stats().ice.checks_received > 0;
        let reason = if !self.saw_check && now >= self.checked_by {
            EndReason::NoCheck
        } else if now >= self.connect_by {
            EndReason::ConnectTimeout
        } else {
            return;
        };
        self.why = Some(reason);
        pc.close();
    }
}

struct EventLoop {
    poll: Poll,
    socket: MioUdpSocket,
    endpoint: Endpoint,
    /// When the endpoint next needs `handle_timeout`.
    deadline: Option<Instant>,
    receiver: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    sessions: HashMap<ConnectionHandle, Running>,
    /// Sessions whose state may have changed since they were last serviced.
    touched: BTreeSet<ConnectionHandle>,
    /// The sessions' TCP/TLS connections to TURN servers.
    streams: MioTurnStreams,
}

impl EventLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut outbox = Vec::new();
        loop {
            let now = Instant::now();
            let timeout = if self.streams.is_due() {
                Some(std::time::Duration::ZERO)
            } else {
                self.next_deadline()
                    .map(|at| at.saturating_duration_since(now))
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(%e, "echo mio loop: poll failed; stopping");
                return;
            }
            for event in &events {
                if MioTurnStreams::owns(event.token()) {
                    self.streams.ready(event.token());
                }
            }
            if events.iter().any(|e| e.token() == WAKER) {
                self.take_commands();
                self.drain(&mut outbox);
            }
            // Edge-triggered: read until the socket is empty, whatever the events say.
            self.receive_all(&mut outbox);
            self.fire_timeouts(Instant::now());
            self.drain(&mut outbox);
            self.service_streams(&mut outbox);
            self.service_touched();
            self.drain(&mut outbox);
        }
    }

    /// The earliest of the endpoint's deadline and every session's guard.
    fn next_deadline(&self) -> Option<Instant> {
        let guards = self.sessions.values().filter_map(Running::guard_deadline);
        guards.chain(self.deadline).min()
    }

    /// Applies queued commands to the endpoint.
    fn take_commands(&mut self) {
        while let Ok(command) = self.receiver.try_recv() {
            match command {
                Command::Start(start) => self.start(*start),
                Command::Answer(id, sdp, reply) => {
                    if let Some((h, pc)) = self.find(id) {
                        let _ = reply.send(session::accept_answer(pc, &sdp));
                        self.touched.insert(h);
                    }
                }
                Command::Close(id) => {
                    if let Some((h, pc)) = self.find(id) {
                        pc.close();
                        if let Some(running) = self.sessions.get_mut(&h) {
                            running.why.get_or_insert(EndReason::Closed);
                        }
                        self.touched.insert(h);
                    }
                }
            }
        }
    }

    /// The session `id`'s handle and connection.
    fn find(&mut self, id: SessionId) -> Option<(ConnectionHandle, &mut PeerConnection)> {
        let h = self
            .sessions
            .iter()
            .find(|(_, r)| r.id == id)
            .map(|(h, _)| *h)?;
        Some((h, self.endpoint.peer_connection(h)?))
    }

    /// Adds a connection for `start` to the endpoint and registers its session; reports
    /// the id or the error to the waiting request.
    fn start(&mut self, start: Start) {
        let Start {
            client,
            role,
            config,
            created,
            gathered,
        } = start;
        let now = Instant::now();
        let offering = matches!(role, Role::Offer);
        let h = match self.endpoint.add_peer_connection(config, now) {
            Ok(h) => h,
            Err(e) => {
                let _ = created.send(Err(BackendError::Internal(e.to_string())));
                return;
            }
        };
        let made = self.prepare(h, role).and_then(|echo| {
            let id = self
                .shared
                .sessions
                .insert((), echo.stats(), offering, client)?;
            Ok((id, echo))
        });
        let (id, echo) = match made {
            Ok(made) => made,
            Err(e) => {
                let _ = created.send(Err(e));
                self.discard(h);
                return;
            }
        };
        lifecycle::created(id, client, offering);
        let config = self.shared.config;
        let running = Running {
            id,
            echo,
            checked_by: now + config.unchecked_timeout,
            saw_check: false,
            connect_by: now + config.connect_timeout,
            ever_connected: false,
            why: None,
            gathered: Some(gathered),
        };
        self.sessions.insert(h, running);
        self.touched.insert(h);
        if created.send(Ok(id)).is_err() {
            // The request is gone (its client hung up): nobody will learn this session.
            self.shared.sessions.remove(id);
            self.sessions.remove(&h);
            self.discard(h);
        }
    }

    /// Runs the session's first JSEP steps on connection `h`.
    fn prepare(&mut self, h: ConnectionHandle, role: Role) -> Result<EchoSession, BackendError> {
        let pc = self
            .endpoint
            .peer_connection(h)
            .ok_or_else(|| BackendError::Internal("connection vanished".into()))?;
        match role {
            Role::Answer(offer) => EchoSession::answering(pc, &offer),
            Role::Offer => EchoSession::offering(pc),
        }
    }

    /// Closes connection `h`, which never became a session, and frees it.
    fn discard(&mut self, h: ConnectionHandle) {
        if let Some(pc) = self.endpoint.peer_connection(h) {
            pc.close();
        }
        let mut outbox = Vec::new();
        self.drain(&mut outbox);
        self.endpoint.remove_if_done(h);
    }

    /// Feeds every queued datagram of the shared socket to the endpoint, sending what it
    /// answers to each batch before reading on.
    fn receive_all(&mut self, outbox: &mut Vec<Transmit>) {
        loop {
            match self.socket.recv() {
                Ok(Some(batch)) => {
                    let now = Instant::now();
                    for d in batch.datagrams() {
                        self.endpoint
                            .handle_receive(now, d.source, d.destination, d.payload);
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::debug!(%e, "echo mio loop: receive failed");
                    return;
                }
            }
            self.drain(outbox);
        }
    }

    /// Reads and writes the TURN connections that are due, draining what the sessions make
    /// of it (which may queue more for them), a few rounds at most.
    fn service_streams(&mut self, outbox: &mut Vec<Transmit>) {
        for _ in 0..8 {
            if !self.streams.is_due() {
                return;
            }
            self.streams
                .service(self.poll.registry(), &mut self.endpoint);
            self.drain(outbox);
        }
    }

    /// Fires the endpoint's timers and the sessions' guards that are due at `now`.
    fn fire_timeouts(&mut self, now: Instant) {
        if self.deadline.is_some_and(|at| at <= now) {
            self.deadline = None;
            self.endpoint.handle_timeout(now);
        }
        for (h, running) in &mut self.sessions {
            if running.guard_deadline().is_some_and(|at| at <= now)
                && let Some(pc) = self.endpoint.peer_connection(*h)
            {
                running.enforce_timeouts(pc, now);
                self.touched.insert(*h);
            }
        }
    }

    /// Drains the endpoint: hands each event to its session and sends every datagram,
    /// [`FLUSH_EVERY`] at a time so the first leave while the endpoint builds the rest.
    fn drain(&mut self, outbox: &mut Vec<Transmit>) {
        loop {
            match self.endpoint.poll_output() {
                EndpointOutput::Transmit(_, t) => {
                    outbox.push(t);
                    if outbox.len() >= FLUSH_EVERY {
                        self.send(outbox);
                    }
                }
                EndpointOutput::Event(h, event) => {
                    if let Some(event) = self.streams.handle_event(self.poll.registry(), h, event) {
                        self.on_event(h, event);
                    }
                }
                EndpointOutput::Timeout(at) => {
                    self.deadline = at;
                    break;
                }
            }
        }
        self.send(outbox);
    }

    /// Sends `outbox` and empties it. A full socket buffer drops the rest, as a network
    /// would; SCTP resends.
    fn send(&mut self, outbox: &mut Vec<Transmit>) {
        if outbox.is_empty() {
            return;
        }
        match self.socket.send_all(outbox) {
            Ok(sent) if sent < outbox.len() => {
                tracing::debug!(
                    dropped = outbox.len() - sent,
                    "echo mio loop: send buffer full"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(%e, "echo mio loop: send failed"),
        }
        outbox.clear();
    }

    fn on_event(&mut self, h: ConnectionHandle, event: Event) {
        let (Some(running), Some(pc)) =
            (self.sessions.get_mut(&h), self.endpoint.peer_connection(h))
        else {
            return;
        };
        running.echo.on_event(pc, event);
        self.touched.insert(h);
    }

    fn service_touched(&mut self) {
        for h in std::mem::take(&mut self.touched) {
            self.service(h);
        }
    }

    /// Answers a waiting HTTP request once gathering is complete, logs the connection, and
    /// frees the session once it has ended.
    fn service(&mut self, h: ConnectionHandle) {
        let (Some(running), Some(pc)) =
            (self.sessions.get_mut(&h), self.endpoint.peer_connection(h))
        else {
            return;
        };
        if !running.ever_connected && pc.connection_state() == PeerConnectionState::Connected {
            running.ever_connected = true;
            let pair = running.echo.stats();
            let pair = pair.lock().expect("stats lock is never poisoned");
            lifecycle::connected(running.id, pair.selected_pair.as_deref());
        }
        if running.gathered.is_some()
            && let Some(sdp) = session::gathered_sdp(pc)
            && let Some(gathered) = running.gathered.take()
        {
            let _ = gathered.send(sdp);
        }
        if !session::is_finished(pc) {
            return;
        }
        let closed = pc.connection_state() == PeerConnectionState::Closed;
        let stats = pc.stats();
        let running = self.sessions.remove(&h).expect("looked up above");
        self.sessions.shrink_when_sparse();
        self.endpoint.remove_if_done(h);
        self.shared.sessions.remove(running.id);
        let fallback = match running.why {
            Some(why) => why,
            None if closed => EndReason::Closed,
            None => EndReason::Failed,
        };
        lifecycle::ended(running.id, lifecycle::end_reason(&stats, fallback), &stats);
    }
}
