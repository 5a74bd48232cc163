//! RTP/RTCP wire hot paths: checking a received video packet's header (view + extension
//! lookups) and writing an owned header into a reused buffer, as a forwarder does per
//! packet; parsing a typical compound RTCP datagram.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::rtp::rtcp::{
    GenericNack, ReceiverReport, ReportBlock, RtcpPacket, Sdes, SenderReport, TransportCc,
    parse_compound,
};
use rtcpeer::rtp::{RtpHeader, RtpPacket};
use std::hint::black_box;

/// A 1,200-byte VP8 packet with abs-send-time, transport-cc and mid extensions.
fn video_packet() -> (RtpHeader, Vec<u8>) {
    let header = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 4711,
        timestamp: 0x1234_5678,
        ssrc: 0x4f1b_8c2a,
        csrcs: vec![],
        extensions: vec![
            (2, vec![0x12, 0x34, 0x56]),
            (3, vec![0, 7]),
            (4, b"0".to_vec()),
        ],
    };
    let mut bytes = Vec::new();
    header.write_to(&mut bytes);
    bytes.resize(1200, 0xab);
    (header, bytes)
}

fn bench_rtp(c: &mut Criterion) {
    let (header, bytes) = video_packet();
    let mut out = Vec::with_capacity(64);
    let mut group = c.benchmark_group("rtp");
    group.throughput(Throughput::Elements(1));
    group.bench_function("view_parse", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&bytes[..])).expect("valid packet");
            black_box((
                p.sequence_number(),
                p.ssrc(),
                p.extension(3).map(<[u8]>::len),
                p.payload().len(),
            ))
        })
    });
    group.bench_function("header_write", |b| {
        b.iter(|| {
            out.clear();
            black_box(&header).write_to(&mut out);
            black_box(out.len())
        })
    });
    group.bench_function("parse_and_write", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&bytes[..])).expect("valid packet");
            let seq = p.sequence_number();
            let twcc = p.extension(3).map(<[u8]>::len);
            out.clear();
            black_box(&header).write_to(&mut out);
            black_box((seq, twcc, p.payload().len(), out.len()))
        })
    });
    group.bench_function("owned_parse", |b| {
        b.iter(|| black_box(RtpHeader::parse(black_box(&bytes[..])).expect("valid")))
    });
    group.finish();
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
criterion_main!(benches);
