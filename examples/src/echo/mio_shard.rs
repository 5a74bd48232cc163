//! One loop thread of the mio echo backend, a *shard*: it owns a core [`Endpoint`] holding
//! its sessions' peer connections, its own UDP socket on the one published port, the TURN
//! streams of its sessions and a `mio::Poll`. It waits until the earliest deadline (the
//! endpoint's or a session's guard, both O(log n) to find) or a wake from its mailbox
//! (commands from the HTTP layer, datagrams other shards received for its connections);
//! see [`mio_shards`](super::mio_shards) for how datagrams find their shard.
//!
//! Each turn: take the mailbox, read the socket until it is empty (routing each batch),
//! fire what is due, service the TURN streams and the sessions that changed, and drain the
//! endpoint after each step, sending what it produced from this shard's socket.

use super::backend::{BackendError, SessionId, os_seed};
use super::lifecycle::{self, EndReason};
use super::mio_session::{Guards, Running};
use super::mio_shards::{Command, Inbox, Role, SessionRef, Shards, Sorter, Start};
use super::session::{self, EchoSession};
use mio::{Events, Poll, Token};
use rtcpeer::capacity::ShrinkWhenSparse;
use rtcpeer::peer_connection::{Event, PeerConnection, PeerConnectionState, RtcConfiguration};
use rtcpeer::{ConnectionHandle, Endpoint, EndpointOutput, Transmit};
use rtcpeer_mio::{MioTurnStreams, MioUdpSocket};
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token of a shard's `mio::Waker`.
pub(super) const WAKER: Token = Token(usize::MAX);
/// The token of a shard's UDP socket.
pub(super) const SOCKET: Token = Token(0);
/// Transmits taken from the endpoint between two sends: about one GSO send's worth.
const FLUSH_EVERY: usize = 32;
/// Failed reads in a row after which a turn stops reading (the next turn tries again).
const MAX_READ_ERRORS: usize = 16;
/// Rounds of TURN stream service per loop turn at most.
const STREAM_ROUNDS: usize = 8;

/// One shard's loop; see the module documentation.
pub(super) struct Shard {
    index: usize,
    poll: Poll,
    socket: MioUdpSocket,
    /// The socket may hold datagrams: it signalled readable and was not read empty since.
    readable: bool,
    endpoint: Endpoint,
    /// When the endpoint next needs `handle_timeout`.
    deadline: Option<Instant>,
    shards: Arc<Shards>,
    /// The empty inbox swapped with the mailbox's on each take.
    inbox: Inbox,
    sessions: HashMap<ConnectionHandle, Running>,
    guards: Guards,
    /// Sessions whose state may have changed since they were last serviced.
    touched: BTreeSet<ConnectionHandle>,
    /// The sessions' TCP/TLS connections to TURN servers.
    streams: MioTurnStreams,
    sorter: Sorter,
    /// (connection, local, remote) of the last drain's transmits, for the shared router.
    sent_on: Vec<(ConnectionHandle, SocketAddr, SocketAddr)>,
}

impl Shard {
    /// Shard `index` of `shards`, on `poll` and `socket` (registered with it).
    pub(super) fn new(
        index: usize,
        (poll, socket): (Poll, MioUdpSocket),
        shards: Arc<Shards>,
    ) -> io::Result<Self> {
        let mut endpoint = Endpoint::new(os_seed().map_err(io::Error::other)?);
        endpoint
            .add_local_socket(Instant::now(), socket.local_addr())
            .map_err(io::Error::other)?;
        let sorter = Sorter::new(shards.len());
        Ok(Self {
            index,
            poll,
            socket,
            readable: true,
            endpoint,
            deadline: None,
            shards,
            inbox: Inbox::default(),
            sessions: HashMap::new(),
            guards: Guards::default(),
            touched: BTreeSet::new(),
            streams: MioTurnStreams::default(),
            sorter,
            sent_on: Vec::new(),
        })
    }

    /// Runs until the backend is dropped, then closes the shard's sessions.
    pub(super) fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut outbox = Vec::new();
        while !self.shards.is_stopped() {
            let timeout = if self.shards.park(self.index) {
                self.poll_timeout(Instant::now())
            } else {
                Some(Duration::ZERO)
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => self.turn(&events, &mut outbox),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::error!(%e, shard = self.index, "echo mio loop: poll failed; stopping");
                    return;
                }
            }
        }
        self.close_all(&mut outbox);
    }

    /// How long `poll` may wait: until the earliest of the endpoint's deadline and the
    /// sessions' guards, not at all while a TURN stream is due.
    fn poll_timeout(&mut self, now: Instant) -> Option<Duration> {
        if self.streams.is_due() {
            return Some(Duration::ZERO);
        }
        let guard = self.guards.earliest(&self.sessions);
        let earliest = [guard, self.deadline].into_iter().flatten().min();
        earliest.map(|at| at.saturating_duration_since(now))
    }

    /// One loop turn after `poll` returned `events`.
    fn turn(&mut self, events: &Events, outbox: &mut Vec<Transmit>) {
        for event in events {
            if event.token() == SOCKET {
                self.readable = true;
            } else if MioTurnStreams::owns(event.token()) {
                self.streams.ready(event.token());
            }
        }
        self.take_mailbox();
        self.drain(outbox);
        self.receive_all(outbox);
        self.fire_timeouts(Instant::now());
        self.drain(outbox);
        self.service_streams(outbox);
        self.service_touched();
        self.drain(outbox);
        self.shards.report_if_due(Instant::now());
    }

    /// Whether other shards exist (and so the shared router is in use).
    fn sharded(&self) -> bool {
        self.shards.len() > 1
    }

    /// Takes everything queued for this shard: runs the commands and feeds the datagrams
    /// other shards received for its connections to the endpoint.
    fn take_mailbox(&mut self) {
        self.shards.take(self.index, &mut self.inbox);
        let mut inbox = std::mem::take(&mut self.inbox);
        for command in inbox.commands.drain(..) {
            self.command(command);
        }
        let now = Instant::now();
        for d in &inbox.forwarded {
            self.endpoint
                .handle_receive(now, d.source, d.destination, &d.payload);
        }
        inbox.clear();
        self.inbox = inbox;
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Start(start) => self.start(*start),
            Command::Answer(id, h, sdp, reply) => {
                if let Some(pc) = self.session_pc(id, h) {
                    let _ = reply.send(session::accept_answer(pc, &sdp));
                    self.touched.insert(h);
                }
            }
            Command::Close(id, h) => {
                if let Some(pc) = self.session_pc(id, h) {
                    pc.close();
                    if let Some(running) = self.sessions.get_mut(&h) {
                        running.why.get_or_insert(EndReason::Closed);
                    }
                    self.touched.insert(h);
                }
            }
        }
    }

    /// Connection `h`, if it is session `id`'s.
    fn session_pc(&mut self, id: SessionId, h: ConnectionHandle) -> Option<&mut PeerConnection> {
        if self.sessions.get(&h).is_none_or(|r| r.id != id) {
            return None;
        }
        self.endpoint.peer_connection(h)
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
        let (h, echo) = match self.open(role, config, now) {
            Ok(opened) => opened,
            Err(e) => {
                self.shards.unload(self.index);
                let _ = created.send(Err(e));
                return;
            }
        };
        let this = SessionRef {
            shard: self.index,
            handle: h,
        };
        let id = match self
            .shards
            .sessions
            .insert(this, echo.stats(), offering, client)
        {
            Ok(id) => id,
            Err(e) => {
                self.discard(h);
                self.shards.unload(self.index);
                let _ = created.send(Err(e));
                return;
            }
        };
        lifecycle::created(id, client, offering);
        let config = self.shards.config;
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
        self.guards.arm(h, &running);
        self.sessions.insert(h, running);
        self.touched.insert(h);
        if created.send(Ok(id)).is_err() {
            // The request is gone (its client hung up): nobody will learn this session.
            self.shards.sessions.remove(id);
            self.sessions.remove(&h);
            self.discard(h);
            self.shards.unload(self.index);
        }
    }

    /// A new connection of the endpoint, its first JSEP step run and its ufrag known to
    /// the shared router; on error it is discarded.
    fn open(
        &mut self,
        role: Role,
        config: RtcConfiguration,
        now: Instant,
    ) -> Result<(ConnectionHandle, EchoSession), BackendError> {
        let h = self
            .endpoint
            .add_peer_connection(config, now)
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        let made = self.prepare(h, role);
        let published = made.and_then(|echo| self.publish_ufrag(h).map(|()| echo));
        match published {
            Ok(echo) => Ok((h, echo)),
            Err(e) => {
                self.discard(h);
                Err(e)
            }
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

    /// Tells the shared router connection `h`'s local ufrag, so that another shard's
    /// socket routes the first ICE checks to this shard. (The echo sessions change their
    /// ufrag only with their first local description, made before this.)
    fn publish_ufrag(&mut self, h: ConnectionHandle) -> Result<(), BackendError> {
        if !self.sharded() {
            return Ok(());
        }
        let global = self
            .shards
            .global(self.index, h)
            .ok_or_else(|| BackendError::Internal("connection handles exhausted".into()))?;
        let pc = self
            .endpoint
            .peer_connection(h)
            .ok_or_else(|| BackendError::Internal("connection vanished".into()))?;
        self.shards.router().set_ufrag(global, pc.local_ufrag());
        Ok(())
    }

    /// Forgets connection `h` in the shared router.
    fn forget(&mut self, h: ConnectionHandle) {
        if self.sharded()
            && let Some(global) = self.shards.global(self.index, h)
        {
            self.shards.router().remove(global);
        }
    }

    /// Closes connection `h`, which never became a session or whose request is gone, and
    /// frees it.
    fn discard(&mut self, h: ConnectionHandle) {
        if let Some(pc) = self.endpoint.peer_connection(h) {
            pc.close();
        }
        let mut outbox = Vec::new();
        self.drain(&mut outbox);
        self.endpoint.remove_if_done(h);
        self.forget(h);
    }

    /// Reads every queued datagram of the shard's socket, routes each batch (see
    /// [`Sorter::route`]) and sends what the endpoint answers before reading on. Reads
    /// only after a readable event (or a failed read): mio is edge-triggered, and the
    /// socket was read until empty after the previous one, so a wake by the mailbox or a
    /// timer costs no system call here.
    fn receive_all(&mut self, outbox: &mut Vec<Transmit>) {
        let mut errors = 0;
        while self.readable {
            let batch = match self.socket.recv() {
                Ok(Some(batch)) => batch,
                Ok(None) => {
                    self.readable = false;
                    return;
                }
                Err(e) => {
                    // Reported once per read (an ICMP error for an earlier send): read on,
                    // unless it persists.
                    tracing::debug!(%e, "echo mio loop: receive failed");
                    errors += 1;
                    if errors >= MAX_READ_ERRORS {
                        return;
                    }
                    continue;
                }
            };
            let (shard, shards) = (self.index, &*self.shards);
            self.sorter.route(batch, shard, shards, &mut self.endpoint);
            self.drain(outbox);
        }
    }

    /// Reads and writes the TURN connections that are due, draining what the sessions make
    /// of it (which may queue more for them), a few rounds at most.
    fn service_streams(&mut self, outbox: &mut Vec<Transmit>) {
        for _ in 0..STREAM_ROUNDS {
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
        while let Some(h) = self.guards.pop_due(now, &self.sessions) {
            let (Some(running), Some(pc)) =
                (self.sessions.get_mut(&h), self.endpoint.peer_connection(h))
            else {
                continue;
            };
            running.enforce_timeouts(pc, now);
            self.guards.arm(h, running);
            self.touched.insert(h);
        }
    }

    /// Drains the endpoint: hands each event to its session and sends every datagram,
    /// [`FLUSH_EVERY`] at a time so the first leave while the endpoint builds the rest;
    /// then tells the shared router where the connections sent.
    fn drain(&mut self, outbox: &mut Vec<Transmit>) {
        loop {
            match self.endpoint.poll_output() {
                EndpointOutput::Transmit(h, t) => {
                    let sent_on = (h, t.source, t.destination);
                    if self.sharded() && is_stun(&t) && self.sent_on.last() != Some(&sent_on) {
                        self.sent_on.push(sent_on);
                    }
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
        self.learn_sent_on();
    }

    /// Teaches the shared router the address pairs the last drain sent STUN on (a peer's
    /// answers from there, which carry no USERNAME, come back to this shard), under one
    /// lock. STUN alone: every pair carries ICE checks (or, to a TURN server, an
    /// allocation) before anything else, so the other datagrams would only repeat routes
    /// already known, for a lock per drain.
    fn learn_sent_on(&mut self) {
        if self.sent_on.is_empty() {
            return;
        }
        let mut router = self.shards.router();
        for (h, local, remote) in self.sent_on.drain(..) {
            if let Some(global) = self.shards.global(self.index, h) {
                router.learn(global, local, remote);
            }
        }
    }

    /// Sends `outbox` from the shard's socket and empties it. A full socket buffer drops
    /// the rest, as a network would; SCTP resends.
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
        self.forget(h);
        self.shards.unload(self.index);
        self.shards.sessions.remove(running.id);
        let fallback = match running.why {
            Some(why) => why,
            None if closed => EndReason::Closed,
            None => EndReason::Failed,
        };
        lifecycle::ended(running.id, lifecycle::end_reason(&stats, fallback), &stats);
    }

    /// Closes every session of the shard (their peers learn it: DTLS close_notify) and
    /// frees their slots.
    fn close_all(&mut self, outbox: &mut Vec<Transmit>) {
        let handles: Vec<_> = self.sessions.keys().copied().collect();
        for h in &handles {
            if let Some(pc) = self.endpoint.peer_connection(*h) {
                pc.close();
            }
            if let Some(running) = self.sessions.get_mut(h) {
                running.why.get_or_insert(EndReason::Closed);
            }
        }
        self.drain(outbox);
        for h in handles {
            self.service(h);
        }
    }
}

/// Whether `t` is STUN (RFC 7983: first byte 0 to 3).
fn is_stun(t: &Transmit) -> bool {
    t.payload.first().is_some_and(|b| *b < 4)
}
