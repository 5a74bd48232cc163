//! The frame level of a transceiver: what the application writes ([`FrameWrite`]) and
//! reads ([`ReceivedFrame`]) when it deals in encoded frames instead of RTP packets.
//!
//! Sending: a frame is split by the negotiated codec's [`Packetizer`] into payloads of at
//! most [`MAX_FRAME_PAYLOAD`] bytes and sent through the sender's RTP path (the same SSRC,
//! sequence numbers and timestamps as `write_rtp`), the marker bit on the last packet of a
//! video frame. Receiving: a transceiver switched to frame mode feeds each inbound
//! stream's packets (retransmissions included) to a
//! [`FrameAssembler`](super::assembler::FrameAssembler) and reports whole frames.
//!
//! Per-frame header extensions (audio level, video orientation, playout delay, capture
//! time) go out with [`FrameWrite::options`] and come back in [`ReceivedFrame::info`]; see
//! [`frame_options`](super::frame_options) for which packets carry each.

use super::TransceiverId;
use super::frame_options::{FrameOptions, FrameOptionsState, ReceivedFrameInfo};
use super::packetize::{Depacketizer, Packetizer, SvcLayer, depacketizer_for, packetizer_for};
use crate::media::codec::NegotiatedCodec;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// Largest RTP payload a written frame is cut into: with a 12-byte header, a few header
/// extensions, the SRTP tag and, for retransmissions, the 2-byte RTX header, a packet
/// stays under the 1,280-byte IPv6 minimum MTU with UDP, IP and TURN framing.
pub const MAX_FRAME_PAYLOAD: usize = 1_100;

/// An encoded frame for a transceiver's sender.
#[derive(Debug, Clone, Copy)]
pub struct FrameWrite<'a> {
    /// A payload type negotiated on this transceiver, or `None` for the first
    /// (preferred) one.
    pub payload_type: Option<u8>,
    /// The frame's RTP timestamp in the codec's clock (see [`rtp_timestamp`]); moved into
    /// the sender's timestamp space like `write_rtp`'s.
    pub timestamp: u32,
    /// The frame in the codec's bitstream format (see
    /// [`packetize`](super::packetize)).
    pub data: &'a [u8],
    /// Header extension values for the frame's packets (each written only when its URI
    /// was negotiated on the m-line).
    pub options: FrameOptions,
}

impl<'a> FrameWrite<'a> {
    /// A frame of the preferred codec at RTP timestamp `timestamp`, without options.
    pub fn new(timestamp: u32, data: &'a [u8]) -> Self {
        Self {
            payload_type: None,
            timestamp,
            data,
            options: FrameOptions::default(),
        }
    }

    /// The same frame with `options`.
    pub fn with_options(self, options: FrameOptions) -> Self {
        Self { options, ..self }
    }
}

/// The RTP timestamp of media time `at` (from the stream's start) in a `clock_rate` Hz
/// clock, wrapping like RTP time.
pub fn rtp_timestamp(at: Duration, clock_rate: u32) -> u32 {
    (at.as_nanos() * u128::from(clock_rate) / 1_000_000_000) as u32
}

/// A whole frame received on a transceiver in frame mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFrame {
    /// The transceiver.
    pub transceiver: TransceiverId,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The simulcast layer (the `rtp-stream-id` its stream was named by), if any.
    pub rid: Option<std::sync::Arc<str>>,
    /// The payload type of its packets.
    pub payload_type: u8,
    /// The codec's name (`VP8`, `opus`, ...), as negotiated.
    pub codec: String,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// A keyframe, as the payload format shows on the RTP level.
    pub keyframe: bool,
    /// `false` when a frame before this one was lost for good (a decoder needs a keyframe
    /// or a reference it still has).
    pub contiguous: bool,
    /// Sequence numbers of its first and last packets.
    pub sequence_numbers: (u16, u16),
    /// When its last packet arrived.
    pub received_at: Instant,
    /// The frame in the codec's bitstream format.
    pub data: Bytes,
    /// What the header extensions of its packets said (capture time, audio level,
    /// orientation, playout delay), for the URIs negotiated.
    pub info: ReceivedFrameInfo,
    /// The SVC layer its payload descriptor names (VP9 with `L`, AV1 OBU extension
    /// headers), if any; see [`AssembledFrame`](crate::media::assembler::AssembledFrame).
    pub svc_layer: Option<SvcLayer>,
}

/// Packetizing state of a sender in frame mode: the packetizer of the payload type in use
/// and the sequence numbers handed to the RTP path.
#[derive(Debug, Clone)]
pub(crate) struct FrameSender {
    pub payload_type: u8,
    packetizer: Box<dyn Packetizer>,
    /// Tells keyframes from the first payload (orientation and playout delay go on them).
    keyframes: Box<dyn Depacketizer>,
    next_seq: u16,
    /// The options not written on every frame.
    pub options: FrameOptionsState,
}

/// The source id frame writes use on the RTP path (see [`RtpWrite::source`](super::RtpWrite)).
pub(crate) const FRAME_SOURCE: u32 = 0xf4a3_e000;

impl FrameSender {
    /// A sender for `codec`, or `None` when it has no payload format here.
    pub fn new(codec: &NegotiatedCodec, seed: u16) -> Option<Self> {
        Some(Self {
            payload_type: codec.payload_type,
            packetizer: packetizer_for(&codec.codec, seed)?,
            keyframes: depacketizer_for(&codec.codec)?,
            next_seq: 0,
            options: FrameOptionsState::default(),
        })
    }

    /// The payloads of `frame` with the source sequence number of the first.
    pub fn packetize(
        &mut self,
        frame: &[u8],
    ) -> Result<(u16, Vec<Vec<u8>>), super::packetize::PacketizeError> {
        let payloads = self.packetizer.packetize(frame, MAX_FRAME_PAYLOAD)?;
        let first = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(payloads.len() as u16);
        Ok((first, payloads))
    }

    /// Whether the frame whose first payload is `first` is a keyframe.
    pub fn is_keyframe(&self, first: &[u8]) -> bool {
        self.keyframes.is_keyframe(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_time_maps_to_the_codec_clock() {
        assert_eq!(rtp_timestamp(Duration::from_millis(1000), 90_000), 90_000);
        assert_eq!(rtp_timestamp(Duration::from_millis(20), 48_000), 960);
    }
}
