//! The `mdns` target: the mDNS codec. Arbitrary bytes never panic the parser; every question
//! name that parses and can be encoded again makes a query that parses back with the same
//! name; the addresses of any message, answered under one name, parse back as that many
//! distinct addresses.

use super::{Milestones, Target};
use crate::mdns::{self, RecordData, RecordType};
use std::net::IpAddr;
use std::time::Instant;

pub(super) const TARGET: Target = Target {
    name: "mdns",
    run,
    seeds,
    deep: &["mdns_question_round_trip", "mdns_address_round_trip"],
};

fn run(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let Ok(msg) = mdns::parse(data) else {
        return reached;
    };
    for q in &msg.questions {
        let _ = msg.addresses_of(&q.name);
        if let Ok(query) = mdns::encode_query(&q.name, &[RecordType::A]) {
            let back = mdns::parse(&query).expect("an encoded query parses");
            assert_eq!(back.questions.len(), 1);
            assert!(back.questions[0].name.eq_ignore_ascii_case(&q.name));
            reached.insert("mdns_question_round_trip");
        }
    }
    let mut addrs: Vec<IpAddr> = msg
        .records
        .iter()
        .filter_map(|r| match r.data {
            RecordData::Address(ip) => Some(ip),
            _ => None,
        })
        .collect();
    if let Ok(response) = mdns::encode_response("fuzz.local", &addrs, 1) {
        let back = mdns::parse(&response).expect("an encoded response parses");
        addrs.sort();
        addrs.dedup();
        assert_eq!(back.addresses_of("fuzz.local").len(), addrs.len());
        if !addrs.is_empty() {
            reached.insert("mdns_address_round_trip");
        }
    }
    reached
}

fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let name = "1f4712db-ea17-4bcf-a596-105139dfd8bf.local";
    let addrs: [IpAddr; 2] = [[192, 168, 1, 7].into(), "fe80::1".parse().expect("ip")];
    vec![
        mdns::encode_query(name, &[RecordType::A, RecordType::Aaaa]).expect("query"),
        mdns::encode_response(name, &addrs, 120).expect("response"),
    ]
}
