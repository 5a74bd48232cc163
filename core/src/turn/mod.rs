//! `turn`: Traversal Using Relays around NAT (RFC 8656), client side, sans-IO, plus a
//! small server for simulations and tests.
//!
//! - [`wire`]: the TURN attributes on the STUN codec and the messages a client builds.
//! - [`channel_data`]: the ChannelData framing (RFC 8656 section 12.4), and message
//!   boundaries on a stream transport (RFC 6062 framing for TURN over TCP/TLS).
//! - [`stream`]: [`StreamFramer`], whole messages out of a TCP/TLS byte stream.
//! - [`TurnClient`]: one allocation on one server (Allocate with long-term credentials,
//!   401/438 handling on every request, Refresh and re-allocation, permissions, channels
//!   with the "one number per peer" rule, Send/Data indications, deallocation).
//! - [`server::TurnServer`]: a sans-IO UDP TURN server (allocations, permissions,
//!   channels, nonce expiry, restart) for the simulator and tests.
//!
//! The ICE agent ([`crate::ice`]) owns the clients: it makes relayed candidates from
//! allocations and wraps and unwraps the traffic of pairs whose local candidate is
//! relayed.
//!
//! Not implemented: TCP allocations (RFC 6062 `Connect`), IPv6 relays requested from IPv4
//! (REQUESTED-ADDRESS-FAMILY, RFC 8656 section 7.2), EVEN-PORT and RESERVATION-TOKEN,
//! DONT-FRAGMENT, ICMP attributes, PASSWORD-ALGORITHMS (SHA-256 keys), the 300 Try
//! Alternate redirect.
//!
//! Transports to the server: UDP, TCP and TLS ([`TurnTransport`]). Over a stream the
//! client frames its messages for [`stream`] (ChannelData padded to four bytes), does not
//! retransmit (RFC 8489 section 6.2.2: one transmission, 39.5 s timeout), and the core
//! stays sans-IO: the driver opens the TCP (and TLS) connection when asked
//! ([`TurnConnect`]) and hands its bytes in and out.

pub mod channel_data;
mod client;
pub mod server;
pub mod stream;
pub mod wire;

pub use channel_data::{ChannelData, ChannelDataError, is_channel_data};
pub use client::{
    CHANNEL_REFRESH, MAX_PEERS, PERMISSION_REFRESH, RELIABLE_TIMEOUT, Received, TurnClient,
    TurnClientConfig, TurnError, TurnEvent, TurnStats,
};
pub use stream::{
    FramingError, MAX_FRAME_LEN, StreamFramer, TurnConnect, TurnConnectionId, TurnTransport,
};

#[cfg(test)]
mod tests;
