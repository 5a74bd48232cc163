//! The driver's TURN connections (TCP, and TLS over it for `turns:`): opened when the core
//! asks ([`Event::TurnConnect`]), written with what it sends ([`Event::TurnSend`]), read
//! into [`PeerConnection::handle_turn_data`], closed on [`Event::TurnClose`]. Connect and
//! TLS failures go back to the core as typed errors
//! ([`PeerConnection::handle_turn_failed`]). Written once for every async runtime, over
//! [`Runtime::connect_tcp`] and [`TlsClient`].

use super::tls::TlsClient;
use super::{AsyncTcpStream, BoxFuture, Runtime};
use crate::peer_connection::{Event, PeerConnection};
use crate::turn::{TurnConnect, TurnConnectionId, TurnError, TurnTransport};
use std::collections::VecDeque;
use std::io;
use std::task::{Context, Poll};

/// Messages queued for one connection before new ones are dropped (whole messages only:
/// a stream cannot lose bytes from its middle). The core bounds its side too.
const MAX_QUEUED_BYTES: usize = 4 << 20;
/// Bytes read per call.
const READ_CHUNK: usize = 16 * 1024;
/// Reads per connection per round.
const READS_PER_ROUND: usize = 8;

enum State {
    Connecting(BoxFuture<io::Result<Box<dyn AsyncTcpStream>>>),
    Open(Box<dyn AsyncTcpStream>),
}

struct Conn {
    request: TurnConnect,
    state: State,
    tls: Option<TlsClient>,
    /// Told the core it is connected.
    reported: bool,
    /// Whole messages not yet on the wire (plaintext).
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    /// Bytes for the socket (ciphertext for TLS) and how much of them was written.
    wire: Vec<u8>,
    written: usize,
    /// Close once everything is written.
    closing: bool,
}

/// Every TURN connection of one driver.
#[derive(Default)]
pub(super) struct TurnStreams {
    conns: Vec<Conn>,
}

impl std::fmt::Debug for TurnStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnStreams")
            .field("connections", &self.conns.len())
            .finish()
    }
}

/// What a round did to a connection.
enum Outcome {
    Keep,
    /// Failed: tell the core and drop it.
    Fail(TurnError),
    /// Done (closed by the core): drop it.
    Drop,
}

impl TurnStreams {
    /// Takes the core's TURN events; returns the event back when it is not one.
    pub(super) fn handle_event(&mut self, runtime: &dyn Runtime, event: Event) -> Option<Event> {
        match event {
            Event::TurnConnect(request) => {
                tracing::debug!(id = %request.id, server = %request.server, transport = ?request.transport, "turn: connecting");
                self.conns.push(Conn {
                    state: State::Connecting(runtime.connect_tcp(request.server)),
                    request,
                    tls: None,
                    reported: false,
                    queue: VecDeque::new(),
                    queued_bytes: 0,
                    wire: Vec::new(),
                    written: 0,
                    closing: false,
                });
                None
            }
            Event::TurnSend { id, data } => {
                if let Some(c) = self.conns.iter_mut().find(|c| c.request.id == id) {
                    if c.queued_bytes + data.len() > MAX_QUEUED_BYTES {
                        tracing::debug!(%id, "turn: connection send queue full, message dropped");
                    } else {
                        c.queued_bytes += data.len();
                        c.queue.push_back(data);
                    }
                }
                None
            }
            Event::TurnClose(id) => {
                if let Some(c) = self.conns.iter_mut().find(|c| c.request.id == id) {
                    c.closing = true;
                    if let Some(tls) = c.tls.as_mut() {
                        tls.close();
                    }
                }
                None
            }
            other => Some(other),
        }
    }

    /// Whether any connection exists.
    pub(super) fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Connects, reads and writes every connection as far as it goes without blocking;
    /// feeds the core (`pc`, under the caller's lock) with what happened. Returns whether
    /// anything moved.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        runtime: &dyn Runtime,
        mut with_pc: impl FnMut(&mut dyn FnMut(&mut PeerConnection)),
    ) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.conns.len() {
            let c = &mut self.conns[i];
            let id = c.request.id;
            let (outcome, moved) = c.step(cx, runtime, &mut with_pc);
            progress |= moved;
            match outcome {
                Outcome::Keep => i += 1,
                Outcome::Fail(error) => {
                    tracing::debug!(%id, %error, "turn: connection failed");
                    let now = runtime.now();
                    with_pc(&mut |pc| pc.handle_turn_failed(now, id, error.clone()));
                    self.conns.swap_remove(i);
                    progress = true;
                }
                Outcome::Drop => {
                    self.conns.swap_remove(i);
                    progress = true;
                }
            }
        }
        progress
    }
}

impl Conn {
    fn step(
        &mut self,
        cx: &mut Context<'_>,
        runtime: &dyn Runtime,
        with_pc: &mut impl FnMut(&mut dyn FnMut(&mut PeerConnection)),
    ) -> (Outcome, bool) {
        let mut moved = false;
        if let State::Connecting(connect) = &mut self.state {
            match connect.as_mut().poll(cx) {
                Poll::Pending => return (Outcome::Keep, false),
                Poll::Ready(Err(e)) => {
                    return (Outcome::Fail(TurnError::Connect(e.to_string())), true);
                }
                Poll::Ready(Ok(stream)) => {
                    moved = true;
                    self.state = State::Open(stream);
                    if self.request.transport == TurnTransport::Tls {
                        match TlsClient::new(
                            &self.request.server_name,
                            &self.request.extra_roots_pem,
                            runtime.system_time(),
                        ) {
                            Ok(mut tls) => {
                                tls.take_ciphertext(&mut self.wire);
                                self.tls = Some(tls);
                            }
                            Err(e) => return (Outcome::Fail(e), true),
                        }
                    } else {
                        self.report_connected(runtime, with_pc);
                    }
                }
            }
        }
        // Read.
        for _ in 0..READS_PER_ROUND {
            let State::Open(stream) = &mut self.state else {
                break;
            };
            let mut buf = [0u8; READ_CHUNK];
            match stream.poll_read(cx, &mut buf) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => {
                    let error = if self.reported {
                        TurnError::ConnectionClosed
                    } else {
                        TurnError::Connect(e.to_string())
                    };
                    return (self.end(error), true);
                }
                Poll::Ready(Ok(0)) => {
                    let error = match (&self.tls, self.reported) {
                        (Some(_), false) => TurnError::Tls(
                            "the server closed the connection during the handshake".into(),
                        ),
                        _ => TurnError::ConnectionClosed,
                    };
                    return (self.end(error), true);
                }
                Poll::Ready(Ok(n)) => {
                    moved = true;
                    let plain = match self.tls.as_mut() {
                        Some(tls) => {
                            let result = tls.read_ciphertext(&buf[..n]);
                            tls.take_ciphertext(&mut self.wire);
                            match result {
                                Ok(p) => p,
                                Err(e) => {
                                    // Send the alert if we can, then fail.
                                    let _ = self.write(cx);
                                    return (Outcome::Fail(e), true);
                                }
                            }
                        }
                        None => buf[..n].to_vec(),
                    };
                    if self.tls.as_ref().is_some_and(TlsClient::is_connected) && !self.reported {
                        self.report_connected(runtime, with_pc);
                    }
                    if !plain.is_empty() && !self.closing {
                        let now = runtime.now();
                        let id = self.request.id;
                        with_pc(&mut |pc| pc.handle_turn_data(now, id, &plain));
                    }
                }
            }
        }
        // Write.
        match self.write(cx) {
            Ok(w) => moved |= w,
            Err(e) => return (self.end(TurnError::Connect(e.to_string())), true),
        }
        if self.closing && self.wire.len() == self.written && self.queue.is_empty() {
            return (Outcome::Drop, true);
        }
        (Outcome::Keep, moved)
    }

    /// A connection that ended: a failure the core has to hear of, unless it closed it.
    fn end(&self, error: TurnError) -> Outcome {
        if self.closing {
            Outcome::Drop
        } else {
            Outcome::Fail(error)
        }
    }

    fn report_connected(
        &mut self,
        runtime: &dyn Runtime,
        with_pc: &mut impl FnMut(&mut dyn FnMut(&mut PeerConnection)),
    ) {
        self.reported = true;
        let now = runtime.now();
        let id: TurnConnectionId = self.request.id;
        tracing::debug!(%id, "turn: connected");
        with_pc(&mut |pc| pc.handle_turn_connected(now, id));
    }

    /// Writes what is queued until done or the socket would block; returns whether
    /// anything was written.
    fn write(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let State::Open(stream) = &mut self.state else {
            return Ok(false);
        };
        let mut moved = false;
        loop {
            if self.written == self.wire.len() {
                self.wire.clear();
                self.written = 0;
                // Refill: one message (TLS: once connected and its records are out).
                let ready = self.tls.as_ref().is_none_or(TlsClient::can_write);
                if !ready || !self.reported {
                    if let Some(tls) = self.tls.as_mut() {
                        tls.take_ciphertext(&mut self.wire);
                    }
                    if self.wire.is_empty() {
                        return Ok(moved);
                    }
                } else if let Some(msg) = self.queue.pop_front() {
                    self.queued_bytes -= msg.len();
                    match self.tls.as_mut() {
                        Some(tls) => {
                            tls.write_plaintext(&msg)
                                .map_err(|e| io::Error::other(e.to_string()))?;
                            tls.take_ciphertext(&mut self.wire);
                        }
                        None => self.wire = msg,
                    }
                } else {
                    if let Some(tls) = self.tls.as_mut() {
                        tls.take_ciphertext(&mut self.wire);
                    }
                    if self.wire.is_empty() {
                        return Ok(moved);
                    }
                }
            }
            match stream.poll_write(cx, &self.wire[self.written..]) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    moved = true;
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(moved),
            }
        }
    }
}
