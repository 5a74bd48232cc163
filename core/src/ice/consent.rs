//! The selected path after nomination: consent freshness (RFC 7675), keepalives
//! (RFC 8445 section 11), disconnection and the connection state.
//!
//! Timing (defaults in [`IceTiming`](super::IceTiming)): a full agent sends a consent
//! check on the selected pair every 5 s ± 20 % (uniform), each retransmitted up to three
//! times (250, 500, 1000 ms). The pair is `disconnected` 8 s after the last authenticated
//! response — a whole consent check with its retransmissions went unanswered — and
//! becomes `connected` again when a response arrives. 30 s after the last response
//! consent is lost: the agent stops using the pair (`selected_pair()` is `None`) and the
//! state is `failed`. A lite agent sends no checks; for it, authenticated checks from
//! the peer on the selected pair play the role of responses.

use super::agent::IceAgent;
use super::checks::prflx_priority;
use super::config::IceTiming;
use super::credentials::Credentials;
use super::events::{IceConnectionState, IceEvent, IceGatheringState};
use super::pair::{Transaction, TxStep};
use super::wire::{self, CheckRequest};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Retransmissions of one consent check.
const CONSENT_RETRANSMITS: u32 = 3;
/// Consent transactions remembered (older ones no longer match late responses).
const MAX_CONSENT_TRANSACTIONS: usize = 4;

/// A path application data uses, with its consent state.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    /// Our credentials when the path was selected (for answering checks after a restart).
    pub(crate) local_creds: Credentials,
    /// The peer's credentials when the path was selected (for consent checks).
    pub(crate) remote_creds: Option<Credentials>,
    pub(crate) last_response: Instant,
    pub(crate) last_sent: Instant,
    pub(crate) next_consent: Instant,
    pub(crate) transactions: VecDeque<Transaction>,
    pub(crate) disconnected: bool,
}

impl Path {
    pub(crate) fn new(
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        local_creds: Credentials,
        remote_creds: Option<Credentials>,
        first_consent: Duration,
    ) -> Self {
        Path {
            local,
            remote,
            local_creds,
            remote_creds,
            last_response: now,
            last_sent: now,
            next_consent: now + first_consent,
            transactions: VecDeque::new(),
            disconnected: false,
        }
    }

    /// When the path next changes liveness state: disconnected, then consent lost.
    pub(crate) fn liveness_deadline(&self, t: &IceTiming) -> Instant {
        if self.disconnected {
            self.last_response + t.consent_timeout
        } else {
            self.last_response + t.disconnected_timeout
        }
    }
}

impl IceAgent {
    /// The path data goes on: the selected one, else the one from before a restart.
    pub(super) fn sending_path(&self) -> Option<&Path> {
        self.selected.as_ref().or(self.previous.as_ref())
    }

    /// Before any pair is selected, the highest-priority valid pair: RFC 8445 section
    /// 12.1 lets an agent send data on a valid pair while nomination is still under way,
    /// as browsers do. `None` once a path is selected (or kept across a restart), after
    /// failure and after close.
    pub(super) fn provisional_path(&self) -> Option<(SocketAddr, SocketAddr)> {
        if self.sending_path().is_some() || self.failed || self.closed {
            return None;
        }
        self.checklist
            .pairs()
            .iter()
            .find(|p| p.valid)
            .map(|p| (p.base, p.remote))
    }

    /// A consent interval drawn uniformly from ±20 % around the configured one.
    pub(super) fn consent_jitter(&mut self) -> Duration {
        let base = self.config.timing.consent_interval;
        base.mul_f64(0.8 + 0.4 * self.rng.unit_f64())
    }

    fn paths_mut(&mut self) -> impl Iterator<Item = &mut Path> {
        self.selected.iter_mut().chain(self.previous.iter_mut())
    }

    /// An authenticated response arrived on (`local`, `remote`): consent is fresh.
    pub(super) fn refresh_path(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) {
        for p in self.paths_mut() {
            if p.local == local && p.remote == remote {
                p.last_response = now;
                p.disconnected = false;
            }
        }
    }

    /// An authenticated check arrived on (`local`, `remote`). Only a lite agent, which
    /// sends no checks of its own, counts that as liveness.
    pub(super) fn note_request_on_path(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        if self.config.lite {
            self.refresh_path(now, local, remote);
        }
    }

    /// Sends the consent checks that are due (full agents only).
    pub(super) fn send_consent_checks(&mut self, now: Instant) {
        if self.config.lite {
            return;
        }
        for slot in [0, 1] {
            if let Some((local, remote, payload)) = self.consent_check(now, slot) {
                self.stats.consent_checks_sent += 1;
                self.send(now, local, remote, payload);
            }
        }
    }

    /// Builds the consent check of path `slot` (0: selected, 1: pre-restart) if it is
    /// due, records its transaction and schedules the next one.
    fn consent_check(
        &mut self,
        now: Instant,
        slot: usize,
    ) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
        let (role, tie_breaker, rto) =
            (self.role, self.tie_breaker, self.config.timing.initial_rto);
        let id = self.new_transaction_id();
        let jitter = self.consent_jitter();
        let priority = prflx_priority(self.consent_priority(slot));
        let path = match slot {
            0 => self.selected.as_mut()?,
            _ => self.previous.as_mut()?,
        };
        if path.next_consent > now {
            return None;
        }
        path.next_consent = now + jitter;
        let creds = path.remote_creds.clone()?;
        let payload = wire::encode_check(&CheckRequest {
            id,
            username: format!("{}:{}", creds.ufrag, path.local_creds.ufrag),
            priority,
            role,
            tie_breaker,
            use_candidate: false,
            pwd: &creds.pwd,
        });
        if path.transactions.len() >= MAX_CONSENT_TRANSACTIONS {
            path.transactions.pop_front();
        }
        path.transactions.push_back(Transaction {
            id,
            payload: payload.clone(),
            next_at: now + rto,
            rto,
            retransmits: 0,
            use_candidate: false,
            role,
            priority,
        });
        Some((path.local, path.remote, payload))
    }

    fn consent_priority(&self, slot: usize) -> u32 {
        let path = if slot == 0 {
            self.selected.as_ref()
        } else {
            self.previous.as_ref()
        };
        path.and_then(|p| {
            self.local
                .iter()
                .find(|l| l.candidate.address == p.local)
                .map(|l| l.candidate.priority)
        })
        .unwrap_or(0)
    }

    /// Retransmits consent checks; a consent check that runs out is simply forgotten
    /// (the liveness deadlines decide what a silence means).
    pub(super) fn step_consent_transactions(&mut self, now: Instant) {
        let max_rto = self.config.timing.max_rto;
        let mut resend = Vec::new();
        for p in self.paths_mut() {
            let (local, remote) = (p.local, p.remote);
            p.transactions
                .retain_mut(|tx| match tx.step(now, CONSENT_RETRANSMITS, max_rto) {
                    TxStep::Wait => true,
                    TxStep::Retransmit => {
                        resend.push((local, remote, tx.payload.clone()));
                        true
                    }
                    TxStep::GiveUp => false,
                });
        }
        for (local, remote, payload) in resend {
            self.stats.retransmits += 1;
            self.send(now, local, remote, payload);
        }
    }

    /// Matches a response to a consent check. `None`: no such transaction; `Some(false)`:
    /// it matched but failed authentication (dropped); `Some(true)`: handled.
    pub(super) fn on_consent_response(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
        id: [u8; 12],
        success: bool,
    ) -> Option<bool> {
        let path = self
            .selected
            .iter_mut()
            .chain(self.previous.iter_mut())
            .find(|p| p.transactions.iter().any(|t| t.id == id))?;
        let pwd = path.remote_creds.as_ref()?.pwd.clone();
        if !wire::integrity_ok(data, &pwd) {
            return Some(false);
        }
        path.transactions.retain(|t| t.id != id);
        if success && source == path.remote && destination == path.local {
            path.last_response = now;
            path.disconnected = false;
        } else {
            tracing::debug!(%source, success, "ice: consent check answered with an error or from elsewhere");
        }
        self.stats.responses_received += 1;
        Some(true)
    }

    /// Sends a binding indication on each path idle for the keepalive interval.
    pub(super) fn send_keepalives(&mut self, now: Instant) {
        let interval = self.config.timing.keepalive_interval;
        let due: Vec<_> = self
            .selected
            .iter()
            .chain(self.previous.iter())
            .filter(|p| p.last_sent + interval <= now)
            .map(|p| (p.local, p.remote))
            .collect();
        for (local, remote) in due {
            let id = self.new_transaction_id();
            self.stats.keepalives_sent += 1;
            self.send(now, local, remote, wire::encode_keepalive(id));
        }
    }

    /// Applies the disconnected and consent-lost deadlines.
    pub(super) fn check_liveness(&mut self, now: Instant) {
        let t = self.config.timing.clone();
        let mut lost = [false, false];
        for (i, p) in self.paths_mut().enumerate() {
            if now >= p.last_response + t.consent_timeout {
                lost[i] = true;
            } else if now >= p.last_response + t.disconnected_timeout && !p.disconnected {
                tracing::debug!(remote = %p.remote, "ice: selected pair disconnected");
                p.disconnected = true;
            }
        }
        // `paths_mut` yields the selected path first when there is one.
        let (sel_lost, prev_lost) = match self.selected {
            Some(_) => (lost[0], lost[1]),
            None => (false, lost[0]),
        };
        if sel_lost {
            tracing::debug!("ice: consent lost on the selected pair");
            self.selected = None;
            self.failed = true;
        }
        if prev_lost {
            tracing::debug!("ice: consent lost on the pre-restart pair");
            self.previous = None;
        }
    }

    fn compute_connection_state(&self) -> IceConnectionState {
        if self.closed {
            return IceConnectionState::Closed;
        }
        if let Some(path) = self.sending_path() {
            if path.disconnected {
                return IceConnectionState::Disconnected;
            }
            let done = self.selected.is_some()
                && self.remote_eoc
                && self.gather_state == IceGatheringState::Complete
                && self.checklist.is_done();
            return if done {
                IceConnectionState::Completed
            } else {
                IceConnectionState::Connected
            };
        }
        if self.provisional_path().is_some() {
            // A usable pair while checking goes on (W3C `connected`).
            return IceConnectionState::Connected;
        }
        if self.failed {
            IceConnectionState::Failed
        } else if self.checking_since.is_some() {
            IceConnectionState::Checking
        } else {
            IceConnectionState::New
        }
    }

    /// Recomputes the connection state and emits a change event.
    pub(super) fn update_connection_state(&mut self) {
        let state = self.compute_connection_state();
        if state != self.conn_state {
            self.conn_state = state;
            self.emit(IceEvent::ConnectionStateChange(state));
        }
    }
}
