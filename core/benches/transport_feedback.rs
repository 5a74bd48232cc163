//! Transport-cc feedback on the receiving side, per received packet: recording its
//! transport-wide sequence number and arrival, and building the feedback every 100 ms, as a
//! connection receiving 10,000 packets a second (about 100 Mbit/s of video) does. One loss
//! in fifty packets, so messages mix run-length and status-vector chunks.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::media::TransportFeedbackReceiver;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Packets per iteration: one second at 10,000 packets per second.
const PACKETS: u64 = 10_000;

fn one_second(start: Instant) -> usize {
    let mut r = TransportFeedbackReceiver::default();
    let mut messages = 0;
    for i in 0..PACKETS {
        let now = start + Duration::from_micros(i * 100);
        if let Some(at) = r.deadline().filter(|&at| at <= now) {
            messages += r.poll_feedback(at, 1).len();
        }
        if i % 50 != 7 {
            r.on_packet(now, i as u16, 0x1234_5678);
        }
    }
    messages
}

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut group = c.benchmark_group("transport_feedback");
    group.throughput(Throughput::Elements(PACKETS));
    group.bench_function("record_and_report_10k_packets", |b| {
        b.iter(|| black_box(one_second(black_box(start))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
