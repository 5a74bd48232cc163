//! Small nodes for the simulator's tests.

use crate::sim::Node;
use crate::transmit::Transmit;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().expect("literal address")
}

pub(super) use crate::time::test_epoch as t0;

/// Sends back whatever it receives, from the address it was sent to.
#[derive(Debug, Default)]
pub(super) struct Echo {
    pub(super) out: Vec<Transmit>,
    pub(super) received: Vec<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
}

impl Node for Echo {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.received.push((now, from, to, data.to_vec()));
        self.out.push(Transmit {
            source: to,
            destination: from,
            payload: data.to_vec(),
        });
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Records what it receives and sends what it is told to; never answers.
#[derive(Debug, Default)]
pub(super) struct Sink {
    pub(super) out: Vec<Transmit>,
    pub(super) received: Vec<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
}

impl Sink {
    pub(super) fn send(&mut self, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        self.out.push(Transmit {
            source: from,
            destination: to,
            payload: payload.to_vec(),
        });
    }

    pub(super) fn payloads(&self) -> Vec<Vec<u8>> {
        self.received.iter().map(|r| r.3.clone()).collect()
    }
}

impl Node for Sink {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.received.push((now, from, to, data.to_vec()));
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Sends `count` numbered datagrams of `size` bytes from `local` to `remote`, one every
/// `interval`, starting at its first timeout; records replies.
#[derive(Debug)]
pub(super) struct Pinger {
    local: SocketAddr,
    remote: SocketAddr,
    interval: Duration,
    size: usize,
    remaining: u32,
    sent: u32,
    next: Option<Instant>,
    out: Vec<Transmit>,
    pub(super) replies: Vec<(Instant, u32)>,
}

impl Pinger {
    pub(super) fn new(
        start: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        interval: Duration,
        count: u32,
        size: usize,
    ) -> Self {
        Self {
            local,
            remote,
            interval,
            size: size.max(4),
            remaining: count,
            sent: 0,
            next: Some(start),
            out: Vec::new(),
            replies: Vec::new(),
        }
    }
}

/// The sequence number a [`Pinger`] wrote in the first four bytes.
pub(super) fn seq_of(payload: &[u8]) -> u32 {
    let bytes: [u8; 4] = payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .expect("pinger payloads carry a sequence number");
    u32::from_be_bytes(bytes)
}

impl Node for Pinger {
    fn handle_receive(&mut self, now: Instant, _from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        self.replies.push((now, seq_of(data)));
    }
    fn handle_timeout(&mut self, now: Instant) {
        let Some(next) = self.next else { return };
        if now < next {
            return;
        }
        let mut payload = vec![0u8; self.size];
        payload[..4].copy_from_slice(&self.sent.to_be_bytes());
        self.out.push(Transmit {
            source: self.local,
            destination: self.remote,
            payload,
        });
        self.sent += 1;
        self.remaining = self.remaining.saturating_sub(1);
        self.next = (self.remaining > 0).then_some(next + self.interval);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}
