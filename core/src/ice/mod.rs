//! `ice`: Interactive Connectivity Establishment for WebRTC.
//!
//! RFCs: 8445 (ICE), 8838 (trickle ICE), 7675 (consent freshness), 8839 (the SDP
//! `candidate` grammar and credential syntax). The wire format is [`crate::stun`].
//!
//! Implemented: host and server-reflexive gathering (STUN servers by address or by a name
//! the driver resolves), foundations and priorities, candidate parsing and printing,
//! pair formation, pruning and ordering, the frozen/waiting/in-progress/succeeded/failed
//! machinery, Ta pacing, triggered checks, retransmissions with backoff, peer-reflexive
//! remote candidates (also before the remote credentials are known) and local ones,
//! regular nomination by the controlling agent, USE-CANDIDATE when controlled, role
//! conflict repair (tie-breaker, 487), trickle at any time with end-of-candidates, consent
//! freshness with disconnected/failed states, keepalives, ICE restart that keeps the old
//! pair until a new one is selected, lite mode, and counters of everything dropped.
//!
//! Relayed candidates (RFC 8656, [`crate::turn`]): one allocation per local socket and
//! TURN server (UDP to the server), permissions per remote candidate IP, a channel for
//! the data path's peer, re-allocation when the server lost the allocation, and the
//! relay-only transport policy ([`IceConfig::relay_only`]). TURN errors surface as
//! [`IceEvent::RelayFailed`] and in [`IceStats`].
//!
//! Not implemented: TURN over TCP or TLS, TCP candidates (RFC 6544: they
//! parse but are never paired), more than one component or data stream (WebRTC uses one
//! with BUNDLE and rtcp-mux), aggressive nomination, re-gathering server-reflexive
//! candidates on restart (existing ones are announced again), mDNS `.local` candidates
//! (the application must resolve them first; parsing reports them as a typed error).
//! Simplification: a valid pair whose local candidate is peer-reflexive is represented
//! by the checked pair that produced it (same socket and remote address).
//!
//! The entry point is [`IceAgent`]; see its documentation for the driving contract.

mod agent;
mod candidate;
mod checklist;
mod checks;
mod config;
mod consent;
mod credentials;
mod events;
mod gather;
mod pair;
mod receive;
mod relay;
pub use relay::{MAX_RELAY_RECONNECTS, RECONNECT_BACKOFF, TURN_CONNECT_TIMEOUT};
mod stats;
mod timers;
mod wire;

#[cfg(test)]
mod tests;

pub use agent::{IceAgent, PairInfo, SelectedPair};
pub use candidate::{
    Candidate, CandidateKind, MAX_EXTENSIONS, ParseCandidateError, TcpType, Transport,
    candidate_priority,
};
pub use config::{IceConfig, IceTiming, RelayServer, StunServer};
pub use credentials::{Credentials, PWD_LEN, UFRAG_LEN};
pub use events::{IceConnectionState, IceEvent, IceGatheringState, IceRole};
pub use pair::{PairState, pair_priority};
pub use stats::IceStats;

/// Mistakes in using the ICE API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IceError {
    /// The configuration is inconsistent or out of range.
    #[error("invalid ICE configuration: {0}")]
    InvalidConfig(String),
    /// The agent was closed.
    #[error("the ICE agent is closed")]
    Closed,
    /// More local sockets than `IceConfig::max_local_sockets`.
    #[error("too many local sockets")]
    TooManySockets,
    /// More remote candidates than `IceConfig::max_remote_candidates`.
    #[error("too many remote candidates")]
    TooManyCandidates,
    /// Remote credentials too short, too long or not ICE characters (RFC 8839 5.4).
    #[error("invalid remote ICE credentials")]
    InvalidCredentials,
    /// The remote credentials changed without an ICE restart on this side.
    #[error("remote ICE credentials changed: restart the agent first")]
    RestartRequired,
    /// A candidate line did not parse.
    #[error("invalid candidate: {0}")]
    Candidate(#[from] ParseCandidateError),
}
