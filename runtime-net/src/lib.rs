//! `rtcpeer-net`: the UDP plumbing shared by the rtcpeer runtime adapters.
//!
//! `rtcpeer-tokio`, `rtcpeer-smol` and `rtcpeer-mio` each register sockets with their own
//! reactor, but everything else about the sockets is the same and lives here, once:
//!
//! - [`local_addresses`] and [`bind_sockets`]: enumerate interface addresses (`if-addrs`),
//!   filter them by a [`SocketConfig`], and bind one non-blocking UDP socket per address
//!   with large kernel buffers (`socket2`).
//! - [`UdpIo`]: batched receive into a [`RecvBatch`] (`recvmmsg` and GRO on Linux) and
//!   batched send of core [`Transmit`]s (consecutive datagrams to one destination coalesced
//!   with GSO), with a plain one-datagram fallback where the OS has neither (all through
//!   `quinn-udp`).
//! - [`bind_mdns_socket`]: the socket joined to the mDNS group that a connection resolving
//!   remote `.local` candidates opens on its first query.
//! - [`os_seed`]: 32 bytes from the OS random source to seed the core's RNG.
//!
//! Applications do not use this crate directly; they use an adapter.

mod bind;
mod mdns;
mod udp;

pub use bind::{bind_socket, bind_socket_with, bind_sockets, local_addresses};
pub use mdns::bind_mdns_socket;
pub use rtcpeer::Transmit;
pub use rtcpeer::runtime::{Datagram, RecvBatch, RecvMeta, SocketConfig};
pub use udp::UdpIo;

/// 32 bytes from the operating system's random source.
///
/// # Panics
/// If the OS random source fails, which on supported systems it does not; running without
/// real randomness would make every key predictable, so there is no fallback.
pub fn os_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS random source is available");
    seed
}
