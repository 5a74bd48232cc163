//! The driver task: owns the sockets and the timer, feeds the core, sends what it emits
//! and routes its events to the application's handles.
//!
//! It runs on the runtime as one spawned future. Each wake-up it (1) takes finished name
//! resolutions, (2) reads every socket in batches, and after each batch drains
//! `poll_output` and sends what came out, (3) drains once more for what commands and
//! timers produced, (4) re-arms and polls the timer. It repeats while anything made
//! progress, yielding to the runtime after a bounded number of rounds. Every drain sends
//! each few dozen transmits as they come out (the core builds SCTP packets lazily, see
//! `TRANSMIT_BATCH` in the peer connection), so the peer starts on the first datagrams of a
//! burst while the rest are still being built: sender and receiver overlap instead of
//! taking turns.
//!
//! The shared state is locked only while the driver works on the core: per received batch,
//! for the drain, for the timer. Socket system calls (receive and send) run unlocked, so
//! the application's handles (a sender queueing the next message, a reader taking one) work
//! on the core on another thread meanwhile instead of waiting for the driver's I/O.

use super::lazy_timer::LazyTimer;
use super::mdns_socket::MdnsSocket;
use super::shared::{Shared, State};
use super::turn_stream::TurnStreams;
use super::{AsyncUdpSocket, BoxFuture, ChannelEvent, Message, RecvBatch, Runtime, RuntimeError};
use crate::Transmit;
use crate::datachannel::ChannelState;
use crate::peer_connection::{Event, Input, Output, PeerConnectionState};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// Rounds per wake-up before yielding to other tasks.
const ROUNDS: usize = 16;
/// Receive batches per socket per round.
const BATCHES_PER_ROUND: usize = 8;
/// Transmits taken from the core between two sends: about one GSO send's worth.
const FLUSH_EVERY: usize = 32;
/// Transmits queued per socket before the oldest are dropped (UDP may drop anyway).
const MAX_OUTBOX: usize = 16_384;

/// One socket with its receive batch and its queue of datagrams to send.
pub(super) struct SocketIo {
    pub(super) socket: Arc<dyn AsyncUdpSocket>,
    pub(super) batch: RecvBatch,
    outbox: VecDeque<Transmit>,
}

impl SocketIo {
    pub(super) fn new(socket: Arc<dyn AsyncUdpSocket>) -> Self {
        Self {
            batch: socket.new_recv_batch(),
            socket,
            outbox: VecDeque::new(),
        }
    }
}

/// Queues `t` on the socket it leaves from (dropping the oldest past [`MAX_OUTBOX`]).
pub(super) fn queue_transmit(sockets: &mut [SocketIo], t: Transmit) {
    let Some(io) = sockets
        .iter_mut()
        .find(|io| io.socket.local_addr() == t.source)
    else {
        tracing::debug!(source = %t.source, "no socket for transmit source, dropped");
        return;
    };
    if io.outbox.len() >= MAX_OUTBOX {
        tracing::debug!(source = %t.source, "send queue full, oldest datagram dropped");
        io.outbox.pop_front();
    }
    io.outbox.push_back(t);
}

/// Sends what the sockets' queues hold until done or a socket would block; returns
/// whether anything was sent.
pub(super) fn flush_sockets(sockets: &mut [SocketIo], cx: &mut Context<'_>) -> io::Result<bool> {
    let mut progress = false;
    for io in sockets {
        while !io.outbox.is_empty() {
            match io.socket.poll_send(cx, io.outbox.make_contiguous()) {
                Poll::Ready(Ok(sent)) => {
                    io.outbox.drain(..sent.min(io.outbox.len()));
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
    }
    Ok(progress)
}

/// The driver future; see the module documentation.
pub(crate) struct Driver {
    shared: Arc<Shared>,
    runtime: Arc<dyn Runtime>,
    sockets: Vec<SocketIo>,
    /// The runtime timer, set for [`Driver::deadline`] or earlier (see `lazy_timer`).
    timer: LazyTimer,
    /// The core's timeout from the last drain; `None` once handled.
    deadline: Option<Instant>,
    resolving: Vec<(String, BoxFuture<io::Result<Vec<SocketAddr>>>)>,
    /// TURN connections over TCP/TLS.
    streams: TurnStreams,
    /// The core gave the TURN connections work (open, send, close) since they were last
    /// polled: poll them again before sleeping (a new connection's future has no waker yet).
    streams_dirty: bool,
    /// The socket joined to the mDNS group, opened on the connection's first query (see
    /// `mdns_socket`).
    mdns: MdnsSocket,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("sockets", &self.sockets.len())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Driver {
    pub(crate) fn new(
        shared: Arc<Shared>,
        runtime: Arc<dyn Runtime>,
        sockets: Vec<Arc<dyn AsyncUdpSocket>>,
    ) -> Self {
        let now = runtime.now();
        let timer = LazyTimer::new(runtime.new_timer(now), now);
        let sockets = sockets.into_iter().map(SocketIo::new).collect();
        Self {
            shared,
            runtime,
            sockets,
            timer,
            deadline: Some(now),
            resolving: Vec::new(),
            streams: TurnStreams::default(),
            streams_dirty: false,
            mdns: MdnsSocket::default(),
        }
    }

    /// One round; returns whether anything moved.
    fn round(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut progress = self.poll_resolutions(cx);
        progress |= self.poll_receive(cx)?;
        progress |= self.poll_mdns(cx)?;
        progress |= self.poll_turn_streams(cx);
        progress |= self.drain_and_flush(cx)?;
        progress |= self.poll_timer(cx);
        progress |= std::mem::take(&mut self.streams_dirty);
        Ok(progress)
    }

    fn poll_resolutions(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.resolving.len() {
            let Poll::Ready(result) = self.resolving[i].1.as_mut().poll(cx) else {
                i += 1;
                continue;
            };
            let (name, _) = self.resolving.swap_remove(i);
            let ips: Vec<_> = match result {
                Ok(addrs) => addrs.iter().map(SocketAddr::ip).collect(),
                Err(e) => {
                    tracing::debug!(%name, error = %e, "name resolution failed");
                    Vec::new()
                }
            };
            let now = self.runtime.now();
            self.shared.lock().pc.handle_resolved(now, &name, &ips);
            progress = true;
        }
        progress
    }

    /// Connects, reads and writes the TURN connections (TCP/TLS), feeding the core.
    fn poll_turn_streams(&mut self, cx: &mut Context<'_>) -> bool {
        if self.streams.is_empty() {
            return false;
        }
        let shared = Arc::clone(&self.shared);
        self.streams
            .poll(cx, &*self.runtime, |f| f(&mut shared.lock().pc))
    }

    /// Reads every socket, up to [`BATCHES_PER_ROUND`] batches each. The receive calls run
    /// unlocked; each batch is fed to the core under the lock, and what the core answers
    /// (acknowledgements, data the acknowledgements allow) is sent before the next receive,
    /// so the peer works on it while this side reads on.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let mut progress = false;
        for i in 0..self.sockets.len() {
            for _ in 0..BATCHES_PER_ROUND {
                let io = &mut self.sockets[i];
                match io.socket.poll_recv(cx, &mut io.batch) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Err(e),
                    Poll::Pending => break,
                }
                progress = true;
                let now = self.runtime.now();
                {
                    let mut state = self.shared.lock();
                    for d in io.batch.datagrams() {
                        let input = Input::Receive {
                            source: d.source,
                            destination: d.destination,
                            payload: d.payload,
                        };
                        state.pc.handle_input(now, input);
                    }
                }
                self.drain_and_flush(cx)?;
            }
        }
        Ok(progress)
    }

    /// Feeds what the mDNS socket received (answers multicast to the group) to the core.
    fn poll_mdns(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let now = self.runtime.now();
        let shared = Arc::clone(&self.shared);
        let progress = self.mdns.poll_recv(cx, |d| {
            let input = Input::Receive {
                source: d.source,
                destination: d.destination,
                payload: d.payload,
            };
            shared.lock().pc.handle_input(now, input);
        });
        if progress {
            self.drain_and_flush(cx)?;
        }
        Ok(progress)
    }

    /// Drains the core until it returns a timeout, sending every [`FLUSH_EVERY`] datagrams
    /// on the way (unlocked), so that the first datagrams leave while the core still builds
    /// the rest. Returns whether anything was sent.
    fn drain_and_flush(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let shared = Arc::clone(&self.shared);
        let mut progress = false;
        loop {
            let done = self.drain(&mut shared.lock(), FLUSH_EVERY);
            progress |= self.flush(cx)?;
            if done {
                return Ok(progress);
            }
        }
    }

    /// Drains the core until it returns a timeout (then returns `true`) or until `limit`
    /// transmits were queued.
    fn drain(&mut self, state: &mut State, limit: usize) -> bool {
        let mut queued = 0;
        while queued < limit {
            match state.pc.poll_output() {
                Output::Transmit(t) => {
                    if self.mdns.on_transmit(&*self.runtime, &t) == Some(false) {
                        state.pc.report_mdns_socket_error();
                    }
                    self.queue(t);
                    queued += 1;
                }
                Output::Event(e) => match self.streams.handle_event(&*self.runtime, e) {
                    Some(e) => self.route(state, e),
                    None => self.streams_dirty = true,
                },
                Output::Timeout(at) => {
                    state.send_waiters.wake_all();
                    state.wake_writable_senders();
                    self.deadline = Some(at);
                    return true;
                }
            }
        }
        false
    }

    fn queue(&mut self, t: Transmit) {
        queue_transmit(&mut self.sockets, t);
    }

    fn route(&mut self, state: &mut State, event: Event) {
        let runtime = &self.runtime;
        let resolving = &mut self.resolving;
        route_event(state, event, |name| {
            let lookup = runtime.resolve(name.clone(), 0);
            resolving.push((name, lookup));
        });
    }

    fn flush(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        flush_sockets(&mut self.sockets, cx)
    }

    /// Fires the core's timeout when due. A deadline already reached fires at once,
    /// without the runtime timer: runtime timers round up to their tick (1 ms for tokio),
    /// and the core often asks for "now" (a check to pace, gathering to finish).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        let now = self.runtime.now();
        if self.timer.poll(cx, now, deadline).is_pending() {
            return false;
        }
        self.deadline = None;
        self.shared.lock().pc.handle_timeout(now);
        true
    }

    fn outboxes_empty(&self) -> bool {
        self.sockets.iter().all(|io| io.outbox.is_empty())
    }

    fn finish(&mut self, reason: RuntimeError) -> Poll<()> {
        finish_connection(&mut self.shared.lock(), reason);
        Poll::Ready(())
    }
}

/// Hands one event of the core to the application's handles: messages and media to their
/// queues, notifications to the event stream; a name to resolve goes to `resolve`.
pub(super) fn route_event(state: &mut State, event: Event, resolve: impl FnOnce(String)) {
    match event {
        Event::ChannelMessage { id, data, binary } => {
            let entry = state.channel(id);
            entry.unread_bytes += data.len();
            entry.inbox.push_back(if binary {
                Message::Binary(data)
            } else {
                Message::Text(String::from_utf8_lossy(&data).into_owned())
            });
            entry.waiters.wake_all();
            state.unread_seen_by_driver = state.report_unread();
        }
        Event::ResolveName(name) => resolve(name),
        Event::Rtp(packet) => state.track(packet.transceiver).push_rtp(packet),
        Event::Frame(frame) => state.track(frame.transceiver).push_frame(frame),
        Event::Rtcp {
            transceiver,
            packet,
        } => state.track(transceiver).push_rtcp(packet),
        other => route_notification(state, other),
    }
}

/// The driver ended: the connection closes, its channels report why, everyone waiting
/// wakes.
pub(super) fn finish_connection(state: &mut State, reason: RuntimeError) {
    tracing::debug!(%reason, "peer connection driver ends");
    state.pc.close();
    state.close_all_channels(&reason);
    state.finished = Some(reason);
    state.wake_everyone();
}

/// Events that change states or channels: wake whoever waits, and queue the event for the
/// application's event stream.
fn route_notification(state: &mut State, event: Event) {
    match &event {
        Event::DataChannel(id) => {
            state.channel(*id);
            if state.incoming.len() >= super::shared::MAX_INCOMING_CHANNELS {
                tracing::debug!("incoming channels not accepted: forgetting the oldest");
                state.incoming.pop_front();
            }
            state.incoming.push_back(*id);
        }
        Event::ChannelOpen(id) => state.channel(*id).set_ready(ChannelState::Open),
        Event::ChannelBufferedAmountLow(id) => {
            let entry = state.channel(*id);
            entry.push_event(ChannelEvent::BufferedAmountLow);
            entry.send_waiters.wake_all();
        }
        Event::Track(track) => {
            let entry = state.track(track.transceiver);
            entry.ended = false;
            entry.waiters.wake_all();
        }
        Event::TrackEnded(id) => {
            let entry = state.track(*id);
            entry.ended = true;
            entry.waiters.wake_all();
        }
        Event::KeyframeRequest {
            transceiver, kind, ..
        } => {
            state.track(*transceiver).push_keyframe_request(*kind);
        }
        // As in the browser, a failed connection fails its channels: `error`, then `close`.
        Event::ConnectionStateChange(PeerConnectionState::Failed) => {
            state.close_all_channels(&RuntimeError::ConnectionFailed);
        }
        Event::ChannelClosing(id) => state.channel(*id).set_ready(ChannelState::Closing),
        Event::ChannelClosed(id) => state.channel(*id).set_ready(ChannelState::Closed),
        _ => {}
    }
    state.state_waiters.wake_all();
    state.push_event(event);
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let closing = {
            let mut state = this.shared.lock();
            // A handle that commands the core while this poll runs takes this waker and
            // wakes it; the runtime then polls the driver again after this poll.
            state.driver_waker = Some(cx.waker().clone());
            // The core also closes itself when the peer closes (close_notify, SCTP ABORT
            // or SHUTDOWN): then the driver ends too and frees the sockets.
            let closing = state.handles == 0
                || state.close_requested
                || state.pc.connection_state() == PeerConnectionState::Closed;
            if closing && !state.pc_closed {
                state.pc.close();
                state.pc_closed = true;
            }
            closing
        };
        for _ in 0..ROUNDS {
            match this.round(cx) {
                Err(e) => return this.finish(RuntimeError::Io(e)),
                Ok(_) if closing && this.outboxes_empty() => {
                    return this.finish(RuntimeError::Closed);
                }
                Ok(false)
                    if !closing
                        && this.shared.lock().pc.connection_state()
                            == PeerConnectionState::Closed =>
                {
                    // The peer closed the core during this poll: come back to end.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Ok(false) => return Poll::Pending,
                Ok(true) => {}
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
