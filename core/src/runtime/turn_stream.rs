//! The driver's TURN connections (TCP, and TLS over it for `turns:`): opened when the core
//! asks ([`Event::TurnConnect`]), written with what it sends ([`Event::TurnSend`]), read
//! into [`PeerConnection::handle_turn_data`], closed on [`Event::TurnClose`]. Connect and
//! TLS failures go back to the core as typed errors
//! ([`PeerConnection::handle_turn_failed`]). Written once for every async runtime, over
//! [`Runtime::connect_tcp`] and [`TurnStreamConn`] (queueing and TLS, shared with the mio
//! event loop).

use super::turn_conn::TurnStreamConn;
use super::{AsyncTcpStream, BoxFuture, Runtime};
use crate::peer_connection::{Event, PeerConnection};
use crate::turn::{TurnConnectionId, TurnError};
use std::io;
use std::task::{Context, Poll};

/// Bytes read per call.
const READ_CHUNK: usize = 16 * 1024;
/// Reads per connection per round.
const READS_PER_ROUND: usize = 8;

enum State {
    Connecting(BoxFuture<io::Result<Box<dyn AsyncTcpStream>>>),
    Open(Box<dyn AsyncTcpStream>),
}

struct Conn {
    state: State,
    bytes: TurnStreamConn,
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
                    bytes: TurnStreamConn::new(request),
                });
                None
            }
            Event::TurnSend { id, data } => {
                if let Some(c) = self.conns.iter_mut().find(|c| c.bytes.id() == id) {
                    c.bytes.send(data);
                }
                None
            }
            Event::TurnClose(id) => {
                if let Some(c) = self.conns.iter_mut().find(|c| c.bytes.id() == id) {
                    c.bytes.close();
                }
                None
            }
            other => Some(other),
        }
    }

    /// Closes every connection (their owner ended): what is queued is still written.
    pub(super) fn close_all(&mut self) {
        for c in &mut self.conns {
            c.bytes.close();
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
            let id = c.bytes.id();
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
            if !self.bytes.reports_failure() {
                // Closed before it was up: nothing to say on it.
                return (Outcome::Drop, true);
            }
            match connect.as_mut().poll(cx) {
                Poll::Pending => return (Outcome::Keep, false),
                Poll::Ready(Err(e)) => {
                    return (Outcome::Fail(TurnError::Connect(e.to_string())), true);
                }
                Poll::Ready(Ok(stream)) => {
                    moved = true;
                    self.state = State::Open(stream);
                    match self.bytes.tcp_connected(runtime.system_time()) {
                        Ok(true) => self.report_connected(runtime, with_pc),
                        Ok(false) => {}
                        Err(e) => return (Outcome::Fail(e), true),
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
                Poll::Ready(Err(e)) => return (self.end(self.bytes.io_failed(&e)), true),
                Poll::Ready(Ok(0)) => return (self.end(self.bytes.end_of_stream()), true),
                Poll::Ready(Ok(n)) => {
                    moved = true;
                    let read = match self.bytes.received(&buf[..n]) {
                        Ok(read) => read,
                        Err(e) => {
                            // Send the alert if we can, then fail.
                            let _ = self.write(cx);
                            return (Outcome::Fail(e), true);
                        }
                    };
                    if read.connected {
                        self.report_connected(runtime, with_pc);
                    }
                    if !read.plain.is_empty() {
                        let now = runtime.now();
                        let id = self.bytes.id();
                        with_pc(&mut |pc| pc.handle_turn_data(now, id, &read.plain));
                    }
                }
            }
        }
        // Write.
        match self.write(cx) {
            Ok(w) => moved |= w,
            Err(e) => return (self.end(e), true),
        }
        if self.bytes.is_finished() {
            return (Outcome::Drop, true);
        }
        (Outcome::Keep, moved)
    }

    /// A connection that ended: a failure the core has to hear of, unless it closed it.
    fn end(&self, error: TurnError) -> Outcome {
        if self.bytes.reports_failure() {
            Outcome::Fail(error)
        } else {
            Outcome::Drop
        }
    }

    fn report_connected(
        &mut self,
        runtime: &dyn Runtime,
        with_pc: &mut impl FnMut(&mut dyn FnMut(&mut PeerConnection)),
    ) {
        let now = runtime.now();
        let id: TurnConnectionId = self.bytes.id();
        tracing::debug!(%id, "turn: connected");
        with_pc(&mut |pc| pc.handle_turn_connected(now, id));
    }

    /// Writes what is queued until done or the socket would block; returns whether
    /// anything was written.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool, TurnError> {
        let State::Open(stream) = &mut self.state else {
            return Ok(false);
        };
        let mut moved = false;
        loop {
            let bytes = self.bytes.pending_write()?;
            if bytes.is_empty() {
                return Ok(moved);
            }
            match stream.poll_write(cx, bytes) {
                Poll::Ready(Ok(0)) => {
                    return Err(self.bytes.io_failed(&io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    self.bytes.wrote(n);
                    moved = true;
                }
                Poll::Ready(Err(e)) => return Err(self.bytes.io_failed(&e)),
                Poll::Pending => return Ok(moved),
            }
        }
    }
}
