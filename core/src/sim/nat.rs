//! NAT boxes in the terms of RFC 4787 (NAT behavioural requirements for UDP).
//!
//! Mapping behaviour decides when an inside endpoint gets a new outside port:
//! endpoint-independent (one port whatever the destination), address-dependent (a port per
//! destination address) or address-and-port-dependent (a port per destination endpoint, the
//! "symmetric NAT"). Filtering behaviour decides which outside endpoints may send in
//! through a mapping: anyone (endpoint-independent), only addresses the inside endpoint
//! has sent to (address-dependent), or only exact endpoints it has sent to
//! (address-and-port-dependent). Mappings expire after a period without outbound traffic
//! (RFC 4787 REQ-5/REQ-6); permissions for filtering expire the same way. Hairpinning
//! (REQ-9) is optional. The table is bounded.
//!
//! Not modelled: port parity/contiguity preservation, ICMP, TCP, fragments, ALGs.

use super::capture::DropReason;
use crate::rng::Rng;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// When a NAT creates a new mapping (RFC 4787 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingBehavior {
    /// One outside port per inside endpoint, whatever the destination.
    EndpointIndependent,
    /// A new outside port per destination address.
    AddressDependent,
    /// A new outside port per destination address and port ("symmetric NAT").
    AddressAndPortDependent,
}

/// Which inbound datagrams a NAT lets through a mapping (RFC 4787 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilteringBehavior {
    /// Anyone may send to a live mapping.
    EndpointIndependent,
    /// Only addresses the inside endpoint has sent to.
    AddressDependent,
    /// Only exact endpoints (address and port) the inside endpoint has sent to.
    AddressAndPortDependent,
}

/// How a NAT picks outside ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortAllocation {
    /// Counts up from `first` (wrapping to 1024 after 65535), skipping ports in use.
    Sequential {
        /// The first port handed out.
        first: u16,
    },
    /// Uniformly random in 1024..=65535 from the NAT's own generator.
    Random,
    /// The inside port if free, else random.
    Preserve,
}

/// The behaviour of a NAT box. Start from one of the classic presets and adjust fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NatConfig {
    /// When a new mapping is made.
    pub mapping: MappingBehavior,
    /// What inbound traffic a mapping accepts.
    pub filtering: FilteringBehavior,
    /// How long a mapping (and a filtering permission) lives without outbound traffic.
    /// Default 30 s.
    pub timeout: Duration,
    /// Whether inbound traffic also refreshes a mapping (RFC 4787 REQ-6 makes this
    /// optional). Default `false`.
    pub inbound_refreshes: bool,
    /// Whether inside hosts can reach each other through the NAT's public address.
    pub hairpinning: bool,
    /// How outside ports are chosen.
    pub port_allocation: PortAllocation,
    /// The most mappings the NAT holds; a new flow beyond that is dropped. Default 4096.
    pub max_mappings: usize,
    /// The most filtering permissions (remote endpoints) one mapping remembers; the oldest
    /// is forgotten beyond that. Default 256.
    pub max_permissions: usize,
}

impl NatConfig {
    /// A NAT with the given mapping and filtering behaviour and default settings.
    pub fn new(mapping: MappingBehavior, filtering: FilteringBehavior) -> Self {
        Self {
            mapping,
            filtering,
            timeout: Duration::from_secs(30),
            inbound_refreshes: false,
            hairpinning: false,
            port_allocation: PortAllocation::Sequential { first: 40000 },
            max_mappings: 4096,
            max_permissions: 256,
        }
    }

    /// "Full cone": endpoint-independent mapping and filtering.
    pub fn full_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::EndpointIndependent,
        )
    }

    /// "Restricted cone": endpoint-independent mapping, address-dependent filtering.
    pub fn restricted_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressDependent,
        )
    }

    /// "Port-restricted cone": endpoint-independent mapping, address-and-port-dependent
    /// filtering (the most common home NAT; what RFC 4787 recommends for mapping).
    pub fn port_restricted_cone() -> Self {
        Self::new(
            MappingBehavior::EndpointIndependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }

    /// "Symmetric": address-and-port-dependent mapping and filtering.
    pub fn symmetric() -> Self {
        Self::new(
            MappingBehavior::AddressAndPortDependent,
            FilteringBehavior::AddressAndPortDependent,
        )
    }

    /// Sets the mapping timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Turns hairpinning on or off.
    pub fn hairpinning(mut self, on: bool) -> Self {
        self.hairpinning = on;
        self
    }

    /// Sets the port allocation.
    pub fn port_allocation(mut self, allocation: PortAllocation) -> Self {
        self.port_allocation = allocation;
        self
    }

    /// Sets the bound on mappings.
    pub fn max_mappings(mut self, max: usize) -> Self {
        self.max_mappings = max;
        self
    }
}

/// Which outbound flows share a mapping: the inside endpoint plus as much of the
/// destination as the mapping behaviour distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MappingKey {
    inside: SocketAddr,
    remote_ip: Option<IpAddr>,
    remote_port: Option<u16>,
}

#[derive(Debug)]
struct Mapping {
    key: MappingKey,
    last_outbound: Instant,
    /// Remote endpoints the inside endpoint sent to, with when it last did.
    permissions: BTreeMap<SocketAddr, Instant>,
}

/// A NAT box's state.
#[derive(Debug)]
pub(crate) struct Nat {
    pub(crate) config: NatConfig,
    pub(crate) public_ip: IpAddr,
    rng: Rng,
    by_port: BTreeMap<u16, Mapping>,
    by_key: BTreeMap<MappingKey, u16>,
    next_port: u16,
}

impl Nat {
    pub(crate) fn new(config: NatConfig, public_ip: IpAddr, rng: Rng) -> Self {
        let next_port = match config.port_allocation {
            PortAllocation::Sequential { first } => first.max(1024),
            _ => 1024,
        };
        Self {
            config,
            public_ip,
            rng,
            by_port: BTreeMap::new(),
            by_key: BTreeMap::new(),
            next_port,
        }
    }

    /// Forgets every mapping. Port allocation carries on where it was, so new mappings
    /// (with sequential allocation) get ports not used before the reset.
    pub(crate) fn reset(&mut self) {
        self.by_port.clear();
        self.by_key.clear();
    }

    /// Live mappings at `now`.
    pub(crate) fn live_mappings(&self, now: Instant) -> usize {
        self.by_port.values().filter(|m| self.alive(m, now)).count()
    }

    /// The outside endpoint of the live mapping `inside` would use towards `remote`.
    pub(crate) fn mapping_for(
        &self,
        now: Instant,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        let port = *self.by_key.get(&self.key(inside, remote))?;
        let mapping = self.by_port.get(&port)?;
        self.alive(mapping, now)
            .then_some(SocketAddr::new(self.public_ip, port))
    }

    fn alive(&self, mapping: &Mapping, now: Instant) -> bool {
        now < mapping.last_outbound + self.config.timeout
    }

    fn key(&self, inside: SocketAddr, remote: SocketAddr) -> MappingKey {
        let (remote_ip, remote_port) = match self.config.mapping {
            MappingBehavior::EndpointIndependent => (None, None),
            MappingBehavior::AddressDependent => (Some(remote.ip()), None),
            MappingBehavior::AddressAndPortDependent => (Some(remote.ip()), Some(remote.port())),
        };
        MappingKey {
            inside,
            remote_ip,
            remote_port,
        }
    }

    /// Translates an outbound datagram's source, creating or refreshing its mapping.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Result<SocketAddr, DropReason> {
        let key = self.key(inside, remote);
        let existing = self.by_key.get(&key).copied();
        let port = match existing {
            Some(port) if self.by_port.get(&port).is_some_and(|m| self.alive(m, now)) => port,
            _ => self.create_mapping(now, key)?,
        };
        let timeout = self.config.timeout;
        let max_permissions = self.config.max_permissions.max(1);
        let mapping = self
            .by_port
            .get_mut(&port)
            .expect("port was just looked up or made");
        mapping.last_outbound = now;
        mapping.permissions.retain(|_, at| now < *at + timeout);
        if mapping.permissions.len() >= max_permissions
            && !mapping.permissions.contains_key(&remote)
        {
            let oldest = mapping
                .permissions
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(a, _)| *a);
            if let Some(oldest) = oldest {
                mapping.permissions.remove(&oldest);
            }
        }
        mapping.permissions.insert(remote, now);
        Ok(SocketAddr::new(self.public_ip, port))
    }

    fn create_mapping(&mut self, now: Instant, key: MappingKey) -> Result<u16, DropReason> {
        if let Some(old) = self.by_key.remove(&key) {
            self.by_port.remove(&old);
        }
        if self.by_port.len() >= self.config.max_mappings {
            self.purge_expired(now);
            if self.by_port.len() >= self.config.max_mappings {
                return Err(DropReason::NatTableFull);
            }
        }
        let port = self.allocate_port(key.inside.port())?;
        self.by_port.insert(
            port,
            Mapping {
                key,
                last_outbound: now,
                permissions: BTreeMap::new(),
            },
        );
        self.by_key.insert(key, port);
        tracing::trace!(inside = %key.inside, port, "sim NAT: new mapping");
        Ok(port)
    }

    fn purge_expired(&mut self, now: Instant) {
        let timeout = self.config.timeout;
        let dead: Vec<u16> = self
            .by_port
            .iter()
            .filter(|(_, m)| now >= m.last_outbound + timeout)
            .map(|(p, _)| *p)
            .collect();
        for port in dead {
            if let Some(m) = self.by_port.remove(&port) {
                self.by_key.remove(&m.key);
            }
        }
    }

    fn allocate_port(&mut self, inside_port: u16) -> Result<u16, DropReason> {
        match self.config.port_allocation {
            PortAllocation::Sequential { .. } => self.next_sequential(),
            PortAllocation::Preserve if inside_port >= 1024 && self.port_free(inside_port) => {
                Ok(inside_port)
            }
            PortAllocation::Random | PortAllocation::Preserve => {
                for _ in 0..64 {
                    let port = 1024 + self.rng.below(65536 - 1024) as u16;
                    if self.port_free(port) {
                        return Ok(port);
                    }
                }
                self.next_sequential()
            }
        }
    }

    fn next_sequential(&mut self) -> Result<u16, DropReason> {
        for _ in 1024..=65535u32 {
            let port = self.next_port;
            self.next_port = if port == 65535 { 1024 } else { port + 1 };
            if self.port_free(port) {
                return Ok(port);
            }
        }
        Err(DropReason::NatTableFull)
    }

    fn port_free(&self, port: u16) -> bool {
        !self.by_port.contains_key(&port)
    }

    /// Translates an inbound datagram to `outside` (this NAT's public address) from
    /// `remote`, returning the inside destination, or why it is refused.
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        outside: SocketAddr,
    ) -> Result<SocketAddr, DropReason> {
        let timeout = self.config.timeout;
        let refresh = self.config.inbound_refreshes;
        let filtering = self.config.filtering;
        let Some(mapping) = self.by_port.get_mut(&outside.port()) else {
            return Err(DropReason::NatNoMapping);
        };
        if now >= mapping.last_outbound + timeout {
            return Err(DropReason::NatNoMapping);
        }
        let live = |at: &Instant| now < *at + timeout;
        let allowed = match filtering {
            FilteringBehavior::EndpointIndependent => true,
            FilteringBehavior::AddressDependent => mapping
                .permissions
                .iter()
                .any(|(addr, at)| addr.ip() == remote.ip() && live(at)),
            FilteringBehavior::AddressAndPortDependent => {
                mapping.permissions.get(&remote).is_some_and(live)
            }
        };
        if !allowed {
            return Err(DropReason::NatFiltered);
        }
        if refresh {
            mapping.last_outbound = now;
        }
        Ok(mapping.key.inside)
    }
}
