//! Fuzz the RTCP parser: every packet of a compound datagram, printed, routed and
//! re-encoded; whatever re-encodes must parse back to the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::rtp::rtcp::parse_compound;

fuzz_target!(|data: &[u8]| {
    for packet in parse_compound(data).flatten() {
        let _ = (packet.to_string(), packet.media_ssrcs(), packet.sender_ssrc());
        let bytes = packet.to_bytes();
        assert_eq!(bytes.len(), packet.encoded_len());
        let mut again = parse_compound(&bytes);
        let reparsed = again.next().expect("one packet").expect("written packet parses");
        // A second encode is stable even where the first normalised (NACK packing,
        // TWCC chunk choice, padding).
        assert_eq!(reparsed.to_bytes(), bytes);
        assert!(again.next().is_none());
    }
});
