//! Bursts a peer can absorb (issue 18): a 64 MiB data channel transfer between two
//! `PeerConnection`s whose receiver has a modelled socket buffer of Linux's default
//! 212,992 bytes, read at a finite speed. A window opened by a batch of SACKs must not
//! leave as one burst of hundreds of datagrams, and slow start must stop before its queue
//! overruns the buffer; yet the transfer must be as fast as with a large buffer, and that
//! as fast as the receiver reads: neither the pacer nor the congestion window may be
//! what limits it (a receiver whose pacer held back its SACKs ran this at 75 %).

use rtcpeer::Rng;
use rtcpeer::Transmit;
use rtcpeer::peer_connection::{
    ChannelId, DataChannelInit, Event, PeerConnection, PeerConnectionState, RtcConfiguration,
    SimPeer,
};
use rtcpeer::sim::{Direction, DropReason, LinkConfig, Node, ReceiveBuffer, Sim, SimConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TOTAL: usize = 64 << 20;
const MESSAGE: usize = 64 * 1024;
/// Payload the receiving host reads per second (about 85,000 datagrams).
const READ_RATE: u64 = 100_000_000;
/// Share of [`READ_RATE`] the transfer's goodput must reach: what is left after the
/// DTLS, SCTP and DATA chunk headers of each datagram (about 5 %), less a margin.
const READ_SHARE: f64 = 0.9;

/// A `SimPeer` that keeps its channel's send buffer topped up (sender) or counts what
/// arrives (receiver), dropping events as it goes.
struct Bulk {
    peer: SimPeer,
    channel: Option<ChannelId>,
    sending: bool,
    sent: usize,
    received: usize,
    open: bool,
    done_at: Option<Instant>,
    now: Instant,
}

impl Bulk {
    fn new(seed: u64, addr: &str, now: Instant, sending: bool) -> Self {
        let mut pc = PeerConnection::new(RtcConfiguration::with_seed(seed), now).expect("config");
        pc.add_local_socket(now, addr.parse().expect("addr"))
            .expect("socket");
        Self {
            peer: SimPeer::new(pc),
            channel: None,
            sending,
            sent: 0,
            received: 0,
            open: false,
            done_at: None,
            now,
        }
    }

    fn after_input(&mut self) {
        for e in self.peer.take_events() {
            match e {
                Event::ChannelOpen(id) if self.sending => {
                    self.channel = Some(id);
                    self.open = true;
                }
                Event::DataChannel(id) => self.channel = Some(id),
                Event::ChannelMessage { data, .. } => {
                    self.received += data.len();
                    if self.received >= TOTAL {
                        self.done_at.get_or_insert(self.now);
                    }
                }
                _ => {}
            }
        }
        self.top_up();
    }

    fn top_up(&mut self) {
        let Some(id) = self.channel.filter(|_| self.open) else {
            return;
        };
        let payload = vec![0x5a; MESSAGE];
        let mut queued = false;
        while self.sent < TOTAL {
            let mut ch = self.peer.pc.data_channel(id).expect("channel");
            if ch.buffered_amount() >= 2 << 20 {
                break;
            }
            ch.send_binary(payload.clone()).expect("send");
            self.sent += MESSAGE;
            queued = true;
        }
        if queued {
            self.peer.drain();
        }
    }
}

impl Node for Bulk {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.now = now;
        self.peer.handle_receive(now, from, to, data);
        self.after_input();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.peer.handle_timeout(now);
        self.after_input();
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.peer.poll_transmit()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.peer.poll_timeout()
    }
}

/// Outcome of one transfer.
#[derive(Debug)]
struct Run {
    /// Datagrams the receiver's socket buffer dropped.
    drops: u64,
    /// Goodput from channel open to the last byte, bytes per second.
    rate: f64,
}

/// Sends 64 MiB from a to b; b's socket buffer is `capacity` bytes.
fn transfer(seed: u64, capacity: usize) -> Run {
    #[allow(clippy::disallowed_methods)]
    let t0 = Instant::now();
    let config = SimConfig::new().capture(false);
    let mut sim = Sim::with_config(t0, Rng::from_u64(seed), config);
    let net = sim.internet();
    let a = Bulk::new(seed * 2 + 1, "10.0.0.1:5000", t0, true);
    let b = Bulk::new(seed * 2 + 2, "10.0.0.2:5000", t0, false);
    let a = sim
        .add_node(net, "10.0.0.1".parse().expect("ip"), a)
        .expect("a");
    let b = sim
        .add_node(net, "10.0.0.2".parse().expect("ip"), b)
        .expect("b");
    // Jitter (order kept) lets the seed vary the timing, not only tags and TSNs.
    let link = LinkConfig::new()
        .latency(Duration::from_micros(100))
        .jitter(Duration::from_micros(20));
    for n in [a, b] {
        sim.set_node_link(n, Direction::Both, link.clone())
            .expect("link");
    }
    sim.set_receive_buffer(b, Some(ReceiveBuffer::new(capacity, READ_RATE)))
        .expect("buffer");
    // Signalling: a offers with a channel, b answers; candidates are in the SDP after
    // gathering, so trickle by hand.
    let offer = {
        let p = &mut sim.node_mut::<Bulk>(a).peer;
        p.pc.create_data_channel("bulk", DataChannelInit::default())
            .expect("channel");
        let o = p.pc.create_offer().expect("offer");
        p.pc.set_local_description(o.clone()).expect("sld");
        p.drain();
        o
    };
    let answer = {
        let p = &mut sim.node_mut::<Bulk>(b).peer;
        p.pc.set_remote_description(offer).expect("srd");
        let ans = p.pc.create_answer().expect("answer");
        p.pc.set_local_description(ans.clone()).expect("sld");
        p.drain();
        ans
    };
    {
        let p = &mut sim.node_mut::<Bulk>(a).peer;
        p.pc.set_remote_description(answer).expect("srd");
        p.drain();
    }
    for (from, to) in [(a, b), (b, a)] {
        let cands: Vec<_> = sim
            .node_mut::<Bulk>(from)
            .peer
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::IceCandidate(c) if !c.candidate.is_empty() => Some(c),
                _ => None,
            })
            .collect();
        let p = &mut sim.node_mut::<Bulk>(to).peer;
        for c in cands {
            p.pc.add_ice_candidate(c).expect("candidate");
        }
        p.drain();
    }
    sim.poke(a).expect("poke");
    sim.poke(b).expect("poke");
    let connected = |s: &Sim| s.node::<Bulk>(a).open;
    sim.run_until_condition(connected, Duration::from_secs(10))
        .expect("channel open");
    assert_eq!(
        sim.node::<Bulk>(a).peer.pc.connection_state(),
        PeerConnectionState::Connected
    );
    sim.node_mut::<Bulk>(a).top_up();
    sim.poke(a).expect("poke");
    let start = sim.now();
    let done = |s: &Sim| s.node::<Bulk>(b).done_at.is_some();
    sim.run_until_condition(done, Duration::from_secs(120))
        .expect("transfer done");
    let end = sim.node::<Bulk>(b).done_at.expect("done");
    let secs = (end - start).as_secs_f64();
    Run {
        drops: sim.stats().dropped(DropReason::ReceiveBufferFull),
        rate: TOTAL as f64 / secs,
    }
}

#[test]
fn sixty_four_mebibytes_fit_a_default_socket_buffer_at_full_speed() {
    for seed in 1..=3 {
        let large = transfer(seed, 64 << 20);
        let small = transfer(seed, 212_992);
        eprintln!("seed {seed}: large buffer: {large:?}\n        default buffer: {small:?}");
        assert_eq!(large.drops, 0, "seed {seed}: a large buffer drops nothing");
        assert!(
            large.rate >= READ_RATE as f64 * READ_SHARE,
            "seed {seed}: {:.1} MB/s with a large buffer, the receiver reads {:.1} MB/s",
            large.rate / 1e6,
            READ_RATE as f64 / 1e6
        );
        assert!(
            small.drops <= 10,
            "seed {seed}: {} datagrams dropped",
            small.drops
        );
        assert!(
            small.rate >= large.rate * 0.9,
            "seed {seed}: {:.1} MB/s against {:.1} MB/s with a large buffer",
            small.rate / 1e6,
            large.rate / 1e6
        );
    }
}
