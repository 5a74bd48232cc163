//! The event loop's TURN connections (`turn:...?transport=tcp`, `turns:`): a non-blocking
//! `mio::net::TcpStream` per connection the core asks for (`Event::TurnConnect`),
//! registered with the loop's `Poll`, carrying what the core writes (`Event::TurnSend`)
//! and feeding what it reads to the connection that asked for it
//! (`PeerConnection::handle_turn_data`). TLS for `turns:` and the send queue are the
//! core's [`TurnStreamConn`], which the async adapters use too; this file only moves bytes
//! between it and the socket.
//!
//! Readiness is edge-triggered: a stream is serviced after each of its events and after
//! the core queued bytes for it, and is read until the socket would block (or
//! [`READS_PER_TURN`], after which it stays due and the loop does not sleep).
//!
//! [`EventLoop`](crate::EventLoop) uses it; a hand-written mio loop over an `Endpoint`
//! uses it the same way (see [`MioTurnStreams`]).

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rtcpeer::endpoint::{ConnectionHandle, Endpoint};
use rtcpeer::peer_connection::Event;
use rtcpeer::runtime::turn_conn::TurnStreamConn;
use rtcpeer::turn::{TurnConnectionId, TurnError};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::time::{Instant, SystemTime};

/// Tokens from here up (2^30 to 2^30 + 2^29) name TURN streams: give the loop's other
/// sources (sockets, the waker) tokens outside that range.
pub const FIRST_STREAM_TOKEN: usize = 1 << 30;
/// How many stream tokens there are before they wrap.
const STREAM_TOKENS: usize = 1 << 29;
/// Bytes read per call.
const READ_CHUNK: usize = 16 * 1024;
/// Reads per stream per service before other work gets a turn.
const READS_PER_TURN: usize = 16;

struct Stream {
    owner: ConnectionHandle,
    tcp: TcpStream,
    /// The TCP connection completed.
    tcp_up: bool,
    bytes: TurnStreamConn,
}

/// What servicing did to a stream.
enum Outcome {
    Keep,
    /// Read as much as allowed: service again without waiting for an event.
    Again,
    /// Failed: tell its connection, then drop it.
    Fail(TurnError),
    /// Done (closed by the core, or its connection is gone): drop it.
    Drop,
}

/// Every TURN connection (TCP/TLS) of the connections of one `Endpoint` driven by a mio
/// loop. The loop's part:
///
/// - pass every event of [`Endpoint::poll_output`] through
///   [`handle_event`](Self::handle_event) (it keeps `TurnConnect`, `TurnSend` and
///   `TurnClose` and hands the rest back);
/// - pass readiness events whose token it [`owns`](Self::owns) to [`ready`](Self::ready);
/// - while [`is_due`](Self::is_due), call [`service`](Self::service) and drain the
///   endpoint again (it fed connections), and do not sleep in `Poll::poll`.
#[derive(Default)]
pub struct MioTurnStreams {
    streams: HashMap<Token, Stream>,
    next: usize,
    /// Streams to service: readiness events and newly queued bytes.
    due: Vec<Token>,
    /// Connections that could not even be started: reported at the next service.
    failed: Vec<(ConnectionHandle, TurnConnectionId, TurnError)>,
}

impl std::fmt::Debug for MioTurnStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioTurnStreams")
            .field("streams", &self.streams.len())
            .finish()
    }
}

impl MioTurnStreams {
    /// Whether `token` names a stream.
    pub fn owns(token: Token) -> bool {
        (FIRST_STREAM_TOKEN..FIRST_STREAM_TOKEN + STREAM_TOKENS).contains(&token.0)
    }

    /// Whether a stream waits for service (the loop must not sleep).
    pub fn is_due(&self) -> bool {
        !self.due.is_empty() || !self.failed.is_empty()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// A readiness event for `token`.
    pub fn ready(&mut self, token: Token) {
        if self.streams.contains_key(&token) && !self.due.contains(&token) {
            self.due.push(token);
        }
    }

    /// Takes the TURN events of connection `owner`; returns any other event back.
    pub fn handle_event(
        &mut self,
        registry: &Registry,
        owner: ConnectionHandle,
        event: Event,
    ) -> Option<Event> {
        match event {
            Event::TurnConnect(request) => {
                tracing::debug!(id = %request.id, server = %request.server, transport = ?request.transport, "turn: connecting");
                let id = request.id;
                match self.open(registry, owner, TurnStreamConn::new(request)) {
                    Ok(token) => self.due.push(token),
                    Err(e) => {
                        self.failed
                            .push((owner, id, TurnError::Connect(e.to_string())));
                    }
                }
                None
            }
            Event::TurnSend { id, data } => {
                if let Some(token) = self.find(owner, id) {
                    if let Some(s) = self.streams.get_mut(&token) {
                        s.bytes.send(data);
                    }
                    self.ready(token);
                }
                None
            }
            Event::TurnClose(id) => {
                if let Some(token) = self.find(owner, id) {
                    if let Some(s) = self.streams.get_mut(&token) {
                        s.bytes.close();
                    }
                    self.ready(token);
                }
                None
            }
            other => Some(other),
        }
    }

    fn find(&self, owner: ConnectionHandle, id: TurnConnectionId) -> Option<Token> {
        self.streams
            .iter()
            .find(|(_, s)| s.owner == owner && s.bytes.id() == id)
            .map(|(t, _)| *t)
    }

    /// Starts a non-blocking connect and registers it; completion is a writable event.
    fn open(
        &mut self,
        registry: &Registry,
        owner: ConnectionHandle,
        bytes: TurnStreamConn,
    ) -> io::Result<Token> {
        let mut tcp = TcpStream::connect(bytes.server())?;
        let token = loop {
            let token = Token(FIRST_STREAM_TOKEN + self.next);
            self.next = (self.next + 1) % STREAM_TOKENS;
            if !self.streams.contains_key(&token) {
                break token;
            }
        };
        registry.register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE)?;
        self.streams.insert(
            token,
            Stream {
                owner,
                tcp,
                tcp_up: false,
                bytes,
            },
        );
        Ok(token)
    }

    /// Connects, reads and writes the due streams, feeding their connections in
    /// `endpoint` (which then have output to drain). Returns whether anything happened.
    pub fn service(&mut self, registry: &Registry, endpoint: &mut Endpoint) -> bool {
        let mut progress = false;
        for (owner, id, error) in std::mem::take(&mut self.failed) {
            tracing::debug!(%id, %error, "turn: connection failed");
            if let Some(pc) = endpoint.peer_connection(owner) {
                pc.handle_turn_failed(Instant::now(), id, error);
            }
            progress = true;
        }
        for token in std::mem::take(&mut self.due) {
            let Some(stream) = self.streams.get_mut(&token) else {
                continue;
            };
            progress = true;
            match stream.step(endpoint) {
                Outcome::Keep => {}
                Outcome::Again => self.due.push(token),
                Outcome::Fail(error) => {
                    let (owner, id) = (stream.owner, stream.bytes.id());
                    tracing::debug!(%id, %error, "turn: connection failed");
                    if let Some(pc) = endpoint.peer_connection(owner) {
                        pc.handle_turn_failed(Instant::now(), id, error);
                    }
                    self.remove(registry, token);
                }
                Outcome::Drop => self.remove(registry, token),
            }
        }
        progress
    }

    fn remove(&mut self, registry: &Registry, token: Token) {
        if let Some(mut s) = self.streams.remove(&token) {
            let _ = registry.deregister(&mut s.tcp);
        }
    }
}

impl Stream {
    fn step(&mut self, endpoint: &mut Endpoint) -> Outcome {
        if endpoint.peer_connection(self.owner).is_none() {
            return Outcome::Drop;
        }
        if !self.tcp_up {
            if !self.bytes.reports_failure() {
                // Closed before it was up: nothing to say on it.
                return Outcome::Drop;
            }
            match self.check_connected() {
                Ok(false) => return Outcome::Keep,
                Ok(true) => {}
                Err(e) => return Outcome::Fail(e),
            }
            self.tcp_up = true;
            let _ = self.tcp.set_nodelay(true);
            match self.bytes.tcp_connected(SystemTime::now()) {
                Ok(true) => self.report_connected(endpoint),
                Ok(false) => {}
                Err(e) => return Outcome::Fail(e),
            }
        }
        let again = match self.read(endpoint) {
            Ok(again) => again,
            Err(outcome) => return outcome,
        };
        if let Err(e) = self.write() {
            return self.end(e);
        }
        if self.bytes.is_finished() {
            Outcome::Drop
        } else if again {
            Outcome::Again
        } else {
            Outcome::Keep
        }
    }

    /// Whether the non-blocking connect completed (`Err`: it failed).
    fn check_connected(&mut self) -> Result<bool, TurnError> {
        let connect_error = |e: io::Error| TurnError::Connect(e.to_string());
        if let Some(e) = self.tcp.take_error().map_err(connect_error)? {
            return Err(connect_error(e));
        }
        match self.tcp.peer_addr() {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotConnected | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(connect_error(e)),
        }
    }

    fn report_connected(&mut self, endpoint: &mut Endpoint) {
        let id = self.bytes.id();
        tracing::debug!(%id, "turn: connected");
        if let Some(pc) = endpoint.peer_connection(self.owner) {
            pc.handle_turn_connected(Instant::now(), id);
        }
    }

    /// Reads until the socket would block; `Ok(true)` when it stopped at the limit with
    /// more perhaps queued.
    fn read(&mut self, endpoint: &mut Endpoint) -> Result<bool, Outcome> {
        let mut buf = vec![0u8; READ_CHUNK];
        for _ in 0..READS_PER_TURN {
            let n = match self.tcp.read(&mut buf) {
                Ok(0) => return Err(self.end(self.bytes.end_of_stream())),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.end(self.bytes.io_failed(&e))),
            };
            let read = match self.bytes.received(&buf[..n]) {
                Ok(read) => read,
                Err(e) => {
                    // Send the alert if we can, then fail.
                    let _ = self.write();
                    return Err(Outcome::Fail(e));
                }
            };
            if read.connected {
                self.report_connected(endpoint);
            }
            if !read.plain.is_empty()
                && let Some(pc) = endpoint.peer_connection(self.owner)
            {
                pc.handle_turn_data(Instant::now(), self.bytes.id(), &read.plain);
            }
        }
        Ok(true)
    }

    /// Writes until everything queued is out or the socket would block (a writable event
    /// comes then).
    fn write(&mut self) -> Result<(), TurnError> {
        loop {
            let bytes = self.bytes.pending_write()?;
            if bytes.is_empty() {
                return Ok(());
            }
            match self.tcp.write(bytes) {
                Ok(0) => return Err(self.bytes.io_failed(&io::ErrorKind::WriteZero.into())),
                Ok(n) => self.bytes.wrote(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.bytes.io_failed(&e)),
            }
        }
    }

    /// A stream that ended: a failure its connection must hear of, unless it closed it.
    fn end(&self, error: TurnError) -> Outcome {
        if self.bytes.reports_failure() {
            Outcome::Fail(error)
        } else {
            Outcome::Drop
        }
    }
}
