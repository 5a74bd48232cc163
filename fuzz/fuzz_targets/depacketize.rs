//! Fuzz every depacketizer: the input is split into payloads (a length byte before each),
//! fed as one frame to each codec's depacketizer, with the RTP-level questions asked of
//! every payload. Nothing may panic and the output may not outgrow the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::media::codec::RtpCodec;
use rtcpeer::media::packetize::{SUPPORTED_CODECS, depacketizer_for};

fuzz_target!(|data: &[u8]| {
    let mut payloads = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        payloads.push(&tail[..len]);
        rest = &tail[len..];
    }
    for name in SUPPORTED_CODECS {
        let codec = RtpCodec::new(*name, 90_000, None);
        let mut d = depacketizer_for(&codec).expect("supported");
        let mut out = Vec::new();
        d.reset();
        for p in &payloads {
            let _ = (d.is_frame_start(p), d.is_keyframe(p));
            if d.depacketize(p, &mut out).is_err() {
                d.reset();
            }
        }
        assert!(out.len() <= data.len() * 3 + 16);
    }
});
