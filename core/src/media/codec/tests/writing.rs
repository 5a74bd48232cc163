//! `write_codecs`: Chromium's line order, byte-exact against recorded offers, and read-back.

use super::{OFFERS, offer, pts, section};
use crate::media::codec::{MediaCodecs, answer_codecs, offer_codecs, read_codecs, write_codecs};
use crate::sdp::{MediaDescription, MediaKind, SessionDescription};

/// Offers whose codec lines are in Chromium's order (Firefox's are not).
const CHROMIUM_ORDERED: &[&str] = &["chromium", "safari", "aiortc"];

#[test]
fn rewriting_read_codecs_reproduces_offers_byte_for_byte() {
    for name in CHROMIUM_ORDERED {
        let (_, text) = OFFERS.iter().find(|(n, _)| n == name).expect("offer");
        let mut sdp = offer(name);
        for m in &mut sdp.media {
            if m.kind == MediaKind::Audio || m.kind == MediaKind::Video {
                let codecs = read_codecs(m);
                write_codecs(m, &codecs);
            }
        }
        let expected = text.replace("\r\n", "\n").replace('\n', "\r\n");
        assert_eq!(sdp.to_string(), expected, "{name}");
    }
}

#[test]
fn codec_lines_are_rtpmap_feedback_fmtp_then_rtx() {
    let local = MediaCodecs::default().only(&["H264"]);
    let mut m = MediaDescription::new(MediaKind::Video, 9, MediaDescription::PROTO_RTP, ["0"]);
    write_codecs(&mut m, &offer_codecs(&local, &MediaKind::Video)[..1]);
    let lines: Vec<String> = m.attributes.iter().map(|a| format!("a={a}")).collect();
    assert_eq!(
        lines,
        [
            "a=rtpmap:102 H264/90000",
            "a=rtcp-fb:102 goog-remb",
            "a=rtcp-fb:102 transport-cc",
            "a=rtcp-fb:102 ccm fir",
            "a=rtcp-fb:102 nack",
            "a=rtcp-fb:102 nack pli",
            "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
            "a=rtpmap:103 rtx/90000",
            "a=fmtp:103 apt=102",
        ]
    );
    assert_eq!(m.formats, ["102", "103"]);
}

#[test]
fn default_offer_and_answers_read_back_after_printing() {
    let local = MediaCodecs::default();
    for kind in [MediaKind::Audio, MediaKind::Video] {
        let written = offer_codecs(&local, &kind);
        assert_eq!(read_back(&kind, &written), written, "{kind}");
    }
    for name in ["chromium", "firefox", "safari", "aiortc"] {
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let answer = answer_codecs(&local, &kind, &read_codecs(&section(name, kind.clone())));
            assert_eq!(read_back(&kind, &answer), answer, "{name} {kind}");
        }
    }
}

/// Writes `codecs` into a fresh section, prints and parses a session around it, reads back.
fn read_back(
    kind: &MediaKind,
    codecs: &[crate::media::codec::NegotiatedCodec],
) -> Vec<crate::media::codec::NegotiatedCodec> {
    let mut m = MediaDescription::new(kind.clone(), 9, MediaDescription::PROTO_RTP, ["0"]);
    write_codecs(&mut m, codecs);
    let mut sdp = SessionDescription::parse("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
        .expect("session parses");
    sdp.media.push(m);
    let text = sdp.to_string();
    let parsed = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    read_codecs(&parsed.media[0])
}

#[test]
fn writing_replaces_old_codec_lines() {
    let mut m = section("chromium", MediaKind::Video);
    let answer = answer_codecs(
        &MediaCodecs::default().only(&["VP8"]),
        &MediaKind::Video,
        &read_codecs(&m),
    );
    write_codecs(&mut m, &answer);
    assert_eq!(m.formats, ["96", "97"]);
    assert_eq!(pts(&read_codecs(&m)), [(96, Some(97))]);
    assert_eq!(m.rtpmaps().count(), 2);
}
