//! JSEP answers over codecs: offer order and payload types kept, fmtp and feedback answered,
//! RTX only where offered, empty when nothing is common.

use super::{by_pt, pts, section};
use crate::media::codec::{
    CodecConfig, MediaCodecs, NegotiatedCodec, RtpCodec, answer_codecs, offer_codecs, read_codecs,
};
use crate::sdp::MediaKind;

fn answer_to(name: &str, kind: MediaKind, local: &MediaCodecs) -> Vec<NegotiatedCodec> {
    let offered = read_codecs(&section(name, kind.clone()));
    answer_codecs(local, &kind, &offered)
}

#[test]
fn answer_to_chromium_video_keeps_offer_order_and_payload_types() {
    let answer = answer_to("chromium", MediaKind::Video, &MediaCodecs::default());
    assert_eq!(
        pts(&answer),
        [
            (96, Some(97)),
            (102, Some(103)),
            (104, Some(107)),
            (108, Some(109)),
            (114, Some(115)),
            (116, Some(117)),
            (39, Some(40)),
            (45, Some(46)),
            (98, Some(99)),
            (100, Some(101)),
        ]
    );
    let vp9_2 = by_pt(&answer, 100);
    assert_eq!(vp9_2.codec.fmtp_param("profile-id"), Some("2"));
}

#[test]
fn answer_to_chromium_audio_answers_opus_g722_and_g711_only() {
    let answer = answer_to("chromium", MediaKind::Audio, &MediaCodecs::default());
    assert_eq!(pts(&answer), [(111, None), (9, None), (0, None), (8, None)]);
    let opus = &by_pt(&answer, 111).codec;
    assert_eq!(
        opus.fmtp,
        [
            ("minptime".into(), Some("10".into())),
            ("useinbandfec".into(), Some("1".into()))
        ]
    );
    assert_eq!(opus.feedback, ["transport-cc"]);
}

#[test]
fn answer_to_firefox_takes_h264_mode_0_and_opus_fmtp_of_ours() {
    let answer = answer_to("firefox", MediaKind::Video, &MediaCodecs::default());
    assert_eq!(
        pts(&answer),
        [
            (120, Some(124)),
            (121, Some(125)),
            (126, Some(127)),
            (97, Some(98))
        ]
    );
    let mode0 = &by_pt(&answer, 97).codec;
    assert_eq!(mode0.fmtp_param("packetization-mode"), Some("0"));
    assert_eq!(mode0.fmtp_param("profile-level-id"), Some("42e01f"));
    let audio = answer_to("firefox", MediaKind::Audio, &MediaCodecs::default());
    assert_eq!(pts(&audio), [(109, None), (9, None), (0, None), (8, None)]);
    assert_eq!(by_pt(&audio, 109).codec.fmtp_param("stereo"), None);
}

#[test]
fn answer_to_safari_matches_constrained_high() {
    let answer = answer_to("safari", MediaKind::Video, &MediaCodecs::default());
    assert_eq!(
        pts(&answer),
        [(96, Some(97)), (98, Some(99)), (100, Some(101))]
    );
    let high = &by_pt(&answer, 96).codec;
    assert_eq!(high.fmtp_param("profile-level-id"), Some("640c1f"));
    assert_eq!(high.fmtp_param("level-asymmetry-allowed"), Some("1"));
}

#[test]
fn answer_to_aiortc_intersects_feedback() {
    let answer = answer_to("aiortc", MediaKind::Video, &MediaCodecs::default());
    assert_eq!(
        pts(&answer),
        [(97, Some(98)), (99, Some(100)), (101, Some(102))]
    );
    for c in &answer {
        assert_eq!(c.codec.feedback, ["goog-remb", "nack", "nack pli"]);
    }
}

#[test]
fn answer_keeps_the_offers_encoding_name_spelling() {
    let offered = [NegotiatedCodec {
        payload_type: 101,
        codec: RtpCodec::new("vp8", 90_000, None),
        rtx_payload_type: None,
    }];
    let answer = answer_codecs(&MediaCodecs::default(), &MediaKind::Video, &offered);
    assert_eq!(answer[0].codec.name, "vp8");
    assert_eq!(answer[0].payload_type, 101);
}

#[test]
fn no_common_codec_gives_an_empty_answer() {
    let offered = [NegotiatedCodec {
        payload_type: 34,
        codec: RtpCodec::new("H263", 90_000, None),
        rtx_payload_type: None,
    }];
    assert!(answer_codecs(&MediaCodecs::default(), &MediaKind::Video, &offered).is_empty());
    let only_vp8 = MediaCodecs::default().only(&["VP8"]);
    assert!(answer_to("safari", MediaKind::Video, &only_vp8).len() == 1);
    let only_opus = MediaCodecs::default().only(&["opus"]);
    assert!(answer_to("safari", MediaKind::Video, &only_opus).is_empty());
    assert!(answer_to("chromium", MediaKind::Application, &MediaCodecs::default()).is_empty());
}

#[test]
fn vp9_profile_mismatch_does_not_match() {
    let vp9 = |profile: &str| NegotiatedCodec {
        payload_type: 98,
        codec: RtpCodec::new("VP9", 90_000, None).with_fmtp("profile-id", Some(profile)),
        rtx_payload_type: None,
    };
    let local = MediaCodecs::default();
    assert!(answer_codecs(&local, &MediaKind::Video, &[vp9("1")]).is_empty());
    assert_eq!(
        answer_codecs(&local, &MediaKind::Video, &[vp9("2")]).len(),
        1
    );
    let no_profile = NegotiatedCodec {
        codec: RtpCodec::new("VP9", 90_000, None),
        ..vp9("0")
    };
    let answer = answer_codecs(&local, &MediaKind::Video, &[no_profile]);
    assert_eq!(answer[0].codec.fmtp_param("profile-id"), Some("0"));
}

#[test]
fn av1_profile_mismatch_does_not_match() {
    let av1 = |profile: &str| NegotiatedCodec {
        payload_type: 45,
        codec: RtpCodec::new("AV1", 90_000, None).with_fmtp("profile", Some(profile)),
        rtx_payload_type: None,
    };
    let local = MediaCodecs::default();
    assert!(answer_codecs(&local, &MediaKind::Video, &[av1("1")]).is_empty());
    assert_eq!(
        answer_codecs(&local, &MediaKind::Video, &[av1("0")]).len(),
        1
    );
}

#[test]
fn opus_must_be_stereo_framed_to_match() {
    let mono = NegotiatedCodec {
        payload_type: 111,
        codec: RtpCodec::new("opus", 48_000, None),
        rtx_payload_type: None,
    };
    assert!(answer_codecs(&MediaCodecs::default(), &MediaKind::Audio, &[mono]).is_empty());
}

#[test]
fn rtx_is_answered_only_when_offered_and_configured() {
    let vp8 = |rtx| NegotiatedCodec {
        payload_type: 120,
        codec: RtpCodec::new("VP8", 90_000, None).with_feedback(&["nack"]),
        rtx_payload_type: rtx,
    };
    let local = MediaCodecs::default();
    let with = answer_codecs(&local, &MediaKind::Video, &[vp8(Some(121))]);
    assert_eq!(pts(&with), [(120, Some(121))]);
    let without = answer_codecs(&local, &MediaKind::Video, &[vp8(None)]);
    assert_eq!(pts(&without), [(120, None)]);
    let mut no_rtx = local.clone();
    no_rtx
        .video
        .iter_mut()
        .for_each(|c| c.rtx_payload_type = None);
    let refused = answer_codecs(&no_rtx, &MediaKind::Video, &[vp8(Some(121))]);
    assert_eq!(pts(&refused), [(120, None)]);
}

#[test]
fn feedback_is_the_intersection_in_our_order() {
    let offered = [NegotiatedCodec {
        payload_type: 96,
        codec: RtpCodec::new("VP8", 90_000, None).with_feedback(&[
            "nack pli",
            "x-unknown",
            "NACK",
            "transport-cc",
        ]),
        rtx_payload_type: None,
    }];
    let answer = answer_codecs(&MediaCodecs::default(), &MediaKind::Video, &offered);
    assert_eq!(
        answer[0].codec.feedback,
        ["transport-cc", "nack", "nack pli"]
    );
}

#[test]
fn offer_codecs_are_the_configuration_in_preference_order() {
    let local = MediaCodecs::default();
    let offer = offer_codecs(&local, &MediaKind::Video);
    let expected: Vec<(u8, Option<u8>)> = local
        .video
        .iter()
        .map(|c: &CodecConfig| (c.payload_type, c.rtx_payload_type))
        .collect();
    assert_eq!(pts(&offer), expected);
    assert_eq!(offer[0].codec, local.video[0].codec);
    assert!(offer_codecs(&local, &MediaKind::Application).is_empty());
}

#[test]
fn default_payload_types_are_distinct_and_dynamic_ones_in_range() {
    let local = MediaCodecs::default();
    for list in [&local.audio, &local.video] {
        let mut all: Vec<u8> = list
            .iter()
            .flat_map(|c| std::iter::once(c.payload_type).chain(c.rtx_payload_type))
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "{all:?}");
        assert!(all.iter().all(|pt| *pt <= 127 && !(64..=95).contains(pt)));
    }
}

#[test]
fn only_keeps_named_codecs_with_their_rtx() {
    let local = MediaCodecs::default().only(&["opus", "h264"]);
    assert_eq!(local.audio.len(), 1);
    assert!(local.video.iter().all(|c| c.codec.is_named("H264")));
    assert_eq!(local.video.len(), 8);
    assert!(local.video.iter().all(|c| c.rtx_payload_type.is_some()));
    assert_eq!(local.extensions, MediaCodecs::default().extensions);
}

#[test]
fn our_own_offer_answered_by_our_defaults_is_itself() {
    let local = MediaCodecs::default();
    for kind in [MediaKind::Audio, MediaKind::Video] {
        let offer = offer_codecs(&local, &kind);
        assert_eq!(answer_codecs(&local, &kind, &offer), offer, "{kind}");
    }
}

fn h265(payload_type: u8, params: &[(&str, &str)]) -> CodecConfig {
    let codec = params
        .iter()
        .fold(RtpCodec::new("H265", 90_000, None), |c, (k, v)| {
            c.with_fmtp(k, Some(v))
        });
    CodecConfig {
        payload_type,
        codec,
        rtx_payload_type: Some(payload_type + 1),
    }
}

fn offered(c: CodecConfig) -> NegotiatedCodec {
    NegotiatedCodec {
        payload_type: c.payload_type,
        codec: c.codec,
        rtx_payload_type: c.rtx_payload_type,
    }
}

#[test]
fn h265_matches_on_profile_tier_and_tx_mode_and_answers_the_lower_level() {
    let ours = [
        ("level-id", "93"),
        ("profile-id", "1"),
        ("tier-flag", "0"),
        ("tx-mode", "SRST"),
    ];
    let local = MediaCodecs {
        video: vec![h265(49, &ours)],
        ..MediaCodecs::default()
    };
    let answer = |params: &[(&str, &str)]| {
        answer_codecs(&local, &MediaKind::Video, &[offered(h265(110, params))])
    };
    let higher = answer(&[
        ("level-id", "180"),
        ("profile-id", "1"),
        ("tx-mode", "SRST"),
    ]);
    assert_eq!(pts(&higher), [(110, Some(111))]);
    assert_eq!(higher[0].codec.fmtp_param("level-id"), Some("93"));
    let lower = answer(&[("level-id", "60")]);
    assert_eq!(lower[0].codec.fmtp_param("level-id"), Some("60"));
    assert!(answer(&[("profile-id", "2")]).is_empty());
    assert!(answer(&[("tier-flag", "1")]).is_empty());
    assert!(answer(&[("tx-mode", "MRST")]).is_empty());
    let unreadable = answer(&[("level-id", "x")]);
    assert_eq!(unreadable[0].codec.fmtp_param("level-id"), Some("93"));
}
