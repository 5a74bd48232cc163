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
//!
//! # Which crate to start from
//!
//! - An async application: `rtcpeer-tokio` or `rtcpeer-smol` (the browser's
//!   `RTCPeerConnection` with `async` methods; their front pages show two peers talking).
//! - A server with many peers on one port: [`Endpoint`], driven by `rtcpeer-mio` or your loop,
//!   or the async `Endpoint` of `rtcpeer-tokio`/`rtcpeer-smol` (`new_endpoint`).
//! - Your own event loop: this crate, as below.
//!
//! # The poll contract
//!
//! After every mutation (a JSEP call, a send, [`handle_input`](PeerConnection::handle_input),
//! [`handle_timeout`](PeerConnection::handle_timeout)) drain
//! [`poll_output`](PeerConnection::poll_output) until it returns [`Output::Timeout`]: send
//! each [`Output::Transmit`] from its `source` to its `destination`, react to each
//! [`Output::Event`]. Then wait for the first of a datagram, that deadline or a command of
//! the application, feed it with its `now`, and drain again. Every input carries `now`: the
//! core never reads a clock. Every random value comes from
//! [`RtcConfiguration::seed`](peer_connection::RtcConfiguration::seed), which you must set
//! (32 bytes from the OS for real connections, see [`Seed`]).
//!
//! # The shortest working program
//!
//! Two peers in one process, datagrams carried by a loop instead of a network, time
//! advanced virtually from one deadline to the next:
//!
//! ```
//! use rtcpeer::peer_connection::{Event, Input, Output, PeerConnection, RtcConfiguration};
//! use std::time::{Duration, Instant};
//!
//! # fn main() -> Result<(), rtcpeer::Error> {
//! let mut now = Instant::now();
//! // Replayable seeds for a doc test; real connections take 32 bytes from the OS.
//! let mut a = PeerConnection::new(RtcConfiguration::with_seed(1), now)?;
//! let mut b = PeerConnection::new(RtcConfiguration::with_seed(2), now)?;
//! a.add_local_socket(now, "10.0.0.1:5000".parse().unwrap())?;
//! b.add_local_socket(now, "10.0.0.2:5000".parse().unwrap())?;
//! let chat = a.create_data_channel("chat", Default::default())?;
//! let offer = a.create_offer()?;
//! a.set_local_description(offer)?;
//! let mut greeted = false;
//! let mut heard = None;
//! let start = now;
//! while heard.is_none() {
//!     assert!(now - start < Duration::from_secs(60), "connects in virtual time");
//!     let mut deadline = now + Duration::from_secs(1);
//!     // Drain both sides, delivering each datagram to the other.
//!     pump(&mut a, &mut b, now, &mut deadline, &mut heard);
//!     pump(&mut b, &mut a, now, &mut deadline, &mut heard);
//!     // Non-trickle signalling once gathering is done (descriptions carry candidates).
//!     if b.remote_description().is_none() && a.ice_gathering_state()
//!         == rtcpeer::peer_connection::IceGatheringState::Complete
//!     {
//!         b.set_remote_description(a.local_description().unwrap())?;
//!         let answer = b.create_answer()?;
//!         b.set_local_description(answer)?;
//!     }
//!     if a.remote_description().is_none() && b.ice_gathering_state()
//!         == rtcpeer::peer_connection::IceGatheringState::Complete
//!     {
//!         a.set_remote_description(b.local_description().unwrap())?;
//!     }
//!     if !greeted && a.data_channel(chat)?.send_text("hello").is_ok() {
//!         greeted = true;
//!     }
//!     now = deadline.max(now + Duration::from_millis(1));
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(heard.as_deref(), Some(&b"hello"[..]));
//! # Ok(()) }
//!
//! /// Drains `me` until its timeout, handing its datagrams to `peer`.
//! fn pump(
//!     me: &mut PeerConnection,
//!     peer: &mut PeerConnection,
//!     now: Instant,
//!     deadline: &mut Instant,
//!     heard: &mut Option<bytes::Bytes>,
//! ) {
//!     loop {
//!         match me.poll_output() {
//!             Output::Transmit(t) => peer.handle_input(now, Input::Receive {
//!                 source: t.source,
//!                 destination: t.destination,
//!                 payload: &t.payload,
//!             }),
//!             Output::Event(Event::ChannelMessage { data, .. }) => *heard = Some(data),
//!             Output::Event(_) => {}
//!             Output::Timeout(at) => {
//!                 *deadline = (*deadline).min(at);
//!                 return;
//!             }
//!         }
//!     }
//! }
//! ```

mod boxed_clone;
pub mod capacity;
pub mod crypto;
pub mod datachannel;
pub mod dtls;
pub mod endpoint;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ice;
pub mod mdns;
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
pub mod turn;

pub use endpoint::{ConnectionHandle, Endpoint, EndpointOutput};
pub use error::Error;
pub use peer_connection::{
    ChannelId, Event, Input, Output, PeerConnection, PeerConnectionState, RtcConfiguration,
    RtcSessionDescription, SdpType, SignalingState,
};
pub use rng::{Rng, Seed};
pub use time::{AnchoredWallClock, WallClock};
pub use transmit::Transmit;
