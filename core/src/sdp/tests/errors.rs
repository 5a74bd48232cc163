//! Invalid SDPs: each gives an error naming the right line and reason.

use crate::sdp::{SdpError, SdpErrorKind as K, SdpLimits, SessionDescription};

const HEAD: &str = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nt=0 0\n";

fn err(text: &str) -> SdpError {
    SessionDescription::parse(text).expect_err("invalid SDP must not parse")
}

fn invalid_attr(name: &str, expected: &'static str) -> K {
    K::InvalidAttribute {
        name: name.into(),
        expected,
    }
}

/// (description, SDP, expected line, expected kind)
fn table() -> Vec<(&'static str, String, usize, K)> {
    let h = HEAD;
    let m = "m=audio 9 UDP/TLS/RTP/SAVPF 111\n";
    vec![
        (
            "empty input",
            String::new(),
            1,
            K::MissingLine { expected: 'v' },
        ),
        (
            "no origin",
            "v=0\ns=-\nt=0 0\n".into(),
            2,
            K::MissingLine { expected: 'o' },
        ),
        (
            "no timing",
            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n".into(),
            4,
            K::MissingLine { expected: 't' },
        ),
        (
            "no timing before media",
            format!("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\n{m}"),
            4,
            K::MissingLine { expected: 't' },
        ),
        ("version 1", "v=1\n".into(), 1, K::UnsupportedVersion),
        ("not type=value", format!("{h}hello\n"), 5, K::MalformedLine),
        (
            "space before =",
            format!("{h}a =mid:0\n"),
            5,
            K::MalformedLine,
        ),
        (
            "upper-case type",
            format!("{h}A=mid:0\n"),
            5,
            K::MalformedLine,
        ),
        (
            "unknown type",
            format!("{h}x=1\n"),
            5,
            K::UnknownLineType('x'),
        ),
        (
            "NUL in line",
            format!("{h}a=tool:a\0b\n"),
            5,
            K::ControlCharacter,
        ),
        (
            "stray CR",
            format!("{h}a=tool:a\rb\n"),
            5,
            K::ControlCharacter,
        ),
        (
            "s before o",
            "v=0\ns=-\no=- 1 1 IN IP4 0.0.0.0\n".into(),
            2,
            K::MissingLine { expected: 'o' },
        ),
        (
            "second v",
            format!("{h}v=0\n"),
            5,
            K::UnexpectedLine {
                found: 'v',
                section: "session",
            },
        ),
        (
            "c after t",
            format!("{h}c=IN IP4 0.0.0.0\n"),
            5,
            K::UnexpectedLine {
                found: 'c',
                section: "session",
            },
        ),
        (
            "r without t",
            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nr=1d 1h 0\n".into(),
            4,
            K::UnexpectedLine {
                found: 'r',
                section: "session",
            },
        ),
        (
            "t in media",
            format!("{h}{m}t=0 0\n"),
            6,
            K::UnexpectedLine {
                found: 't',
                section: "media",
            },
        ),
        (
            "c after a in media",
            format!("{h}{m}a=mid:0\nc=IN IP4 0.0.0.0\n"),
            7,
            K::UnexpectedLine {
                found: 'c',
                section: "media",
            },
        ),
        (
            "bad origin",
            "v=0\no=- 1 IN IP4 0.0.0.0\n".into(),
            2,
            K::InvalidValue {
                expected: "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>",
            },
        ),
        (
            "bad m line",
            format!("{h}m=audio nine RTP/AVP 0\n"),
            5,
            K::InvalidValue {
                expected: "m=<media> <port> <proto> <fmt> ...",
            },
        ),
        (
            "m without formats",
            format!("{h}m=audio 9 RTP/AVP\n"),
            5,
            K::InvalidValue {
                expected: "m=<media> <port> <proto> <fmt> ...",
            },
        ),
        (
            "port too large",
            format!("{h}m=audio 65536 RTP/AVP 0\n"),
            5,
            K::InvalidValue {
                expected: "m=<media> <port> <proto> <fmt> ...",
            },
        ),
        (
            "bad connection",
            format!("{h}{m}c=IN IP4\n"),
            6,
            K::InvalidValue {
                expected: "c=<nettype> <addrtype> <connection-address>",
            },
        ),
        (
            "bad bandwidth",
            format!("{h}{m}b=AS\n"),
            6,
            K::InvalidValue {
                expected: "b=<bwtype>:<bandwidth>",
            },
        ),
        (
            "bad timing",
            "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0\n".into(),
            4,
            K::InvalidValue {
                expected: "t=<start-time> <stop-time>",
            },
        ),
        (
            "bad repeat",
            format!("{h}r=0 1h 0\n"),
            5,
            K::InvalidValue {
                expected: "r=<repeat interval> <active duration> <offset>...",
            },
        ),
        (
            "bad rtpmap",
            format!("{h}{m}a=rtpmap:111 opus\n"),
            6,
            invalid_attr("rtpmap", "rtpmap:<pt> <encoding>/<clock rate>[/<channels>]"),
        ),
        (
            "payload type 128",
            format!("{h}{m}a=rtpmap:128 opus/48000\n"),
            6,
            invalid_attr("rtpmap", "rtpmap:<pt> <encoding>/<clock rate>[/<channels>]"),
        ),
        (
            "ice-pacing not a number",
            format!("{h}a=ice-pacing:fast\n"),
            5,
            invalid_attr("ice-pacing", "ice-pacing:<milliseconds>"),
        ),
        (
            "short ufrag",
            format!("{h}{m}a=ice-ufrag:abc\n"),
            6,
            invalid_attr("ice-ufrag", "ice-ufrag:<4 to 256 ice-chars>"),
        ),
        (
            "short fingerprint",
            format!("{h}a=fingerprint:sha-256 AB:CD\n"),
            5,
            invalid_attr("fingerprint", "fingerprint:<hash-func> <XX:XX:...>"),
        ),
        (
            "bad setup",
            format!("{h}{m}a=setup:both\n"),
            6,
            invalid_attr("setup", "setup:<active|passive|actpass|holdconn>"),
        ),
        (
            "empty mid",
            format!("{h}{m}a=mid:\n"),
            6,
            invalid_attr("mid", "mid:<token>"),
        ),
        (
            "mid without value",
            format!("{h}{m}a=mid\n"),
            6,
            invalid_attr("mid", "mid:<token>"),
        ),
        (
            "flag with value",
            format!("{h}{m}a=rtcp-mux:yes\n"),
            6,
            invalid_attr("rtcp-mux", "rtcp-mux"),
        ),
        (
            "extmap id 0",
            format!("{h}{m}a=extmap:0 urn:x\n"),
            6,
            invalid_attr("extmap", "extmap:<id>[/<direction>] <uri> [<attributes>]"),
        ),
        (
            "bad sctp-port",
            format!("{h}{m}a=sctp-port:70000\n"),
            6,
            invalid_attr("sctp-port", "sctp-port:<port>"),
        ),
        (
            "candidate without typ",
            format!("{h}{m}a=candidate:1 1 udp 1 127.0.0.1 9 host\n"),
            6,
            invalid_attr(
                "candidate",
                "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...",
            ),
        ),
        (
            "simulcast same direction twice",
            format!("{h}{m}a=simulcast:send a send b\n"),
            6,
            invalid_attr(
                "simulcast",
                "simulcast:<send|recv> <streams> [<recv|send> <streams>]",
            ),
        ),
        (
            "mid at session level",
            format!("{h}a=mid:0\n"),
            5,
            K::MisplacedAttribute {
                name: "mid".into(),
                level: "session",
            },
        ),
        (
            "group in media",
            format!("{h}{m}a=group:BUNDLE 0\n"),
            6,
            K::MisplacedAttribute {
                name: "group".into(),
                level: "media",
            },
        ),
        (
            "candidate at session level",
            format!("{h}a=candidate:1 1 udp 1 127.0.0.1 9 typ host\n"),
            5,
            K::MisplacedAttribute {
                name: "candidate".into(),
                level: "session",
            },
        ),
        (
            "attribute name with space",
            format!("{h}a=bad name\n"),
            5,
            K::InvalidValue {
                expected: "a=<attribute>[:<value>]",
            },
        ),
    ]
}

#[test]
fn invalid_sdps_name_the_right_line_and_reason() {
    for (what, text, line, kind) in table() {
        let e = err(&text);
        assert_eq!((e.line, &e.kind), (line, &kind), "{what}: got `{e}`");
    }
}

#[test]
fn error_display_names_line_and_grammar() {
    let e = err(&format!("{HEAD}m=audio\n"));
    assert_eq!(
        e.to_string(),
        "line 5: expected `m=<media> <port> <proto> <fmt> ...`"
    );
    let e = err(&format!("{HEAD}m=audio 9 RTP/AVP 0\na=rtpmap:x\n"));
    assert_eq!(
        e.to_string(),
        "line 6: invalid `a=rtpmap`: expected `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`"
    );
}

#[test]
fn oversized_input_is_rejected_before_parsing() {
    let limits = SdpLimits {
        max_bytes: 20,
        ..SdpLimits::default()
    };
    let e = SessionDescription::parse_with_limits(HEAD, &limits).expect_err("too large");
    assert_eq!(e.kind, K::TooLarge { limit: 20 });
    assert_eq!(e.line, 2);
}

#[test]
fn too_many_lines_are_rejected_at_the_first_line_over() {
    let limits = SdpLimits {
        max_lines: 5,
        ..SdpLimits::default()
    };
    let text = format!("{HEAD}a=ice-lite\na=ice-lite\n");
    let e = SessionDescription::parse_with_limits(&text, &limits).expect_err("too many lines");
    assert_eq!((e.line, e.kind), (6, K::TooManyLines { limit: 5 }));
}

#[test]
fn too_many_media_sections_are_rejected_at_the_first_one_over() {
    let limits = SdpLimits {
        max_media: 2,
        ..SdpLimits::default()
    };
    let text = format!("{HEAD}{}", "m=audio 9 RTP/AVP 0\n".repeat(3));
    let e = SessionDescription::parse_with_limits(&text, &limits).expect_err("too many media");
    assert_eq!((e.line, e.kind), (7, K::TooManyMedia { limit: 2 }));
}

#[test]
fn invalid_utf8_names_its_line() {
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"a=tool:\xff\n");
    let e = SessionDescription::parse_bytes(&bytes, &SdpLimits::default()).expect_err("utf-8");
    assert_eq!((e.line, e.kind), (5, K::InvalidUtf8));
}

#[test]
fn sdp_error_converts_into_crate_error() {
    let e: crate::Error = err("v=1\n").into();
    assert_eq!(e.to_string(), "line 1: expected `v=0`");
}
