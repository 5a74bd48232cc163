//! [`SimPeer`]: a [`PeerConnection`] as a [`sim::Node`](crate::sim::Node) (feature `sim`).

use super::{Event, Input, Output, PeerConnection};
use crate::sim::node::Node;
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// Drives a [`PeerConnection`] in the simulator: after every input it drains
/// `poll_output`, queues transmits for the simulator and keeps events for the test.
///
/// Two peers on one simulated network, signalled by hand between simulation steps, with a
/// data channel that opens in virtual time:
///
/// ```
/// use rtcpeer::peer_connection::{
///     Event, PeerConnection, PeerConnectionState, RtcConfiguration, SimPeer,
/// };
/// use rtcpeer::{Rng, sim::Sim};
/// use std::time::{Duration, Instant};
///
/// # fn main() -> Result<(), rtcpeer::Error> {
/// let t0 = Instant::now();
/// let mut sim = Sim::new(t0, Rng::from_u64(1));
/// let peer = |seed, addr: &str| -> Result<SimPeer, rtcpeer::Error> {
///     // Replayable seeds: a simulation must replay exactly.
///     let mut pc = PeerConnection::new(RtcConfiguration::with_seed(seed), t0)?;
///     pc.add_local_socket(t0, addr.parse().unwrap())?;
///     Ok(SimPeer::new(pc))
/// };
/// let net = sim.internet();
/// let a = sim.add_node(net, "10.0.0.1".parse().unwrap(), peer(1, "10.0.0.1:5000")?)?;
/// let b = sim.add_node(net, "10.0.0.2".parse().unwrap(), peer(2, "10.0.0.2:5000")?)?;
///
/// let alice = sim.node_mut::<SimPeer>(a);
/// let chat = alice.pc.create_data_channel("chat", Default::default())?;
/// let offer = alice.pc.create_offer()?;
/// alice.pc.set_local_description(offer.clone())?;
/// alice.drain();
/// let bob = sim.node_mut::<SimPeer>(b);
/// bob.pc.set_remote_description(offer)?;
/// let answer = bob.pc.create_answer()?;
/// bob.pc.set_local_description(answer.clone())?;
/// bob.drain();
/// let alice = sim.node_mut::<SimPeer>(a);
/// alice.pc.set_remote_description(answer)?;
/// alice.drain();
/// // Trickle: hand each side's candidates to the other as they appear.
/// let mut open = false;
/// while !open && sim.elapsed() < Duration::from_secs(10) {
///     sim.run_for(Duration::from_millis(10))?;
///     for (from, to) in [(a, b), (b, a)] {
///         for event in sim.node_mut::<SimPeer>(from).take_events() {
///             match event {
///                 Event::IceCandidate(c) => {
///                     let peer = sim.node_mut::<SimPeer>(to);
///                     peer.pc.add_ice_candidate(c)?;
///                     peer.drain();
///                 }
///                 Event::ChannelOpen(id) if id == chat => open = true,
///                 _ => {}
///             }
///         }
///     }
/// }
/// assert!(open, "the channel opened in virtual time");
/// let state = sim.node::<SimPeer>(a).pc.connection_state();
/// assert_eq!(state, PeerConnectionState::Connected);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[cfg_attr(feature = "fuzzing", derive(Clone))]
pub struct SimPeer {
    /// The connection; after commanding it through here call [`SimPeer::drain`].
    pub pc: PeerConnection,
    /// Events not yet taken by the test.
    pub events: Vec<Event>,
    out: VecDeque<Transmit>,
    timeout: Option<Instant>,
}

impl SimPeer {
    /// Wraps `pc` (and drains what it has to say already).
    pub fn new(pc: PeerConnection) -> Self {
        let mut p = Self {
            pc,
            events: Vec::new(),
            out: VecDeque::new(),
            timeout: None,
        };
        p.drain();
        p
    }

    /// Drains the connection's output (call after a command such as a send).
    pub fn drain(&mut self) {
        loop {
            match self.pc.poll_output() {
                Output::Transmit(t) => self.out.push_back(t),
                Output::Event(e) => self.events.push(e),
                Output::Timeout(at) => {
                    self.timeout = Some(at);
                    break;
                }
            }
        }
    }

    /// Takes the events so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }
}

impl Node for SimPeer {
    fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        self.pc.handle_input(
            now,
            Input::Receive {
                source,
                destination,
                payload,
            },
        );
        self.drain();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.pc.handle_timeout(now);
        self.drain();
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.out.is_empty() {
            self.drain();
        }
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.timeout
    }
}
