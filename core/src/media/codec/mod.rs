//! Codec and RTP header-extension negotiation: pure functions over the typed SDP model
//! ([`crate::sdp::MediaDescription`]).
//!
//! Implemented:
//! - Reading an m-section's codecs liberally ([`read_codecs`]): `a=rtpmap` (and the RFC 3551
//!   static payload types without one), `a=fmtp`, `a=rtcp-fb` including the `*` wildcard
//!   (RFC 4585 §4.2), RTX streams (RFC 4588 §8) tied to their codec by `apt=`. Unknown codecs
//!   are kept so that an answerer can see them and a forwarder can keep them.
//! - Writing codecs ([`write_codecs`]) in the line order Chromium uses (rtpmap, rtcp-fb,
//!   fmtp per payload type; the RTX payload type right after its codec).
//! - The JSEP answer (RFC 8829 §5.3.1) over codecs ([`answer_codecs`]) with codec-specific
//!   matching ([`codecs_match`]): H.264 profile and `packetization-mode` with the RFC 6184
//!   §8.1 / §8.2.2 `profile-level-id` rules (level asymmetry), VP9 `profile-id`, AV1
//!   `profile`, H.265 `profile-id`/`tier-flag`/`tx-mode` (level answered as the lower);
//!   `rtcp-fb` intersection; RTX only where the offer had it.
//! - RTP header extensions (RFC 8285): reading `a=extmap`, offering with one id per URI across
//!   every section of a session (a BUNDLE group shares one id space, RFC 8843 §9.1), and
//!   answering with the offer's ids.
//! - A default codec list ([`MediaCodecs::default`]) shaped like Chromium's offer.
//!
//! Not implemented here: the codecs' payload formats (packetizers live elsewhere in `media`),
//! RED/ULPFEC/FlexFEC negotiation (kept as unknown codecs when read, never offered by
//! default), `a=extmap` direction attributes (read and ignored), the two-byte header form's
//! `extmap-allow-mixed` decision (the caller's), and the offerer-picks-answerer's-id range
//! 4096..=4351 of RFC 8285 §5 (such lines are skipped when read).

mod answer;
mod defaults;
mod extensions;
mod matching;
mod sdp;

#[cfg(test)]
mod tests;

pub use answer::{answer_codecs, offer_codecs};
pub use extensions::{answer_extensions, offer_extensions, read_extensions, uri, write_extensions};
pub use matching::{H264Level, H264Profile, H264ProfileLevelId, codecs_match};
pub use sdp::{read_codecs, write_codecs};

/// Whether a codec carries audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodecKind {
    /// An audio codec (Opus, G.711, G.722, comfort noise, DTMF, ...).
    Audio,
    /// A video codec (VP8, VP9, H.264, H.265, AV1, ...).
    Video,
}

/// One RTP codec's parameters as SDP describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpCodec {
    /// The encoding name as written: `opus`, `VP8`, `H264`, `AV1`, `rtx`, ... Compare it
    /// case-insensitively.
    pub name: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channels as the rtpmap writes them (`Some(2)` for `opus/48000/2`); `None` when
    /// the rtpmap has no channel count (which means one).
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters in order, `(name, value)`; a parameter without `=` has no value.
    /// Empty when the codec has no `a=fmtp`.
    pub fmtp: Vec<(String, Option<String>)>,
    /// The `a=rtcp-fb` values, type and parameter joined by one space: `nack`, `nack pli`,
    /// `ccm fir`, `goog-remb`, `transport-cc`.
    pub feedback: Vec<String>,
}

impl RtpCodec {
    /// A codec with no fmtp and no feedback.
    pub fn new(name: impl Into<String>, clock_rate: u32, channels: Option<u16>) -> Self {
        Self {
            name: name.into(),
            clock_rate,
            channels,
            fmtp: Vec::new(),
            feedback: Vec::new(),
        }
    }

    /// The value of fmtp parameter `name` (matched case-insensitively, as media type
    /// parameter names are), if present with a value.
    pub fn fmtp_param(&self, name: &str) -> Option<&str> {
        self.fmtp
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether this is an RTX retransmission format (RFC 4588).
    pub fn is_rtx(&self) -> bool {
        self.name.eq_ignore_ascii_case("rtx")
    }

    /// Whether the name is `name`, ignoring ASCII case.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Audio or video, by name; a name this module does not know is video when its clock
    /// rate is 90 kHz (the rate every RTP video format uses) and audio otherwise.
    pub fn kind(&self) -> CodecKind {
        const VIDEO: &[&str] = &[
            "VP8",
            "VP9",
            "H264",
            "H265",
            "AV1",
            "H263",
            "H263-1998",
            "H263-2000",
            "H261",
            "JPEG",
            "MPV",
            "MP2T",
            "CelB",
            "nv",
        ];
        const AUDIO: &[&str] = &[
            "opus",
            "PCMU",
            "PCMA",
            "G722",
            "G729",
            "GSM",
            "G723",
            "ILBC",
            "ISAC",
            "CN",
            "telephone-event",
            "L16",
            "DVI4",
            "LPC",
            "QCELP",
            "MPA",
            "G728",
        ];
        if VIDEO.iter().any(|n| self.is_named(n)) {
            CodecKind::Video
        } else if AUDIO.iter().any(|n| self.is_named(n)) || self.clock_rate != 90_000 {
            CodecKind::Audio
        } else {
            CodecKind::Video
        }
    }

    /// Appends an fmtp parameter (builder style).
    pub fn with_fmtp(mut self, name: &str, value: Option<&str>) -> Self {
        self.fmtp.push((name.into(), value.map(Into::into)));
        self
    }

    /// Appends feedback values (builder style).
    pub fn with_feedback(mut self, feedback: &[&str]) -> Self {
        self.feedback
            .extend(feedback.iter().map(|f| (*f).to_owned()));
        self
    }
}

/// A codec this side supports, with its preferred payload type and, for video, the payload
/// type of its RTX stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecConfig {
    /// The payload type used when we offer.
    pub payload_type: u8,
    /// The codec.
    pub codec: RtpCodec,
    /// The RTX payload type used when we offer; `None`: no retransmission for this codec.
    pub rtx_payload_type: Option<u8>,
}

/// A header extension this side supports, and for which kinds of media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderExtensionConfig {
    /// The extension URI (see [`uri`]).
    pub uri: String,
    /// Offered and accepted in audio sections.
    pub audio: bool,
    /// Offered and accepted in video sections.
    pub video: bool,
}

/// The codecs and header extensions of a connection (part of its configuration). Order is
/// preference: offers list codecs in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCodecs {
    /// Audio codecs, most preferred first.
    pub audio: Vec<CodecConfig>,
    /// Video codecs, most preferred first.
    pub video: Vec<CodecConfig>,
    /// Header extensions.
    pub extensions: Vec<HeaderExtensionConfig>,
}

/// A codec agreed for one m-section (or offered in it), as used on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// The payload type on the wire.
    pub payload_type: u8,
    /// The codec.
    pub codec: RtpCodec,
    /// The payload type of its RTX stream, if retransmission is on.
    pub rtx_payload_type: Option<u8>,
}
