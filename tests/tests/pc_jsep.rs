//! JSEP rules without a network: states, errors, the SDP we write, Chromium's SDP.

use rtcpeer::peer_connection::{DataChannelInit, PeerConnectionError};
use rtcpeer::sdp::{MediaKind, SessionDescription, Setup};
use rtcpeer::{Error, PeerConnection, RtcConfiguration, RtcSessionDescription, SignalingState};
use std::time::Instant;

const CHROMIUM_OFFER: &str =
    include_str!("../../core/src/sdp/fixtures/chromium-datachannel-offer.sdp");
const CHROMIUM_AV_OFFER: &str = include_str!("../../core/src/sdp/fixtures/chromium-offer.sdp");
const CHROMIUM_ANSWER: &str = include_str!("../../core/src/sdp/fixtures/chromium-answer.sdp");
/// aiortc offers REMB and abs-send-time, and no transport-cc.
const AIORTC_OFFER: &str =
    include_str!("../../core/src/media/codec/tests/fixtures/aiortc-offer.sdp");

fn pc(seed: u64) -> PeerConnection {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    PeerConnection::new(RtcConfiguration::with_seed(seed), now).expect("pc")
}

fn check_ours(sdp: &str, setup: Setup) {
    let parsed = SessionDescription::parse(sdp).expect("our SDP parses");
    assert_eq!(parsed.to_string(), sdp, "canonical round trip");
    let group = parsed.bundle_groups().next().expect("BUNDLE group");
    let data = parsed
        .media
        .iter()
        .find(|m| m.kind == MediaKind::Application && m.port != 0)
        .expect("data m-line");
    assert!(group.mids.iter().any(|m| Some(m.as_str()) == data.mid()));
    assert_eq!(parsed.setup_for(data), Some(setup));
    assert_eq!(parsed.fingerprints_for(data).len(), 1);
    assert!(parsed.ice_credentials(data).is_some());
    assert_eq!(data.sctp_port(), Some(5000));
    assert!(data.max_message_size().expect("max-message-size") >= 262_144);
    assert!(parsed.extmap_allow_mixed());
    assert!(parsed.msid_semantic().is_some());
}

#[test]
fn our_offer_is_well_formed() {
    let mut pc = pc(1);
    pc.create_data_channel("x", DataChannelInit::default())
        .expect("dc");
    let offer = pc.create_offer().expect("offer");
    check_ours(&offer.sdp, Setup::ActPass);
}

#[test]
fn chromium_fixtures_parse() {
    for text in [CHROMIUM_OFFER, CHROMIUM_AV_OFFER, CHROMIUM_ANSWER] {
        SessionDescription::parse(text).expect("fixture parses");
    }
}

#[test]
fn answer_to_chromium_data_offer_is_active_and_well_formed() {
    let mut pc = pc(2);
    pc.set_remote_description(RtcSessionDescription::offer(CHROMIUM_OFFER))
        .expect("srd");
    assert_eq!(pc.signaling_state(), SignalingState::HaveRemoteOffer);
    let answer = pc.create_answer().expect("answer");
    check_ours(&answer.sdp, Setup::Active);
    pc.set_local_description(answer).expect("sld");
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
}

/// Our answer's `a=rtcp-fb` and `a=extmap` lines for `offer`.
fn answer_feedback_and_extensions(offer: &str) -> (bool, bool) {
    let mut pc = pc(5);
    pc.set_remote_description(RtcSessionDescription::offer(offer))
        .expect("srd");
    let sdp = pc.create_answer().expect("answer").sdp;
    let remb = sdp.lines().any(|l| l.ends_with(" goog-remb"));
    let twcc = sdp.lines().any(|l| l.contains("transport-wide-cc"));
    (remb, twcc)
}

#[test]
fn remb_is_answered_only_to_offers_without_transport_cc_and_always_offered() {
    assert_eq!(answer_feedback_and_extensions(AIORTC_OFFER), (true, false));
    assert_eq!(
        answer_feedback_and_extensions(CHROMIUM_AV_OFFER),
        (false, true)
    );
    let mut pc = pc(6);
    pc.add_track(rtcpeer::media::TrackInfo::new(MediaKind::Video, "v", "s"))
        .expect("track");
    let offer = pc.create_offer().expect("offer").sdp;
    assert!(offer.lines().any(|l| l.ends_with(" goog-remb")), "{offer}");
}

#[test]
fn answer_to_chromium_av_offer_receives_media_and_keeps_order() {
    let mut pc = pc(3);
    pc.set_remote_description(RtcSessionDescription::offer(CHROMIUM_AV_OFFER))
        .expect("srd");
    let answer = pc.create_answer().expect("answer");
    let offer = SessionDescription::parse(CHROMIUM_AV_OFFER).expect("offer");
    let parsed = SessionDescription::parse(&answer.sdp).expect("answer parses");
    assert_eq!(parsed.media.len(), offer.media.len());
    let group = parsed.bundle_groups().next().expect("BUNDLE group");
    for (o, a) in offer.media.iter().zip(&parsed.media) {
        assert_eq!(o.mid(), a.mid());
        assert_eq!(o.kind, a.kind);
        assert_ne!(a.port, 0, "{} is accepted", a.kind);
        assert!(group.mids.iter().any(|m| Some(m.as_str()) == a.mid()));
        if a.kind != MediaKind::Application {
            assert!(a.rtcp_mux(), "rtcp-mux on {}", a.kind);
            // Nothing to send yet: the transceivers a remote offer creates are recvonly.
            assert_eq!(a.direction(), Some(rtcpeer::sdp::Direction::RecvOnly));
            let offered: Vec<u8> = o.payload_types().collect();
            assert!(
                a.payload_types().all(|pt| offered.contains(&pt)),
                "offer's PTs kept"
            );
        }
    }
    pc.set_local_description(answer).expect("sld");
}

#[test]
fn stopped_transceivers_reject_chromium_av_offer_media_with_transport_attributes() {
    let mut pc = pc(3);
    pc.set_remote_description(RtcSessionDescription::offer(CHROMIUM_AV_OFFER))
        .expect("srd");
    for id in pc.transceivers() {
        pc.transceiver(id).expect("transceiver").stop();
    }
    let answer = pc.create_answer().expect("answer");
    let parsed = SessionDescription::parse(&answer.sdp).expect("answer parses");
    let group = parsed.bundle_groups().next().expect("BUNDLE group");
    for a in &parsed.media {
        if a.kind == MediaKind::Application {
            assert_ne!(a.port, 0);
            continue;
        }
        assert_eq!(a.port, 0, "media is rejected");
        assert!(!group.mids.iter().any(|m| Some(m.as_str()) == a.mid()));
        // Chromium checks rtcp-mux and aiortc reads ICE credentials on rejected m-lines too.
        assert!(a.rtcp_mux());
        assert!(parsed.ice_credentials(a).is_some());
    }
    pc.set_local_description(answer).expect("sld");
}

#[test]
fn create_answer_in_stable_is_an_invalid_state_error() {
    let mut pc = pc(4);
    let err = pc.create_answer().unwrap_err();
    assert!(matches!(
        err,
        Error::PeerConnection(PeerConnectionError::InvalidState {
            state: SignalingState::Stable,
            ..
        })
    ));
}

#[test]
fn remote_answer_without_local_offer_is_an_invalid_state_error() {
    let mut pc = pc(5);
    let err = pc
        .set_remote_description(RtcSessionDescription::answer(CHROMIUM_ANSWER))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::PeerConnection(PeerConnectionError::InvalidState { .. })
    ));
}

#[test]
fn invalid_sdp_reports_its_line() {
    let mut pc = pc(6);
    let bad = CHROMIUM_OFFER.replace(
        "m=application 35119 UDP/DTLS/SCTP",
        "m=application port UDP/DTLS/SCTP",
    );
    let err = pc
        .set_remote_description(RtcSessionDescription::offer(bad))
        .unwrap_err();
    match err {
        Error::Sdp(e) => assert_eq!(e.line, 8),
        other => panic!("expected an SDP error, got {other}"),
    }
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
}

#[test]
fn offer_without_fingerprint_is_refused() {
    let mut pc = pc(7);
    let text: String = CHROMIUM_OFFER
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let err = pc
        .set_remote_description(RtcSessionDescription::offer(text))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::PeerConnection(PeerConnectionError::InvalidDescription(_))
    ));
}

#[test]
fn rollback_of_local_offer_returns_to_stable() {
    let mut pc = pc(8);
    let o = pc.create_offer().expect("offer");
    pc.set_local_description(o).expect("sld");
    pc.set_local_description(RtcSessionDescription::rollback())
        .expect("rollback");
    assert_eq!(pc.signaling_state(), SignalingState::Stable);
    assert!(pc.local_description().is_none());
}

#[test]
fn restart_ice_changes_credentials_in_the_next_offer() {
    let mut pc = pc(9);
    pc.create_data_channel("x", DataChannelInit::default())
        .expect("dc");
    let first = SessionDescription::parse(&pc.create_offer().expect("offer").sdp).expect("parse");
    pc.restart_ice();
    let second = SessionDescription::parse(&pc.create_offer().expect("offer").sdp).expect("parse");
    let creds = |s: &SessionDescription| {
        s.ice_credentials(&s.media[0])
            .map(|(u, p)| (u.to_string(), p.to_string()))
    };
    assert_ne!(creds(&first), creds(&second));
}

#[test]
fn same_seed_gives_the_same_offer() {
    let offer = |seed| {
        let mut pc = pc(seed);
        pc.create_data_channel("x", DataChannelInit::default())
            .expect("dc");
        pc.create_offer().expect("offer").sdp
    };
    assert_eq!(offer(10), offer(10));
    assert_ne!(offer(10), offer(11));
}

#[test]
fn calls_after_close_fail() {
    let mut pc = pc(12);
    pc.close();
    assert_eq!(pc.signaling_state(), SignalingState::Closed);
    assert!(pc.create_offer().is_err());
    assert!(
        pc.create_data_channel("x", DataChannelInit::default())
            .is_err()
    );
}

fn pc_with(seed: u64, codecs: rtcpeer::media::codec::MediaCodecs) -> PeerConnection {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut config = RtcConfiguration::with_seed(seed);
    config.codecs = codecs;
    PeerConnection::new(config, now).expect("pc")
}

/// Offers video from `offerer`, answers with a default `rtcpeer`; both SDPs.
fn video_offer_answer(mut offerer: PeerConnection) -> (String, String) {
    let track = rtcpeer::media::TrackInfo::new(MediaKind::Video, "cam", "s");
    offerer.add_track(track).expect("track");
    let offer = offerer.create_offer().expect("offer");
    offerer.set_local_description(offer.clone()).expect("sld");
    let mut answerer = pc(41);
    answerer.set_remote_description(offer.clone()).expect("srd");
    let answer = answerer.create_answer().expect("answer");
    answerer.set_local_description(answer.clone()).expect("sld");
    offerer.set_remote_description(answer.clone()).expect("srd");
    (offer.sdp, answer.sdp)
}

const TWCC_URI: &str = "draft-holmer-rmcat-transport-wide-cc-extensions-01";

#[test]
fn rfc_8888_feedback_is_not_offered_by_default() {
    let (offer, answer) = video_offer_answer(pc(40));
    assert!(!offer.contains("ccfb") && !answer.contains("ccfb"));
    assert!(answer.contains(TWCC_URI));
}

#[test]
fn transport_cc_stays_preferred_when_both_are_offered() {
    let codecs = rtcpeer::media::codec::MediaCodecs::default().with_ccfb();
    let (offer, answer) = video_offer_answer(pc_with(42, codecs));
    assert!(offer.contains("a=rtcp-fb:96 ack ccfb"), "{offer}");
    assert!(offer.contains(TWCC_URI));
    assert!(answer.contains(TWCC_URI), "{answer}");
    assert!(!answer.contains("ccfb"), "{answer}");
}

#[test]
fn rfc_8888_feedback_is_answered_when_offered_without_transport_cc() {
    let codecs = rtcpeer::media::codec::MediaCodecs::default()
        .with_ccfb()
        .without_extension(rtcpeer::media::codec::uri::TRANSPORT_CC);
    let (offer, answer) = video_offer_answer(pc_with(43, codecs));
    assert!(!offer.contains(TWCC_URI));
    assert!(answer.contains("a=rtcp-fb:96 ack ccfb"), "{answer}");
    assert!(
        answer.contains("a=rtcp-fb:45 ack ccfb"),
        "AV1 too: {answer}"
    );
    assert!(!answer.contains(TWCC_URI));
}
