//! The echo sessions on a hand-written mio event loop: one thread owns every
//! [`EchoSession`] and its non-blocking UDP socket, waits in `Poll::poll` until the earliest
//! session deadline, and takes commands from the HTTP layer through a channel plus a
//! `mio::Waker`. The same echo rule and session table as the async backend, but the
//! sans-IO core is driven by hand.

use super::backend::{
    BackendError, BoxFuture, Created, GATHER_TIMEOUT, SessionBackend, SessionId, SessionStats,
    os_seed,
};
use super::config::EchoConfig;
use super::lifecycle::{self, EndReason};
use super::session::{EchoSession, echo_config};
use super::table::SessionTable;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::oneshot;

const WAKER: Token = Token(usize::MAX);

enum Command {
    Start(Box<Started>),
    Answer(SessionId, String, oneshot::Sender<Result<(), BackendError>>),
    Close(SessionId),
}

struct Started {
    id: SessionId,
    client: IpAddr,
    offering: bool,
    session: EchoSession,
    socket: UdpSocket,
    gathered: oneshot::Sender<String>,
}

struct Shared {
    listen_ip: IpAddr,
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

/// [`SessionBackend`] whose sessions all run on one mio loop thread.
#[derive(Clone)]
pub struct MioEchoBackend {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MioEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioEchoBackend")
            .field("listen_ip", &self.shared.listen_ip)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl MioEchoBackend {
    /// Starts the loop thread. Sessions bind UDP sockets on `listen_ip`, under `config`.
    pub fn start(listen_ip: IpAddr, config: EchoConfig) -> std::io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let (commands, receiver) = mpsc::channel();
        let shared = Arc::new(Shared {
            listen_ip,
            config,
            sessions: SessionTable::new(config.limits),
            commands: Mutex::new(commands),
            waker,
        });
        let event_loop = EventLoop {
            poll,
            receiver,
            shared: Arc::clone(&shared),
            sessions: HashMap::new(),
            next_token: 0,
        };
        std::thread::Builder::new()
            .name("echo-mio".into())
            .spawn(move || event_loop.run())?;
        Ok(Self { shared })
    }

    async fn create(
        self,
        offering: bool,
        client: IpAddr,
        make: impl FnOnce(
            SocketAddr,
            rtcpeer::peer_connection::RtcConfiguration,
            Instant,
        ) -> Result<EchoSession, BackendError>,
    ) -> Result<Created, BackendError> {
        self.shared.sessions.check_room(client)?;
        let bind = SocketAddr::new(self.shared.listen_ip, 0);
        let socket =
            UdpSocket::bind(bind).map_err(|e| BackendError::Internal(format!("bind UDP: {e}")))?;
        let local = socket
            .local_addr()
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        let config = echo_config(os_seed()?, self.shared.config.ice_lite);
        let session = make(local, config, Instant::now())?;
        let id = self
            .shared
            .sessions
            .insert((), session.stats(), offering, client)?;
        let (gathered, sdp) = oneshot::channel();
        let started = Started {
            id,
            client,
            offering,
            session,
            socket,
            gathered,
        };
        if !self.shared.send(Command::Start(Box::new(started))) {
            self.shared.sessions.remove(id);
            return Err(BackendError::Internal("the mio loop has stopped".into()));
        }
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
        Box::pin(
            self.clone()
                .create(false, client, move |socket, config, now| {
                    EchoSession::answering(&offer, socket, config, now)
                }),
        )
    }

    fn create_offer(&self, client: IpAddr) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().create(true, client, EchoSession::offering))
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

/// One session as the loop holds it.
struct Running {
    id: SessionId,
    session: EchoSession,
    socket: UdpSocket,
    local: SocketAddr,
    deadline: Instant,
    /// Closed unless an ICE check arrived by then.
    checked_by: Instant,
    saw_check: bool,
    connect_by: Instant,
    ever_connected: bool,
    /// Why the loop ended the session, if it did.
    why: Option<EndReason>,
    gathered: Option<oneshot::Sender<String>>,
}

struct EventLoop {
    poll: Poll,
    receiver: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    sessions: HashMap<Token, Running>,
    next_token: usize,
}

impl EventLoop {
    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut buf = vec![0u8; 65536];
        loop {
            let now = Instant::now();
            let timeout = self
                .sessions
                .values()
                .map(|s| s.deadline.saturating_duration_since(now))
                .min();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(%e, "echo mio loop: poll failed; stopping");
                return;
            }
            let mut touched = HashSet::new();
            for event in events.iter() {
                if event.token() == WAKER {
                    touched.extend(self.take_commands());
                } else if let Some(running) = self.sessions.get_mut(&event.token()) {
                    receive_all(running, &mut buf);
                    touched.insert(event.token());
                }
            }
            let now = Instant::now();
            for (token, running) in &mut self.sessions {
                if running.deadline <= now {
                    running.enforce_timeouts(now);
                    running.session.handle_timeout(now);
                    touched.insert(*token);
                }
            }
            for token in touched {
                self.service(token);
            }
        }
    }

    /// Applies queued commands; returns the sessions they touched.
    fn take_commands(&mut self) -> Vec<Token> {
        let mut touched = Vec::new();
        while let Ok(command) = self.receiver.try_recv() {
            match command {
                Command::Start(started) => {
                    if let Some(token) = self.register(*started) {
                        touched.push(token);
                    }
                }
                Command::Answer(id, sdp, reply) => {
                    if let Some((token, running)) = self.find(id) {
                        let _ = reply.send(running.session.accept_answer(&sdp));
                        touched.push(token);
                    }
                }
                Command::Close(id) => {
                    if let Some((token, running)) = self.find(id) {
                        running.why.get_or_insert(EndReason::Closed);
                        running.session.close();
                        touched.push(token);
                    }
                }
            }
        }
        touched
    }

    fn find(&mut self, id: SessionId) -> Option<(Token, &mut Running)> {
        self.sessions
            .iter_mut()
            .find(|(_, r)| r.id == id)
            .map(|(t, r)| (*t, r))
    }

    fn register(&mut self, started: Started) -> Option<Token> {
        let Started {
            id,
            client,
            offering,
            session,
            mut socket,
            gathered,
        } = started;
        // Tokens count up (ids are random); `usize::MAX` is the waker's.
        let token = Token(self.next_token);
        self.next_token += 1;
        let local = socket.local_addr().ok()?;
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut socket, token, Interest::READABLE)
        {
            tracing::error!(%e, "echo mio loop: register failed");
            self.shared.sessions.remove(id);
            return None;
        }
        lifecycle::created(id, client, offering);
        let now = Instant::now();
        let config = self.shared.config;
        let running = Running {
            id,
            session,
            socket,
            local,
            deadline: now,
            checked_by: now + config.unchecked_timeout,
            saw_check: false,
            connect_by: now + config.connect_timeout,
            ever_connected: false,
            why: None,
            gathered: Some(gathered),
        };
        self.sessions.insert(token, running);
        Some(token)
    }

    /// Drains one session's outputs, answers a waiting HTTP request once gathering is
    /// complete, and frees the session once it has ended.
    fn service(&mut self, token: Token) {
        let Some(running) = self.sessions.get_mut(&token) else {
            return;
        };
        let socket = &running.socket;
        running.deadline = running.session.drain(&mut |t| {
            // A full socket buffer drops the datagram, as a network would; SCTP resends.
            if let Err(e) = socket.send_to(&t.payload, t.destination) {
                tracing::debug!(%e, "echo mio loop: send failed");
            }
        });
        if !running.ever_connected {
            running.ever_connected = running.session.is_connected();
            if running.ever_connected {
                let pair = running.session.stats();
                let pair = pair.lock().expect("stats lock is never poisoned");
                lifecycle::connected(running.id, pair.selected_pair.as_deref());
            }
            running.deadline = running.deadline.min(running.connect_by);
            if !running.saw_check {
                running.deadline = running.deadline.min(running.checked_by);
            }
        }
        if let Some(sdp) = running
            .gathered
            .as_ref()
            .and(running.session.gathered_sdp())
        {
            let _ = running
                .gathered
                .take()
                .expect("checked Some just above")
                .send(sdp);
        }
        if running.session.is_finished() {
            let mut running = self.sessions.remove(&token).expect("looked up above");
            let _ = self.poll.registry().deregister(&mut running.socket);
            self.shared.sessions.remove(running.id);
            let stats = running.session.pc_stats();
            let fallback = running.why.unwrap_or(EndReason::Failed);
            let fallback = if running.session.is_closed() && running.why.is_none() {
                EndReason::Closed
            } else {
                fallback
            };
            lifecycle::ended(running.id, lifecycle::end_reason(&stats, fallback), &stats);
        }
    }
}

impl Running {
    /// Closes the session if it saw no ICE check by `checked_by` or did not connect by
    /// `connect_by`.
    fn enforce_timeouts(&mut self, now: Instant) {
        if self.ever_connected || self.why.is_some() {
            return;
        }
        self.saw_check = self.saw_check || self.session.saw_check();
        let reason = if !self.saw_check && now >= self.checked_by {
            EndReason::NoCheck
        } else if now >= self.connect_by {
            EndReason::ConnectTimeout
        } else {
            return;
        };
        self.why = Some(reason);
        self.session.close();
    }
}

/// Reads every queued datagram of one session's socket into it.
fn receive_all(running: &mut Running, buf: &mut [u8]) {
    loop {
        match running.socket.recv_from(buf) {
            Ok((n, from)) => {
                let payload = buf.get(..n).unwrap_or_default();
                running
                    .session
                    .handle_datagram(Instant::now(), from, running.local, payload);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(e) => {
                tracing::debug!(%e, "echo mio loop: receive failed");
                return;
            }
        }
    }
}
