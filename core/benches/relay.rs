//! What a TURN relay costs the peers: the CPU two peer connections spend moving 16 KiB data
//! channel messages directly, against the same transfer relayed through a TURN server with
//! bound channels (ChannelData on the hot path). The server's own work is not counted (a
//! relay is somebody else's machine); only the time spent inside the two peers' calls is.
//!
//! Two measures:
//! - by default, real time inside the peers' calls, per round and best of the rounds
//!   (rounds alternate direct and relayed). It overstates the relay: the simulated TURN
//!   server runs on the same thread between the peers' calls and evicts their caches, and on
//!   a busy machine the spread is wide.
//! - `--callgrind`: the bench runs itself under `valgrind --tool=callgrind`, counting only
//!   the instructions executed inside the peers' calls, for 8 and 24 MiB each way, and
//!   prints the steady-state overhead of the relay (the difference between the two sizes,
//!   so connection setup and TURN allocation drop out). Instruction counts repeat exactly
//!   whatever the machine's load; this is the figure for the 5 % budget.
//!
//! ```text
//! cargo bench -p rtcpeer --features sim --bench relay [-- --rounds N --mib M]
//! cargo bench -p rtcpeer --features sim --bench relay -- --callgrind
//! ```

use bytes::Bytes;
use rtcpeer::peer_connection::{
    ChannelId, DataChannelInit, Event, IceServer, IceTransportPolicy, PeerConnection,
    RtcConfiguration, SimPeer,
};
use rtcpeer::sim::{Direction, LinkConfig, Node, NodeId, Sim};
use rtcpeer::turn::server::{TurnServer, TurnServerConfig};
use rtcpeer::{Rng, Transmit};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

const MESSAGE: usize = 16 * 1024;
/// Bytes kept queued on the sending channel (as the adapters' high water mark does).
const HIGH_WATER: usize = 1024 * 1024;
const TURN: &str = "198.51.100.5:3478";

/// A [`SimPeer`] that adds up the real time spent inside its calls.
struct Timed {
    peer: SimPeer,
    busy: Duration,
}

impl Timed {
    /// Runs `f` on the peer, counted.
    fn with<R>(&mut self, f: impl FnOnce(&mut SimPeer) -> R) -> R {
        #[allow(clippy::disallowed_methods)]
        let started = Instant::now();
        let result = f(&mut self.peer);
        self.busy += started.elapsed();
        result
    }
}

impl Node for Timed {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.with(|p| p.handle_receive(now, from, to, data));
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.with(|p| p.handle_timeout(now));
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.with(|p| p.poll_transmit())
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.peer.poll_timeout()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn config(seed: u64, relayed: bool) -> RtcConfiguration {
    if !relayed {
        return RtcConfiguration::with_seed(seed);
    }
    RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec![format!("turn:{TURN}")],
            username: Some("bench".into()),
            credential: Some("bench".into()),
        }],
        ice_transport_policy: IceTransportPolicy::Relay,
        ..RtcConfiguration::with_seed(seed)
    }
}

/// Two peers on the simulated internet (1 ms per access link), and with `relayed` a TURN
/// server they must use.
struct Setup {
    sim: Sim,
    peers: [NodeId; 2],
    server: Option<NodeId>,
}

fn setup(start: Instant, relayed: bool) -> Setup {
    let mut sim = Sim::new(start, Rng::from_u64(7));
    let internet = sim.internet();
    let server = relayed.then(|| {
        let addr: SocketAddr = TURN.parse().expect("addr");
        let config = TurnServerConfig::new(addr, "bench", "bench", "bench");
        sim.add_node(internet, addr.ip(), TurnServer::new(config))
            .expect("server")
    });
    let mut peers = Vec::new();
    for i in 0..2u8 {
        let host = ip(&format!("203.0.113.{}", i + 1));
        let mut pc = PeerConnection::new(config(u64::from(i) + 1, relayed), start).expect("pc");
        pc.add_local_socket(start, SocketAddr::new(host, 5000))
            .expect("socket");
        let node = Timed {
            peer: SimPeer::new(pc),
            busy: Duration::ZERO,
        };
        let id = sim.add_node(internet, host, node).expect("peer");
        let link = LinkConfig::new().latency(Duration::from_millis(1));
        sim.set_node_link(id, Direction::Both, link).expect("link");
        peers.push(id);
    }
    Setup {
        sim,
        peers: [peers[0], peers[1]],
        server,
    }
}

/// Offer/answer between the two peers, by hand.
fn negotiate(s: &mut Setup) {
    let [a, b] = s.peers;
    let offer = s.sim.node_mut::<Timed>(a).with(|p| {
        let offer = p.pc.create_offer().expect("offer");
        p.pc.set_local_description(offer.clone()).expect("local");
        p.drain();
        offer
    });
    let answer = s.sim.node_mut::<Timed>(b).with(|p| {
        p.pc.set_remote_description(offer).expect("remote");
        let answer = p.pc.create_answer().expect("answer");
        p.pc.set_local_description(answer.clone()).expect("local");
        p.drain();
        answer
    });
    s.sim.node_mut::<Timed>(a).with(|p| {
        p.pc.set_remote_description(answer).expect("remote");
        p.drain();
    });
    for id in s.peers {
        s.sim.poke(id).expect("poke");
    }
}

/// Hands candidates across and reports what else happened: (channel opened at a, channel
/// announced at b, bytes received at b).
fn exchange_events(s: &mut Setup, received: &mut usize) -> (Option<ChannelId>, bool) {
    let [a, b] = s.peers;
    let mut opened = None;
    let mut announced = false;
    for (from, to) in [(a, b), (b, a)] {
        let events = s.sim.node_mut::<Timed>(from).with(|p| p.take_events());
        for event in events {
            match event {
                Event::IceCandidate(c) => {
                    s.sim.node_mut::<Timed>(to).with(|p| {
                        p.pc.add_ice_candidate(c).expect("candidate");
                        p.drain();
                    });
                    s.sim.poke(to).expect("poke");
                }
                Event::ChannelOpen(id) if from == a => opened = Some(id),
                Event::DataChannel(_) if from == b => announced = true,
                Event::ChannelMessage { data, .. } if from == b => *received += data.len(),
                _ => {}
            }
        }
    }
    (opened, announced)
}

/// Opens a channel from a to b.
fn open_channel(s: &mut Setup) -> ChannelId {
    let [a, _] = s.peers;
    let id = s.sim.node_mut::<Timed>(a).with(|p| {
        let id =
            p.pc.create_data_channel("bulk", DataChannelInit::default())
                .expect("channel");
        p.drain();
        id
    });
    negotiate(s);
    let (mut open, mut announced, mut ignored) = (false, false, 0);
    let deadline = s.sim.now() + Duration::from_secs(20);
    while !(open && announced) {
        assert!(s.sim.now() < deadline, "the channel did not open");
        s.sim.run_for(Duration::from_millis(5)).expect("runs");
        let (opened, seen) = exchange_events(s, &mut ignored);
        open |= opened == Some(id);
        announced |= seen;
    }
    id
}

/// Keeps the channel's queue at the high water mark until `total` bytes were handed over.
fn top_up(s: &mut Setup, channel: ChannelId, sent: &mut usize, total: usize) {
    let [a, _] = s.peers;
    s.sim.node_mut::<Timed>(a).with(|p| {
        let mut dc = p.pc.data_channel(channel).expect("channel");
        while *sent < total && dc.buffered_amount() < HIGH_WATER {
            dc.send_binary(Bytes::from(vec![0x5a; MESSAGE]))
                .expect("send");
            *sent += MESSAGE;
        }
        p.drain();
    });
    s.sim.poke(a).expect("poke");
}

/// One transfer of `total` bytes; returns the CPU time inside both peers and the virtual
/// time it took.
fn transfer(start: Instant, relayed: bool, total: usize) -> (Duration, Duration) {
    let mut s = setup(start, relayed);
    let channel = open_channel(&mut s);
    if relayed {
        let [a, b] = s.peers;
        for id in [a, b] {
            let path = s.sim.node::<Timed>(id).peer.pc.data_path().expect("path");
            let relay = TURN.parse::<SocketAddr>().expect("addr").ip();
            assert_eq!(path.local.ip(), relay, "the data path is relayed");
        }
    }
    for id in s.peers {
        s.sim.node_mut::<Timed>(id).busy = Duration::ZERO;
    }
    let virtual_start = s.sim.now();
    let (mut sent, mut received) = (0, 0);
    let deadline = virtual_start + Duration::from_secs(600);
    while received < total {
        assert!(
            s.sim.now() < deadline,
            "transfer stalled at {received} bytes"
        );
        top_up(&mut s, channel, &mut sent, total);
        s.sim.run_for(Duration::from_millis(1)).expect("runs");
        exchange_events(&mut s, &mut received);
    }
    if let Some(server) = s.server {
        let stats = s.sim.node::<TurnServer>(server).stats();
        assert!(stats.channel_bind_ok >= 2, "channels bound: {stats:?}");
    }
    let busy = s.peers.iter().map(|id| s.sim.node::<Timed>(*id).busy).sum();
    (busy, s.sim.now() - virtual_start)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Instructions executed inside the peers' calls for one transfer of `mib` MiB, counted
/// by callgrind running this same binary with `--only`.
fn instructions(kind: &str, mib: usize) -> u64 {
    let me = std::env::current_exe().expect("own path");
    let output = std::process::Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=<relay::Timed as rtcpeer::sim::node::Node>::*",
        ])
        .arg(me)
        .args(["--rounds", "1", "--only", kind, "--mib", &mib.to_string()])
        .output()
        .expect("valgrind runs (apt install valgrind)");
    let log = String::from_utf8_lossy(&output.stderr);
    log.lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no instruction count from callgrind:\n{log}"))
}

/// Steady-state instruction overhead of the relay, from transfers of two sizes.
fn callgrind_report() {
    let (small, large) = (8, 24);
    println!("relay/16KiB under callgrind: instructions inside both peers");
    let mut per_mib = [0.0; 2];
    for (i, kind) in ["direct", "relayed"].into_iter().enumerate() {
        let a = instructions(kind, small);
        let b = instructions(kind, large);
        per_mib[i] = (b - a) as f64 / (large - small) as f64;
        println!(
            "{kind}: {a} at {small} MiB, {b} at {large} MiB, {:.0} instructions per KiB moved",
            per_mib[i] / 1024.0
        );
    }
    let overhead = (per_mib[1] / per_mib[0] - 1.0) * 100.0;
    println!("relay overhead (steady state): {overhead:+.2} % of instructions (budget 5 %)");
}

fn main() {
    if std::env::args().any(|a| a == "--callgrind") {
        return callgrind_report();
    }
    let rounds = arg("--rounds", 5);
    let total = arg("--mib", 64) << 20;
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mib = (total >> 20) as f64;
    let (mut best_direct, mut best_relayed) = (Duration::MAX, Duration::MAX);
    println!("relay/16KiB: {mib} MiB a→b per transfer, CPU inside both peers");
    // `--only direct|relayed`: one kind of transfer, to profile it alone.
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let run = |relayed: bool| match only.as_deref() {
        Some("direct") if relayed => (Duration::MAX, Duration::ZERO),
        Some("relayed") if !relayed => (Duration::MAX, Duration::ZERO),
        _ => transfer(start, relayed, total),
    };
    for round in 1..=rounds {
        let (direct, direct_virtual) = run(false);
        let (relayed, relayed_virtual) = run(true);
        best_direct = best_direct.min(direct);
        best_relayed = best_relayed.min(relayed);
        println!(
            "round {round}: direct {:.1} ms ({:.0} MiB/s of CPU, {:.2} s virtual), \
             relayed {:.1} ms ({:.0} MiB/s, {:.2} s virtual)",
            direct.as_secs_f64() * 1e3,
            mib / direct.as_secs_f64(),
            direct_virtual.as_secs_f64(),
            relayed.as_secs_f64() * 1e3,
            mib / relayed.as_secs_f64(),
            relayed_virtual.as_secs_f64(),
        );
    }
    let overhead = relayed_overhead(best_direct, best_relayed);
    println!(
        "best: direct {:.1} ms, relayed {:.1} ms; relay overhead {overhead:+.1} % (budget 5 %)",
        best_direct.as_secs_f64() * 1e3,
        best_relayed.as_secs_f64() * 1e3,
    );
}

/// The relayed CPU time over the direct one, in percent above it.
fn relayed_overhead(direct: Duration, relayed: Duration) -> f64 {
    (relayed.as_secs_f64() / direct.as_secs_f64() - 1.0) * 100.0
}
