//! DTLS hot paths: a full handshake between two in-memory endpoints (certificates made
//! beforehand), certificate generation on its own, and AES-128-GCM record seal + open of
//! 1,200-byte records.
#![allow(clippy::disallowed_methods)] // benchmarks read the real clock for a base instant

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::Rng;
use rtcpeer::crypto::aead::AesGcmKey;
use rtcpeer::dtls::{
    CertificateValidity, ContentType, Dtls, DtlsCertificate, DtlsConfig, DtlsRole, DtlsState,
    RecordCipher, RecordView,
};
use std::hint::black_box;
use std::time::Instant;

fn handshake(c: &mut Criterion) {
    let mut rng = Rng::from_u64(1);
    let cc = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
    let sc = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
    let mut client_config = DtlsConfig::new(DtlsRole::Client, cc.clone());
    client_config.remote_fingerprint = Some(sc.fingerprint());
    let mut server_config = DtlsConfig::new(DtlsRole::Server, sc);
    server_config.remote_fingerprint = Some(cc.fingerprint());
    let now = Instant::now();
    let mut seed = 0u64;
    c.bench_function("dtls/handshake_in_memory", |b| {
        b.iter(|| {
            seed += 1;
            let mut rng = Rng::from_u64(seed);
            let mut client = Dtls::new(client_config.clone(), rng.child()).unwrap();
            let mut server = Dtls::new(server_config.clone(), rng.child()).unwrap();
            client.start(now);
            while client.state() != DtlsState::Connected || server.state() != DtlsState::Connected {
                // Steps due "now" (the client's flight tail) run before the next exchange.
                client.handle_timeout(now);
                server.handle_timeout(now);
                let mut moved = false;
                while let Some(d) = client.poll_transmit() {
                    server.handle_receive(now, &d);
                    moved = true;
                }
                while let Some(d) = server.poll_transmit() {
                    client.handle_receive(now, &d);
                    moved = true;
                }
                assert!(moved, "handshake stalled");
            }
            black_box((client, server))
        })
    });
}

fn certificate(c: &mut Criterion) {
    let mut rng = Rng::from_u64(2);
    c.bench_function("dtls/certificate_generate", |b| {
        b.iter(|| DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap())
    });
}

fn records(c: &mut Criterion) {
    let cipher = RecordCipher::new(&[7; 16], [1, 2, 3, 4]).unwrap();
    let payload = vec![0xabu8; 1200];
    let mut out = Vec::with_capacity(2048);
    let mut scratch = Vec::with_capacity(2048);
    let mut seq = 0u64;
    let mut group = c.benchmark_group("dtls/aes128gcm_1200");
    group.throughput(Throughput::Bytes(1200));
    group.bench_function("record_seal_open", |b| {
        b.iter(|| {
            seq += 1;
            out.clear();
            cipher.seal_record(
                &mut out,
                ContentType::APPLICATION_DATA,
                0xfefd,
                1,
                seq,
                &payload,
            );
            let (rec, _) = RecordView::parse(&out).unwrap();
            let plain = cipher.open_record(&rec, &mut scratch).unwrap();
            black_box(plain.len())
        })
    });
    group.bench_function("record_seal", |b| {
        b.iter(|| {
            seq += 1;
            out.clear();
            cipher.seal_record(
                &mut out,
                ContentType::APPLICATION_DATA,
                0xfefd,
                1,
                seq,
                &payload,
            );
            black_box(out.len())
        })
    });
    let key = AesGcmKey::new(&[7; 16]).unwrap();
    let mut buf = payload.clone();
    group.bench_function("raw_aes_gcm_seal", |b| {
        b.iter(|| black_box(key.seal_in_place(&[0; 12], &[], &mut buf)))
    });
    group.finish();
}

criterion_group!(benches, handshake, certificate, records);
criterion_main!(benches);
