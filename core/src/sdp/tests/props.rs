//! Property tests: hostile bytes and mutated SDPs never panic, and generated descriptions
//! survive `parse(print(x)) == x`.

use proptest::prelude::*;
use proptest::sample::select;

use super::FIXTURES;
use crate::sdp::{
    Attribute, Bandwidth, CandidateValue, ConnectionAddress, Direction, Extmap, Fingerprint, Fmtp,
    Group, IceOptions, MediaDescription, MediaKind, Msid, MsidSemantic, Origin, Repeat, Rid,
    RidDirection, Rtcp, RtcpFb, RtpMap, SdpLimits, SessionDescription, Setup, Simulcast,
    SimulcastRid, SimulcastStreams, Ssrc, SsrcGroup, TimeDescription, TimeUnit, TimeZoneAdjustment,
    TypedTime,
};

/// Parses; when that succeeds, printing and parsing again must give the same description.
fn parse_and_check_round_trip(text: &str) {
    if let Ok(sdp) = SessionDescription::parse(text) {
        let printed = sdp.to_string();
        assert_eq!(
            SessionDescription::parse(&printed).as_ref(),
            Ok(&sdp),
            "{printed}"
        );
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split('\n').map(|l| l.as_bytes().to_vec()).collect();
    for m in mutations {
        let n = lines.len().max(1);
        match *m {
            Mutation::Delete(i) if !lines.is_empty() => drop(lines.remove(i % n)),
            Mutation::Duplicate(i) if !lines.is_empty() => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::Swap(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::FlipBit(p, bit) if !lines.is_empty() => {
                let line = &mut lines[p % n];
                if !line.is_empty() {
                    let len = line.len();
                    line[(p / n) % len] ^= 1 << bit;
                }
            }
            _ => {}
        }
    }
    lines.join(&b'\n')
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = SessionDescription::parse_bytes(&bytes, &SdpLimits::default());
    }

    #[test]
    fn random_sdp_like_lines_never_panic_and_round_trip_when_valid(
        lines in proptest::collection::vec("[vosiuepcbtrzkamx]=[ -~]{0,40}", 0..40)
    ) {
        let text = format!("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n{}", lines.join("\r\n"));
        parse_and_check_round_trip(&text);
    }

    #[test]
    fn mutated_fixtures_never_panic_and_round_trip_when_valid(
        which in 0..FIXTURES.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let bytes = mutate(FIXTURES[which].1, &mutations);
        if let Ok(text) = core::str::from_utf8(&bytes) {
            parse_and_check_round_trip(text);
        } else {
            let _ = SessionDescription::parse_bytes(&bytes, &SdpLimits::default());
        }
    }

    #[test]
    fn simulcast_parses_the_same_from_loose_and_draft_forms(
        sc in simulcast(),
        spaces in proptest::collection::vec(" {1,3}|\t", 5),
        draft_prefix in any::<bool>(),
        trailing in any::<bool>(),
    ) {
        let strict = sc.to_string();
        prop_assert_eq!(Simulcast::parse(&strict), Some(sc.clone()));
        let mut loose = spaces[0].clone();
        for (i, part) in sc.parts.iter().enumerate() {
            let list = part.to_string();
            let (dir, list) = list.split_once(' ').expect("direction then list");
            let dir = if i == 0 { dir.to_uppercase() } else { dir.to_string() };
            let prefix = if draft_prefix { "rid=" } else { "" };
            let end = if trailing { ";" } else { "" };
            loose.push_str(&format!("{dir}{}{prefix}{list}{end}{}", spaces[1 + 2 * i], spaces[2 + 2 * i]));
        }
        prop_assert_eq!(Simulcast::parse(&loose), Some(sc), "{}", loose);
    }

    #[test]
    fn simulcast_and_rid_values_never_panic(value in "[ -~\t]{0,64}") {
        if let Some(sc) = Simulcast::parse(&value) {
            prop_assert_eq!(Simulcast::parse(&sc.to_string()), Some(sc));
        }
        if let Some(rid) = Rid::parse(&value) {
            let _ = rid.typed_restrictions();
            prop_assert_eq!(Rid::parse(&rid.to_string()), Some(rid));
        }
    }

    #[test]
    fn generated_descriptions_parse_back_to_themselves(sdp in session()) {
        let printed = sdp.to_string();
        prop_assert_eq!(SessionDescription::parse(&printed), Ok(sdp), "{}", printed);
    }
}

// ---- generators of valid descriptions ----

const TOKEN: &str = "[a-zA-Z0-9][a-zA-Z0-9.!#$%&'*+^_`{|}~-]{0,7}";
const WORD: &str = "[!-~]{1,12}";
const TEXT: &str = "[ -~é€]{0,20}";

fn words() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-z0-9=;]{1,5}", 1..4).prop_map(|w| w.join(" "))
}

fn address() -> impl Strategy<Value = ConnectionAddress> {
    (TOKEN, TOKEN, WORD).prop_map(|(nettype, addrtype, address)| ConnectionAddress {
        nettype,
        addrtype,
        address,
    })
}

fn typed_time() -> impl Strategy<Value = TypedTime> {
    let unit = proptest::option::of(select(vec![
        TimeUnit::Days,
        TimeUnit::Hours,
        TimeUnit::Minutes,
        TimeUnit::Seconds,
    ]));
    (any::<u64>(), unit).prop_map(|(value, unit)| TypedTime { value, unit })
}

fn time_description() -> impl Strategy<Value = TimeDescription> {
    let repeat = (
        typed_time(),
        typed_time(),
        proptest::collection::vec(typed_time(), 1..3),
    )
        .prop_map(|(mut interval, duration, offsets)| {
            interval.value = interval.value.max(1);
            Repeat {
                interval,
                duration,
                offsets,
            }
        });
    (
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(repeat, 0..3),
    )
        .prop_map(|(start, stop, repeats)| TimeDescription {
            start,
            stop,
            repeats,
        })
}

fn zone() -> impl Strategy<Value = TimeZoneAdjustment> {
    (any::<u64>(), any::<bool>(), typed_time()).prop_map(|(time, negative, offset)| {
        TimeZoneAdjustment {
            time,
            negative,
            offset,
        }
    })
}

fn bandwidth() -> impl Strategy<Value = Bandwidth> {
    (TOKEN, any::<u64>()).prop_map(|(bwtype, bandwidth)| Bandwidth { bwtype, bandwidth })
}

fn direction() -> impl Strategy<Value = Direction> {
    select(vec![
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ])
}

fn other() -> impl Strategy<Value = Attribute> {
    ("x-[a-z0-9-]{1,8}", proptest::option::of(TEXT))
        .prop_map(|(name, value)| Attribute::Other { name, value })
}

/// Attributes allowed at both levels.
fn attribute_both() -> BoxedStrategy<Attribute> {
    prop_oneof![
        "[a-zA-Z0-9+/]{4,12}".prop_map(Attribute::IceUfrag),
        "[a-zA-Z0-9+/]{22,30}".prop_map(Attribute::IcePwd),
        proptest::collection::vec("[a-z0-9+/_-]{1,6}", 1..3)
            .prop_map(|o| Attribute::IceOptions(IceOptions(o))),
        prop_oneof![
            any::<[u8; 32]>().prop_map(Fingerprint::sha256),
            proptest::collection::vec(any::<u8>(), 1..10).prop_map(|bytes| Fingerprint {
                hash: "x-hash".into(),
                bytes
            }),
        ]
        .prop_map(Attribute::Fingerprint),
        select(vec![
            Setup::Active,
            Setup::Passive,
            Setup::ActPass,
            Setup::HoldConn
        ])
        .prop_map(Attribute::Setup),
        (
            prop_oneof![1u16..=255, 4096u16..=4351],
            proptest::option::of(direction()),
            "[a-z:/.]{1,16}",
            proptest::option::of(words())
        )
            .prop_map(|(id, direction, uri, attributes)| {
                Attribute::Extmap(Extmap {
                    id,
                    direction,
                    uri,
                    attributes,
                })
            }),
        Just(Attribute::ExtmapAllowMixed),
        direction().prop_map(Attribute::Direction),
        Just(Attribute::EndOfCandidates),
        other(),
    ]
    .boxed()
}

fn attribute_session() -> BoxedStrategy<Attribute> {
    prop_oneof![
        3 => attribute_both(),
        1 => (TOKEN, proptest::collection::vec(TOKEN, 0..4))
            .prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids })),
        1 => (any::<bool>(), TOKEN, proptest::collection::vec(WORD, 0..3)).prop_map(
            |(leading_space, semantic, ids)| {
                Attribute::MsidSemantic(MsidSemantic { leading_space, semantic, ids })
            }
        ),
        1 => Just(Attribute::IceLite),
        1 => any::<u32>().prop_map(Attribute::IcePacing),
    ]
    .boxed()
}

fn candidate() -> impl Strategy<Value = CandidateValue> {
    let pairs = proptest::collection::vec((TOKEN, WORD), 0..3);
    (
        ("[a-zA-Z0-9+/]{1,10}", 1u16..=256, TOKEN, 1u32..),
        (WORD, any::<u16>(), TOKEN, pairs),
    )
        .prop_map(
            |((foundation, component, transport, priority), (addr, port, typ, pairs))| {
                let mut text = format!(
                    "{foundation} {component} {transport} {priority} {addr} {port} typ {typ}"
                );
                for (k, v) in pairs {
                    text.push_str(&format!(" {k} {v}"));
                }
                CandidateValue::new(text).expect("generated from the grammar")
            },
        )
}

fn simulcast() -> impl Strategy<Value = Simulcast> {
    let rid =
        ("[a-zA-Z0-9_-]{1,4}", any::<bool>()).prop_map(|(id, paused)| SimulcastRid { id, paused });
    let streams = proptest::collection::vec(proptest::collection::vec(rid, 1..3), 1..3);
    (
        any::<bool>(),
        streams.clone(),
        proptest::option::of(streams),
    )
        .prop_map(|(send_first, a, b)| {
            let (d1, d2) = if send_first {
                (RidDirection::Send, RidDirection::Recv)
            } else {
                (RidDirection::Recv, RidDirection::Send)
            };
            let mut parts = vec![SimulcastStreams {
                direction: d1,
                streams: a,
            }];
            if let Some(b) = b {
                parts.push(SimulcastStreams {
                    direction: d2,
                    streams: b,
                });
            }
            Simulcast { parts }
        })
}

fn attribute_rtp() -> BoxedStrategy<Attribute> {
    prop_oneof![
        (
            0u8..=127,
            "[a-zA-Z0-9-]{1,8}",
            any::<u32>(),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(payload_type, encoding, clock_rate, channels)| {
                Attribute::RtpMap(RtpMap {
                    payload_type,
                    encoding,
                    clock_rate,
                    channels,
                })
            }),
        (TOKEN, "[ -~]{1,20}")
            .prop_map(|(format, params)| Attribute::Fmtp(Fmtp { format, params })),
        (
            proptest::option::of(0u8..=127),
            TOKEN,
            proptest::option::of(words())
        )
            .prop_map(|(payload_type, feedback, param)| Attribute::RtcpFb(RtcpFb {
                payload_type,
                feedback,
                param
            })),
        (any::<u32>(), TOKEN, proptest::option::of(TEXT)).prop_map(|(ssrc, attribute, value)| {
            Attribute::Ssrc(Ssrc {
                ssrc,
                attribute,
                value,
            })
        }),
        (TOKEN, proptest::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs })),
        (
            "[a-zA-Z0-9_-]{1,4}",
            select(vec![RidDirection::Send, RidDirection::Recv]),
            proptest::option::of("[!-~]{1,12}")
        )
            .prop_map(|(id, direction, restrictions)| Attribute::Rid(Rid {
                id,
                direction,
                restrictions
            })),
        simulcast().prop_map(Attribute::Simulcast),
        (any::<u16>(), proptest::option::of(address()))
            .prop_map(|(port, address)| Attribute::Rtcp(Rtcp { port, address })),
    ]
    .boxed()
}

fn attribute_media() -> BoxedStrategy<Attribute> {
    prop_oneof![
        3 => attribute_both(),
        4 => attribute_rtp(),
        1 => TOKEN.prop_map(Attribute::Mid),
        1 => (TOKEN, proptest::option::of(TOKEN))
            .prop_map(|(stream_id, track_id)| Attribute::Msid(Msid { stream_id, track_id })),
        1 => select(vec![Attribute::RtcpMux, Attribute::RtcpMuxOnly, Attribute::RtcpRsize]),
        1 => any::<u16>().prop_map(Attribute::SctpPort),
        1 => any::<u64>().prop_map(Attribute::MaxMessageSize),
        1 => candidate().prop_map(Attribute::Candidate),
    ]
    .boxed()
}

fn media() -> impl Strategy<Value = MediaDescription> {
    let kind = prop_oneof![
        Just(MediaKind::Audio),
        Just(MediaKind::Video),
        Just(MediaKind::Application),
        "x[a-z]{0,5}".prop_map(MediaKind::Other),
    ];
    let head = (kind, any::<u16>(), proptest::option::of(any::<u16>()));
    let proto = proptest::collection::vec(TOKEN, 1..4).prop_map(|p| p.join("/"));
    let formats = proptest::collection::vec(TOKEN, 1..5);
    let lines = (
        proptest::option::of(TEXT),
        proptest::collection::vec(address(), 0..3),
        proptest::collection::vec(bandwidth(), 0..3),
        proptest::option::of(TEXT),
        proptest::collection::vec(attribute_media(), 0..12),
    );
    (head, proto, formats, lines).prop_map(
        |(
            (kind, port, port_count),
            proto,
            formats,
            (title, connections, bandwidths, key, attributes),
        )| {
            MediaDescription {
                kind,
                port,
                port_count,
                proto,
                formats,
                title,
                connections,
                bandwidths,
                key,
                attributes,
            }
        },
    )
}

fn session() -> impl Strategy<Value = SessionDescription> {
    let origin = (WORD, any::<u64>(), any::<u64>(), address()).prop_map(
        |(username, session_id, session_version, address)| Origin {
            username,
            session_id,
            session_version,
            address,
        },
    );
    let head = (
        origin,
        TEXT,
        proptest::option::of(TEXT),
        proptest::option::of(WORD),
        proptest::collection::vec(TEXT, 0..2),
        proptest::collection::vec(TEXT, 0..2),
    );
    let middle = (
        proptest::option::of(address()),
        proptest::collection::vec(bandwidth(), 0..2),
        proptest::collection::vec(time_description(), 1..3),
        proptest::collection::vec(zone(), 0..3),
        proptest::option::of(TEXT),
    );
    let tail = (
        proptest::collection::vec(attribute_session(), 0..10),
        proptest::collection::vec(media(), 0..4),
    );
    (head, middle, tail).prop_map(
        |(
            (origin, session_name, information, uri, emails, phones),
            (connection, bandwidths, times, time_zones, key),
            (attributes, media),
        )| SessionDescription {
            origin,
            session_name,
            information,
            uri,
            emails,
            phones,
            connection,
            bandwidths,
            times,
            time_zones,
            key,
            attributes,
            media,
        },
    )
}
