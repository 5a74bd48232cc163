//! Test harness: two endpoints joined by an in-memory shuttle with a virtual clock, one-way
//! delay, jitter-induced reordering, loss, duplication and an optional bottleneck with a
//! drop-tail queue. Everything random comes from a seeded `Rng`, so runs replay exactly.

use super::Association;
use crate::rng::Rng;
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Anything sans-IO that moves SCTP packets.
pub(crate) trait Endpoint {
    fn receive(&mut self, now: Instant, pkt: Bytes);
    fn timeout(&mut self, now: Instant);
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>>;
    fn next_timeout(&self) -> Option<Instant>;
}

impl Endpoint for Association {
    fn receive(&mut self, now: Instant, pkt: Bytes) {
        self.handle_receive(now, pkt)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now)
    }
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.poll_transmit(now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.poll_timeout()
    }
}

/// A packet on the wire: (arrival, sequence, towards b, bytes).
type InTransit = Reverse<(Instant, u64, bool, Vec<u8>)>;
/// Edits a packet (towards b?) or drops it by returning `false`.
pub(crate) type Tamper = Box<dyn FnMut(bool, &mut Vec<u8>) -> bool>;

/// One direction of the path.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub delay: Duration,
    pub loss: f64,
    pub duplicate: f64,
    /// Probability that a packet gets an extra random delay up to `reorder_extra`.
    pub reorder: f64,
    pub reorder_extra: Duration,
    /// Bottleneck rate in bits per second (`None`: unlimited).
    pub rate_bps: Option<u64>,
    /// Drop-tail queue limit in bytes at the bottleneck.
    pub queue_bytes: usize,
    busy_until: Option<Instant>,
}

impl Link {
    pub(crate) fn ideal(delay: Duration) -> Self {
        Self {
            delay,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_extra: Duration::ZERO,
            rate_bps: None,
            queue_bytes: usize::MAX,
            busy_until: None,
        }
    }

    pub(crate) fn lossy(delay: Duration, loss: f64, reorder: f64, duplicate: f64) -> Self {
        Self {
            loss,
            reorder,
            duplicate,
            reorder_extra: delay.max(Duration::from_millis(5)),
            ..Self::ideal(delay)
        }
    }

    pub(crate) fn bottleneck(
        delay: Duration,
        loss: f64,
        rate_bps: u64,
        queue_bytes: usize,
    ) -> Self {
        Self {
            loss,
            rate_bps: Some(rate_bps),
            queue_bytes,
            ..Self::ideal(delay)
        }
    }

    /// When a packet of `len` bytes sent at `now` arrives, or `None` if dropped.
    fn schedule(&mut self, now: Instant, len: usize, rng: &mut Rng) -> Vec<Instant> {
        let mut depart = now;
        if let Some(rate) = self.rate_bps {
            let busy = self.busy_until.unwrap_or(now).max(now);
            let queued = (busy - now).as_secs_f64() * rate as f64 / 8.0;
            if queued + len as f64 > self.queue_bytes as f64 {
                return Vec::new();
            }
            let tx = Duration::from_secs_f64(len as f64 * 8.0 / rate as f64);
            depart = busy + tx;
            self.busy_until = Some(depart);
        }
        if rng.chance(self.loss) {
            return Vec::new();
        }
        let mut at = depart + self.delay;
        if rng.chance(self.reorder) {
            at += self.reorder_extra.mul_f64(rng.unit_f64());
        }
        let mut out = vec![at];
        if rng.chance(self.duplicate) {
            out.push(at + Duration::from_micros(rng.below(2000)));
        }
        out
    }
}

/// Two endpoints and the path between them.
pub(crate) struct Pair<E: Endpoint> {
    pub a: E,
    pub b: E,
    pub now: Instant,
    pub links: [Link; 2],
    rng: Rng,
    /// (arrival, sequence, to_b, packet)
    wire: BinaryHeap<InTransit>,
    seq: u64,
    /// Optional tamper hook: may edit or drop packets (returns false to drop).
    pub tamper: Option<Tamper>,
    pub delivered_packets: u64,
}

impl<E: Endpoint> Pair<E> {
    pub(crate) fn new(a: E, b: E, now: Instant, links: [Link; 2], seed: u64) -> Self {
        Self {
            a,
            b,
            now,
            links,
            rng: Rng::from_u64(seed),
            wire: BinaryHeap::new(),
            seq: 0,
            tamper: None,
            delivered_packets: 0,
        }
    }

    /// Moves every pending transmit of both sides onto the wire.
    pub(crate) fn flush(&mut self) {
        for to_b in [true, false] {
            loop {
                let src = if to_b { &mut self.a } else { &mut self.b };
                let Some(mut pkt) = src.transmit(self.now) else {
                    break;
                };
                if let Some(t) = self.tamper.as_mut()
                    && !t(to_b, &mut pkt)
                {
                    continue;
                }
                let link = &mut self.links[usize::from(!to_b)];
                for at in link.schedule(self.now, pkt.len(), &mut self.rng) {
                    self.seq += 1;
                    self.wire.push(Reverse((at, self.seq, to_b, pkt.clone())));
                }
            }
        }
    }

    /// The next instant anything happens.
    fn next_event(&self) -> Option<Instant> {
        let wire = self.wire.peek().map(|Reverse((at, ..))| *at);
        [wire, self.a.next_timeout(), self.b.next_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances to the next event and handles it. Returns `false` when nothing is left.
    pub(crate) fn step(&mut self) -> bool {
        self.flush();
        let Some(at) = self.next_event() else {
            return false;
        };
        self.now = self.now.max(at);
        while let Some(Reverse((t, ..))) = self.wire.peek() {
            if *t > self.now {
                break;
            }
            let Reverse((_, _, to_b, pkt)) = self.wire.pop().expect("peeked");
            self.delivered_packets += 1;
            let dst = if to_b { &mut self.b } else { &mut self.a };
            dst.receive(self.now, Bytes::from(pkt));
        }
        self.a.timeout(self.now);
        self.b.timeout(self.now);
        self.flush();
        true
    }

    /// Steps until `done` holds or `limit` of virtual time passes; returns whether done.
    pub(crate) fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            if !self.step() {
                return done(self);
            }
        }
        done(self)
    }
}
