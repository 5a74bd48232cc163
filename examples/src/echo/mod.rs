//! The `echo` server: an HTTP signalling front ([`http`]) over a [`SessionBackend`] that
//! runs the peer connections on one of rtcpeer's runtime adapters. Every data channel
//! message a client sends comes back on the same channel, text as text, binary as binary.
//!
//! Built to face the internet ([`EchoConfig`], [`HttpLimits`]): ICE-lite by default (no
//! STUN to addresses an offer names), sessions without an ICE check closed after a few
//! seconds, limits per client address, HTTP head/body deadlines and connection limits,
//! unguessable session ids, offers and answers checked against their route
//! ([`admission`]), and each session's lifecycle at `info` ([`lifecycle`]). A client's
//! close (DTLS close_notify, SCTP ABORT or SHUTDOWN) frees its session at once.
//!
//! Audio and video tracks are echoed too ([`media`]).

pub mod admission;
pub mod async_backend;
pub mod backend;
pub mod config;
pub mod http;
pub mod lifecycle;
pub mod media;
pub mod mio_backend;
mod mio_session;
mod mio_shard;
mod mio_shards;
pub mod session;
pub mod table;

pub use backend::{BackendError, BoxFuture, Created, SessionBackend, SessionId, SessionStats};
pub use config::EchoConfig;
pub use http::HttpLimits;
pub use table::{SessionTable, TableLimits};

#[cfg(test)]
mod async_backend_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod lifecycle_tests;
