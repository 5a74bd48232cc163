//! Link behaviour end to end: latency, loss, bursts, duplication, reordering, bandwidth,
//! MTU.

use super::helpers::{Pinger, Sink, addr, seq_of, t0};
use crate::rng::Rng;
use crate::sim::{Direction, DropReason, GilbertElliott, LinkConfig, Loss, NodeId, Sim, SimConfig};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);

/// A pinger at 10.0.0.1 sending `count` datagrams of `size` bytes every `interval` to a
/// sink at 10.0.0.2, with `link` as the pinger's up link.
fn pinger_to_sink(
    seed: u64,
    link: LinkConfig,
    interval: Duration,
    count: u32,
    size: usize,
) -> (Sim, Instant, NodeId, NodeId) {
    let start = t0();
    let config = SimConfig::new().capture(false);
    let mut sim = Sim::with_config(start, Rng::from_u64(seed), config);
    let net = sim.internet();
    let pinger = Pinger::new(
        start,
        addr("10.0.0.1:1000"),
        addr("10.0.0.2:2000"),
        interval,
        count,
        size,
    );
    let a = sim
        .add_node(net, "10.0.0.1".parse().expect("ip"), pinger)
        .expect("add");
    let b = sim
        .add_node(net, "10.0.0.2".parse().expect("ip"), Sink::default())
        .expect("add");
    sim.set_node_link(a, Direction::Up, link)
        .expect("node exists");
    (sim, start, a, b)
}

fn received_seqs(sim: &Sim, sink: NodeId) -> Vec<u32> {
    sim.node::<Sink>(sink)
        .received
        .iter()
        .map(|r| seq_of(&r.3))
        .collect()
}

#[test]
fn latency_of_both_links_adds_up_exactly() {
    let (mut sim, start, _a, b) = pinger_to_sink(1, LinkConfig::new().latency(30 * MS), MS, 1, 8);
    sim.set_node_link(b, Direction::Down, LinkConfig::new().latency(20 * MS))
        .expect("node exists");
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let received = &sim.node::<Sink>(b).received;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, start + 50 * MS);
}

#[test]
fn nothing_arrives_before_its_latency() {
    let (mut sim, _start, _a, b) = pinger_to_sink(1, LinkConfig::new().latency(30 * MS), MS, 1, 8);
    sim.run_for(30 * MS - Duration::from_nanos(1))
        .expect("runs");
    assert!(sim.node::<Sink>(b).received.is_empty());
    sim.run_for(Duration::from_nanos(1)).expect("runs");
    assert_eq!(sim.node::<Sink>(b).received.len(), 1);
}

#[test]
fn random_loss_rate_is_within_statistical_bounds() {
    let n = 10_000;
    let link = LinkConfig::new().loss(Loss::Random(0.1));
    let (mut sim, _, _a, b) = pinger_to_sink(7, link, MS, n, 8);
    sim.run_for(Duration::from_secs(11)).expect("runs");
    let lost = u64::from(n) - sim.node::<Sink>(b).received.len() as u64;
    // Expected 1000, standard deviation 30: allow five of them.
    assert!((850..=1150).contains(&lost), "lost {lost} of {n}");
    assert_eq!(sim.stats().dropped(DropReason::Loss), lost);
}

/// Mean length of runs of consecutive missing sequence numbers in `0..n`.
fn mean_loss_burst(received: &[u32], n: u32) -> f64 {
    let mut got = vec![false; n as usize];
    for s in received {
        got[*s as usize] = true;
    }
    let (mut bursts, mut lost, mut in_burst) = (0u32, 0u32, false);
    for g in got {
        if !g {
            lost += 1;
            if !in_burst {
                bursts += 1;
            }
        }
        in_burst = !g;
    }
    f64::from(lost) / f64::from(bursts.max(1))
}

#[test]
fn gilbert_elliott_loss_comes_in_bursts() {
    let n = 20_000;
    let link = LinkConfig::new().loss(Loss::GilbertElliott(GilbertElliott::bursts(0.1, 5.0)));
    let (mut sim, _, _a, b) = pinger_to_sink(11, link, MS, n, 8);
    sim.run_for(Duration::from_secs(21)).expect("runs");
    let received = received_seqs(&sim, b);
    let rate = 1.0 - received.len() as f64 / f64::from(n);
    let burst = mean_loss_burst(&received, n);
    assert!((0.06..0.14).contains(&rate), "loss rate {rate}");
    assert!(burst > 3.5, "mean burst {burst}");
}

#[test]
fn random_loss_at_the_same_rate_does_not_burst() {
    let n = 20_000;
    let (mut sim, _, _a, b) =
        pinger_to_sink(11, LinkConfig::new().loss(Loss::Random(0.1)), MS, n, 8);
    sim.run_for(Duration::from_secs(21)).expect("runs");
    let burst = mean_loss_burst(&received_seqs(&sim, b), n);
    assert!(burst < 1.5, "mean burst {burst}");
}

#[test]
fn duplication_delivers_some_datagrams_twice() {
    let n = 1000;
    let (mut sim, _, _a, b) = pinger_to_sink(3, LinkConfig::new().duplicate(0.2), MS, n, 8);
    sim.run_for(Duration::from_secs(2)).expect("runs");
    let seqs = received_seqs(&sim, b);
    let extra = seqs.len() - n as usize;
    assert!((120..=280).contains(&extra), "{extra} duplicates");
    assert_eq!(sim.stats().duplicated, extra as u64);
    let mut unique = seqs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), n as usize);
}

fn inversions(seqs: &[u32]) -> usize {
    seqs.windows(2).filter(|w| w[1] < w[0]).count()
}

#[test]
fn fifo_jitter_keeps_order() {
    let link = LinkConfig::new().latency(10 * MS).jitter(20 * MS);
    let (mut sim, _, _a, b) = pinger_to_sink(5, link, MS, 500, 8);
    sim.run_for(Duration::from_secs(2)).expect("runs");
    let seqs = received_seqs(&sim, b);
    assert_eq!(seqs.len(), 500);
    assert_eq!(inversions(&seqs), 0);
}

#[test]
fn jitter_reorders_when_allowed() {
    let link = LinkConfig::new()
        .latency(10 * MS)
        .jitter(20 * MS)
        .jitter_reorders(true);
    let (mut sim, _, _a, b) = pinger_to_sink(5, link, MS, 500, 8);
    sim.run_for(Duration::from_secs(2)).expect("runs");
    let seqs = received_seqs(&sim, b);
    assert_eq!(seqs.len(), 500);
    assert!(inversions(&seqs) > 50, "{} inversions", inversions(&seqs));
}

#[test]
fn explicit_reordering_lets_later_datagrams_overtake() {
    let link = LinkConfig::new().latency(5 * MS).reorder(0.1, 3 * MS);
    let (mut sim, _, _a, b) = pinger_to_sink(9, link, MS, 1000, 8);
    sim.run_for(Duration::from_secs(2)).expect("runs");
    let seqs = received_seqs(&sim, b);
    assert_eq!(seqs.len(), 1000);
    let inv = inversions(&seqs);
    assert!((50..=150).contains(&inv), "{inv} inversions");
}

#[test]
fn bandwidth_limit_shapes_throughput() {
    // 1000-byte payloads (1028-byte IPv4 packets) every ms into 1 Mbit/s: one leaves every
    // 8.224 ms.
    let link = LinkConfig::new().bandwidth(1_000_000, 100_000);
    let (mut sim, start, _a, b) = pinger_to_sink(2, link, MS, 50, 1000);
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let times: Vec<Instant> = sim.node::<Sink>(b).received.iter().map(|r| r.0).collect();
    assert_eq!(times.len(), 50);
    assert_eq!(times[0], start + Duration::from_micros(8224));
    for pair in times.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::from_micros(8224));
    }
}

#[test]
fn drop_tail_queue_drops_what_exceeds_it() {
    // Offered 8.2 Mbit/s into 1 Mbit/s with room for ten packets.
    let link = LinkConfig::new().bandwidth(1_000_000, 10 * 1028);
    let (mut sim, _, _a, b) = pinger_to_sink(2, link, MS, 1000, 1000);
    sim.run_for(Duration::from_secs(3)).expect("runs");
    let delivered = sim.node::<Sink>(b).received.len() as u64;
    // One second of sending at 1 Mbit/s is ~121.6 packets, plus what the queue held.
    assert!((120..=135).contains(&delivered), "delivered {delivered}");
    assert_eq!(sim.stats().dropped(DropReason::QueueFull), 1000 - delivered);
}

#[test]
fn mtu_drops_datagrams_larger_than_the_link_carries() {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, "10.0.0.1".parse().expect("ip"), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, "10.0.0.2".parse().expect("ip"), Sink::default())
        .expect("add");
    sim.set_node_link(b, Direction::Down, LinkConfig::new().mtu(1200))
        .expect("node exists");
    let (from, to) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    sim.node_mut::<Sink>(a).send(from, to, &[1; 1172]); // 1200 bytes with headers
    sim.node_mut::<Sink>(a).send(from, to, &[2; 1173]);
    sim.run_for(MS).expect("runs");
    assert_eq!(sim.node::<Sink>(b).payloads(), vec![vec![1u8; 1172]]);
    assert_eq!(sim.stats().dropped(DropReason::Mtu), 1);
}

#[test]
fn ipv6_mtu_counts_the_larger_headers() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, "2001:db8::1".parse().expect("ip"), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, "2001:db8::2".parse().expect("ip"), Sink::default())
        .expect("add");
    sim.set_node_link(a, Direction::Up, LinkConfig::new().mtu(1280))
        .expect("node exists");
    let (from, to) = (addr("[2001:db8::1]:1"), addr("[2001:db8::2]:2"));
    sim.node_mut::<Sink>(a).send(from, to, &[1; 1232]); // 1280 bytes with IPv6 + UDP
    sim.node_mut::<Sink>(a).send(from, to, &[2; 1233]);
    sim.run_for(MS).expect("runs");
    assert_eq!(sim.node::<Sink>(b).payloads(), vec![vec![1u8; 1232]]);
    assert_eq!(sim.stats().dropped(DropReason::Mtu), 1);
}

#[test]
fn mixed_address_families_are_dropped() {
    let mut sim = Sim::new(t0(), Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, "10.0.0.1".parse().expect("ip"), Sink::default())
        .expect("add");
    sim.add_address(a, net, "2001:db8::1".parse().expect("ip"))
        .expect("add");
    sim.node_mut::<Sink>(a)
        .send(addr("10.0.0.1:1"), addr("[2001:db8::1]:2"), b"x");
    sim.run_for(MS).expect("runs");
    assert_eq!(sim.stats().dropped(DropReason::AddressFamily), 1);
    assert!(sim.node::<Sink>(a).received.is_empty());
}

#[test]
fn jitter_stays_within_its_bound() {
    let link = LinkConfig::new()
        .latency(10 * MS)
        .jitter(4 * MS)
        .jitter_reorders(true);
    let (mut sim, start, _a, b) = pinger_to_sink(6, link, MS, 300, 8);
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let received = &sim.node::<Sink>(b).received;
    assert_eq!(received.len(), 300);
    let delays: Vec<Duration> = received
        .iter()
        .map(|r| r.0 - (start + MS * seq_of(&r.3)))
        .collect();
    assert!(delays.iter().all(|d| (10 * MS..=14 * MS).contains(d)));
    // Spread over the range, not stuck at one end.
    assert!(delays.iter().any(|d| *d < 11 * MS));
    assert!(delays.iter().any(|d| *d > 13 * MS));
}
