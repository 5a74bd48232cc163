//! The interop corpus: offers and answers as other WebRTC stacks write them (files in
//! `corpus/`, origins in [`CORPUS`] and `corpus/README.md`). Each must parse, print back to
//! a text that parses to the same description, and be usable by a [`PeerConnection`]: an
//! offer is answered with its data m-line accepted, an answer to our data channel offer is
//! applied. Media m-lines are not checked here (how they are answered is up to the media
//! negotiation).

use crate::peer_connection::{PeerConnection, RtcConfiguration, RtcSessionDescription, SdpType};
use crate::sdp::SessionDescription;
use std::time::Instant;

/// (file, offer or answer, origin).
const CORPUS: &[(&str, SdpType, &str, &str)] = &[
    (
        "chromium-datachannel-offer.sdp",
        SdpType::Offer,
        include_str!("../fixtures/chromium-datachannel-offer.sdp"),
        "fixture: Chromium data channel offer (sdp/fixtures)",
    ),
    (
        "chromium-offer.sdp",
        SdpType::Offer,
        include_str!("../fixtures/chromium-offer.sdp"),
        "fixture: Chromium audio+video+data offer (sdp/fixtures)",
    ),
    (
        "firefox-offer.sdp",
        SdpType::Offer,
        include_str!("../fixtures/firefox-offer.sdp"),
        "fixture: Firefox 128 audio+video+data offer (sdp/fixtures)",
    ),
    (
        "safari-offer.sdp",
        SdpType::Offer,
        include_str!("../fixtures/safari-offer.sdp"),
        "fixture: Safari audio+video+data offer (sdp/fixtures)",
    ),
    (
        "chromium-datachannel-answer.sdp",
        SdpType::Answer,
        include_str!("corpus/chromium-datachannel-answer.sdp"),
        "reconstructed: Chromium's answer layout (as its offer fixture, setup:active)",
    ),
    (
        "firefox-datachannel-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/firefox-datachannel-offer.sdp"),
        "reconstructed: Firefox 128 data-only offer (session a=sendrecv, TCP candidate)",
    ),
    (
        "firefox-datachannel-answer.sdp",
        SdpType::Answer,
        include_str!("corpus/firefox-datachannel-answer.sdp"),
        "reconstructed: Firefox 128 answer (session-level fingerprint, no candidates)",
    ),
    (
        "safari-datachannel-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/safari-datachannel-offer.sdp"),
        "reconstructed: Safari data-only offer with an mDNS host and a srflx candidate",
    ),
    (
        "aiortc-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/aiortc-offer.sdp"),
        "reconstructed: aiortc (candidates before credentials, sha-256 and sha-384 fingerprints)",
    ),
    (
        "aiortc-answer.sdp",
        SdpType::Answer,
        include_str!("corpus/aiortc-answer.sdp"),
        "reconstructed: aiortc answer",
    ),
    (
        "pion-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/pion-offer.sdp"),
        "reconstructed: pion/webrtc v4 (a=msid-semantic:WMS*, component-2 candidate)",
    ),
    (
        "pion-answer.sdp",
        SdpType::Answer,
        include_str!("corpus/pion-answer.sdp"),
        "reconstructed: pion/webrtc v4 answer",
    ),
    (
        "str0m-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/str0m-offer.sdp"),
        "reconstructed: str0m (ice-lite, session-level setup and fingerprint)",
    ),
    (
        "webrtc-rs-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/webrtc-rs-offer.sdp"),
        "reconstructed: webrtc-rs layout with the `a=msid-semantic: WMS ` line of issue 11",
    ),
    (
        "libdatachannel-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/libdatachannel-offer.sdp"),
        "reconstructed: libdatachannel (session-level ICE, a=group:LS, ice-options:ice2,trickle)",
    ),
    (
        "libdatachannel-answer.sdp",
        SdpType::Answer,
        include_str!("corpus/libdatachannel-answer.sdp"),
        "reconstructed: libdatachannel answer",
    ),
    (
        "janus-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/janus-offer.sdp"),
        "reconstructed: Janus streaming offer (mids a/d, ssrc mslabel/label lines)",
    ),
    (
        "mediasoup-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/mediasoup-offer.sdp"),
        "reconstructed: mediasoup remote SDP (ice-lite, sha-512, port 7, mid datachannel)",
    ),
    (
        "gstreamer-webrtcbin-offer.sdp",
        SdpType::Offer,
        include_str!("corpus/gstreamer-webrtcbin-offer.sdp"),
        "reconstructed: GStreamer webrtcbin (video0 + bundle-only application1)",
    ),
];

fn now() -> Instant {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    now
}

fn answering_pc() -> PeerConnection {
    let now = now();
    let mut pc = PeerConnection::new(RtcConfiguration::with_seed(5), now).expect("pc");
    pc.add_local_socket(now, "127.0.0.1:5000".parse().expect("addr"))
        .expect("socket");
    pc
}

#[test]
fn every_corpus_file_is_listed_with_its_origin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sdp/tests/corpus");
    let files = std::fs::read_dir(dir).expect("corpus directory");
    for entry in files {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".sdp") {
            assert!(
                CORPUS.iter().any(|(n, ..)| *n == name),
                "{name} is not in CORPUS"
            );
        }
    }
}

#[test]
fn every_corpus_description_parses_and_round_trips() {
    for (name, _, text, origin) in CORPUS {
        let sdp =
            SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name} ({origin}): {e}"));
        let printed = sdp.to_string();
        let again = SessionDescription::parse(&printed)
            .unwrap_or_else(|e| panic!("{name}: printed text does not parse: {e}\n{printed}"));
        assert_eq!(again, sdp, "{name}: round trip changed the description");
        assert_eq!(again.to_string(), printed, "{name}: printing is not stable");
    }
}

#[test]
fn every_corpus_offer_is_answered_with_its_data_section_accepted() {
    for (name, kind, text, origin) in CORPUS {
        if *kind != SdpType::Offer {
            continue;
        }
        let mut pc = answering_pc();
        pc.set_remote_description(RtcSessionDescription::offer(*text))
            .unwrap_or_else(|e| panic!("{name} ({origin}): {e}"));
        let answer = pc
            .create_answer()
            .unwrap_or_else(|e| panic!("{name}: create_answer: {e}"));
        pc.set_local_description(answer.clone())
            .unwrap_or_else(|e| panic!("{name}: set_local_description: {e}"));
        let offer = SessionDescription::parse(text).expect("parsed above");
        let answer = SessionDescription::parse(&answer.sdp).expect("our answer parses");
        let data = offer
            .media
            .iter()
            .position(|m| m.sctp_port().is_some())
            .unwrap_or_else(|| panic!("{name}: no data section in the offer"));
        let ours = &answer.media[data];
        assert!(!ours.is_port_zero(), "{name}: data section rejected");
        assert_eq!(ours.mid(), offer.media[data].mid(), "{name}: mid");
        assert_eq!(
            answer.media.len(),
            offer.media.len(),
            "{name}: m-line count"
        );
    }
}

#[test]
fn every_corpus_answer_applies_to_our_data_channel_offer() {
    for (name, kind, text, origin) in CORPUS {
        if *kind != SdpType::Answer {
            continue;
        }
        let mut pc = answering_pc();
        pc.create_data_channel("corpus", Default::default())
            .expect("channel");
        let offer = pc.create_offer().expect("offer");
        pc.set_local_description(offer).expect("sld");
        let answer = RtcSessionDescription {
            sdp_type: SdpType::Answer,
            sdp: (*text).to_owned(),
        };
        pc.set_remote_description(answer)
            .unwrap_or_else(|e| panic!("{name} ({origin}): {e}"));
    }
}

#[test]
fn a_trailing_space_after_msid_semantic_is_accepted_and_not_sent_back() {
    let offer = include_str!("corpus/webrtc-rs-offer.sdp");
    assert!(offer.contains("a=msid-semantic: WMS \r\n"));
    let sdp = SessionDescription::parse(offer).expect("liberal parse");
    assert!(sdp.to_string().contains("a=msid-semantic: WMS\r\n"));
}

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                    m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n";

#[test]
fn trailing_blanks_after_typed_attributes_are_ignored() {
    let text =
        format!("{HEAD}a=mid:0 \r\na=rtcp-mux\t\r\na=setup:actpass  \r\na=sctp-port:5000 \r\n");
    let sdp = SessionDescription::parse(&text).expect("liberal parse");
    let m = &sdp.media[0];
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(m.sctp_port(), Some(5000));
    assert_eq!(
        sdp.to_string(),
        format!("{HEAD}a=mid:0\r\na=rtcp-mux\r\na=setup:actpass\r\na=sctp-port:5000\r\n")
    );
}

#[test]
fn malformed_descriptive_attributes_are_kept_verbatim() {
    let text =
        format!("{HEAD}a=ssrc:not-a-number cname:x\r\na=msid:\r\na=ice-options:ice2,trickle\r\n");
    let sdp = SessionDescription::parse(&text).expect("liberal parse");
    let names: Vec<_> = sdp.media[0]
        .attributes
        .iter()
        .map(|a| matches!(a, crate::sdp::Attribute::Other { .. }))
        .collect();
    assert_eq!(names, [true, true, true]);
    assert_eq!(sdp.to_string(), text);
}

#[test]
fn malformed_attributes_negotiation_needs_still_fail_with_their_line() {
    for (bad, line) in [
        ("a=ice-ufrag:ab\r\n", 7),
        ("a=setup:sometimes\r\n", 7),
        ("a=sctp-port:port\r\n", 7),
        ("a=fingerprint:sha-256 zz\r\n", 7),
    ] {
        let text = format!("{HEAD}{bad}");
        let err = SessionDescription::parse(&text).expect_err(bad);
        assert_eq!(err.line, line, "{bad}");
    }
}
