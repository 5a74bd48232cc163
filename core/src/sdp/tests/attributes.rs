//! Typed attribute values: parsing, accessors and canonical printing.

use crate::sdp::{
    Attribute, CandidateValue, Direction, Fingerprint, Group, RidDirection, SessionDescription,
};

fn attr(line: &str) -> Attribute {
    match Attribute::parse(line) {
        Ok(a) => a,
        Err(e) => panic!("{line}: {e:?}"),
    }
}

#[test]
fn typed_attributes_print_back_to_their_text() {
    let lines = [
        "group:BUNDLE 0 1",
        "group:LS",
        "msid-semantic: WMS",
        "msid-semantic:WMS *",
        "ice-options:trickle ice2",
        "extmap:4096/sendonly urn:x some attrs",
        "rtcp:9 IN IP4 0.0.0.0",
        "rtcp:9",
        "rtcp-fb:* nack",
        "rtcp-fb:96 ccm fir",
        "ssrc:1 cname:x y",
        "ssrc:1 label",
        "ssrc-group:SIM 1 2 3",
        "rid:q recv pt=96,97;max-width=320",
        "simulcast:recv a,~b;c send d",
        "fmtp:webrtc-datachannel max-message-size=100000",
        "rtpmap:0 PCMU/8000",
        "setup:holdconn",
        "inactive",
        "rtcp-mux-only",
        "end-of-candidates",
        "ice-lite",
        "ice-pacing:5",
        "max-message-size:0",
    ];
    for line in lines {
        assert_eq!(attr(line).to_string(), line);
    }
}

#[test]
fn fingerprint_prints_upper_case_hex() {
    let a = attr("fingerprint:sha-1 ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01");
    let Attribute::Fingerprint(fp) = &a else {
        panic!("not a fingerprint: {a:?}")
    };
    assert_eq!(fp.bytes.len(), 20);
    assert!(a.to_string().ends_with("AB:CD:EF:01"));
    assert_eq!(
        Fingerprint::sha256([0x0f; 32]).to_string().len(),
        "sha-256 ".len() + 32 * 3 - 1
    );
}

#[test]
fn fmtp_parameters_split_on_semicolons() {
    let Attribute::Fmtp(f) = attr("fmtp:102 a=1; b ;c=x=y") else {
        panic!("not fmtp")
    };
    let params: Vec<_> = f.parameters().collect();
    assert_eq!(params, [("a", Some("1")), ("b", None), ("c", Some("x=y"))]);
    assert_eq!(f.payload_type(), Some(102));
}

#[test]
fn rid_reads_payload_type_restriction() {
    let Attribute::Rid(r) = attr("rid:h send pt=96,97;max-fps=30") else {
        panic!("not rid")
    };
    assert_eq!(r.direction, RidDirection::Send);
    assert_eq!(r.payload_types(), [96, 97]);
}

#[test]
fn simulcast_reads_paused_alternatives() {
    let Attribute::Simulcast(s) = attr("simulcast:recv a,~b;c") else {
        panic!("not simulcast")
    };
    let recv = s.streams(RidDirection::Recv).expect("recv");
    assert_eq!(recv.len(), 2);
    assert!(!recv[0][0].paused && recv[0][1].paused);
    assert!(s.streams(RidDirection::Send).is_none());
}

#[test]
fn candidate_value_exposes_its_fields() {
    let c = CandidateValue::new(
        "842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154",
    )
    .expect("valid");
    assert_eq!(c.foundation(), "842163049");
    assert_eq!(c.component(), 1);
    assert_eq!(c.priority(), 1677729535);
    assert_eq!(c.typ(), "srflx");
    assert_eq!(c.extension("raddr"), Some("10.0.0.2"));
    assert_eq!(c.extension("10.0.0.2"), None);
}

#[test]
fn candidate_value_rejects_odd_extension_list_and_zero_component() {
    assert!(CandidateValue::new("1 1 udp 1 127.0.0.1 9 typ host generation").is_err());
    assert!(CandidateValue::new("1 0 udp 1 127.0.0.1 9 typ host").is_err());
    assert!(CandidateValue::new("1 1 udp 1 127.0.0.1 9 typ host").is_ok());
}

#[test]
fn direction_reverse_swaps_send_and_receive() {
    assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
    assert_eq!(Direction::Inactive.reverse(), Direction::Inactive);
    assert!(Direction::SendRecv.sends() && Direction::SendRecv.receives());
    assert!(!Direction::RecvOnly.sends());
}

#[test]
fn known_attribute_names_are_case_sensitive_and_others_kept_verbatim() {
    let a = attr("MID:0");
    assert_eq!(
        a,
        Attribute::Other {
            name: "MID".into(),
            value: Some("0".into())
        }
    );
    assert_eq!(a.to_string(), "MID:0");
}

#[test]
fn bundle_groups_ignore_other_semantics() {
    let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:LS 0 1\r\n\
                a=group:BUNDLE 0\r\na=group:BUNDLE 1\r\n";
    let sdp = SessionDescription::parse(text).expect("valid");
    assert_eq!(sdp.groups().count(), 3);
    let bundles: Vec<&Group> = sdp.bundle_groups().collect();
    assert_eq!(bundles, [&Group::bundle(["0"]), &Group::bundle(["1"])]);
}

#[test]
fn parse_line_reads_a_trickled_candidate() {
    let a = Attribute::parse_line("candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host")
        .expect("valid candidate");
    let Attribute::Candidate(c) = a else {
        panic!("not a candidate")
    };
    assert_eq!(c.port(), 5000);
    assert!(Attribute::parse_line("candidate:1 1 udp").is_err());
    assert!(Attribute::parse_line("tool:a\r\nb").is_err());
}

#[test]
fn simulcast_reads_the_forms_browsers_and_drafts_wrote() {
    use crate::sdp::{Simulcast, SimulcastRid};
    let sc = |line: &str| match attr(line) {
        Attribute::Simulcast(s) => s,
        other => panic!("{line}: {other:?}"),
    };
    let ids = |s: &Simulcast, d: RidDirection| -> Vec<String> {
        s.streams(d)
            .unwrap_or_default()
            .iter()
            .map(|alts| {
                let SimulcastRid { id, paused } = &alts[0];
                format!("{}{id}", if *paused { "~" } else { "" })
            })
            .collect()
    };
    // Chromium.
    let chromium = sc("simulcast:send h;m;l");
    assert_eq!(ids(&chromium, RidDirection::Send), ["h", "m", "l"]);
    assert_eq!(chromium.to_string(), "send h;m;l");
    // Firefox up to 63 (draft syntax), and paused streams.
    let old_firefox = sc("simulcast: send rid=a;~b;c");
    assert_eq!(ids(&old_firefox, RidDirection::Send), ["a", "~b", "c"]);
    assert_eq!(old_firefox.to_string(), "send a;~b;c", "printed strictly");
    // Spaces and tabs, keyword case, a trailing `;`.
    let loose = sc("simulcast:  RECV  h;m;\tsend x");
    assert_eq!(ids(&loose, RidDirection::Recv), ["h", "m"]);
    assert_eq!(ids(&loose, RidDirection::Send), ["x"]);
    assert_eq!(loose.to_string(), "recv h;m send x");
    // Still refused: two parts in the same direction, an empty list, a bad rid.
    for bad in [
        "simulcast:send a send b",
        "simulcast:send ;",
        "simulcast:send a b",
        "simulcast:send a;b c",
        "simulcast:send a.b",
    ] {
        assert!(
            !matches!(Attribute::parse(bad), Ok(Attribute::Simulcast(_))),
            "{bad}"
        );
    }
}

#[test]
fn rid_restrictions_are_typed_and_spaces_after_semicolons_forgiven() {
    let Attribute::Rid(r) = attr(
        "rid:h  SEND pt=96,97; max-width=1280;max-height=720;max-fps=30;max-br=2500000;depend=m,l",
    ) else {
        panic!("not rid")
    };
    assert_eq!(r.direction, RidDirection::Send);
    let t = r.typed_restrictions();
    assert_eq!(t.payload_types, [96, 97]);
    assert_eq!((t.max_width, t.max_height), (Some(1280), Some(720)));
    assert_eq!(
        (t.max_fps, t.max_br, t.max_fs),
        (Some(30), Some(2_500_000), None)
    );
    assert_eq!(t.depend, ["m", "l"]);
    assert_eq!(
        attr(&format!("rid:{r}")).to_string(),
        "rid:h send pt=96,97;max-width=1280;max-height=720;max-fps=30;max-br=2500000;depend=m,l"
    );
    let Attribute::Rid(plain) = attr("rid:l recv") else {
        panic!("not rid")
    };
    assert_eq!(plain.typed_restrictions(), Default::default());
    assert!(!matches!(
        Attribute::parse("rid:l sideways"),
        Ok(Attribute::Rid(_))
    ));
}
