//! Fuzzes `set_remote_description` with arbitrary text, then `create_answer`, then feeds
//! the same bytes as a datagram: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::peer_connection::{Input, PeerConnection, RtcConfiguration, RtcSessionDescription};
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let Ok(mut pc) = PeerConnection::new(RtcConfiguration::with_seed(1), now) else {
        return;
    };
    let text = String::from_utf8_lossy(data).into_owned();
    if pc.set_remote_description(RtcSessionDescription::offer(text)).is_ok() {
        if let Ok(answer) = pc.create_answer() {
            let _ = pc.set_local_description(answer);
        }
    }
    pc.handle_input(now, Input::Receive {
        source: "10.0.0.2:5000".parse().expect("addr"),
        destination: "10.0.0.1:5000".parse().expect("addr"),
        payload: data,
    });
    while let rtcpeer::Output::Transmit(_) | rtcpeer::Output::Event(_) = pc.poll_output() {}
});
