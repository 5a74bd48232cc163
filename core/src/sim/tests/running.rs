//! Running: clock jumps, bounded runs, livelock, determinism, capture, pcap, API errors.

use super::helpers::{Echo, Pinger, Sink, addr, t0};
use crate::rng::Rng;
use crate::sim::{
    Direction, DropReason, Fate, GilbertElliott, LinkConfig, Loss, NatConfig, Node, NodeId,
    PortAllocation, Sim, SimConfig, SimError,
};
use crate::transmit::Transmit;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal ip")
}

/// A pinger behind a symmetric NAT with random ports pings an echo server over lossy,
/// jittery, duplicating links.
fn eventful_run(seed: u64, extra_idle_node: bool) -> Sim {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(seed));
    let net = sim.internet();
    let nat = NatConfig::symmetric().port_allocation(PortAllocation::Random);
    let lan = sim.add_nat(net, ip("203.0.113.1"), nat).expect("nat");
    let pinger = Pinger::new(
        start,
        addr("192.168.1.2:5000"),
        addr("198.51.100.1:7"),
        Duration::from_millis(20),
        200,
        100,
    );
    sim.add_node(lan, ip("192.168.1.2"), pinger).expect("add");
    sim.add_node(net, ip("198.51.100.1"), Echo::default())
        .expect("add");
    let wan = LinkConfig::new()
        .latency(Duration::from_millis(30))
        .jitter(Duration::from_millis(10))
        .jitter_reorders(true)
        .loss(Loss::GilbertElliott(GilbertElliott::bursts(0.05, 3.0)))
        .duplicate(0.02);
    sim.set_uplink(lan, Direction::Both, wan).expect("uplink");
    if extra_idle_node {
        let idle = sim
            .add_node(net, ip("198.51.100.200"), Sink::default())
            .expect("add");
        let lossy = LinkConfig::new()
            .loss(Loss::Random(0.5))
            .jitter(Duration::from_millis(9));
        sim.set_node_link(idle, Direction::Both, lossy)
            .expect("node");
    }
    sim.run_for(Duration::from_secs(5)).expect("runs");
    sim
}

#[test]
fn same_seed_gives_identical_capture_digest() {
    let a = eventful_run(1, false);
    let b = eventful_run(1, false);
    assert!(a.stats().delivered > 300);
    assert!(a.stats().total_dropped() > 0);
    assert_eq!(a.capture_digest(), b.capture_digest());
    assert_eq!(a.stats(), b.stats());
}

#[test]
fn different_seed_gives_a_different_capture_digest() {
    assert_ne!(
        eventful_run(1, false).capture_digest(),
        eventful_run(2, false).capture_digest()
    );
}

#[test]
fn adding_a_link_later_does_not_perturb_existing_links() {
    assert_eq!(
        eventful_run(1, false).capture_digest(),
        eventful_run(1, true).capture_digest()
    );
}

/// A node that always wants a timeout right now.
#[derive(Debug)]
struct Impatient {
    now: Instant,
}

impl Node for Impatient {
    fn handle_receive(&mut self, _: Instant, _: SocketAddr, _: SocketAddr, _: &[u8]) {}
    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        // A fresh deadline each time (never equal to the last), always "now".
        Some(self.now)
    }
}

#[test]
fn livelock_is_detected_for_a_timer_that_never_advances() {
    let start = t0();
    let config = SimConfig::new().livelock_events(1000);
    let mut sim = Sim::with_config(start, Rng::from_u64(1), config);
    let net = sim.internet();
    sim.add_node(net, ip("10.0.0.1"), Impatient { now: start })
        .expect("add");
    let err = sim
        .run_for(Duration::from_secs(1))
        .expect_err("must not finish");
    assert_eq!(
        err,
        SimError::Livelock {
            elapsed: Duration::ZERO,
            events: 1000
        }
    );
}

#[test]
fn livelock_is_detected_for_a_zero_latency_ping_pong() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, ip("10.0.0.1"), Echo::default())
        .expect("add");
    sim.add_node(net, ip("10.0.0.2"), Echo::default())
        .expect("add");
    sim.node_mut::<Echo>(a).out.push(Transmit {
        source: addr("10.0.0.1:1"),
        destination: addr("10.0.0.2:2"),
        payload: b"ball".to_vec(),
    });
    let err = sim
        .run_for(Duration::from_secs(1))
        .expect_err("must not finish");
    assert!(matches!(err, SimError::Livelock { .. }), "{err}");
}

fn pinger_sim(interval: Duration, count: u32) -> (Sim, NodeId, NodeId) {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let pinger = Pinger::new(
        start,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        interval,
        count,
        8,
    );
    let a = sim.add_node(net, ip("10.0.0.1"), pinger).expect("add");
    let b = sim
        .add_node(net, ip("10.0.0.2"), Echo::default())
        .expect("add");
    sim.set_node_link(
        b,
        Direction::Down,
        LinkConfig::new().latency(Duration::from_millis(5)),
    )
    .expect("node");
    (sim, a, b)
}

#[test]
fn step_budget_exhaustion_is_reported() {
    let (mut sim, _, _) = pinger_sim(Duration::from_millis(1), 1000);
    let deadline = sim.now() + Duration::from_secs(10);
    let err = sim.run_until(deadline, 50).expect_err("budget too small");
    assert!(
        matches!(err, SimError::StepLimit { steps: 50, .. }),
        "{err}"
    );
}

#[test]
fn step_jumps_the_clock_to_each_timer_exactly() {
    let (mut sim, _, _) = pinger_sim(Duration::from_secs(1), 3);
    let start = sim.start();
    let mut timer_times = Vec::new();
    while let Some(at) = sim.step().expect("no livelock") {
        timer_times.push(at - start);
    }
    // Pokes at 0, timers at 0, 1 s, 2 s, deliveries 5 ms after each, echoes back.
    assert!(timer_times.contains(&Duration::from_secs(2)));
    assert!(timer_times.contains(&Duration::from_millis(2005)));
    assert!(timer_times.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(sim.node::<Pinger>(NodeId(0)).replies.len(), 3);
    assert_eq!(sim.step(), Ok(None));
}

#[test]
fn run_until_with_stops_as_soon_as_the_condition_holds() {
    let (mut sim, a, _) = pinger_sim(Duration::from_millis(100), 10);
    let deadline = sim.now() + Duration::from_secs(60);
    sim.run_until_with(|s| s.node::<Pinger>(a).replies.len() == 3, deadline, 10_000)
        .expect("reached");
    assert_eq!(sim.elapsed(), Duration::from_millis(205));
}

#[test]
fn run_until_condition_reports_a_deadline_miss() {
    let (mut sim, a, _) = pinger_sim(Duration::from_millis(100), 2);
    let err = sim
        .run_until_condition(
            |s| s.node::<Pinger>(a).replies.len() == 3,
            Duration::from_secs(1),
        )
        .expect_err("only two pings");
    assert_eq!(
        err,
        SimError::Deadline {
            elapsed: Duration::from_secs(1)
        }
    );
    assert_eq!(sim.elapsed(), Duration::from_secs(1));
}

#[test]
fn capture_follows_each_datagram_by_id() {
    let (mut sim, _, _) = pinger_sim(Duration::from_millis(1), 1);
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let fates: Vec<(u64, Fate, u128)> = sim
        .capture()
        .iter()
        .map(|r| (r.id, r.fate, r.elapsed.as_millis()))
        .collect();
    let (a, b) = (NodeId(0), NodeId(1));
    assert_eq!(
        fates,
        [
            (1, Fate::Sent { node: a }, 0),
            (1, Fate::Delivered { node: b }, 5),
            (2, Fate::Sent { node: b }, 5),
            (2, Fate::Delivered { node: a }, 5),
        ]
    );
}

#[test]
fn unroutable_destination_is_dropped_as_no_route() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, ip("10.0.0.1"), Sink::default())
        .expect("add");
    sim.node_mut::<Sink>(a)
        .send(addr("10.0.0.1:1"), addr("10.9.9.9:1"), b"x");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    assert_eq!(sim.stats().dropped(DropReason::NoRoute), 1);
    assert!(matches!(
        sim.capture().last().map(|r| r.fate),
        Some(Fate::Dropped(DropReason::NoRoute))
    ));
}

#[test]
fn injected_datagram_is_routed_like_any_other() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let b = sim
        .add_node(net, ip("10.0.0.2"), Sink::default())
        .expect("add");
    let forged = Transmit {
        source: addr("192.0.2.1:1"),
        destination: addr("10.0.0.2:2"),
        payload: b"from nowhere".to_vec(),
    };
    sim.inject(net, forged).expect("known network");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    assert_eq!(
        sim.node::<Sink>(b).payloads(),
        vec![b"from nowhere".to_vec()]
    );
}

#[test]
fn pcap_has_one_record_per_selected_datagram() {
    let (mut sim, _, _) = pinger_sim(Duration::from_millis(1), 3);
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let pcap = sim
        .write_pcap(Vec::new(), |r| matches!(r.fate, Fate::Delivered { .. }))
        .expect("vec");
    let mut offset = 24;
    let mut records = 0;
    while offset < pcap.len() {
        let len = u32::from_le_bytes(pcap[offset + 8..offset + 12].try_into().expect("4"));
        assert_eq!(len, 28 + 8, "IPv4 + UDP + 8-byte payload");
        assert_eq!(pcap[offset + 16], 0x45);
        offset += 16 + len as usize;
        records += 1;
    }
    assert_eq!(offset, pcap.len());
    assert_eq!(records, 6);
}

#[test]
fn asking_for_the_wrong_node_type_is_an_error() {
    let (sim, a, _) = pinger_sim(Duration::from_millis(1), 1);
    assert!(matches!(
        sim.try_node::<Echo>(a),
        Err(SimError::WrongNodeType { .. })
    ));
    assert!(sim.try_node::<Pinger>(a).is_ok());
    assert_eq!(
        sim.try_node::<Pinger>(NodeId(9)).err(),
        Some(SimError::UnknownNode(NodeId(9)))
    );
}

#[test]
fn an_address_can_be_used_once_per_network() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    sim.add_node(net, ip("10.0.0.1"), Sink::default())
        .expect("add");
    let err = sim
        .add_node(net, ip("10.0.0.1"), Sink::default())
        .expect_err("clash");
    assert_eq!(
        err,
        SimError::AddressInUse {
            ip: ip("10.0.0.1"),
            network: net
        }
    );
    let lan = sim
        .add_nat(net, ip("203.0.113.1"), NatConfig::full_cone())
        .expect("nat");
    assert!(sim.add_node(lan, ip("10.0.0.1"), Sink::default()).is_ok());
    assert_eq!(
        sim.set_uplink(net, Direction::Up, LinkConfig::new()),
        Err(SimError::NoUplink(net))
    );
}

#[test]
fn multi_homed_node_sends_from_either_address() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let lan = sim
        .add_nat(net, ip("203.0.113.1"), NatConfig::full_cone())
        .expect("nat");
    let a = sim
        .add_node(lan, ip("192.168.1.2"), Sink::default())
        .expect("add");
    sim.add_address(a, net, ip("198.51.100.5"))
        .expect("second address");
    let b = sim
        .add_node(net, ip("198.51.100.1"), Sink::default())
        .expect("add");
    sim.node_mut::<Sink>(a)
        .send(addr("192.168.1.2:1"), addr("198.51.100.1:2"), b"nat");
    sim.node_mut::<Sink>(a)
        .send(addr("198.51.100.5:1"), addr("198.51.100.1:2"), b"direct");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    let mut sources: Vec<SocketAddr> = sim.node::<Sink>(b).received.iter().map(|r| r.1).collect();
    sources.sort();
    assert_eq!(sources, [addr("198.51.100.5:1"), addr("203.0.113.1:40000")]);
    assert_eq!(
        sim.node_addresses(a),
        Ok(vec![ip("192.168.1.2"), ip("198.51.100.5")])
    );
}

#[test]
fn running_digest_matches_the_digest_of_the_full_capture() {
    let sim = eventful_run(4, false);
    assert_eq!(
        sim.capture_digest(),
        crate::sim::delivered_digest(sim.capture())
    );
}

#[test]
fn digest_does_not_depend_on_capture_settings() {
    let run = |capture: bool, capture_limit: usize| {
        let start = t0();
        let config = SimConfig::new()
            .capture(capture)
            .capture_limit(capture_limit);
        let mut sim = Sim::with_config(start, Rng::from_u64(8), config);
        let net = sim.internet();
        let p = Pinger::new(
            start,
            addr("10.0.0.1:1"),
            addr("10.0.0.2:2"),
            Duration::from_millis(3),
            20,
            8,
        );
        sim.add_node(net, ip("10.0.0.1"), p).expect("add");
        sim.add_node(net, ip("10.0.0.2"), Echo::default())
            .expect("add");
        sim.run_for(Duration::from_secs(1)).expect("runs");
        sim
    };
    let full = run(true, usize::MAX);
    let off = run(false, usize::MAX);
    let limited = run(true, 10);
    assert!(off.capture().is_empty());
    assert_eq!(limited.capture().len(), 10);
    assert_eq!(
        limited.stats().capture_overflow,
        full.capture().len() as u64 - 10
    );
    assert_eq!(full.capture_digest(), off.capture_digest());
    assert_eq!(full.capture_digest(), limited.capture_digest());
}

#[test]
fn injected_datagrams_are_captured_as_injected() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let forged = Transmit {
        source: addr("192.0.2.1:1"),
        destination: addr("192.0.2.2:2"),
        payload: b"x".to_vec(),
    };
    sim.inject(net, forged).expect("known network");
    let fates: Vec<Fate> = sim.capture().iter().map(|r| r.fate).collect();
    assert_eq!(fates, [Fate::Injected, Fate::Dropped(DropReason::NoRoute)]);
}

#[test]
fn removed_address_loses_datagrams_in_flight_and_cannot_send() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, ip("10.0.0.1"), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, ip("10.0.0.2"), Sink::default())
        .expect("add");
    sim.set_node_link(
        b,
        Direction::Down,
        LinkConfig::new().latency(Duration::from_millis(10)),
    )
    .expect("node");
    sim.node_mut::<Sink>(a)
        .send(addr("10.0.0.1:1"), addr("10.0.0.2:2"), b"in flight");
    sim.run_for(Duration::from_millis(5)).expect("runs");
    sim.remove_address(b, ip("10.0.0.2")).expect("assigned");
    sim.node_mut::<Sink>(b)
        .send(addr("10.0.0.2:2"), addr("10.0.0.1:1"), b"old address");
    sim.run_for(Duration::from_millis(20)).expect("runs");
    assert!(sim.node::<Sink>(b).received.is_empty());
    assert!(sim.node::<Sink>(a).received.is_empty());
    assert_eq!(sim.stats().dropped(DropReason::NoRoute), 1);
    assert_eq!(sim.stats().dropped(DropReason::Spoofed), 1);
    assert_eq!(
        sim.remove_address(b, ip("10.0.0.2")),
        Err(SimError::NotAssigned {
            node: b,
            ip: ip("10.0.0.2")
        })
    );
    // The address is free again, and the node can move to a new one.
    sim.add_address(b, net, ip("10.0.0.3"))
        .expect("new address");
    assert!(sim.add_node(net, ip("10.0.0.2"), Sink::default()).is_ok());
}

/// A node that always has one more datagram to send.
#[derive(Debug)]
struct Firehose;

impl Node for Firehose {
    fn handle_receive(&mut self, _: Instant, _: SocketAddr, _: SocketAddr, _: &[u8]) {}
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        Some(Transmit {
            source: addr("10.0.0.1:1"),
            destination: addr("10.0.0.2:2"),
            payload: Vec::new(),
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

#[test]
fn livelock_is_detected_for_a_node_that_never_stops_sending() {
    let config = SimConfig::new().livelock_events(500).capture(false);
    let mut sim = Sim::with_config(t0(), Rng::from_u64(1), config);
    let net = sim.internet();
    sim.add_node(net, ip("10.0.0.1"), Firehose).expect("add");
    let err = sim
        .run_for(Duration::from_secs(1))
        .expect_err("must not finish");
    assert!(matches!(err, SimError::Livelock { .. }), "{err}");
    assert!(sim.stats().sent <= 501);
}
