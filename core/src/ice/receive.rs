//! Incoming STUN (RFC 8445 section 7.3, RFC 7675): authenticating and answering Binding
//! requests, role conflicts, peer-reflexive candidates, triggered checks, USE-CANDIDATE,
//! and matching responses to our transactions.
//!
//! Nothing here returns an error or panics on network input: a datagram that fails a
//! check is dropped, counted in [`IceStats`](super::IceStats) and traced.

use super::agent::IceAgent;
use super::events::{IceEvent, IceRole};
use super::pair::PairState;
use super::relay::RelayReceive;
use super::wire::{self, InClass, Incoming, Reject};
use std::net::SocketAddr;
use std::time::Instant;

/// Which of our credentials a request was addressed to.
enum Addressee {
    Current,
    /// The credentials in use before an ICE restart, kept for the old path.
    Previous,
}

impl IceAgent {
    /// A datagram arrived on the local socket `destination` from `source`. Returns `true`
    /// if it was STUN (ICE's, consumed here — even when dropped as invalid) and `false`
    /// otherwise (the caller passes it to DTLS/SRTP).
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> bool {
        if !self.closed {
            match self.relay_receive(now, source, destination, data) {
                // Relayed application data changes no ICE state (as on a direct path,
                // where it never reaches the agent): no timers to re-arm.
                Some(RelayReceive::Data) => return true,
                Some(RelayReceive::Control) => {
                    self.finish(now);
                    return true;
                }
                None => {}
            }
        }
        if !crate::stun::looks_like_stun(data) {
            return false;
        }
        if self.closed {
            self.stats.dropped_other += 1;
            return true;
        }
        self.handle_stun(now, source, destination, data);
        self.finish(now);
        true
    }

    /// A STUN datagram on `destination` (a socket or a relayed address) from `source`.
    pub(super) fn handle_stun(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        match wire::parse(data) {
            Ok(msg) => self.on_stun(now, source, destination, data, &msg),
            Err(Reject::Malformed) => {
                self.stats.dropped_malformed += 1;
                tracing::debug!(%source, len = data.len(), "ice: malformed STUN dropped");
            }
            Err(Reject::NotBinding) => {
                self.stats.dropped_unsupported += 1;
                tracing::debug!(%source, "ice: non-Binding STUN dropped");
            }
        }
    }

    fn on_stun(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
        msg: &Incoming,
    ) {
        if msg.has_fingerprint && !msg.fingerprint_ok {
            self.stats.dropped_bad_fingerprint += 1;
            tracing::debug!(%source, "ice: STUN with a wrong FINGERPRINT dropped");
            return;
        }
        match msg.class {
            InClass::Request => self.on_request(now, source, destination, data, msg),
            InClass::Indication => self.stats.indications_received += 1,
            InClass::Success | InClass::Error(_) => {
                self.on_response(now, source, destination, data, msg)
            }
        }
    }

    fn addressee(&self, username: Option<&str>) -> Option<Addressee> {
        // RFC 8445 section 7.2.2: "local ufrag:remote ufrag"; only the left part is ours.
        let (local, _) = username?.split_once(':')?;
        if local == self.local_creds.ufrag {
            return Some(Addressee::Current);
        }
        match &self.previous {
            Some(p) if p.local_creds.ufrag == local => Some(Addressee::Previous),
            _ => None,
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
        msg: &Incoming,
    ) {
        if !msg.has_fingerprint {
            self.stats.dropped_bad_fingerprint += 1;
            tracing::debug!(%source, "ice: check without FINGERPRINT dropped");
            return;
        }
        let Some(addressee) = self.addressee(msg.username.as_deref()) else {
            self.stats.dropped_unknown_ufrag += 1;
            tracing::debug!(%source, "ice: check for an unknown ufrag dropped");
            return;
        };
        let pwd = match addressee {
            Addressee::Current => self.local_creds.pwd.clone(),
            Addressee::Previous => match &self.previous {
                Some(p) => p.local_creds.pwd.clone(),
                None => return,
            },
        };
        if !wire::integrity_ok(data, &pwd) {
            self.stats.dropped_bad_integrity += 1;
            tracing::debug!(%source, "ice: check with a wrong MESSAGE-INTEGRITY dropped");
            return;
        }
        if !self.is_local_base(destination) {
            self.stats.dropped_other += 1;
            tracing::debug!(%destination, "ice: check to an address that is not ours dropped");
            return;
        }
        self.stats.checks_received += 1;
        if let Addressee::Previous = addressee {
            self.respond(now, source, destination, msg.id, &pwd);
            self.note_request_on_path(now, destination, source);
            return;
        }
        if self.resolve_role_conflict(now, source, destination, msg, &pwd) {
            return;
        }
        self.respond(now, source, destination, msg.id, &pwd);
        self.note_request_on_path(now, destination, source);
        self.process_check(now, source, destination, msg);
        self.report_peer_ready(msg.use_candidate && self.role == IceRole::Controlled);
    }

    /// Reports the peer's first check and first nomination, once each.
    fn report_peer_ready(&mut self, nominated: bool) {
        for (i, is_it) in [(0, true), (1, nominated)] {
            if is_it && !self.peer_ready[i] {
                self.peer_ready[i] = true;
                let rtt = self.check_rtt;
                self.emit(IceEvent::PeerReady {
                    nominated: i == 1,
                    rtt,
                });
            }
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        id: [u8; 12],
        pwd: &str,
    ) {
        let payload = wire::encode_success(id, source, pwd);
        self.stats.responses_sent += 1;
        self.send(now, destination, source, payload);
    }

    /// RFC 8445 section 7.3.1.1. Returns `true` if the request was answered with 487.
    fn resolve_role_conflict(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Incoming,
        pwd: &str,
    ) -> bool {
        let ours = self.tie_breaker;
        let answer_487 = match (self.role, msg.controlling, msg.controlled) {
            (IceRole::Controlling, Some(theirs), _) => {
                self.stats.role_conflicts += 1;
                if ours >= theirs {
                    true
                } else {
                    self.switch_role(IceRole::Controlled);
                    false
                }
            }
            (IceRole::Controlled, _, Some(theirs)) => {
                self.stats.role_conflicts += 1;
                // A lite agent cannot take control: it always asks the peer to.
                if ours >= theirs && !self.config.lite {
                    self.switch_role(IceRole::Controlling);
                    false
                } else {
                    true
                }
            }
            _ => false,
        };
        if answer_487 {
            let payload = wire::encode_role_conflict(msg.id, pwd);
            self.send(now, destination, source, payload);
        }
        answer_487
    }

    /// The rest of RFC 8445 section 7.3.1 after the response went out: peer-reflexive
    /// candidate, triggered check, nomination.
    fn process_check(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &Incoming,
    ) {
        let priority = msg.priority.unwrap_or(0);
        if !self.add_remote_peer_reflexive(source, priority) {
            self.stats.dropped_other += 1;
            tracing::debug!(%source, "ice: remote candidate bound reached; check not followed up");
            return;
        }
        self.checking_since.get_or_insert(now);
        if self.config.lite {
            if msg.use_candidate {
                self.select_path(now, destination, source);
            }
            return;
        }
        let Some(id) = self.pair_for_incoming(now, destination, source) else {
            return;
        };
        let Some(pair) = self.checklist.get_mut(id) else {
            return;
        };
        match pair.state {
            PairState::Succeeded => {}
            PairState::InProgress => self.checklist.trigger(id, false),
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                pair.state = PairState::Waiting;
                self.checklist.trigger(id, false);
            }
        }
        if msg.use_candidate && self.role == IceRole::Controlled {
            self.on_use_candidate(now, id);
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
        msg: &Incoming,
    ) {
        let success = msg.class == InClass::Success;
        let matches = |t: &crate::ice::pair::Transaction| t.id == msg.id;
        let pair = self.checklist.pairs().iter().find(|p| {
            p.transaction.as_ref().is_some_and(matches) || p.cancelled.iter().any(matches)
        });
        if let Some(id) = pair.map(|p| p.id) {
            let Some(creds) = self.remote_creds.as_ref() else {
                self.stats.dropped_unmatched_response += 1;
                return;
            };
            if !wire::integrity_ok(data, &creds.pwd) {
                self.stats.dropped_bad_integrity += 1;
                tracing::debug!(%source, "ice: response with a wrong MESSAGE-INTEGRITY dropped");
                return;
            }
            self.stats.responses_received += 1;
            self.on_check_response(now, id, source, destination, msg);
            return;
        }
        match self.on_consent_response(now, source, destination, data, msg.id, success) {
            Some(true) => return,
            Some(false) => {
                self.stats.dropped_bad_integrity += 1;
                return;
            }
            None => {}
        }
        if self.on_server_response(source, destination, msg.id, msg.mapped, success) {
            return;
        }
        self.stats.dropped_unmatched_response += 1;
        tracing::debug!(%source, "ice: response matching no transaction dropped");
    }
}
