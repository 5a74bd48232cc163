//! SRTP hot paths on 1,200-byte RTP packets: protect and unprotect for AEAD_AES_128_GCM and
//! AES128_CM_HMAC_SHA1_80, and a baseline of raw AES-128-GCM sealing
//! (`encrypt_inout_detached`, the non-deprecated form of `encrypt_in_place_detached`) of the
//! same buffers. After the criterion runs, a summary prints packets per second and the ratio
//! SRTP-GCM-protect / raw-GCM-seal, both per wall-clock second and per second of this
//! thread's CPU time (from `/proc/thread-self/schedstat`), which stays meaningful on a
//! machine busy with other work.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use criterion::{Criterion, Throughput, criterion_group};
use rtcpeer::srtp::{SrtpConfig, SrtpContext, SrtpProfile};
use std::hint::black_box;
use timing::{Spent, Stamp, line, rate, ratio};

mod timing;

const PACKET_LEN: usize = 1200;
const HEADER_LEN: usize = 12;
/// Packets protected ahead of a timed unprotect run.
const CHUNK: usize = 512;

fn context(profile: SrtpProfile) -> SrtpContext {
    let key_len = if profile == SrtpProfile::AEAD_AES_256_GCM {
        32
    } else {
        16
    };
    let salt_len = if profile.0 >= 7 { 12 } else { 14 };
    SrtpContext::new(
        profile,
        &vec![3; key_len],
        &vec![5; salt_len],
        &SrtpConfig::default(),
    )
    .unwrap()
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(PACKET_LEN + 64);
    p.extend_from_slice(&[0x80, 0x60]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0xca, 0xfe, 0xba, 0xbe]);
    p.resize(PACKET_LEN, 0xab);
    p
}

/// Protects `iters` packets in place in one buffer; returns the time taken.
fn time_protect(ctx: &mut SrtpContext, iters: u64) -> Spent {
    let mut buf = rtp(0);
    let mut seq = 0u16;
    let start = Stamp::now();
    for _ in 0..iters {
        seq = seq.wrapping_add(1);
        buf.truncate(PACKET_LEN);
        buf[2..4].copy_from_slice(&seq.to_be_bytes());
        ctx.protect_rtp(&mut buf).unwrap();
        black_box(&buf);
    }
    start.spent()
}

/// Unprotects `iters` fresh packets; only the unprotect calls are timed (the packets are
/// protected in chunks beforehand, untimed).
fn time_unprotect(profile: SrtpProfile, iters: u64) -> Spent {
    let (mut tx, mut rx) = (context(profile), context(profile));
    let mut chunk: Vec<Vec<u8>> = (0..CHUNK).map(|_| rtp(0)).collect();
    let mut seq = 0u16;
    let mut total = Spent::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        for p in &mut chunk[..n] {
            seq = seq.wrapping_add(1);
            p.truncate(PACKET_LEN);
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            tx.protect_rtp(p).unwrap();
        }
        let start = Stamp::now();
        for p in &mut chunk[..n] {
            rx.unprotect_rtp(p).unwrap();
        }
        total.add(start.spent());
        black_box(&chunk);
        left -= n as u64;
    }
    total
}

/// Raw AES-128-GCM seal of the payload with the header as AAD, same buffer shape.
fn time_raw_seal(iters: u64) -> Spent {
    let key = Aes128Gcm::new_from_slice(&[3; 16]).unwrap();
    let mut buf = rtp(0);
    let mut nonce = [0u8; 12];
    let start = Stamp::now();
    for i in 0..iters {
        nonce[4..12].copy_from_slice(&i.to_be_bytes());
        let (aad, payload) = buf.split_at_mut(HEADER_LEN);
        let tag = key
            .encrypt_inout_detached(&Nonce::from(nonce), aad, payload.into())
            .unwrap();
        black_box(tag);
    }
    start.spent()
}

const PROFILES: [(&str, SrtpProfile); 2] = [
    ("aes128gcm", SrtpProfile::AEAD_AES_128_GCM),
    ("aes128cm_sha1_80", SrtpProfile::AES128_CM_HMAC_SHA1_80),
];

fn srtp(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp_1200");
    group.throughput(Throughput::Elements(1));
    for (name, profile) in PROFILES {
        let mut ctx = context(profile);
        group.bench_function(format!("{name}/protect"), |b| {
            b.iter_custom(|iters| time_protect(&mut ctx, iters).wall)
        });
        group.bench_function(format!("{name}/unprotect"), |b| {
            b.iter_custom(|iters| time_unprotect(profile, iters).wall)
        });
    }
    group.bench_function("raw_aes128gcm_seal", |b| {
        b.iter_custom(|iters| time_raw_seal(iters).wall)
    });
    group.finish();
}

fn summary() {
    const N: u64 = 200_000;
    let raw = rate(time_raw_seal, N);
    println!(
        "\nsrtp summary (1,200-byte packets, one thread, best of 5 x {N}, load {}):",
        timing::load()
    );
    line("raw aes-128-gcm seal", "pkt", raw);
    for (name, profile) in PROFILES {
        let mut ctx = context(profile);
        let protect = rate(|n| time_protect(&mut ctx, n), N);
        let unprotect = rate(|n| time_unprotect(profile, n), N);
        line(&format!("{name} protect"), "pkt", protect);
        line(&format!("{name} unprotect"), "pkt", unprotect);
        if profile == SrtpProfile::AEAD_AES_128_GCM {
            ratio("srtp-gcm-protect / raw-gcm-seal", protect, raw);
            ratio("srtp-gcm-unprotect / raw-gcm-seal", unprotect, raw);
        }
    }
}

criterion_group!(benches, srtp);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
