//! Payload formats and frame assembly hot paths: packetize + depacketize of 100 kB VP8,
//! H.264 and AV1 frames into 1,200-byte payloads (throughput in frame bytes), and the frame
//! assembler fed VP8 packets with some reordering (throughput in packets).

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::media::assembler::{AssemblerConfig, AssemblerPacket, FrameAssembler};
use rtcpeer::media::codec::RtpCodec;
use rtcpeer::media::packetize::vp8::Vp8Depacketizer;
use rtcpeer::media::packetize::{depacketizer_for, packetizer_for};
use std::hint::black_box;
use std::time::{Duration, Instant};

const FRAME: usize = 100_000;
const MTU_PAYLOAD: usize = 1200;

/// A frame of `FRAME` bytes in the codec's bitstream, without accidental start codes.
fn frame(codec: &str) -> Vec<u8> {
    let body: Vec<u8> = (0..FRAME).map(|i| (i % 251) as u8 | 1).collect();
    match codec {
        "H264" => [&[0, 0, 0, 1, 0x65][..], &body].concat(),
        "AV1" => {
            let mut f = vec![0x32];
            let mut n = body.len() as u64;
            while n >= 0x80 {
                f.push((n as u8) | 0x80);
                n >>= 7;
            }
            f.push(n as u8);
            f.extend_from_slice(&body);
            f
        }
        _ => body,
    }
}

fn payload_formats(c: &mut Criterion) {
    let mut group = c.benchmark_group("packetize+depacketize");
    for name in ["VP8", "H264", "AV1"] {
        let mut codec = RtpCodec::new(name, 90_000, None);
        codec
            .fmtp
            .push(("packetization-mode".into(), Some("1".into())));
        let data = frame(name);
        let mut packetizer = packetizer_for(&codec, 1).expect("known codec");
        let mut depacketizer = depacketizer_for(&codec).expect("known codec");
        let mut out = Vec::with_capacity(FRAME + 64);
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let payloads = packetizer
                    .packetize(black_box(&data), MTU_PAYLOAD)
                    .expect("ok");
                out.clear();
                depacketizer.reset();
                for p in &payloads {
                    depacketizer.depacketize(p, &mut out).expect("ok");
                }
                black_box(out.len())
            })
        });
    }
    group.finish();
}

/// 2,000 VP8 packets, 5 per frame, every fourth pair swapped.
fn assembler_packets() -> Vec<AssemblerPacket> {
    let mut packets: Vec<AssemblerPacket> = (0..2000u16)
        .map(|i| {
            let mut payload = vec![0x80, 0x80, 0x80, 0x01];
            payload[0] |= if i % 5 == 0 { 0x10 } else { 0 };
            payload.extend(std::iter::repeat_n(if i % 5 == 0 { 0x50 } else { 7 }, 1100));
            AssemblerPacket {
                sequence_number: i,
                timestamp: u32::from(i / 5) * 3000,
                marker: i % 5 == 4,
                payload_type: 96,
                payload: Bytes::from(payload),
            }
        })
        .collect();
    for i in (0..packets.len() - 1).step_by(4) {
        packets.swap(i + 1, i + 2);
    }
    packets
}

fn assembler(c: &mut Criterion) {
    let packets = assembler_packets();
    #[allow(clippy::disallowed_methods)] // a bench needs one real instant as a base
    let start = Instant::now();
    let mut group = c.benchmark_group("assembler");
    group.throughput(Throughput::Elements(packets.len() as u64));
    group.bench_function("vp8 packets", |b| {
        b.iter(|| {
            let config = AssemblerConfig::video(90_000);
            let mut a = FrameAssembler::new(config, Box::new(Vp8Depacketizer));
            let mut frames = 0;
            for (i, p) in packets.iter().enumerate() {
                a.handle_packet(start + Duration::from_micros(i as u64 * 100), p.clone());
                while let Some(e) = a.poll_event() {
                    frames += usize::from(matches!(
                        e,
                        rtcpeer::media::assembler::AssemblerEvent::Frame(_)
                    ));
                }
            }
            assert_eq!(frames, 400);
            black_box(frames)
        })
    });
    group.finish();
}

criterion_group!(benches, payload_formats, assembler);
criterion_main!(benches);
