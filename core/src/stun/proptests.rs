//! Property tests: owned → bytes → owned round trips for arbitrary attribute lists, and
//! arbitrary or mutated bytes never make the view or the parser panic.

use super::*;
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<u32>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(Ipv4Addr::from(ip).into(), port)),
        (any::<u128>(), any::<u16>()).prop_map(|(ip, port)| {
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, 0))
        }),
    ]
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        socket_addr().prop_map(Attribute::MappedAddress),
        socket_addr().prop_map(Attribute::XorMappedAddress),
        socket_addr().prop_map(Attribute::AlternateServer),
        text().prop_map(Attribute::Username),
        text().prop_map(Attribute::Realm),
        text().prop_map(Attribute::Nonce),
        text().prop_map(Attribute::Software),
        (300u16..700, text())
            .prop_map(|(code, reason)| Attribute::ErrorCode(ErrorCode::new(code, reason).unwrap())),
        vec(any::<u16>(), 0..8).prop_map(Attribute::UnknownAttributes),
        any::<u32>().prop_map(Attribute::Priority),
        Just(Attribute::UseCandidate),
        any::<u64>().prop_map(Attribute::IceControlled),
        any::<u64>().prop_map(Attribute::IceControlling),
        (
            any::<u16>().prop_filter("not a type the codec understands", |t| {
                !AttributeType(*t).is_understood()
            }),
            vec(any::<u8>(), 0..40)
        )
            .prop_map(|(typ, value)| Attribute::Unknown { typ, value }),
    ]
}

fn class() -> impl Strategy<Value = Class> {
    prop_oneof![
        Just(Class::Request),
        Just(Class::Indication),
        Just(Class::Success),
        Just(Class::Error),
    ]
}

fn message() -> impl Strategy<Value = StunMessage> {
    (
        class(),
        0u16..0x1000,
        any::<[u8; 12]>(),
        vec(attribute(), 0..12),
        any::<u8>(),
    )
        .prop_map(|(class, method, tid, attributes, padding)| {
            let method = Method::new(method).unwrap();
            let mut m = StunMessage::new(class, method, TransactionId(tid));
            m.attributes = attributes;
            // The parser can only recover the padding byte if some value needs padding.
            let padded = m.attributes.iter().any(|a| a.value_len() % 4 != 0);
            m.padding = if padded { padding } else { 0 };
            m
        })
}

/// Calls every accessor of a view; none may panic.
fn exercise(view: &StunView<'_>) {
    let key = IntegrityKey::short_term("key");
    let _ = (view.class(), view.method(), view.transaction_id());
    let _ = view.attributes().count();
    let _ = view.unknown_comprehension_required().count();
    let _ = (view.username(), view.realm(), view.nonce(), view.software());
    let _ = (view.priority(), view.use_candidate());
    let _ = (view.ice_controlling(), view.ice_controlled());
    let _ = (view.xor_mapped_address(), view.mapped_address());
    let _ = (
        view.alternate_server(),
        view.error_code(),
        view.unknown_attributes(),
    );
    let _ = (
        view.verify_integrity(&key),
        view.verify_integrity_sha256(&key),
    );
    let _ = (view.fingerprint_ok(), view.to_string());
}

proptest! {
    #[test]
    fn owned_message_round_trips_through_bytes(m in message()) {
        let bytes = m.encode(None, false).unwrap();
        prop_assert_eq!(StunMessage::parse(&bytes), Ok(m));
    }

    #[test]
    fn protected_message_round_trips_and_verifies(m in message(), fingerprint: bool) {
        let key = IntegrityKey::short_term("pw");
        let bytes = m.encode(Some(&key), fingerprint).unwrap();
        let view = StunView::new_checked(&bytes).unwrap();
        prop_assert!(view.verify_integrity(&key));
        prop_assert_eq!(view.fingerprint_ok(), fingerprint);
        prop_assert_eq!(StunMessage::from_view(&view), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..160)) {
        if let Ok(view) = StunView::new_checked(&bytes) {
            exercise(&view);
        }
        let _ = StunMessage::parse(&bytes);
        let _ = looks_like_stun(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        m in message(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let key = IntegrityKey::short_term("key");
        let mut bytes = m.encode(Some(&key), true).unwrap();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        let len = cut.index(bytes.len() + 1);
        for b in [&bytes[..], &bytes[..len]] {
            if let Ok(view) = StunView::new_checked(b) {
                exercise(&view);
            }
            let _ = StunMessage::parse(b);
        }
    }

    #[test]
    fn whatever_parses_reencodes_to_the_same_message(
        m in message(),
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        // The same property the fuzz target asserts, on mutated but often valid input.
        let key = IntegrityKey::short_term("key");
        let mut bytes = m.encode(None, false).unwrap();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if let Ok(parsed) = StunMessage::parse(&bytes) {
            let again = parsed.encode(Some(&key), true).unwrap();
            let view = StunView::new_checked(&again).unwrap();
            prop_assert!(view.verify_integrity(&key) && view.fingerprint_ok());
            prop_assert_eq!(StunMessage::from_view(&view), Ok(parsed));
        }
    }
}
