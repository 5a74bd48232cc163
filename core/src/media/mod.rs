//! `media`: audio and video tracks on a peer connection.
//!
//! The application brings **encoded** media and gets encoded media back; capture, encoding
//! and decoding belong to its media engine. What lies between an RTP packet and the wire is
//! here and in [`peer_connection`](crate::peer_connection):
//!
//! - [`codec`]: the codec list of a connection ([`MediaCodecs`](codec::MediaCodecs)) and the
//!   JSEP rules that agree codecs, RTX and header extensions with the peer (RFC 8829 §5,
//!   RFC 6184 §8.2.2 for H.264 profiles and levels).
//! - Transceivers (the browser's `RTCRtpTransceiver`): a [`TransceiverId`] names one m-line's
//!   sender and receiver; directions are negotiated per JSEP (`direction`,
//!   `currentDirection`), tracks are announced with `a=msid` and `a=ssrc ... cname`.
//! - The **RTP level** of a sender and a receiver: the application writes RTP packets
//!   ([`RtpWrite`]) and the core puts its own SSRC, a continuous sequence-number and
//!   timestamp space and the negotiated header extensions on them; received packets come
//!   out decrypted and routed to their transceiver ([`ReceivedRtp`]), by mid extension,
//!   then SSRC, then payload type (RFC 8843 §9.2).
//! - RTCP: sender and receiver reports (RFC 3550) with loss, jitter and round-trip time,
//!   keyframe requests (PLI, FIR: RFC 4585, RFC 5104) both ways.
//!
//! - [`packetize`]: RTP payload formats (Opus, G.711, G.722, VP8, VP9, H.264, H.265, AV1):
//!   packetizers, depacketizers and RTP-level keyframe detection, chosen by codec name.
//! - [`assembler`]: frame assembly with a bounded reorder window and a jitter-adaptive wait,
//!   giving whole frames in order and reporting gaps.
//! - The **frame level** ([`FrameWrite`], [`ReceivedFrame`]): frames packetized with the
//!   negotiated codec onto the RTP path; a receiver in frame mode assembles them back.
//!   [`frame_options`]: the per-frame header extensions (audio level, video orientation,
//!   playout delay, abs-capture-time) written when negotiated and read back.
//! - Loss recovery: generic NACK (RFC 4585 §6.2.1) generated per inbound stream with
//!   retries spaced by the round-trip time and a retry cap, a keyframe request when the list
//!   overflows or a frame is lost for good; a bounded history of sent packets answering
//!   NACKs, as RTX (RFC 4588) when negotiated, else on the media SSRC; received RTX
//!   restored into its media stream (counted apart from it, as RFC 4588 §8 keeps the RTX
//!   stream's statistics separate).
//!
//! - Transport-wide congestion control feedback (`transport-cc`), receiving side: every
//!   packet carrying the transport-wide sequence number (probes included) is recorded and
//!   reported back every 100 ms; what the peer reports of ours is counted in the
//!   connection's media stats.
//! - RFC 8888 congestion control feedback (`ack ccfb`), receiving side, for a peer that
//!   negotiated it without transport-cc: every RTP packet recorded by SSRC and sequence
//!   number and reported every 50 ms ([`CcfbReceiver`]).
//!
//! - [`simulcast`]: sending up to three layers with rids, receiving a browser's layers
//!   routed by rid (RFC 8853, RFC 8851, RFC 8852); [`layer_selection`]: which received layer
//!   a forwarder sends one subscriber, from that subscriber's bandwidth estimate.
//!
//! Not implemented yet: a send-side bandwidth estimator and media pacing by it, FEC/RED
//! and SVC layer selection; padding-only RTX packets (bandwidth probes) are counted for feedback,
//! then dropped.

mod arrival_log;
pub mod assembler;
mod assembler_jitter;
pub mod bwe;
mod ccfb_feedback;
pub mod codec;
pub mod frame_options;
mod frames;
mod history;
pub mod layer_selection;
mod nack;
pub(crate) mod pacer;
pub mod packetize;
mod receive;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod recovery_check;
mod reports;
mod send;
pub mod simulcast;
mod transceiver;
mod transport_feedback;
/// VP8 (RFC 7741), kept at its former path; see [`packetize::vp8`].
pub use packetize::vp8;

pub use ccfb_feedback::{CcfbReceiver, CcfbStats};
pub(crate) use frames::{FRAME_SOURCE, FrameSender};
pub use frames::{FrameWrite, MAX_FRAME_PAYLOAD, ReceivedFrame, rtp_timestamp};
pub(crate) use history::split_rtx_payload;
pub use layer_selection::{LayerSelector, LayerSelectorConfig};
pub(crate) use nack::{DEFAULT_RTT as DEFAULT_NACK_RTT, NackUpdate};
pub use pacer::PacerStats;
pub(crate) use receive::InboundStream;
pub use receive::{InboundRtpStats, ReceivedRtp};
pub(crate) use reports::ReportTimer;
pub(crate) use send::OutboundStream;
pub use send::{OutboundRtpStats, RemoteInboundStats, RtpWrite};
pub use simulcast::{SendEncoding, allocate_layers};
pub use transceiver::{
    KeyframeRequestKind, TrackEvent, TrackInfo, TransceiverDirection, TransceiverId,
    TransceiverInit,
};
pub(crate) use transceiver::{
    SendLayer, Transceiver, answer_direction, receives, reverse, sends,
    with_send as transceiver_with_send,
};
pub use transport_feedback::{TransportFeedbackReceiver, TransportFeedbackStats};
