//! Scenarios: UDP hole punching between every pair of NAT types, with a reflector on the
//! internet telling each peer its public endpoint (the way STUN does).

use super::helpers::{addr, t0};
use crate::rng::Rng;
use crate::sim::{Direction, LinkConfig, NatConfig, Node, Sim};
use crate::transmit::Transmit;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const REFLECTOR: &str = "198.51.100.1:3478";

/// Answers every datagram with the sender's address, as text.
#[derive(Debug, Default)]
struct Reflector {
    out: Vec<Transmit>,
}

impl Node for Reflector {
    fn handle_receive(&mut self, _: Instant, from: SocketAddr, to: SocketAddr, _: &[u8]) {
        self.out.push(Transmit {
            source: to,
            destination: from,
            payload: from.to_string().into_bytes(),
        });
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Learns its public endpoint from the reflector, then punches towards `remote` every
/// 100 ms (ten times) and acknowledges punches to wherever they came from.
#[derive(Debug)]
struct Peer {
    local: SocketAddr,
    public: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    punches_left: u32,
    next: Option<Instant>,
    out: Vec<Transmit>,
    heard_peer: bool,
}

impl Peer {
    fn new(local: SocketAddr) -> Self {
        let out = vec![Transmit {
            source: local,
            destination: addr(REFLECTOR),
            payload: b"who am i".to_vec(),
        }];
        Self {
            local,
            public: None,
            remote: None,
            punches_left: 10,
            next: None,
            out,
            heard_peer: false,
        }
    }

    fn start_punching(&mut self, now: Instant, remote: SocketAddr) {
        self.remote = Some(remote);
        self.next = Some(now);
    }

    fn send(&mut self, to: SocketAddr, payload: &[u8]) {
        self.out.push(Transmit {
            source: self.local,
            destination: to,
            payload: payload.to_vec(),
        });
    }
}

impl Node for Peer {
    fn handle_receive(&mut self, _: Instant, from: SocketAddr, _: SocketAddr, data: &[u8]) {
        if from == addr(REFLECTOR) {
            self.public = std::str::from_utf8(data).ok().and_then(|s| s.parse().ok());
            return;
        }
        self.heard_peer = true;
        if data == b"punch" {
            self.send(from, b"ack");
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        let (Some(next), Some(remote)) = (self.next, self.remote) else {
            return;
        };
        if now < next {
            return;
        }
        self.send(remote, b"punch");
        self.punches_left = self.punches_left.saturating_sub(1);
        self.next = (self.punches_left > 0).then_some(next + Duration::from_millis(100));
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

/// Whether two peers behind NATs configured `a` and `b` reach each other.
fn punch(a: NatConfig, b: NatConfig) -> bool {
    let mut sim = Sim::new(t0(), Rng::from_u64(99));
    let net = sim.internet();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
    sim.add_node(net, addr(REFLECTOR).ip(), Reflector::default())
        .expect("add");
    let lan_a = sim.add_nat(net, ip("203.0.113.1"), a).expect("nat");
    let lan_b = sim.add_nat(net, ip("203.0.113.2"), b).expect("nat");
    let pa = sim
        .add_node(lan_a, ip("10.0.0.2"), Peer::new(addr("10.0.0.2:5000")))
        .expect("add");
    let pb = sim
        .add_node(lan_b, ip("10.0.1.2"), Peer::new(addr("10.0.1.2:6000")))
        .expect("add");
    let wan = LinkConfig::new().latency(Duration::from_millis(15));
    sim.set_uplink(lan_a, Direction::Both, wan.clone())
        .expect("lan");
    sim.set_uplink(lan_b, Direction::Both, wan).expect("lan");
    sim.run_for(Duration::from_millis(200)).expect("runs");
    // Exchange the public endpoints out of band (signalling), then punch.
    let public_a = sim.node::<Peer>(pa).public.expect("reflector answered a");
    let public_b = sim.node::<Peer>(pb).public.expect("reflector answered b");
    let now = sim.now();
    sim.node_mut::<Peer>(pa).start_punching(now, public_b);
    sim.node_mut::<Peer>(pb).start_punching(now, public_a);
    sim.run_for(Duration::from_secs(2)).expect("runs");
    sim.node::<Peer>(pa).heard_peer && sim.node::<Peer>(pb).heard_peer
}

#[test]
fn hole_punching_matrix_matches_the_classic_nat_types() {
    type Preset = fn() -> NatConfig;
    let kinds: [(&str, Preset); 4] = [
        ("full cone", NatConfig::full_cone),
        ("restricted cone", NatConfig::restricted_cone),
        ("port-restricted cone", NatConfig::port_restricted_cone),
        ("symmetric", NatConfig::symmetric),
    ];
    let mut table = String::new();
    for (name_a, a) in kinds {
        for (name_b, b) in kinds {
            let ok = punch(a(), b());
            table.push_str(&format!("{name_a:>20} x {name_b:<20} {ok}\n"));
            // Only a symmetric NAT facing a port-restricted or symmetric one defeats
            // hole punching with reflexive addresses.
            let sym = |n: &str| n == "symmetric";
            let strict = |n: &str| n == "symmetric" || n == "port-restricted cone";
            let expected = !((sym(name_a) && strict(name_b)) || (sym(name_b) && strict(name_a)));
            assert_eq!(ok, expected, "{name_a} x {name_b}\n{table}");
        }
    }
}
