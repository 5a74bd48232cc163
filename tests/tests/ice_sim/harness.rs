//! The scenario harness: [`IceNode`], a `sim::Node` that owns an `IceAgent`, and [`Pair`],
//! two such nodes in a `Sim` with a signalling channel the test controls.
//!
//! Signalling is modelled outside the simulated network (as a web socket to a signalling
//! server would be): each node queues what it wants to tell its peer in an outbox, the
//! [`Pair`] run loop moves it into the peer's inbox after [`Signalling::delay`] of virtual
//! time, and the peer applies it when its timer fires.

use rtcpeer::Rng;
use rtcpeer::Transmit;
use rtcpeer::ice::{
    Candidate, Credentials, IceAgent, IceConfig, IceConnectionState, IceError, IceEvent,
    IceGatheringState, SelectedPair,
};
use rtcpeer::sim::{Node, NodeId, Sim};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Application datagrams go out this often once a pair is selected.
pub const APP_INTERVAL: Duration = Duration::from_millis(20);
/// First bytes of an application datagram: an RTP-like first byte (RFC 7983: 128–191,
/// never STUN) and a marker, then the sequence number.
const APP_MAGIC: [u8; 4] = [0x80, 0x61, 0x70, 0x70];
/// Length of an application datagram.
const APP_LEN: usize = 160;

/// What one peer tells the other through the signalling channel.
#[derive(Debug, Clone)]
pub enum Signal {
    /// `a=ice-ufrag` / `a=ice-pwd` (new ones after an ICE restart).
    Credentials(Credentials),
    /// A trickled candidate.
    Candidate(Candidate),
    /// `a=end-of-candidates`.
    EndOfCandidates,
}

/// How signalling behaves.
#[derive(Debug, Clone, Copy)]
pub struct Signalling {
    /// Virtual time from a node queuing a signal to the peer applying it.
    pub delay: Duration,
    /// `true`: candidates travel as they are gathered. `false`: everything (credentials,
    /// candidates, end-of-candidates) is held until the sender's gathering completes and
    /// then sent together, as with a non-trickle offer.
    pub trickle: bool,
    /// Whether to signal end-of-candidates when gathering completes.
    pub end_of_candidates: bool,
}

impl Default for Signalling {
    fn default() -> Self {
        Signalling {
            delay: Duration::from_millis(50),
            trickle: true,
            end_of_candidates: true,
        }
    }
}

/// One application datagram received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppReceived {
    /// Virtual time of arrival.
    pub at: Instant,
    /// The sender's sequence number.
    pub seq: u32,
    /// The local socket it arrived on.
    pub local: SocketAddr,
    /// Where it came from.
    pub remote: SocketAddr,
}

/// A simulated host running one ICE agent, its signalling end and a small application
/// that streams numbered datagrams on the selected pair.
pub struct IceNode {
    /// The agent (read it freely between steps; mutate through the methods below).
    pub agent: IceAgent,
    sockets: Vec<SocketAddr>,
    start: Instant,
    started: bool,
    signalling: Signalling,
    /// Signals waiting to go to the peer (the run loop takes them).
    outbox: Vec<Signal>,
    /// Signals held until gathering completes (non-trickle).
    held: Vec<Signal>,
    /// Signals from the peer and when to apply them.
    inbox: VecDeque<(Instant, Signal)>,
    next_app: Option<Instant>,
    next_seq: u32,
    /// Whether the application streams datagrams once a pair is selected.
    pub app_enabled: bool,
    out: VecDeque<Transmit>,
    /// Every agent event with the virtual time it was drained.
    pub events: Vec<(Instant, IceEvent)>,
    /// Every application datagram received.
    pub app_received: Vec<AppReceived>,
    /// Application datagrams sent: (time, sequence number, pair used).
    pub app_sent: Vec<(Instant, u32, SelectedPair)>,
    /// Datagrams that were neither STUN nor our application's.
    pub foreign_received: u64,
    /// Signalling calls the agent refused (should stay empty).
    pub signalling_errors: Vec<IceError>,
}

impl IceNode {
    /// A node that reports `sockets` to the agent at `start` (virtual time).
    pub fn new(
        config: IceConfig,
        rng: Rng,
        sockets: Vec<SocketAddr>,
        start: Instant,
        signalling: Signalling,
    ) -> Self {
        let agent = IceAgent::new(config, rng).expect("valid ICE config");
        let mut node = IceNode {
            agent,
            sockets,
            start,
            started: false,
            signalling,
            outbox: Vec::new(),
            held: Vec::new(),
            inbox: VecDeque::new(),
            next_app: None,
            next_seq: 0,
            app_enabled: true,
            out: VecDeque::new(),
            events: Vec::new(),
            app_received: Vec::new(),
            app_sent: Vec::new(),
            foreign_received: 0,
            signalling_errors: Vec::new(),
        };
        let creds = node.agent.local_credentials().clone();
        node.signal(Signal::Credentials(creds));
        node
    }

    /// The connection state now.
    pub fn state(&self) -> IceConnectionState {
        self.agent.connection_state()
    }

    /// When the agent first entered `state` at or after `after`.
    pub fn reached_after(&self, state: IceConnectionState, after: Instant) -> Option<Instant> {
        self.state_changes()
            .find(|(t, s)| *s == state && *t >= after)
            .map(|(t, _)| t)
    }

    /// When the agent first entered `state`.
    pub fn reached(&self, state: IceConnectionState) -> Option<Instant> {
        self.reached_after(state, self.start)
    }

    /// When the agent first became connected or completed.
    pub fn first_connected(&self) -> Option<Instant> {
        self.state_changes()
            .find(|(_, s)| {
                matches!(
                    s,
                    IceConnectionState::Connected | IceConnectionState::Completed
                )
            })
            .map(|(t, _)| t)
    }

    /// Every connection state change with its time.
    pub fn state_changes(&self) -> impl Iterator<Item = (Instant, IceConnectionState)> + '_ {
        self.events.iter().filter_map(|(t, e)| match e {
            IceEvent::ConnectionStateChange(s) => Some((*t, *s)),
            _ => None,
        })
    }

    /// Every selected-pair change with its time.
    pub fn selected_changes(&self) -> Vec<(Instant, SelectedPair)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                IceEvent::SelectedPairChanged { local, remote } => Some((
                    *t,
                    SelectedPair {
                        local: *local,
                        remote: *remote,
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// Reports another local socket (a new interface) to the agent.
    pub fn add_socket(&mut self, now: Instant, addr: SocketAddr) {
        self.sockets.push(addr);
        self.agent
            .add_local_socket(now, addr)
            .expect("socket accepted");
        self.drain_agent(now);
    }

    /// Restarts ICE on this side and signals the new credentials.
    pub fn restart(&mut self, now: Instant) {
        self.agent.restart(now).expect("restart on an open agent");
        let creds = self.agent.local_credentials().clone();
        self.signal(Signal::Credentials(creds));
        self.drain_agent(now);
    }

    /// Takes what is ready to go to the peer.
    fn take_outbox(&mut self) -> Vec<Signal> {
        std::mem::take(&mut self.outbox)
    }

    fn signal(&mut self, signal: Signal) {
        let complete = self.agent.gathering_state() == IceGatheringState::Complete;
        if self.signalling.trickle || complete {
            self.outbox.append(&mut self.held);
            self.outbox.push(signal);
        } else {
            self.held.push(signal);
        }
    }

    fn apply(&mut self, now: Instant, signal: Signal) {
        let result = match signal {
            Signal::Credentials(creds) => self.apply_credentials(now, creds),
            Signal::Candidate(c) => self.agent.add_remote_candidate(now, c),
            Signal::EndOfCandidates => {
                self.agent.end_of_remote_candidates(now);
                Ok(())
            }
        };
        if let Err(e) = result {
            self.signalling_errors.push(e);
        }
    }

    /// Sets the peer's credentials; new ones mean the peer restarted, so restart too (as
    /// a JSEP answerer does for an ICE-restart offer) unless this side already did.
    fn apply_credentials(&mut self, now: Instant, creds: Credentials) -> Result<(), IceError> {
        match self.agent.set_remote_credentials(now, creds.clone()) {
            Err(IceError::RestartRequired) => {
                self.restart(now);
                self.agent.set_remote_credentials(now, creds)
            }
            other => other,
        }
    }

    fn drain_agent(&mut self, now: Instant) {
        while let Some(t) = self.agent.poll_transmit() {
            self.out.push_back(t);
        }
        while let Some(event) = self.agent.poll_event() {
            match &event {
                IceEvent::LocalCandidate(c) => self.signal(Signal::Candidate(c.clone())),
                IceEvent::GatheringStateChange(IceGatheringState::Complete) => {
                    self.signal_gathering_complete();
                }
                _ => {}
            }
            self.events.push((now, event));
        }
        if self.next_app.is_none() && self.app_enabled && self.agent.selected_pair().is_some() {
            self.next_app = Some(now);
        }
    }

    fn signal_gathering_complete(&mut self) {
        if self.signalling.end_of_candidates {
            self.signal(Signal::EndOfCandidates);
        } else {
            let mut held = std::mem::take(&mut self.held);
            self.outbox.append(&mut held);
        }
    }

    fn send_app(&mut self, now: Instant) {
        let Some(pair) = self.agent.selected_pair().filter(|_| self.app_enabled) else {
            self.next_app = None;
            return;
        };
        let mut payload = vec![0u8; APP_LEN];
        payload[..4].copy_from_slice(&APP_MAGIC);
        payload[4..8].copy_from_slice(&self.next_seq.to_be_bytes());
        self.app_sent.push((now, self.next_seq, pair));
        self.next_seq += 1;
        self.out.push_back(Transmit {
            source: pair.local,
            destination: pair.remote,
            payload,
        });
        self.next_app = Some(now + APP_INTERVAL);
    }
}

impl Node for IceNode {
    fn handle_receive(&mut self, now: Instant, source: SocketAddr, dest: SocketAddr, data: &[u8]) {
        if !self.agent.handle_receive(now, source, dest, data) {
            match (data.get(..4), data.get(4..8)) {
                (Some(magic), Some(seq)) if magic == APP_MAGIC => {
                    let seq = u32::from_be_bytes(seq.try_into().expect("four bytes"));
                    self.app_received.push(AppReceived {
                        at: now,
                        seq,
                        local: dest,
                        remote: source,
                    });
                }
                _ => self.foreign_received += 1,
            }
        }
        self.drain_agent(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if !self.started && now >= self.start {
            self.started = true;
            for s in self.sockets.clone() {
                self.agent
                    .add_local_socket(now, s)
                    .expect("socket accepted");
            }
        }
        while self.inbox.front().is_some_and(|(at, _)| *at <= now) {
            let (_, signal) = self.inbox.pop_front().expect("front checked");
            self.apply(now, signal);
        }
        if self.agent.poll_timeout().is_some_and(|t| t <= now) {
            self.agent.handle_timeout(now);
        }
        self.drain_agent(now);
        if self.next_app.is_some_and(|t| t <= now) {
            self.send_app(now);
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let start = (!self.started).then_some(self.start);
        [
            start,
            self.inbox.front().map(|(at, _)| *at),
            self.agent.poll_timeout(),
            self.next_app,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Two [`IceNode`]s in a simulation, with the signalling between them.
pub struct Pair {
    /// The simulation (build the network before adding the nodes).
    pub sim: Sim,
    /// The two nodes, `a` first.
    pub nodes: [NodeId; 2],
    /// Signalling delay per direction (index = sender).
    delays: [Duration; 2],
}

impl Pair {
    /// Wraps two nodes already added to `sim`.
    pub fn new(sim: Sim, a: NodeId, b: NodeId, delays: [Duration; 2]) -> Self {
        Pair {
            sim,
            nodes: [a, b],
            delays,
        }
    }

    /// Node `i` (0 = a, 1 = b).
    pub fn node(&self, i: usize) -> &IceNode {
        self.sim.node::<IceNode>(self.nodes[i])
    }

    /// Node `i`, mutably (what it queues goes out at the current virtual time).
    pub fn node_mut(&mut self, i: usize) -> &mut IceNode {
        self.sim.node_mut::<IceNode>(self.nodes[i])
    }

    /// Virtual time now.
    pub fn now(&self) -> Instant {
        self.sim.now()
    }

    /// Moves pending signals between the nodes.
    fn pump(&mut self) {
        for from in 0..2 {
            if self.node(from).outbox.is_empty() {
                continue;
            }
            let signals = self.node_mut(from).take_outbox();
            let at = self.now() + self.delays[from];
            let to = self.node_mut(1 - from);
            to.inbox.extend(signals.into_iter().map(|s| (at, s)));
        }
    }

    /// Runs until `done` holds (checked after every event) or `timeout` of virtual time
    /// passed; returns whether `done` held. The clock ends at the deadline on failure.
    pub fn run_until(&mut self, timeout: Duration, mut done: impl FnMut(&Pair) -> bool) -> bool {
        let deadline = self.now() + timeout;
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            match self.sim.next_event_time() {
                Some(t) if t <= deadline => {
                    self.sim.step().expect("simulation step");
                }
                _ => {
                    self.sim.run_until(deadline, 0).expect("advance the clock");
                    return false;
                }
            }
        }
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        self.run_until(duration, |_| false);
    }

    /// Whether both nodes have a selected pair and are connected or completed.
    pub fn connected(&self) -> bool {
        (0..2).all(|i| {
            let n = self.node(i);
            matches!(
                n.state(),
                IceConnectionState::Connected | IceConnectionState::Completed
            ) && n.agent.selected_pair().is_some()
        })
    }
}

/// The largest gap between consecutive arrivals in `received` (in arrival order), and
/// whether sequence numbers are missing between the first and the last.
pub fn delivery_gaps(received: &[AppReceived]) -> (Duration, Vec<u32>) {
    let max_gap = received
        .windows(2)
        .map(|w| w[1].at.saturating_duration_since(w[0].at))
        .max()
        .unwrap_or_default();
    let mut seqs: Vec<u32> = received.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    let missing = match (seqs.first(), seqs.last()) {
        (Some(&first), Some(&last)) => (first..=last)
            .filter(|s| seqs.binary_search(s).is_err())
            .collect(),
        _ => Vec::new(),
    };
    (max_gap, missing)
}
