//! Building descriptions the way JSEP will: builders, then print and parse back.

use crate::sdp::{
    Attribute, ConnectionAddress, Direction, Fingerprint, Group, MediaDescription, MediaKind,
    Origin, SessionDescription, Setup,
};

fn data_offer() -> SessionDescription {
    let data = MediaDescription::new(
        MediaKind::Application,
        9,
        MediaDescription::PROTO_SCTP,
        [MediaDescription::FORMAT_DATACHANNEL],
    )
    .with_connection(ConnectionAddress::ip4("0.0.0.0"))
    .with_attribute(Attribute::IceUfrag("abcd".into()))
    .with_attribute(Attribute::IcePwd("abcdefghijklmnopqrstuv".into()))
    .with_attribute(Attribute::Fingerprint(Fingerprint::sha256([7; 32])))
    .with_attribute(Attribute::Setup(Setup::ActPass))
    .with_attribute(Attribute::Mid("0".into()))
    .with_attribute(Attribute::SctpPort(5000))
    .with_attribute(Attribute::MaxMessageSize(262144));
    SessionDescription::new(Origin::jsep(42, 1))
        .with_attribute(Attribute::Group(Group::bundle(["0"])))
        .with_media(data)
}

#[test]
fn built_description_prints_expected_text() {
    let text = data_offer().to_string();
    assert!(
        text.starts_with(
            "v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        )
    );
    assert!(
        text.contains(
            "\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        )
    );
    assert!(text.ends_with("a=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"));
}

#[test]
fn built_description_parses_back_to_itself() {
    let sdp = data_offer();
    assert_eq!(SessionDescription::parse(&sdp.to_string()), Ok(sdp.clone()));
    assert_eq!(sdp.check(), Ok(()));
}

#[test]
fn check_rejects_a_value_with_a_line_break() {
    let mut sdp = data_offer();
    sdp.session_name = "two\r\nlines".into();
    assert!(sdp.check().is_err());
}

#[test]
fn set_direction_replaces_the_existing_one() {
    let mut m = MediaDescription::new(MediaKind::Audio, 9, MediaDescription::PROTO_RTP, ["111"])
        .with_attribute(Attribute::Direction(Direction::SendRecv))
        .with_attribute(Attribute::Mid("a".into()))
        .with_attribute(Attribute::Direction(Direction::Inactive));
    m.set_direction(Direction::RecvOnly);
    assert_eq!(m.direction(), Some(Direction::RecvOnly));
    let directions = m
        .attributes
        .iter()
        .filter(|a| matches!(a, Attribute::Direction(_)))
        .count();
    assert_eq!(directions, 1);
    assert_eq!(m.attributes[0], Attribute::Direction(Direction::RecvOnly));
}

#[test]
fn media_by_mid_finds_the_section() {
    let mut sdp = data_offer();
    assert_eq!(sdp.media_by_mid("0").map(|m| m.port), Some(9));
    assert!(sdp.media_by_mid("1").is_none());
    sdp.media_by_mid_mut("0").expect("section").port = 0;
    assert!(sdp.media[0].is_port_zero());
}
