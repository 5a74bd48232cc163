//! SCTP throughput between two in-memory associations on one core. Packets go straight
//! from one association to the other, or (the `dtls_` benches) through a connected pair of
//! DTLS endpoints as RFC 8261 has it: each SCTP packet is sealed into one application data
//! record by the sender's `Dtls` and opened by the receiver's. Time advances 1 µs per round
//! so RTT estimates stay sane.
//!
//! - `sctp_16k`: one ordered reliable stream, 16 KiB messages (bytes/s).
//! - `sctp_1k`: 1 KiB messages (messages/s).
//! - `dtls_sctp_16k`, `dtls_sctp_1k`: the same over DTLS (AES-128-GCM records).
//! - `sctp_in_flight/{128k,4m}`: the same with that much data unacknowledged (SACKs are
//!   held back); the cost per packet must not grow with the amount in flight.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::Rng;
use rtcpeer::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, DtlsRole, DtlsState,
};
use rtcpeer::sctp::{Association, AssociationState, SctpConfig, SctpEvent, SendOptions};
use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Two connected DTLS endpoints (`a` the client) and a reused record buffer.
struct DtlsPair {
    a: Dtls,
    b: Dtls,
    record: Vec<u8>,
}

impl DtlsPair {
    fn new(now: Instant) -> Self {
        let cert = |seed| {
            DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed())
                .expect("certificate")
        };
        let (ca, cb) = (cert(11), cert(12));
        let mut config_a = DtlsConfig::new(DtlsRole::Client, ca.clone());
        let mut config_b = DtlsConfig::new(DtlsRole::Server, cb.clone());
        config_a.remote_fingerprint = Some(cb.fingerprint());
        config_b.remote_fingerprint = Some(ca.fingerprint());
        let mut a = Dtls::new(config_a, Rng::from_u64(13)).expect("client config");
        let mut b = Dtls::new(config_b, Rng::from_u64(14)).expect("server config");
        a.start(now);
        b.start(now);
        while a.state() != DtlsState::Connected || b.state() != DtlsState::Connected {
            // Steps due "now" (the client's flight tail) run before the next exchange.
            a.handle_timeout(now);
            b.handle_timeout(now);
            let mut moved = false;
            while let Some(d) = a.poll_transmit() {
                b.handle_receive(now, &d);
                moved = true;
            }
            while let Some(d) = b.poll_transmit() {
                a.handle_receive(now, &d);
                moved = true;
            }
            assert!(moved, "handshake stalled");
        }
        while a.poll_event().is_some() || b.poll_event().is_some() {}
        Self {
            a,
            b,
            record: Vec::with_capacity(2048),
        }
    }

    /// Seals `packet` on one side and opens it on the other; returns the plaintext.
    fn carry(&mut self, now: Instant, a_to_b: bool, packet: &[u8]) -> Bytes {
        let (tx, rx) = if a_to_b {
            (&mut self.a, &mut self.b)
        } else {
            (&mut self.b, &mut self.a)
        };
        self.record.clear();
        tx.seal_application_data(packet, &mut self.record)
            .expect("connected, packet within a record");
        rx.handle_receive(now, &self.record);
        match rx.poll_event() {
            Some(DtlsEvent::ApplicationData(b)) => b,
            other => panic!("expected application data, got {other:?}"),
        }
    }
}

struct Bench {
    a: Association,
    b: Association,
    /// When set, every packet crosses this DTLS pair.
    dtls: Option<DtlsPair>,
    now: Instant,
    /// Acknowledgements from b to a held back to keep data in flight.
    pipe: VecDeque<Bytes>,
    pipe_bytes: usize,
    hold: usize,
    delivered: usize,
    messages: usize,
}

impl Bench {
    fn new(zero_checksum: bool, hold: usize, dtls: bool) -> Self {
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
            dtls: dtls.then(|| DtlsPair::new(now)),
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
            let p = self.cross(true, p);
            self.b.handle_receive(self.now, p);
            moved += 1;
        }
        while let Some(p) = self.b.poll_transmit(self.now) {
            let p = self.cross(false, p);
            self.pipe_bytes += p.len();
            self.pipe.push_back(p);
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

    /// The packet as the receiving association gets it: through DTLS if configured.
    fn cross(&mut self, a_to_b: bool, packet: Vec<u8>) -> Bytes {
        match &mut self.dtls {
            Some(pair) => pair.carry(self.now, a_to_b, &packet),
            None => Bytes::from(packet),
        }
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
    for (name, size, count, zero, dtls) in [
        ("sctp_16k", 16 * 1024, 256, true, false),
        ("sctp_16k_crc32c", 16 * 1024, 256, false, false),
        ("sctp_1k", 1024, 4096, true, false),
        ("sctp_1k_crc32c", 1024, 4096, false, false),
        ("dtls_sctp_16k", 16 * 1024, 256, true, true),
        ("dtls_sctp_1k", 1024, 4096, true, true),
    ] {
        let mut g = c.benchmark_group(name);
        if size >= 16 * 1024 {
            g.throughput(Throughput::Bytes((size * count) as u64));
        } else {
            g.throughput(Throughput::Elements(count as u64));
        }
        let msg = Bytes::from(vec![0xa5; size]);
        let mut bench = Bench::new(zero, 0, dtls);
        g.bench_function("transfer", |b| b.iter(|| bench.transfer(&msg, count)));
        g.finish();
    }
}

fn in_flight(c: &mut Criterion) {
    let mut g = c.benchmark_group("sctp_in_flight");
    for (name, hold) in [("128k", 128 * 1024), ("4m", 4 << 20)] {
        let msg = Bytes::from(vec![0x5a; 16 * 1024]);
        let mut bench = Bench::new(true, hold, false);
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
