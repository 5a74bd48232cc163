//! Offer and answer over codec lists (RFC 8829 §5.2.1 and §5.3.1, RFC 3264 §6.1).

use super::matching::{h264_answer_profile_level_id, h265_answer_level_id};
use super::{CodecConfig, MediaCodecs, NegotiatedCodec, RtpCodec, codecs_match};
use crate::sdp::MediaKind;

/// Our offer's codecs for a section of `kind`: the configured codecs in order of preference,
/// with their payload types, RTX payload types, fmtp and feedback. Empty for a kind that has
/// no codecs (e.g. `application`).
pub fn offer_codecs(local: &MediaCodecs, kind: &MediaKind) -> Vec<NegotiatedCodec> {
    local
        .for_kind(kind)
        .iter()
        .map(|c| NegotiatedCodec {
            payload_type: c.payload_type,
            codec: c.codec.clone(),
            rtx_payload_type: c.rtx_payload_type,
        })
        .collect()
}

/// The JSEP answer's codecs for an offered section of `kind` (RFC 8829 §5.3.1).
///
/// Each offered codec that [`codecs_match`] one of ours is answered, in the offer's order and
/// with the offer's payload type and encoding name, against our first matching codec:
/// - fmtp: ours (what we accept), except H.264's `profile-level-id` (the offer's profile at
///   the level RFC 6184 §8.2.2 gives, see [`codecs_match`]) and H.265's `level-id` (the
///   lower of the two);
/// - feedback: ours that the offer also lists (ASCII case-insensitive), in our order;
/// - RTX: the offer's RTX payload type, only when the offer has one for this codec and we
///   configured RTX for ours.
///
/// Offered RTX entries are never answered on their own (they travel with their codec). An
/// empty result means no common codec: the caller must reject the section.
pub fn answer_codecs(
    local: &MediaCodecs,
    kind: &MediaKind,
    offered: &[NegotiatedCodec],
) -> Vec<NegotiatedCodec> {
    let ours = local.for_kind(kind);
    offered
        .iter()
        .filter(|o| !o.codec.is_rtx())
        .filter_map(|o| {
            let local = ours.iter().find(|c| codecs_match(&c.codec, &o.codec))?;
            Some(answer_one(local, o))
        })
        .collect()
}

fn answer_one(local: &CodecConfig, offered: &NegotiatedCodec) -> NegotiatedCodec {
    let codec = RtpCodec {
        name: offered.codec.name.clone(),
        clock_rate: offered.codec.clock_rate,
        channels: offered.codec.channels,
        fmtp: answer_fmtp(&local.codec, &offered.codec),
        feedback: intersect_feedback(&local.codec.feedback, &offered.codec.feedback),
    };
    NegotiatedCodec {
        payload_type: offered.payload_type,
        codec,
        rtx_payload_type: offered
            .rtx_payload_type
            .filter(|_| local.rtx_payload_type.is_some()),
    }
}

/// Our fmtp with the parameters an answer derives from both sides replaced (or added).
fn answer_fmtp(local: &RtpCodec, offered: &RtpCodec) -> Vec<(String, Option<String>)> {
    let mut fmtp = local.fmtp.clone();
    let derived = if local.is_named("H264") {
        h264_answer_profile_level_id(local, offered).map(|v| ("profile-level-id", v))
    } else if local.is_named("H265") {
        h265_answer_level_id(local, offered).map(|v| ("level-id", v))
    } else {
        None
    };
    if let Some((name, value)) = derived {
        set_param(&mut fmtp, name, value);
    }
    fmtp
}

fn set_param(fmtp: &mut Vec<(String, Option<String>)>, name: &str, value: String) {
    match fmtp.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
        Some((_, v)) => *v = Some(value),
        None => fmtp.push((name.into(), Some(value))),
    }
}

fn intersect_feedback(ours: &[String], theirs: &[String]) -> Vec<String> {
    ours.iter()
        .filter(|f| theirs.iter().any(|t| t.eq_ignore_ascii_case(f)))
        .cloned()
        .collect()
}
