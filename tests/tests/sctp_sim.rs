//! Data channels across the network simulator.
//!
//! The DTLS layer is not on `main` yet, so SCTP packets ride directly in UDP datagrams
//! here; once DTLS lands these nodes should wrap a DTLS pair (RFC 8261) around them.

use rtcpeer::Rng;
use rtcpeer::Transmit;
use rtcpeer::datachannel::{
    DataChannelConfig, DataChannelEvent, DataChannelInit, DataChannels, DtlsRole,
};
use rtcpeer::sctp::AssociationState;
use rtcpeer::sim::{Direction, LinkConfig, Loss, Node, NodeId, Sim};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A host running data channels over SCTP straight on UDP.
#[derive(Debug)]
struct Peer {
    dc: DataChannels,
    local: SocketAddr,
    remote: SocketAddr,
    now: Instant,
    received: Vec<Vec<u8>>,
    opened: Vec<u16>,
}

impl Peer {
    fn new(role: DtlsRole, seed: u64, now: Instant, local: &str, remote: &str) -> Self {
        let mut dc = DataChannels::new(DataChannelConfig::new(role), Rng::from_u64(seed), now);
        dc.connect(now).expect("fresh association");
        Self {
            dc,
            local: local.parse().expect("addr"),
            remote: remote.parse().expect("addr"),
            now,
            received: Vec::new(),
            opened: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(e) = self.dc.poll_event() {
            match e {
                DataChannelEvent::Message { data, .. } => self.received.push(data.to_vec()),
                DataChannelEvent::Open(id) => self.opened.push(id),
                _ => {}
            }
        }
    }
}

impl Node for Peer {
    fn handle_receive(&mut self, now: Instant, _: SocketAddr, _: SocketAddr, payload: &[u8]) {
        self.now = now;
        self.dc.handle_receive(now, payload.to_vec());
        self.drain();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.dc.handle_timeout(now);
        self.drain();
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        let payload = self.dc.poll_transmit(self.now)?;
        Some(Transmit {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.dc.poll_timeout()
    }
}

fn setup(link: LinkConfig, seed: u64) -> (Sim, NodeId, NodeId) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut sim = Sim::new(now, Rng::from_u64(seed));
    let net = sim.internet();
    let (a_addr, b_addr) = ("198.51.100.1:5000", "198.51.100.2:5000");
    let a = Peer::new(DtlsRole::Client, seed, now, a_addr, b_addr);
    let b = Peer::new(DtlsRole::Server, seed + 1, now, b_addr, a_addr);
    let a = sim
        .add_node(net, "198.51.100.1".parse().expect("ip"), a)
        .expect("a");
    let b = sim
        .add_node(net, "198.51.100.2".parse().expect("ip"), b)
        .expect("b");
    for n in [a, b] {
        sim.set_node_link(n, Direction::Both, link.clone())
            .expect("link");
    }
    let up = |sim: &Sim, n| {
        sim.node::<Peer>(n).dc.association().state() == AssociationState::Established
    };
    sim.run_until_condition(|s| up(s, a) && up(s, b), Duration::from_secs(30))
        .expect("association up");
    (sim, a, b)
}

/// Sends `msgs` on a new channel from a and returns what b received.
fn exchange(sim: &mut Sim, a: NodeId, b: NodeId, msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let id = sim
        .node_mut::<Peer>(a)
        .dc
        .create_channel("sim", DataChannelInit::default())
        .expect("create");
    let mut next = 0;
    let deadline = sim.now() + Duration::from_secs(600);
    while sim.node::<Peer>(b).received.len() < msgs.len() && sim.now() < deadline {
        let peer = sim.node_mut::<Peer>(a);
        while next < msgs.len() && peer.dc.association().total_buffered() < 1 << 20 {
            let mut ch = peer.dc.channel(id).expect("open");
            ch.send_binary(msgs[next].clone().into()).expect("send");
            next += 1;
        }
        sim.run_for(Duration::from_millis(50)).expect("run");
    }
    sim.node::<Peer>(b).received.clone()
}

fn messages(seed: u64, n: usize, max: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.below(max as u64 + 1) as usize;
            let mut v = vec![0u8; len];
            rng.fill(&mut v);
            v
        })
        .collect()
}

#[test]
fn ordered_channel_survives_a_lossy_reordering_duplicating_path() {
    let link = LinkConfig::new()
        .latency(Duration::from_millis(20))
        .loss(Loss::Random(0.1))
        .duplicate(0.05)
        .reorder(0.1, Duration::from_millis(15));
    let (mut sim, a, b) = setup(link, 7);
    let msgs = messages(1, 200, 64 * 1024);
    assert_eq!(exchange(&mut sim, a, b, &msgs), msgs);
    assert!(
        sim.node::<Peer>(b).opened.len() == 1,
        "DCEP opened the channel on b"
    );
}

#[test]
fn bandwidth_limited_path_is_filled() {
    let link = LinkConfig::new()
        .latency(Duration::from_millis(10))
        .bandwidth(20_000_000, 100_000);
    let (mut sim, a, b) = setup(link, 9);
    let msgs = messages(2, 100, 64 * 1024);
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let start = sim.now();
    assert_eq!(exchange(&mut sim, a, b, &msgs), msgs);
    let secs = (sim.now() - start).as_secs_f64();
    let mbps = bytes as f64 * 8.0 / secs / 1e6;
    // Both directions of a node link share nothing, so the data direction has 20 Mbit/s
    // per hop; the measurement granularity (50 ms) costs a little.
    assert!(mbps > 10.0, "goodput {mbps:.1} Mbit/s");
}

#[test]
fn same_seed_replays_the_same_capture() {
    let run = || {
        let link = LinkConfig::new()
            .latency(Duration::from_millis(5))
            .loss(Loss::Random(0.05));
        let (mut sim, a, b) = setup(link, 11);
        let msgs = messages(3, 50, 10_000);
        exchange(&mut sim, a, b, &msgs);
        sim.capture_digest()
    };
    assert_eq!(run(), run());
}
