//! Unit tests: hostile SDP never panics; JSON shape of descriptions.

use super::*;
use proptest::prelude::*;

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
