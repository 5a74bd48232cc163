//! Rules: drop, delay, rewrite and count chosen datagrams; source validation.

use super::helpers::{Pinger, Sink, addr, seq_of, t0};
use crate::rng::Rng;
use crate::sim::{Direction, DropReason, LinkConfig, NodeId, Rule, Sim, SimError, is_dtls};
use std::net::SocketAddr;
use std::time::Duration;

const A: &str = "10.0.0.1:1000";
const B: &str = "10.0.0.2:2000";

/// A pinger at A sending `count` datagrams every `interval` to a sink at B.
fn pinger_to_sink(interval: Duration, count: u32) -> (Sim, NodeId) {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let pinger = Pinger::new(start, addr(A), addr(B), interval, count, 8);
    sim.add_node(net, addr(A).ip(), pinger).expect("add");
    let b = sim
        .add_node(net, addr(B).ip(), Sink::default())
        .expect("add");
    (sim, b)
}

fn seqs(sim: &Sim, sink: NodeId) -> Vec<u32> {
    sim.node::<Sink>(sink)
        .received
        .iter()
        .map(|r| seq_of(&r.3))
        .collect()
}

fn from_a_to_b(d: &crate::sim::Datagram<'_>) -> bool {
    d.source == addr(A) && d.destination == addr(B)
}

#[test]
fn drop_rule_drops_only_the_third_datagram_from_a_to_b() {
    let (mut sim, b) = pinger_to_sink(Duration::from_millis(1), 5);
    let rule = sim.add_rule(Rule::drop(from_a_to_b).skip(2).limit(1));
    sim.run_for(Duration::from_secs(1)).expect("runs");
    assert_eq!(seqs(&sim, b), [0, 1, 3, 4]);
    assert_eq!(sim.rule_hits(rule), Ok(1));
    assert_eq!(sim.stats().dropped(DropReason::Rule(rule)), 1);
}

#[test]
fn drop_rule_cuts_a_destination_off_from_a_point_in_time() {
    let (mut sim, b) = pinger_to_sink(Duration::from_secs(1), 20);
    let b_ip = addr(B).ip();
    sim.add_rule(Rule::drop(move |d| {
        d.destination.ip() == b_ip && d.elapsed >= Duration::from_secs(10)
    }));
    sim.run_for(Duration::from_secs(30)).expect("runs");
    assert_eq!(seqs(&sim, b), (0..10).collect::<Vec<u32>>());
}

#[test]
fn delay_rule_holds_back_the_chosen_datagram() {
    let (mut sim, b) = pinger_to_sink(Duration::from_millis(1), 5);
    let start = sim.start();
    sim.add_rule(Rule::delay(
        |d| seq_of(d.payload) == 1,
        Duration::from_micros(2500),
    ));
    sim.run_for(Duration::from_secs(1)).expect("runs");
    assert_eq!(seqs(&sim, b), [0, 2, 3, 1, 4]);
    let delayed = sim
        .node::<Sink>(b)
        .received
        .iter()
        .find(|r| seq_of(&r.3) == 1);
    assert_eq!(
        delayed.expect("delivered").0 - start,
        Duration::from_micros(3500)
    );
}

#[test]
fn delayed_datagram_still_crosses_the_senders_link() {
    let (mut sim, b) = pinger_to_sink(Duration::from_millis(1), 1);
    let a = crate::sim::NodeId(0);
    sim.set_node_link(
        a,
        Direction::Up,
        LinkConfig::new().latency(Duration::from_millis(10)),
    )
    .expect("node");
    sim.add_rule(Rule::delay(|_| true, Duration::from_millis(5)));
    sim.run_for(Duration::from_secs(1)).expect("runs");
    let got = &sim.node::<Sink>(b).received[0];
    assert_eq!(got.0 - sim.start(), Duration::from_millis(15));
}

#[test]
fn rewrite_rule_flips_a_byte_in_the_first_dtls_record_only() {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, addr(A).ip(), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, addr(B).ip(), Sink::default())
        .expect("add");
    let rule =
        sim.add_rule(Rule::rewrite(|d| is_dtls(d.payload), |t| t.payload[13] ^= 0xff).limit(1));
    let record = [22u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x10];
    sim.node_mut::<Sink>(a)
        .send(addr(A), addr(B), &[0, 1, 0, 0]); // STUN-like: untouched
    sim.node_mut::<Sink>(a).send(addr(A), addr(B), &record);
    sim.node_mut::<Sink>(a).send(addr(A), addr(B), &record);
    sim.run_for(Duration::from_millis(1)).expect("runs");
    let mut flipped = record;
    flipped[13] = 0xef;
    assert_eq!(
        sim.node::<Sink>(b).payloads(),
        vec![vec![0, 1, 0, 0], flipped.to_vec(), record.to_vec()]
    );
    assert_eq!(sim.rule_hits(rule), Ok(1));
}

#[test]
fn count_rule_counts_without_changing_anything() {
    let (mut sim, b) = pinger_to_sink(Duration::from_millis(1), 6);
    let rule = sim.add_rule(Rule::count(|d| seq_of(d.payload).is_multiple_of(2)));
    sim.run_for(Duration::from_secs(1)).expect("runs");
    assert_eq!(seqs(&sim, b), [0, 1, 2, 3, 4, 5]);
    assert_eq!(sim.rule_hits(rule), Ok(3));
}

#[test]
fn rules_can_select_by_sending_node() {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, addr(A).ip(), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, addr(B).ip(), Sink::default())
        .expect("add");
    sim.add_rule(Rule::drop(move |d| d.sender == a));
    sim.node_mut::<Sink>(a).send(addr(A), addr(B), b"from a");
    sim.node_mut::<Sink>(b).send(addr(B), addr(A), b"from b");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    assert!(sim.node::<Sink>(b).received.is_empty());
    assert_eq!(sim.node::<Sink>(a).payloads(), vec![b"from b".to_vec()]);
}

#[test]
fn removed_rule_no_longer_applies() {
    let (mut sim, b) = pinger_to_sink(Duration::from_millis(10), 4);
    let rule = sim.add_rule(Rule::drop(|_| true));
    sim.run_for(Duration::from_millis(15)).expect("runs");
    sim.remove_rule(rule).expect("installed");
    sim.run_for(Duration::from_secs(1)).expect("runs");
    assert_eq!(seqs(&sim, b), [2, 3]);
    assert_eq!(sim.remove_rule(rule), Err(SimError::UnknownRule(rule)));
}

#[test]
fn spoofed_source_is_dropped_and_counted() {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, addr(A).ip(), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, addr(B).ip(), Sink::default())
        .expect("add");
    let forged: SocketAddr = addr("10.0.0.9:1");
    sim.node_mut::<Sink>(a).send(forged, addr(B), b"forged");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    assert!(sim.node::<Sink>(b).received.is_empty());
    assert_eq!(sim.stats().dropped(DropReason::Spoofed), 1);
}

#[test]
fn a_rewrite_rule_can_forge_the_source_on_purpose() {
    let start = t0();
    let mut sim = Sim::new(start, Rng::from_u64(1));
    let net = sim.internet();
    let a = sim
        .add_node(net, addr(A).ip(), Sink::default())
        .expect("add");
    let b = sim
        .add_node(net, addr(B).ip(), Sink::default())
        .expect("add");
    sim.add_rule(Rule::rewrite(
        |_| true,
        |t| t.source = addr("192.0.2.66:6666"),
    ));
    sim.node_mut::<Sink>(a).send(addr(A), addr(B), b"x");
    sim.run_for(Duration::from_millis(1)).expect("runs");
    assert_eq!(sim.node::<Sink>(b).received[0].1, addr("192.0.2.66:6666"));
}
