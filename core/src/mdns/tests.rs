//! Byte-exact vectors (checked by hand against RFC 1035 section 4.1 and RFC 6762),
//! malformed messages and proptests of the mDNS codec.

use super::*;
use proptest::prelude::*;

/// The 12-byte header: id, flags, four counts.
fn header(id: u16, flags: u16, counts: [u16; 4]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [id, flags, counts[0], counts[1], counts[2], counts[3]] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

#[test]
fn query_for_a_and_aaaa_is_byte_exact() {
    let q = encode_query("abc.local", &[RecordType::A, RecordType::Aaaa]).unwrap();
    let mut expected = vec![
        0, 0, // id 0 (RFC 6762 section 18.1)
        0, 0, // flags: a standard query
        0, 2, 0, 0, 0, 0, 0, 0, // two questions
    ];
    let name = [3, b'a', b'b', b'c', 5, b'l', b'o', b'c', b'a', b'l', 0];
    expected.extend_from_slice(&name);
    expected.extend_from_slice(&[0, 1, 0, 1]); // A, IN (QM: top bit clear)
    expected.extend_from_slice(&name);
    expected.extend_from_slice(&[0, 28, 0, 1]); // AAAA, IN
    assert_eq!(q, expected);
    let parsed = parse(&q).unwrap();
    assert!(!parsed.is_response);
    assert_eq!(parsed.questions.len(), 2);
    assert_eq!(parsed.questions[1].name, "abc.local");
    assert_eq!(parsed.questions[1].qtype, RecordType::Aaaa);
    assert!(!parsed.questions[0].unicast_response);
}

#[test]
fn response_is_byte_exact_and_uses_a_pointer_for_the_second_answer() {
    let addrs = ["192.168.1.7".parse().unwrap(), "fe80::1".parse().unwrap()];
    let r = encode_response("x.local", &addrs, 120).unwrap();
    let mut expected = header(0, 0x8400, [0, 2, 0, 0]); // QR + AA
    expected.extend_from_slice(&[1, b'x', 5, b'l', b'o', b'c', b'a', b'l', 0]);
    expected.extend_from_slice(&[0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 192, 168, 1, 7]);
    expected.extend_from_slice(&[0xc0, 12]); // pointer to offset 12
    expected.extend_from_slice(&[0, 28, 0x80, 1, 0, 0, 0, 120, 0, 16]);
    expected.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(r, expected);
    let m = parse(&r).unwrap();
    assert!(m.is_response);
    assert_eq!(m.addresses_of("X.LOCAL."), addrs.to_vec());
    assert_eq!(m.addresses_of("y.local"), Vec::<IpAddr>::new());
}

/// RFC 1035 section 4.1.4's example: F.ISI.ARPA written out, FOO.F.ISI.ARPA as a label
/// and a pointer to it, ARPA as a pointer into the middle of the first name.
#[test]
fn rfc1035_compression_example_parses() {
    let mut m = header(0x1234, 0x8000, [0, 3, 0, 0]);
    let rec = |m: &mut Vec<u8>, ip: [u8; 4]| {
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        m.extend_from_slice(&ip);
    };
    let f_isi_arpa = m.len();
    m.extend_from_slice(&[1, b'F', 3, b'I', b'S', b'I', 4, b'A', b'R', b'P', b'A', 0]);
    rec(&mut m, [10, 0, 0, 1]);
    m.extend_from_slice(&[3, b'F', b'O', b'O', 0xc0, f_isi_arpa as u8]);
    rec(&mut m, [10, 0, 0, 2]);
    m.extend_from_slice(&[0xc0, (f_isi_arpa + 6) as u8]);
    rec(&mut m, [10, 0, 0, 3]);
    let parsed = parse(&m).unwrap();
    let names: Vec<_> = parsed.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["F.ISI.ARPA", "FOO.F.ISI.ARPA", "ARPA"]);
    assert_eq!(parsed.id, 0x1234);
    assert_eq!(
        parsed.addresses_of("foo.f.isi.arpa"),
        vec![IpAddr::from([10, 0, 0, 2])]
    );
}

#[test]
fn records_of_other_types_and_classes_and_goodbyes() {
    let mut m = header(0, 0x8400, [0, 1, 0, 2]);
    m.extend_from_slice(&[1, b'h', 0, 0, 16, 0, 1, 0, 0, 0, 9, 0, 2, 1, b'x']); // TXT
    m.extend_from_slice(&[1, b'h', 0, 0, 1, 0, 3, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4]); // class CH
    m.extend_from_slice(&[1, b'h', 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]); // TTL 0
    let parsed = parse(&m).unwrap();
    assert_eq!(parsed.records.len(), 2, "the CH record is skipped");
    assert_eq!(
        parsed.records[0].data,
        RecordData::Other(RecordType::Other(16))
    );
    assert!(
        parsed.addresses_of("h").is_empty(),
        "a goodbye gives no address"
    );
}

#[test]
fn malformed_messages_are_errors() {
    let good = encode_response("ab.local", &["10.1.2.3".parse().unwrap()], 10).unwrap();
    for cut in 0..good.len() {
        assert!(parse(&good[..cut]).is_err(), "cut at {cut} parsed");
    }
    // A pointer to itself, and a pointer forwards.
    let mut self_loop = header(0, 0x8400, [0, 1, 0, 0]);
    self_loop.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    assert_eq!(parse(&self_loop), Err(MdnsError::BadPointer));
    let mut forward = header(0, 0x8400, [0, 1, 0, 0]);
    forward.extend_from_slice(&[0xc0, 14, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    assert_eq!(parse(&forward), Err(MdnsError::BadPointer));
    // A label, then a pointer back to that label: a loop through a backward pointer.
    let mut back_loop = header(0, 0x8400, [0, 1, 0, 0]);
    back_loop.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    assert_eq!(parse(&back_loop), Err(MdnsError::BadPointer));
    // Reserved label type 0b01.
    let mut reserved = header(0, 0x8400, [1, 0, 0, 0]);
    reserved.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
    assert_eq!(parse(&reserved), Err(MdnsError::BadLabel));
    // A label holding a dot would read as two labels ("a.b" and "a" "b" are different
    // names); found by fuzzing as a query name that did not survive encoding again.
    let mut dotted = header(0, 0, [1, 0, 0, 0]);
    dotted.extend_from_slice(&[3, b'a', b'.', b'b', 0, 0, 1, 0, 1]);
    assert_eq!(parse(&dotted), Err(MdnsError::DotInLabel));
    // An A record with 5 bytes of data.
    let mut bad_a = header(0, 0x8400, [0, 1, 0, 0]);
    bad_a.extend_from_slice(&[1, b'h', 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5]);
    assert_eq!(parse(&bad_a), Err(MdnsError::BadRdata));
    // Counts beyond the bound are refused before any allocation.
    assert_eq!(
        parse(&header(0, 0, [0xffff; 4])),
        Err(MdnsError::TooManyRecords)
    );
}

#[test]
fn over_long_names_are_refused() {
    // 130 labels of one byte: 261 bytes on the wire.
    let mut long = header(0, 0, [1, 0, 0, 0]);
    for _ in 0..130 {
        long.extend_from_slice(&[1, b'a']);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(parse(&long), Err(MdnsError::NameTooLong));
    let label = "a".repeat(64);
    assert!(encode_query(&format!("{label}.local"), &[RecordType::A]).is_err());
    assert!(encode_query("a..local", &[RecordType::A]).is_err());
    let long_name = vec!["abcdefgh"; 30].join(".");
    assert!(encode_query(&long_name, &[RecordType::A]).is_err());
}

#[test]
fn multicast_groups() {
    let v4 = group_for("10.0.0.1:5000".parse().unwrap());
    assert_eq!(v4, "224.0.0.251:5353".parse().unwrap());
    let v6 = group_for("[fe80::1]:5000".parse().unwrap());
    assert_eq!(v6, "[ff02::fb]:5353".parse().unwrap());
}

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9-]{1,20}"
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(
        counts in proptest::array::uniform4(0u16..6),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut m = header(0, 0x8400, counts);
        m.extend_from_slice(&body);
        let _ = parse(&m);
    }

    #[test]
    fn response_round_trips(
        labels in proptest::collection::vec(label(), 1..4),
        v4 in proptest::collection::vec(any::<[u8; 4]>(), 0..4),
        v6 in proptest::collection::vec(any::<[u8; 16]>(), 0..4),
        ttl in 1u32..,
    ) {
        let name = format!("{}.local", labels.join("."));
        let mut addrs: Vec<IpAddr> = v4.into_iter().map(IpAddr::from).collect();
        addrs.extend(v6.into_iter().map(IpAddr::from));
        let bytes = encode_response(&name, &addrs, ttl).unwrap();
        let m = parse(&bytes).unwrap();
        prop_assert!(m.is_response);
        prop_assert_eq!(m.records.len(), addrs.len());
        for (r, ip) in m.records.iter().zip(&addrs) {
            prop_assert_eq!(&r.name, &name);
            prop_assert_eq!(r.ttl, ttl);
            prop_assert_eq!(&r.data, &RecordData::Address(*ip));
        }
    }

    #[test]
    fn query_round_trips(labels in proptest::collection::vec(label(), 1..4), aaaa in any::<bool>()) {
        let name = format!("{}.local", labels.join("."));
        let types = if aaaa { vec![RecordType::A, RecordType::Aaaa] } else { vec![RecordType::A] };
        let m = parse(&encode_query(&name, &types).unwrap()).unwrap();
        prop_assert!(!m.is_response);
        prop_assert_eq!(m.id, 0);
        let got: Vec<_> = m.questions.iter().map(|q| (q.name.clone(), q.qtype)).collect();
        let want: Vec<_> = types.iter().map(|t| (name.clone(), *t)).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn opcode_is_reported() {
    let mut m = header(0, 0x8400 | (5 << 11), [0, 0, 0, 0]);
    assert_eq!(parse(&m).unwrap().opcode, 5);
    m[2] = 0x84;
    assert_eq!(parse(&m).unwrap().opcode, 0);
}
