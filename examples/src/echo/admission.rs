//! What the echo server checks in a client's SDP before it spends a session on it: that it
//! is the kind of description the route expects (an offer is not an answer), and that an
//! offer has something to echo. The peer connection checks everything else.
//!
//! An offer and an answer look alike; `a=setup` tells them apart (RFC 8842 section 5.2
//! and RFC 8829 section 5.2.1: an offer says `actpass`, an answer `active` or `passive`).

use super::backend::BackendError;
use rtcpeer::sdp::{MediaKind, SessionDescription, Setup};

fn parse(text: &str) -> Result<SessionDescription, BackendError> {
    SessionDescription::parse(text).map_err(|e| BackendError::BadSdp(e.to_string()))
}

/// The `a=setup` values of every m-line (or the session's, for m-lines without one).
fn setups(sdp: &SessionDescription) -> Vec<Setup> {
    sdp.media.iter().filter_map(|m| sdp.setup_for(m)).collect()
}

/// Refuses what cannot be an offer worth a session: text that does not parse, an answer
/// (`a=setup:active` or `passive`), and an offer with nothing to echo: no data channel
/// section, and no audio or video section either (or media declined by `--media decline`).
pub fn check_offer(text: &str) -> Result<(), BackendError> {
    let sdp = parse(text)?;
    let setups = setups(&sdp);
    if !setups.is_empty() && !setups.contains(&Setup::ActPass) {
        return Err(BackendError::BadSdp(
            "this is an answer (a=setup is not actpass), not an offer: \
             PUT it to /sessions/{id}/answer"
                .into(),
        ));
    }
    let data = sdp.media.iter().any(|m| m.sctp_port().is_some());
    let echoed_media = super::media::policy() == super::media::MediaPolicy::Echo
        && sdp
            .media
            .iter()
            .any(|m| !m.is_port_zero() && matches!(m.kind, MediaKind::Audio | MediaKind::Video));
    if !data && !echoed_media {
        return Err(BackendError::BadSdp(
            "the offer has no data channel section (m=application ... webrtc-datachannel \
             with a=sctp-port) and no audio or video to echo"
                .into(),
        ));
    }
    Ok(())
}

/// Refuses what cannot be an answer: text that does not parse, and an offer
/// (`a=setup:actpass`).
pub fn check_answer(text: &str) -> Result<(), BackendError> {
    let sdp = parse(text)?;
    if setups(&sdp).contains(&Setup::ActPass) {
        return Err(BackendError::BadSdp(
            "this is an offer (a=setup:actpass), not an answer: POST it to /offer".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(setup: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
             m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
             a=setup:{setup}\r\na=mid:0\r\na=sctp-port:5000\r\n"
        )
    }

    #[test]
    fn an_offer_passes_as_offer_and_is_refused_as_answer() {
        check_offer(&data("actpass")).expect("offer");
        let refused = check_answer(&data("actpass")).expect_err("not an answer");
        assert!(
            refused.to_string().contains("this is an offer"),
            "{refused}"
        );
    }

    #[test]
    fn an_answer_passes_as_answer_and_is_refused_as_offer() {
        for setup in ["active", "passive"] {
            check_answer(&data(setup)).expect("answer");
            let refused = check_offer(&data(setup)).expect_err("not an offer");
            assert!(
                refused.to_string().contains("this is an answer"),
                "{refused}"
            );
        }
    }

    #[test]
    fn an_offer_with_nothing_to_echo_is_refused() {
        let nothing = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
             m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
             a=setup:actpass\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
        let refused = check_offer(nothing).expect_err("nothing to echo");
        assert!(refused.to_string().contains("no data channel"), "{refused}");
    }

    #[test]
    fn an_audio_only_offer_is_worth_a_session_while_media_is_echoed() {
        let audio_only = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
             a=setup:actpass\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
        check_offer(audio_only).expect("audio is echoed by default");
    }

    #[test]
    fn unparsable_text_is_bad_sdp_with_its_line() {
        let refused = check_offer("v=0\r\nhello\r\n").expect_err("garbage");
        assert!(
            matches!(&refused, BackendError::BadSdp(m) if m.contains("line 2")),
            "{refused}"
        );
    }
}
