//! The event loop's inner workings: the event queue, sending, routing, NAT traversal and
//! delivery.

use super::capture::{AsDatagram, CaptureRecord, DropReason, Fate, chain_delivery};
use super::link::{IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD};
use super::rule::{Action, Datagram};
use super::simulator::{Owner, Sim};
use super::{NetworkId, NodeId};
use crate::transmit::Transmit;
use std::cmp::Ordering;
use std::net::SocketAddr;
use std::time::Instant;

/// A datagram travelling through the simulated network.
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub(crate) id: u64,
    pub(crate) source: SocketAddr,
    pub(crate) destination: SocketAddr,
    pub(crate) payload: Vec<u8>,
}

impl AsDatagram for Packet {
    fn parts(&self) -> (SocketAddr, SocketAddr, &[u8]) {
        (self.source, self.destination, &self.payload)
    }
}

impl Packet {
    /// Size of the IP packet carrying this datagram.
    fn wire_len(&self) -> usize {
        let overhead = if self.source.is_ipv4() && self.destination.is_ipv4() {
            IPV4_UDP_OVERHEAD
        } else {
            IPV6_UDP_OVERHEAD
        };
        self.payload.len() + overhead
    }
}

#[derive(Debug)]
pub(crate) enum EventKind {
    /// Collect a node's output (after it was added or commanded).
    Poke(NodeId),
    /// A node's timer; stale if the generation no longer matches.
    Timer(NodeId, u64),
    /// A datagram (delayed by a rule) enters the up link of an interface.
    Enter(usize, Packet),
    /// A datagram reached a network's switch.
    AtNetwork(NetworkId, Packet),
    /// A datagram came down a link to an interface.
    AtIface(usize, Packet),
    /// A node with a receive buffer reads the next datagram waiting in it.
    Read(NodeId),
}

/// An entry of the event queue, ordered by (time, sequence number), earliest first.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) at: Instant,
    pub(crate) seq: u64,
    pub(crate) kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest (then lowest seq) pops first.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Where a network sends a datagram next.
enum Route {
    /// To one of its interfaces.
    Iface(usize),
    /// Up through its gateway.
    Up,
}

impl Sim {
    pub(crate) fn push(&mut self, at: Instant, kind: EventKind) {
        let at = at.max(self.now);
        self.seq += 1;
        self.queue.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }

    pub(crate) fn schedule_poke(&mut self, node: NodeId) {
        self.push(self.now, EventKind::Poke(node));
    }

    /// Runs one event (the clock is already at its time).
    pub(crate) fn dispatch(&mut self, kind: EventKind) {
        match kind {
            EventKind::Poke(node) => self.drain(node),
            EventKind::Timer(node, generation) => {
                let slot = &mut self.nodes[node.0];
                if slot.timer_gen != generation {
                    return;
                }
                slot.timer = None;
                slot.node.handle_timeout(self.now);
                self.drain(node);
            }
            EventKind::Enter(iface, packet) => self.enter_up_link(iface, packet),
            EventKind::AtNetwork(network, packet) => self.at_network(network, packet),
            EventKind::AtIface(iface, packet) => self.at_iface(iface, packet),
            EventKind::Read(node) => self.read(node),
        }
    }

    /// Collects a node's datagrams and re-arms its timer. Each datagram counts towards
    /// the livelock limit, so a node that never stops sending is caught by the next step.
    fn drain(&mut self, node: NodeId) {
        while let Some(transmit) = self.nodes[node.0].node.poll_transmit() {
            self.send(node, transmit);
            self.events_at_now += 1;
            if self.events_at_now > self.config.livelock_events {
                // Collect the rest later; `step` reports the livelock before that.
                self.schedule_poke(node);
                return;
            }
        }
        let slot = &mut self.nodes[node.0];
        let deadline = slot.node.poll_timeout();
        if deadline == slot.timer {
            return;
        }
        slot.timer = deadline;
        slot.timer_gen += 1;
        let generation = slot.timer_gen;
        if let Some(at) = deadline {
            self.push(at, EventKind::Timer(node, generation));
        }
    }

    /// A node hands a datagram to the network.
    fn send(&mut self, node: NodeId, transmit: Transmit) {
        let packet = self.new_packet(transmit);
        self.stats.sent += 1;
        self.record(&packet, Fate::Sent { node });
        let iface = self.nodes[node.0]
            .ifaces
            .iter()
            .copied()
            .find(|i| self.ifaces[*i].ip == Some(packet.source.ip()));
        let Some(iface) = iface else {
            return self.drop_packet(&packet, DropReason::Spoofed);
        };
        if packet.source.is_ipv4() != packet.destination.is_ipv4() {
            return self.drop_packet(&packet, DropReason::AddressFamily);
        }
        if let Some(packet) = self.apply_rules(node, iface, packet) {
            self.enter_up_link(iface, packet);
        }
    }

    /// Injects a datagram on `network`'s switch as if it came from outside the model.
    pub(crate) fn inject_packet(&mut self, network: NetworkId, transmit: Transmit) {
        let packet = self.new_packet(transmit);
        self.stats.sent += 1;
        self.record(&packet, Fate::Injected);
        self.at_network(network, packet);
    }

    fn new_packet(&mut self, transmit: Transmit) -> Packet {
        self.next_packet += 1;
        Packet {
            id: self.next_packet,
            source: transmit.source,
            destination: transmit.destination,
            payload: transmit.payload,
        }
    }

    /// Runs the rules; returns the datagram if it goes on now.
    fn apply_rules(&mut self, sender: NodeId, iface: usize, packet: Packet) -> Option<Packet> {
        let mut transmit = Transmit {
            source: packet.source,
            destination: packet.destination,
            payload: packet.payload,
        };
        let id = packet.id;
        for index in 0..self.rules.len() {
            let Some(slot) = self.rules[index].as_mut() else {
                continue;
            };
            let datagram = Datagram {
                sender,
                now: self.now,
                elapsed: self.now - self.start,
                source: transmit.source,
                destination: transmit.destination,
                payload: &transmit.payload,
            };
            if !slot.check(&datagram) {
                continue;
            }
            self.stats.rule_applied += 1;
            match &mut slot.rule.action {
                Action::Drop => {
                    let packet = rebuild(id, transmit);
                    self.drop_packet(&packet, DropReason::Rule(super::RuleId(index)));
                    return None;
                }
                Action::Delay(delay) => {
                    let at = self.now + *delay;
                    self.push(at, EventKind::Enter(iface, rebuild(id, transmit)));
                    return None;
                }
                Action::Rewrite(rewrite) => rewrite(&mut transmit),
                Action::Count => {}
            }
        }
        Some(rebuild(id, transmit))
    }

    fn enter_up_link(&mut self, iface: usize, packet: Packet) {
        if !self.ifaces[iface].attached {
            // The address was removed while a rule held the datagram back.
            return self.drop_packet(&packet, DropReason::Spoofed);
        }
        let network = self.ifaces[iface].network;
        let arrivals = self.ifaces[iface].up.admit(self.now, packet.wire_len());
        self.schedule_arrivals(arrivals, packet, |p| EventKind::AtNetwork(network, p));
    }

    fn schedule_arrivals(
        &mut self,
        arrivals: Result<super::link::Arrivals, DropReason>,
        packet: Packet,
        event: impl Fn(Packet) -> EventKind,
    ) {
        match arrivals {
            Err(reason) => self.drop_packet(&packet, reason),
            Ok(arrivals) => {
                if let Some(at) = arrivals.duplicate {
                    self.stats.duplicated += 1;
                    self.push(at, event(packet.clone()));
                }
                self.push(arrivals.first, event(packet));
            }
        }
    }

    /// A datagram reached `network`: send it down to an interface or up to the parent.
    fn at_network(&mut self, network: NetworkId, packet: Packet) {
        match self.route(network, packet.destination.ip()) {
            Some(Route::Iface(iface)) => {
                let arrivals = self.ifaces[iface].down.admit(self.now, packet.wire_len());
                self.schedule_arrivals(arrivals, packet, |p| EventKind::AtIface(iface, p));
            }
            Some(Route::Up) => self.leave_network(network, packet),
            None => self.drop_packet(&packet, DropReason::NoRoute),
        }
    }

    fn route(&self, network: NetworkId, ip: std::net::IpAddr) -> Option<Route> {
        let net = &self.networks[network.0];
        if let Some(iface) = net.addrs.get(&ip) {
            return Some(Route::Iface(*iface));
        }
        for child in &net.routed_children {
            if self.reaches(*child, ip) {
                let uplink = self.networks[child.0].uplink.as_ref();
                return uplink.map(|u| Route::Iface(u.iface));
            }
        }
        net.uplink.as_ref().map(|_| Route::Up)
    }

    /// Whether `ip` lives in `network` or below it through routers.
    fn reaches(&self, network: NetworkId, ip: std::net::IpAddr) -> bool {
        let net = &self.networks[network.0];
        net.addrs.contains_key(&ip) || net.routed_children.iter().any(|c| self.reaches(*c, ip))
    }

    /// A datagram leaves `network` through its gateway (translated by a NAT).
    fn leave_network(&mut self, network: NetworkId, mut packet: Packet) {
        let now = self.now;
        let uplink = self.networks[network.0]
            .uplink
            .as_mut()
            .expect("route() only says Up when there is an uplink");
        let iface = uplink.iface;
        if let Some(nat) = uplink.nat.as_mut() {
            if packet.source.is_ipv4() != nat.public_ip.is_ipv4() {
                return self.drop_packet(&packet, DropReason::AddressFamily);
            }
            match nat.outbound(now, packet.source, packet.destination) {
                Ok(outside) => packet.source = outside,
                Err(reason) => return self.drop_packet(&packet, reason),
            }
            if packet.destination.ip() == nat.public_ip {
                return self.hairpin(network, packet);
            }
        }
        let parent = self.ifaces[iface].network;
        let arrivals = self.ifaces[iface].up.admit(now, packet.wire_len());
        self.schedule_arrivals(arrivals, packet, |p| EventKind::AtNetwork(parent, p));
    }

    /// A datagram from inside a NAT to the NAT's own public address.
    fn hairpin(&mut self, network: NetworkId, packet: Packet) {
        let allowed = self.networks[network.0]
            .uplink
            .as_ref()
            .and_then(|u| u.nat.as_ref())
            .is_some_and(|n| n.config.hairpinning);
        if !allowed {
            return self.drop_packet(&packet, DropReason::NatHairpin);
        }
        self.enter_network(network, packet);
    }

    /// A datagram came down a link to an interface: deliver it to the node, or pass it
    /// through the gateway into the network behind.
    fn at_iface(&mut self, iface: usize, packet: Packet) {
        if !self.ifaces[iface].attached {
            return self.drop_packet(&packet, DropReason::NoRoute);
        }
        match self.ifaces[iface].owner {
            Owner::Node(node) => self.deliver(node, packet),
            Owner::Gateway(child) => self.enter_network(child, packet),
        }
    }

    /// A datagram enters `network` from its gateway (translated by a NAT).
    fn enter_network(&mut self, network: NetworkId, mut packet: Packet) {
        let now = self.now;
        let nat = self.networks[network.0]
            .uplink
            .as_mut()
            .and_then(|u| u.nat.as_mut());
        if let Some(nat) = nat {
            match nat.inbound(now, packet.source, packet.destination) {
                Ok(inside) => packet.destination = inside,
                Err(reason) => return self.drop_packet(&packet, reason),
            }
        }
        self.at_network(network, packet);
    }

    /// A datagram reached `node`'s host: into its receive buffer if it has one (dropped
    /// when full), else straight to the node.
    fn deliver(&mut self, node: NodeId, packet: Packet) {
        let Some(rx) = self.nodes[node.0].rx.as_mut() else {
            return self.hand_over(node, packet);
        };
        let len = packet.payload.len();
        if let Err(packet) = rx.push(packet, len) {
            return self.drop_packet(&packet, DropReason::ReceiveBufferFull);
        }
        self.schedule_read(node);
    }

    fn schedule_read(&mut self, node: NodeId) {
        let now = self.now;
        let Some(rx) = self.nodes[node.0].rx.as_mut() else {
            return;
        };
        if let Some(at) = rx.next_read(now) {
            rx.read_scheduled = true;
            self.push(at, EventKind::Read(node));
        }
    }

    /// The node's reader takes the next datagram from its receive buffer.
    fn read(&mut self, node: NodeId) {
        let now = self.now;
        let Some(rx) = self.nodes[node.0].rx.as_mut() else {
            return;
        };
        rx.read_scheduled = false;
        let Some(packet) = rx.pop(now) else {
            return;
        };
        self.hand_over(node, packet);
        self.schedule_read(node);
    }

    pub(crate) fn hand_over(&mut self, node: NodeId, packet: Packet) {
        self.stats.delivered += 1;
        tracing::trace!(id = packet.id, %packet.source, %packet.destination, "sim: deliver");
        self.record(&packet, Fate::Delivered { node });
        let now = self.now;
        self.nodes[node.0].node.handle_receive(
            now,
            packet.source,
            packet.destination,
            &packet.payload,
        );
        self.drain(node);
    }

    fn drop_packet(&mut self, packet: &Packet, reason: DropReason) {
        tracing::trace!(id = packet.id, %packet.source, %packet.destination, %reason, "sim: drop");
        self.stats.count_drop(reason);
        self.record(packet, Fate::Dropped(reason));
    }

    fn record(&mut self, packet: &Packet, fate: Fate) {
        let elapsed = self.now - self.start;
        if let Fate::Delivered { node } = fate {
            self.digest = chain_delivery(&self.digest, elapsed, node, packet);
        }
        if !self.config.capture {
            return;
        }
        if self.capture.len() >= self.config.capture_limit {
            self.stats.capture_overflow += 1;
            return;
        }
        self.capture.push(CaptureRecord {
            id: packet.id,
            time: self.now,
            elapsed,
            source: packet.source,
            destination: packet.destination,
            payload: packet.payload.clone(),
            fate,
        });
    }
}

fn rebuild(id: u64, transmit: Transmit) -> Packet {
    Packet {
        id,
        source: transmit.source,
        destination: transmit.destination,
        payload: transmit.payload,
    }
}
