//! STUN hot paths of an ICE agent: building a connectivity check into a reused buffer, and
//! checking one that arrived (view + MESSAGE-INTEGRITY + FINGERPRINT).

use criterion::{Criterion, criterion_group, criterion_main};
use rtcpeer::stun::{Attribute, IntegrityKey, StunMessage, StunView, TransactionId};
use std::hint::black_box;

fn check_request(tid: TransactionId) -> StunMessage {
    StunMessage::binding_request(tid)
        .with(Attribute::Username("remoteUfrag:localUfrag".into()))
        .with(Attribute::Priority(0x6e00_01ff))
        .with(Attribute::IceControlling(0x932f_f9b1_5126_3b36))
        .with(Attribute::UseCandidate)
}

fn bench_build(c: &mut Criterion) {
    let key = IntegrityKey::short_term("abcdefghijklmnopqrstuv");
    let message = check_request(TransactionId([7; 12]));
    let mut buf = Vec::with_capacity(256);
    c.bench_function("stun/build_ice_check_mi_fp", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&message)
                .encode_into(&mut buf, Some(&key), true)
                .expect("a small message encodes");
            black_box(buf.len())
        })
    });
}

fn bench_check(c: &mut Criterion) {
    let key = IntegrityKey::short_term("abcdefghijklmnopqrstuv");
    let bytes = check_request(TransactionId([7; 12]))
        .encode(Some(&key), true)
        .expect("a small message encodes");
    c.bench_function("stun/view_verify_mi_fp", |b| {
        b.iter(|| {
            let view = StunView::new_checked(black_box(&bytes)).expect("valid message");
            black_box(view.fingerprint_ok() && view.verify_integrity(&key))
        })
    });
}

/// Breakdown: the HMAC-SHA1 alone (key setup included) over a message-sized input.
fn bench_hmac(c: &mut Criterion) {
    let data = [0x5a_u8; 76];
    c.bench_function("stun/breakdown_hmac_sha1_76_bytes", |b| {
        b.iter(|| rtcpeer::crypto::hmac_sha1(black_box(b"abcdefghijklmnopqrstuv"), &[&data]))
    });
}

/// Breakdown: the view and FINGERPRINT without MESSAGE-INTEGRITY.
fn bench_view_fingerprint(c: &mut Criterion) {
    let bytes = check_request(TransactionId([7; 12]))
        .encode(None, true)
        .expect("a small message encodes");
    c.bench_function("stun/breakdown_view_fingerprint", |b| {
        b.iter(|| {
            let view = StunView::new_checked(black_box(&bytes)).expect("valid message");
            black_box(view.fingerprint_ok())
        })
    });
}

criterion_group!(
    benches,
    bench_build,
    bench_check,
    bench_hmac,
    bench_view_fingerprint
);
criterion_main!(benches);
