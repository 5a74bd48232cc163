//! Arbitrary bytes into the SCTP packet and chunk parsers and into an established
//! association (with ports and verification tag patched in so that chunks reach the state
//! machine). Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::Rng;
use rtcpeer::sctp::chunk::Chunk;
use rtcpeer::sctp::packet::PacketView;
use rtcpeer::sctp::{Association, SctpConfig};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = PacketView::new_checked(data.to_vec(), true) {
        for raw in view.chunks().flatten() {
            let _ = Chunk::parse(raw);
        }
    }
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut a = Association::new(SctpConfig::default(), Rng::from_u64(1));
    let mut b = Association::new(SctpConfig::default(), Rng::from_u64(2));
    a.connect(now).expect("closed");
    for _ in 0..4 {
        while let Some(p) = a.poll_transmit(now) {
            b.handle_receive(now, p);
        }
        while let Some(p) = b.poll_transmit(now) {
            a.handle_receive(now, p);
        }
    }
    // Split the input into packets at 0xff 0xff markers, each patched to reach `b`.
    for (i, piece) in data.split(|w| *w == 0xff).enumerate() {
        let mut pkt = vec![0x13, 0x88, 0x13, 0x88];
        pkt.extend_from_slice(&b.verification_tag().to_be_bytes());
        pkt.extend_from_slice(&[0, 0, 0, 0]);
        pkt.extend_from_slice(piece);
        let t = now + Duration::from_millis(i as u64 * 50);
        b.handle_receive(t, pkt);
        while b.poll_transmit(t).is_some() {}
        b.handle_timeout(t);
        while b.poll_event().is_some() {}
    }
});
