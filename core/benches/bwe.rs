//! The send-side bandwidth estimator, per packet: each of 10,000 packets a second (about
//! 100 Mbit/s of video) is told to the estimator as it leaves, recorded by a transport-cc
//! receiver, and the receiver's feedback (every 100 ms) is fed back to the estimator: what
//! a sending connection pays for bandwidth estimation, with the receiving side's cost (see
//! the `transport_feedback` bench) included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::media::TransportFeedbackReceiver;
use rtcpeer::media::bwe::{BweConfig, SendSideBwe};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Packets per iteration: one second at 10,000 packets per second.
const PACKETS: u64 = 10_000;

fn one_second(start: Instant) -> u64 {
    let mut bwe = SendSideBwe::new(BweConfig::default());
    let mut receiver = TransportFeedbackReceiver::default();
    for i in 0..PACKETS {
        let now = start + Duration::from_micros(i * 100);
        let seq = i as u16;
        bwe.on_packet_sent(seq, 1200, now, None);
        // 20 ms one way; one loss in fifty.
        let arrival = now + Duration::from_millis(20);
        if i % 50 != 7 {
            receiver.on_packet(arrival, seq, 0x1234_5678);
        }
        if let Some(at) = receiver.deadline().filter(|&at| at <= arrival) {
            for fb in receiver.poll_feedback(at, 1) {
                bwe.on_feedback(&fb, at + Duration::from_millis(20));
            }
        }
        if i % 250 == 0 {
            bwe.on_timer(now);
            while bwe.take_probe().is_some() {}
        }
    }
    bwe.target_bitrate()
}

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut group = c.benchmark_group("bwe");
    group.throughput(Throughput::Elements(PACKETS));
    group.bench_function("estimate_10k_packets_with_feedback", |b| {
        b.iter(|| black_box(one_second(black_box(start))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
