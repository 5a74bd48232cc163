//! The async endpoint: many peer connections on one set of UDP sockets — the server case
//! on the async runtimes.
//!
//! [`AsyncEndpoint::new`] binds the sockets once and spawns driver tasks, the *shards*
//! (one per core by default, [`AsyncEndpoint::with_shards`] to choose). Each
//! [`new_peer_connection`](AsyncEndpoint::new_peer_connection) gives the same
//! [`AsyncPeerConnection`] handle as a connection with sockets of its own (async JSEP,
//! events, data channels, tracks): the handles share their core connection with the
//! endpoint's driver under the connection's own lock, exactly as with the per-connection
//! driver.
//!
//! Sharding: a connection belongs to one shard for its life (its handle number modulo
//! the shard count); that shard alone feeds it, drains it, sends for it and runs its
//! timers, so the shards work on different cores without sharing connection state. Each
//! shard has a socket of its own on every local address, all on the one published port
//! (`SO_REUSEPORT`); the kernel spreads received datagrams over them by the sender's
//! address, which also multiplies the kernel receive buffer by the shard count. Every shard
//! routes what its sockets receive through one shared [`Router`] (the 5-tuple, else the
//! STUN USERNAME's local ufrag: O(1) per datagram, one lock per received batch); a datagram
//! for another shard's connection is copied to that shard's mailbox (one lock and one wake
//! per batch and shard). The kernel keeps a peer address on one socket, so a connection's
//! datagrams arrive at one shard; with `n` shards that is its own for about one connection
//! in `n`, the others pay the copy.
//!
//! Within a shard, the datagrams of a received batch are fed to their connections, which
//! are then drained each once; commands from the handles mark their connection for a
//! drain; each connection's next timeout sits in the shard's heap under one runtime timer.
//! A datagram, a command or a timer therefore costs the same whatever the number of
//! connections, and an idle connection costs no task, timer or buffer of its own.
//!
//! Lock order: a connection's state, then a shard's mailbox or the router; never the
//! reverse, and never two of the latter at once.
//!
//! TURN over TCP and TLS: the connections' `TurnConnect`/`TurnSend`/`TurnClose` events are
//! carried out by [`turn`] (the per-connection driver's code, one set per connection, in
//! the connection's shard).
//!
//! Not implemented: a TCP listener for ICE-TCP.

mod turn;

use super::driver::{SocketIo, finish_connection, flush_sockets, queue_transmit, route_event};
use super::mdns_socket::MdnsSocket;
use super::peer::new_core;
use super::shared::{Shared, State};
use super::{
    AsyncPeerConnection, AsyncTimer, AsyncUdpSocket, BoxFuture, Runtime, RuntimeError, SocketConfig,
};
use crate::capacity::{self, ShrinkWhenSparse};
use crate::endpoint::{ConnectionHandle, EndpointStats, Router};
use crate::mdns::MDNS_PORT;
use crate::peer_connection::{Input, Output, PeerConnectionState, RtcConfiguration};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

/// Rounds per wake-up before yielding to other tasks.
const ROUNDS: usize = 16;
/// Receive batches per socket per round.
const BATCHES_PER_ROUND: usize = 8;
/// The most shards [`AsyncEndpoint::new`] starts, whatever the core count.
const MAX_DEFAULT_SHARDS: usize = 16;

/// Many peer connections sharing one set of UDP sockets (one per local address and shard,
/// on one port), driven by one task per shard; see the module documentation. Cheap to
/// clone; the drivers end once every endpoint handle is dropped and every connection has
/// ended.
#[derive(Debug)]
pub struct AsyncEndpoint {
    inner: Arc<EndpointInner>,
    runtime: Arc<dyn Runtime>,
    local_addrs: Arc<[SocketAddr]>,
}

#[derive(Debug)]
struct EndpointInner {
    /// One mailbox per shard.
    shards: Box<[Mutex<Mailbox>]>,
    /// Every connection's routes, whichever shard it belongs to.
    router: Mutex<Router>,
    next: AtomicU32,
    /// Live `AsyncEndpoint` handles.
    handles: AtomicUsize,
    connections: AtomicUsize,
    routed: AtomicU64,
    forwarded: AtomicU64,
    dropped_unroutable: AtomicU64,
    routes: AtomicUsize,
}

/// A datagram another shard received for one of this shard's connections.
#[derive(Debug)]
struct Forwarded {
    handle: ConnectionHandle,
    source: SocketAddr,
    destination: SocketAddr,
    payload: Vec<u8>,
}

/// What the application and the other shards hand one shard's driver.
#[derive(Debug, Default)]
struct Mailbox {
    /// Connections created and not yet taken over by the driver.
    added: Vec<(ConnectionHandle, Arc<Shared>, Waker)>,
    /// Connections whose handles commanded their core since the driver last drained them.
    dirty: Vec<ConnectionHandle>,
    /// Datagrams received by other shards' sockets for this shard's connections.
    forwarded: Vec<Forwarded>,
    driver_waker: Option<Waker>,
    /// The shard's driver ended on this socket error: it takes no connections.
    failed: Option<(io::ErrorKind, String)>,
}

impl Mailbox {
    fn wake_driver(&self) {
        if let Some(waker) = &self.driver_waker {
            waker.wake_by_ref();
        }
    }
}

impl EndpointInner {
    fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            router: Mutex::default(),
            next: AtomicU32::new(0),
            handles: AtomicUsize::new(1),
            connections: AtomicUsize::new(0),
            routed: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            dropped_unroutable: AtomicU64::new(0),
            routes: AtomicUsize::new(0),
        }
    }

    /// The shard connection `h` belongs to.
    fn shard_of(&self, h: ConnectionHandle) -> usize {
        h.0 as usize % self.shards.len()
    }

    fn mailbox(&self, shard: usize) -> MutexGuard<'_, Mailbox> {
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_all(&self) {
        for shard in 0..self.shards.len() {
            self.mailbox(shard).wake_driver();
        }
    }
}

/// The waker a connection's handles use to call for the driver: it marks the connection
/// for a drain in its shard.
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
            let mut mailbox = endpoint.mailbox(endpoint.shard_of(self.handle));
            mailbox.dirty.push(self.handle);
            mailbox.wake_driver();
        }
    }
}

/// The shard count [`AsyncEndpoint::new`] uses: the cores available (at most 16), or one
/// where the OS cannot share a port between sockets.
pub fn default_shards() -> usize {
    if cfg!(unix) {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_DEFAULT_SHARDS)
    } else {
        1
    }
}

/// Binds one set of sockets per shard: the first per `sockets`, each further one on the
/// first's addresses and ports, all with `SO_REUSEPORT` when there is more than one.
fn bind_shards(
    runtime: &dyn Runtime,
    sockets: &SocketConfig,
    shards: usize,
) -> io::Result<Vec<Vec<Arc<dyn AsyncUdpSocket>>>> {
    let config = SocketConfig {
        reuse_port: sockets.reuse_port || shards > 1,
        ..sockets.clone()
    };
    let first = runtime.bind(&config)?;
    let mut all = Vec::with_capacity(shards);
    for _ in 1..shards {
        let mut set = Vec::with_capacity(first.len());
        for socket in &first {
            let local = socket.local_addr();
            let again = SocketConfig {
                addresses: Some(vec![local.ip()]),
                port: local.port(),
                ..config.clone()
            };
            set.extend(runtime.bind(&again)?);
        }
        all.push(set);
    }
    all.insert(0, first);
    Ok(all)
}

impl AsyncEndpoint {
    /// Binds sockets per `sockets` (give a fixed `port` to publish one port) and starts
    /// [`default_shards`] drivers on `runtime`.
    pub fn new(runtime: Arc<dyn Runtime>, sockets: &SocketConfig) -> Result<Self, crate::Error> {
        Self::with_shards(runtime, sockets, default_shards())
    }

    /// [`new`](Self::new) with `shards` driver tasks (at least one), each with sockets of
    /// its own on the same addresses and port (`SO_REUSEPORT`, Unix; more than one shard
    /// fails to bind where the OS lacks it).
    pub fn with_shards(
        runtime: Arc<dyn Runtime>,
        sockets: &SocketConfig,
        shards: usize,
    ) -> Result<Self, crate::Error> {
        let shards = shards.max(1);
        let bound = bind_shards(&*runtime, sockets, shards).map_err(RuntimeError::Io)?;
        let local_addrs: Arc<[SocketAddr]> = bound[0].iter().map(|s| s.local_addr()).collect();
        let inner = Arc::new(EndpointInner::new(shards));
        for (shard, sockets) in bound.into_iter().enumerate() {
            let driver = EndpointDriver::new(inner.clone(), runtime.clone(), shard, sockets);
            runtime.spawn(Box::pin(driver));
        }
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

    /// The number of driver tasks.
    pub fn shards(&self) -> usize {
        self.inner.shards.len()
    }

    /// A new connection on the endpoint's sockets, with the same handle as a connection of
    /// its own ([`AsyncPeerConnection::new`]; the seed and wall clock are filled the same
    /// way). It ends when closed or when its last handle is dropped.
    pub fn new_peer_connection(
        &self,
        config: RtcConfiguration,
    ) -> Result<AsyncPeerConnection, crate::Error> {
        let pc = new_core(&*self.runtime, config, &self.local_addrs)?;
        let handle = ConnectionHandle(self.inner.next.fetch_add(1, Ordering::Relaxed));
        let waker = Waker::from(Arc::new(ConnectionWaker {
            endpoint: Arc::downgrade(&self.inner),
            handle,
        }));
        let mut state = State::new(pc);
        state.driver_waker = Some(waker.clone());
        let shared = Shared::new(state);
        let mut mailbox = self.inner.mailbox(self.inner.shard_of(handle));
        if let Some((kind, error)) = &mailbox.failed {
            return Err(RuntimeError::Io(io::Error::new(*kind, error.clone())).into());
        }
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        mailbox.added.push((handle, shared.clone(), waker));
        mailbox.wake_driver();
        drop(mailbox);
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

    /// Datagrams received by one shard's socket for another shard's connection (and
    /// copied over to it); included in [`EndpointStats::routed`].
    pub fn forwarded(&self) -> u64 {
        self.inner.forwarded.load(Ordering::Relaxed)
    }
}

impl Clone for AsyncEndpoint {
    fn clone(&self) -> Self {
        self.inner.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
            local_addrs: self.local_addrs.clone(),
        }
    }
}

impl Drop for AsyncEndpoint {
    fn drop(&mut self) {
        self.inner.handles.fetch_sub(1, Ordering::AcqRel);
        self.inner.wake_all();
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

/// The driver task of one shard of an endpoint.
struct EndpointDriver {
    inner: Arc<EndpointInner>,
    runtime: Arc<dyn Runtime>,
    shard: usize,
    sockets: Vec<SocketIo>,
    conns: HashMap<ConnectionHandle, Connection>,
    /// Every connection's next timeout; entries of ended or re-armed connections are
    /// skipped when popped.
    timeouts: BinaryHeap<Reverse<(Instant, ConnectionHandle)>>,
    timer: Pin<Box<dyn AsyncTimer>>,
    armed: Option<Instant>,
    resolving: Vec<Resolution>,
    /// Connections that received datagrams in the current batch.
    touched: Vec<ConnectionHandle>,
    /// The routes of the current batch's datagrams, in order.
    routed: Vec<Option<ConnectionHandle>>,
    /// The (local, remote) address pairs a drain sent on, learned under one router lock.
    sent_on: Vec<(SocketAddr, SocketAddr)>,
    /// Datagrams of the current batch for other shards, by shard.
    outgoing: Vec<Vec<Forwarded>>,
    /// TURN connections over TCP/TLS.
    turn: turn::EndpointStreams,
    /// The socket joined to the mDNS group (one per shard), opened on the first
    /// query of any connection (see `mdns_socket`).
    mdns: MdnsSocket,
}

impl EndpointDriver {
    fn new(
        inner: Arc<EndpointInner>,
        runtime: Arc<dyn Runtime>,
        shard: usize,
        sockets: Vec<Arc<dyn AsyncUdpSocket>>,
    ) -> Self {
        let timer = runtime.new_timer(runtime.now());
        let outgoing = (0..inner.shards.len()).map(|_| Vec::new()).collect();
        Self {
            inner,
            runtime,
            shard,
            sockets: sockets.into_iter().map(SocketIo::new).collect(),
            conns: HashMap::new(),
            timeouts: BinaryHeap::new(),
            timer,
            armed: None,
            resolving: Vec::new(),
            touched: Vec::new(),
            routed: Vec::new(),
            sent_on: Vec::new(),
            outgoing,
            turn: turn::EndpointStreams::default(),
            mdns: MdnsSocket::default(),
        }
    }

    /// Takes new connections, drain requests and forwarded datagrams; returns whether
    /// there were any and whether the shard may end (no endpoint handle left).
    fn take_mailbox(&mut self, cx: &mut Context<'_>) -> (bool, bool) {
        let (added, dirty, forwarded) = {
            let mut mailbox = self.inner.mailbox(self.shard);
            mailbox.driver_waker = Some(cx.waker().clone());
            (
                std::mem::take(&mut mailbox.added),
                std::mem::take(&mut mailbox.dirty),
                std::mem::take(&mut mailbox.forwarded),
            )
        };
        let unowned = self.inner.handles.load(Ordering::Acquire) == 0;
        let progress = !added.is_empty() || !dirty.is_empty() || !forwarded.is_empty();
        for (h, shared, waker) in added {
            let ufrag = shared.lock().pc.local_ufrag().to_owned();
            self.inner.router().set_ufrag(h, &ufrag);
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
        if !forwarded.is_empty() {
            let now = self.runtime.now();
            for f in forwarded {
                let input = Input::Receive {
                    source: f.source,
                    destination: f.destination,
                    payload: &f.payload,
                };
                self.feed(f.handle, now, input);
            }
            self.service_touched();
        }
        (progress, unowned)
    }

    /// Feeds a received datagram to this shard's connection `h` (dropped, counted, if it
    /// has ended) and marks it for a drain.
    fn feed(&mut self, h: ConnectionHandle, now: Instant, input: Input<'_>) {
        let Some(conn) = self.conns.get(&h) else {
            self.inner
                .dropped_unroutable
                .fetch_add(1, Ordering::Relaxed);
            return;
        };
        conn.shared.lock().pc.handle_input(now, input);
        if self.touched.last() != Some(&h) {
            self.touched.push(h);
        }
    }

    /// Drains every connection fed since the last call, once each.
    fn service_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for h in touched.drain(..) {
            self.service(h);
        }
        self.touched = touched;
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
        self.learn(h, state.pc.local_ufrag());
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

    /// Records `h`'s current ufrag and the address pairs its last drain sent on, under one
    /// lock of the shared router.
    fn learn(&mut self, h: ConnectionHandle, ufrag: &str) {
        let mut router = self.inner.router();
        router.set_ufrag(h, ufrag);
        for (local, remote) in self.sent_on.drain(..) {
            router.learn(h, local, remote);
        }
    }

    /// Drains `h`'s core until its timeout, which it returns.
    fn drain(&mut self, h: ConnectionHandle, state: &mut State) -> Instant {
        loop {
            match state.pc.poll_output() {
                Output::Transmit(t) => {
                    if self.mdns.on_transmit(&*self.runtime, &t) == Some(false) {
                        state.pc.report_mdns_socket_error();
                    }
                    let pair = (t.source, t.destination);
                    if self.sent_on.last() != Some(&pair) {
                        self.sent_on.push(pair);
                    }
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
            self.conns.shrink_when_sparse();
            let conns = &self.conns;
            capacity::purge_stale(&mut self.timeouts, conns.len(), |Reverse((at, owner))| {
                conns.get(owner).is_some_and(|c| c.queued == Some(*at))
            });
            self.turn.forget(h);
            self.inner.router().remove(h);
            self.inner.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Reads every socket in batches, routes each datagram to its connection (or its
    /// shard), and drains the connections that received something after each batch.
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
                self.route_batch(i);
                self.service_touched();
                self.forward_outgoing();
                flush_sockets(&mut self.sockets, cx)?;
            }
        }
        let routes = self.inner.router().address_routes();
        self.inner.routes.store(routes, Ordering::Relaxed);
        Ok(progress)
    }

    /// Routes socket `i`'s received batch under one router lock, then feeds this shard's
    /// datagrams to their connections and sets the others aside for their shards.
    fn route_batch(&mut self, i: usize) {
        let batch = &self.sockets[i].batch;
        {
            let mut router = self.inner.router();
            self.routed.clear();
            self.routed.extend(
                batch
                    .datagrams()
                    .map(|d| router.route(d.source, d.destination, d.payload)),
            );
        }
        let now = self.runtime.now();
        let routed = std::mem::take(&mut self.routed);
        let sockets = std::mem::take(&mut self.sockets);
        for (d, routed) in sockets[i].batch.datagrams().zip(&routed) {
            if routed.is_none() && d.source.port() == MDNS_PORT {
                // An mDNS answer sent to our socket: for this shard's connections
                // resolving a name.
                deliver_mdns(&self.inner, &self.conns, &mut self.touched, now, d);
                continue;
            }
            let Some(h) = *routed else {
                tracing::debug!(source = %d.source, "endpoint: unroutable datagram dropped");
                self.inner
                    .dropped_unroutable
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            };
            self.inner.routed.fetch_add(1, Ordering::Relaxed);
            let shard = self.inner.shard_of(h);
            if shard == self.shard {
                let input = Input::Receive {
                    source: d.source,
                    destination: d.destination,
                    payload: d.payload,
                };
                self.feed(h, now, input);
            } else {
                self.outgoing[shard].push(Forwarded {
                    handle: h,
                    source: d.source,
                    destination: d.destination,
                    payload: d.payload.to_vec(),
                });
            }
        }
        self.sockets = sockets;
        self.routed = routed;
    }

    /// Hands the datagrams set aside for other shards to their mailboxes.
    fn forward_outgoing(&mut self) {
        for (shard, outgoing) in self.outgoing.iter_mut().enumerate() {
            if outgoing.is_empty() {
                continue;
            }
            self.inner
                .forwarded
                .fetch_add(outgoing.len() as u64, Ordering::Relaxed);
            let mut mailbox = self.inner.mailbox(shard);
            mailbox.forwarded.append(outgoing);
            mailbox.wake_driver();
        }
    }

    /// Hands what the mDNS socket received to the connections resolving a name.
    fn poll_mdns(&mut self, cx: &mut Context<'_>) -> io::Result<bool> {
        let now = self.runtime.now();
        let (inner, conns, touched) = (&self.inner, &self.conns, &mut self.touched);
        let progress = self
            .mdns
            .poll_recv(cx, |d| deliver_mdns(inner, conns, touched, now, d));
        self.service_touched();
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
            self.timeouts.shrink_when_sparse();
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

    /// A socket failed: every connection of the shard ends with the error, and so do the
    /// connections added to it later (the other shards go on).
    fn fail_all(&mut self, error: io::Error) {
        tracing::debug!(%error, shard = self.shard, "endpoint driver ends");
        let kind = error.kind();
        let added = {
            let mut mailbox = self.inner.mailbox(self.shard);
            mailbox.failed = Some((kind, error.to_string()));
            std::mem::take(&mut mailbox.added)
        };
        let conns = self.conns.drain().map(|(h, conn)| (h, conn.shared));
        let all: Vec<_> = conns
            .chain(added.into_iter().map(|(h, shared, _)| (h, shared)))
            .collect();
        let mut router = self.inner.router();
        for (h, _) in &all {
            router.remove(*h);
        }
        drop(router);
        self.inner
            .connections
            .fetch_sub(all.len(), Ordering::Relaxed);
        for (_, shared) in all {
            let reason = RuntimeError::Io(io::Error::new(kind, error.to_string()));
            finish_connection(&mut shared.lock(), reason);
        }
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
