//! The application API of every async runtime adapter, listed once (feature `async`).
//!
//! `rtcpeer-tokio` and `rtcpeer-smol` re-export this module whole (`pub use
//! rtcpeer::runtime::api::*;`) and add only their runtime type and a `new_peer_connection`
//! function, so code written against one adapter compiles against the other by changing the
//! crate name.
//!
//! What an application uses:
//! - [`PeerConnection`] (the core's [`AsyncPeerConnection`](super::AsyncPeerConnection)):
//!   async JSEP methods (`create_offer().await`, `set_remote_description(..).await`, ...),
//!   `wait_gathering_complete()` for non-trickle signalling, `wait_connected()`, `close()`;
//! - [`Endpoint`] (the core's [`AsyncEndpoint`](super::AsyncEndpoint)): a server's many
//!   connections on one UDP port, each handing out the same [`PeerConnection`] handle;
//! - [`Events`]: the connection's event stream ([`Event`]s: state changes, candidates,
//!   channels the peer opened);
//! - [`DataChannel`]: the browser's `RTCDataChannel` (`ready_state`, `buffered_amount`,
//!   the low threshold, [`ChannelEvent`]s, a non-blocking `send`), async
//!   `send_text`/`send_binary` with back-pressure and `recv()` of [`Message`]s;
//! - [`DtlsCertificate`] (each adapter's `generate_certificate()` makes one): one certificate shared by many
//!   connections (the browser's `RTCCertificate`), cheaper sessions for a server;
//! - [`Error`] (every call's error type), [`IceServer`], [`Seed`] and [`Bytes`], so that an
//!   application needs no direct dependency on `rtcpeer` or `bytes`;
//! - media: `add_track(..)` gives a [`TrackLocal`] (`write_rtp(..).await`, keyframe
//!   requests from the peer); an [`Event::Track`] names a transceiver whose
//!   [`TrackRemote`] `read_rtp().await`s decrypted [`ReceivedRtp`] packets;
//! - the configuration and JSEP types of [`crate::peer_connection`] that those take and
//!   return, and [`SocketConfig`] to choose the local addresses to bind.
//!
//! What an adapter implements, and advanced users may call directly: [`Runtime`],
//! [`AsyncTimer`], [`AsyncUdpSocket`], [`AsyncTcpStream`] (TURN over TCP/TLS), [`RecvBatch`] and [`Datagram`].

pub use super::{
    AsyncEndpoint as Endpoint, AsyncPeerConnection as PeerConnection, AsyncTcpStream, AsyncTimer,
    AsyncUdpSocket, BoxFuture, ChannelEvent, DataChannel, Datagram, Events, Message, RecvBatch,
    Runtime, RuntimeError, SEND_HIGH_WATER, SocketConfig, TrackLocal, TrackRemote,
};
pub use crate::dtls::DtlsCertificate;
pub use crate::endpoint::EndpointStats;
pub use crate::media::codec::MediaCodecs;
pub use crate::media::{
    FrameWrite, InboundRtpStats, KeyframeRequestKind, ReceivedFrame, ReceivedRtp, RtpWrite,
    SendEncoding, TrackEvent, TrackInfo, TransceiverDirection, TransceiverId, TransceiverInit,
};
pub use crate::peer_connection::{
    ChannelId, ChannelState, DataChannelInit, Event, IceCandidate, IceGatheringState, IceServer,
    PeerConnectionState, RtcConfiguration, RtcSessionDescription, SdpType, SignalingState,
};
pub use crate::sdp::MediaKind;
pub use crate::turn::{TurnError, TurnTransport};
pub use crate::{Error, Seed};
pub use bytes::Bytes;
