//! Property tests: reading any parsed section never panics, and what is read survives a
//! write → print → parse → read cycle unchanged.

use proptest::prelude::*;
use proptest::sample::select;

use crate::media::codec::{read_codecs, read_extensions, write_codecs};
use crate::sdp::SessionDescription;

fn pt() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["0", "8", "9", "96", "97", "98", "99", "100", "127"]).prop_map(String::from),
        (0u16..300).prop_map(|n| n.to_string()),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let name = select(vec![
        "VP8", "H264", "rtx", "RTX", "opus", "red", "VP9", "x-y",
    ]);
    let rate = select(vec!["90000", "48000", "8000", "0", "4294967295"]);
    let channels = prop::option::of(select(vec!["1", "2", "70000"]));
    let params = prop_oneof![
        select(vec![
            "apt=96",
            "apt=97",
            "apt=+96",
            "apt=300",
            "profile-level-id=42e01f;packetization-mode=1",
            "a",
            "x=;y",
            " ; ",
            "=",
            "a=b=c",
        ])
        .prop_map(String::from),
        "[ -~]{1,24}",
    ];
    let fb = select(vec![
        "nack",
        "nack pli",
        "ccm fir",
        "transport-cc",
        "goog-remb",
    ]);
    prop_oneof![
        (pt(), name, rate, channels).prop_map(|(p, n, r, c)| match c {
            Some(c) => format!("a=rtpmap:{p} {n}/{r}/{c}"),
            None => format!("a=rtpmap:{p} {n}/{r}"),
        }),
        (pt(), params).prop_map(|(p, v)| format!("a=fmtp:{p} {v}")),
        (prop_oneof![pt(), Just("*".to_owned())], fb)
            .prop_map(|(p, f)| format!("a=rtcp-fb:{p} {f}")),
        (1u16..300, select(vec!["urn:a", "urn:b"]))
            .prop_map(|(id, u)| format!("a=extmap:{id} {u}")),
    ]
}

fn section_text() -> impl Strategy<Value = String> {
    (prop::collection::vec(pt(), 1..8), prop::collection::vec(line(), 0..16)).prop_map(
        |(formats, lines)| {
            let mut text = format!(
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF {}\r\n",
                formats.join(" ")
            );
            for l in lines {
                text.push_str(&l);
                text.push_str("\r\n");
            }
            text
        },
    )
}

proptest! {
    #[test]
    fn read_never_panics_and_survives_write_print_parse(text in section_text()) {
        let Ok(sdp) = SessionDescription::parse(&text) else { return Ok(()) };
        let m = &sdp.media[0];
        let _ = read_extensions(m);
        let codecs = read_codecs(m);
        if codecs.is_empty() {
            return Ok(());
        }
        let mut written = sdp.clone();
        write_codecs(&mut written.media[0], &codecs);
        let printed = written.to_string();
        let reparsed = SessionDescription::parse(&printed);
        prop_assert!(reparsed.is_ok(), "{printed}");
        let reparsed = reparsed.expect("checked");
        prop_assert_eq!(read_codecs(&reparsed.media[0]), codecs);
    }

    #[test]
    fn read_never_panics_on_arbitrary_attribute_text(
        lines in prop::collection::vec("a=(rtpmap|fmtp|rtcp-fb|extmap):[ -~]{0,30}", 0..12)
    ) {
        let text = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 96 97\r\n{}",
            lines.iter().map(|l| format!("{l}\r\n")).collect::<String>()
        );
        if let Ok(sdp) = SessionDescription::parse(&text) {
            let _ = read_codecs(&sdp.media[0]);
            let _ = read_extensions(&sdp.media[0]);
        }
    }
}

/// An offer with lines deleted, duplicated and swapped (indices taken modulo the line count).
fn mutated_offer() -> impl Strategy<Value = String> {
    let ops = prop::collection::vec((0u8..3, any::<usize>(), any::<usize>()), 0..12);
    (select(super::OFFERS.to_vec()), ops).prop_map(|((_, text), ops)| {
        let mut lines: Vec<&str> = text.lines().collect();
        for (op, a, b) in ops {
            let n = lines.len();
            if n == 0 {
                break;
            }
            match op {
                0 => drop(lines.remove(a % n)),
                1 => lines.insert(a % n, lines[a % n]),
                _ => lines.swap(a % n, b % n),
            }
        }
        lines.join("\r\n") + "\r\n"
    })
}

proptest! {
    #[test]
    fn answering_mutated_offers_never_panics_and_keeps_offered_payload_types(
        text in mutated_offer()
    ) {
        let Ok(sdp) = SessionDescription::parse(&text) else { return Ok(()) };
        let local = crate::media::codec::MediaCodecs::default();
        for m in &sdp.media {
            let offered = read_codecs(m);
            let answer = crate::media::codec::answer_codecs(&local, &m.kind, &offered);
            for a in &answer {
                let o = offered.iter().find(|o| o.payload_type == a.payload_type);
                prop_assert!(o.is_some_and(|o| a.rtx_payload_type.is_none()
                    || a.rtx_payload_type == o.rtx_payload_type));
            }
            let exts = read_extensions(m);
            let _ = crate::media::codec::answer_extensions(&local, &m.kind, &exts);
        }
    }
}
