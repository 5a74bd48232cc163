//! The async endpoint: many peer connections on one set of UDP sockets — the server case
//! on the async runtimes.
//!
//! [`AsyncEndpoint::new`] binds the sockets once and spawns one driver task. Each
//! [`new_peer_connection`](AsyncEndpoint::new_peer_connection) gives the same
//! [`AsyncPeerConnection`] handle as a connection with sockets of its own (async JSEP,
//! events, data channels, tracks): the handles share their core connection with the
//! endpoint's driver under the connection's own lock, exactly as with the per-connection
//! driver. The driver routes every received datagram with the core's [`Router`] (the
//! 5-tuple, else the STUN USERNAME's local ufrag), feeds it to that connection alone and
//! drains that connection alone; commands from the handles mark their connection for a
//! drain; each connection's next timeout sits in one heap under one runtime timer. A
//! datagram, a command or a timer therefore costs the same whatever the number of
//! connections, and an idle connection costs no task, timer or buffer of its own.
//!
//! Lock order: a connection's state, then the endpoint's mailbox; never the reverse.
//!
//! TURN over TCP and TLS: the connections' `TurnConnect`/`TurnSend`/`TurnClose` events are
//! carried out by [`turn`] (the per-connection driver's code, one set per connection).
//!
//! Not implemented: several driver tasks (sharding connections across cores), a TCP
//! listener for ICE-TCP.

mod turn;

use super::driver::{SocketIo, finish_connection, flush_sockets, queue_transmit, route_event};
use super::mdns_socket::MdnsSocket;
use super::peer::new_core;
use super::shared::{Shared, State};
use super::{AsyncPeerConnection, AsyncTimer, BoxFuture, Runtime, RuntimeError, SocketConfig};
use crate::endpoint::{ConnectionHandle, EndpointStats, Router};
use crate::mdns::MDNS_PORT;
use crate::peer_connection::{Input, Output, PeerConnectionState, RtcConfiguration};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

/// Rounds per wake-up before yielding to other tasks.
const ROUNDS: usize = 16;
/// Receive batches per socket per round.
const BATCHES_PER_ROUND: usize = 8;

/// Many peer connections sharing one set of UDP sockets (one per local address), driven by
/// one task; see the module documentation. Cheap to clone; the driver ends once every
/// endpoint handle is dropped and every connection has ended.
#[derive(Debug)]
pub struct AsyncEndpoint {
    inner: Arc<EndpointInner>,
    runtime: Arc<dyn Runtime>,
    local_addrs: Arc<[SocketAddr]>,
}

#[derive(Debug, Default)]
struct EndpointInner {
    mailbox: Mutex<Mailbox>,
    connections: AtomicUsize,
    routed: AtomicU64,
    dropped_unroutable: AtomicU64,
    routes: AtomicUsize,
}

/// What the application hands the driver.
#[derive(Debug, Default)]
struct Mailbox {
    /// Connections created and not yet taken over by the driver.
    added: Vec<(ConnectionHandle, Arc<Shared>, Waker)>,
    /// Connections whose handles commanded their core since the driver last drained them.
    dirty: Vec<ConnectionHandle>,
    driver_waker: Option<Waker>,
    next: u32,
    /// Live `AsyncEndpoint` handles.
    handles: usize,
}

impl EndpointInner {
    fn mailbox(&self) -> MutexGuard<'_, Mailbox> {
        self.mailbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_driver(mailbox: &Mailbox) {
        if let Some(waker) = &mailbox.driver_waker {
            waker.wake_by_ref();
        }
    }
}

/// The waker a connection's handles use to call for the driver: it marks the connection
/// for a drain.
struct ConnectionWaker {
    endpoint: Weak<EndpointInner>,
    handle: ConnectionHandle,
}

impl Wake for ConnectionWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(endpoint) = self.endpoint.upgrade() {
            let mut mailbox = endpoint.mailbox();
            mailbox.dirty.push(self.handle);
            EndpointInner::wake_driver(&mailbox);
        }
    }
}

impl AsyncEndpoint {
    /// Binds sockets per `sockets` (give a fixed `port` to publish one port) and starts the
    /// driver on `runtime`.
    pub fn new(runtime: Arc<dyn Runtime>, sockets: &SocketConfig) -> Result<Self, crate::Error> {
        let bound = runtime.bind(sockets).map_err(RuntimeError::Io)?;
        let local_addrs: Arc<[SocketAddr]> = bound.iter().map(|s| s.local_addr()).collect();
        let inner = Arc::new(EndpointInner::default());
        inner.mailbox().handles = 1;
        let driver = EndpointDriver::new(inner.clone(), runtime.clone(), bound);
        runtime.spawn(Box::pin(driver));
        Ok(Self {
            inner,
            runtime,
            local_addrs,
        })
    }

    /// The addresses of the endpoint's sockets: every connection's host candidates.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// A new connection on the endpoint's sockets, with the same handle as a connection of
    /// its own ([`AsyncPeerConnection::new`]; the seed and wall clock are filled the same
    /// way). It ends when closed or when its last handle is dropped.
    pub fn new_peer_connection(
        &self,
        config: RtcConfiguration,
    ) -> Result<AsyncPeerConnection, crate::Error> {
        let pc = new_core(&*self.runtime, config, &self.local_addrs)?;
        let mut mailbox = self.inner.mailbox();
        let handle = ConnectionHandle(mailbox.next);
        mailbox.next = mailbox.next.wrapping_add(1);
        let waker = Waker::from(Arc::new(ConnectionWaker {
            endpoint: Arc::downgrade(&self.inner),
            handle,
        }));
        let mut state = State::new(pc);
        state.driver_waker = Some(waker.clone());
        let shared = Shared::new(state);
        mailbox.added.push((handle, shared.clone(), waker));
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        EndpointInner::wake_driver(&mailbox);
        Ok(AsyncPeerConnection::from_parts(
            shared,
            self.local_addrs.clone(),
            self.runtime.clone(),
        ))
    }

    /// Connections created and not ended yet.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// The routing counters.
    pub fn stats(&self) -> EndpointStats {
        EndpointStats {
            routed: self.inner.routed.load(Ordering::Relaxed),
            dropped_unroutable: self.inner.dropped_unroutable.load(Ordering::Relaxed),
            routes: self.inner.routes.load(Ordering::Relaxed),
        }
    }
}

impl Clone for AsyncEndpoint {
    fn clone(&self) -> Self {
        self.inner.mailbox().handles += 1;
        Self {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
            local_addrs: self.local_addrs.clone(),
        }
    }
}

impl Drop for AsyncEndpoint {
    fn drop(&mut self) {
        let mut mailbox = self.inner.mailbox();
        mailbox.handles = mailbox.handles.saturating_sub(1);
        EndpointInner::wake_driver(&mailbox);
    }
}

/// One connection as the driver holds it.
struct Connection {
    shared: Arc<Shared>,
    waker: Waker,
    /// The earliest timeout queued in the heap for it.
    queued: Option<Instant>,
}

type Resolution = (
    ConnectionHandle,
    String,
    BoxFuture<io::Result<Vec<SocketAddr>>>,
);

/// The driver task of an endpoint.
struct EndpointDriver {
    inner: Arc<EndpointInner>,
    runtime: Arc<dyn Runtime>,
    sockets: Vec<SocketIo>,
    conns: HashMap<ConnectionHandle, Connection>,
    router: Router,
    /// Every connection's next timeout; entries of ended or re-armed connections are
    /// skipped when popped.
    timeouts: BinaryHeap<Reverse<(Instant, ConnectionHandle)>>,
    timer: Pin<Box<dyn AsyncTimer>>,
    armed: Option<Instant>,
    resolving: Vec<Resolution>,
    /// Connections that received datagrams in the current batch.
    touched: Vec<ConnectionHandle>,
    /// TURN connections over TCP/TLS.
    turn: turn::EndpointStreams,
    /// The socket joined to the mDNS group (one for the endpoint), opened on the first
    /// query of any connection (see `mdns_socket`).
    mdns: MdnsSocket,
}

impl EndpointDriver {
    fn new(
        inner: Arc<EndpointInner>,
        runtime: Arc<dyn Runtime>,
        sockets: Vec<Arc<dyn super::AsyncUdpSocket>>,
    ) -> Self {
        let timer = runtime.new_timer(runtime.now());
        Self {
            inner,
            runtime,
            sockets: sockets.into_iter().map(SocketIo::new).collect(),
            conns: HashMap::new(),
            router: Router::new(),
            timeouts: BinaryHeap::new(),
            timer,
            armed: None,
            resolving: Vec::new(),
            touched: Vec::new(),
            turn: turn::EndpointStreams::default(),
            mdns: MdnsSocket::default(),
        }
    }

    /// Takes new connections and drain requests; returns whether there were any and
    /// whether the endpoint may end (no handle left).
    fn take_mailbox(&mut self, cx: &mut Context<'_>) -> (bool, bool) {
        let (added, dirty, unowned) = {
            let mut mailbox = self.inner.mailbox();
            mailbox.driver_waker = Some(cx.waker().clone());
            (
                std::mem::take(&mut mailbox.added),
                std::mem::take(&mut mailbox.dirty),
                mailbox.handles == 0,
            )
        };
        let progress = !added.is_empty() || !dirty.is_empty();
        for (h, shared, waker) in added {
            let ufrag = shared.lock().pc.local_ufrag().to_owned();
            self.router.set_ufrag(h, &ufrag);
            let conn = Connection {
                shared,
                waker,
                queued: None,
            };
            self.conns.insert(h, conn);
            self.service(h);
        }
        for h in dirty {
            self.service(h);
        }
        (progress, unowned)
    }

    /// Drains connection `h` after an input or a command, queues what it sends, re-arms
    /// its timeout, and ends it when it is to close.
    fn service(&mut self, h: ConnectionHandle) {
        let Some(conn) = self.conns.get(&h) else {
            return;
        };
        let shared = conn.shared.clone();
        let waker = conn.waker.clone();
        let mut state = shared.lock();
        state.driver_waker = Some(waker);
        let closing = state.handles == 0
            || state.close_requested
            || state.pc.connection_state() == PeerConnectionState::Closed;
        if closing && !state.pc_closed {
            state.pc.close();
            state.pc_closed = true;
        }
        let deadline = self.drain(h, &mut state);
        self.router.set_ufrag(h, state.pc.local_ufrag());
        if closing || state.pc.connection_state() == PeerConnectionState::Closed {
            if !state.pc_closed {
                state.pc.close();
                state.pc_closed = true;
                self.drain(h, &mut state);
            }
            // Counted out before the handles can see it end.
            self.remove(h);
            finish_connection(&mut state, RuntimeError::Closed);
            return;
        }
        drop(state);
        self.schedule(h, deadline);
    }

    /// Drains `h`'s core until its timeout, which it returns.
    fn drain(&mut self, h: ConnectionHandle, state: &mut State) -> Instant {
        loop {
            match state.pc.poll_output() {
                Output::Transmit(t) => {
                    if self.mdns.on_transmit(&*self.runtime, &t) == Some(false) {
                        state.pc.report_mdns_socket_error();
                    }
                    self.router.learn(h, t.source, t.destination);
                    queue_transmit(&mut self.sockets, t);
                }
                Output::Event(e) => {
                    let Some(e) = self.turn.handle_event(&*self.runtime, h, e) else {
                        continue;
                    };
                    let runtime = &self.runtime;
                    let resolving = &mut self.resolving;
                    route_event(state, e, |name| {
                        let lookup = runtime.resolve(name.clone(), 0);
                        resolving.push((h, name, lookup));
                    });
                }
                Output::Timeout(at) => {
                    state.send_waiters.wake_all();
                    state.wake_writable_senders();
                    return at;
                }
            }
        }
    }

    fn schedule(&mut self, h: ConnectionHandle, at: Instant) {
        let Some(conn) = self.conns.get_mut(&h) else {
            return;
        };
        // A later deadline needs no entry: the queued one fires early, which is
        // harmless, and the drain after it queues the real one.
        if conn.queued.is_none_or(|queued| at < queued) {
            conn.queued = Some(at);
            self.timeouts.push(Reverse((at, h)));
        }
    }

    fn remove(&mut self, h: ConnectionHandle) {
        if self.conns.remove(&h).is_some() {
            self.turn.forget(h);
            self.router.remove(h);
            self.inner.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Reads every socket in batches, routes each datagram to its connection, and drains
    /// the connections that received something after each batch.
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
                for d in io.batch.datagrams() {
                    let routed = self.router.route(d.source, d.destination, d.payload);
                    if routed.is_none() && d.source.port() == MDNS_PORT {
                        deliver_mdns(&self.inner, &self.conns, &mut self.touched, now, d);
                        continue;
                    }
                    let Some(conn) = routed.and_then(|h| self.conns.get(&h).map(|c| (h, c))) else {
                        tracing::debug!(source = %d.source, "endpoint: unroutable datagram dropped");
                        self.inner
                            .dropped_unroutable
                            .fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    self.inner.routed.fetch_add(1, Ordering::Relaxed);
                    let input = Input::Receive {
                        source: d.source,
                        destination: d.destination,
                        payload: d.payload,
                    };
                    conn.1.shared.lock().pc.handle_input(now, input);
                    if self.touched.last() != Some(&conn.0) {
                        self.touched.push(conn.0);
                    }
                }
                let mut touched = std::mem::take(&mut self.touched);
                touched.sort_unstable();
                touched.dedup();
                for h in touched.drain(..) {
                    self.service(h);
                }
                self.touched = touched;
                flush_sockets(&mut self.sockets, cx)?;
            }
        }
        self.inner
            .routes
            .store(self.router.address_routes(), Ordering::Relaxed);
        Ok(progress)
    }

    /// Hands what the mDNS socket received to the connections resolving a name.
    fn poll_mdns(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let now = self.runtime.now();
        let (inner, conns, touched) = (&self.inner, &self.conns, &mut self.touched);
        let progress = self
            .mdns
            .poll_recv(cx, |d| deliver_mdns(inner, conns, touched, now, d));
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for h in touched.drain(..) {
            self.service(h);
        }
        self.touched = touched;
        if progress {
            flush_sockets(&mut self.sockets, cx)?;
        }
        Ok(progress)
    }

    fn poll_resolutions(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        let mut i = 0;
        while i < self.resolving.len() {
            let Poll::Ready(result) = self.resolving[i].2.as_mut().poll(cx) else {
                i += 1;
                continue;
            };
            let (h, name, _) = self.resolving.swap_remove(i);
            let ips: Vec<_> = match result {
                Ok(addrs) => addrs.iter().map(SocketAddr::ip).collect(),
                Err(e) => {
                    tracing::debug!(%name, error = %e, "name resolution failed");
                    Vec::new()
                }
            };
            if let Some(conn) = self.conns.get(&h) {
                let now = self.runtime.now();
                conn.shared.lock().pc.handle_resolved(now, &name, &ips);
                self.service(h);
            }
            progress = true;
        }
        progress
    }

    /// Fires every due connection timeout and re-arms the runtime timer for the next.
    /// The runtime timer rounds up to its tick, so once it fired, the entry it was armed
    /// for is due even if the clock says a little early (an early timeout is harmless).
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let fired = self.armed.is_some() && self.timer.as_mut().poll(cx).is_ready();
        let now = self.runtime.now();
        let due = if fired {
            self.armed.take().map_or(now, |armed| armed.max(now))
        } else {
            now
        };
        let mut progress = fired;
        while let Some(Reverse((at, h))) = self.timeouts.peek().copied() {
            if at > due {
                break;
            }
            self.timeouts.pop();
            let Some(conn) = self.conns.get_mut(&h) else {
                continue;
            };
            if conn.queued != Some(at) {
                continue; // superseded by an earlier entry, which fired already
            }
            conn.queued = None;
            conn.shared.lock().pc.handle_timeout(now);
            self.service(h);
            progress = true;
        }
        if let Some(Reverse((at, _))) = self.timeouts.peek()
            && self.armed != Some(*at)
        {
            self.timer.as_mut().reset(*at);
            self.armed = Some(*at);
            progress |= self.timer.as_mut().poll(cx).is_ready();
        }
        progress
    }

    /// One round; returns whether anything moved and whether the endpoint may end.
    fn round(&mut self, cx: &mut Context<'_>) -> io::Result<(bool, bool)> {
        let (mut progress, unowned) = self.take_mailbox(cx);
        progress |= self.poll_resolutions(cx);
        progress |= self.poll_receive(cx)?;
        progress |= self.poll_mdns(cx)?;
        progress |= self.poll_turn_streams(cx);
        progress |= flush_sockets(&mut self.sockets, cx)?;
        progress |= self.poll_timers(cx);
        progress |= flush_sockets(&mut self.sockets, cx)?;
        Ok((progress, unowned && self.conns.is_empty()))
    }

    /// A socket failed: every connection ends with the error.
    fn fail_all(&mut self, error: io::Error) {
        tracing::debug!(%error, "endpoint driver ends");
        let kind = error.kind();
        for (_, conn) in self.conns.drain() {
            let reason = RuntimeError::Io(io::Error::new(kind, error.to_string()));
            finish_connection(&mut conn.shared.lock(), reason);
        }
        self.inner.connections.store(0, Ordering::Relaxed);
    }
}

/// A datagram from port 5353 that no 5-tuple routes (an mDNS answer): every connection
/// resolving a `.local` name gets it (each takes the answers for its own names); with
/// none, it is unroutable.
fn deliver_mdns(
    inner: &EndpointInner,
    conns: &HashMap<ConnectionHandle, Connection>,
    touched: &mut Vec<ConnectionHandle>,
    now: std::time::Instant,
    d: super::Datagram<'_>,
) {
    let mut delivered = false;
    for (h, conn) in conns {
        let mut state = conn.shared.lock();
        if !state.pc.is_resolving_mdns() {
            continue;
        }
        delivered = true;
        let input = Input::Receive {
            source: d.source,
            destination: d.destination,
            payload: d.payload,
        };
        state.pc.handle_input(now, input);
        touched.push(*h);
    }
    let counter = if delivered {
        &inner.routed
    } else {
        tracing::debug!(source = %d.source, "endpoint: mDNS datagram for no pending name dropped");
        &inner.dropped_unroutable
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Future for EndpointDriver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        for _ in 0..ROUNDS {
            match this.round(cx) {
                Err(e) => {
                    this.fail_all(e);
                    return Poll::Ready(());
                }
                Ok((_, true)) => return Poll::Ready(()),
                Ok((false, false)) => return Poll::Pending,
                Ok((true, false)) => {}
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
