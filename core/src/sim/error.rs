//! Errors of the simulator API: the test author's mistakes and runs that went wrong.

use super::{NetworkId, NodeId, RuleId};
use std::net::IpAddr;
use std::time::Duration;

/// What can go wrong when building or running a simulation.
///
/// Datagrams never cause an error: whatever happens to them is recorded in the capture and
/// the statistics. Errors report misuse of the API (an unknown id, a clashing address) or a
/// run that did not finish the way it was asked to (livelock, step budget, deadline).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No node has this id.
    #[error("unknown node {0}")]
    UnknownNode(NodeId),
    /// No network has this id.
    #[error("unknown network {0}")]
    UnknownNetwork(NetworkId),
    /// No rule has this id.
    #[error("unknown rule {0}")]
    UnknownRule(RuleId),
    /// The node exists but is not of the type asked for.
    #[error("node {id} is a `{actual}`, not a `{expected}`")]
    WrongNodeType {
        /// The node asked for.
        id: NodeId,
        /// The type the caller asked for.
        expected: &'static str,
        /// The node's real type.
        actual: &'static str,
    },
    /// The address is already used in that network.
    #[error("address {ip} is already in use in network {network}")]
    AddressInUse {
        /// The clashing address.
        ip: IpAddr,
        /// The network where it is in use.
        network: NetworkId,
    },
    /// The network has no gateway (the internet).
    #[error("network {0} has no gateway to a parent network")]
    NoUplink(NetworkId),
    /// The network is not behind a NAT.
    #[error("network {0} is not behind a NAT")]
    NoNat(NetworkId),
    /// The node does not have this address.
    #[error("node {node} has no address {ip}")]
    NotAssigned {
        /// The node.
        node: NodeId,
        /// The address it does not have.
        ip: IpAddr,
    },
    /// The address cannot be used here (unspecified or multicast).
    #[error("address {0} cannot be assigned (unspecified or multicast)")]
    InvalidAddress(IpAddr),
    /// Too many events happened without the virtual clock advancing: something answers
    /// itself forever (for example a node whose timeout is always "now").
    #[error("livelock: {events} events at virtual time +{elapsed:?} without the clock advancing")]
    Livelock {
        /// Time since the simulation's start at which the clock got stuck.
        elapsed: Duration,
        /// How many events ran at that instant.
        events: u64,
    },
    /// A run processed its whole step budget without reaching its goal.
    #[error("step budget of {steps} events exhausted at virtual time +{elapsed:?}")]
    StepLimit {
        /// The budget that was exhausted.
        steps: u64,
        /// Time since the simulation's start when it ran out.
        elapsed: Duration,
    },
    /// A run's virtual deadline passed while its condition was still false.
    #[error("condition still false at the deadline, virtual time +{elapsed:?}")]
    Deadline {
        /// Time since the simulation's start at the deadline.
        elapsed: Duration,
    },
}
