//! Fuzz the mDNS codec: arbitrary bytes never panic the parser; every question name that
//! parsed and can be encoded again makes a query that parses back with the same name.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::mdns::{self, RecordType};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = mdns::parse(data) else {
        return;
    };
    for q in &msg.questions {
        let _ = msg.addresses_of(&q.name);
        if let Ok(query) = mdns::encode_query(&q.name, &[RecordType::A]) {
            let back = mdns::parse(&query).expect("an encoded query parses");
            assert_eq!(back.questions.len(), 1);
            assert!(back.questions[0].name.eq_ignore_ascii_case(&q.name));
        }
    }
    let addrs: Vec<_> = msg
        .records
        .iter()
        .filter_map(|r| match r.data {
            mdns::RecordData::Address(ip) => Some(ip),
            _ => None,
        })
        .collect();
    if let Ok(response) = mdns::encode_response("fuzz.local", &addrs, 1) {
        let back = mdns::parse(&response).expect("an encoded response parses");
        assert_eq!(back.addresses_of("fuzz.local").len(), {
            let mut unique = addrs.clone();
            unique.sort();
            unique.dedup();
            unique.len()
        });
    }
});
