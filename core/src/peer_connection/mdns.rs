//! Resolving remote `.local` candidates (draft-ietf-mmusic-mdns-ice-candidates) with
//! one-shot mDNS queries (RFC 6762 section 5.1), sans-IO.
//!
//! A remote candidate whose address is a name ending in `.local` is kept pending (at most
//! [`MAX_PENDING_NAMES`] names, [`MAX_CANDIDATES_PER_NAME`] candidates each) and the
//! connection emits a query for it as a [`Transmit`] from its first socket of each address
//! family to 224.0.0.251:5353 or `[ff02::fb]:5353`, [`QUERIES`] times [`QUERY_INTERVAL`]
//! apart; one interval after the last query the name is given up (counted in
//! `mdns_failed` and `remote_candidates_unresolved`, traced). A datagram from port 5353
//! that parses as an mDNS response and gives addresses for a pending name turns each of
//! its candidates into an ordinary remote candidate with the resolved address (same
//! foundation, priority, component and type), which ICE pairs and checks.
//!
//! The remote side's end-of-candidates waits until no name is pending: a non-trickle offer
//! whose host candidates are all `.local` (with `a=end-of-candidates`) would otherwise fail
//! ICE for want of pairs before the answer arrives.
//!
//! The core opens no socket. A responder following RFC 6762 section 6.7 unicasts its
//! answer to the query's source (a socket of the connection); many multicast it to the
//! group instead, so the adapters open, on the first query, a socket bound to port 5353
//! that joined the group, and feed its datagrams to `handle_input` (see
//! `runtime/mdns_socket.rs` and the mio event loop); an `Endpoint` hands datagrams from
//! port 5353 that no 5-tuple routes to the connections resolving a name. Not done: answering queries for names of our own (we never hide our
//! host addresses), caching answers across connections, unicast (QU) questions.

use super::PeerConnection;
use crate::mdns::{self, MDNS_PORT, RecordType};
use crate::transmit::Transmit;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Names resolved at once; candidates for more names are ignored and counted.
pub(crate) const MAX_PENDING_NAMES: usize = 16;
/// Candidates kept per pending name (one name can carry UDP and TCP candidates).
pub(crate) const MAX_CANDIDATES_PER_NAME: usize = 8;
/// Addresses of one answer used at most.
const MAX_ADDRESSES: usize = 4;
/// Queries sent per name.
pub(crate) const QUERIES: u32 = 3;
/// Time between queries, and from the last query to giving up.
pub(crate) const QUERY_INTERVAL: Duration = Duration::from_secs(1);

/// The names being resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct MdnsResolver {
    pending: Vec<Pending>,
    /// The remote side signalled end-of-candidates while names were pending: told to ICE
    /// once the last of them is resolved or given up, so that a non-trickle offer whose
    /// only candidates are `.local` names (a browser's, with `a=end-of-candidates`) does
    /// not fail for want of pairs before the answers arrive.
    end_of_candidates_deferred: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    /// The name as the candidate spelled it.
    name: String,
    /// The candidate lines carrying the name.
    lines: Vec<String>,
    /// Queries sent so far.
    sent: u32,
    /// When the next query is due, or (after the last) when the name is given up.
    due: Instant,
}

impl MdnsResolver {
    /// When the resolver next needs `handle_timeout`.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.due).min()
    }

    /// Whether a name is being resolved (answers are awaited).
    pub(crate) fn is_resolving(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Forgets every pending name (on close).
    pub(crate) fn clear(&mut self) {
        self.pending.clear();
        self.end_of_candidates_deferred = false;
    }
}

impl PeerConnection {
    /// Whether the connection awaits mDNS answers for remote `.local` candidates: an
    /// endpoint hands it the datagrams from port 5353 that no 5-tuple routes.
    pub(crate) fn is_resolving_mdns(&self) -> bool {
        self.config.resolve_mdns && self.mdns.is_resolving()
    }

    /// The remote side's end-of-candidates: given to ICE now, or once no mDNS name is
    /// pending any more (see `MdnsResolver::end_of_candidates_deferred`).
    pub(crate) fn end_of_remote_candidates(&mut self, now: Instant) {
        if self.mdns.is_resolving() {
            tracing::debug!(
                "pc: end-of-candidates deferred until the pending mDNS names are settled"
            );
            self.mdns.end_of_candidates_deferred = true;
        } else {
            self.ice.end_of_remote_candidates(now);
        }
    }

    /// Gives ICE a deferred end-of-candidates once no name is pending.
    fn settle_end_of_candidates(&mut self) {
        if self.mdns.end_of_candidates_deferred && !self.mdns.is_resolving() {
            self.mdns.end_of_candidates_deferred = false;
            self.ice.end_of_remote_candidates(self.now);
        }
    }

    /// A remote candidate `line` whose address is the host name `name`: resolved through
    /// mDNS when it ends in `.local` and resolution is on, otherwise ignored and counted.
    pub(crate) fn add_named_candidate(&mut self, line: &str, name: &str) {
        let relay_only = self.config.ice_transport_policy == super::IceTransportPolicy::Relay;
        if !self.config.resolve_mdns || relay_only || !is_mdns_name(name) {
            self.stats.remote_candidates_unresolved += 1;
            tracing::debug!(%name, "pc: remote candidate with a host name ignored (not resolved)");
            return;
        }
        let now = self.now;
        let pending = &mut self.mdns.pending;
        if let Some(p) = pending
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            if p.lines.len() < MAX_CANDIDATES_PER_NAME && !p.lines.iter().any(|l| l == line) {
                p.lines.push(line.to_string());
            }
            return;
        }
        if pending.len() >= MAX_PENDING_NAMES {
            self.stats.remote_candidates_unresolved += 1;
            tracing::debug!(%name, "pc: too many mDNS names pending; candidate ignored");
            return;
        }
        pending.push(Pending {
            name: name.to_string(),
            lines: vec![line.to_string()],
            sent: 0,
            due: now,
        });
        self.mdns_on_timeout();
    }

    /// Sends the queries that are due and gives up names whose last query went unanswered.
    pub(crate) fn mdns_on_timeout(&mut self) {
        let now = self.now;
        let mut i = 0;
        while i < self.mdns.pending.len() {
            let p = &mut self.mdns.pending[i];
            if p.due > now {
                i += 1;
                continue;
            }
            if p.sent >= QUERIES {
                let p = self.mdns.pending.remove(i);
                self.stats.mdns_failed += 1;
                self.stats.remote_candidates_unresolved += p.lines.len() as u64;
                tracing::info!(name = %p.name, queries = p.sent, "pc: mDNS name not resolved; its candidates are given up");
                continue;
            }
            p.sent += 1;
            p.due = now + QUERY_INTERVAL;
            let name = p.name.clone();
            self.send_mdns_query(&name);
            i += 1;
        }
        self.settle_end_of_candidates();
    }

    /// One query for `name` from our first socket of each address family (A from IPv4
    /// sockets, AAAA from IPv6 ones).
    fn send_mdns_query(&mut self, name: &str) {
        let v4 = self.sockets.iter().copied().find(SocketAddr::is_ipv4);
        let v6 = self.sockets.iter().copied().find(SocketAddr::is_ipv6);
        for (source, qtype) in [(v4, RecordType::A), (v6, RecordType::Aaaa)] {
            let Some(source) = source else { continue };
            match mdns::encode_query(name, &[qtype]) {
                Ok(payload) => {
                    self.stats.mdns_queries_sent += 1;
                    self.transmits.push_back(Transmit {
                        source,
                        destination: mdns::group_for(source),
                        payload,
                    });
                }
                Err(e) => tracing::debug!(%e, "pc: mDNS query not encoded"),
            }
        }
    }

    /// A datagram from port 5353: consumed (returns `true`) when resolution is on and it
    /// parses as a DNS message, whether or not it resolved anything; otherwise it goes on
    /// to the RFC 7983 demultiplexer like any datagram.
    pub(crate) fn handle_mdns_datagram(&mut self, source: SocketAddr, payload: &[u8]) -> bool {
        if !self.config.resolve_mdns || source.port() != MDNS_PORT {
            return false;
        }
        // A peer whose socket happens to use port 5353 still gets its STUN, DTLS and RTP
        // through: those do not parse as a standard-opcode DNS message (STUN's counts and
        // DTLS's opcode are out of range).
        let Ok(msg) = mdns::parse(payload) else {
            return false;
        };
        if msg.opcode != 0 {
            return false;
        }
        let mut used = false;
        if msg.is_response {
            let mut i = 0;
            while i < self.mdns.pending.len() {
                let addrs = msg.addresses_of(&self.mdns.pending[i].name);
                if addrs.is_empty() {
                    i += 1;
                    continue;
                }
                let p = self.mdns.pending.remove(i);
                self.resolve_pending(p, &addrs);
                used = true;
            }
        }
        if used {
            self.settle_end_of_candidates();
        } else {
            self.stats.mdns_ignored += 1;
            tracing::trace!(%source, response = msg.is_response, "pc: mDNS message answers nothing pending");
        }
        true
    }

    /// Adds `p`'s candidates with each of the first resolved addresses.
    fn resolve_pending(&mut self, p: Pending, addrs: &[IpAddr]) {
        self.stats.mdns_resolved += 1;
        tracing::debug!(name = %p.name, ?addrs, "pc: mDNS name resolved");
        for &ip in addrs.iter().take(MAX_ADDRESSES) {
            for line in &p.lines {
                let parsed = with_address(line, ip).map(|l| l.parse::<crate::ice::Candidate>());
                match parsed {
                    Some(Ok(c)) => {
                        if let Err(e) = self.ice.add_remote_candidate(self.now, c) {
                            tracing::debug!(%e, "pc: resolved candidate not used");
                        }
                    }
                    _ => tracing::debug!(%line, "pc: resolved candidate does not parse"),
                }
            }
        }
    }
}

/// Whether `name` is an mDNS name: a valid host name in the `.local` domain.
pub(crate) fn is_mdns_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    lower.len() > ".local".len()
        && lower.ends_with(".local")
        && super::candidates::is_host_name(name)
}

/// The candidate `line` with its connection address (the fifth field) replaced by `ip`.
fn with_address(line: &str, ip: IpAddr) -> Option<String> {
    let s = line.trim();
    let s = s.strip_prefix("a=").unwrap_or(s);
    let s = s.strip_prefix("candidate:").unwrap_or(s);
    let mut fields: Vec<String> = s.split_ascii_whitespace().map(str::to_string).collect();
    *fields.get_mut(4)? = ip.to_string();
    Some(format!("candidate:{}", fields.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_field_is_replaced_and_the_rest_kept() {
        let line = "a=candidate:1 1 udp 2122260223 0b3c-uuid.local 54321 typ host generation 0";
        let got = with_address(line, "192.168.1.9".parse().unwrap()).unwrap();
        assert_eq!(
            got,
            "candidate:1 1 udp 2122260223 192.168.1.9 54321 typ host generation 0"
        );
        assert_eq!(with_address("1 1 udp", "::1".parse().unwrap()), None);
    }

    #[test]
    fn only_local_names_are_mdns_names() {
        assert!(is_mdns_name("1f4712db-ea17-4bcf-a596-105139dfd8bf.local"));
        assert!(is_mdns_name("Host.LOCAL."));
        assert!(!is_mdns_name("example.com"));
        assert!(!is_mdns_name(".local"));
        assert!(!is_mdns_name("a b.local"));
        assert!(!is_mdns_name("local"));
    }
}
