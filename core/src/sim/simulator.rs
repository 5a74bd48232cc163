//! The [`Sim`] type: topology, nodes, rules and inspection. The event loop is in
//! `engine.rs`, the run functions in `run.rs`.

use super::capture::{CaptureRecord, SimStats};
use super::engine::Packet;
use super::link::{Link, LinkConfig};
use super::nat::{Nat, NatConfig};
use super::pcap::PcapWriter;
use super::rule::{Rule, RuleSlot};
use super::socket::{ReceiveBuffer, RxQueue};
use super::{Direction, NetworkId, Node, NodeId, RuleId, SimError};
use crate::rng::Rng;
use std::any::Any;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Settings of a simulation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SimConfig {
    /// How many events may run at one virtual instant before [`Sim::step`] reports a
    /// livelock. Default 100 000.
    pub livelock_events: u64,
    /// Step budget of [`Sim::run_for`]. Default 10 000 000.
    pub max_steps: u64,
    /// Whether to record every datagram (see [`Sim::capture`]). Default `true`.
    pub capture: bool,
    /// The most records the capture stores; later ones are only counted
    /// ([`SimStats::capture_overflow`]). Default 1 000 000.
    pub capture_limit: usize,
    /// The link given to every new interface until changed. Default: ideal.
    pub default_link: LinkConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            livelock_events: 100_000,
            max_steps: 10_000_000,
            capture: true,
            capture_limit: 1_000_000,
            default_link: LinkConfig::default(),
        }
    }
}

impl SimConfig {
    /// The default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`SimConfig::livelock_events`].
    pub fn livelock_events(mut self, events: u64) -> Self {
        self.livelock_events = events;
        self
    }

    /// Sets [`SimConfig::max_steps`].
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }

    /// Turns the capture on or off.
    pub fn capture(mut self, on: bool) -> Self {
        self.capture = on;
        self
    }

    /// Sets [`SimConfig::capture_limit`].
    pub fn capture_limit(mut self, records: usize) -> Self {
        self.capture_limit = records;
        self
    }

    /// Sets the link new interfaces get.
    pub fn default_link(mut self, link: LinkConfig) -> Self {
        self.default_link = link;
        self
    }
}

/// A node plus what lets the simulator downcast it back to its type.
pub(crate) trait AnyNode: Node {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn type_name(&self) -> &'static str;
}

impl<T: Node + Any> AnyNode for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

pub(crate) struct NodeSlot {
    pub(crate) node: Box<dyn AnyNode>,
    pub(crate) ifaces: Vec<usize>,
    /// The deadline currently scheduled in the event queue, and its generation.
    pub(crate) timer: Option<Instant>,
    pub(crate) timer_gen: u64,
    /// The receive socket buffer, when one is modelled.
    pub(crate) rx: Option<RxQueue<Packet>>,
}

/// Who owns an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Node(NodeId),
    /// The outside interface of this network's gateway (in the parent network).
    Gateway(NetworkId),
}

/// An attachment to a network, with its two links.
#[derive(Debug)]
pub(crate) struct Iface {
    pub(crate) owner: Owner,
    pub(crate) network: NetworkId,
    pub(crate) ip: Option<IpAddr>,
    /// `false` once the address was removed: datagrams still in flight to it are lost.
    pub(crate) attached: bool,
    /// Towards the network.
    pub(crate) up: Link,
    /// From the network.
    pub(crate) down: Link,
}

/// How a network reaches its parent.
#[derive(Debug)]
pub(crate) struct Uplink {
    pub(crate) iface: usize,
    /// `None` for a plain router.
    pub(crate) nat: Option<Nat>,
}

#[derive(Debug, Default)]
pub(crate) struct Network {
    /// Interfaces in this network by address.
    pub(crate) addrs: BTreeMap<IpAddr, usize>,
    pub(crate) uplink: Option<Uplink>,
    /// Children connected by a router (their addresses are reachable from here).
    pub(crate) routed_children: Vec<NetworkId>,
}

/// A deterministic network simulation: networks, links, NAT boxes, nodes and a virtual
/// clock. See the [module documentation](super) for the model.
///
/// Two peer connections ([`SimPeer`](crate::peer_connection::SimPeer)) 20 ms apart,
/// signalled by hand between steps: a data channel opens and a message crosses in
/// virtual time, so the run takes milliseconds of real time and replays exactly.
///
/// ```
/// use rtcpeer::peer_connection::{Event, PeerConnection, RtcConfiguration, SimPeer};
/// use rtcpeer::sim::{Direction, LinkConfig, NodeId, Sim};
/// use rtcpeer::Rng;
/// use std::time::{Duration, Instant};
///
/// /// Hands each peer's trickled candidates to the other; returns their other events.
/// fn signal(sim: &mut Sim, a: NodeId, b: NodeId) -> Result<Vec<Event>, rtcpeer::Error> {
///     let mut rest = Vec::new();
///     for (from, to) in [(a, b), (b, a)] {
///         for event in sim.node_mut::<SimPeer>(from).take_events() {
///             if let Event::IceCandidate(candidate) = event {
///                 let peer = sim.node_mut::<SimPeer>(to);
///                 peer.pc.add_ice_candidate(candidate)?;
///                 peer.drain();
///             } else {
///                 rest.push(event);
///             }
///         }
///     }
///     Ok(rest)
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let t0 = Instant::now();
/// let mut sim = Sim::new(t0, Rng::from_u64(7));
/// let net = sim.internet();
/// let ten_ms = LinkConfig::new().latency(Duration::from_millis(10));
/// let mut nodes = Vec::new();
/// for (seed, ip) in [(1, "10.0.0.1"), (2, "10.0.0.2")] {
///     // Replayable seeds: a simulation must replay exactly.
///     let mut pc = PeerConnection::new(RtcConfiguration::with_seed(seed), t0)?;
///     pc.add_local_socket(t0, format!("{ip}:5000").parse()?)?;
///     let node = sim.add_node(net, ip.parse()?, SimPeer::new(pc))?;
///     sim.set_node_link(node, Direction::Both, ten_ms.clone())?; // 20 ms one way
///     nodes.push(node);
/// }
/// let (a, b) = (nodes[0], nodes[1]);
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
///
/// // Run until the channel is open at alice (bounded in virtual time).
/// let mut open = false;
/// while !open {
///     assert!(sim.elapsed() < Duration::from_secs(10), "no open in 10 s");
///     sim.run_for(Duration::from_millis(5))?;
///     let events = signal(&mut sim, a, b)?;
///     open = events.iter().any(|e| matches!(e, Event::ChannelOpen(id) if *id == chat));
/// }
///
/// // Send one message; it arrives one path delay later.
/// let alice = sim.node_mut::<SimPeer>(a);
/// alice.pc.data_channel(chat)?.send_text("ping")?;
/// alice.drain();
/// let sent = sim.elapsed();
/// let mut received = None;
/// while received.is_none() {
///     assert!(sim.elapsed() < sent + Duration::from_secs(1), "no message in 1 s");
///     sim.run_for(Duration::from_millis(1))?;
///     received = signal(&mut sim, a, b)?.into_iter().find_map(|e| match e {
///         Event::ChannelMessage { data, .. } => Some((data, sim.elapsed())),
///         _ => None,
///     });
/// }
/// let (data, at) = received.expect("loop ends with a message");
/// assert_eq!(&data[..], b"ping");
/// assert!(at - sent >= Duration::from_millis(20), "took {:?}", at - sent);
/// # Ok(()) }
/// ```
pub struct Sim {
    pub(crate) config: SimConfig,
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    pub(crate) rng: Rng,
    pub(crate) queue: BinaryHeap<super::engine::Event>,
    pub(crate) seq: u64,
    pub(crate) next_packet: u64,
    /// Events run at `now` so far (livelock detection).
    pub(crate) events_at_now: u64,
    pub(crate) nodes: Vec<NodeSlot>,
    pub(crate) networks: Vec<Network>,
    pub(crate) ifaces: Vec<Iface>,
    pub(crate) rules: Vec<Option<RuleSlot>>,
    pub(crate) capture: Vec<CaptureRecord>,
    /// Hash chain over every delivery since the start.
    pub(crate) digest: [u8; 32],
    pub(crate) stats: SimStats,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("elapsed", &self.elapsed())
            .field("nodes", &self.nodes.len())
            .field("networks", &self.networks.len())
            .field("pending_events", &self.queue.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Topology.
impl Sim {
    /// A simulation whose virtual clock starts at `start`, with one empty network (the
    /// [internet](Sim::internet)), drawing all randomness from `rng`.
    pub fn new(start: Instant, rng: Rng) -> Self {
        Self::with_config(start, rng, SimConfig::default())
    }

    /// Like [`Sim::new`], with settings.
    pub fn with_config(start: Instant, rng: Rng, config: SimConfig) -> Self {
        Self {
            config,
            start,
            now: start,
            rng,
            queue: BinaryHeap::new(),
            seq: 0,
            next_packet: 0,
            events_at_now: 0,
            nodes: Vec::new(),
            networks: vec![Network::default()],
            ifaces: Vec::new(),
            rules: Vec::new(),
            capture: Vec::new(),
            digest: [0; 32],
            stats: SimStats::default(),
        }
    }

    /// The root network, present from the start. Networks added with
    /// [`Sim::add_nat`] or [`Sim::add_routed_network`] hang below it (or below each other).
    pub fn internet(&self) -> NetworkId {
        NetworkId(0)
    }

    /// Adds a network (a LAN) behind a NAT box whose public address `public_ip` lives in
    /// `parent`. Inside hosts reach the parent, and the parent reaches them, only through
    /// the NAT's mappings.
    pub fn add_nat(
        &mut self,
        parent: NetworkId,
        public_ip: IpAddr,
        config: NatConfig,
    ) -> Result<NetworkId, SimError> {
        self.check_new_address(parent, public_ip)?;
        let child = NetworkId(self.networks.len());
        let iface = self.new_iface(Owner::Gateway(child), parent, Some(public_ip));
        let nat = Nat::new(config, public_ip, self.rng.child());
        self.networks.push(Network {
            uplink: Some(Uplink {
                iface,
                nat: Some(nat),
            }),
            ..Network::default()
        });
        Ok(child)
    }

    /// Adds a network connected to `parent` by a plain router: no translation, addresses
    /// on both sides reach each other directly.
    pub fn add_routed_network(&mut self, parent: NetworkId) -> Result<NetworkId, SimError> {
        self.network(parent)?;
        let child = NetworkId(self.networks.len());
        let iface = self.new_iface(Owner::Gateway(child), parent, None);
        self.networks.push(Network {
            uplink: Some(Uplink { iface, nat: None }),
            ..Network::default()
        });
        self.networks[parent.0].routed_children.push(child);
        Ok(child)
    }

    /// Adds `node` with the address `ip` in `network`. The node receives datagrams sent
    /// to `ip` (any port) and must send from `ip`. Its pending output is collected at the
    /// current virtual time on the next step.
    pub fn add_node<N: Node + 'static>(
        &mut self,
        network: NetworkId,
        ip: IpAddr,
        node: N,
    ) -> Result<NodeId, SimError> {
        self.check_new_address(network, ip)?;
        let id = NodeId(self.nodes.len());
        self.nodes.push(NodeSlot {
            node: Box::new(node),
            ifaces: Vec::new(),
            timer: None,
            timer_gen: 0,
            rx: None,
        });
        self.attach(id, network, ip);
        self.schedule_poke(id);
        Ok(id)
    }

    /// Gives `node` one more address, in `network` (a multi-homed host).
    pub fn add_address(
        &mut self,
        node: NodeId,
        network: NetworkId,
        ip: IpAddr,
    ) -> Result<(), SimError> {
        self.slot(node)?;
        self.check_new_address(network, ip)?;
        self.attach(node, network, ip);
        Ok(())
    }

    /// Makes `node` the one member of the multicast group `group` in `network`: datagrams
    /// sent to `group` from that network (or one routed to it) reach `node`, at the
    /// destination `group`, as they would a host that joined the group (an mDNS responder
    /// on 224.0.0.251, for example). The simulator has one member per group and network;
    /// a node sends from its unicast addresses, not from the group.
    ///
    /// Errors: `group` is not a multicast address, or already has a member in `network`.
    pub fn join_multicast_group(
        &mut self,
        node: NodeId,
        network: NetworkId,
        group: IpAddr,
    ) -> Result<(), SimError> {
        self.slot(node)?;
        let net = self.network(network)?;
        if !group.is_multicast() {
            return Err(SimError::InvalidAddress(group));
        }
        if net.addrs.contains_key(&group) {
            return Err(SimError::AddressInUse { ip: group, network });
        }
        self.attach(node, network, group);
        Ok(())
    }

    /// Takes the address `ip` away from `node` (the host left that network, or its address
    /// changed). Datagrams still travelling to it are dropped as [`DropReason::NoRoute`],
    /// and the node can no longer send from it. The address becomes free for reuse.
    ///
    /// [`DropReason::NoRoute`]: super::DropReason::NoRoute
    pub fn remove_address(&mut self, node: NodeId, ip: IpAddr) -> Result<(), SimError> {
        let slot = self.slot(node)?;
        let position = slot
            .ifaces
            .iter()
            .position(|i| self.ifaces[*i].ip == Some(ip))
            .ok_or(SimError::NotAssigned { node, ip })?;
        let iface = self.nodes[node.0].ifaces.remove(position);
        let iface = &mut self.ifaces[iface];
        iface.attached = false;
        self.networks[iface.network.0].addrs.remove(&ip);
        Ok(())
    }

    /// Forgets every mapping of the NAT in front of `network`, as a NAT reboot would;
    /// inside hosts get new public ports on their next outbound datagram.
    pub fn reset_nat(&mut self, network: NetworkId) -> Result<(), SimError> {
        let uplink = self
            .networks
            .get_mut(network.0)
            .ok_or(SimError::UnknownNetwork(network))?;
        let nat = uplink
            .uplink
            .as_mut()
            .and_then(|u| u.nat.as_mut())
            .ok_or(SimError::NoNat(network))?;
        nat.reset();
        Ok(())
    }

    /// Models `node`'s receive socket buffer (`None`: the node reads every datagram the
    /// instant it arrives, the default). Datagrams already waiting in a buffer being
    /// replaced are handed to the node at once.
    pub fn set_receive_buffer(
        &mut self,
        node: NodeId,
        buffer: Option<ReceiveBuffer>,
    ) -> Result<(), SimError> {
        self.slot(node)?;
        let old = std::mem::replace(&mut self.nodes[node.0].rx, buffer.map(RxQueue::new));
        if let Some(mut old) = old {
            let now = self.now;
            while let Some(packet) = old.pop(now) {
                self.hand_over(node, packet);
            }
        }
        Ok(())
    }

    /// Charged bytes waiting in `node`'s receive buffer (0 without one).
    pub fn receive_buffer_used(&self, node: NodeId) -> Result<usize, SimError> {
        Ok(self.slot(node)?.rx.as_ref().map_or(0, RxQueue::used))
    }

    /// Sets the link(s) between `node` and its network(s): `Up` is what the node sends,
    /// `Down` what it receives, `Both` sets both to the same behaviour (each keeps its own
    /// queue and random state).
    pub fn set_node_link(
        &mut self,
        node: NodeId,
        direction: Direction,
        config: LinkConfig,
    ) -> Result<(), SimError> {
        let ifaces = self.slot(node)?.ifaces.clone();
        for iface in ifaces {
            self.set_iface_link(iface, direction, &config);
        }
        Ok(())
    }

    /// Sets the link between `network`'s gateway (NAT or router) and the parent network:
    /// `Up` carries traffic leaving `network`, `Down` traffic entering it.
    pub fn set_uplink(
        &mut self,
        network: NetworkId,
        direction: Direction,
        config: LinkConfig,
    ) -> Result<(), SimError> {
        let iface = self
            .network(network)?
            .uplink
            .as_ref()
            .map(|u| u.iface)
            .ok_or(SimError::NoUplink(network))?;
        self.set_iface_link(iface, direction, &config);
        Ok(())
    }

    fn set_iface_link(&mut self, iface: usize, direction: Direction, config: &LinkConfig) {
        let iface = &mut self.ifaces[iface];
        if matches!(direction, Direction::Up | Direction::Both) {
            iface.up.config = config.clone();
        }
        if matches!(direction, Direction::Down | Direction::Both) {
            iface.down.config = config.clone();
        }
    }

    fn attach(&mut self, node: NodeId, network: NetworkId, ip: IpAddr) {
        let iface = self.new_iface(Owner::Node(node), network, Some(ip));
        self.nodes[node.0].ifaces.push(iface);
    }

    fn new_iface(&mut self, owner: Owner, network: NetworkId, ip: Option<IpAddr>) -> usize {
        let index = self.ifaces.len();
        let up = Link::new(self.config.default_link.clone(), self.rng.child());
        let down = Link::new(self.config.default_link.clone(), self.rng.child());
        self.ifaces.push(Iface {
            owner,
            network,
            ip,
            attached: true,
            up,
            down,
        });
        if let Some(ip) = ip {
            self.networks[network.0].addrs.insert(ip, index);
        }
        index
    }

    fn check_new_address(&self, network: NetworkId, ip: IpAddr) -> Result<(), SimError> {
        let net = self.network(network)?;
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(SimError::InvalidAddress(ip));
        }
        if net.addrs.contains_key(&ip) {
            return Err(SimError::AddressInUse { ip, network });
        }
        Ok(())
    }

    fn network(&self, id: NetworkId) -> Result<&Network, SimError> {
        self.networks.get(id.0).ok_or(SimError::UnknownNetwork(id))
    }

    pub(crate) fn slot(&self, id: NodeId) -> Result<&NodeSlot, SimError> {
        self.nodes.get(id.0).ok_or(SimError::UnknownNode(id))
    }
}

/// Nodes: inspection and commands between steps.
impl Sim {
    /// The node `id` as its concrete type `T`.
    ///
    /// # Panics
    /// If `id` is unknown or the node is not a `T` (a test's own mistake; use
    /// [`Sim::try_node`] to get an error instead).
    #[track_caller]
    pub fn node<T: Node + 'static>(&self, id: NodeId) -> &T {
        self.try_node(id).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The node `id` as its concrete type `T`, mutably, to command it between steps. The
    /// simulator collects its output (datagrams, new timeout) at the current virtual time
    /// on the next step.
    ///
    /// # Panics
    /// As [`Sim::node`].
    #[track_caller]
    pub fn node_mut<T: Node + 'static>(&mut self, id: NodeId) -> &mut T {
        self.try_node_mut(id).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The node `id` as a `T`, or why not.
    pub fn try_node<T: Node + 'static>(&self, id: NodeId) -> Result<&T, SimError> {
        let node = &self.slot(id)?.node;
        let actual = node.type_name();
        node.as_any()
            .downcast_ref::<T>()
            .ok_or_else(|| wrong_type::<T>(id, actual))
    }

    /// The node `id` as a mutable `T`, or why not. See [`Sim::node_mut`].
    pub fn try_node_mut<T: Node + 'static>(&mut self, id: NodeId) -> Result<&mut T, SimError> {
        self.slot(id)?;
        self.schedule_poke(id);
        let node = &mut self.nodes[id.0].node;
        let actual = node.type_name();
        node.as_any_mut()
            .downcast_mut::<T>()
            .ok_or_else(|| wrong_type::<T>(id, actual))
    }

    /// The addresses of node `id`, in the order they were added.
    pub fn node_addresses(&self, id: NodeId) -> Result<Vec<IpAddr>, SimError> {
        Ok(self
            .slot(id)?
            .ifaces
            .iter()
            .filter_map(|i| self.ifaces[*i].ip)
            .collect())
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Live mappings of the NAT in front of `network` (0 if it has no NAT).
    pub fn nat_mapping_count(&self, network: NetworkId) -> Result<usize, SimError> {
        let nat = self
            .network(network)?
            .uplink
            .as_ref()
            .and_then(|u| u.nat.as_ref());
        Ok(nat.map_or(0, |n| n.live_mappings(self.now)))
    }

    /// The public endpoint the NAT in front of `network` uses for datagrams from `inside`
    /// to `remote`, if a live mapping exists.
    pub fn nat_mapping(
        &self,
        network: NetworkId,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Result<Option<SocketAddr>, SimError> {
        let nat = self
            .network(network)?
            .uplink
            .as_ref()
            .and_then(|u| u.nat.as_ref());
        Ok(nat.and_then(|n| n.mapping_for(self.now, inside, remote)))
    }
}

fn wrong_type<T>(id: NodeId, actual: &'static str) -> SimError {
    SimError::WrongNodeType {
        id,
        expected: std::any::type_name::<T>(),
        actual,
    }
}

/// Rules, capture, statistics, clock.
impl Sim {
    /// Installs a rule after the existing ones.
    pub fn add_rule(&mut self, rule: Rule) -> RuleId {
        self.rules.push(Some(RuleSlot {
            rule,
            matches: 0,
            applied: 0,
        }));
        RuleId(self.rules.len() - 1)
    }

    /// Removes a rule; its counters are gone with it.
    pub fn remove_rule(&mut self, id: RuleId) -> Result<(), SimError> {
        match self.rules.get_mut(id.0) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(SimError::UnknownRule(id)),
        }
    }

    /// How many datagrams the rule's action was applied to (skipped matches excluded).
    pub fn rule_hits(&self, id: RuleId) -> Result<u64, SimError> {
        match self.rules.get(id.0) {
            Some(Some(slot)) => Ok(slot.applied),
            _ => Err(SimError::UnknownRule(id)),
        }
    }

    /// Every datagram event so far, in order (empty if capture is off).
    pub fn capture(&self) -> &[CaptureRecord] {
        &self.capture
    }

    /// Forgets the capture (counters are kept).
    pub fn clear_capture(&mut self) {
        self.capture.clear();
    }

    /// SHA-256 over every delivered datagram's (time since start, receiver, source,
    /// destination, payload), in order: equal for runs with equal seeds and inputs. It
    /// covers every delivery since the start, even with the capture off, full or cleared.
    pub fn capture_digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Writes the captured records selected by `filter` as a pcap file (see
    /// [`PcapWriter`]). Typical filters: delivered only, or sent only.
    pub fn write_pcap<W: io::Write>(
        &self,
        out: W,
        mut filter: impl FnMut(&CaptureRecord) -> bool,
    ) -> io::Result<W> {
        let mut writer = PcapWriter::new(out)?;
        for r in self.capture.iter().filter(|r| filter(r)) {
            writer.write_datagram(r.elapsed, r.source, r.destination, &r.payload, r.id as u16)?;
        }
        Ok(writer.into_inner())
    }

    /// Counters.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// The virtual time now.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The instant the simulation started at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }
}
