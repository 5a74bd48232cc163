//! Flow control that cannot deadlock (issue 18): a receiver whose application reads
//! slowly, with long pauses, drives the SCTP receive window to zero again and again; the
//! sender is a model of a stack that never probes a zero window (it waits for the
//! receiver's window update). 64 MiB must arrive, whatever the seed. SCTP runs straight
//! over UDP here, to look at flow control alone.

use rtcpeer::Rng;
use rtcpeer::Transmit;
use rtcpeer::datachannel::{
    DataChannelConfig, DataChannelEvent, DataChannelInit, DataChannels, DtlsRole,
};
use rtcpeer::sctp::AssociationState;
use rtcpeer::sim::{Direction, LinkConfig, Node, NodeId, Rule, Sim, SimConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TOTAL: usize = 64 << 20;
const MESSAGE: usize = 16 * 1024;

/// Reading model of the receiving application: every `TICK` it reads up to
/// `READ_PER_TICK` bytes of what it holds, except during pauses.
const TICK: Duration = Duration::from_millis(2);
const READ_PER_TICK: usize = 192 * 1024;

struct Host {
    dc: DataChannels,
    local: SocketAddr,
    remote: SocketAddr,
    now: Instant,
    rng: Rng,
    sender: bool,
    channel: Option<u16>,
    sent: usize,
    /// Bytes delivered to the application and not yet read by it.
    held: usize,
    read: usize,
    next_read: Option<Instant>,
    paused_until: Option<Instant>,
    pauses: u32,
}

impl Host {
    fn new(sender: bool, seed: u64, now: Instant, local: &str, remote: &str) -> Self {
        let role = if sender {
            DtlsRole::Client
        } else {
            DtlsRole::Server
        };
        let mut config = DataChannelConfig::new(role);
        // The sender models a stack that waits for a window update at a zero window.
        config.sctp.zero_window_probe = !sender;
        let mut dc = DataChannels::new(config, Rng::from_u64(seed), now);
        dc.connect(now).expect("fresh association");
        Self {
            dc,
            local: local.parse().expect("addr"),
            remote: remote.parse().expect("addr"),
            now,
            rng: Rng::from_u64(seed ^ 0x5eed),
            sender,
            channel: None,
            sent: 0,
            held: 0,
            read: 0,
            next_read: (!sender).then_some(now + TICK),
            paused_until: None,
            pauses: 0,
        }
    }

    fn after_input(&mut self) {
        while let Some(e) = self.dc.poll_event() {
            if let DataChannelEvent::Message { data, .. } = e {
                self.held += data.len();
            }
        }
        if self.sender {
            self.top_up();
        } else {
            self.dc.set_application_unread(self.held);
        }
    }

    fn top_up(&mut self) {
        let Some(id) = self.channel else { return };
        let msg = vec![0xa5u8; MESSAGE];
        while self.sent < TOTAL && self.dc.association().total_buffered() < 1 << 20 {
            let mut ch = self.dc.channel(id).expect("channel");
            ch.send_binary(msg.clone().into()).expect("send");
            self.sent += MESSAGE;
        }
    }

    /// The application's reading tick: sometimes a long pause (the window fills and
    /// closes), otherwise a bounded read.
    fn tick(&mut self, now: Instant) {
        let Some(at) = self.next_read else { return };
        if now < at {
            return;
        }
        self.next_read = Some(now + TICK);
        if self.paused_until.is_some_and(|p| now < p) {
            return;
        }
        if self.held > 0 && self.rng.below(100) < 3 {
            self.pauses += 1;
            let ms = 50 + self.rng.below(300);
            self.paused_until = Some(now + Duration::from_millis(ms));
            return;
        }
        let n = self.held.min(READ_PER_TICK);
        self.held -= n;
        self.read += n;
        self.dc.set_application_unread(self.held);
    }
}

impl Node for Host {
    fn handle_receive(&mut self, now: Instant, _: SocketAddr, _: SocketAddr, payload: &[u8]) {
        self.now = now;
        self.dc.handle_receive(now, payload.to_vec());
        self.after_input();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.dc.handle_timeout(now);
        self.tick(now);
        self.after_input();
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
        [self.dc.poll_timeout(), self.next_read]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Whether an SCTP packet (straight in UDP) carries a SACK advertising a window smaller
/// than one packet.
fn closed_window_sack(pkt: &[u8]) -> bool {
    let mut off = 12;
    while off + 4 <= pkt.len() {
        let len = usize::from(u16::from_be_bytes([pkt[off + 2], pkt[off + 3]]));
        if len < 4 {
            return false;
        }
        if pkt[off] == 3 && off + 12 <= pkt.len() {
            let w = &pkt[off + 8..off + 12];
            return u32::from_be_bytes([w[0], w[1], w[2], w[3]]) < 1200;
        }
        off += (len + 3) & !3;
    }
    false
}

struct Outcome {
    read: usize,
    closed_window_sacks: u64,
    pauses: u32,
    elapsed: Duration,
}

fn run(seed: u64) -> Outcome {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut sim = Sim::with_config(now, Rng::from_u64(seed), SimConfig::new().capture(false));
    let net = sim.internet();
    let (a_addr, b_addr) = ("198.51.100.1:5000", "198.51.100.2:5000");
    let a = Host::new(true, seed, now, a_addr, b_addr);
    let b = Host::new(false, seed + 1, now, b_addr, a_addr);
    let a = sim
        .add_node(net, "198.51.100.1".parse().expect("ip"), a)
        .expect("a");
    let b: NodeId = sim
        .add_node(net, "198.51.100.2".parse().expect("ip"), b)
        .expect("b");
    let link = LinkConfig::new().latency(Duration::from_millis(5));
    for n in [a, b] {
        sim.set_node_link(n, Direction::Both, link.clone())
            .expect("link");
    }
    let b_ip = "198.51.100.2".parse::<std::net::IpAddr>().expect("ip");
    let zero = sim.add_rule(Rule::count(move |d| {
        d.source.ip() == b_ip && closed_window_sack(d.payload)
    }));
    let up =
        |s: &Sim, n| s.node::<Host>(n).dc.association().state() == AssociationState::Established;
    sim.run_until_condition(|s| up(s, a) && up(s, b), Duration::from_secs(30))
        .expect("association up");
    let start = sim.now();
    {
        let host = sim.node_mut::<Host>(a);
        let id = host
            .dc
            .create_channel("bulk", DataChannelInit::default())
            .expect("channel");
        host.channel = Some(id);
        host.top_up();
    }
    sim.poke(a).expect("poke");
    // Generous: the reader alone needs ~0.7 s plus its pauses; a stall never ends.
    let _ = sim.run_until_condition(
        |s| s.node::<Host>(b).read >= TOTAL,
        Duration::from_secs(600),
    );
    let host = sim.node::<Host>(b);
    Outcome {
        read: host.read,
        closed_window_sacks: sim.rule_hits(zero).expect("rule"),
        pauses: host.pauses,
        elapsed: sim.now() - start,
    }
}

#[test]
fn slow_reader_and_a_sender_that_never_probes_finish_sixty_four_mebibytes() {
    for seed in [1, 2, 3] {
        let o = run(seed);
        eprintln!(
            "seed {seed}: {} MiB in {:?}, {} pauses, {} closed-window SACKs",
            o.read >> 20,
            o.elapsed,
            o.pauses,
            o.closed_window_sacks
        );
        assert!(
            o.closed_window_sacks >= 5,
            "seed {seed}: the window closed repeatedly"
        );
        assert_eq!(o.read, TOTAL, "seed {seed}: transfer stalled");
    }
}
