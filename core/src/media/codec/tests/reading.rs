//! `read_codecs` on real offers: payload types, rtpmap, fmtp, feedback, RTX and static types.

use super::{by_pt, pts, section};
use crate::media::codec::{CodecKind, read_codecs};
use crate::sdp::{MediaDescription, MediaKind, SessionDescription};

#[test]
fn chromium_video_reads_every_codec_with_rtx_tied_by_apt() {
    let codecs = read_codecs(&section("chromium", MediaKind::Video));
    assert_eq!(
        pts(&codecs),
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
            (118, Some(119)),
            (120, None),
        ]
    );
    let h264 = by_pt(&codecs, 104);
    assert_eq!(h264.codec.name, "H264");
    assert_eq!(h264.codec.clock_rate, 90_000);
    assert_eq!(h264.codec.fmtp_param("packetization-mode"), Some("0"));
    assert_eq!(h264.codec.fmtp_param("profile-level-id"), Some("42001f"));
    assert_eq!(
        h264.codec.feedback,
        ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]
    );
}

#[test]
fn unknown_codecs_are_kept() {
    let codecs = read_codecs(&section("chromium", MediaKind::Video));
    assert_eq!(by_pt(&codecs, 118).codec.name, "red");
    assert_eq!(by_pt(&codecs, 120).codec.name, "ulpfec");
    let audio = read_codecs(&section("chromium", MediaKind::Audio));
    let names: Vec<&str> = audio.iter().map(|c| c.codec.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "opus",
            "red",
            "G722",
            "PCMU",
            "PCMA",
            "CN",
            "telephone-event",
            "telephone-event"
        ]
    );
    assert_eq!(by_pt(&audio, 63).codec.fmtp, [("111/111".into(), None)]);
}

#[test]
fn chromium_opus_reads_channels_fmtp_and_feedback() {
    let audio = read_codecs(&section("chromium", MediaKind::Audio));
    let opus = &by_pt(&audio, 111).codec;
    assert_eq!(opus.channels, Some(2));
    assert_eq!(opus.clock_rate, 48_000);
    assert_eq!(opus.fmtp_param("minptime"), Some("10"));
    assert_eq!(opus.fmtp_param("useinbandfec"), Some("1"));
    assert_eq!(opus.feedback, ["transport-cc"]);
    assert_eq!(opus.kind(), CodecKind::Audio);
}

#[test]
fn firefox_offer_reads_with_fmtp_before_rtpmap_and_rtx_after_all() {
    let codecs = read_codecs(&section("firefox", MediaKind::Video));
    assert_eq!(
        pts(&codecs),
        [
            (120, Some(124)),
            (121, Some(125)),
            (126, Some(127)),
            (97, Some(98))
        ]
    );
    let h264 = &by_pt(&codecs, 97).codec;
    assert_eq!(h264.fmtp_param("packetization-mode"), None);
    assert_eq!(h264.fmtp_param("profile-level-id"), Some("42e01f"));
    assert_eq!(
        by_pt(&codecs, 120).codec.fmtp_param("max-fs"),
        Some("12288")
    );
    let audio = read_codecs(&section("firefox", MediaKind::Audio));
    assert_eq!(by_pt(&audio, 9).codec.channels, Some(1));
    assert_eq!(by_pt(&audio, 109).codec.fmtp_param("stereo"), Some("1"));
}

#[test]
fn safari_offer_reads_constrained_high() {
    let codecs = read_codecs(&section("safari", MediaKind::Video));
    assert_eq!(
        pts(&codecs),
        [(96, Some(97)), (98, Some(99)), (100, Some(101))]
    );
    assert_eq!(
        by_pt(&codecs, 96).codec.fmtp_param("profile-level-id"),
        Some("640c1f")
    );
}

#[test]
fn aiortc_offer_reads_two_h264_with_rtx() {
    let codecs = read_codecs(&section("aiortc", MediaKind::Video));
    assert_eq!(
        pts(&codecs),
        [(97, Some(98)), (99, Some(100)), (101, Some(102))]
    );
    assert_eq!(
        by_pt(&codecs, 99).codec.feedback,
        ["nack", "nack pli", "goog-remb"]
    );
}

/// A section of `kind` parsed from `lines` (an m-line's formats and its `a=` lines).
fn parse_section(formats: &str, lines: &[&str]) -> MediaDescription {
    let mut text = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF {formats}\r\n"
    );
    for l in lines {
        text.push_str(l);
        text.push_str("\r\n");
    }
    let sdp = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    sdp.media.into_iter().next().expect("one section")
}

#[test]
fn static_payload_types_without_rtpmap_get_their_registered_codec() {
    let m = parse_section("0 8 9 96", &[]);
    let codecs = read_codecs(&m);
    let names: Vec<(u8, &str, u32)> = codecs
        .iter()
        .map(|c| (c.payload_type, c.codec.name.as_str(), c.codec.clock_rate))
        .collect();
    assert_eq!(
        names,
        [(0, "PCMU", 8000), (8, "PCMA", 8000), (9, "G722", 8000)]
    );
}

#[test]
fn wildcard_feedback_applies_to_every_codec_once() {
    let m = parse_section(
        "96 97 98",
        &[
            "a=rtpmap:96 VP8/90000",
            "a=rtpmap:97 rtx/90000",
            "a=fmtp:97 apt=96",
            "a=rtpmap:98 VP9/90000",
            "a=rtcp-fb:* nack",
            "a=rtcp-fb:96 nack",
            "a=rtcp-fb:96 nack pli",
        ],
    );
    let codecs = read_codecs(&m);
    assert_eq!(by_pt(&codecs, 96).codec.feedback, ["nack", "nack pli"]);
    assert_eq!(by_pt(&codecs, 98).codec.feedback, ["nack"]);
}

#[test]
fn rtx_without_a_known_apt_is_dropped_and_first_rtx_wins() {
    let m = parse_section(
        "96 97 98 99 100",
        &[
            "a=rtpmap:96 VP8/90000",
            "a=rtpmap:97 rtx/90000",
            "a=fmtp:97 apt=96",
            "a=rtpmap:98 rtx/90000",
            "a=fmtp:98 apt=96",
            "a=rtpmap:99 rtx/90000",
            "a=fmtp:99 apt=120",
            "a=rtpmap:100 rtx/90000",
        ],
    );
    assert_eq!(pts(&read_codecs(&m)), [(96, Some(97))]);
}

#[test]
fn repeated_payload_types_and_lines_read_once_first_wins() {
    let m = parse_section(
        "96 96",
        &[
            "a=rtpmap:96 VP8/90000",
            "a=rtpmap:96 VP9/90000",
            "a=fmtp:96 a=1",
            "a=fmtp:96 b=2",
        ],
    );
    let codecs = read_codecs(&m);
    assert_eq!(codecs.len(), 1);
    assert_eq!(codecs[0].codec.name, "VP8");
    assert_eq!(codecs[0].codec.fmtp, [("a".into(), Some("1".into()))]);
}

#[test]
fn codec_kind_by_name_then_by_clock_rate() {
    let codecs = read_codecs(&section("chromium", MediaKind::Video));
    assert_eq!(by_pt(&codecs, 45).codec.kind(), CodecKind::Video);
    assert_eq!(by_pt(&codecs, 120).codec.kind(), CodecKind::Video);
    let audio = read_codecs(&section("chromium", MediaKind::Audio));
    assert_eq!(by_pt(&audio, 63).codec.kind(), CodecKind::Audio);
    assert_eq!(by_pt(&audio, 126).codec.kind(), CodecKind::Audio);
}
