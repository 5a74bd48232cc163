//! The boundary between the sans-IO core and the outside world.
//!
//! The core never touches a socket, a clock, a thread or the OS random source. Whoever drives
//! it does, and this module names what a driver provides:
//!
//! - [`SocketConfig`]: which local addresses to bind UDP sockets on (every interface address,
//!   optionally loopback, optionally restricted to a list), on which port, and with which
//!   kernel buffer sizes.
//! - [`RecvBatch`]: a reusable buffer that one batched receive call (`recvmmsg`, GRO) fills
//!   with many datagrams at once, read back as [`Datagram`]s.
//! - With the feature `async`: the [`Runtime`] trait (UDP sockets, timers, spawning, the
//!   clock, name resolution and an OS-drawn seed) that the async glue is generic over. The
//!   tokio and smol adapters (`rtcpeer-tokio`, `rtcpeer-smol`) implement it; nothing in the
//!   core depends on a particular runtime.
//!
//! - With the feature `async`: the runtime-agnostic driver and the application's handles,
//!   written once for every runtime: [`AsyncPeerConnection`] (async JSEP methods,
//!   [`Events`] stream, waiting for gathering or connection), [`DataChannel`] (async
//!   `send_text`/`send_binary` with back-pressure, `recv`). A driver task owns the core
//!   `PeerConnection`, the sockets and the timer; it drains `poll_output` after every input
//!   and routes events to the handles, which share the core with it under a mutex.
//! - With the feature `async`: [`AsyncEndpoint`], many such connections on one set of
//!   sockets (one UDP port per address) with one driver task: the server case.
//! - With the feature `async`: [`api`], the application API of the async adapters listed
//!   once; `rtcpeer-tokio` and `rtcpeer-smol` re-export it whole.
//!
//! - With the feature `async`: TURN over TCP and TLS (`turn:...?transport=tcp`,
//!   `turns:`): the driver opens the connections the core asks for through
//!   [`Runtime::connect_tcp`], runs TLS with [`tls::TlsClient`] (feature `tls`, implied by
//!   `async`) and carries the bytes both ways.
//!
//! - With the feature `tls`: [`turn_conn::TurnStreamConn`], the socket-independent half of
//!   one TURN connection (queueing, TLS), which the async driver and the mio event loop
//!   share.
//!
//! The blocking mio adapter (`rtcpeer-mio`) uses [`SocketConfig`] and [`RecvBatch`] too, but
//! needs no async trait.

#[cfg(feature = "async")]
pub mod api;
mod batch;
#[cfg(feature = "async")]
mod certificate;
#[cfg(feature = "async")]
mod channel;
mod config;
#[cfg(feature = "async")]
mod driver;
#[cfg(feature = "async")]
mod endpoint;
#[cfg(feature = "async")]
mod error;
#[cfg(feature = "async")]
mod events;
#[cfg(feature = "async")]
mod lazy_timer;
#[cfg(feature = "async")]
mod mdns_socket;
#[cfg(feature = "async")]
mod peer;
#[cfg(feature = "async")]
mod shared;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "async")]
mod track;
#[cfg(feature = "async")]
mod traits;
#[cfg(feature = "tls")]
pub mod turn_conn;
#[cfg(feature = "async")]
mod turn_stream;
#[cfg(feature = "async")]
mod waiters;

pub use batch::{Datagram, RecvBatch, RecvMeta, SlotMemory};
#[cfg(feature = "async")]
pub use certificate::generate_certificate;
#[cfg(feature = "async")]
pub use channel::{ChannelEvent, DataChannel, Message, SEND_HIGH_WATER, SEND_LOW_WATER};
pub use config::SocketConfig;
#[cfg(feature = "async")]
pub use endpoint::{AsyncEndpoint, default_shards};
#[cfg(feature = "async")]
pub use error::RuntimeError;
#[cfg(feature = "async")]
pub use events::Events;
#[cfg(feature = "async")]
pub use peer::AsyncPeerConnection;
#[cfg(feature = "async")]
pub use track::{MAX_QUEUED_RTP, RTP_SEND_HIGH_WATER, TrackLocal, TrackRemote};
#[cfg(feature = "async")]
pub use traits::{AsyncTcpStream, AsyncTimer, AsyncUdpSocket, BoxFuture, Runtime};
