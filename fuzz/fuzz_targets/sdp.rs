//! Fuzzes the SDP parser: any bytes must parse or fail without panicking, and whatever parses
//! must print to text that parses back to the same description.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::sdp::{SdpLimits, SessionDescription};

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = SessionDescription::parse_bytes(data, &SdpLimits::default()) {
        let printed = sdp.to_string();
        let reparsed = SessionDescription::parse(&printed).expect("printed SDP parses");
        assert_eq!(reparsed, sdp, "round trip changed the description");
    }
});
