//! What the mio echo backend's loop threads (its *shards*) share: one mailbox per shard,
//! the routing table of every shard's connections, the session table and the counters.
//!
//! A connection lives in one shard's core `Endpoint` for its whole life. The kernel hands
//! a datagram to whichever shard's socket its 4-tuple hashes to (`SO_REUSEPORT`), so a
//! shard routes what it receives through the shared [`Router`] (the core's: learned
//! 5-tuples, else the STUN USERNAME's local ufrag) under one lock per received batch, and
//! copies what belongs to another shard into that shard's mailbox: one lock per batch and
//! shard, and a wake only when the shard's loop is parked (asleep in `poll`): an awake
//! loop takes its mailbox on its next turn anyway. A mailbox holds at most [`MAX_FORWARDED_BYTES`] of
//! datagrams; beyond that they are dropped, counted and traced, as a full socket buffer
//! would drop them.
//!
//! In the router a connection is known by its *global handle*: its handle in its shard's
//! endpoint times the shard count, plus the shard, so the owner is the global handle
//! modulo the shard count (the rule of the async endpoint).
//!
//! Lock order: a mailbox or the router, never both, never two mailboxes.

use super::backend::{BackendError, SessionId};
use super::config::EchoConfig;
use super::table::SessionTable;
use mio::Waker;
use rtcpeer::endpoint::Router;
use rtcpeer::peer_connection::RtcConfiguration;
use rtcpeer::{ConnectionHandle, Endpoint};
use rtcpeer_mio::RecvBatch;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Bytes of forwarded datagrams one shard's mailbox holds at most (payloads plus their
/// bookkeeping): about one socket receive buffer.
pub const MAX_FORWARDED_BYTES: usize = 4 << 20;
/// Shortest time between two reports of the routing counters in the log.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Where a session lives: its shard and its handle in that shard's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SessionRef {
    pub(super) shard: usize,
    pub(super) handle: ConnectionHandle,
}

/// What the HTTP layer asks of a shard.
pub(super) enum Command {
    Start(Box<Start>),
    /// Apply the client's answer to the session.
    Answer(
        SessionId,
        ConnectionHandle,
        String,
        oneshot::Sender<Result<(), BackendError>>,
    ),
    Close(SessionId, ConnectionHandle),
}

/// What a new session does first: answer the client's offer, or offer a channel itself.
pub(super) enum Role {
    Answer(String),
    Offer,
}

/// A request for a new session, run on its shard (where its peer connection lives).
pub(super) struct Start {
    pub(super) client: IpAddr,
    pub(super) role: Role,
    pub(super) config: RtcConfiguration,
    /// The new session's id, or why it could not be made.
    pub(super) created: oneshot::Sender<Result<SessionId, BackendError>>,
    /// The complete local description, once gathered.
    pub(super) gathered: oneshot::Sender<String>,
}

/// A datagram another shard's socket received for one of this shard's connections.
#[derive(Debug)]
pub(super) struct Forwarded {
    pub(super) source: SocketAddr,
    pub(super) destination: SocketAddr,
    pub(super) payload: Vec<u8>,
}

impl Forwarded {
    /// What it counts against [`MAX_FORWARDED_BYTES`].
    fn cost(&self) -> usize {
        self.payload.len() + std::mem::size_of::<Self>()
    }
}

/// The contents of one shard's mailbox.
#[derive(Default)]
pub(super) struct Inbox {
    pub(super) commands: Vec<Command>,
    pub(super) forwarded: Vec<Forwarded>,
    forwarded_bytes: usize,
    /// The loop is (about to be) asleep in `poll` and must be woken for anything new.
    parked: bool,
}

impl Inbox {
    fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.forwarded.is_empty()
    }

    /// Moves the datagrams of `batch` that fit under [`MAX_FORWARDED_BYTES`] in; returns
    /// how many were dropped (`batch` is left empty).
    fn accept(&mut self, batch: &mut Vec<Forwarded>) -> usize {
        let mut dropped = 0;
        for datagram in batch.drain(..) {
            let cost = datagram.cost();
            if self.forwarded_bytes + cost > MAX_FORWARDED_BYTES {
                dropped += 1;
                continue;
            }
            self.forwarded_bytes += cost;
            self.forwarded.push(datagram);
        }
        dropped
    }

    /// Empties the inbox for reuse, keeping its capacity.
    pub(super) fn clear(&mut self) {
        self.commands.clear();
        self.forwarded.clear();
        self.forwarded_bytes = 0;
        self.parked = false;
    }
}

struct Mailbox {
    inbox: Mutex<Inbox>,
    /// Wakes the shard's loop.
    waker: Waker,
}

/// Routing counters of all shards together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardRouting {
    /// Loop threads, each with its own socket on the one UDP port.
    pub shards: usize,
    /// Datagrams a shard's socket received for another shard's connection, handed over.
    pub forwarded: u64,
    /// Datagrams dropped because the owning shard's mailbox was full.
    pub dropped_mailbox_full: u64,
}

/// The state every shard and the HTTP layer share.
pub(super) struct Shards {
    /// The UDP address every session is served on (every shard's socket has it).
    pub(super) udp: SocketAddr,
    pub(super) config: EchoConfig,
    /// The sessions (admission, figures); each lives on its shard.
    pub(super) sessions: SessionTable<SessionRef>,
    mailboxes: Box<[Mailbox]>,
    /// Every shard's connections, by global handle.
    router: Mutex<Router>,
    /// Sessions started on each shard and not yet ended.
    load: Box<[AtomicUsize]>,
    /// Where the next search for the least-loaded shard begins.
    next: AtomicUsize,
    forwarded: AtomicU64,
    dropped_full: AtomicU64,
    /// Set once the backend is dropped: the loops end.
    stopped: AtomicBool,
    /// The routing figures last written to the log, and when.
    reported: Mutex<(Instant, ShardRouting)>,
}

impl Shards {
    /// Shared state for one shard per waker in `wakers`.
    pub(super) fn new(udp: SocketAddr, config: EchoConfig, wakers: Vec<Waker>) -> Self {
        let mailboxes: Box<[Mailbox]> = wakers
            .into_iter()
            .map(|waker| Mailbox {
                inbox: Mutex::default(),
                waker,
            })
            .collect();
        let unchanged = ShardRouting {
            shards: mailboxes.len(),
            ..ShardRouting::default()
        };
        Self {
            udp,
            config,
            sessions: SessionTable::new(config.limits),
            load: mailboxes.iter().map(|_| AtomicUsize::new(0)).collect(),
            mailboxes,
            router: Mutex::default(),
            next: AtomicUsize::new(0),
            forwarded: AtomicU64::new(0),
            dropped_full: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            reported: Mutex::new((Instant::now(), unchanged)),
        }
    }

    /// The number of shards.
    pub(super) fn len(&self) -> usize {
        self.mailboxes.len()
    }

    /// Connection `h` of `shard`'s endpoint as the router knows it; `None` past the `u32`
    /// handle space (some 4 billion sessions over the shards' lives).
    pub(super) fn global(&self, shard: usize, h: ConnectionHandle) -> Option<ConnectionHandle> {
        let n = u32::try_from(self.len()).ok()?;
        let shard = u32::try_from(shard).ok()?;
        Some(ConnectionHandle(h.0.checked_mul(n)?.checked_add(shard)?))
    }

    /// The shard a global handle's connection lives on.
    pub(super) fn owner(&self, global: ConnectionHandle) -> usize {
        global.0 as usize % self.len()
    }

    /// The routing table, for one batch of look-ups or updates.
    pub(super) fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inbox(&self, shard: usize) -> MutexGuard<'_, Inbox> {
        self.mailboxes[shard]
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `command` for `shard`; `false` if its loop cannot be woken.
    pub(super) fn send(&self, shard: usize, command: Command) -> bool {
        let mut inbox = self.inbox(shard);
        inbox.commands.push(command);
        let wake = std::mem::take(&mut inbox.parked);
        drop(inbox);
        !wake || self.mailboxes[shard].waker.wake().is_ok()
    }

    /// Hands `batch` (datagrams for `shard`'s connections) to `shard`: one lock, and one
    /// wake if its loop is parked. What does not fit is dropped and counted.
    pub(super) fn forward(&self, shard: usize, batch: &mut Vec<Forwarded>) {
        let sent = batch.len();
        let mut inbox = self.inbox(shard);
        let dropped = inbox.accept(batch);
        let wake = sent > dropped && std::mem::take(&mut inbox.parked);
        drop(inbox);
        self.forwarded
            .fetch_add((sent - dropped) as u64, Ordering::Relaxed);
        if dropped > 0 {
            self.dropped_full
                .fetch_add(dropped as u64, Ordering::Relaxed);
            tracing::debug!(
                shard,
                dropped,
                "echo mio: shard mailbox full, datagrams dropped"
            );
        }
        if wake {
            let _ = self.mailboxes[shard].waker.wake();
        }
    }

    /// Swaps `shard`'s inbox with `spare` (which must be cleared): the loop takes
    /// everything queued for it under one lock, once per turn, and is no longer parked.
    pub(super) fn take(&self, shard: usize, spare: &mut Inbox) {
        std::mem::swap(&mut *self.inbox(shard), spare);
    }

    /// Called by `shard`'s loop before it waits in `poll`: `false` if something is queued
    /// already (take it and do not sleep), else the loop is parked, and the next command
    /// or forwarded batch wakes it (only that one: senders to a loop that is awake, and so
    /// will take its inbox in its next turn, need no wake).
    pub(super) fn park(&self, shard: usize) -> bool {
        let mut inbox = self.inbox(shard);
        inbox.parked = inbox.is_empty();
        inbox.parked
    }

    /// The shard for a new session: the least loaded, ties taken in turn. Counts the
    /// session on it; [`unload`](Self::unload) when it ends or fails to start.
    pub(super) fn pick(&self) -> usize {
        let n = self.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let shard = (0..n)
            .map(|i| (first + i) % n)
            .min_by_key(|&s| self.load[s].load(Ordering::Relaxed))
            .expect("at least one shard");
        self.load[shard].fetch_add(1, Ordering::Relaxed);
        shard
    }

    /// A session counted on `shard` by [`pick`](Self::pick) has ended.
    pub(super) fn unload(&self, shard: usize) {
        self.load[shard].fetch_sub(1, Ordering::Relaxed);
    }

    /// The counters, summed over the shards.
    pub(super) fn routing(&self) -> ShardRouting {
        ShardRouting {
            shards: self.len(),
            forwarded: self.forwarded.load(Ordering::Relaxed),
            dropped_mailbox_full: self.dropped_full.load(Ordering::Relaxed),
        }
    }

    /// Writes the counters to the log at `info` if they changed (never, with one shard)
    /// and the last report is at least [`REPORT_EVERY`] old. Cheap to call on every loop
    /// turn.
    pub(super) fn report_if_due(&self, now: Instant) {
        let Ok(mut reported) = self.reported.try_lock() else {
            return; // another shard is at it
        };
        let routing = self.routing();
        if now < reported.0 + REPORT_EVERY || routing == reported.1 {
            return;
        }
        *reported = (now, routing);
        tracing::info!(
            shards = routing.shards,
            forwarded = routing.forwarded,
            dropped_mailbox_full = routing.dropped_mailbox_full,
            "echo mio: datagrams forwarded between shards"
        );
    }

    /// Asks every loop to end.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        for mailbox in &self.mailboxes {
            let _ = mailbox.waker.wake();
        }
    }

    /// Whether [`stop`](Self::stop) was called.
    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

/// Routes received batches: scratch space kept between batches.
pub(super) struct Sorter {
    /// The global handles of the current batch's datagrams, in order.
    routes: Vec<Option<ConnectionHandle>>,
    /// Datagrams of the current batch for each shard (this shard's stays empty).
    outgoing: Vec<Vec<Forwarded>>,
}

impl Sorter {
    pub(super) fn new(shards: usize) -> Self {
        Self {
            routes: Vec::new(),
            outgoing: (0..shards).map(|_| Vec::new()).collect(),
        }
    }

    /// Feeds the datagrams of `batch` (received by shard `shard`) that belong to its
    /// connections to its `endpoint` (with those that are nobody's, which the endpoint
    /// counts and drops, or hands to connections resolving an mDNS name) and forwards the
    /// others to their shards. One router lock for the batch; none with a single shard.
    pub(super) fn route(
        &mut self,
        batch: &RecvBatch,
        shard: usize,
        shards: &Shards,
        endpoint: &mut Endpoint,
    ) {
        self.routes.clear();
        if shards.len() > 1 {
            let mut router = shards.router();
            let routes = batch
                .datagrams()
                .map(|d| router.route(d.source, d.destination, d.payload));
            self.routes.extend(routes);
        }
        let now = Instant::now();
        let mut routes = self.routes.iter();
        for d in batch.datagrams() {
            let owner = routes
                .next()
                .copied()
                .flatten()
                .map_or(shard, |global| shards.owner(global));
            if owner == shard {
                endpoint.handle_receive(now, d.source, d.destination, d.payload);
            } else {
                self.outgoing[owner].push(Forwarded {
                    source: d.source,
                    destination: d.destination,
                    payload: d.payload.to_vec(),
                });
            }
        }
        for (owner, datagrams) in self.outgoing.iter_mut().enumerate() {
            if !datagrams.is_empty() {
                shards.forward(owner, datagrams);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datagram(len: usize) -> Forwarded {
        Forwarded {
            source: SocketAddr::from(([192, 0, 2, 1], 1000)),
            destination: SocketAddr::from(([192, 0, 2, 2], 2000)),
            payload: vec![0; len],
        }
    }

    /// Whether `poll` has a wake pending.
    fn woken(poll: &mut mio::Poll) -> bool {
        let mut events = mio::Events::with_capacity(4);
        poll.poll(&mut events, Some(std::time::Duration::ZERO))
            .expect("poll");
        !events.is_empty()
    }

    #[test]
    fn only_a_parked_loop_is_woken_and_only_once() {
        let mut poll = mio::Poll::new().expect("poll");
        let waker = Waker::new(poll.registry(), mio::Token(0)).expect("waker");
        let udp = SocketAddr::from(([127, 0, 0, 1], 9));
        let shards = Shards::new(udp, EchoConfig::default(), vec![waker]);
        shards.forward(0, &mut vec![datagram(10)]);
        assert!(
            !woken(&mut poll),
            "an awake loop takes its inbox on its next turn"
        );
        assert!(!shards.park(0), "something is queued: do not sleep");
        let mut spare = Inbox::default();
        shards.take(0, &mut spare);
        assert_eq!(spare.forwarded.len(), 1);
        spare.clear();
        assert!(shards.park(0));
        shards.forward(0, &mut vec![datagram(10)]);
        shards.forward(0, &mut vec![datagram(10)]);
        assert!(woken(&mut poll), "a parked loop is woken");
        shards.forward(0, &mut vec![datagram(10)]);
        assert!(!woken(&mut poll), "once");
        assert_eq!(shards.routing().forwarded, 4);
    }

    #[test]
    fn a_full_inbox_drops_and_counts_what_does_not_fit() {
        let mut inbox = Inbox::default();
        let per = datagram(60_000).cost();
        let fit = MAX_FORWARDED_BYTES / per;
        let mut batch: Vec<_> = (0..fit + 3).map(|_| datagram(60_000)).collect();
        assert_eq!(inbox.accept(&mut batch), 3);
        assert!(batch.is_empty());
        assert_eq!(inbox.forwarded.len(), fit);
        inbox.clear();
        let mut again = vec![datagram(60_000)];
        assert_eq!(inbox.accept(&mut again), 0, "room again once taken");
    }
}
