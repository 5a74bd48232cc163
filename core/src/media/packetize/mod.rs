//! RTP payload formats: packetizers that split an encoded frame into RTP payloads and
//! depacketizers that turn payloads back into the frame's bytes, one module per codec.
//!
//! | codec | module | specification | implemented | not implemented |
//! |---|---|---|---|---|
//! | Opus, G.711 (PCMU/PCMA), G.722 | [`audio`] | RFC 7587, RFC 3551 | one frame per packet | — |
//! | VP8 | [`vp8`] | RFC 7741 | descriptor (picture id, TL0PICIDX, TID, KEYIDX), S/PID | splitting at partition boundaries |
//! | VP9 | [`vp9`] | RFC 9628 | flexible and non-flexible descriptors, scalability structure, layer info ([`SvcLayer`]) | SVC encoding of several layers in one call |
//! | H.264 | [`h264`] | RFC 6184 | single NAL, STAP-A, FU-A; modes 0 and 1; SPS/PPS before every IDR | STAP-B, MTAP, FU-B (mode 2) |
//! | H.265 | [`h265`] | RFC 7798 | single NAL, AP, FU; VPS/SPS/PPS before every IRAP | DONL (`sprop-max-don-diff` > 0), PACI |
//! | AV1 | [`av1`] | AOM "RTP Payload Format for AV1" v1.0 | aggregation header, OBU fragmentation, N bit, layer ids of OBU extension headers ([`SvcLayer`]) | dependency descriptor extension |
//!
//! Frames are given and returned in the codec's usual bitstream: Annex B byte streams
//! (start codes) for H.264 and H.265, the low-overhead OBU format (every OBU with its size
//! field) for AV1, the raw frame for the others.
//!
//! A [`Depacketizer`] is fed the payloads of one frame in sequence order (the
//! [`assembler`](crate::media::assembler) does this) and also answers RTP-level questions
//! about a single payload without decoding: does it start a frame, is that frame a keyframe.

pub mod audio;
pub mod av1;
pub mod h264;
pub mod h265;
mod nal;
pub mod vp8;
pub mod vp9;

use crate::media::codec::RtpCodec;

/// Why a frame could not be packetized (the caller's mistake or an unsupported input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketizeError {
    /// `max_payload` leaves no room for the payload header and one byte of data.
    #[error("maximum payload size {max_payload} is too small for this payload format")]
    MaxPayloadTooSmall {
        /// The size that was asked for.
        max_payload: usize,
    },
    /// A unit that the payload format cannot split (an audio frame, or a NAL unit in H.264
    /// packetization mode 0) is larger than `max_payload`.
    #[error("a {len}-byte unit does not fit in {max_payload} bytes and cannot be fragmented")]
    UnitTooLarge {
        /// Length of the unit.
        len: usize,
        /// The size that was asked for.
        max_payload: usize,
    },
    /// The frame is not in the bitstream format this packetizer expects.
    #[error("malformed frame: {0}")]
    MalformedFrame(&'static str),
}

/// Why a payload could not be depacketized. The payload came from the network: the caller
/// drops it (and its frame) and counts it, nothing more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepacketizeError {
    /// The payload is shorter than its headers announce, or empty.
    #[error("truncated payload")]
    Truncated,
    /// A field holds a value the specification forbids.
    #[error("malformed payload: {0}")]
    Malformed(&'static str),
    /// A valid payload structure that this implementation does not handle (e.g. H.264 MTAP).
    #[error("unsupported payload structure: {0}")]
    Unsupported(&'static str),
    /// A fragment continues a unit whose first fragment was not seen.
    #[error("fragment without its start")]
    MissingFragmentStart,
}

/// Splits encoded frames into RTP payloads for one stream.
///
/// Contract: [`packetize`](Packetizer::packetize) returns the payloads of one frame in
/// order, each at most `max_payload` bytes; the caller sends them with consecutive sequence
/// numbers, the frame's RTP timestamp on all, and the marker bit on the last one only (for
/// video; audio packetizers return one payload and the marker is the talkspurt rule of the
/// caller). An empty frame gives no payload. Packetizers keep per-stream state (picture ids,
/// parameter sets), so use one per outgoing stream.
pub trait Packetizer: PacketizerClone + std::fmt::Debug + Send {
    /// The payloads of `frame`, each at most `max_payload` bytes.
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError>;
}

/// Turns RTP payloads back into frame bytes for one stream.
///
/// Contract: feed the payloads of one frame in sequence order through
/// [`depacketize`](Depacketizer::depacketize), each appending its part of the frame to
/// `out`; call [`reset`](Depacketizer::reset) before the first payload of every frame (and
/// after an error) so that no state of a broken frame leaks into the next. Errors mean the
/// frame is unusable; nothing panics whatever the bytes.
pub trait Depacketizer: DepacketizerClone + std::fmt::Debug + Send {
    /// Appends the part of the frame that `payload` carries to `out`.
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError>;

    /// Forgets any partial unit (a fragment in progress); call at every frame start.
    fn reset(&mut self) {}

    /// Whether `payload` is the first packet of a frame, judged from the payload alone.
    /// A payload that cannot be parsed is not a start.
    fn is_frame_start(&self, payload: &[u8]) -> bool;

    /// Whether `payload` shows that its frame is a keyframe (a frame decodable without any
    /// earlier one), judged from the payload alone; `false` when it cannot tell. For most
    /// codecs only the first packet of a frame can say so.
    fn is_keyframe(&self, payload: &[u8]) -> bool;

    /// The scalable (SVC) layer `payload` belongs to, where the payload format says so
    /// (VP9 with the `L` bit, AV1 OBUs with an extension header); `None` otherwise.
    fn svc_layer(&self, payload: &[u8]) -> Option<SvcLayer> {
        let _ = payload;
        None
    }
}

/// The spatial and temporal layer of an SVC payload, as its payload format carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SvcLayer {
    /// The spatial layer (VP9 SID, AV1 `spatial_id`); 0 is the base.
    pub spatial: u8,
    /// The temporal layer (VP9 TID, AV1 `temporal_id`); 0 is the base.
    pub temporal: u8,
    /// A switching-up point: a receiver may switch to a higher temporal layer here (VP9
    /// `U`); `None` where the payload does not say (AV1).
    pub switching_up: Option<bool>,
    /// The layer frame depends on the next lower spatial layer of the same picture (VP9
    /// `D`); `None` where the payload does not say (AV1).
    pub inter_layer_dependency: Option<bool>,
}

/// [`Depacketizer::svc_layer`] for a payload of `codec`, without making a depacketizer:
/// VP9 and AV1 know, other codecs give `None`.
pub fn svc_layer_of(codec: &RtpCodec, payload: &[u8]) -> Option<SvcLayer> {
    if codec.is_named("VP9") {
        vp9::Vp9Depacketizer.svc_layer(payload)
    } else if codec.is_named("AV1") {
        av1::svc_layer(payload)
    } else {
        None
    }
}

crate::boxed_clone::boxed_clone!(
    /// Clones a boxed [`Packetizer`] (with its per-stream state); every `Packetizer +
    /// Clone` has it.
    pub trait PacketizerClone for Packetizer
);
crate::boxed_clone::boxed_clone!(
    /// Clones a boxed [`Depacketizer`]; every `Depacketizer + Clone` has it.
    pub trait DepacketizerClone for Depacketizer
);

/// Names of the codecs [`packetizer_for`] and [`depacketizer_for`] know.
pub const SUPPORTED_CODECS: &[&str] = &[
    "opus", "PCMU", "PCMA", "G722", "VP8", "VP9", "H264", "H265", "AV1",
];

/// A packetizer for a negotiated codec, chosen by name (case-insensitive); `None` for a codec
/// without a payload format here (including `rtx`, which is not a media format).
///
/// `seed` gives the random starting values some formats number pictures with (draw it from
/// the connection's [`Rng`](crate::rng::Rng)). H.264's `packetization-mode` fmtp parameter
/// selects mode 0 or 1 (default 0, as RFC 6184 §8.1 says).
pub fn packetizer_for(codec: &RtpCodec, seed: u16) -> Option<Box<dyn Packetizer>> {
    let name = codec.name.to_ascii_uppercase();
    Some(match name.as_str() {
        "OPUS" | "PCMU" | "PCMA" | "G722" => Box::new(audio::AudioPacketizer),
        "VP8" => Box::new(vp8::Vp8Packetizer::new(seed)),
        "VP9" => Box::new(vp9::Vp9Packetizer::new(seed, false)),
        "H264" => {
            let mode = codec.fmtp_param("packetization-mode");
            let mode = if mode == Some("1") {
                h264::PacketizationMode::NonInterleaved
            } else {
                h264::PacketizationMode::SingleNal
            };
            Box::new(h264::H264Packetizer::new(mode))
        }
        "H265" => Box::new(h265::H265Packetizer::new()),
        "AV1" => Box::new(av1::Av1Packetizer::new()),
        _ => return None,
    })
}

/// A depacketizer for a negotiated codec, chosen by name (case-insensitive); `None` for a
/// codec without a payload format here.
pub fn depacketizer_for(codec: &RtpCodec) -> Option<Box<dyn Depacketizer>> {
    let name = codec.name.to_ascii_uppercase();
    Some(match name.as_str() {
        "OPUS" | "PCMU" | "PCMA" | "G722" => Box::new(audio::AudioDepacketizer),
        "VP8" => Box::new(vp8::Vp8Depacketizer),
        "VP9" => Box::new(vp9::Vp9Depacketizer),
        "H264" => Box::new(h264::H264Depacketizer::default()),
        "H265" => Box::new(h265::H265Depacketizer::default()),
        "AV1" => Box::new(av1::Av1Depacketizer::default()),
        _ => return None,
    })
}

/// Checks that `max_payload` leaves room for `header` bytes and one byte of data.
pub(crate) fn room_after(header: usize, max_payload: usize) -> Result<usize, PacketizeError> {
    if max_payload > header {
        Ok(max_payload - header)
    } else {
        Err(PacketizeError::MaxPayloadTooSmall { max_payload })
    }
}

#[cfg(test)]
mod tests;
