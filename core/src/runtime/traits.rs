//! The runtime trait the async glue is generic over (feature `async`).
//!
//! Shaped after quinn's runtime module: a handful of object-safe traits that a runtime
//! adapter implements in a few hundred lines, so the driver logic exists once.

use super::{RecvBatch, SocketConfig};
use crate::Transmit;
use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// A boxed, sendable future, as runtimes accept and return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Everything the async glue needs from the world: the clock, timers, spawning, UDP
/// sockets, name resolution and an OS-drawn RNG seed.
///
/// Implementations are cheap handles (`Arc`-like) onto one runtime. Every method may be
/// called from any thread and from inside or outside a task of that runtime.
pub trait Runtime: Send + Sync + Debug + 'static {
    /// The current monotonic time.
    fn now(&self) -> Instant;

    /// A timer that fires once `deadline` has passed.
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>>;

    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture<()>);

    /// Binds one UDP socket per local address selected by `config` (see
    /// [`SocketConfig`]). Fails if a socket cannot be bound or if no address qualifies.
    fn bind(&self, config: &SocketConfig) -> io::Result<Vec<Arc<dyn AsyncUdpSocket>>>;

    /// Resolves `host` (a name or an IP literal) to socket addresses with `port`.
    fn resolve(&self, host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>>;

    /// 32 bytes from the OS random source, to seed the core's [`crate::Rng`].
    fn seed(&self) -> [u8; 32];

    /// The wall clock now (for RTCP sender reports' NTP timestamps).
    fn system_time(&self) -> std::time::SystemTime;

    /// A socket bound to port 5353 and joined to the mDNS group 224.0.0.251 on the
    /// interface with address `interface` (see `rtcpeer_net::bind_mdns_socket`), opened by
    /// a driver the first time its connection queries the group for a remote `.local`
    /// candidate. The default says the runtime has none: answers then arrive only where a
    /// responder unicasts them to the query's source.
    fn bind_mdns(&self, interface: std::net::Ipv4Addr) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let _ = interface;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this runtime adapter opens no mDNS socket",
        ))
    }

    /// Opens a TCP connection to `addr` (a TURN server for `turn:...?transport=tcp` and
    /// `turns:`). The default says the runtime has no TCP: such TURN servers then fail
    /// with a clear error event.
    fn connect_tcp(&self, addr: SocketAddr) -> BoxFuture<io::Result<Box<dyn AsyncTcpStream>>> {
        let _ = addr;
        Box::pin(std::future::ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this runtime adapter opens no TCP connections",
        ))))
    }
}

/// A connected, non-blocking TCP stream registered with a runtime's reactor, owned by one
/// driver. Both poll methods follow the usual contract (`Pending` registers the waker).
pub trait AsyncTcpStream: Send + Debug + 'static {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes a prefix of `buf`; returns how many bytes were taken (at least one).
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
}

/// A resettable one-shot timer.
pub trait AsyncTimer: Send + Debug + 'static {
    /// Re-arms the timer to fire at `deadline` (earlier or later than before).
    fn reset(self: Pin<&mut Self>, deadline: Instant);

    /// Ready once the deadline has passed; stays ready until [`reset`](Self::reset).
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// A bound, non-blocking UDP socket registered with a runtime's reactor.
///
/// Both poll methods follow the usual contract: `Pending` means the task's waker was
/// registered and will be woken when the socket may make progress.
pub trait AsyncUdpSocket: Send + Sync + Debug + 'static {
    /// The address the socket is bound to (a specific interface address, never a
    /// wildcard): the host candidate address and the [`Transmit::source`] that selects it.
    fn local_addr(&self) -> SocketAddr;

    /// Receives as many datagrams as are ready (at least one) into `batch` in one batched
    /// call where the OS supports it. Transient errors (an ICMP-induced "connection
    /// refused", an interrupted call) are absorbed; other errors are returned.
    fn poll_recv(&self, cx: &mut Context<'_>, batch: &mut RecvBatch) -> Poll<io::Result<()>>;

    /// Sends a prefix of `transmits` (coalesced with GSO where possible) and returns how
    /// many were consumed, at least one. A datagram the OS refuses for a reason other than
    /// a full buffer (unreachable destination, wrong family) is dropped, traced, and counts
    /// as consumed: UDP is unreliable and the protocols above retransmit. `Pending` only
    /// when the send buffer is full.
    fn poll_send(&self, cx: &mut Context<'_>, transmits: &[Transmit]) -> Poll<io::Result<usize>>;

    /// The number of slots and the slot size a [`RecvBatch`] for this socket should have
    /// to use batching and GRO fully.
    fn recv_batch_shape(&self) -> (usize, usize);

    /// A receive batch of [`recv_batch_shape`](Self::recv_batch_shape) for this socket.
    /// The default puts it on the heap; an adapter may supply memory that stays
    /// unallocated until written ([`RecvBatch::with_memory`]).
    fn new_recv_batch(&self) -> RecvBatch {
        let (slots, slot_len) = self.recv_batch_shape();
        RecvBatch::new(slots, slot_len)
    }
}
