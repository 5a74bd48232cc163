//! A deterministic network simulator (feature `sim`) for testing anything that speaks the
//! [`Node`] contract: rtcpeer's own agents and connections, and your application on top.
//!
//! # Model
//!
//! - **Virtual time.** The clock starts at an `Instant` you give and jumps from event to
//!   event; nothing sleeps and no real clock is read. Events are ordered by (time,
//!   sequence number), so ties always resolve the same way.
//! - **One seed.** All randomness (loss, jitter, duplication, reordering, NAT ports) comes
//!   from the [`Rng`](crate::Rng) you pass in. Every link direction and every NAT draws a
//!   child generator when it is created, so adding a link later does not change what
//!   earlier links do. Same seed and same inputs give the same capture, byte for byte.
//! - **Networks.** The simulation starts with one network, the
//!   [internet](Sim::internet). You add networks below it (or below each other) behind a
//!   NAT box ([`Sim::add_nat`]) or a plain router ([`Sim::add_routed_network`]). A LAN is
//!   one network. A network routes a datagram to the interface holding its destination
//!   address, or to a routed child holding it, or else up through its gateway; the
//!   internet drops what it cannot route.
//! - **Nodes** live at addresses ([`Sim::add_node`], [`Sim::add_address`]); a node
//!   receives datagrams sent to any port of its addresses and must send from one of them
//!   (otherwise the datagram is dropped as [`DropReason::Spoofed`]).
//! - **Links.** Every interface (a node's address, a gateway's outside) has a one-way
//!   link towards its network and one from it, each a [`LinkConfig`]: latency, jitter
//!   (FIFO or reordering), loss ([random](Loss::Random) or bursty
//!   [Gilbert-Elliott](GilbertElliott)), duplication, explicit reordering, bandwidth with a
//!   drop-tail queue, MTU. The one-way delay from A to B is A's up link plus any gateway
//!   links on the way plus B's down link; within a network nothing else is added.
//! - **NAT boxes** follow RFC 4787: endpoint-independent, address-dependent or
//!   address-and-port-dependent mapping and filtering ([`NatConfig::full_cone`],
//!   [`NatConfig::restricted_cone`], [`NatConfig::port_restricted_cone`],
//!   [`NatConfig::symmetric`]), mapping timeouts refreshed by outbound traffic,
//!   sequential, random or preserving port allocation, optional hairpinning, a bounded
//!   table.
//! - **Receive buffers** ([`ReceiveBuffer`], [`Sim::set_receive_buffer`]): optionally a
//!   node's socket buffer is modelled: datagrams wait in a bounded buffer until the node
//!   reads them at a modelled speed, and what does not fit is dropped
//!   ([`DropReason::ReceiveBufferFull`]), like a kernel's `SO_RCVBUF` overflow.
//! - **Rules** ([`Rule`]) drop, delay, rewrite or count chosen datagrams as they are sent.
//! - **Capture.** Every datagram sent, delivered and dropped is recorded with its virtual
//!   time and [`Fate`] ([`Sim::capture`]); [`Sim::write_pcap`] writes a pcap file
//!   Wireshark opens; [`Sim::capture_digest`] hashes what was delivered, for determinism
//!   tests. [`Sim::stats`] counts everything, drops by [`DropReason`].
//! - **Running.** [`Sim::step`] runs one event; [`Sim::run_for`], [`Sim::run_until`],
//!   [`Sim::run_until_with`] and [`Sim::run_until_condition`] run bounded: they return
//!   [`SimError::Livelock`] when too many events happen without the clock advancing and
//!   [`SimError::StepLimit`] when the step budget runs out — they never hang and never
//!   panic.
//! - **Changes mid-run.** Between steps you can change any link ([`Sim::set_node_link`],
//!   [`Sim::set_uplink`]; a loss of 1.0 cuts it), move a host ([`Sim::remove_address`],
//!   [`Sim::add_address`]) or reboot a NAT ([`Sim::reset_nat`]).
//! - **Inspection.** Between steps, [`Sim::node`] and [`Sim::node_mut`] give a node back
//!   as its own type; what a command makes it send goes out at the current virtual time.
//!
//! Not modelled: IP fragmentation, ICMP, TCP, IPv6 NAT (NAT66/NAT64), per-pair links
//! (use node links, gateway links or a delay rule), addresses clashing across networks
//! that reach each other without NAT (only checked per network).
//!
//! # Example
//!
//! A pinger behind a port-restricted NAT talks to an echo server on the internet over a
//! 25 ms access link; the echo comes back after exactly 50 ms of virtual time, and a
//! stranger's datagram to the NAT's mapping is filtered.
//!
//! ```
//! use rtcpeer::sim::{Direction, DropReason, LinkConfig, NatConfig, Node, Sim};
//! use rtcpeer::{Rng, Transmit};
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//!
//! /// Sends back whatever it receives.
//! #[derive(Default)]
//! struct Echo {
//!     out: Vec<Transmit>,
//! }
//!
//! impl Node for Echo {
//!     fn handle_receive(&mut self, _now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
//!         self.out.push(Transmit { source: to, destination: from, payload: data.to_vec() });
//!     }
//!     fn handle_timeout(&mut self, _now: Instant) {}
//!     fn poll_transmit(&mut self) -> Option<Transmit> {
//!         self.out.pop()
//!     }
//!     fn poll_timeout(&self) -> Option<Instant> {
//!         None
//!     }
//! }
//!
//! let start = Instant::now(); // tests may read the clock once; the simulator never does
//! let mut sim = Sim::new(start, Rng::from_u64(42));
//! let internet = sim.internet();
//! let home = sim.add_nat(internet, "203.0.113.1".parse()?, NatConfig::port_restricted_cone())?;
//! let server = sim.add_node(internet, "198.51.100.7".parse()?, Echo::default())?;
//! let client = sim.add_node(home, "192.168.1.2".parse()?, Echo::default())?;
//! let stranger = sim.add_node(internet, "198.51.100.99".parse()?, Echo::default())?;
//! sim.set_uplink(home, Direction::Both, LinkConfig::new().latency(Duration::from_millis(25)))?;
//!
//! // Command the client between steps: send a datagram to the server.
//! let server_addr: SocketAddr = "198.51.100.7:7".parse()?;
//! sim.node_mut::<Echo>(client).out.push(Transmit {
//!     source: "192.168.1.2:5000".parse()?,
//!     destination: server_addr,
//!     payload: b"ping".to_vec(),
//! });
//! // The echo server echoes back, the client echoes again: a ping-pong every 50 ms.
//! sim.run_for(Duration::from_millis(120))?;
//! assert_eq!(sim.stats().delivered, 4);
//! let times: Vec<u128> = sim
//!     .capture()
//!     .iter()
//!     .filter(|r| matches!(r.fate, rtcpeer::sim::Fate::Delivered { .. }))
//!     .map(|r| r.elapsed.as_millis())
//!     .collect();
//! assert_eq!(times, [25, 50, 75, 100]);
//!
//! // The server saw the NAT's public address, not the private one.
//! let public = sim.nat_mapping(home, "192.168.1.2:5000".parse()?, server_addr)?;
//! assert_eq!(public, Some("203.0.113.1:40000".parse()?));
//!
//! // A stranger who learns the public endpoint is filtered (port-restricted cone).
//! sim.node_mut::<Echo>(stranger).out.push(Transmit {
//!     source: "198.51.100.99:9".parse()?,
//!     destination: "203.0.113.1:40000".parse()?,
//!     payload: b"hello?".to_vec(),
//! });
//! sim.run_for(Duration::from_millis(30))?; // 25 ms down the NAT's link, then filtered
//! assert_eq!(sim.stats().dropped(DropReason::NatFiltered), 1);
//! # let _ = server;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capture;
mod engine;
mod error;
mod link;
mod nat;
pub mod node;
mod pcap;
mod rule;
mod run;
mod simulator;
mod socket;

#[cfg(test)]
mod tests;

pub use capture::{CaptureRecord, DropReason, Fate, SimStats, delivered_digest};
pub use error::SimError;
pub use link::{GilbertElliott, IPV4_UDP_OVERHEAD, IPV6_UDP_OVERHEAD, LinkConfig, Loss};
pub use nat::{FilteringBehavior, MappingBehavior, NatConfig, PortAllocation};
pub use node::Node;
pub use pcap::{LINKTYPE_RAW, PcapWriter, ip_udp_packet};
pub use rule::{Action, Datagram, Rule, is_dtls, is_stun};
pub use simulator::{Sim, SimConfig};
pub use socket::ReceiveBuffer;

use std::fmt;

/// Identifies a node in a [`Sim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) usize);

/// Identifies a network in a [`Sim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetworkId(pub(crate) usize);

/// Identifies a rule in a [`Sim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(pub(crate) usize);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node#{}", self.0)
    }
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "net#{}", self.0)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule#{}", self.0)
    }
}

/// Which direction of an interface's link a setting applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the node (or the network behind a gateway) into its network.
    Up,
    /// From the network to the node (or into the network behind a gateway).
    Down,
    /// Both directions (each keeps its own queue and random state).
    Both,
}
