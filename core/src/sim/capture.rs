//! The record of every datagram: sent, delivered and dropped, with virtual time and fate;
//! counters; and a digest for determinism tests.

use super::{NodeId, RuleId};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Why the simulator dropped a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The sender used a source address that is not one of its own.
    Spoofed,
    /// The source and destination are of different address families.
    AddressFamily,
    /// No network on the way knows the destination.
    NoRoute,
    /// The IP packet was larger than a link's MTU.
    Mtu,
    /// A link lost it (random or bursty loss).
    Loss,
    /// A bandwidth-limited link's drop-tail queue was full.
    QueueFull,
    /// A rule dropped it.
    Rule(RuleId),
    /// A NAT's filtering refused an inbound datagram from an endpoint it does not accept.
    NatFiltered,
    /// An inbound datagram reached a NAT port with no live mapping.
    NatNoMapping,
    /// A NAT had no room for another mapping.
    NatTableFull,
    /// A datagram from inside a NAT to the NAT's own public address, with hairpinning off.
    NatHairpin,
    /// The receiving node's socket buffer was full ([`ReceiveBuffer`](super::ReceiveBuffer)).
    ReceiveBufferFull,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(id) => write!(f, "dropped by rule {id}"),
            other => fmt::Debug::fmt(other, f),
        }
    }
}

/// What happened to a datagram at the moment a [`CaptureRecord`] was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fate {
    /// A node handed it to the network (addresses as the node wrote them).
    Sent {
        /// The sender.
        node: NodeId,
    },
    /// A node received it (addresses as the receiver sees them, after any NAT).
    Delivered {
        /// The receiver.
        node: NodeId,
    },
    /// The network dropped it (addresses as they were where it was dropped).
    Dropped(DropReason),
    /// The test put it on a network with [`Sim::inject`](super::Sim::inject).
    Injected,
}

impl Fate {
    /// Whether this records a delivery.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    /// Whether this records a drop.
    pub fn is_dropped(&self) -> bool {
        matches!(self, Self::Dropped(_))
    }
}

/// One event in the life of a datagram.
#[derive(Clone, PartialEq, Eq)]
pub struct CaptureRecord {
    /// Identifies the datagram: its sent, delivered (possibly twice, if duplicated) and
    /// dropped records share the id.
    pub id: u64,
    /// Virtual time of the event.
    pub time: Instant,
    /// Virtual time since the simulation started.
    pub elapsed: Duration,
    /// Source address at that point.
    pub source: SocketAddr,
    /// Destination address at that point.
    pub destination: SocketAddr,
    /// The datagram's bytes at that point (after any rewriting rule).
    pub payload: Vec<u8>,
    /// What happened.
    pub fate: Fate,
}

impl fmt::Debug for CaptureRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} +{:?} {} -> {} ({} bytes) {:?}",
            self.id,
            self.elapsed,
            self.source,
            self.destination,
            self.payload.len(),
            self.fate
        )
    }
}

/// Counters over the whole simulation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Datagrams nodes handed to the network (plus injected ones).
    pub sent: u64,
    /// Datagrams delivered to nodes (a duplicate counts again).
    pub delivered: u64,
    /// Extra copies links made.
    pub duplicated: u64,
    /// Datagrams a rule applied its action to.
    pub rule_applied: u64,
    /// Capture records not stored because the capture was full
    /// ([`SimConfig::capture_limit`](super::SimConfig::capture_limit)).
    pub capture_overflow: u64,
    dropped: BTreeMap<DropReason, u64>,
}

impl SimStats {
    /// How many datagrams were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(&reason).copied().unwrap_or(0)
    }

    /// How many datagrams were dropped for any reason.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.values().sum()
    }

    /// Every drop reason seen, with its count, in a stable order.
    pub fn drops(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        self.dropped.iter().map(|(r, n)| (*r, *n))
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        *self.dropped.entry(reason).or_insert(0) += 1;
    }
}

/// A SHA-256 over `(time since start, receiver, source, destination, payload)` of every
/// delivered record in `records`, in order. Two runs with the same seed and inputs give the
/// same digest; any change in timing, addressing or content changes it. Equal to
/// [`Sim::capture_digest`](super::Sim::capture_digest) when given the whole capture.
pub fn delivered_digest<'a>(records: impl IntoIterator<Item = &'a CaptureRecord>) -> [u8; 32] {
    let mut digest = [0u8; 32];
    for record in records {
        if let Fate::Delivered { node } = record.fate {
            digest = chain_delivery(&digest, record.elapsed, node, record);
        }
    }
    digest
}

/// One link of the delivered-datagram hash chain.
pub(crate) fn chain_delivery(
    digest: &[u8; 32],
    elapsed: Duration,
    node: NodeId,
    datagram: &impl AsDatagram,
) -> [u8; 32] {
    let (source, destination, payload) = datagram.parts();
    let mut header = [0u8; 16 + 8 + 18 + 18 + 8];
    header[..16].copy_from_slice(&elapsed.as_nanos().to_be_bytes());
    header[16..24].copy_from_slice(&(node.0 as u64).to_be_bytes());
    header[24..42].copy_from_slice(&endpoint_bytes(source));
    header[42..60].copy_from_slice(&endpoint_bytes(destination));
    header[60..].copy_from_slice(&(payload.len() as u64).to_be_bytes());
    crate::crypto::sha256(&[digest, &header, payload])
}

/// An address as 16 bytes (IPv4 mapped into IPv6) plus the port.
fn endpoint_bytes(addr: SocketAddr) -> [u8; 18] {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    };
    let mut out = [0u8; 18];
    out[..16].copy_from_slice(&ip.octets());
    out[16..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// Anything with a source, a destination and a payload.
pub(crate) trait AsDatagram {
    fn parts(&self) -> (SocketAddr, SocketAddr, &[u8]);
}

impl AsDatagram for CaptureRecord {
    fn parts(&self) -> (SocketAddr, SocketAddr, &[u8]) {
        (self.source, self.destination, &self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fate: Fate, payload: &[u8]) -> CaptureRecord {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        CaptureRecord {
            id: 1,
            time: t0,
            elapsed: Duration::from_millis(5),
            source: "10.0.0.1:1".parse().expect("literal"),
            destination: "10.0.0.2:2".parse().expect("literal"),
            payload: payload.to_vec(),
            fate,
        }
    }

    #[test]
    fn digest_covers_delivered_records_only() {
        let delivered = record(Fate::Delivered { node: NodeId(0) }, b"x");
        let sent = record(Fate::Sent { node: NodeId(0) }, b"y");
        let one = delivered_digest([&delivered]);
        assert_eq!(one, delivered_digest([&sent, &delivered]));
        assert_ne!(one, delivered_digest([&delivered, &delivered]));
        assert_ne!(one, [0; 32]);
    }

    #[test]
    fn digest_changes_with_payload_and_time() {
        let a = record(Fate::Delivered { node: NodeId(0) }, b"x");
        let mut b = a.clone();
        b.payload = b"z".to_vec();
        let mut c = a.clone();
        c.elapsed += Duration::from_nanos(1);
        assert_ne!(delivered_digest([&a]), delivered_digest([&b]));
        assert_ne!(delivered_digest([&a]), delivered_digest([&c]));
    }
}
