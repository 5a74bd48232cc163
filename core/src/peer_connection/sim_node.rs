//! [`SimPeer`]: a [`PeerConnection`] as a [`sim::Node`](crate::sim::Node) (feature `sim`).

use super::{Event, Input, Output, PeerConnection};
use crate::sim::node::Node;
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// Drives a [`PeerConnection`] in the simulator: after every input it drains
/// `poll_output`, queues transmits for the simulator and keeps events for the test.
#[derive(Debug)]
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
