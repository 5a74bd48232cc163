//! Fuzz the RTP codec: the checked view with every accessor and setter, the owned header
//! parser, and re-encoding of whatever parses (which must parse back to the same header).

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::rtp::extensions::{self, ExtensionValue};
use rtcpeer::rtp::{RtpHeader, RtpPacket, is_rtcp};

const URIS: [&str; 9] = [
    extensions::MID,
    extensions::RID,
    extensions::REPAIRED_RID,
    extensions::ABS_SEND_TIME,
    extensions::TRANSPORT_CC,
    extensions::AUDIO_LEVEL,
    extensions::VIDEO_ORIENTATION,
    extensions::ABS_CAPTURE_TIME,
    extensions::PLAYOUT_DELAY,
];

fuzz_target!(|data: &[u8]| {
    let _ = is_rtcp(data);
    if let Ok(view) = RtpPacket::new_checked(data) {
        let _ = (view.marker(), view.payload_type(), view.sequence_number());
        let _ = (view.timestamp(), view.ssrc(), view.csrcs().count());
        let _ = (view.header_len(), view.payload(), view.padding_len());
        for (id, value) in view.extensions() {
            let uri = URIS[usize::from(id) % URIS.len()];
            if let Some(typed) = ExtensionValue::parse(uri, value) {
                let _ = (typed.to_bytes(), typed.to_string());
            }
        }
        let _ = view.to_string();
        let mut owned = data.to_vec();
        let mut writable = RtpPacket::new_checked(&mut owned[..]).expect("same bytes");
        writable.set_sequence_number(writable.sequence_number().wrapping_add(1));
        writable.set_marker(!writable.marker());
    }
    if let Ok((header, _)) = RtpHeader::parse(data) {
        let mut out = Vec::new();
        header.write_to(&mut out);
        assert_eq!(out.len(), header.encoded_len());
        let (again, len) = RtpHeader::parse(&out).expect("written header parses");
        assert_eq!(len, out.len());
        // The writer keeps at most 255 elements (a long two-byte block of empty elements
        // can hold more); below that, writing loses nothing.
        if header.extensions.len() <= rtcpeer::rtp::MAX_EXTENSIONS {
            assert_eq!(again, header);
        }
    }
});
