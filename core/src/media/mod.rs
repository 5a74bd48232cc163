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
//!   giving whole frames in order and reporting gaps (pure: not yet wired to the tracks).
//!
//! Not implemented yet: the frame level on tracks (NACK/RTX answering),
//! congestion control and simulcast; RTX and padding-only packets from the peer are counted
//! and dropped.

pub mod assembler;
mod assembler_jitter;
pub mod codec;
pub mod packetize;
mod receive;
mod reports;
mod send;
mod transceiver;
/// VP8 (RFC 7741), kept at its former path; see [`packetize::vp8`].
pub use packetize::vp8;

pub(crate) use receive::InboundStream;
pub use receive::{InboundRtpStats, ReceivedRtp};
pub(crate) use reports::ReportTimer;
pub(crate) use send::OutboundStream;
pub use send::{OutboundRtpStats, RemoteInboundStats, RtpWrite};
pub use transceiver::{
    KeyframeRequestKind, TrackEvent, TrackInfo, TransceiverDirection, TransceiverId,
    TransceiverInit,
};
pub(crate) use transceiver::{
    Transceiver, answer_direction, receives, reverse, sends, with_send as transceiver_with_send,
};
