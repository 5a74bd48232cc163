//! TURN hot path per datagram: wrapping a 1,200-byte DTLS record into ChannelData (what a
//! relayed data path adds on send) and unwrapping it (on receive), next to the DTLS record
//! seal and open every data channel datagram already pays (`dtls/aes128gcm_1200`), so the
//! relative cost of the relay framing can be read off.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::Rng;
use rtcpeer::turn::server::{TurnServer, TurnServerConfig};
use rtcpeer::turn::{ChannelData, Received, TurnClient, TurnClientConfig};
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

/// A client with an allocation and a bound channel to `peer`, made against the sans-IO
/// server.
fn bound_client(peer: SocketAddr) -> TurnClient {
    let server_addr: SocketAddr = "198.51.100.5:3478".parse().expect("addr");
    let me: SocketAddr = "203.0.113.9:5000".parse().expect("addr");
    let mut server = TurnServer::new(TurnServerConfig::new(server_addr, "r", "u", "p"));
    let mut client = TurnClient::new(
        TurnClientConfig::new(server_addr, "u", "p"),
        me,
        Rng::from_u64(1),
    );
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    client.start(now);
    for round in 0..8 {
        if round == 4 {
            client.ensure_channel(now, peer);
        }
        while let Some(d) = client.poll_transmit() {
            server.handle_receive(now, me, server_addr, &d);
        }
        while let Some(t) = server.poll_transmit() {
            let _ = client.handle_receive(now, &t.payload);
        }
    }
    assert!(client.channel(peer).is_some(), "channel bound");
    client
}

fn channel_data(c: &mut Criterion) {
    let peer: SocketAddr = "192.0.2.7:6000".parse().expect("addr");
    let mut client = bound_client(peer);
    let record = vec![0x17u8; 1200];
    let framed = ChannelData::encode(client.channel(peer).expect("bound"), &record);
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut group = c.benchmark_group("turn/channel_data_1200");
    group.throughput(Throughput::Bytes(1200));
    group.bench_function("client_wrap", |b| {
        b.iter(|| black_box(client.wrap(peer, black_box(&record)).map(|v| v.len())))
    });
    group.bench_function("client_unwrap", |b| {
        b.iter(|| match client.handle_receive(now, black_box(&framed)) {
            Received::Relayed { data, .. } => black_box(data.len()),
            _ => 0,
        })
    });
    group.finish();
}

criterion_group!(benches, channel_data);
criterion_main!(benches);
