//! The four RFC 5769 test vectors, in both directions: parse and verify, and build the same
//! bytes from the owned representation.

use super::*;
use std::net::SocketAddr;

const TID: TransactionId = TransactionId([
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
]);
const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

/// RFC 5769 section 2.1: sample request (short-term credentials, ICE attributes).
const REQUEST: [u8; 108] = [
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
];

/// RFC 5769 section 2.2: sample IPv4 response.
const RESPONSE_V4: [u8; 80] = [
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
];

/// RFC 5769 section 2.3: sample IPv6 response.
const RESPONSE_V6: [u8; 92] = [
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
];

/// RFC 5769 section 2.4: sample request with long-term authentication (no FINGERPRINT).
const LONG_TERM_REQUEST: [u8; 116] = [
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0,
    0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83,
    0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
    0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c, 0x33, 0x34,
    0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
    0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2,
    0x8c, 0xa8, 0x96, 0x66,
];
const LONG_TERM_TID: TransactionId = TransactionId([
    0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
]);
/// "マトリックス" (the username of section 2.4) in UTF-8.
const LONG_TERM_USERNAME: &str = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
/// The SASLprep'd form of the section 2.4 password `The<U+00AD>M<U+00AA>tr<U+2168>`.
const LONG_TERM_PASSWORD: &str = "TheMatrIX";
const NONCE: &str = "f//499k954d6OL34oL9FSTvy64sA";
const REALM: &str = "example.org";

fn short_term_key() -> IntegrityKey {
    IntegrityKey::short_term(PASSWORD)
}

fn long_term_key() -> IntegrityKey {
    IntegrityKey::long_term(LONG_TERM_USERNAME, REALM, LONG_TERM_PASSWORD)
}

fn request_repr() -> StunMessage {
    let mut m = StunMessage::binding_request(TID)
        .with(Attribute::Software("STUN test client".into()))
        .with(Attribute::Priority(0x6e00_01ff))
        .with(Attribute::IceControlled(0x932f_f9b1_5126_3b36))
        .with(Attribute::Username("evtj:h6vY".into()));
    m.padding = 0x20;
    m
}

fn response_repr(mapped: SocketAddr) -> StunMessage {
    let mut m = StunMessage::new(Class::Success, Method::BINDING, TID)
        .with(Attribute::Software("test vector".into()))
        .with(Attribute::XorMappedAddress(mapped));
    m.padding = 0x20;
    m
}

fn v4_mapped() -> SocketAddr {
    "192.0.2.1:32853".parse().unwrap()
}

fn v6_mapped() -> SocketAddr {
    "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
        .parse()
        .unwrap()
}

fn long_term_repr() -> StunMessage {
    StunMessage::binding_request(LONG_TERM_TID)
        .with(Attribute::Username(LONG_TERM_USERNAME.into()))
        .with(Attribute::Nonce(NONCE.into()))
        .with(Attribute::Realm(REALM.into()))
}

#[test]
fn request_vector_verifies_integrity_and_fingerprint() {
    let view = StunView::new_checked(&REQUEST).unwrap();
    assert!(view.verify_integrity(&short_term_key()));
    assert!(view.has_fingerprint());
    assert!(view.fingerprint_ok());
}

#[test]
fn request_vector_exposes_its_attributes() {
    let view = StunView::new_checked(&REQUEST).unwrap();
    assert_eq!(
        (view.class(), view.method()),
        (Class::Request, Method::BINDING)
    );
    assert_eq!(view.transaction_id(), TID);
    assert_eq!(view.software(), Some("STUN test client"));
    assert_eq!(view.priority(), Some(0x6e00_01ff));
    assert_eq!(view.ice_controlled(), Some(0x932f_f9b1_5126_3b36));
    assert_eq!(view.ice_controlling(), None);
    assert!(!view.use_candidate());
    assert_eq!(view.username(), Some("evtj:h6vY"));
    assert_eq!(view.unknown_comprehension_required().count(), 0);
}

#[test]
fn request_vector_parses_to_owned_repr() {
    assert_eq!(StunMessage::parse(&REQUEST), Ok(request_repr()));
}

#[test]
fn request_vector_is_rebuilt_byte_exact() {
    let bytes = request_repr()
        .encode(Some(&short_term_key()), true)
        .unwrap();
    assert_eq!(bytes, REQUEST);
}

#[test]
fn ipv4_response_vector_verifies_integrity_and_fingerprint() {
    let view = StunView::new_checked(&RESPONSE_V4).unwrap();
    assert!(view.verify_integrity(&short_term_key()));
    assert!(view.fingerprint_ok());
}

#[test]
fn ipv4_response_vector_decodes_xor_mapped_address() {
    let view = StunView::new_checked(&RESPONSE_V4).unwrap();
    assert_eq!(view.class(), Class::Success);
    assert_eq!(view.software(), Some("test vector"));
    assert_eq!(view.xor_mapped_address(), Some(v4_mapped()));
    assert_eq!(
        StunMessage::parse(&RESPONSE_V4),
        Ok(response_repr(v4_mapped()))
    );
}

#[test]
fn ipv4_response_vector_is_rebuilt_byte_exact() {
    let bytes = response_repr(v4_mapped())
        .encode(Some(&short_term_key()), true)
        .unwrap();
    assert_eq!(bytes, RESPONSE_V4);
}

#[test]
fn ipv6_response_vector_verifies_integrity_and_fingerprint() {
    let view = StunView::new_checked(&RESPONSE_V6).unwrap();
    assert!(view.verify_integrity(&short_term_key()));
    assert!(view.fingerprint_ok());
}

#[test]
fn ipv6_response_vector_decodes_xor_mapped_address() {
    let view = StunView::new_checked(&RESPONSE_V6).unwrap();
    assert_eq!(view.xor_mapped_address(), Some(v6_mapped()));
    assert_eq!(
        StunMessage::parse(&RESPONSE_V6),
        Ok(response_repr(v6_mapped()))
    );
}

#[test]
fn ipv6_response_vector_is_rebuilt_byte_exact() {
    let bytes = response_repr(v6_mapped())
        .encode(Some(&short_term_key()), true)
        .unwrap();
    assert_eq!(bytes, RESPONSE_V6);
}

#[test]
fn long_term_vector_verifies_integrity() {
    let view = StunView::new_checked(&LONG_TERM_REQUEST).unwrap();
    assert!(view.verify_integrity(&long_term_key()));
    assert!(!view.has_fingerprint());
    assert!(!view.fingerprint_ok());
}

#[test]
fn long_term_vector_exposes_username_nonce_realm() {
    let view = StunView::new_checked(&LONG_TERM_REQUEST).unwrap();
    assert_eq!(view.username(), Some(LONG_TERM_USERNAME));
    assert_eq!(view.nonce(), Some(NONCE));
    assert_eq!(view.realm(), Some(REALM));
    assert_eq!(StunMessage::parse(&LONG_TERM_REQUEST), Ok(long_term_repr()));
}

#[test]
fn long_term_vector_is_rebuilt_byte_exact() {
    let bytes = long_term_repr()
        .encode(Some(&long_term_key()), false)
        .unwrap();
    assert_eq!(bytes, LONG_TERM_REQUEST);
}

#[test]
fn every_vector_reencodes_identically_after_parse() {
    let cases: [(&[u8], IntegrityKey, bool); 4] = [
        (&REQUEST, short_term_key(), true),
        (&RESPONSE_V4, short_term_key(), true),
        (&RESPONSE_V6, short_term_key(), true),
        (&LONG_TERM_REQUEST, long_term_key(), false),
    ];
    for (bytes, key, fingerprint) in cases {
        let parsed = StunMessage::parse(bytes).unwrap();
        assert_eq!(parsed.encode(Some(&key), fingerprint).unwrap(), bytes);
    }
}

#[test]
fn wrong_password_fails_integrity() {
    let view = StunView::new_checked(&REQUEST).unwrap();
    assert!(!view.verify_integrity(&IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBu")));
    let view = StunView::new_checked(&LONG_TERM_REQUEST).unwrap();
    let key = IntegrityKey::long_term(LONG_TERM_USERNAME, REALM, "TheMatrix");
    assert!(!view.verify_integrity(&key));
}

#[test]
fn flipped_bit_before_integrity_fails_integrity() {
    for bit in (20 * 8..76 * 8).step_by(7) {
        let mut bytes = REQUEST;
        bytes[bit / 8] ^= 1 << (bit % 8);
        // The flip may break framing; if the message still parses, integrity must fail.
        if let Ok(view) = StunView::new_checked(&bytes) {
            assert!(!view.verify_integrity(&short_term_key()), "bit {bit}");
        }
    }
}

#[test]
fn flipped_bit_in_header_fails_integrity() {
    let mut bytes = REQUEST;
    bytes[19] ^= 0x01; // last transaction id byte
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(!view.verify_integrity(&short_term_key()));
}

#[test]
fn flipped_bit_in_integrity_value_fails_integrity_only() {
    let mut bytes = REQUEST;
    bytes[80] ^= 0x80; // first MESSAGE-INTEGRITY byte
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(!view.verify_integrity(&short_term_key()));
    assert!(
        !view.fingerprint_ok(),
        "FINGERPRINT covers MESSAGE-INTEGRITY too"
    );
}

#[test]
fn flipped_bit_in_fingerprint_value_fails_fingerprint_only() {
    let mut bytes = RESPONSE_V4;
    bytes[79] ^= 0x01;
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(!view.fingerprint_ok());
    assert!(view.verify_integrity(&short_term_key()));
}

#[test]
fn flipped_bit_anywhere_fails_fingerprint() {
    for bit in (20 * 8..72 * 8).step_by(5) {
        let mut bytes = RESPONSE_V4;
        bytes[bit / 8] ^= 1 << (bit % 8);
        if let Ok(view) = StunView::new_checked(&bytes) {
            assert!(!view.fingerprint_ok(), "bit {bit}");
        }
    }
}

#[test]
fn truncated_vectors_are_rejected() {
    for vector in [&REQUEST[..], &RESPONSE_V4, &RESPONSE_V6, &LONG_TERM_REQUEST] {
        for len in 0..vector.len() {
            assert!(StunView::new_checked(&vector[..len]).is_err(), "len {len}");
            assert!(StunMessage::parse(&vector[..len]).is_err(), "len {len}");
        }
    }
}

#[test]
fn truncated_with_patched_length_is_rejected_as_overrun() {
    // Cut in the middle of USERNAME and make the header agree with the new size.
    let mut bytes = REQUEST[..68].to_vec();
    bytes[2..4].copy_from_slice(&48u16.to_be_bytes());
    assert_eq!(
        StunView::new_checked(&bytes).unwrap_err(),
        StunError::AttributeOverrun { offset: 60 }
    );
}
