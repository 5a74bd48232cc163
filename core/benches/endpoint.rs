//! Endpoint routing cost per received datagram at 100, 1,000 and 10,000 connections: the
//! 5-tuple look-up of an established session's datagram, and a STUN check whose USERNAME
//! names no connection (the case that used to scan every connection). Flat figures across
//! the three sizes show O(1) routing.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rtcpeer::ConnectionHandle;
use rtcpeer::endpoint::Router;
use rtcpeer::stun::{Attribute, StunMessage, TransactionId};
use std::hint::black_box;
use std::net::SocketAddr;

const SIZES: [u32; 3] = [100, 1_000, 10_000];

fn peer_addr(i: u32) -> SocketAddr {
    SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40_000))
}

/// A router of `n` connections, each with a ufrag and one learned route.
fn router(n: u32, local: SocketAddr) -> Router {
    let mut r = Router::new();
    for i in 0..n {
        let h = ConnectionHandle(i);
        r.set_ufrag(h, &format!("u{i:08}"));
        r.learn(h, local, peer_addr(i));
    }
    r
}

fn stun_check(username: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    StunMessage::binding_request(TransactionId([3; 12]))
        .with(Attribute::Username(username.into()))
        .encode_into(&mut buf, None, true)
        .expect("a small message encodes");
    buf
}

fn bench(c: &mut Criterion) {
    let local: SocketAddr = "192.0.2.1:3478".parse().expect("literal");
    let payload = [0x80u8; 1200]; // an SRTP-sized datagram of an established session
    let unknown = stun_check("nobody00:remote");
    let mut group = c.benchmark_group("endpoint/route");
    for n in SIZES {
        let mut r = router(n, local);
        let mut i = 0u32;
        group.bench_with_input(BenchmarkId::new("established_5tuple", n), &n, |b, &n| {
            b.iter(|| {
                i = (i + 7919) % n;
                black_box(r.route(peer_addr(i), local, black_box(&payload)))
            })
        });
        let stranger: SocketAddr = "203.0.113.9:5000".parse().expect("literal");
        group.bench_with_input(BenchmarkId::new("unknown_ufrag_dropped", n), &n, |b, _| {
            b.iter(|| black_box(r.route(stranger, local, black_box(&unknown))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
