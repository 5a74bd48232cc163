//! Local candidates: host candidates from the driver's sockets and server-reflexive
//! candidates learned from STUN servers (RFC 8445 section 5.1.1), with foundations
//! (section 5.1.1.3) and priorities (section 5.1.2).

use super::agent::{IceAgent, LocalCandidate};
use super::candidate::{Candidate, CandidateKind, candidate_priority};
use super::config::StunServer;
use super::events::{IceEvent, IceGatheringState};
use super::pair::{Transaction, TxStep};
use super::wire;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// The most STUN server addresses the agent asks.
const MAX_SERVERS: usize = 8;

/// One Binding request from a local socket to a STUN server.
#[derive(Debug, Clone)]
pub(crate) struct ServerRequest {
    pub(crate) socket: SocketAddr,
    pub(crate) server: SocketAddr,
    /// `None` once answered or given up.
    pub(crate) transaction: Option<Transaction>,
}

/// The server-reflexive gathering state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gatherer {
    /// Resolved STUN server addresses.
    pub(crate) servers: Vec<SocketAddr>,
    /// Names waiting for [`IceAgent::handle_resolved`], with their ports.
    pub(crate) pending_names: Vec<(String, u16)>,
    pub(crate) requests: Vec<ServerRequest>,
}

impl Gatherer {
    /// Starts from the configured servers; names to resolve are asked for in `events`.
    pub(crate) fn from_servers(servers: &[StunServer], events: &mut VecDeque<IceEvent>) -> Self {
        let mut g = Gatherer::default();
        for server in servers {
            match server {
                StunServer::Addr(a) => {
                    g.add_server(*a);
                }
                StunServer::Name { host, port } => {
                    g.pending_names.push((host.clone(), *port));
                    events.push_back(IceEvent::ResolveName { name: host.clone() });
                }
            }
        }
        g
    }

    /// Records a server address; returns whether it is new (and room was left).
    pub(crate) fn add_server(&mut self, server: SocketAddr) -> bool {
        if self.servers.contains(&server) || self.servers.len() >= MAX_SERVERS {
            return false;
        }
        self.servers.push(server);
        true
    }

    /// Whether nothing is outstanding: no name to resolve, no request in flight.
    pub(crate) fn is_idle(&self) -> bool {
        self.pending_names.is_empty() && self.requests.iter().all(|r| r.transaction.is_none())
    }
}

impl IceAgent {
    /// The foundation of a local candidate: equal for the same type, base IP and server
    /// (RFC 8445 section 5.1.1.3), as a small decimal number.
    pub(super) fn foundation(
        &mut self,
        kind: CandidateKind,
        base: SocketAddr,
        server: Option<SocketAddr>,
    ) -> String {
        let key = (kind, base.ip(), server);
        let index = match self.foundations.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.foundations.push(key);
                self.foundations.len() - 1
            }
        };
        (index + 1).to_string()
    }

    /// The local preference of a socket: the first reported socket is preferred.
    pub(super) fn local_preference(&self, base: SocketAddr) -> u32 {
        let index = self.sockets.iter().position(|s| *s == base).unwrap_or(0);
        65535u32.saturating_sub(index as u32)
    }

    pub(super) fn announce(&mut self, mut candidate: Candidate) {
        candidate.ufrag = Some(self.local_creds.ufrag.clone());
        candidate.generation = Some(self.generation);
        self.emit(IceEvent::LocalCandidate(candidate));
    }

    fn set_gathering(&mut self, state: IceGatheringState) {
        if self.gather_state != state {
            self.gather_state = state;
            self.emit(IceEvent::GatheringStateChange(state));
        }
    }

    /// Makes `addr` a host candidate, pairs it, and asks the STUN servers about it.
    pub(super) fn add_host_candidate(&mut self, now: Instant, addr: SocketAddr) {
        self.start_relays(now, addr);
        if self.config.relay_only {
            // Only relayed candidates: the socket carries TURN traffic and nothing else.
            self.set_gathering(IceGatheringState::Gathering);
            return;
        }
        let foundation = self.foundation(CandidateKind::Host, addr, None);
        let priority = candidate_priority(CandidateKind::Host, self.local_preference(addr), 1);
        let candidate = Candidate::new(CandidateKind::Host, foundation, 1, priority, addr, None);
        self.local.push(LocalCandidate {
            candidate: candidate.clone(),
            base: addr,
        });
        self.set_gathering(IceGatheringState::Gathering);
        self.announce(candidate);
        self.pair_local(now, addr);
        if !self.config.lite {
            for server in self.gather.servers.clone() {
                self.start_server_request(now, addr, server);
            }
        }
    }

    /// Sends a Binding request from `socket` to the STUN server `server` (same IP family).
    pub(super) fn start_server_request(
        &mut self,
        now: Instant,
        socket: SocketAddr,
        server: SocketAddr,
    ) {
        if socket.is_ipv4() != server.is_ipv4() {
            return;
        }
        let id = self.new_transaction_id();
        let payload = wire::encode_server_request(id);
        let rto = self.config.timing.initial_rto;
        self.gather.requests.push(ServerRequest {
            socket,
            server,
            transaction: Some(Transaction {
                id,
                payload: payload.clone(),
                next_at: now + rto,
                rto,
                retransmits: 0,
                use_candidate: false,
                role: self.role,
                priority: 0,
            }),
        });
        self.stats.gather_requests_sent += 1;
        self.send(now, socket, server, payload);
    }

    /// Retransmits or gives up server requests due at `now`.
    pub(super) fn step_server_requests(&mut self, now: Instant) {
        let (max, max_rto) = (
            self.config.timing.max_retransmits,
            self.config.timing.max_rto,
        );
        let mut resend = Vec::new();
        for r in &mut self.gather.requests {
            let Some(tx) = r.transaction.as_mut() else {
                continue;
            };
            match tx.step(now, max, max_rto) {
                TxStep::Wait => {}
                TxStep::Retransmit => resend.push((r.socket, r.server, tx.payload.clone())),
                TxStep::GiveUp => {
                    tracing::debug!(server = %r.server, socket = %r.socket, "ice: STUN server did not answer");
                    r.transaction = None;
                }
            }
        }
        for (socket, server, payload) in resend {
            self.stats.retransmits += 1;
            self.send(now, socket, server, payload);
        }
    }

    /// Handles a response to a server request; returns `false` if `id` matches none.
    ///
    /// The response must come from the server we asked and arrive on the socket we asked
    /// from. A success with a new XOR-MAPPED-ADDRESS becomes a server-reflexive candidate
    /// (duplicates of any local candidate address are not announced again).
    pub(super) fn on_server_response(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        id: [u8; 12],
        mapped: Option<SocketAddr>,
        success: bool,
    ) -> bool {
        let Some(r) = self.gather.requests.iter_mut().find(|r| {
            r.transaction.as_ref().is_some_and(|t| t.id == id)
                && r.server == source
                && r.socket == destination
        }) else {
            return false;
        };
        r.transaction = None;
        let (socket, server) = (r.socket, r.server);
        self.stats.responses_received += 1;
        match (success, mapped) {
            (true, Some(mapped)) => self.add_server_reflexive(socket, server, mapped),
            _ => tracing::debug!(%server, "ice: STUN server answered with an error or no address"),
        }
        true
    }

    fn add_server_reflexive(&mut self, base: SocketAddr, server: SocketAddr, mapped: SocketAddr) {
        if self.local.iter().any(|l| l.candidate.address == mapped) {
            return;
        }
        let foundation = self.foundation(CandidateKind::ServerReflexive, base, Some(server));
        let priority = candidate_priority(
            CandidateKind::ServerReflexive,
            self.local_preference(base),
            1,
        );
        let candidate = Candidate::new(
            CandidateKind::ServerReflexive,
            foundation,
            1,
            priority,
            mapped,
            Some(base),
        );
        self.local.push(LocalCandidate {
            candidate: candidate.clone(),
            base,
        });
        // Its pairs would be pruned in favour of the base's (RFC 8445 section 6.1.2.4), so
        // it is announced but not paired.
        self.announce(candidate);
    }

    /// Records a peer-reflexive local candidate learned from a check's XOR-MAPPED-ADDRESS
    /// (RFC 8445 section 7.2.5.3.1). It is neither announced nor paired.
    pub(super) fn add_local_peer_reflexive(
        &mut self,
        base: SocketAddr,
        mapped: SocketAddr,
        priority: u32,
    ) {
        if self.local.iter().any(|l| l.candidate.address == mapped) {
            return;
        }
        if self.local.len() >= self.config.max_local_sockets * 4 {
            return;
        }
        let foundation = self.foundation(CandidateKind::PeerReflexive, base, None);
        let candidate = Candidate::new(
            CandidateKind::PeerReflexive,
            foundation,
            1,
            priority,
            mapped,
            Some(base),
        );
        self.local.push(LocalCandidate { candidate, base });
    }

    /// After a restart: host and server-reflexive candidates are announced again.
    pub(super) fn reannounce_local_candidates(&mut self) {
        self.local
            .retain(|l| l.candidate.kind != CandidateKind::PeerReflexive);
        if self.local.is_empty() {
            return;
        }
        self.gather_state = IceGatheringState::New;
        self.set_gathering(IceGatheringState::Gathering);
        for l in self.local.clone() {
            self.announce(l.candidate);
        }
    }

    /// Whether no STUN request, name or first TURN allocation is outstanding.
    pub(super) fn gathering_idle(&self) -> bool {
        self.gather.is_idle() && !self.relays.is_gathering()
    }

    /// Moves to `complete` when nothing is outstanding.
    pub(super) fn update_gathering_state(&mut self) {
        if self.gather_state == IceGatheringState::Gathering && self.gathering_idle() {
            self.set_gathering(IceGatheringState::Complete);
        }
    }
}
