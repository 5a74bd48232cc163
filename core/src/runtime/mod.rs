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
//! The blocking mio adapter (`rtcpeer-mio`) uses [`SocketConfig`] and [`RecvBatch`] too, but
//! needs no async trait.

mod batch;
mod config;
#[cfg(feature = "async")]
mod traits;

pub use batch::{Datagram, RecvBatch, RecvMeta};
pub use config::SocketConfig;
#[cfg(feature = "async")]
pub use traits::{AsyncTimer, AsyncUdpSocket, BoxFuture, Runtime};
