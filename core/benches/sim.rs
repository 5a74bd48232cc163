//! Simulator throughput: how many datagrams per second of real time the event loop moves.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtcpeer::sim::{Direction, LinkConfig, Loss, NatConfig, Node, Sim, SimConfig};
use rtcpeer::{Rng, Transmit};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PINGS: u32 = 10_000;

/// Sends a datagram every millisecond to `remote`.
struct Pinger {
    local: SocketAddr,
    remote: SocketAddr,
    next: Option<Instant>,
    left: u32,
    out: Option<Transmit>,
}

impl Node for Pinger {
    fn handle_receive(&mut self, _: Instant, _: SocketAddr, _: SocketAddr, _: &[u8]) {}
    fn handle_timeout(&mut self, now: Instant) {
        let Some(next) = self.next.filter(|n| *n <= now) else {
            return;
        };
        self.out = Some(Transmit {
            source: self.local,
            destination: self.remote,
            payload: vec![0; 200],
        });
        self.left -= 1;
        self.next = (self.left > 0).then(|| next + Duration::from_millis(1));
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.take()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

/// Answers every datagram.
struct Echo {
    out: Option<Transmit>,
}

impl Node for Echo {
    fn handle_receive(&mut self, _: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.out = Some(Transmit {
            source: to,
            destination: from,
            payload: data.to_vec(),
        });
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.take()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn run(start: Instant, capture: bool) -> u64 {
    let mut sim = Sim::with_config(start, Rng::from_u64(1), SimConfig::new().capture(capture));
    let net = sim.internet();
    let lan = sim
        .add_nat(
            net,
            "203.0.113.1".parse().expect("ip"),
            NatConfig::port_restricted_cone(),
        )
        .expect("nat");
    let pinger = Pinger {
        local: "192.168.1.2:5000".parse().expect("addr"),
        remote: "198.51.100.1:7".parse().expect("addr"),
        next: Some(start),
        left: PINGS,
        out: None,
    };
    sim.add_node(lan, "192.168.1.2".parse().expect("ip"), pinger)
        .expect("add");
    sim.add_node(net, "198.51.100.1".parse().expect("ip"), Echo { out: None })
        .expect("add");
    let wan = LinkConfig::new()
        .latency(Duration::from_millis(20))
        .jitter(Duration::from_millis(5))
        .loss(Loss::Random(0.01));
    sim.set_uplink(lan, Direction::Both, wan).expect("uplink");
    sim.run_for(Duration::from_secs(11)).expect("runs");
    sim.stats().delivered
}

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut group = c.benchmark_group("sim");
    group.throughput(Throughput::Elements(u64::from(PINGS) * 2));
    group.sample_size(10);
    group.bench_function("nat_ping_echo_10k_capture", |b| b.iter(|| run(start, true)));
    group.bench_function("nat_ping_echo_10k_no_capture", |b| {
        b.iter(|| run(start, false))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
