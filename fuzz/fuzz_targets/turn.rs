//! Fuzz the TURN codecs and client: ChannelData parses back to what re-encodes as a prefix
//! of the input; stream framing never panics; an allocated client and the sans-IO server
//! take arbitrary datagrams without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::Rng;
use rtcpeer::turn::channel_data::{ChannelData, stream_frame_len};
use rtcpeer::turn::server::{TurnServer, TurnServerConfig};
use rtcpeer::turn::{TurnClient, TurnClientConfig};
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    if let Ok(cd) = ChannelData::parse(data) {
        let encoded = ChannelData::encode(cd.channel, cd.payload);
        assert!(data.starts_with(&encoded));
    }
    let _ = stream_frame_len(data);
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let server_addr = "198.51.100.5:3478".parse().expect("addr");
    let client_addr = "203.0.113.9:5000".parse().expect("addr");
    let mut client = TurnClient::new(
        TurnClientConfig::new(server_addr, "u", "p"),
        client_addr,
        Rng::from_u64(1),
    );
    client.start(now);
    let _ = client.handle_receive(now, data);
    client.handle_timeout(now);
    let mut server = TurnServer::new(TurnServerConfig::new(server_addr, "r", "u", "p"));
    server.handle_receive(now, client_addr, server_addr, data);
    server.handle_receive(
        now,
        client_addr,
        "198.51.100.5:49152".parse().expect("addr"),
        data,
    );
    while server.poll_transmit().is_some() {}
});
