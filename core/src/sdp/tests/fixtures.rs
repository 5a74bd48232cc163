//! Real and documented SDPs parse, print back identically and read correctly.

use super::{FIXTURES, crlf, fixture};
use crate::sdp::{Attribute, Direction, MediaKind, SessionDescription, Setup};

#[test]
fn every_fixture_prints_back_to_identical_text() {
    for (name, text) in FIXTURES {
        let sdp = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sdp.to_string(), crlf(text), "{name}");
    }
}

#[test]
fn every_fixture_parses_the_same_with_lf_line_endings() {
    for (name, text) in FIXTURES {
        let lf = text.replace("\r\n", "\n");
        assert_eq!(
            SessionDescription::parse(&lf),
            SessionDescription::parse(text),
            "{name}"
        );
    }
}

#[test]
fn every_fixture_parses_the_same_with_blank_lines_around_every_line() {
    for (name, text) in FIXTURES {
        let mut padded = String::from("\r\n");
        for line in text.split_terminator("\r\n") {
            padded.push_str(line);
            padded.push_str("\r\n \t\r\n\n");
        }
        let strict = SessionDescription::parse(text).expect("fixtures parse");
        assert_eq!(
            SessionDescription::parse(&padded),
            Ok(strict.clone()),
            "{name}"
        );
        assert_eq!(
            strict.to_string(),
            *text,
            "{name}: printing stays canonical"
        );
    }
}

#[test]
fn errors_after_blank_lines_name_the_line_as_it_stands_in_the_text() {
    let text = "v=0\n\no=- 1 1 IN IP4 127.0.0.1\n\ns=-\nt=0 0\nhello\n";
    let err = SessionDescription::parse(text).expect_err("line 7 is malformed");
    assert_eq!(err.line, 7);
}

#[test]
fn every_fixture_passes_check() {
    for (name, _) in FIXTURES {
        fixture(name)
            .check()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn chromium_offer_has_bundle_of_three_mids() {
    let sdp = fixture("chromium-offer.sdp");
    let mids: Vec<_> = sdp.media.iter().map(|m| m.mid().expect("mid")).collect();
    assert_eq!(mids, ["0", "1", "2"]);
    let bundles: Vec<_> = sdp.bundle_groups().collect();
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].mids, ["0", "1", "2"]);
    assert!(sdp.extmap_allow_mixed());
    let kinds: Vec<_> = sdp.media.iter().map(|m| m.kind.clone()).collect();
    assert_eq!(
        kinds,
        [MediaKind::Audio, MediaKind::Video, MediaKind::Application]
    );
}

#[test]
fn chromium_offer_transport_attributes_read_correctly() {
    let sdp = fixture("chromium-offer.sdp");
    for m in &sdp.media {
        assert_eq!(m.ice_ufrag(), Some("mh78"));
        assert_eq!(m.ice_pwd(), Some("kfhMbVeri1ho6DGl4Epks/hQ"));
        assert!(m.ice_options().expect("ice-options").has("trickle"));
        assert_eq!(m.setup(), Some(Setup::ActPass));
        let fp: Vec<_> = m.fingerprints().collect();
        assert_eq!(fp.len(), 1);
        assert_eq!(fp[0].hash, "sha-256");
        assert_eq!(fp[0].bytes.len(), 32);
        assert_eq!(fp[0].bytes[..3], [0xB7, 0x79, 0xAD]);
        assert_eq!(fp[0].bytes[31], 0x26);
        assert_eq!(m.candidates().count(), 2);
    }
    assert_eq!(sdp.origin.session_version, 2);
    assert_eq!(sdp.msid_semantic().expect("msid-semantic").semantic, "WMS");
}

#[test]
fn chromium_offer_audio_codecs_read_correctly() {
    let sdp = fixture("chromium-offer.sdp");
    let audio = &sdp.media[0];
    assert!(audio.rtcp_mux() && audio.rtcp_rsize());
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    let codecs = audio.codecs();
    let names: Vec<_> = codecs.iter().map(|c| c.name().expect("rtpmap")).collect();
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
    let opus = &codecs[0];
    assert_eq!(opus.payload_type, 111);
    let rtpmap = opus.rtpmap.expect("opus rtpmap");
    assert_eq!((rtpmap.clock_rate, rtpmap.channels), (48000, Some(2)));
    assert_eq!(
        opus.fmtp.expect("opus fmtp").parameter("useinbandfec"),
        Some("1")
    );
    assert_eq!(opus.feedback.len(), 1);
    assert_eq!(opus.feedback[0].feedback, "transport-cc");
    let ssrcs: Vec<_> = audio.ssrcs().map(|s| s.attribute.as_str()).collect();
    assert_eq!(ssrcs, ["cname", "msid"]);
    assert_eq!(audio.msids().count(), 1);
}

#[test]
fn chromium_offer_video_codecs_read_correctly() {
    let sdp = fixture("chromium-offer.sdp");
    let video = &sdp.media[1];
    let codecs = video.codecs();
    assert_eq!(codecs.len(), 23);
    let vp8 = &codecs[0];
    assert_eq!((vp8.payload_type, vp8.name()), (96, Some("VP8")));
    assert_eq!(vp8.rtpmap.expect("rtpmap").clock_rate, 90000);
    let fb: Vec<_> = vp8.feedback.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        fb,
        [
            "96 goog-remb",
            "96 transport-cc",
            "96 ccm fir",
            "96 nack",
            "96 nack pli"
        ]
    );
    let rtx = &codecs[1];
    assert_eq!(rtx.name(), Some("rtx"));
    assert_eq!(rtx.fmtp.expect("rtx fmtp").parameter("apt"), Some("96"));
    assert!(codecs.iter().any(|c| c.name() == Some("AV1")));
    assert!(codecs.iter().any(|c| c.name() == Some("H264")));
    let groups: Vec<_> = video.ssrc_groups().collect();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].semantics, "FID");
    assert_eq!(groups[0].ssrcs.len(), 2);
    assert!(
        video
            .extmaps()
            .any(|e| e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid" && e.id == 4)
    );
}

#[test]
fn chromium_offer_data_section_reads_sctp_parameters() {
    let sdp = fixture("chromium-offer.sdp");
    let data = &sdp.media[2];
    assert_eq!(data.proto, "UDP/DTLS/SCTP");
    assert_eq!(data.formats, ["webrtc-datachannel"]);
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(262144));
    let candidate = data.candidates().next().expect("candidate");
    assert_eq!(candidate.address(), "127.0.0.1");
    assert_eq!(candidate.port(), data.port);
    assert_eq!(candidate.typ(), "host");
    assert_eq!(candidate.extension("generation"), Some("0"));
}

#[test]
fn chromium_answer_takes_active_role_and_receives_only() {
    let sdp = fixture("chromium-answer.sdp");
    for m in &sdp.media {
        assert_eq!(m.setup(), Some(Setup::Active));
    }
    assert_eq!(sdp.media[0].direction(), Some(Direction::RecvOnly));
    assert_eq!(sdp.media[1].direction(), Some(Direction::RecvOnly));
    assert_eq!(sdp.media[0].msids().count(), 0);
    assert_eq!(
        sdp.bundle_groups().next().expect("bundle").mids,
        ["0", "1", "2"]
    );
    assert_eq!(sdp.media[2].sctp_port(), Some(5000));
    // Bundled answer: only the first section carries the transport's candidate.
    let candidates: Vec<_> = sdp.media.iter().map(|m| m.candidates().count()).collect();
    assert_eq!(candidates, [1, 0, 0]);
    assert_eq!((sdp.media[1].port, sdp.media[2].port), (9, 9));
}

#[test]
fn chromium_datachannel_offer_has_one_application_section() {
    let sdp = fixture("chromium-datachannel-offer.sdp");
    assert_eq!(sdp.media.len(), 1);
    let m = &sdp.media[0];
    assert_eq!(m.kind, MediaKind::Application);
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(m.candidates().count(), 2);
    assert_eq!(m.ice_ufrag(), Some("D6QA"));
    assert_eq!(m.max_message_size(), Some(262144));
    let ids: Vec<&str> = sdp
        .msid_semantic()
        .expect("msid-semantic")
        .ids
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert!(ids.is_empty());
}

#[test]
fn firefox_offer_reads_session_level_fingerprint_and_extmap_directions() {
    let sdp = fixture("firefox-offer.sdp");
    assert!(sdp.origin.username.ends_with("THIS_IS_SDPARTA-128.0"));
    assert_eq!(sdp.fingerprints().count(), 1);
    assert_eq!(sdp.media[0].fingerprints().count(), 0);
    assert!(sdp.ice_options().expect("ice-options").has("trickle"));
    let ms = sdp.msid_semantic().expect("msid-semantic");
    assert!(!ms.leading_space);
    assert_eq!(ms.ids, ["*"]);
    let ext = sdp.media[0]
        .extmaps()
        .find(|e| e.id == 2)
        .expect("extmap 2");
    assert_eq!(ext.direction, Some(Direction::RecvOnly));
    assert!(sdp.media[0].end_of_candidates());
    assert_eq!(
        sdp.media[0]
            .candidates()
            .next()
            .expect("candidate")
            .transport(),
        "UDP"
    );
}

#[test]
fn firefox_offer_reads_ssrc_cname_and_data_channel_limits() {
    let sdp = fixture("firefox-offer.sdp");
    let video = &sdp.media[1];
    assert!(video.is_port_zero());
    assert_eq!(
        video.other_attributes("bundle-only").collect::<Vec<_>>(),
        [None]
    );
    assert!(
        video
            .ssrcs()
            .all(|s| s.attribute == "cname" && s.value.is_some())
    );
    assert_eq!(video.ssrc_groups().next().expect("FID").ssrcs.len(), 2);
    let data = &sdp.media[2];
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(1_073_741_823));
    assert_eq!(data.direction(), Some(Direction::SendRecv));
}

#[test]
fn safari_offer_reads_rids_and_simulcast() {
    use crate::sdp::RidDirection;
    let sdp = fixture("safari-offer.sdp");
    let video = &sdp.media[1];
    let rids: Vec<_> = video.rids().map(|r| (r.id.as_str(), r.direction)).collect();
    assert_eq!(
        rids,
        [
            ("h", RidDirection::Send),
            ("m", RidDirection::Send),
            ("l", RidDirection::Send)
        ]
    );
    let send = video
        .simulcast()
        .expect("simulcast")
        .streams(RidDirection::Send)
        .expect("send");
    let ids: Vec<_> = send.iter().map(|alts| alts[0].id.as_str()).collect();
    assert_eq!(ids, ["h", "m", "l"]);
    assert!(
        video
            .candidates()
            .next()
            .expect("candidate")
            .address()
            .ends_with(".local")
    );
    assert_eq!(video.direction(), Some(Direction::SendOnly));
}

#[test]
fn rfc8866_fixture_reads_every_line_type() {
    let sdp = fixture("rfc8866-all-lines.sdp");
    assert_eq!(sdp.origin.username, "jdoe");
    assert_eq!(sdp.emails.len(), 2);
    assert_eq!(sdp.phones, ["+1 617 555-6011"]);
    assert_eq!(sdp.times.len(), 2);
    assert_eq!(sdp.times[0].repeats[0].interval.seconds(), 7 * 86_400);
    assert_eq!(sdp.time_zones.len(), 2);
    assert!(sdp.time_zones[0].negative);
    assert_eq!(sdp.key.as_deref(), Some("prompt"));
    assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
    let video = &sdp.media[2];
    assert_eq!((video.port, video.port_count), (51372, Some(2)));
    assert_eq!(video.connections.len(), 2);
    assert_eq!(video.bandwidths[1].bwtype, "TIAS");
    let others: Vec<_> = video
        .attributes
        .iter()
        .filter(|a| matches!(a, Attribute::Other { .. }))
        .collect();
    assert_eq!(others.len(), 3);
    assert_eq!(
        video.other_attributes("x-empty").collect::<Vec<_>>(),
        [Some("")]
    );
}

#[test]
fn unknown_attributes_keep_their_place_among_typed_ones() {
    let sdp = fixture("chromium-offer.sdp");
    let names: Vec<_> = sdp.media[0]
        .attributes
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    let xr = names
        .iter()
        .position(|n| n == "rtcp-xr")
        .expect("rtcp-xr kept");
    assert_eq!(names[xr - 1], "rtcp-rsize");
    assert_eq!(names[xr + 1], "rtpmap");
}

#[test]
fn firefox_sections_inherit_session_level_fingerprint() {
    let sdp = fixture("firefox-offer.sdp");
    for m in &sdp.media {
        let fps = sdp.fingerprints_for(m);
        assert_eq!(fps.len(), 1);
        assert_eq!(fps[0].bytes.len(), 32);
        assert_eq!(sdp.setup_for(m), Some(Setup::ActPass));
        let (ufrag, pwd) = sdp.ice_credentials(m).expect("credentials");
        assert_eq!((ufrag.len(), pwd.len()), (8, 32));
    }
}

#[test]
fn chromium_sections_use_their_own_credentials() {
    let sdp = fixture("chromium-answer.sdp");
    let m = &sdp.media[1];
    assert_eq!(
        sdp.ice_credentials(m),
        Some(("BwE1", "PUkR7Cx7I3Gf/EkJVElsAyhJ"))
    );
    assert_eq!(sdp.fingerprints_for(m)[0].bytes[0], 0x1D);
}
