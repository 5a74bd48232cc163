//! Unit tests: hostile SDP never panics; JSON shape of descriptions.

use super::*;
use proptest::prelude::*;
use std::time::Duration;

const OFFER: &str = include_str!("../sdp/fixtures/chromium-datachannel-offer.sdp");

fn pc() -> PeerConnection {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    PeerConnection::new(RtcConfiguration::with_seed(1), now).expect("pc")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_text_as_remote_offer_never_panics(text in "\\PC{0,400}") {
        let mut pc = pc();
        let _ = pc.set_remote_description(RtcSessionDescription::offer(text));
    }

    #[test]
    fn mutated_chromium_offer_never_panics(at in 0usize..OFFER.len(), len in 0usize..40, junk in "[ -~\r\n]{0,20}") {
        let mut text = OFFER.as_bytes().to_vec();
        let end = (at + len).min(text.len());
        text.splice(at..end, junk.bytes());
        let text = String::from_utf8_lossy(&text).into_owned();
        let mut pc = pc();
        if pc.set_remote_description(RtcSessionDescription::offer(text)).is_ok() {
            let _ = pc.create_answer().map(|a| pc.set_local_description(a));
        }
    }
}

#[cfg(feature = "serde")]
#[test]
fn descriptions_serialize_as_browser_json() {
    let d = RtcSessionDescription::offer("v=0\r\n");
    let json = serde_json::to_string(&d).expect("json");
    assert_eq!(json, r#"{"type":"offer","sdp":"v=0\r\n"}"#);
    let back: RtcSessionDescription = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, d);
    let c: IceCandidate = serde_json::from_str(
        r#"{"candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}"#,
    )
    .expect("candidate json");
    assert_eq!(c.sdp_mline_index, Some(0));
    assert_eq!(c.sdp_mid.as_deref(), Some("0"));
}

#[test]
fn ice_server_urls_parse_with_default_ports() {
    let u = IceServerUrl::parse("stun:stun.example.org").expect("stun");
    assert_eq!(
        (u.scheme.as_str(), u.host.as_str(), u.port),
        ("stun", "stun.example.org", 3478)
    );
    let u = IceServerUrl::parse("turns:[2001:db8::1]:443?transport=tcp").expect("turns");
    assert_eq!(
        (u.host.as_str(), u.port, u.transport.as_deref()),
        ("2001:db8::1", 443, Some("tcp"))
    );
    assert!(IceServerUrl::parse("http://x").is_err());
    assert!(IceServerUrl::parse("stun:x?transport=udp").is_err());
    use crate::turn::TurnTransport;
    let t = |url: &str| {
        let u = IceServerUrl::parse(url).expect(url);
        (u.port, u.turn_transport())
    };
    assert_eq!(t("turn:h"), (3478, Some(TurnTransport::Udp)));
    assert_eq!(t("turn:h?transport=udp"), (3478, Some(TurnTransport::Udp)));
    assert_eq!(t("turn:h?transport=tcp"), (3478, Some(TurnTransport::Tcp)));
    assert_eq!(t("turns:h"), (5349, Some(TurnTransport::Tls)));
    assert_eq!(
        t("turns:h:443?transport=tcp"),
        (443, Some(TurnTransport::Tls))
    );
    assert_eq!(t("turns:h?transport=udp"), (5349, None));
    assert_eq!(t("stun:h"), (3478, None));
}

#[test]
fn turn_without_credentials_is_a_config_error() {
    let config = RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec!["turn:turn.example.org".into()],
            ..IceServer::default()
        }],
        ..RtcConfiguration::with_seed(1)
    };
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    assert!(PeerConnection::new(config, now).is_err());
}

#[test]
fn rtp_datagrams_are_dropped_and_counted() {
    let mut pc = pc();
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let src = "10.0.0.2:5000".parse().expect("addr");
    let dst = "10.0.0.1:5000".parse().expect("addr");
    pc.handle_input(
        now,
        Input::Receive {
            source: src,
            destination: dst,
            payload: &[0x80, 0, 0, 1],
        },
    );
    pc.handle_input(
        now,
        Input::Receive {
            source: src,
            destination: dst,
            payload: &[200],
        },
    );
    pc.handle_input(
        now,
        Input::Receive {
            source: src,
            destination: dst,
            payload: &[],
        },
    );
    let s = pc.stats();
    assert_eq!((s.dropped_media, s.dropped_unknown), (1, 2));
}

#[test]
fn endpoint_drops_and_counts_unroutable_datagrams() {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut ep = crate::endpoint::Endpoint::new(crate::Seed::from_u64(1));
    ep.add_local_socket(now, "10.0.0.1:5000".parse().expect("addr"))
        .expect("socket");
    ep.add_peer_connection(RtcConfiguration::default(), now)
        .expect("pc");
    ep.handle_receive(
        now,
        "10.0.0.9:1".parse().expect("a"),
        "10.0.0.1:5000".parse().expect("a"),
        &[22, 254, 253],
    );
    assert_eq!(ep.stats().dropped_unroutable, 1);
}

/// The pacing a fresh connection agrees on after `offer` (whose session attributes were
/// rewritten by `edit`) as its remote description.
fn pacing_after_offer(config: RtcConfiguration, edit: impl Fn(&str) -> String) -> Duration {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut pc = PeerConnection::new(config, now).expect("pc");
    pc.set_remote_description(RtcSessionDescription::offer(edit(OFFER)))
        .expect("offer");
    pc.ice.pacing()
}

fn with_session_attribute(sdp: &str, line: &str) -> String {
    sdp.replacen("a=group:", &format!("{line}\r\na=group:"), 1)
}

#[test]
fn our_descriptions_propose_five_ms_check_pacing() {
    let mut pc = pc();
    pc.create_data_channel("x", Default::default()).expect("dc");
    let offer = pc.create_offer().expect("offer");
    assert!(
        offer.sdp.contains("\r\na=ice-pacing:5\r\n"),
        "{}",
        offer.sdp
    );
}

#[test]
fn a_peer_without_ice_pacing_is_paced_at_the_default_50_ms() {
    assert!(!OFFER.contains("ice-pacing"));
    let agreed = pacing_after_offer(RtcConfiguration::with_seed(1), str::to_owned);
    assert_eq!(agreed, DEFAULT_ICE_PACING);
}

#[test]
fn the_larger_of_both_proposals_paces_the_checks() {
    let theirs_5 = |s: &str| with_session_attribute(s, "a=ice-pacing:5");
    assert_eq!(
        pacing_after_offer(RtcConfiguration::with_seed(1), theirs_5),
        MIN_ICE_PACING
    );
    let theirs_20 = |s: &str| with_session_attribute(s, "a=ice-pacing:20");
    assert_eq!(
        pacing_after_offer(RtcConfiguration::with_seed(1), theirs_20),
        Duration::from_millis(20)
    );
    let mut ours_30 = RtcConfiguration::with_seed(1);
    ours_30.ice_timing.ta = Duration::from_millis(30);
    assert_eq!(
        pacing_after_offer(ours_30, theirs_20),
        Duration::from_millis(30)
    );
    let theirs_1 = |s: &str| with_session_attribute(s, "a=ice-pacing:1");
    assert_eq!(
        pacing_after_offer(RtcConfiguration::with_seed(1), theirs_1),
        MIN_ICE_PACING,
        "a peer cannot push pacing below RFC 8445's 5 ms"
    );
}

#[test]
fn proposing_pacing_below_five_ms_is_a_config_error() {
    let mut config = RtcConfiguration::with_seed(1);
    config.ice_timing.ta = Duration::from_millis(1);
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    assert!(PeerConnection::new(config, now).is_err());
}

/// Drains `pc` until it asks for a timeout; returns how many events came out.
fn drain(pc: &mut PeerConnection) -> usize {
    let mut events = 0;
    loop {
        match pc.poll_output() {
            Output::Transmit(_) => {}
            Output::Event(_) => events += 1,
            Output::Timeout(_) => return events,
        }
    }
}

#[test]
fn drain_after_a_timeout_frees_the_queues_that_gathering_grew() {
    let mut pc = pc();
    let now = pc.now;
    pc.add_local_socket(now, "10.0.0.1:5000".parse().expect("addr"))
        .expect("socket");
    pc.create_data_channel("x", DataChannelInit::default())
        .expect("channel");
    let offer = pc.create_offer().expect("offer");
    pc.set_local_description(offer).expect("local offer");
    assert!(drain(&mut pc) > 0);
    assert!(pc.events.capacity() > 0, "gathering queued events");
    pc.handle_timeout(now + Duration::from_millis(1));
    drain(&mut pc);
    assert_eq!(pc.events.capacity(), 0);
    assert_eq!(pc.transmits.capacity(), 0);
}

#[test]
fn queued_output_survives_the_release_of_queue_buffers() {
    let mut pc = pc();
    let now = pc.now;
    pc.add_local_socket(now, "10.0.0.1:5000".parse().expect("addr"))
        .expect("socket");
    pc.handle_timeout(now + Duration::from_millis(1));
    pc.create_data_channel("x", DataChannelInit::default())
        .expect("channel");
    // negotiationneeded is queued and must come out although a release is pending.
    assert_eq!(pc.poll_output(), Output::Event(Event::NegotiationNeeded));
}
