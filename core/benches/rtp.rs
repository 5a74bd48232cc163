//! RTP/RTCP wire hot paths.
//!
//! RTP, per packet as a WebRTC endpoint or forwarder handles it: parse a received video
//! header the way Chromium sends it (one-byte extensions abs-send-time, transport-wide
//! sequence number and mid) with the borrowed view, reading every field and decoding every
//! extension; and serialize a header with the same extensions into a caller's buffer with
//! [`RtpHeaderRef`]. `rtp/parse_and_serialize` does both per iteration: the figure the
//! issue's acceptance asks for (≥ 20 M/s). The owned, allocating [`RtpHeader`] is measured
//! beside it for comparison. After criterion, a summary prints the rates per wall-clock
//! second and per CPU-second of this thread, with the machine's load.
//!
//! RTCP: parsing a typical compound datagram.

use criterion::{Criterion, Throughput, criterion_group};
use rtcpeer::rtp::rtcp::{
    GenericNack, ReceiverReport, ReportBlock, RtcpPacket, Sdes, SenderReport, TransportCc,
    parse_compound,
};
use rtcpeer::rtp::{RtpHeader, RtpHeaderRef, RtpPacket};
use std::hint::black_box;
use timing::{Spent, Stamp, line, rate, ratio};

mod timing;

/// Extension ids as Chromium offers them.
const ABS_SEND_TIME: u8 = 2;
const TRANSPORT_CC: u8 = 3;
const MID: u8 = 4;

/// A 1,200-byte VP8 packet with abs-send-time, transport-cc and mid extensions.
fn video_packet() -> Vec<u8> {
    let header = RtpHeaderRef {
        marker: true,
        payload_type: 96,
        sequence_number: 4711,
        timestamp: 0x1234_5678,
        ssrc: 0x4f1b_8c2a,
        csrcs: &[],
        extensions: &[
            (ABS_SEND_TIME, &[0x12, 0x34, 0x56]),
            (TRANSPORT_CC, &[0, 7]),
            (MID, b"0"),
        ],
    };
    let mut bytes = Vec::new();
    header.write_to(&mut bytes);
    bytes.resize(1200, 0xab);
    bytes
}

/// What a receiver takes from one RTP header.
#[derive(Debug, Clone, Copy)]
struct Parsed<'a> {
    marker: bool,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    ssrc: u32,
    abs_send_time: u32,
    transport_seq: u16,
    mid: &'a [u8],
    payload_len: usize,
}

/// Checks the packet and reads every header field and extension, without allocating.
fn parse(bytes: &[u8]) -> Parsed<'_> {
    let p = RtpPacket::new_checked(bytes).expect("valid packet");
    let mut parsed = Parsed {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence_number: p.sequence_number(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
        abs_send_time: 0,
        transport_seq: 0,
        mid: &[],
        payload_len: p.payload().len(),
    };
    for (id, value) in p.buffer_extensions() {
        match (id, value) {
            (ABS_SEND_TIME, &[a, b, c]) => parsed.abs_send_time = u32::from_be_bytes([0, a, b, c]),
            (TRANSPORT_CC, &[a, b]) => parsed.transport_seq = u16::from_be_bytes([a, b]),
            (MID, mid) => parsed.mid = mid,
            _ => {}
        }
    }
    parsed
}

/// Writes a header with `h`'s fields and extensions into `out`, without allocating.
fn serialize(h: &Parsed<'_>, out: &mut [u8]) -> usize {
    let abs_send_time = h.abs_send_time.to_be_bytes();
    let transport_seq = h.transport_seq.to_be_bytes();
    let extensions: [(u8, &[u8]); 3] = [
        (ABS_SEND_TIME, &abs_send_time[1..]),
        (TRANSPORT_CC, &transport_seq),
        (MID, h.mid),
    ];
    RtpHeaderRef {
        marker: h.marker,
        payload_type: h.payload_type,
        sequence_number: h.sequence_number,
        timestamp: h.timestamp,
        ssrc: h.ssrc,
        csrcs: &[],
        extensions: &extensions,
    }
    .write_into(out)
    .expect("a 64-byte buffer holds the header")
}

/// Parses the packet and serializes a header for it as a forwarder does: our SSRC, the
/// sequence number and transport-wide number moved on.
fn parse_and_serialize(bytes: &[u8], out: &mut [u8; 64]) -> usize {
    let mut h = parse(bytes);
    h.ssrc = 0x0bad_cafe;
    h.sequence_number = h.sequence_number.wrapping_add(1000);
    h.transport_seq = h.transport_seq.wrapping_add(1);
    serialize(&h, out) + h.payload_len
}

/// The same with the owned header: parse allocates the extension values, write appends.
fn owned_parse_and_write(bytes: &[u8], out: &mut Vec<u8>) -> usize {
    let (mut h, _) = RtpHeader::parse(bytes).expect("valid packet");
    h.ssrc = 0x0bad_cafe;
    h.sequence_number = h.sequence_number.wrapping_add(1000);
    out.clear();
    h.write_to(out);
    out.len()
}

fn bench_rtp(c: &mut Criterion) {
    let bytes = video_packet();
    let parsed = parse(&bytes);
    let mut out = [0u8; 64];
    let mut owned_out = Vec::with_capacity(64);
    let mut group = c.benchmark_group("rtp");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| {
        b.iter(|| parse(black_box(&bytes[..])).payload_len)
    });
    group.bench_function("serialize", |b| {
        b.iter(|| serialize(black_box(&parsed), &mut out))
    });
    group.bench_function("parse_and_serialize", |b| {
        b.iter(|| parse_and_serialize(black_box(&bytes[..]), &mut out))
    });
    group.bench_function("owned_parse_and_write", |b| {
        b.iter(|| owned_parse_and_write(black_box(&bytes[..]), &mut owned_out))
    });
    group.finish();
}

/// `iters` calls of `f` on the packet, timed.
fn time(iters: u64, mut f: impl FnMut(&[u8]) -> usize) -> Spent {
    let bytes = video_packet();
    let start = Stamp::now();
    for _ in 0..iters {
        black_box(f(black_box(&bytes[..])));
    }
    start.spent()
}

fn summary() {
    const N: u64 = 5_000_000;
    println!(
        "\nrtp summary (1,200-byte VP8 packet, 3 extensions, one thread, best of 5 x {N}, load {}):",
        timing::load()
    );
    let mut out = [0u8; 64];
    let mut owned_out = Vec::with_capacity(64);
    let fast = rate(|n| time(n, |b| parse_and_serialize(b, &mut out)), N);
    let owned = rate(|n| time(n, |b| owned_parse_and_write(b, &mut owned_out)), N);
    line("parse + serialize (view, RtpHeaderRef)", "hdr", fast);
    line("parse + write (owned RtpHeader)", "hdr", owned);
    ratio("borrowed / owned", fast, owned);
}

/// SR with one report + SDES CNAME + NACK + 100-packet TWCC: a busy sender's datagram.
fn compound() -> Vec<u8> {
    let block = ReportBlock {
        ssrc: 2,
        highest_seq: 5000,
        ..Default::default()
    };
    let packets = [
        RtcpPacket::SenderReport(SenderReport {
            ssrc: 1,
            ntp_time: 0xe95a_1b2c_3d4e_5f60,
            reports: vec![block],
            ..Default::default()
        }),
        RtcpPacket::Sdes(Sdes::cname(1, "abcdefghijklmnop")),
        RtcpPacket::Nack(GenericNack {
            sender_ssrc: 1,
            media_ssrc: 2,
            lost: vec![100, 101, 105, 130],
        }),
        RtcpPacket::TransportCc(TransportCc {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_seq: 1000,
            reference_time: 5,
            fb_pkt_count: 1,
            packets: (0..100u16)
                .map(|i| (1000 + i, (i % 17 != 0).then_some(i64::from(i % 9) * 4 - 2)))
                .collect(),
        }),
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![block],
        }),
    ];
    let mut out = Vec::new();
    RtcpPacket::write_compound(&packets, &mut out);
    out
}

fn bench_rtcp(c: &mut Criterion) {
    let bytes = compound();
    let mut group = c.benchmark_group("rtcp");
    group.throughput(Throughput::Elements(1));
    group.bench_function("compound_parse", |b| {
        b.iter(|| {
            for packet in parse_compound(black_box(&bytes)) {
                black_box(packet.expect("valid packet"));
            }
        })
    });
    group.bench_function("compound_parse_and_write", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            for p in parse_compound(black_box(&bytes)) {
                p.expect("valid packet").write_to(&mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_rtp, bench_rtcp);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
