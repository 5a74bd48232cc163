//! Behaviour of [`StunView`] on crafted messages: header checks, framing, the attributes
//! ignored after MESSAGE-INTEGRITY, unknown comprehension-required attributes.

use super::*;

const TID: TransactionId = TransactionId([3; 12]);

fn header(len: u16) -> Vec<u8> {
    let mut h = vec![0x00, 0x01];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    h.extend_from_slice(&TID.0);
    h
}

fn unknown(typ: u16, value: &[u8]) -> Attribute {
    Attribute::Unknown {
        typ,
        value: value.to_vec(),
    }
}

#[test]
fn bad_magic_cookie_is_rejected() {
    let mut bytes = header(0);
    bytes[4] = 0x22;
    assert!(matches!(
        StunView::new_checked(&bytes),
        Err(StunError::BadMagicCookie(_))
    ));
}

#[test]
fn leading_bits_must_be_zero() {
    let mut bytes = header(0);
    bytes[0] = 0x40;
    assert_eq!(
        StunView::new_checked(&bytes).unwrap_err(),
        StunError::NotStun
    );
}

#[test]
fn length_field_must_match_the_datagram() {
    let mut bytes = header(8);
    bytes.extend_from_slice(&[0x80, 0x00, 0x00, 0x00]);
    assert_eq!(
        StunView::new_checked(&bytes).unwrap_err(),
        StunError::LengthMismatch {
            declared: 8,
            actual: 4
        }
    );
}

#[test]
fn length_must_be_a_multiple_of_four() {
    let mut bytes = header(2);
    bytes.extend_from_slice(&[0, 0]);
    assert_eq!(
        StunView::new_checked(&bytes).unwrap_err(),
        StunError::UnalignedLength(2)
    );
}

#[test]
fn attribute_padding_must_fit_in_the_message() {
    let mut bytes = header(8);
    // Length 5 needs 3 bytes of padding: 4 + 5 + 3 = 12 > 8.
    bytes.extend_from_slice(&[0x80, 0x22, 0x00, 0x05, 1, 2, 3, 4]);
    assert_eq!(
        StunView::new_checked(&bytes).unwrap_err(),
        StunError::AttributeOverrun { offset: 20 }
    );
}

#[test]
fn attributes_after_integrity_are_ignored() {
    let key = IntegrityKey::short_term("pw");
    let mut bytes = StunMessage::binding_request(TID)
        .with(Attribute::Priority(1))
        .encode(Some(&key), false)
        .unwrap();
    // Smuggle USE-CANDIDATE and USERNAME after MESSAGE-INTEGRITY.
    bytes.extend_from_slice(&[
        0x00, 0x25, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, b'a', b':', b'b', b'c',
    ]);
    let len = u16::try_from(bytes.len() - HEADER_LEN).unwrap();
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(view.verify_integrity(&key));
    assert!(!view.use_candidate());
    assert_eq!(view.username(), None);
    assert_eq!(view.attributes().count(), 2);
    let parsed = StunMessage::parse(&bytes).unwrap();
    assert_eq!(parsed.attributes, [Attribute::Priority(1)]);
}

#[test]
fn fingerprint_must_be_the_last_attribute() {
    let mut bytes = StunMessage::binding_request(TID)
        .encode(None, true)
        .unwrap();
    bytes.extend_from_slice(&[0x80, 0x22, 0x00, 0x00]);
    bytes[2..4].copy_from_slice(&12u16.to_be_bytes());
    assert!(matches!(
        StunView::new_checked(&bytes),
        Err(StunError::MalformedAttribute { typ: 0x8028, .. })
    ));
}

#[test]
fn integrity_with_wrong_length_is_rejected() {
    let mut bytes = header(8);
    bytes.extend_from_slice(&[0x00, 0x08, 0x00, 0x04, 0, 0, 0, 0]);
    assert!(matches!(
        StunView::new_checked(&bytes),
        Err(StunError::MalformedAttribute { typ: 0x0008, .. })
    ));
}

#[test]
fn missing_integrity_never_verifies() {
    let bytes = StunMessage::binding_request(TID)
        .encode(None, true)
        .unwrap();
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(!view.has_integrity());
    assert!(!view.verify_integrity(&IntegrityKey::short_term("")));
    assert!(!view.verify_integrity_sha256(&IntegrityKey::short_term("")));
}

#[test]
fn integrity_still_verifies_when_fingerprint_follows() {
    let key = IntegrityKey::short_term("pw");
    let bytes = StunMessage::binding_request(TID)
        .with(Attribute::UseCandidate)
        .encode(Some(&key), true)
        .unwrap();
    let view = StunView::new_checked(&bytes).unwrap();
    assert!(view.verify_integrity(&key));
    assert!(view.fingerprint_ok());
}

#[test]
fn unknown_comprehension_required_attributes_are_reported() {
    let bytes = StunMessage::binding_request(TID)
        .with(unknown(0x7F00, b"x"))
        .with(unknown(0x8F00, b"optional"))
        .with(Attribute::Priority(9))
        .with(unknown(0x0003, b""))
        .encode(None, false)
        .unwrap();
    let view = StunView::new_checked(&bytes).unwrap();
    let unknown: Vec<_> = view.unknown_comprehension_required().collect();
    assert_eq!(unknown, [AttributeType(0x7F00), AttributeType(0x0003)]);
}

#[test]
fn malformed_known_attribute_fails_owned_parse_but_not_view() {
    let mut bytes = header(8);
    bytes.extend_from_slice(&[0x00, 0x24, 0x00, 0x02, 0, 1, 0, 0]); // PRIORITY of 2 bytes
    let view = StunView::new_checked(&bytes).unwrap();
    assert_eq!(view.priority(), None);
    assert!(matches!(
        StunMessage::parse(&bytes),
        Err(StunError::MalformedAttribute { typ: 0x0024, .. })
    ));
}

#[test]
fn typed_getters_read_ice_attributes() {
    let bytes = StunMessage::binding_request(TID)
        .with(Attribute::Username("R:L".into()))
        .with(Attribute::Priority(0x1234))
        .with(Attribute::IceControlling(42))
        .with(Attribute::UseCandidate)
        .encode(None, false)
        .unwrap();
    let view = StunView::new_checked(&bytes).unwrap();
    assert_eq!(view.username(), Some("R:L"));
    assert_eq!(view.priority(), Some(0x1234));
    assert_eq!(view.ice_controlling(), Some(42));
    assert!(view.use_candidate());
}

#[test]
fn error_response_getters_read_code_and_unknown_list() {
    let request = StunMessage::binding_request(TID)
        .encode(None, false)
        .unwrap();
    let request = StunView::new_checked(&request).unwrap();
    let bytes = StunMessage::error_response_to(&request, ErrorCode::new(420, "Unknown").unwrap())
        .with(Attribute::UnknownAttributes(vec![0x7F00, 0x0003]))
        .with(Attribute::AlternateServer("[::1]:3478".parse().unwrap()))
        .encode(None, false)
        .unwrap();
    let view = StunView::new_checked(&bytes).unwrap();
    assert_eq!(view.class(), Class::Error);
    assert_eq!(view.error_code().map(|e| e.code()), Some(420));
    assert_eq!(view.unknown_attributes(), Some(vec![0x7F00, 0x0003]));
    assert_eq!(view.alternate_server(), Some("[::1]:3478".parse().unwrap()));
}

#[test]
fn display_names_method_class_and_attributes() {
    let bytes = StunMessage::binding_request(TID)
        .with(Attribute::Priority(1))
        .encode(None, true)
        .unwrap();
    let text = StunView::new_checked(&bytes).unwrap().to_string();
    assert_eq!(
        text,
        "Binding Request 030303030303030303030303 [PRIORITY, FINGERPRINT]"
    );
}

#[test]
fn looks_like_stun_checks_first_byte_length_and_cookie() {
    let bytes = StunMessage::binding_request(TID)
        .encode(None, false)
        .unwrap();
    assert!(looks_like_stun(&bytes));
    assert!(!looks_like_stun(&bytes[..19]));
    let mut dtls = bytes.clone();
    dtls[0] = 22;
    assert!(!looks_like_stun(&dtls));
    let mut rfc3489 = bytes;
    rfc3489[4] = 0;
    assert!(!looks_like_stun(&rfc3489));
}
