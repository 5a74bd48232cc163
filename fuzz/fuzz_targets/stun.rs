//! Fuzz the STUN codec: the checked view with every accessor and verification, the owned
//! parser, and re-encoding of whatever parses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::stun::{IntegrityKey, StunMessage, StunView, looks_like_stun};

fuzz_target!(|data: &[u8]| {
    let key = IntegrityKey::short_term("fuzzing-password");
    let _ = looks_like_stun(data);
    if let Ok(view) = StunView::new_checked(data) {
        let _ = (view.class(), view.method(), view.transaction_id());
        let _ = view.attributes().count();
        let _ = view.unknown_comprehension_required().count();
        let _ = (view.username(), view.realm(), view.nonce(), view.software());
        let _ = (view.priority(), view.use_candidate());
        let _ = (view.ice_controlling(), view.ice_controlled());
        let _ = (view.xor_mapped_address(), view.mapped_address());
        let _ = (view.alternate_server(), view.error_code(), view.unknown_attributes());
        let _ = (view.verify_integrity(&key), view.verify_integrity_sha256(&key));
        let _ = (view.fingerprint_ok(), view.to_string());
    }
    if let Ok(message) = StunMessage::parse(data) {
        // Whatever parses re-encodes (unless the added MESSAGE-INTEGRITY and FINGERPRINT
        // push it past the size limit), and the result parses back to the same message.
        let Ok(bytes) = message.encode(Some(&key), true) else {
            assert!(data.len() > 65_535 - 32);
            return;
        };
        let view = StunView::new_checked(&bytes).expect("encoder output is well formed");
        assert!(view.verify_integrity(&key) && view.fingerprint_ok());
        assert_eq!(StunMessage::from_view(&view).as_ref(), Ok(&message));
    }
});
