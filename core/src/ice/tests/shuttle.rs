//! A tiny two-agent network: a virtual clock that jumps to the next event, delivery after
//! a fixed delay, optional random loss and a tamper hook, automatic signalling of
//! candidates, and "application data" sent on each agent's selected pair.

use crate::ice::{
    Candidate, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole, SelectedPair,
};
use crate::rng::Rng;
use crate::transmit::Transmit;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The first byte of application datagrams (an RTP-like value, never STUN).
pub(super) const APP_BYTE: u8 = 0x90;

pub(super) struct Peer {
    pub(super) agent: IceAgent,
    pub(super) addrs: Vec<SocketAddr>,
    /// Every event with the time it was drained.
    pub(super) events: Vec<(Instant, IceEvent)>,
    /// Application datagrams received: (time, local address, remote address).
    pub(super) app_received: Vec<(Instant, SocketAddr, SocketAddr)>,
}

impl Peer {
    pub(super) fn state(&self) -> IceConnectionState {
        self.agent.connection_state()
    }

    /// When the agent first entered `state`.
    pub(super) fn reached(&self, state: IceConnectionState) -> Option<Instant> {
        self.events.iter().find_map(|(t, e)| match e {
            IceEvent::ConnectionStateChange(s) if *s == state => Some(*t),
            _ => None,
        })
    }
}

/// Decides the fate of a datagram: `false` drops it. May edit it.
pub(super) type Tamper = Box<dyn FnMut(Instant, &mut Transmit) -> bool>;
/// Decides whether a local candidate of peer `from` is signalled to the other.
pub(super) type SignalFilter = Box<dyn FnMut(usize, &Candidate) -> bool>;

pub(super) struct Shuttle {
    pub(super) t0: Instant,
    pub(super) now: Instant,
    pub(super) peers: [Peer; 2],
    in_flight: Vec<(Instant, u64, Transmit)>,
    seq: u64,
    pub(super) delay: Duration,
    pub(super) loss: f64,
    loss_rng: Rng,
    pub(super) tamper: Option<Tamper>,
    pub(super) signal_filter: Option<SignalFilter>,
    /// Forward candidates, end-of-candidates between the peers.
    pub(super) signalling: bool,
    /// Every datagram the agents emitted, with its time (for determinism checks).
    pub(super) transcript: Vec<(Duration, Transmit)>,
    /// Send one application datagram per peer on its selected pair this often.
    pub(super) app_interval: Option<Duration>,
    next_app: Option<Instant>,
    pub(super) steps: u64,
    /// Datagrams dropped by random loss.
    pub(super) lost: u64,
}

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

pub(super) fn config(role: IceRole) -> IceConfig {
    IceConfig {
        role,
        ..IceConfig::default()
    }
}

impl Shuttle {
    /// Two agents with the given configs and seeds; credentials are exchanged at once.
    pub(super) fn new(a: IceConfig, b: IceConfig, seed: u64) -> Shuttle {
        #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
        let t0 = Instant::now();
        let mut root = Rng::from_u64(seed);
        let agent_a = IceAgent::new(a, root.child()).expect("valid config");
        let agent_b = IceAgent::new(b, root.child()).expect("valid config");
        let peer = |agent| Peer {
            agent,
            addrs: Vec::new(),
            events: Vec::new(),
            app_received: Vec::new(),
        };
        Shuttle {
            t0,
            now: t0,
            peers: [peer(agent_a), peer(agent_b)],
            in_flight: Vec::new(),
            seq: 0,
            delay: Duration::from_millis(10),
            loss: 0.0,
            loss_rng: root.child(),
            tamper: None,
            signal_filter: None,
            signalling: true,
            transcript: Vec::new(),
            app_interval: None,
            next_app: None,
            steps: 0,
            lost: 0,
        }
    }

    /// Gives each peer the other's credentials.
    pub(super) fn exchange_credentials(&mut self) {
        let (ca, cb) = (
            self.peers[0].agent.local_credentials().clone(),
            self.peers[1].agent.local_credentials().clone(),
        );
        let now = self.now;
        self.peers[0].agent.set_remote_credentials(now, cb).unwrap();
        self.peers[1].agent.set_remote_credentials(now, ca).unwrap();
    }

    pub(super) fn add_socket(&mut self, peer: usize, a: SocketAddr) {
        self.peers[peer].addrs.push(a);
        let now = self.now;
        self.peers[peer].agent.add_local_socket(now, a).unwrap();
    }

    /// A standard pair: A at 10.0.0.1:5000, B at 10.0.0.2:6000, credentials exchanged.
    pub(super) fn lan(a: IceConfig, b: IceConfig, seed: u64) -> Shuttle {
        let mut s = Shuttle::new(a, b, seed);
        s.exchange_credentials();
        s.add_socket(0, addr("10.0.0.1:5000"));
        s.add_socket(1, addr("10.0.0.2:6000"));
        s
    }

    pub(super) fn a(&self) -> &Peer {
        &self.peers[0]
    }

    pub(super) fn b(&self) -> &Peer {
        &self.peers[1]
    }

    pub(super) fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    fn drain(&mut self) {
        loop {
            let mut progress = false;
            for i in 0..2 {
                while let Some(mut t) = self.peers[i].agent.poll_transmit() {
                    progress = true;
                    self.transcript.push((self.now - self.t0, t.clone()));
                    self.enqueue(&mut t);
                }
                while let Some(e) = self.peers[i].agent.poll_event() {
                    progress = true;
                    self.signal(i, &e);
                    self.peers[i].events.push((self.now, e));
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn enqueue(&mut self, t: &mut Transmit) {
        if self.loss > 0.0 && self.loss_rng.chance(self.loss) {
            self.lost += 1;
            return;
        }
        if let Some(tamper) = self.tamper.as_mut()
            && !tamper(self.now, t)
        {
            return;
        }
        self.seq += 1;
        self.in_flight
            .push((self.now + self.delay, self.seq, t.clone()));
    }

    fn signal(&mut self, from: usize, e: &IceEvent) {
        if !self.signalling {
            return;
        }
        let now = self.now;
        match e {
            IceEvent::LocalCandidate(c) => {
                if let Some(f) = self.signal_filter.as_mut()
                    && !f(from, c)
                {
                    return;
                }
                let _ = self.peers[1 - from]
                    .agent
                    .add_remote_candidate(now, c.clone());
            }
            IceEvent::GatheringStateChange(crate::ice::IceGatheringState::Complete) => {
                self.peers[1 - from].agent.end_of_remote_candidates(now);
            }
            _ => {}
        }
    }

    /// Advances to the next event and handles it. Returns `false` if nothing is pending.
    pub(super) fn step(&mut self) -> bool {
        self.steps += 1;
        if self.steps > 999_990 {
            for p in &self.peers {
                eprintln!(
                    "now {:?} timers {:?} state {:?} sel {:?} pairs {:?}",
                    self.now - self.t0,
                    p.agent.timers,
                    p.agent.conn_state,
                    p.agent.selected_pair(),
                    p.agent.pairs()
                );
            }
        }
        assert!(self.steps < 1_000_000, "livelock: too many steps");
        self.drain();
        if self.app_interval.is_some() && self.next_app.is_none() {
            self.next_app = Some(self.now);
        }
        let next = self
            .in_flight
            .iter()
            .map(|f| f.0)
            .chain(self.peers.iter().filter_map(|p| p.agent.poll_timeout()))
            .chain(self.next_app)
            .min();
        let Some(next) = next else { return false };
        self.now = self.now.max(next);
        self.deliver_due();
        for p in &mut self.peers {
            if p.agent.poll_timeout().is_some_and(|t| t <= self.now) {
                p.agent.handle_timeout(self.now);
            }
        }
        self.send_app_data();
        self.drain();
        true
    }

    fn deliver_due(&mut self) {
        let now = self.now;
        let mut due: Vec<_> = self
            .in_flight
            .iter()
            .filter(|f| f.0 <= now)
            .cloned()
            .collect();
        self.in_flight.retain(|f| f.0 > now);
        due.sort_by_key(|f| (f.0, f.1));
        for (_, _, t) in due {
            let Some(p) = self
                .peers
                .iter_mut()
                .find(|p| p.addrs.contains(&t.destination))
            else {
                continue;
            };
            if !p
                .agent
                .handle_receive(now, t.source, t.destination, &t.payload)
            {
                assert_eq!(
                    t.payload.first(),
                    Some(&APP_BYTE),
                    "non-STUN must be app data"
                );
                p.app_received.push((now, t.destination, t.source));
            }
        }
    }

    fn send_app_data(&mut self) {
        let (Some(interval), Some(at)) = (self.app_interval, self.next_app) else {
            return;
        };
        if at > self.now {
            return;
        }
        self.next_app = Some(self.now + interval);
        for i in 0..2 {
            if let Some(SelectedPair { local, remote }) = self.peers[i].agent.selected_pair() {
                let mut t = Transmit {
                    source: local,
                    destination: remote,
                    payload: vec![APP_BYTE, 0, 0, 1],
                };
                self.enqueue(&mut t);
            }
        }
    }

    /// Steps until `cond` holds or `limit` of virtual time passed; returns whether it held.
    pub(super) fn run_until(
        &mut self,
        limit: Duration,
        mut cond: impl FnMut(&Shuttle) -> bool,
    ) -> bool {
        let end = self.now + limit;
        while !cond(self) {
            if self.now >= end || !self.step() {
                return cond(self);
            }
        }
        true
    }

    /// Runs for `d` of virtual time.
    pub(super) fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end && self.step() {}
    }

    /// Whether both agents are connected (or completed) on mirrored pairs.
    pub(super) fn connected(&self) -> bool {
        let ok = |s| {
            matches!(
                s,
                IceConnectionState::Connected | IceConnectionState::Completed
            )
        };
        let (a, b) = (
            self.a().agent.selected_pair(),
            self.b().agent.selected_pair(),
        );
        ok(self.a().state())
            && ok(self.b().state())
            && matches!((a, b), (Some(a), Some(b)) if a.local == b.remote && a.remote == b.local)
    }
}
