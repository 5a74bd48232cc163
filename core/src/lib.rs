//! rtcpeer: a WebRTC stack as a pure, poll-driven state machine.
//!
//! This crate does no I/O: it opens no sockets, reads no clock, starts no threads and draws
//! no OS randomness. Datagrams and timestamps go in; datagrams, events and timeouts come
//! out. Drive it from any event loop, or use one of the runtime adapters
//! (`rtcpeer-tokio`, `rtcpeer-smol`, `rtcpeer-mio`).
//!
//! Modules follow the protocol layers: [`stun`], [`ice`], [`dtls`], [`sctp`],
//! [`datachannel`], [`sdp`], [`srtp`], [`rtp`] (RTP/RTCP wire formats), [`media`], and
//! [`peer_connection`] which ties them together;
//! `sim` (feature `sim`) is a deterministic network simulator.

pub mod crypto;
pub mod datachannel;
pub mod dtls;
pub mod endpoint;
mod error;
pub mod ice;
pub mod media;
pub mod peer_connection;
pub mod rng;
pub mod rtp;
pub mod runtime;
pub mod sctp;
pub mod sdp;
#[cfg(feature = "sim")]
pub mod sim;
pub mod srtp;
pub mod stun;
pub mod time;
pub mod transmit;

pub use endpoint::{ConnectionHandle, Endpoint, EndpointOutput};
pub use error::Error;
pub use peer_connection::{
    ChannelId, Event, Input, Output, PeerConnection, PeerConnectionState, RtcConfiguration,
    RtcSessionDescription, SdpType, SignalingState,
};
pub use rng::{Rng, Seed};
pub use time::{AnchoredWallClock, WallClock};
pub use transmit::Transmit;
