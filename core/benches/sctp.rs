//! SCTP throughput between two in-memory associations on one core (no DTLS yet: the
//! figures are SCTP only). Packets go straight from one association to the other; time
//! advances 1 µs per packet so RTT estimates stay sane.
//!
//! - `sctp_16k`: one ordered reliable stream, 16 KiB messages (bytes/s).
//! - `sctp_1k`: 1 KiB messages (messages/s).
//! - `sctp_in_flight/{128k,4m}`: the same with that much data unacknowledged (SACKs are
//!   held back); the cost per packet must not grow with the amount in flight.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::Rng;
use rtcpeer::sctp::{Association, AssociationState, SctpConfig, SctpEvent, SendOptions};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Bench {
    a: Association,
    b: Association,
    now: Instant,
    /// Acknowledgements from b to a held back to keep data in flight.
    pipe: VecDeque<Bytes>,
    pipe_bytes: usize,
    hold: usize,
    delivered: usize,
    messages: usize,
}

impl Bench {
    fn new(zero_checksum: bool, hold: usize) -> Self {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let config = SctpConfig {
            receive_window: 64 << 20,
            zero_checksum,
            ..SctpConfig::default()
        };
        let mut s = Self {
            a: Association::new(config.clone(), Rng::from_u64(1)),
            b: Association::new(config, Rng::from_u64(2)),
            now,
            pipe: VecDeque::new(),
            pipe_bytes: 0,
            hold,
            delivered: 0,
            messages: 0,
        };
        s.a.connect(now).expect("closed");
        while s.a.state() != AssociationState::Established
            || s.b.state() != AssociationState::Established
        {
            s.pump();
        }
        s
    }

    /// Moves packets both ways once; returns how many moved.
    ///
    /// Data goes from `a` to `b` at once; `b`'s acknowledgements are held back while `a`
    /// has no more than `hold` bytes unacknowledged, so `a` keeps that much in flight.
    /// (Holding acknowledgements rather than data keeps the packets themselves out of
    /// memory: the measure is the protocol's per-packet cost, not cache misses on a
    /// simulated network.)
    fn pump(&mut self) -> usize {
        let mut moved = 0;
        self.now += Duration::from_micros(1);
        let mut produced = 0;
        while let Some(p) = self.a.poll_transmit(self.now) {
            produced += 1;
            self.b.handle_receive(self.now, p);
            moved += 1;
        }
        while let Some(p) = self.b.poll_transmit(self.now) {
            self.pipe_bytes += p.len();
            self.pipe.push_back(Bytes::from(p));
        }
        let mut stalled = produced == 0;
        while !self.pipe.is_empty() && (self.a.bytes_in_flight() > self.hold || stalled) {
            let p = self.pipe.pop_front().expect("non-empty");
            self.pipe_bytes -= p.len();
            self.a.handle_receive(self.now, p);
            moved += 1;
            stalled = false;
        }
        while let Some(e) = self.b.poll_event() {
            if let SctpEvent::Message { payload, .. } = e {
                self.delivered += black_box(payload).len();
                self.messages += 1;
            }
        }
        while self.a.poll_event().is_some() {}
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        moved
    }

    /// Sends `count` messages of `msg` and runs until all arrived.
    fn transfer(&mut self, msg: &Bytes, count: usize) {
        let target = self.messages + count;
        let mut sent = 0;
        while self.messages < target {
            while sent < count && self.a.total_buffered() < 4 << 20 {
                self.a
                    .send(self.now, 0, 53, msg.clone(), SendOptions::default())
                    .expect("send");
                sent += 1;
            }
            self.pump();
        }
    }
}

fn throughput(c: &mut Criterion) {
    for (name, size, count, zero) in [
        ("sctp_16k", 16 * 1024, 256, true),
        ("sctp_16k_crc32c", 16 * 1024, 256, false),
        ("sctp_1k", 1024, 4096, true),
        ("sctp_1k_crc32c", 1024, 4096, false),
    ] {
        let mut g = c.benchmark_group(name);
        if size >= 16 * 1024 {
            g.throughput(Throughput::Bytes((size * count) as u64));
        } else {
            g.throughput(Throughput::Elements(count as u64));
        }
        let msg = Bytes::from(vec![0xa5; size]);
        let mut bench = Bench::new(zero, 0);
        g.bench_function("transfer", |b| b.iter(|| bench.transfer(&msg, count)));
        g.finish();
    }
}

fn in_flight(c: &mut Criterion) {
    let mut g = c.benchmark_group("sctp_in_flight");
    for (name, hold) in [("128k", 128 * 1024), ("4m", 4 << 20)] {
        let msg = Bytes::from(vec![0x5a; 16 * 1024]);
        let mut bench = Bench::new(true, hold);
        // Fill the pipe first.
        bench.transfer(&msg, (hold / msg.len()) * 2 + 64);
        let count = 512;
        g.throughput(Throughput::Bytes((msg.len() * count) as u64));
        g.bench_function(name, |b| b.iter(|| bench.transfer(&msg, count)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = throughput, in_flight
}
criterion_main!(benches);
