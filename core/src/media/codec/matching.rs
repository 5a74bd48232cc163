//! When two codec descriptions are the same codec ([`codecs_match`]), including H.264's
//! `profile-level-id` (RFC 6184 §8.1) and the level an answer carries (§8.2.2).

use super::RtpCodec;

/// Whether `a` and `b` describe the same codec, so that one side's description can answer
/// the other's.
///
/// The encoding name (ASCII case-insensitive), clock rate and channel count (absent = 1)
/// must be equal, and then per codec:
/// - H.264: the same profile (RFC 6184 Table 5, through [`H264ProfileLevelId`]; an absent
///   `profile-level-id` is read as `42e01f`, as libwebrtc does) and the same
///   `packetization-mode` (absent = 0). The level may differ: the answer settles it.
/// - VP9: the same `profile-id` (absent = 0); AV1: the same `profile` (absent = 0).
/// - H.265: the same `profile-id` (absent = 1), `tier-flag` (absent = 0) and `tx-mode`
///   (absent = `SRST`); the level may differ.
///
/// Other codecs match on name, rate and channels alone. A parameter whose value cannot be
/// read makes the codecs differ.
pub fn codecs_match(a: &RtpCodec, b: &RtpCodec) -> bool {
    let basic = a.name.eq_ignore_ascii_case(&b.name)
        && a.clock_rate == b.clock_rate
        && a.channels.unwrap_or(1) == b.channels.unwrap_or(1);
    basic && parameters_match(a, b)
}

fn parameters_match(a: &RtpCodec, b: &RtpCodec) -> bool {
    if a.is_named("H264") {
        h264_profile(a).is_some_and(|p| Some(p) == h264_profile(b))
            && same_number(a, b, "packetization-mode", 0)
    } else if a.is_named("VP9") {
        same_number(a, b, "profile-id", 0)
    } else if a.is_named("AV1") {
        same_number(a, b, "profile", 0)
    } else if a.is_named("H265") {
        same_number(a, b, "profile-id", 1)
            && same_number(a, b, "tier-flag", 0)
            && tx_mode(a).eq_ignore_ascii_case(tx_mode(b))
    } else {
        true
    }
}

/// Numeric fmtp parameter `name`, `default` when absent, `None` when unreadable.
fn number_param(c: &RtpCodec, name: &str, default: u32) -> Option<u32> {
    match c.fmtp_param(name) {
        Some(v) => v.parse().ok(),
        None => Some(default),
    }
}

fn same_number(a: &RtpCodec, b: &RtpCodec, name: &str, default: u32) -> bool {
    number_param(a, name, default).is_some_and(|x| Some(x) == number_param(b, name, default))
}

fn tx_mode(c: &RtpCodec) -> &str {
    c.fmtp_param("tx-mode").unwrap_or("SRST")
}

fn h264_profile(c: &RtpCodec) -> Option<H264Profile> {
    H264ProfileLevelId::of(c).map(|p| p.profile)
}

/// The `profile-level-id` an H.264 answer carries (RFC 6184 §8.2.2), given our codec and the
/// offered one (which [`codecs_match`]): the offer's profile bytes with our level when both
/// sides allow level asymmetry (`level-asymmetry-allowed=1`), else with the lower of the two
/// levels. `None` when neither side wrote a `profile-level-id` (the answer then writes none)
/// or one cannot be read.
pub(super) fn h264_answer_profile_level_id(local: &RtpCodec, offered: &RtpCodec) -> Option<String> {
    if local.fmtp_param(PROFILE_LEVEL_ID).is_none()
        && offered.fmtp_param(PROFILE_LEVEL_ID).is_none()
    {
        return None;
    }
    let ours = H264ProfileLevelId::of(local)?;
    let theirs = H264ProfileLevelId::of(offered)?;
    let asymmetry = [local, offered]
        .iter()
        .all(|c| c.fmtp_param("level-asymmetry-allowed") == Some("1"));
    let level = if asymmetry {
        ours.level
    } else {
        ours.level.min(theirs.level)
    };
    Some(theirs.with_level(level).to_string())
}

/// The `level-id` an H.265 answer carries: the lower of the two (absent = 93, level 3.1).
/// `None` when neither side wrote one or one cannot be read.
pub(super) fn h265_answer_level_id(local: &RtpCodec, offered: &RtpCodec) -> Option<String> {
    if local.fmtp_param("level-id").is_none() && offered.fmtp_param("level-id").is_none() {
        return None;
    }
    let ours = number_param(local, "level-id", 93)?;
    let theirs = number_param(offered, "level-id", 93)?;
    Some(ours.min(theirs).to_string())
}

const PROFILE_LEVEL_ID: &str = "profile-level-id";

/// An H.264 profile, as RFC 6184 Table 5 derives it from `profile_idc` and `profile-iop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum H264Profile {
    /// Constrained Baseline (e.g. `42e0`, `42c0`, `4de0`, `58f0`).
    ConstrainedBaseline,
    /// Baseline (e.g. `4200`).
    Baseline,
    /// Main (e.g. `4d00`).
    Main,
    /// Constrained High (`640c`).
    ConstrainedHigh,
    /// High (`6400`).
    High,
    /// Predictive High 4:4:4 (`f400`).
    PredictiveHigh444,
}

/// An H.264 level (ITU-T H.264 Table A-1), ordered by capability: 1 < 1b < 1.1 < ... < 6.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum H264Level {
    /// 1
    L1,
    /// 1b
    L1b,
    /// 1.1
    L1_1,
    /// 1.2
    L1_2,
    /// 1.3
    L1_3,
    /// 2
    L2,
    /// 2.1
    L2_1,
    /// 2.2
    L2_2,
    /// 3
    L3,
    /// 3.1
    L3_1,
    /// 3.2
    L3_2,
    /// 4
    L4,
    /// 4.1
    L4_1,
    /// 4.2
    L4_2,
    /// 5
    L5,
    /// 5.1
    L5_1,
    /// 5.2
    L5_2,
    /// 6
    L6,
    /// 6.1
    L6_1,
    /// 6.2
    L6_2,
}

/// `(level_idc, level)` for every level but 1b, which is written specially.
const LEVELS: &[(u8, H264Level)] = &[
    (10, H264Level::L1),
    (11, H264Level::L1_1),
    (12, H264Level::L1_2),
    (13, H264Level::L1_3),
    (20, H264Level::L2),
    (21, H264Level::L2_1),
    (22, H264Level::L2_2),
    (30, H264Level::L3),
    (31, H264Level::L3_1),
    (32, H264Level::L3_2),
    (40, H264Level::L4),
    (41, H264Level::L4_1),
    (42, H264Level::L4_2),
    (50, H264Level::L5),
    (51, H264Level::L5_1),
    (52, H264Level::L5_2),
    (60, H264Level::L6),
    (61, H264Level::L6_1),
    (62, H264Level::L6_2),
];

/// `constraint_set3_flag` in `profile-iop`: with `level_idc` 11 in the Baseline, Main and
/// Extended profiles it marks level 1b.
const CONSTRAINT_SET3: u8 = 0x10;

/// A parsed `profile-level-id` (RFC 6184 §8.1): three bytes, `profile_idc`, `profile-iop`
/// and `level_idc`, written as six hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct H264ProfileLevelId {
    /// `profile_idc`.
    pub profile_idc: u8,
    /// `profile-iop` (the constraint flags).
    pub profile_iop: u8,
    /// The profile the two bytes above name.
    pub profile: H264Profile,
    /// The level.
    pub level: H264Level,
}

impl H264ProfileLevelId {
    /// Parses six hex digits; `None` for any other text, an unknown profile or level.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(text.get(i..i + 2)?, 16).ok();
        let (profile_idc, profile_iop, level_idc) = (byte(0)?, byte(2)?, byte(4)?);
        Some(Self {
            profile_idc,
            profile_iop,
            profile: profile(profile_idc, profile_iop)?,
            level: level(profile_idc, profile_iop, level_idc)?,
        })
    }

    /// The codec's `profile-level-id`, or `42e01f` (Constrained Baseline 3.1) when it has
    /// none — libwebrtc's reading, which interoperates with senders that omit it (RFC 6184's
    /// own default, Baseline 1, would match nothing browsers offer).
    pub fn of(codec: &RtpCodec) -> Option<Self> {
        Self::parse(codec.fmtp_param(PROFILE_LEVEL_ID).unwrap_or("42e01f"))
    }

    /// The same profile bytes at `level` (adjusting `constraint_set3_flag`/`level_idc` so that
    /// level 1b and 1.1 read back as themselves).
    pub fn with_level(self, level: H264Level) -> Self {
        Self { level, ..self }
    }

    /// The three bytes as written on the wire.
    fn bytes(&self) -> [u8; 3] {
        let set3_means_1b = matches!(self.profile_idc, 0x42 | 0x4d | 0x58);
        let mut iop = self.profile_iop;
        let level_idc = match self.level {
            H264Level::L1b if set3_means_1b => {
                iop |= CONSTRAINT_SET3;
                11
            }
            H264Level::L1b => 9,
            other => {
                if other == H264Level::L1_1 && set3_means_1b {
                    iop &= !CONSTRAINT_SET3;
                }
                LEVELS
                    .iter()
                    .find(|(_, l)| *l == other)
                    .map_or(31, |(idc, _)| *idc)
            }
        };
        [self.profile_idc, iop, level_idc]
    }
}

impl core::fmt::Display for H264ProfileLevelId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c] = self.bytes();
        write!(f, "{a:02x}{b:02x}{c:02x}")
    }
}

/// RFC 6184 Table 5: `(profile_idc, mask of the bits that must equal value, value, profile)`.
/// A mask bit 0 is an "x" (either value) in the RFC's pattern.
const PROFILES: &[(u8, u8, u8, H264Profile)] = &[
    (0x42, 0x4f, 0x40, H264Profile::ConstrainedBaseline), // x1xx0000
    (0x4d, 0x8f, 0x80, H264Profile::ConstrainedBaseline), // 1xxx0000
    (0x58, 0xcf, 0xc0, H264Profile::ConstrainedBaseline), // 11xx0000
    (0x42, 0x4f, 0x00, H264Profile::Baseline),            // x0xx0000
    (0x58, 0xcf, 0x80, H264Profile::Baseline),            // 10xx0000
    (0x4d, 0xaf, 0x00, H264Profile::Main),                // 0x0x0000
    (0x64, 0xff, 0x00, H264Profile::High),                // 00000000
    (0x64, 0xff, 0x0c, H264Profile::ConstrainedHigh),     // 00001100
    (0xf4, 0xff, 0x00, H264Profile::PredictiveHigh444),   // 00000000
];

fn profile(profile_idc: u8, profile_iop: u8) -> Option<H264Profile> {
    PROFILES
        .iter()
        .find(|(idc, mask, value, _)| *idc == profile_idc && profile_iop & mask == *value)
        .map(|(_, _, _, p)| *p)
}

fn level(profile_idc: u8, profile_iop: u8, level_idc: u8) -> Option<H264Level> {
    let set3_means_1b = matches!(profile_idc, 0x42 | 0x4d | 0x58);
    match level_idc {
        11 if set3_means_1b && profile_iop & CONSTRAINT_SET3 != 0 => Some(H264Level::L1b),
        9 => Some(H264Level::L1b),
        idc => LEVELS.iter().find(|(i, _)| *i == idc).map(|(_, l)| *l),
    }
}
