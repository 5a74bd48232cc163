//! Fuzz the DCEP codec (RFC 8832): whatever parses must re-encode to a prefix of the input
//! (bytes after a complete message are ignored) and parse back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::datachannel::DcepMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = DcepMessage::parse(data) {
        let encoded = message.to_bytes();
        assert!(data.starts_with(&encoded));
        assert_eq!(DcepMessage::parse(&encoded), Ok(message));
    }
});
