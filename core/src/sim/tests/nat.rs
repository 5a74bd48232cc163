//! NAT boxes: filtering and mapping per RFC 4787, timeouts, hairpinning, bounds.

use super::helpers::{Echo, Sink, addr, t0};
use crate::rng::Rng;
use crate::sim::{
    Direction, DropReason, LinkConfig, MappingBehavior, NatConfig, NetworkId, NodeId,
    PortAllocation, Sim,
};
use std::net::SocketAddr;
use std::time::Duration;

const INSIDE: &str = "192.168.1.2:5000";
const PUBLIC_IP: &str = "203.0.113.1";
const S1: &str = "198.51.100.1:3478";
const S1_OTHER_PORT: &str = "198.51.100.1:3479";
const S2: &str = "198.51.100.2:3478";

struct Setup {
    sim: Sim,
    lan: NetworkId,
    inside: NodeId,
    s1: NodeId,
    s2: NodeId,
}

fn setup(seed: u64, config: NatConfig) -> Setup {
    let mut sim = Sim::new(t0(), Rng::from_u64(seed));
    let net = sim.internet();
    let lan = sim.add_nat(net, ip(PUBLIC_IP), config).expect("add nat");
    let inside = sim
        .add_node(lan, ip("192.168.1.2"), Sink::default())
        .expect("add");
    let s1 = sim
        .add_node(net, ip("198.51.100.1"), Sink::default())
        .expect("add");
    let s2 = sim
        .add_node(net, ip("198.51.100.2"), Sink::default())
        .expect("add");
    Setup {
        sim,
        lan,
        inside,
        s1,
        s2,
    }
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().expect("literal ip")
}

impl Setup {
    fn send(&mut self, node: NodeId, from: &str, to: &str, payload: &[u8]) {
        self.sim
            .node_mut::<Sink>(node)
            .send(addr(from), addr(to), payload);
        self.sim.run_for(Duration::from_millis(1)).expect("runs");
    }

    /// The source address the server saw on its last datagram.
    fn seen_by(&self, server: NodeId) -> SocketAddr {
        self.sim
            .node::<Sink>(server)
            .received
            .last()
            .expect("received")
            .1
    }

    /// Sends from inside to `server_addr` and returns the public endpoint it saw.
    fn map_to(&mut self, server: NodeId, server_addr: &str) -> SocketAddr {
        self.send(self.inside, INSIDE, server_addr, b"out");
        self.seen_by(server)
    }

    fn inside_got(&self) -> usize {
        self.sim.node::<Sink>(self.inside).received.len()
    }
}

#[test]
fn endpoint_independent_mapping_reuses_one_public_port() {
    let mut s = setup(1, NatConfig::port_restricted_cone());
    let a = s.map_to(s.s1, S1);
    let b = s.map_to(s.s2, S2);
    let c = s.map_to(s.s1, S1_OTHER_PORT);
    assert_eq!(a, addr("203.0.113.1:40000"));
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn symmetric_nat_gives_each_destination_its_own_port() {
    let mut s = setup(1, NatConfig::symmetric());
    let a = s.map_to(s.s1, S1);
    let b = s.map_to(s.s2, S2);
    let c = s.map_to(s.s1, S1_OTHER_PORT);
    assert_eq!(a.ip(), ip(PUBLIC_IP));
    assert_ne!(a.port(), b.port());
    assert_ne!(a.port(), c.port());
    assert_ne!(b.port(), c.port());
    assert_eq!(s.sim.nat_mapping_count(s.lan), Ok(3));
    // The same destination again keeps its mapping.
    assert_eq!(s.map_to(s.s1, S1), a);
}

#[test]
fn address_dependent_mapping_shares_a_port_per_destination_address() {
    let config = NatConfig::new(
        MappingBehavior::AddressDependent,
        crate::sim::FilteringBehavior::AddressDependent,
    );
    let mut s = setup(1, config);
    let a = s.map_to(s.s1, S1);
    let c = s.map_to(s.s1, S1_OTHER_PORT);
    let b = s.map_to(s.s2, S2);
    assert_eq!(a, c);
    assert_ne!(a, b);
}

#[test]
fn full_cone_lets_any_endpoint_in() {
    let mut s = setup(1, NatConfig::full_cone());
    let public = s.map_to(s.s1, S1);
    s.send(s.s2, "198.51.100.2:9999", &public.to_string(), b"in");
    assert_eq!(s.inside_got(), 1);
    let got = &s.sim.node::<Sink>(s.inside).received[0];
    assert_eq!((got.1, got.2), (addr("198.51.100.2:9999"), addr(INSIDE)));
}

#[test]
fn restricted_cone_lets_a_contacted_address_in_from_any_port() {
    let mut s = setup(1, NatConfig::restricted_cone());
    let public = s.map_to(s.s1, S1);
    s.send(s.s1, "198.51.100.1:1", &public.to_string(), b"in");
    assert_eq!(s.inside_got(), 1);
}

#[test]
fn restricted_cone_filters_an_uncontacted_address() {
    let mut s = setup(1, NatConfig::restricted_cone());
    let public = s.map_to(s.s1, S1);
    s.send(s.s2, S2, &public.to_string(), b"in");
    assert_eq!(s.inside_got(), 0);
    assert_eq!(s.sim.stats().dropped(DropReason::NatFiltered), 1);
}

#[test]
fn port_restricted_cone_lets_only_the_contacted_endpoint_in() {
    let mut s = setup(1, NatConfig::port_restricted_cone());
    let public = s.map_to(s.s1, S1);
    s.send(s.s1, S1_OTHER_PORT, &public.to_string(), b"other port");
    assert_eq!(s.inside_got(), 0);
    s.send(s.s1, S1, &public.to_string(), b"same endpoint");
    assert_eq!(
        s.sim.node::<Sink>(s.inside).payloads(),
        vec![b"same endpoint".to_vec()]
    );
    assert_eq!(s.sim.stats().dropped(DropReason::NatFiltered), 1);
}

#[test]
fn symmetric_nat_filters_other_ports_of_a_contacted_address() {
    let mut s = setup(1, NatConfig::symmetric());
    let public = s.map_to(s.s1, S1);
    s.send(s.s1, S1_OTHER_PORT, &public.to_string(), b"x");
    s.send(s.s2, S2, &public.to_string(), b"y");
    assert_eq!(s.inside_got(), 0);
    s.send(s.s1, S1, &public.to_string(), b"z");
    assert_eq!(s.inside_got(), 1);
}

#[test]
fn inbound_to_an_unmapped_port_is_dropped() {
    let mut s = setup(1, NatConfig::full_cone());
    s.send(s.s1, S1, "203.0.113.1:40000", b"x");
    assert_eq!(s.inside_got(), 0);
    assert_eq!(s.sim.stats().dropped(DropReason::NatNoMapping), 1);
}

#[test]
fn mapping_expires_without_outbound_traffic() {
    let mut s = setup(1, NatConfig::full_cone().timeout(Duration::from_secs(30)));
    let public = s.map_to(s.s1, S1);
    s.sim.run_for(Duration::from_secs(29)).expect("runs");
    s.send(s.s1, S1, &public.to_string(), b"in time");
    s.sim.run_for(Duration::from_secs(1)).expect("runs");
    s.send(s.s1, S1, &public.to_string(), b"too late");
    assert_eq!(
        s.sim.node::<Sink>(s.inside).payloads(),
        vec![b"in time".to_vec()]
    );
    assert_eq!(s.sim.stats().dropped(DropReason::NatNoMapping), 1);
    assert_eq!(s.sim.nat_mapping_count(s.lan), Ok(0));
}

#[test]
fn outbound_traffic_refreshes_the_mapping() {
    let mut s = setup(1, NatConfig::full_cone().timeout(Duration::from_secs(30)));
    let public = s.map_to(s.s1, S1);
    for _ in 0..3 {
        s.sim.run_for(Duration::from_secs(20)).expect("runs");
        assert_eq!(s.map_to(s.s1, S1), public);
    }
    s.sim.run_for(Duration::from_secs(20)).expect("runs");
    s.send(s.s2, S2, &public.to_string(), b"still open");
    assert_eq!(s.inside_got(), 1);
}

#[test]
fn inbound_traffic_alone_does_not_refresh_by_default() {
    let mut s = setup(1, NatConfig::full_cone().timeout(Duration::from_secs(30)));
    let public = s.map_to(s.s1, S1);
    for _ in 0..2 {
        s.sim.run_for(Duration::from_secs(20)).expect("runs");
        s.send(s.s1, S1, &public.to_string(), b"in");
    }
    assert_eq!(
        s.inside_got(),
        1,
        "the second arrives after 40 s without outbound"
    );
}

fn hairpin_setup(hairpinning: bool) -> (Setup, NodeId) {
    let mut s = setup(1, NatConfig::full_cone().hairpinning(hairpinning));
    let peer = s
        .sim
        .add_node(s.lan, ip("192.168.1.3"), Sink::default())
        .expect("add");
    s.send(peer, "192.168.1.3:6000", S1, b"open a mapping");
    (s, peer)
}

#[test]
fn hairpinning_reaches_an_inside_host_through_the_public_address() {
    let (mut s, peer) = hairpin_setup(true);
    let peer_public = s.seen_by(s.s1);
    s.send(s.inside, INSIDE, &peer_public.to_string(), b"via hairpin");
    let got = &s.sim.node::<Sink>(peer).received[0];
    assert_eq!(got.3, b"via hairpin");
    // The receiver sees the sender's public endpoint, as RFC 4787 REQ-9 requires.
    assert_eq!(got.1.ip(), ip(PUBLIC_IP));
}

#[test]
fn without_hairpinning_such_datagrams_are_dropped() {
    let (mut s, peer) = hairpin_setup(false);
    let peer_public = s.seen_by(s.s1);
    s.send(s.inside, INSIDE, &peer_public.to_string(), b"x");
    assert!(s.sim.node::<Sink>(peer).received.is_empty());
    assert_eq!(s.sim.stats().dropped(DropReason::NatHairpin), 1);
}

#[test]
fn mapping_table_is_bounded() {
    let mut s = setup(1, NatConfig::symmetric().max_mappings(2));
    s.map_to(s.s1, S1);
    s.map_to(s.s1, S1_OTHER_PORT);
    s.send(s.inside, INSIDE, S2, b"third flow");
    assert!(s.sim.node::<Sink>(s.s2).received.is_empty());
    assert_eq!(s.sim.stats().dropped(DropReason::NatTableFull), 1);
}

#[test]
fn expired_mappings_make_room_in_a_full_table() {
    let config = NatConfig::symmetric()
        .max_mappings(1)
        .timeout(Duration::from_secs(5));
    let mut s = setup(1, config);
    s.map_to(s.s1, S1);
    s.sim.run_for(Duration::from_secs(5)).expect("runs");
    s.send(s.inside, INSIDE, S2, b"new flow");
    assert_eq!(s.sim.node::<Sink>(s.s2).received.len(), 1);
}

fn random_port(seed: u64) -> u16 {
    let config = NatConfig::full_cone().port_allocation(PortAllocation::Random);
    let mut s = setup(seed, config);
    s.map_to(s.s1, S1).port()
}

#[test]
fn random_port_allocation_is_fixed_by_the_seed() {
    assert_eq!(random_port(5), random_port(5));
    let ports: std::collections::BTreeSet<u16> = (0..8).map(random_port).collect();
    assert!(ports.len() > 4, "ports {ports:?}");
    assert!(ports.iter().all(|p| *p >= 1024));
}

#[test]
fn port_preservation_keeps_the_inside_port() {
    let config = NatConfig::full_cone().port_allocation(PortAllocation::Preserve);
    let mut s = setup(1, config);
    assert_eq!(s.map_to(s.s1, S1), addr("203.0.113.1:5000"));
}

/// Two hosts behind port-restricted NATs: each first sends to the other's public
/// endpoint (learned out of band), then both directions pass.
#[test]
fn hole_punching_through_two_port_restricted_nats() {
    let mut sim = Sim::new(t0(), Rng::from_u64(3));
    let net = sim.internet();
    let lan1 = sim
        .add_nat(net, ip("203.0.113.1"), NatConfig::port_restricted_cone())
        .expect("nat");
    let lan2 = sim
        .add_nat(net, ip("203.0.113.2"), NatConfig::port_restricted_cone())
        .expect("nat");
    let a = sim
        .add_node(lan1, ip("192.168.1.2"), Sink::default())
        .expect("add");
    let b = sim
        .add_node(lan2, ip("192.168.1.2"), Sink::default())
        .expect("add");
    let link = LinkConfig::new().latency(Duration::from_millis(20));
    sim.set_uplink(lan1, Direction::Both, link.clone())
        .expect("lan");
    sim.set_uplink(lan2, Direction::Both, link).expect("lan");
    let (a_pub, b_pub) = (addr("203.0.113.1:40000"), addr("203.0.113.2:40000"));
    let (a_in, b_in) = (addr("192.168.1.2:5000"), addr("192.168.1.2:5000"));
    sim.node_mut::<Sink>(a).send(a_in, b_pub, b"a1"); // B's NAT has no mapping yet; opens A's
    sim.run_for(Duration::from_millis(100)).expect("runs");
    sim.node_mut::<Sink>(b).send(b_in, a_pub, b"b1"); // passes A's NAT, opens B's
    sim.run_for(Duration::from_millis(100)).expect("runs");
    sim.node_mut::<Sink>(a).send(a_in, b_pub, b"a2");
    sim.run_for(Duration::from_millis(100)).expect("runs");
    assert_eq!(sim.node::<Sink>(a).payloads(), vec![b"b1".to_vec()]);
    assert_eq!(sim.node::<Sink>(b).payloads(), vec![b"a2".to_vec()]);
    assert_eq!(sim.stats().dropped(DropReason::NatNoMapping), 1);
    // Crossing two uplinks of 20 ms each.
    let got = &sim.node::<Sink>(a).received[0];
    assert_eq!(got.0 - sim.start(), Duration::from_millis(140));
}

#[test]
fn routed_network_is_reachable_without_translation() {
    let mut sim = Sim::new(t0(), Rng::from_u64(3));
    let net = sim.internet();
    let office = sim.add_routed_network(net).expect("net");
    let inside = sim
        .add_node(office, ip("198.18.0.2"), Echo::default())
        .expect("add");
    let outside = sim
        .add_node(net, ip("198.51.100.1"), Sink::default())
        .expect("add");
    sim.set_uplink(
        office,
        Direction::Up,
        LinkConfig::new().latency(Duration::from_millis(7)),
    )
    .expect("uplink");
    sim.node_mut::<Sink>(outside)
        .send(addr(S1), addr("198.18.0.2:7"), b"hi");
    sim.run_for(Duration::from_millis(10)).expect("runs");
    let got = &sim.node::<Sink>(outside).received;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, addr("198.18.0.2:7"));
    assert_eq!(got[0].0 - sim.start(), Duration::from_millis(7));
    assert_eq!(sim.node::<Echo>(inside).received.len(), 1);
}

#[test]
fn inbound_traffic_refreshes_when_configured() {
    let mut config = NatConfig::full_cone().timeout(Duration::from_secs(30));
    config.inbound_refreshes = true;
    let mut s = setup(1, config);
    let public = s.map_to(s.s1, S1);
    for _ in 0..3 {
        s.sim.run_for(Duration::from_secs(20)).expect("runs");
        s.send(s.s1, S1, &public.to_string(), b"in");
    }
    assert_eq!(s.inside_got(), 3);
}

#[test]
fn filtering_permissions_expire_with_the_timeout() {
    let mut s = setup(
        1,
        NatConfig::port_restricted_cone().timeout(Duration::from_secs(30)),
    );
    let public = s.map_to(s.s1, S1);
    // Keep the mapping alive towards s2 only; the permission for s1 lapses.
    for _ in 0..2 {
        s.sim.run_for(Duration::from_secs(20)).expect("runs");
        s.map_to(s.s2, S2);
    }
    s.send(s.s1, S1, &public.to_string(), b"stale permission");
    s.send(s.s2, S2, &public.to_string(), b"fresh permission");
    assert_eq!(
        s.sim.node::<Sink>(s.inside).payloads(),
        vec![b"fresh permission".to_vec()]
    );
}

#[test]
fn nat_reset_forgets_mappings_and_rebinds_to_a_new_port() {
    let mut s = setup(1, NatConfig::port_restricted_cone());
    let before = s.map_to(s.s1, S1);
    s.sim.reset_nat(s.lan).expect("behind a NAT");
    assert_eq!(s.sim.nat_mapping_count(s.lan), Ok(0));
    s.send(s.s1, S1, &before.to_string(), b"to the old mapping");
    assert_eq!(s.inside_got(), 0);
    let after = s.map_to(s.s1, S1);
    assert_ne!(before, after);
    let internet = s.sim.internet();
    assert_eq!(
        s.sim.reset_nat(internet),
        Err(crate::sim::SimError::NoNat(internet))
    );
}
