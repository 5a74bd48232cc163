//! Two ICE agents behind different NATs find each other through a STUN server, in a
//! simulated network and virtual time; then they stream application datagrams.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin ice_sim -- [--seed N] [--pcap FILE]
//! ```
//!
//! Alice sits behind a port-restricted cone NAT, Bob behind a full-cone NAT; each NAT's
//! uplink adds 20 ms (40 ms between the peers) and loses 1 % of datagrams. Candidates
//! travel through a signalling channel with 100 ms delay. The program prints a timeline
//! of what each agent did, the delivery statistics and the capture summary, optionally
//! writes the capture as pcap, and exits with status 1 if the peers do not connect.

use rtcpeer::ice::{
    Credentials, IceAgent, IceConfig, IceConnectionState, IceEvent, IceGatheringState, IceRole,
    StunServer,
};
use rtcpeer::sim::{Direction, LinkConfig, Loss, NatConfig, Node, NodeId, Sim};
use rtcpeer::stun::server::{BindingServer, BindingServerConfig};
use rtcpeer::{Rng, Transmit};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `println!` that ignores a closed stdout (`ice_sim | head`): the program still finishes
/// its work (the pcap) and its exit status still says whether the peers connected.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

const STUN_SERVER: &str = "198.51.100.1:3478";
const SIGNALLING_DELAY: Duration = Duration::from_millis(100);
const APP_INTERVAL: Duration = Duration::from_millis(20);
const APP_DATAGRAMS: u32 = 250;
/// First byte of application datagrams: in the RTP range, never STUN (RFC 7983).
const APP_BYTE: u8 = 0x80;

/// What one peer tells the other out of band.
enum Signal {
    Credentials(Credentials),
    Candidate(rtcpeer::ice::Candidate),
    EndOfCandidates,
}

/// A host running one ICE agent plus a tiny application that streams datagrams.
struct Peer {
    name: &'static str,
    agent: IceAgent,
    socket: SocketAddr,
    start: Option<Instant>,
    outbox: Vec<Signal>,
    inbox: VecDeque<(Instant, Signal)>,
    out: VecDeque<Transmit>,
    timeline: Vec<(Instant, String)>,
    /// Streaming: next send time and sequence number.
    next_app: Option<Instant>,
    sent: Vec<Instant>,
    /// One-way delay of every application datagram received.
    delays: Vec<Duration>,
    t0: Instant,
}

impl Peer {
    fn new(name: &'static str, role: IceRole, socket: SocketAddr, rng: Rng, t0: Instant) -> Self {
        let config = IceConfig {
            role,
            stun_servers: vec![StunServer::Addr(STUN_SERVER.parse().expect("address"))],
            ..IceConfig::default()
        };
        let agent = IceAgent::new(config, rng).expect("valid configuration");
        let creds = agent.local_credentials().clone();
        Peer {
            name,
            agent,
            socket,
            start: Some(t0),
            outbox: vec![Signal::Credentials(creds)],
            inbox: VecDeque::new(),
            out: VecDeque::new(),
            timeline: Vec::new(),
            next_app: None,
            sent: Vec::new(),
            delays: Vec::new(),
            t0,
        }
    }

    fn note(&mut self, now: Instant, what: String) {
        self.timeline
            .push((now, format!("{:<5} {what}", self.name)));
    }

    fn drain(&mut self, now: Instant) {
        while let Some(t) = self.agent.poll_transmit() {
            self.out.push_back(t);
        }
        while let Some(event) = self.agent.poll_event() {
            self.on_event(now, event);
        }
        // Start streaming as soon as a pair is selected.
        if self.next_app.is_none() && self.sent.is_empty() && self.agent.selected_pair().is_some() {
            self.next_app = Some(now);
        }
    }

    fn on_event(&mut self, now: Instant, event: IceEvent) {
        match event {
            IceEvent::LocalCandidate(c) => {
                let raddr = c.related_address.map(|r| format!(" (base {r})"));
                let line = format!(
                    "gathered {} {}{}",
                    c.kind.as_str(),
                    c.address,
                    raddr.unwrap_or_default()
                );
                self.note(now, line);
                self.outbox.push(Signal::Candidate(c));
            }
            IceEvent::GatheringStateChange(IceGatheringState::Complete) => {
                self.note(now, "gathering complete".into());
                self.outbox.push(Signal::EndOfCandidates);
            }
            IceEvent::ConnectionStateChange(s) => {
                let checks = self.agent.stats().checks_sent;
                self.note(now, format!("state {s:?} ({checks} checks sent so far)"));
            }
            IceEvent::SelectedPairChanged { local, remote } => {
                self.note(now, format!("selected pair {local} -> {remote}"));
            }
            _ => {}
        }
    }

    fn send_app(&mut self, now: Instant) {
        let pair = self.agent.selected_pair();
        let seq = self.sent.len() as u32;
        let Some(pair) = pair.filter(|_| seq < APP_DATAGRAMS) else {
            self.next_app = None;
            return;
        };
        let mut payload = vec![0u8; 200];
        payload[0] = APP_BYTE;
        payload[1..5].copy_from_slice(&seq.to_be_bytes());
        // The send time rides along (virtual nanoseconds since start) to measure delay.
        let since = (now - self.t0).as_nanos() as u64;
        payload[5..13].copy_from_slice(&since.to_be_bytes());
        self.sent.push(now);
        self.out.push_back(Transmit {
            source: pair.local,
            destination: pair.remote,
            payload,
        });
        self.next_app = Some(now + APP_INTERVAL);
    }
}

impl Node for Peer {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let stun = self.agent.handle_receive(now, from, to, data);
        if let (false, Some(&APP_BYTE), Some(sent)) = (stun, data.first(), data.get(5..13)) {
            let sent = u64::from_be_bytes(sent.try_into().expect("eight bytes"));
            let delay = (now - self.t0).saturating_sub(Duration::from_nanos(sent));
            self.delays.push(delay);
        }
        self.drain(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.start.is_some_and(|s| s <= now) {
            self.start = None;
            self.agent
                .add_local_socket(now, self.socket)
                .expect("socket");
        }
        while self.inbox.front().is_some_and(|(at, _)| *at <= now) {
            let (_, signal) = self.inbox.pop_front().expect("front checked");
            let result = match signal {
                Signal::Credentials(c) => self.agent.set_remote_credentials(now, c),
                Signal::Candidate(c) => self.agent.add_remote_candidate(now, c),
                Signal::EndOfCandidates => {
                    self.agent.end_of_remote_candidates(now);
                    Ok(())
                }
            };
            if let Err(e) = result {
                self.note(now, format!("signalling error: {e}"));
            }
        }
        self.agent.handle_timeout(now);
        self.drain(now);
        if self.next_app.is_some_and(|t| t <= now) {
            self.send_app(now);
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let inbox = self.inbox.front().map(|(t, _)| *t);
        [self.start, inbox, self.agent.poll_timeout(), self.next_app]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Command-line options.
struct Options {
    seed: u64,
    pcap: Option<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seed: 1,
        pcap: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => {
                let v = args.next().ok_or("--seed needs a number")?;
                options.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--pcap" => options.pcap = Some(args.next().ok_or("--pcap needs a file name")?),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --seed N, --pcap FILE)"
                ));
            }
        }
    }
    Ok(options)
}

/// The network: a STUN server on the internet, Alice behind a port-restricted cone NAT,
/// Bob behind a full-cone NAT, 20 ms and 1 % loss on each NAT's uplink.
fn build(seed: u64) -> Result<(Sim, [NodeId; 2]), rtcpeer::sim::SimError> {
    let mut rng = Rng::from_u64(seed);
    // The one real clock reading: the simulation's virtual clock starts here.
    #[allow(clippy::disallowed_methods)]
    let t0 = Instant::now();
    let mut sim = Sim::new(t0, rng.child());
    let internet = sim.internet();
    let stun: SocketAddr = STUN_SERVER.parse().expect("address");
    sim.add_node(
        internet,
        stun.ip(),
        BindingServer::new(BindingServerConfig::default()),
    )?;
    let link = LinkConfig::new()
        .latency(Duration::from_millis(20))
        .loss(Loss::Random(0.01));
    let sites = [
        (
            "alice",
            IceRole::Controlling,
            NatConfig::port_restricted_cone(),
            "203.0.113.1",
            "192.168.1.10",
        ),
        (
            "bob",
            IceRole::Controlled,
            NatConfig::full_cone(),
            "203.0.113.2",
            "10.0.0.20",
        ),
    ];
    let mut ids = Vec::new();
    for (name, role, nat, public, host) in sites {
        let home = sim.add_nat(internet, public.parse().expect("address"), nat)?;
        sim.set_uplink(home, Direction::Both, link.clone())?;
        let socket = SocketAddr::new(host.parse().expect("address"), 50000);
        let peer = Peer::new(name, role, socket, rng.child(), t0);
        ids.push(sim.add_node(home, socket.ip(), peer)?);
    }
    Ok((sim, [ids[0], ids[1]]))
}

/// Moves signals between the peers (delivered after [`SIGNALLING_DELAY`]).
fn pump_signalling(sim: &mut Sim, ids: [NodeId; 2]) {
    for from in 0..2 {
        if sim.node::<Peer>(ids[from]).outbox.is_empty() {
            continue;
        }
        let signals = std::mem::take(&mut sim.node_mut::<Peer>(ids[from]).outbox);
        let at = sim.now() + SIGNALLING_DELAY;
        let to = sim.node_mut::<Peer>(ids[1 - from]);
        to.inbox.extend(signals.into_iter().map(|s| (at, s)));
    }
}

/// Runs the simulation for `duration` of virtual time, moving signals between steps.
fn run(sim: &mut Sim, ids: [NodeId; 2], duration: Duration) -> Result<(), rtcpeer::sim::SimError> {
    let deadline = sim.now() + duration;
    loop {
        pump_signalling(sim, ids);
        match sim.next_event_time() {
            Some(t) if t <= deadline => {
                sim.step()?;
            }
            _ => {
                sim.run_until(deadline, 0)?;
                return Ok(());
            }
        }
    }
}

fn connected(p: &Peer) -> bool {
    matches!(
        p.agent.connection_state(),
        IceConnectionState::Connected | IceConnectionState::Completed
    )
}

fn print_delivery(sender: &Peer, receiver: &Peer) {
    let sent = sender.sent.len();
    let got = receiver.delays.len();
    let mean = receiver.delays.iter().sum::<Duration>() / got.max(1) as u32;
    let max = receiver.delays.iter().max().copied().unwrap_or_default();
    out!(
        "  {} -> {}: {got}/{sent} delivered, one-way delay mean {:.1} ms, max {:.1} ms",
        sender.name,
        receiver.name,
        mean.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
}

fn print_summary(sim: &Sim) {
    let st = sim.stats();
    let drops: Vec<String> = st.drops().map(|(r, n)| format!("{r} {n}")).collect();
    out!(
        "capture: {} sent, {} delivered, {} dropped ({})",
        st.sent,
        st.delivered,
        st.total_dropped(),
        drops.join(", ")
    );
    let digest: String = sim.capture_digest()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    out!("capture digest {digest}… (same seed, same digest)");
}

const USAGE: &str = "usage: ice_sim [--seed N (1)] [--pcap FILE]\n\
    Two peers behind NATs connect through a simulated internet in virtual time.";

fn main() -> ExitCode {
    rtcpeer_examples::args::exit_if_help(USAGE);
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ice_sim: {e}");
            return ExitCode::from(2);
        }
    };
    match demo(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ice_sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo(options: &Options) -> Result<bool, Box<dyn std::error::Error>> {
    let (mut sim, ids) = build(options.seed)?;
    out!(
        "ice_sim (seed {}): alice behind a port-restricted NAT, bob behind a full-cone NAT",
        options.seed
    );
    // Connect (at most 10 s), then stream 250 datagrams each way (5 s) and settle.
    run(&mut sim, ids, Duration::from_secs(10))?;
    let (a, b) = (sim.node::<Peer>(ids[0]), sim.node::<Peer>(ids[1]));
    let ok = connected(a) && connected(b);
    run(&mut sim, ids, Duration::from_secs(6))?;
    // The capture first, so that a reader who stops reading early still gets it.
    let pcap_written = match &options.pcap {
        Some(path) => {
            let file = std::io::BufWriter::new(std::fs::File::create(path)?);
            // Delivered datagrams only: each appears once, as its receiver saw it.
            use std::io::Write;
            sim.write_pcap(file, |r| r.fate.is_delivered())?.flush()?;
            Some(path)
        }
        None => None,
    };
    let (a, b) = (sim.node::<Peer>(ids[0]), sim.node::<Peer>(ids[1]));
    let mut timeline: Vec<&(Instant, String)> = a.timeline.iter().chain(&b.timeline).collect();
    timeline.sort_by_key(|(t, _)| *t);
    for (t, line) in timeline {
        out!("{:>9.3} ms  {line}", (*t - sim.start()).as_secs_f64() * 1e3);
    }
    for p in [a, b] {
        let st = p.agent.stats();
        out!(
            "{:<5} checks: {} sent, {} retransmitted, {} answered; {} consent checks",
            p.name,
            st.checks_sent,
            st.retransmits,
            st.responses_sent,
            st.consent_checks_sent
        );
    }
    out!("application datagrams (every 20 ms once a pair is selected):");
    print_delivery(a, b);
    print_delivery(b, a);
    print_summary(&sim);
    if let Some(path) = pcap_written {
        out!("capture (delivered datagrams) written to {path}");
    }
    if !ok {
        out!("FAILED: the peers did not connect within 10 s");
    }
    Ok(ok)
}
