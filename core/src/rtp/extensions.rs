//! RTP header extensions: the URIs WebRTC negotiates (`a=extmap`, RFC 8285 §5), the
//! negotiated id ↔ URI map, and typed values for the common ones.
//!
//! Typed: mid, rid, repaired-rid (RFC 8843, RFC 8852), abs-send-time and abs-capture-time
//! (webrtc.org experiments), transport-wide sequence number
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01), client-to-mixer audio level (RFC
//! 6464), video orientation (3GPP TS 26.114 §7.4.5), playout delay (webrtc.org). Anything
//! else is kept raw as [`ExtensionValue::Unknown`].

use std::fmt;

/// Media identification (RFC 8843 §15.2): the m-section's mid as text.
pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// RTP stream id (RFC 8852 §3.1), a simulcast layer's rid.
pub const RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// Repaired RTP stream id (RFC 8852 §3.2): the rid an RTX stream repairs.
pub const REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// Absolute send time: 24-bit 6.18 fixed-point seconds.
pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
/// Transport-wide sequence number (16 bits) for transport-cc feedback.
pub const TRANSPORT_CC: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// Client-to-mixer audio level (RFC 6464).
pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// Coordination of video orientation (3GPP TS 26.114).
pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
/// Absolute capture time: NTP-format capture timestamp and optional clock offset.
pub const ABS_CAPTURE_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";
/// Playout delay limits (min, max) in 10 ms units.
pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/// A negotiated map between extension ids (1..=255) and URIs.
///
/// Each id and each URI appears at most once: inserting replaces earlier entries that
/// share either.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtensionMap {
    entries: Vec<(u8, String)>,
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `id` to `uri`, dropping any earlier mapping of that id or that URI. Id 0 is
    /// not a valid extension id and is ignored.
    pub fn insert(&mut self, id: u8, uri: &str) {
        if id == 0 {
            return;
        }
        self.entries.retain(|(i, u)| *i != id && u != uri);
        self.entries.push((id, uri.to_owned()));
    }

    /// Removes the mapping of `id`, if any.
    pub fn remove(&mut self, id: u8) {
        self.entries.retain(|(i, _)| *i != id);
    }

    /// The id negotiated for `uri`.
    pub fn id_of(&self, uri: &str) -> Option<u8> {
        self.entries.iter().find(|(_, u)| u == uri).map(|(i, _)| *i)
    }

    /// The URI mapped to `id`.
    pub fn uri_of(&self, id: u8) -> Option<&str> {
        self.entries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, u)| u.as_str())
    }

    /// All `(id, uri)` pairs, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        self.entries.iter().map(|(i, u)| (*i, u.as_str()))
    }

    /// Number of mappings.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is mapped.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decodes the extension `(id, data)` of a received packet by its negotiated URI;
    /// `None` when the id is not mapped or the value is malformed for its URI.
    pub fn decode(&self, id: u8, data: &[u8]) -> Option<ExtensionValue> {
        ExtensionValue::parse(self.uri_of(id)?, data)
    }
}

/// A typed header-extension value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionValue {
    /// [`MID`]: the media id.
    Mid(String),
    /// [`RID`]: the RTP stream id.
    Rid(String),
    /// [`REPAIRED_RID`]: the repaired RTP stream id.
    RepairedRid(String),
    /// [`ABS_SEND_TIME`]: 24-bit 6.18 fixed-point seconds (only the low 24 bits are sent).
    AbsSendTime(u32),
    /// [`TRANSPORT_CC`]: the transport-wide sequence number.
    TransportCc(u16),
    /// [`AUDIO_LEVEL`]: voice activity and level in -dBov (0..=127).
    AudioLevel {
        /// The V bit: the sender thinks the packet holds voice.
        voice: bool,
        /// Level in -dBov, 0 (loudest) ..= 127 (silence); 7 bits.
        level: u8,
    },
    /// [`VIDEO_ORIENTATION`]: how the receiver should rotate and flip.
    VideoOrientation {
        /// C bit: the camera faces away from the user (back camera).
        back_camera: bool,
        /// F bit: flip horizontally before rotating.
        flip: bool,
        /// Rotation in quarter turns clockwise, 0..=3 (0°, 90°, 180°, 270°).
        rotation: u8,
    },
    /// [`ABS_CAPTURE_TIME`]: capture time of the first sample, NTP UQ32.32, and the
    /// optional estimated capture clock offset (Q32.32, signed).
    AbsCaptureTime {
        /// Absolute capture timestamp, NTP format.
        timestamp: u64,
        /// Estimated offset of the capturer's clock to the sender's, if sent.
        clock_offset: Option<i64>,
    },
    /// [`PLAYOUT_DELAY`]: limits in 10 ms units (12 bits each).
    PlayoutDelay {
        /// Minimum playout delay.
        min: u16,
        /// Maximum playout delay.
        max: u16,
    },
    /// Any extension without a typed form, kept as bytes.
    Unknown(Vec<u8>),
}

fn text(data: &[u8]) -> Option<String> {
    // RFC 8852 §3: the value is not null-terminated; trailing NULs would be padding.
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    std::str::from_utf8(&data[..end]).ok().map(str::to_owned)
}

impl ExtensionValue {
    /// Decodes `data` as the extension named by `uri`. An unknown URI gives
    /// [`ExtensionValue::Unknown`]; `None` means the value is malformed for its URI (wrong
    /// length, not UTF-8, empty mid/rid).
    pub fn parse(uri: &str, data: &[u8]) -> Option<Self> {
        let value = match uri {
            MID => Self::Mid(text(data).filter(|s| !s.is_empty())?),
            RID => Self::Rid(text(data).filter(|s| !s.is_empty())?),
            REPAIRED_RID => Self::RepairedRid(text(data).filter(|s| !s.is_empty())?),
            ABS_SEND_TIME => match *data {
                [a, b, c] => Self::AbsSendTime(u32::from_be_bytes([0, a, b, c])),
                _ => return None,
            },
            TRANSPORT_CC => match *data {
                [a, b] => Self::TransportCc(u16::from_be_bytes([a, b])),
                _ => return None,
            },
            AUDIO_LEVEL => {
                let &b = data.first()?;
                Self::AudioLevel {
                    voice: b & 0x80 != 0,
                    level: b & 0x7f,
                }
            }
            VIDEO_ORIENTATION => {
                let &b = data.first()?;
                Self::VideoOrientation {
                    back_camera: b & 0x08 != 0,
                    flip: b & 0x04 != 0,
                    rotation: b & 0x03,
                }
            }
            ABS_CAPTURE_TIME => parse_abs_capture_time(data)?,
            PLAYOUT_DELAY => match *data {
                [a, b, c] => Self::PlayoutDelay {
                    min: (u16::from(a) << 4) | u16::from(b >> 4),
                    max: (u16::from(b & 0x0f) << 8) | u16::from(c),
                },
                _ => return None,
            },
            _ => Self::Unknown(data.to_vec()),
        };
        Some(value)
    }

    /// Appends the wire value to `out`. Fields wider than their wire form are truncated to
    /// it (abs-send-time to 24 bits, level to 7, rotation to 2, playout delays to 12).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Mid(s) | Self::Rid(s) | Self::RepairedRid(s) => {
                out.extend_from_slice(s.as_bytes())
            }
            Self::AbsSendTime(t) => out.extend_from_slice(&t.to_be_bytes()[1..]),
            Self::TransportCc(seq) => out.extend_from_slice(&seq.to_be_bytes()),
            Self::AudioLevel { voice, level } => {
                out.push((if *voice { 0x80 } else { 0 }) | (level & 0x7f))
            }
            Self::VideoOrientation {
                back_camera,
                flip,
                rotation,
            } => out.push(
                (if *back_camera { 0x08 } else { 0 })
                    | (if *flip { 0x04 } else { 0 })
                    | (rotation & 3),
            ),
            Self::AbsCaptureTime {
                timestamp,
                clock_offset,
            } => {
                out.extend_from_slice(&timestamp.to_be_bytes());
                if let Some(offset) = clock_offset {
                    out.extend_from_slice(&offset.to_be_bytes());
                }
            }
            Self::PlayoutDelay { min, max } => {
                let (min, max) = (min & 0x0fff, max & 0x0fff);
                out.extend_from_slice(&[(min >> 4) as u8, ((min << 4) | (max >> 8)) as u8]);
                out.push(max as u8);
            }
            Self::Unknown(bytes) => out.extend_from_slice(bytes),
        }
    }

    /// The wire value as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

fn parse_abs_capture_time(data: &[u8]) -> Option<ExtensionValue> {
    let word = |at: usize| -> Option<[u8; 8]> { data.get(at..at + 8)?.try_into().ok() };
    let clock_offset = match data.len() {
        8 => None,
        16 => Some(i64::from_be_bytes(word(8)?)),
        _ => return None,
    };
    Some(ExtensionValue::AbsCaptureTime {
        timestamp: u64::from_be_bytes(word(0)?),
        clock_offset,
    })
}

impl fmt::Display for ExtensionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mid(s) => write!(f, "mid={s}"),
            Self::Rid(s) => write!(f, "rid={s}"),
            Self::RepairedRid(s) => write!(f, "rrid={s}"),
            Self::AbsSendTime(t) => write!(f, "abs-send-time={t:#08x}"),
            Self::TransportCc(s) => write!(f, "twcc-seq={s}"),
            Self::AudioLevel { voice, level } => write!(f, "audio-level=-{level}dBov v={voice}"),
            Self::VideoOrientation {
                back_camera,
                flip,
                rotation,
            } => write!(
                f,
                "orientation={}° flip={flip} back={back_camera}",
                u16::from(*rotation) * 90
            ),
            Self::AbsCaptureTime {
                timestamp,
                clock_offset,
            } => write!(f, "abs-capture-time={timestamp:#x} offset={clock_offset:?}"),
            Self::PlayoutDelay { min, max } => {
                write!(
                    f,
                    "playout-delay={}..{}ms",
                    u32::from(*min) * 10,
                    u32::from(*max) * 10
                )
            }
            Self::Unknown(b) => write!(f, "unknown({}B)", b.len()),
        }
    }
}
