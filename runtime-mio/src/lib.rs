//! `rtcpeer-mio`: drives the sans-IO `rtcpeer` core from a plain, blocking mio event loop.
//!
//! [`EventLoop`] is the worked example of driving the core from your own loop: it owns a
//! core `Endpoint` (any number of peer connections on shared sockets), the sockets and a
//! `mio::Poll`; [`LoopHandle`]s send it commands
//! from other threads (woken through a `mio::Waker`), and [`LoopHandle::call`] returns a
//! command's result as a [`Reply`] (blocking wait or `Future`); events arrive at a callback.
//!
//! No async runtime: the application owns a [`mio::Poll`], registers the sockets of this
//! crate with it and calls into the core when they become readable or a deadline passes.
//! [`MioUdpSocket`] is the socket half: bound per local address like the async adapters'
//! sockets (same [`SocketConfig`], 4 MiB buffers, `recvmmsg`/GRO/GSO batching on Linux).
//!
//! ```no_run
//! use rtcpeer_mio::{MioUdpSocket, SocketConfig};
//! use mio::{Events, Interest, Poll, Token};
//! # fn demo() -> std::io::Result<()> {
//! let mut poll = Poll::new()?;
//! let mut sockets = MioUdpSocket::bind_all(&SocketConfig::loopback())?;
//! for (i, socket) in sockets.iter_mut().enumerate() {
//!     poll.registry().register(socket.source(), Token(i), Interest::READABLE)?;
//! }
//! let mut events = Events::with_capacity(64);
//! poll.poll(&mut events, None)?;
//! for event in &events {
//!     let socket = &mut sockets[event.token().0];
//!     while let Some(batch) = socket.recv()? {
//!         for datagram in batch.datagrams() {
//!             println!("{} bytes from {}", datagram.payload.len(), datagram.source);
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! TURN servers over TCP and TLS (`turn:...?transport=tcp`, `turns:`): the loop opens the
//! connections its peer connections ask for (non-blocking `mio::net::TcpStream`s on the
//! same `Poll`), runs TLS with the core's rustls client (the pure-Rust graviola provider,
//! as the async adapters) and carries the bytes both ways. A hand-written loop over an
//! `Endpoint` gets the same with [`MioTurnStreams`].
//!
//! # The browser's data channel on this loop
//!
//! The async adapters wrap each channel in a W3C-like `DataChannel`; here the core's own
//! API is the surface, reached from a command or the event callback:
//! - `readyState` (`state()`), `bufferedAmount`, `bufferedAmountLowThreshold`, `label`,
//!   `send` and `close`: on `pc.data_channel(id)?` (a [`DataChannelHandle`]), which fails
//!   with `NoSuchChannel` for an id the connection never had;
//! - the `datachannel`, `open`, `message`, `bufferedamountlow` and `close` events:
//!   `Event::DataChannel`, `ChannelOpen`, `ChannelMessage`, `ChannelBufferedAmountLow`,
//!   `ChannelClosing`/`ChannelClosed` at the callback. A failed connection
//!   (`ConnectionStateChange(Failed)`) or the end of [`EventLoop::run`] ends every channel:
//!   where the async glue queues `error` and `close` for each, a mio application reacts
//!   to those two signals itself;
//! - `close()` delivers what was queued before it, as in the browser;
//! - a sender that must not queue without bound refills on `ChannelBufferedAmountLow`
//!   (see `examples/src/bin/mio_loop.rs`), and a reader that holds messages reports them
//!   with `set_application_unread` so that they count against the SCTP receive window.
//!
//! The W3C checklist the async adapters pass runs on this loop too (the repository's
//! `tests/tests/api_contracts.rs`), through a thin mirror of these events.
//!
//! [`DataChannelHandle`]: rtcpeer::peer_connection::DataChannelHandle

mod event_loop;
mod reply;
mod socket;
mod turn;

pub use event_loop::{Command, EventHandler, EventLoop, LoopEnded, LoopHandle};
pub use mio;
pub use reply::Reply;
pub use rtcpeer;
pub use rtcpeer::runtime::{Datagram, RecvBatch, SocketConfig};
pub use socket::MioUdpSocket;
pub use turn::{FIRST_STREAM_TOKEN, MioTurnStreams};
