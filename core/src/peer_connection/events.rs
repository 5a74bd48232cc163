//! What goes in and comes out of a [`PeerConnection`](super::PeerConnection): inputs,
//! outputs, events and the browser's state enums.

use super::{ChannelId, IceCandidate};
use crate::ice::{IceConnectionState, IceGatheringState};
use crate::transmit::Transmit;
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::Instant;

/// An input from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input<'a> {
    /// A datagram arrived at our socket `destination` from `source`.
    Receive {
        /// The sender.
        source: SocketAddr,
        /// Our socket it arrived on.
        destination: SocketAddr,
        /// The datagram.
        payload: &'a [u8],
    },
}

/// What [`PeerConnection::poll_output`](super::PeerConnection::poll_output) returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Something happened.
    Event(Event),
    /// Nothing more to do until this instant (or the next input): stop draining.
    Timeout(Instant),
}

/// `RTCSignalingState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignalingState {
    /// No offer/answer exchange in progress.
    Stable,
    /// A local offer was applied.
    HaveLocalOffer,
    /// A remote offer was applied.
    HaveRemoteOffer,
    /// A remote offer and a local provisional answer were applied.
    HaveLocalPranswer,
    /// A local offer and a remote provisional answer were applied.
    HaveRemotePranswer,
    /// The connection is closed.
    Closed,
}

/// `RTCPeerConnectionState`, derived from the ICE and DTLS transports as the W3C spec says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerConnectionState {
    /// Nothing started.
    New,
    /// ICE checking or DTLS handshaking.
    Connecting,
    /// ICE connected and DTLS connected.
    Connected,
    /// ICE lost the selected path (it may come back).
    Disconnected,
    /// ICE or DTLS failed.
    Failed,
    /// [`close`](super::PeerConnection::close) was called.
    Closed,
}

/// `RTCDataChannelState`.
pub use crate::datachannel::ChannelState;

/// Something the application should know, from [`Output::Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// `icegatheringstatechange`.
    IceGatheringStateChange(IceGatheringState),
    /// `connectionstatechange`.
    ConnectionStateChange(PeerConnectionState),
    /// `icecandidate`: signal it to the peer. After gathering completes, one with an
    /// empty `candidate` marks end-of-candidates.
    IceCandidate(IceCandidate),
    /// `negotiationneeded`: call `create_offer` (the flag is rechecked in stable state).
    NegotiationNeeded,
    /// `datachannel`: the peer opened a channel; `ChannelOpen` follows.
    DataChannel(ChannelId),
    /// The channel is open (`open`).
    ChannelOpen(ChannelId),
    /// A message arrived (`message`).
    ChannelMessage {
        /// The channel.
        id: ChannelId,
        /// The bytes (UTF-8 when `binary` is false; not checked).
        data: Bytes,
        /// Binary or text.
        binary: bool,
    },
    /// `bufferedamountlow`.
    ChannelBufferedAmountLow(ChannelId),
    /// `closing`.
    ChannelClosing(ChannelId),
    /// `close`.
    ChannelClosed(ChannelId),
    /// `track`: the peer sends media on a transceiver (fired while applying the
    /// description that says so, before `set_remote_description` returns).
    Track(crate::media::TrackEvent),
    /// What media may send now changed by 5 % or more (bits per second): the send-side
    /// bandwidth estimate less what busy data channels take of it (at most
    /// `data_channel_share_percent`). Encoders follow it; the whole estimate is
    /// `available_outgoing_bitrate` in the media stats.
    BandwidthEstimate(u64),
    /// The peer stopped sending on a transceiver (its track ended or was removed).
    TrackEnded(crate::media::TransceiverId),
    /// An RTP packet arrived, decrypted, on a transceiver's receiver.
    Rtp(crate::media::ReceivedRtp),
    /// A whole frame arrived on a transceiver's receiver in frame mode
    /// ([`TransceiverHandle::set_receive_frames`](super::TransceiverHandle::set_receive_frames)).
    Frame(crate::media::ReceivedFrame),
    /// An RTCP packet about one of a transceiver's streams arrived (reports and keyframe
    /// requests are also handled by the core).
    Rtcp {
        /// The transceiver the packet's SSRC belongs to.
        transceiver: crate::media::TransceiverId,
        /// The packet.
        packet: crate::rtp::rtcp::RtcpPacket,
    },
    /// The peer asked for a keyframe on what a transceiver sends (PLI or FIR).
    KeyframeRequest {
        /// The transceiver whose sender must produce a keyframe.
        transceiver: crate::media::TransceiverId,
        /// PLI or FIR.
        kind: crate::media::KeyframeRequestKind,
        /// The simulcast layer asked for (`None` without simulcast).
        rid: Option<String>,
    },
    /// A simulcast layer the peer sent us stopped: nothing arrived on it for
    /// [`LAYER_PAUSE_AFTER`](crate::media::simulcast::LAYER_PAUSE_AFTER) (the browser
    /// dropped it for bandwidth or CPU, or the application paused it).
    LayerPaused {
        /// The receiving transceiver.
        transceiver: crate::media::TransceiverId,
        /// The layer's rid.
        rid: String,
        /// Its SSRC.
        ssrc: u32,
    },
    /// A paused simulcast layer sends again (see [`Event::LayerPaused`]).
    LayerResumed {
        /// The receiving transceiver.
        transceiver: crate::media::TransceiverId,
        /// The layer's rid.
        rid: String,
        /// Its SSRC.
        ssrc: u32,
    },
    /// The application must resolve this STUN server name and answer with
    /// [`PeerConnection::handle_resolved`](super::PeerConnection::handle_resolved).
    ResolveName(String),
    /// Open a TCP connection to a TURN server (`turn:...?transport=tcp`), with TLS over
    /// it for `turns:` (checking the certificate for
    /// [`server_name`](crate::turn::TurnConnect::server_name)); then answer with
    /// [`PeerConnection::handle_turn_connected`](super::PeerConnection::handle_turn_connected)
    /// or [`handle_turn_failed`](super::PeerConnection::handle_turn_failed), and feed what
    /// arrives on it to [`handle_turn_data`](super::PeerConnection::handle_turn_data). The
    /// async adapters do all of this.
    TurnConnect(crate::turn::TurnConnect),
    /// Write `data` to TURN connection `id` (in the order these events come).
    TurnSend {
        /// The connection.
        id: crate::turn::TurnConnectionId,
        /// The bytes (whole framed messages).
        data: Vec<u8>,
    },
    /// Close TURN connection `id` (after the `TurnSend`s before this event).
    TurnClose(crate::turn::TurnConnectionId),
    /// A TURN server gave us no relayed candidate, typed: the TCP connection or TLS
    /// handshake failed (a refused certificate is [`TurnError::Certificate`](crate::turn::TurnError::Certificate)),
    /// the connection closed, or the server refused or did not answer. Comes with the
    /// browser's [`Event::IceCandidateError`].
    TurnError {
        /// The TURN server.
        server: std::net::SocketAddr,
        /// How it was reached.
        transport: crate::turn::TurnTransport,
        /// What went wrong.
        error: crate::turn::TurnError,
    },
    /// The TCP/TLS connection to a TURN server closed (server restart, reset) or a
    /// reconnection failed: the connection is opened again in `after` (a new
    /// [`Event::TurnConnect`]) and the allocation made again, which gives a new relayed
    /// candidate ([`Event::IceCandidate`]); the old relayed candidate is gone. The selected
    /// pair may have used it: restart ICE if the connection stays disconnected. At most
    /// [`MAX_RELAY_RECONNECTS`](crate::ice::MAX_RELAY_RECONNECTS) attempts in a row, then
    /// [`Event::TurnError`].
    TurnReconnecting {
        /// The TURN server.
        server: std::net::SocketAddr,
        /// How it is reached.
        transport: crate::turn::TurnTransport,
        /// Why the last connection ended.
        error: crate::turn::TurnError,
        /// 1 for the first attempt after a connection that worked.
        attempt: u32,
        /// When the attempt starts, from now.
        after: std::time::Duration,
    },
    /// `icecandidateerror`: a TURN server refused us or never answered, so no relayed
    /// candidate comes from it. `error_code` is the STUN error code (401: wrong
    /// credentials) or 701 when the server did not answer, as in the browser.
    IceCandidateError {
        /// The TURN server.
        server: std::net::SocketAddr,
        /// STUN error code, or 701 for no answer.
        error_code: u16,
        /// What happened, readable.
        error_text: String,
    },
}
