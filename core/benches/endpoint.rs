//! Endpoint routing cost per received datagram at 100, 1,000 and 10,000 connections: the
//! 5-tuple look-up of an established session's datagram, and a STUN check whose USERNAME
//! names no connection (the case that used to scan every connection); and through a whole
//! [`Endpoint`] of real connections, a datagram received and the endpoint drained to its
//! timeout (this used to poll every connection). Flat figures across the three sizes show
//! O(1) cost per datagram.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rtcpeer::dtls::{CertificateValidity, DtlsCertificate};
use rtcpeer::endpoint::Router;
use rtcpeer::peer_connection::RtcConfiguration;
use rtcpeer::stun::{Attribute, StunMessage, TransactionId};
use rtcpeer::{ConnectionHandle, Endpoint, EndpointOutput, Rng, Seed};
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

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

/// An endpoint of `n` offering connections sharing one certificate, each with a route
/// learned from a STUN check of `peer_addr(i)`, drained.
fn endpoint(n: u32, local: SocketAddr, now: Instant) -> Endpoint {
    let certificate =
        DtlsCertificate::generate(&mut Rng::from_u64(1), CertificateValidity::fixed())
            .expect("certificate");
    let mut ep = Endpoint::new(Seed::from_u64(7));
    ep.add_local_socket(now, local).expect("socket");
    for i in 0..n {
        let config = RtcConfiguration {
            certificate: Some(certificate.clone()),
            ..RtcConfiguration::default()
        };
        let h = ep.add_peer_connection(config, now).expect("pc");
        let pc = ep.peer_connection(h).expect("just added");
        pc.create_data_channel("c", Default::default()).expect("dc");
        let offer = pc.create_offer().expect("offer");
        pc.set_local_description(offer).expect("sld");
        let check = stun_check(&format!("{}:remote", pc.local_ufrag()));
        ep.handle_receive(now, peer_addr(i), local, &check);
    }
    drain(&mut ep);
    ep
}

fn drain(ep: &mut Endpoint) {
    while !matches!(ep.poll_output(), EndpointOutput::Timeout(_)) {}
}

fn bench_drain(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let local: SocketAddr = "192.0.2.1:3478".parse().expect("literal");
    // An RTP-range datagram before DTLS: routed, then dropped by its connection.
    let payload = [0x80u8; 1200];
    let mut group = c.benchmark_group("endpoint/receive_and_drain");
    group.sample_size(20);
    for n in SIZES {
        let mut ep = endpoint(n, local, now);
        let mut i = 0u32;
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                i = (i + 7919) % n;
                ep.handle_receive(now, peer_addr(i), local, black_box(&payload));
                drain(&mut ep);
            })
        });
        assert!(ep.stats().routed > 0);
    }
    group.finish();
}

criterion_group!(benches, bench, bench_drain);
criterion_main!(benches);
