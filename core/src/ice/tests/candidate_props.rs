//! Property tests of the candidate grammar: any text parses or fails cleanly, and every
//! candidate we can print parses back to itself.

use crate::ice::{Candidate, CandidateKind, TcpType, Transport};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

fn kind() -> impl Strategy<Value = CandidateKind> {
    prop_oneof![
        Just(CandidateKind::Host),
        Just(CandidateKind::ServerReflexive),
        Just(CandidateKind::PeerReflexive),
        Just(CandidateKind::Relayed),
    ]
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (
        "[A-Za-z0-9+/]{1,32}",
        1u16..=256,
        any::<u32>(),
        (ip(), any::<u16>()),
        kind(),
        proptest::option::of((ip(), any::<u16>())),
        proptest::option::of(prop_oneof![
            Just(TcpType::Active),
            Just(TcpType::Passive),
            Just(TcpType::So)
        ]),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of("[A-Za-z0-9+/]{4,8}"),
        ),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        ),
        proptest::collection::vec(("x-[a-z]{1,6}", "[a-z0-9]{1,6}"), 0..4),
    )
        .prop_map(
            |(f, comp, prio, (ip, port), kind, rel, tcp, (generation, ufrag), (nid, cost), ext)| {
                let mut c = Candidate::new(
                    kind,
                    f,
                    comp,
                    prio,
                    SocketAddr::new(ip, port),
                    rel.map(|(i, p)| SocketAddr::new(i, p)),
                );
                if tcp.is_some() {
                    c.transport = Transport::Tcp;
                    c.tcp_type = tcp;
                }
                c.generation = generation;
                c.ufrag = ufrag;
                c.network_id = nid;
                c.network_cost = cost;
                c.extensions = ext;
                c
            },
        )
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = s.parse::<Candidate>();
    }

    #[test]
    fn candidate_like_text_never_panics(s in "(candidate:)?[a-z0-9 .:]{0,120}") {
        let _ = s.parse::<Candidate>();
    }

    #[test]
    fn printed_candidates_parse_back_to_themselves(c in candidate()) {
        let line = c.to_string();
        prop_assert_eq!(line.parse::<Candidate>(), Ok(c));
    }
}
