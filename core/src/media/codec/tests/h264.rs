//! H.264 `profile-level-id` (RFC 6184 §8.1 Table 5) and the answer's level (§8.2.2).

use crate::media::codec::{
    H264Level, H264Profile, H264ProfileLevelId, MediaCodecs, NegotiatedCodec, RtpCodec,
    answer_codecs, codecs_match,
};
use crate::sdp::MediaKind;

fn h264(profile_level_id: &str, mode: &str, asymmetry: bool) -> RtpCodec {
    let mut c = RtpCodec::new("H264", 90_000, None);
    if asymmetry {
        c = c.with_fmtp("level-asymmetry-allowed", Some("1"));
    }
    c.with_fmtp("packetization-mode", Some(mode))
        .with_fmtp("profile-level-id", Some(profile_level_id))
}

fn profile(text: &str) -> H264Profile {
    H264ProfileLevelId::parse(text)
        .unwrap_or_else(|| panic!("{text} parses"))
        .profile
}

#[test]
fn profiles_follow_rfc_6184_table_5() {
    assert_eq!(profile("42e01f"), H264Profile::ConstrainedBaseline);
    assert_eq!(profile("42c01f"), H264Profile::ConstrainedBaseline);
    assert_eq!(profile("4de01f"), H264Profile::ConstrainedBaseline);
    assert_eq!(profile("58f01f"), H264Profile::ConstrainedBaseline);
    assert_eq!(profile("42001f"), H264Profile::Baseline);
    assert_eq!(profile("42a01f"), H264Profile::Baseline);
    assert_eq!(profile("4d001f"), H264Profile::Main);
    assert_eq!(profile("64001f"), H264Profile::High);
    assert_eq!(profile("640c1f"), H264Profile::ConstrainedHigh);
    assert_eq!(profile("f4001f"), H264Profile::PredictiveHigh444);
}

#[test]
fn invalid_profile_level_ids_do_not_parse() {
    for bad in [
        "", "42e01", "42e01f0", "42g01f", "42e0 f", "43e01f", "640d1f", "42e0ff", "42e0é",
    ] {
        assert_eq!(H264ProfileLevelId::parse(bad), None, "{bad}");
    }
}

#[test]
fn levels_parse_including_1b_both_ways() {
    let level = |t: &str| H264ProfileLevelId::parse(t).map(|p| p.level);
    assert_eq!(level("42e01f"), Some(H264Level::L3_1));
    assert_eq!(level("42e034"), Some(H264Level::L5_2));
    assert_eq!(level("42e00b"), Some(H264Level::L1_1));
    assert_eq!(level("42f00b"), Some(H264Level::L1b));
    assert_eq!(level("640009"), Some(H264Level::L1b));
    assert!(H264Level::L1 < H264Level::L1b && H264Level::L1b < H264Level::L1_1);
}

#[test]
fn profile_level_id_prints_back_and_adjusts_the_1b_flag() {
    for text in ["42e01f", "640c1f", "4d0032", "42f00b", "640009"] {
        let p = H264ProfileLevelId::parse(text).expect("parses");
        assert_eq!(p.to_string(), text);
    }
    let cb = H264ProfileLevelId::parse("42e01f").expect("parses");
    assert_eq!(cb.with_level(H264Level::L1b).to_string(), "42f00b");
    let cb_1b = H264ProfileLevelId::parse("42f00b").expect("parses");
    assert_eq!(cb_1b.with_level(H264Level::L1_1).to_string(), "42e00b");
    let high = H264ProfileLevelId::parse("64001f").expect("parses");
    assert_eq!(high.with_level(H264Level::L1b).to_string(), "640009");
}

#[test]
fn constrained_baseline_variants_match_each_other() {
    assert!(codecs_match(
        &h264("42e01f", "1", true),
        &h264("42c01f", "1", false)
    ));
    assert!(codecs_match(
        &h264("42e01f", "1", true),
        &h264("4de034", "1", true)
    ));
}

/// 42001f is Baseline (constraint_set1 clear), 42e01f Constrained Baseline: RFC 6184 Table 5
/// and libwebrtc keep them apart, and Chromium offers both as separate codecs.
#[test]
fn baseline_and_constrained_baseline_do_not_match() {
    assert!(!codecs_match(
        &h264("42e01f", "1", true),
        &h264("42001f", "1", true)
    ));
}

#[test]
fn constrained_high_and_high_do_not_match() {
    assert!(!codecs_match(
        &h264("640c1f", "1", true),
        &h264("64001f", "1", true)
    ));
    assert!(codecs_match(
        &h264("640c1f", "1", true),
        &h264("640c34", "1", true)
    ));
}

#[test]
fn packetization_mode_must_match_absent_meaning_0() {
    assert!(!codecs_match(
        &h264("42e01f", "1", true),
        &h264("42e01f", "0", true)
    ));
    let no_mode = RtpCodec::new("H264", 90_000, None).with_fmtp("profile-level-id", Some("42e01f"));
    assert!(codecs_match(&no_mode, &h264("42e01f", "0", true)));
    assert!(!codecs_match(&no_mode, &h264("42e01f", "1", true)));
}

#[test]
fn absent_profile_level_id_reads_as_constrained_baseline_3_1() {
    let bare = RtpCodec::new("h264", 90_000, None);
    assert!(codecs_match(&bare, &h264("42e01f", "0", false)));
    assert!(!codecs_match(&bare, &h264("4d001f", "0", false)));
}

fn answer_level(ours: RtpCodec, offered: RtpCodec) -> Option<String> {
    let local = MediaCodecs {
        audio: vec![],
        video: vec![crate::media::codec::CodecConfig {
            payload_type: 100,
            codec: ours,
            rtx_payload_type: None,
        }],
        extensions: vec![],
    };
    let offer = [NegotiatedCodec {
        payload_type: 120,
        codec: offered,
        rtx_payload_type: None,
    }];
    let answer = answer_codecs(&local, &MediaKind::Video, &offer);
    assert_eq!(answer.len(), 1, "{answer:#?}");
    answer[0]
        .codec
        .fmtp_param("profile-level-id")
        .map(str::to_owned)
}

#[test]
fn level_asymmetry_on_both_sides_answers_our_level() {
    let got = answer_level(h264("42e01f", "1", true), h264("42e034", "1", true));
    assert_eq!(got.as_deref(), Some("42e01f"));
    let got = answer_level(h264("42e034", "1", true), h264("42e00a", "1", true));
    assert_eq!(got.as_deref(), Some("42e034"));
}

#[test]
fn without_level_asymmetry_on_both_sides_the_lower_level_is_answered() {
    let got = answer_level(h264("42e01f", "1", true), h264("42e034", "1", false));
    assert_eq!(got.as_deref(), Some("42e01f"));
    let got = answer_level(h264("42e01f", "1", true), h264("42e00a", "1", false));
    assert_eq!(got.as_deref(), Some("42e00a"));
    let got = answer_level(h264("42e01f", "1", false), h264("42e00d", "1", true));
    assert_eq!(got.as_deref(), Some("42e00d"));
}

#[test]
fn answer_keeps_the_offered_profile_bytes() {
    let got = answer_level(h264("42e01f", "1", true), h264("4de034", "1", true));
    assert_eq!(got.as_deref(), Some("4de01f"));
    let got = answer_level(h264("640c1f", "1", true), h264("640c34", "1", true));
    assert_eq!(got.as_deref(), Some("640c1f"));
}

#[test]
fn answer_writes_no_profile_level_id_when_neither_side_did() {
    let bare = || RtpCodec::new("H264", 90_000, None).with_fmtp("packetization-mode", Some("1"));
    assert_eq!(answer_level(bare(), bare()), None);
}
