//! `rtcpeer-smol`: runs rtcpeer on smol.
//!
//! [`SmolRuntime`] implements the core's [`Runtime`] trait (clock, timers, spawning, UDP
//! sockets, name resolution, OS seed) with smol's reactor (`async-io`) and executor; the
//! runtime-agnostic async glue in `rtcpeer` (feature `async`) is generic over that trait.
//! `rtcpeer-tokio` offers the same API with `TokioRuntime` in place of `SmolRuntime`.
//!
//! Application API: the crate re-exports [`rtcpeer::runtime::api`] whole, the same list in
//! every async adapter: [`new_peer_connection`] gives a [`PeerConnection`] with async JSEP
//! methods (`create_offer().await`, `set_remote_description(..).await`, ...), an [`Events`]
//! stream, `wait_gathering_complete()` for non-trickle signalling, `wait_connected()`, and
//! [`DataChannel`]s with async `send_text`/`send_binary` (back-pressure) and `recv()`. Only
//! [`SmolRuntime`] and [`new_peer_connection`] are this crate's own (besides re-exporting
//! [`rtcpeer`] itself).
//!
//! TURN servers over TCP and TLS (`turn:...?transport=tcp`, `turns:`): [`Runtime::connect_tcp`]
//! opens the TCP connection; TLS (rustls with the pure-Rust graviola provider) and the
//! framing run in the core's shared driver.
//!
//! Sockets: [`Runtime::bind`] binds one UDP socket per selected local address
//! ([`SocketConfig`]), with 4 MiB kernel buffers where allowed, and receives and sends in
//! batches (`recvmmsg`, GRO and GSO on Linux; one datagram per call elsewhere).
//!
//! Two peers in one process talking over UDP on 127.0.0.1 (non-trickle signalling: each
//! description carries all of its candidates):
//!
//! ```
//! use rtcpeer_smol::{Message, RtcConfiguration, SocketConfig, new_peer_connection};
//!
//! fn main() -> Result<(), rtcpeer_smol::Error> {
//!     smol::block_on(async {
//!         let sockets = SocketConfig::loopback();
//!         let alice = new_peer_connection(RtcConfiguration::default(), &sockets)?;
//!         let bob = new_peer_connection(RtcConfiguration::default(), &sockets)?;
//!         let chat = alice.create_data_channel("chat", Default::default()).await?;
//!         let offer = alice.create_offer().await?;
//!         alice.set_local_description(offer).await?;
//!         bob.set_remote_description(alice.wait_gathering_complete().await?).await?;
//!         let answer = bob.create_answer().await?;
//!         bob.set_local_description(answer).await?;
//!         alice.set_remote_description(bob.wait_gathering_complete().await?).await?;
//!         chat.wait_open().await?;
//!         chat.send("hello bob")?; // queues and returns, as the browser's send()
//!         let at_bob = bob.accept_channel().await.expect("alice's channel");
//!         assert_eq!(at_bob.recv().await, Some(Message::Text("hello bob".into())));
//!         Ok(())
//!     })
//! }
//! ```
//!
//! `RtcConfiguration::default()` leaves the seed unset and the adapter fills it with 32
//! bytes from the OS, so every connection has its own keys.

use rtcpeer::Transmit;
use rtcpeer_net::UdpIo;
use smol::{Async, Executor, Timer};
use std::future::Future;
use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

pub use rtcpeer;
pub use rtcpeer::runtime::api::*;

/// Creates a [`PeerConnection`] driven by smol's global executor: [`PeerConnection::new`]
/// on [`SmolRuntime::current`], which binds sockets per `sockets` and spawns the driver.
/// Every async rtcpeer adapter has this function with this signature.
///
/// ```no_run
/// # async fn demo() -> Result<(), rtcpeer::Error> {
/// use rtcpeer_smol::{RtcConfiguration, SocketConfig, new_peer_connection};
/// let pc = new_peer_connection(RtcConfiguration::default(), &SocketConfig::default())?;
/// let channel = pc.create_data_channel("chat", Default::default()).await?;
/// let offer = pc.create_offer().await?;
/// pc.set_local_description(offer).await?;
/// let offer_with_candidates = pc.wait_gathering_complete().await?;
/// // ... signal it, set the answer, then:
/// channel.send_text("hello").await?;
/// # let _ = offer_with_candidates; Ok(()) }
/// ```
pub fn new_peer_connection(
    config: RtcConfiguration,
    sockets: &SocketConfig,
) -> Result<PeerConnection, rtcpeer::Error> {
    PeerConnection::new(SmolRuntime::current().into_dyn(), config, sockets)
}

/// Creates an [`Endpoint`] driven by the current runtime: one set of UDP sockets per
/// `sockets` (give a fixed `port` to serve every connection on that port) and one driver
/// task; its [`Endpoint::new_peer_connection`] gives the same [`PeerConnection`] handles as
/// [`new_peer_connection`]. Every async rtcpeer adapter has this function.
pub fn new_endpoint(sockets: &SocketConfig) -> Result<Endpoint, rtcpeer::Error> {
    Endpoint::new(SmolRuntime::current().into_dyn(), sockets)
}

/// `RTCPeerConnection.generateCertificate()`: a DTLS certificate from the OS random source,
/// to put in [`RtcConfiguration::certificate`] of every connection that should share it (one
/// key generation and self-signing instead of one per connection; every such connection
/// announces the same fingerprint). Every async rtcpeer adapter has this function.
pub fn generate_certificate() -> Result<DtlsCertificate, rtcpeer::Error> {
    rtcpeer::runtime::generate_certificate(&SmolRuntime::current())
}

/// smol's reactor plus an executor, implementing [`Runtime`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SmolRuntime {
    /// `None`: smol's global executor (`smol::spawn`).
    executor: Option<Arc<Executor<'static>>>,
}

impl SmolRuntime {
    /// Spawns onto smol's global executor (`smol::spawn`, threads started on demand).
    /// Named like `TokioRuntime::current` so code reads the same on both runtimes.
    pub fn current() -> Self {
        Self { executor: None }
    }

    /// Spawns onto `executor`; the caller must keep that executor running.
    pub fn with_executor(executor: Arc<Executor<'static>>) -> Self {
        Self {
            executor: Some(executor),
        }
    }

    /// This runtime as the trait object the async glue takes.
    pub fn into_dyn(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }

    fn wrap(socket: StdUdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let local = socket.local_addr()?;
        let io = Async::new(socket)?;
        let udp = UdpIo::new(io.get_ref(), local)?;
        Ok(Arc::new(SmolUdpSocket { io, udp }))
    }
}

impl Default for SmolRuntime {
    fn default() -> Self {
        Self::current()
    }
}

impl Runtime for SmolRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(SmolTimer(Timer::at(deadline)))
    }

    fn spawn(&self, future: BoxFuture<()>) {
        match &self.executor {
            Some(executor) => executor.spawn(future).detach(),
            None => smol::spawn(future).detach(),
        }
    }

    fn bind(&self, config: &SocketConfig) -> io::Result<Vec<Arc<dyn AsyncUdpSocket>>> {
        rtcpeer_net::bind_sockets(config)?
            .into_iter()
            .map(Self::wrap)
            .collect()
    }

    fn bind_mdns(&self, interface: std::net::Ipv4Addr) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        Self::wrap(rtcpeer_net::bind_mdns_socket(interface)?)
    }

    fn resolve(&self, host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { smol::net::resolve((host.as_str(), port)).await })
    }

    fn seed(&self) -> [u8; 32] {
        rtcpeer_net::os_seed()
    }

    fn system_time(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }

    fn connect_tcp(&self, addr: SocketAddr) -> BoxFuture<io::Result<Box<dyn AsyncTcpStream>>> {
        Box::pin(async move {
            let stream = Async::<std::net::TcpStream>::connect(addr).await?;
            stream.get_ref().set_nodelay(true)?;
            Ok(Box::new(SmolTcpStream(stream)) as Box<dyn AsyncTcpStream>)
        })
    }
}

/// A TURN server connection (TCP; TLS runs over it in the core's driver).
#[derive(Debug)]
struct SmolTcpStream(Async<std::net::TcpStream>);

impl AsyncTcpStream for SmolTcpStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        smol::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        smol::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }
}

#[derive(Debug)]
struct SmolTimer(Timer);

impl AsyncTimer for SmolTimer {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().0.set_at(deadline);
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx).map(drop)
    }
}

#[derive(Debug)]
struct SmolUdpSocket {
    io: Async<StdUdpSocket>,
    udp: UdpIo,
}

impl AsyncUdpSocket for SmolUdpSocket {
    fn local_addr(&self) -> SocketAddr {
        self.udp.local_addr()
    }

    fn poll_recv(&self, cx: &mut Context<'_>, batch: &mut RecvBatch) -> Poll<io::Result<()>> {
        loop {
            match self.udp.recv(self.io.get_ref(), batch) {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.io.poll_readable(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmits: &[Transmit]) -> Poll<io::Result<usize>> {
        if transmits.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match self.udp.send(self.io.get_ref(), transmits) {
                Ok(sent) => return Poll::Ready(Ok(sent)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.io.poll_writable(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn recv_batch_shape(&self) -> (usize, usize) {
        self.udp.batch_shape()
    }

    fn new_recv_batch(&self) -> RecvBatch {
        self.udp.new_batch()
    }
}
