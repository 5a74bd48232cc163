//! A blocking event loop that drives the core's `Endpoint` (many peer connections on
//! shared sockets) with mio.
//!
//! The loop owns the endpoint, its sockets, a `mio::Poll` and a `mio::Waker`. Other
//! threads talk to it through a [`LoopHandle`]: they send commands (closures run on the
//! endpoint inside the loop: add a connection, JSEP calls, channel sends) and wake it;
//! [`LoopHandle::call`] also brings the command's result back as a [`Reply`].
//! Events reach the application through the callback given at construction, which may act
//! on the endpoint at once (reply to a message, signal a candidate).

use crate::turn::MioTurnStreams;
use crate::{MioUdpSocket, Reply};
use mio::{Events, Interest, Poll, Token, Waker};
use rtcpeer::Transmit;
use rtcpeer::endpoint::{ConnectionHandle, Endpoint, EndpointOutput};
use rtcpeer::peer_connection::Event;
use rtcpeer::runtime::SocketConfig;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAKER: Token = Token(usize::MAX);
/// The socket joined to the mDNS group.
const MDNS: Token = Token(usize::MAX - 1);
/// Transmits taken from the endpoint between two sends: about one GSO send's worth.
const FLUSH_EVERY: usize = 32;
/// Transmits queued per socket before the oldest are dropped.
const MAX_OUTBOX: usize = 16_384;
/// After [`LoopHandle::close`], how long the loop waits for its TURN connections to write
/// their last bytes (deallocations) before it returns anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Stream services per wake-up: the core's answer to what a stream read may queue more
/// for it, so one turn services until quiet, up to this.
const STREAM_ROUNDS: usize = 8;

/// A command run on the endpoint inside the loop.
pub type Command = Box<dyn FnOnce(&mut Endpoint) + Send>;
/// The event callback: every event of every connection except name resolution requests,
/// which the loop answers itself (blocking `ToSocketAddrs`), and the TURN connection
/// requests (`TurnConnect`, `TurnSend`, `TurnClose`), which the loop carries out itself.
pub type EventHandler = Box<dyn FnMut(&mut Endpoint, ConnectionHandle, Event) + Send>;

/// Sends commands to an [`EventLoop`] from any thread. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LoopHandle {
    commands: mpsc::Sender<Option<Command>>,
    waker: Arc<Waker>,
}

/// The loop has ended; the command was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event loop has ended")]
pub struct LoopEnded;

impl LoopHandle {
    /// Runs `command` on the endpoint inside the loop, then drains its output.
    pub fn execute(
        &self,
        command: impl FnOnce(&mut Endpoint) + Send + 'static,
    ) -> Result<(), LoopEnded> {
        self.commands
            .send(Some(Box::new(command)))
            .map_err(|_| LoopEnded)?;
        self.waker.wake().map_err(|_| LoopEnded)
    }

    /// Runs `command` on the endpoint inside the loop, drains its output, and hands the
    /// command's return value back through the [`Reply`]: the way to ask the loop a
    /// question (create an offer, read a state) from another thread.
    ///
    /// The reply resolves to `Err(LoopEnded)` if the loop ended before running the command.
    /// Never wait for it on the loop thread (see [`Reply`]).
    pub fn call<T: Send + 'static>(
        &self,
        command: impl FnOnce(&mut Endpoint) -> T + Send + 'static,
    ) -> Reply<T> {
        let (reply, responder) = crate::reply::reply();
        // On failure the command, and with it the responder, is dropped: the reply then
        // reports `LoopEnded`.
        let _ = self.execute(move |endpoint| responder.send(command(endpoint)));
        reply
    }

    /// Closes every connection; the loop sends the closing datagrams and returns.
    pub fn close(&self) -> Result<(), LoopEnded> {
        self.commands.send(None).map_err(|_| LoopEnded)?;
        self.waker.wake().map_err(|_| LoopEnded)
    }
}

struct SocketSlot {
    socket: MioUdpSocket,
    outbox: VecDeque<Transmit>,
    writable_wait: bool,
    /// The socket is registered for writable events too (re-registered only on change).
    registered_writable: bool,
}

/// The loop; see the module documentation. Build it, hand out [`LoopHandle`]s, then call
/// [`run`](Self::run) on the thread that should own the connection.
pub struct EventLoop {
    poll: Poll,
    sockets: Vec<SocketSlot>,
    endpoint: Endpoint,
    commands: mpsc::Receiver<Option<Command>>,
    handle: LoopHandle,
    on_event: EventHandler,
    deadline: Option<Instant>,
    closing: bool,
    /// When the loop returns at the latest once closing (TURN connections still writing).
    close_by: Option<Instant>,
    /// TCP/TLS connections to TURN servers.
    streams: MioTurnStreams,
    /// The socket joined to the mDNS group, opened when a connection first queries it.
    mdns: MdnsSocket,
}

/// The loop's mDNS socket (one for all its connections): not needed yet, open, or failed
/// for good.
///
/// The core sends one-shot queries (RFC 6762 section 5.1) from a connection's socket to
/// 224.0.0.251:5353; responders that multicast their answers to the group (rather than
/// unicast them to the query's source port) reach only a socket bound to port 5353 that
/// joined the group. The loop opens it on the first query, on the interface of the socket
/// the query leaves from, and hands what arrives from port 5353 to the endpoint, which
/// gives it to the connections resolving a name. A loop whose connections never see a
/// `.local` candidate opens nothing; a socket that cannot be opened is logged once and
/// counted in that connection's `mdns_socket_errors`.
#[derive(Debug, Default)]
enum MdnsSocket {
    #[default]
    Unopened,
    Open(MioUdpSocket),
    Failed,
}
impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("sockets", &self.local_addrs())
            .field("deadline", &self.deadline)
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    /// Binds sockets per `sockets`, creates an endpoint seeded from the OS (every
    /// connection's seed is drawn from it) and registers everything with a new `Poll`.
    /// Add connections with [`endpoint`](Self::endpoint) or a [`LoopHandle`] command.
    pub fn new(
        sockets: &SocketConfig,
        on_event: impl FnMut(&mut Endpoint, ConnectionHandle, Event) + Send + 'static,
    ) -> Result<Self, rtcpeer::Error> {
        let io_err = |e: io::Error| rtcpeer::Error::InvalidConfig(format!("sockets: {e}"));
        let poll = Poll::new().map_err(io_err)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(io_err)?);
        let mut bound = MioUdpSocket::bind_all(sockets).map_err(io_err)?;
        let seed = rtcpeer::Seed::from_bytes(rtcpeer_net::os_seed());
        let now = Instant::now();
        let mut endpoint = Endpoint::new(seed);
        for (i, socket) in bound.iter_mut().enumerate() {
            poll.registry()
                .register(socket.source(), Token(i), Interest::READABLE)
                .map_err(io_err)?;
            endpoint.add_local_socket(now, socket.local_addr())?;
        }
        let (tx, commands) = mpsc::channel();
        let sockets = bound
            .into_iter()
            .map(|socket| SocketSlot {
                socket,
                outbox: VecDeque::new(),
                writable_wait: false,
                registered_writable: false,
            })
            .collect();
        Ok(Self {
            poll,
            sockets,
            endpoint,
            commands,
            handle: LoopHandle {
                commands: tx,
                waker,
            },
            on_event: Box::new(on_event),
            deadline: None,
            closing: false,
            close_by: None,
            streams: MioTurnStreams::default(),
            mdns: MdnsSocket::Unopened,
        })
    }

    /// A handle for other threads.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }

    /// The bound socket addresses (host candidates).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets.iter().map(|s| s.socket.local_addr()).collect()
    }

    /// The endpoint, for calls before the loop runs (add a connection, create an offer).
    pub fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }

    /// Runs until the connections are closed through a [`LoopHandle::close`] and the closing
    /// datagrams are sent.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(64);
        self.drain_output();
        loop {
            self.flush()?;
            if self.closing && self.sockets.iter().all(|s| s.outbox.is_empty()) {
                let close_by = *self
                    .close_by
                    .get_or_insert_with(|| Instant::now() + CLOSE_GRACE);
                if self.streams.is_empty() || Instant::now() >= close_by {
                    return Ok(());
                }
            }
            let wake_at = match self.close_by {
                Some(at) => Some(self.deadline.map_or(at, |d| d.min(at))),
                None => self.deadline,
            };
            let timeout = if self.streams.is_due() {
                Some(Duration::ZERO)
            } else {
                wake_at.map(|at| at.saturating_duration_since(Instant::now()))
            };
            self.turn(&mut events, timeout)?;
        }
    }

    /// One wait-and-handle step: waits for readiness or at most `timeout`, then handles
    /// commands, datagrams and the deadline and drains the connection's output.
    fn turn(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(events, timeout) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => other?,
        }
        for event in events.iter() {
            let token = event.token();
            if token == WAKER || token == MDNS {
                continue;
            }
            if MioTurnStreams::owns(token) {
                self.streams.ready(token);
                continue;
            }
            if event.is_writable()
                && let Some(slot) = self.sockets.get_mut(token.0)
            {
                slot.writable_wait = false;
            }
        }
        self.run_commands();
        self.receive_all()?;
        let now = Instant::now();
        if self.deadline.is_some_and(|at| at <= now) {
            self.deadline = None;
            self.endpoint.handle_timeout(now);
        }
        self.drain_and_flush()?;
        self.service_streams()
    }

    /// Connects, reads and writes the TURN connections that are due, and drains what the
    /// core made of it (which may queue more for them), until quiet or
    /// [`STREAM_ROUNDS`].
    fn service_streams(&mut self) -> io::Result<()> {
        for _ in 0..STREAM_ROUNDS {
            if !self.streams.is_due() {
                break;
            }
            self.streams
                .service(self.poll.registry(), &mut self.endpoint);
            self.drain_and_flush()?;
        }
        Ok(())
    }

    fn run_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            match command {
                Some(command) => command(&mut self.endpoint),
                None => {
                    for h in self.endpoint.handles() {
                        if let Some(pc) = self.endpoint.peer_connection(h) {
                            pc.close();
                        }
                    }
                    self.closing = true;
                }
            }
            self.drain_output();
        }
    }

    /// Edge-triggered readiness: read every socket until it has nothing queued. What the
    /// endpoint answers to a batch (acknowledgements, data they allow) is sent before the
    /// next receive, so the peer works on it while this loop reads on.
    fn receive_all(&mut self) -> io::Result<()> {
        for i in 0..self.sockets.len() {
            while let Some(batch) = self.sockets[i].socket.recv()? {
                let now = Instant::now();
                for d in batch.datagrams() {
                    self.endpoint
                        .handle_receive(now, d.source, d.destination, d.payload);
                }
                self.drain_and_flush()?;
            }
        }
        self.receive_mdns()
    }

    /// Reads the mDNS socket until it has nothing queued, handing datagrams from port 5353
    /// (answers; our own queries loop back from other ports) to the endpoint. A receive
    /// error closes the socket for good: it is not the connections'.
    fn receive_mdns(&mut self) -> io::Result<()> {
        loop {
            let MdnsSocket::Open(socket) = &mut self.mdns else {
                return Ok(());
            };
            match socket.recv() {
                Ok(Some(batch)) => {
                    let now = Instant::now();
                    for d in batch.datagrams() {
                        if d.source.port() == rtcpeer::mdns::MDNS_PORT {
                            self.endpoint
                                .handle_receive(now, d.source, d.destination, d.payload);
                        }
                    }
                    self.drain_and_flush()?;
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "mDNS socket failed; closed");
                    let _ = self.poll.registry().deregister(socket.source());
                    self.mdns = MdnsSocket::Failed;
                    return Ok(());
                }
            }
        }
    }

    /// Opens the mDNS socket if `t` is the first query to the IPv4 group (see
    /// [`MdnsSocket`]).
    fn open_mdns(&mut self, h: ConnectionHandle, t: &Transmit) {
        use rtcpeer::mdns::{MDNS_IPV4, MDNS_PORT};
        if !matches!(self.mdns, MdnsSocket::Unopened)
            || t.destination != SocketAddr::from((MDNS_IPV4, MDNS_PORT))
        {
            return;
        }
        let std::net::IpAddr::V4(interface) = t.source.ip() else {
            return;
        };
        let opened = rtcpeer_net::bind_mdns_socket(interface)
            .and_then(MioUdpSocket::from_std)
            .and_then(|mut socket| {
                self.poll
                    .registry()
                    .register(socket.source(), MDNS, Interest::READABLE)?;
                Ok(socket)
            });
        match opened {
            Ok(socket) => {
                tracing::debug!(%interface, "mDNS socket joined 224.0.0.251 on port 5353");
                self.mdns = MdnsSocket::Open(socket);
            }
            Err(e) => {
                tracing::warn!(%interface, error = %e, "mDNS socket not opened: only answers unicast to our query's source will resolve .local candidates");
                self.mdns = MdnsSocket::Failed;
                if let Some(pc) = self.endpoint.peer_connection(h) {
                    pc.report_mdns_socket_error();
                }
            }
        }
    }

    fn drain_output(&mut self) {
        while !self.drain_some(usize::MAX) {}
    }

    /// Drains the endpoint, sending every [`FLUSH_EVERY`] datagrams on the way, so the first
    /// datagrams leave while the endpoint still builds the rest.
    fn drain_and_flush(&mut self) -> io::Result<()> {
        while !self.drain_some(FLUSH_EVERY) {
            self.flush()?;
        }
        self.flush()
    }

    /// Drains the endpoint until it returns a timeout (then returns `true`) or until
    /// `limit` transmits were queued.
    fn drain_some(&mut self, limit: usize) -> bool {
        let mut queued = 0;
        while queued < limit {
            match self.endpoint.poll_output() {
                EndpointOutput::Transmit(h, t) => {
                    self.open_mdns(h, &t);
                    self.queue(t);
                    queued += 1;
                }
                EndpointOutput::Event(h, Event::ResolveName(name)) => self.resolve(h, &name),
                EndpointOutput::Event(h, event) => {
                    if let Some(event) = self.streams.handle_event(self.poll.registry(), h, event) {
                        (self.on_event)(&mut self.endpoint, h, event);
                    }
                }
                EndpointOutput::Timeout(at) => {
                    self.deadline = at;
                    return true;
                }
            }
        }
        false
    }

    fn resolve(&mut self, h: ConnectionHandle, name: &str) {
        use std::net::ToSocketAddrs;
        let ips: Vec<_> = match (name, 0).to_socket_addrs() {
            Ok(addrs) => addrs.map(|a| a.ip()).collect(),
            Err(e) => {
                tracing::debug!(%name, error = %e, "name resolution failed");
                Vec::new()
            }
        };
        if let Some(pc) = self.endpoint.peer_connection(h) {
            pc.handle_resolved(Instant::now(), name, &ips);
        }
    }

    fn queue(&mut self, t: Transmit) {
        let Some(slot) = self
            .sockets
            .iter_mut()
            .find(|s| s.socket.local_addr() == t.source)
        else {
            tracing::debug!(source = %t.source, "no socket for transmit source, dropped");
            return;
        };
        if slot.outbox.len() >= MAX_OUTBOX {
            slot.outbox.pop_front();
        }
        slot.outbox.push_back(t);
    }

    /// Sends queued transmits; a socket whose buffer is full waits for a writable event.
    fn flush(&mut self) -> io::Result<()> {
        for (i, slot) in self.sockets.iter_mut().enumerate() {
            if slot.writable_wait || slot.outbox.is_empty() {
                continue;
            }
            let sent = slot.socket.send_all(slot.outbox.make_contiguous())?;
            slot.outbox.drain(..sent);
            let want_writable = !slot.outbox.is_empty();
            slot.writable_wait = want_writable;
            if want_writable == slot.registered_writable {
                continue;
            }
            let interest = if want_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            self.poll
                .registry()
                .reregister(slot.socket.source(), Token(i), interest)?;
            slot.registered_writable = want_writable;
        }
        Ok(())
    }
}
