//! Connectivity checks (RFC 8445 sections 6.1.4, 7.2 and 8.1): remote candidates and
//! pairing, paced and triggered checks, transaction outcomes, role switches, regular
//! nomination by the controlling agent, and selection.

use super::IceError;
use super::agent::IceAgent;
use super::candidate::{Candidate, CandidateKind, Transport};
use super::checklist::{LocalEnd, RemoteEnd, Triggered};
use super::consent::Path;
use super::events::{IceEvent, IceRole};
use super::pair::{PairId, PairState, Transaction, TxStep};
use super::wire::{self, CheckRequest};
use std::net::SocketAddr;
use std::time::Instant;

/// Cancelled transactions remembered per pair (late successes still count).
const MAX_CANCELLED: usize = 3;

/// The PRIORITY a check carries: the priority a peer-reflexive candidate of the same
/// base would have (RFC 8445 section 7.1.1).
pub(super) fn prflx_priority(local_priority: u32) -> u32 {
    (CandidateKind::PeerReflexive.type_preference() << 24) | (local_priority & 0x00ff_ffff)
}

impl IceAgent {
    /// Stores a remote candidate and pairs it. See [`IceAgent::add_remote_candidate`].
    pub(super) fn add_remote(&mut self, now: Instant, c: Candidate) -> Result<(), IceError> {
        if c.transport != Transport::Udp || c.component != 1 {
            tracing::debug!(candidate = %c, "ice: ignoring a non-UDP or non-RTP candidate");
            return Ok(());
        }
        if let (Some(u), Some(r)) = (&c.ufrag, &self.remote_creds)
            && *u != r.ufrag
        {
            tracing::debug!(candidate = %c, "ice: ignoring a candidate of another generation");
            return Ok(());
        }
        if let Some(existing) = self.remote.iter_mut().find(|r| r.address == c.address) {
            if existing.kind == CandidateKind::PeerReflexive {
                // RFC 8445 section 7.3.1.3: the signalled candidate replaces the prflx one.
                *existing = c;
            }
            return Ok(());
        }
        if self.remote.len() >= self.config.max_remote_candidates {
            return Err(IceError::TooManyCandidates);
        }
        self.remote.push(c.clone());
        self.pair_remote(now, &c);
        Ok(())
    }

    /// Adds a peer-reflexive remote candidate for a check from an unknown `source`
    /// (RFC 8445 section 7.3.1.3). Returns `false` when the candidate bound is reached.
    pub(super) fn add_remote_peer_reflexive(&mut self, source: SocketAddr, priority: u32) -> bool {
        if self.remote.iter().any(|r| r.address == source) {
            return true;
        }
        if self.remote.len() >= self.config.max_remote_candidates {
            return false;
        }
        self.prflx_count += 1;
        let foundation = format!("prflx{}", self.prflx_count);
        let c = Candidate::new(
            CandidateKind::PeerReflexive,
            foundation,
            1,
            priority,
            source,
            None,
        );
        self.remote.push(c);
        true
    }

    fn host_ends(&self) -> Vec<(SocketAddr, u32, String)> {
        self.local
            .iter()
            .filter(|l| match l.candidate.kind {
                CandidateKind::Host => !self.config.relay_only,
                CandidateKind::Relayed => true,
                _ => false,
            })
            .map(|l| (l.base, l.candidate.priority, l.candidate.foundation.clone()))
            .collect()
    }

    fn pair_remote(&mut self, now: Instant, remote: &Candidate) {
        for (base, priority, foundation) in self.host_ends() {
            self.add_pair(now, base, priority, &foundation, remote);
        }
    }

    /// Pairs the host candidate `base` with every remote candidate.
    pub(super) fn pair_local(&mut self, now: Instant, base: SocketAddr) {
        let Some((_, priority, foundation)) = self.host_ends().into_iter().find(|h| h.0 == base)
        else {
            return;
        };
        for remote in self.remote.clone() {
            self.add_pair(now, base, priority, &foundation, &remote);
        }
    }

    fn add_pair(
        &mut self,
        now: Instant,
        base: SocketAddr,
        priority: u32,
        foundation: &str,
        remote: &Candidate,
    ) -> Option<PairId> {
        if self.config.lite {
            return None;
        }
        let local = LocalEnd {
            address: base,
            base,
            priority,
            foundation,
        };
        let remote_end = RemoteEnd {
            address: remote.address,
            priority: remote.priority,
            foundation: &remote.foundation,
        };
        let id = self.checklist.add(self.role, local, remote_end, None)?;
        self.relay_permit(now, base, remote.address.ip());
        self.checking_since.get_or_insert(now);
        Some(id)
    }

    /// The pair for a check that arrived on `base` from `source`, created (Waiting) if
    /// needed (RFC 8445 section 7.3.1.4).
    pub(super) fn pair_for_incoming(
        &mut self,
        now: Instant,
        base: SocketAddr,
        source: SocketAddr,
    ) -> Option<PairId> {
        if let Some(id) = self.checklist.find_by_path(base, source) {
            return Some(id);
        }
        let remote = self.remote.iter().find(|r| r.address == source)?.clone();
        let (_, priority, foundation) = self.host_ends().into_iter().find(|h| h.0 == base)?;
        self.add_pair(now, base, priority, &foundation, &remote)
    }

    /// Sends the check of this Ta slot, if any.
    pub(super) fn send_next_check(&mut self, now: Instant) {
        if !self.can_send_checks() {
            return;
        }
        if let Some(t) = self.checklist.next_check() {
            self.send_check(now, t);
            self.last_check_at = Some(now);
        }
    }

    fn send_check(&mut self, now: Instant, t: Triggered) {
        let Some(creds) = self.remote_creds.clone() else {
            return;
        };
        let id = self.new_transaction_id();
        let (role, tie_breaker, rto) =
            (self.role, self.tie_breaker, self.config.timing.initial_rto);
        let username = format!("{}:{}", creds.ufrag, self.local_creds.ufrag);
        let Some(pair) = self.checklist.get_mut(t.pair) else {
            return;
        };
        let priority = prflx_priority(pair.local_priority);
        let payload = wire::encode_check(&CheckRequest {
            id,
            username,
            priority,
            role,
            tie_breaker,
            use_candidate: t.use_candidate,
            pwd: &creds.pwd,
        });
        if let Some(old) = pair.transaction.take() {
            // Cancelled (RFC 8445 section 7.2.5.4): no more retransmissions, but a late
            // success still counts.
            if pair.cancelled.len() >= MAX_CANCELLED {
                pair.cancelled.remove(0);
            }
            pair.cancelled.push(old);
        }
        pair.transaction = Some(Transaction {
            id,
            payload: payload.clone(),
            next_at: now + rto,
            rto,
            retransmits: 0,
            use_candidate: t.use_candidate,
            role,
            priority,
        });
        if pair.state != PairState::Succeeded {
            pair.state = PairState::InProgress;
        }
        let (base, remote) = (pair.base, pair.remote);
        self.stats.checks_sent += 1;
        tracing::trace!(%base, %remote, use_candidate = t.use_candidate, "ice: check sent");
        self.send(now, base, remote, payload);
    }

    /// Retransmits or fails every transaction due at `now`.
    pub(super) fn step_transactions(&mut self, now: Instant) {
        let (max, max_rto) = (
            self.config.timing.max_retransmits,
            self.config.timing.max_rto,
        );
        let mut resend = Vec::new();
        let mut failed = Vec::new();
        for p in self.checklist.pairs_mut() {
            let Some(tx) = p.transaction.as_mut() else {
                continue;
            };
            match tx.step(now, max, max_rto) {
                TxStep::Wait => {}
                TxStep::Retransmit => resend.push((p.base, p.remote, tx.payload.clone())),
                TxStep::GiveUp => failed.push(p.id),
            }
        }
        for (base, remote, payload) in resend {
            self.stats.retransmits += 1;
            self.send(now, base, remote, payload);
        }
        for id in failed {
            self.on_check_timeout(id);
        }
        self.step_server_requests(now);
        self.step_consent_transactions(now);
    }

    /// The earliest retransmission deadline of any transaction.
    pub(super) fn next_transaction_deadline(&self) -> Option<Instant> {
        let pairs = self
            .checklist
            .pairs()
            .iter()
            .filter_map(|p| p.transaction.as_ref());
        let servers = self
            .gather
            .requests
            .iter()
            .filter_map(|r| r.transaction.as_ref());
        let consent = self
            .selected
            .iter()
            .chain(self.previous.iter())
            .flat_map(|p| p.transactions.iter());
        pairs.chain(servers).chain(consent).map(|t| t.next_at).min()
    }

    /// A check went unanswered through all its retransmissions.
    ///
    /// A pair that never succeeded fails (RFC 8445 section 7.2.5.4). A pair already in the
    /// valid list keeps its place there: the lost request was a re-check (a nomination with
    /// USE-CANDIDATE, or a triggered re-check), and one unlucky run of losses must not throw
    /// away a path that has carried responses. Its nomination is abandoned so that
    /// [`Self::nominate`] tries again; consent freshness still judges whether the path lives.
    fn on_check_timeout(&mut self, id: PairId) {
        let Some(p) = self.checklist.get_mut(id) else {
            return;
        };
        if !p.valid {
            self.fail_pair(id, "no response");
            return;
        }
        tracing::debug!(local = %p.base, remote = %p.remote, "ice: re-check of a valid pair unanswered");
        p.transaction = None;
        p.state = PairState::Succeeded;
        if self.nominating == Some(id) {
            self.nominating = None;
        }
    }

    pub(super) fn fail_pair(&mut self, id: PairId, why: &str) {
        let Some(p) = self.checklist.get_mut(id) else {
            return;
        };
        tracing::debug!(local = %p.base, remote = %p.remote, why, "ice: check failed");
        p.transaction = None;
        p.cancelled.clear();
        p.state = PairState::Failed;
        p.valid = false;
        self.stats.checks_failed += 1;
        if self.nominating == Some(id) {
            self.nominating = None;
        }
    }

    /// Handles an authenticated response to the check of pair `id` (RFC 8445 7.2.5).
    pub(super) fn on_check_response(
        &mut self,
        now: Instant,
        id: PairId,
        source: SocketAddr,
        destination: SocketAddr,
        msg: &wire::Incoming,
    ) {
        let (class, mapped, txid) = (msg.class, msg.mapped, msg.id);
        let Some(pair) = self.checklist.get_mut(id) else {
            return;
        };
        let tx_id = txid;
        let tx = if pair.transaction.as_ref().is_some_and(|t| t.id == tx_id) {
            pair.transaction.take()
        } else {
            // A response to a cancelled transaction still counts, but only a success
            // (RFC 8445 section 7.2.5.4): the pair's current check carries on.
            let i = pair.cancelled.iter().position(|t| t.id == tx_id);
            let tx = i.map(|i| pair.cancelled.remove(i));
            if class != wire::InClass::Success || source != pair.remote || destination != pair.base
            {
                return;
            }
            tx
        };
        let Some(tx) = tx else { return };
        if source != pair.remote || destination != pair.base {
            // RFC 8445 section 7.2.5.2.1: not symmetric, the check fails.
            self.fail_pair(id, "response from an unexpected address");
            return;
        }
        match class {
            wire::InClass::Success => self.on_check_success(now, id, tx, mapped),
            wire::InClass::Error(487) => self.on_role_conflict_response(id, tx.role),
            _ => self.fail_pair(id, "error response"),
        }
    }

    fn on_check_success(
        &mut self,
        now: Instant,
        id: PairId,
        tx: Transaction,
        mapped: Option<SocketAddr>,
    ) {
        let role = self.role;
        let Some(pair) = self.checklist.get_mut(id) else {
            return;
        };
        pair.state = PairState::Succeeded;
        pair.valid = true;
        if (role == IceRole::Controlling && tx.use_candidate)
            || (role == IceRole::Controlled && pair.nominate_on_success)
        {
            pair.nominated = true;
        }
        let (base, remote, foundation) = (pair.base, pair.remote, pair.foundation.clone());
        self.checklist.unfreeze_foundation(&foundation);
        self.first_valid_at.get_or_insert(now);
        if tx.retransmits == 0
            && let Some(sent) = tx.next_at.checked_sub(tx.rto)
        {
            let rtt = now.saturating_duration_since(sent);
            self.check_rtt = Some(self.check_rtt.map_or(rtt, |best| best.min(rtt)));
        }
        if let Some(mapped) = mapped.filter(|m| *m != base) {
            // The valid pair is represented by this pair (same base and remote); the new
            // address is remembered as a peer-reflexive local candidate.
            self.add_local_peer_reflexive(base, mapped, tx.priority);
        }
        if self.nominating == Some(id) && tx.use_candidate {
            self.nominating = None;
        }
        self.refresh_path(now, base, remote);
        self.select_best_nominated(now);
    }

    fn on_role_conflict_response(&mut self, id: PairId, claimed: IceRole) {
        self.stats.role_conflicts += 1;
        let new_role = match claimed {
            IceRole::Controlling => IceRole::Controlled,
            IceRole::Controlled => IceRole::Controlling,
        };
        if self.config.lite && new_role == IceRole::Controlling {
            self.fail_pair(id, "487 asks a lite agent to control");
            return;
        }
        self.switch_role(new_role);
        if let Some(p) = self.checklist.get_mut(id) {
            p.state = PairState::Waiting;
        }
        if self.nominating == Some(id) {
            self.nominating = None;
        }
        self.checklist.trigger(id, false);
    }

    /// Changes role and recomputes pair priorities (RFC 8445 section 7.3.1.1).
    pub(super) fn switch_role(&mut self, role: IceRole) {
        if self.role == role {
            return;
        }
        tracing::debug!(?role, "ice: role switch");
        self.role = role;
        self.nominating = None;
        self.checklist.reprioritize(role);
        self.emit(IceEvent::RoleChange(role));
    }

    /// Regular nomination (RFC 8445 section 8.1.1): the controlling agent nominates the
    /// best valid pair once no higher-priority pair can still succeed, or once
    /// `nomination_delay` passed since the first valid pair (`deadline_passed`).
    pub(super) fn nominate(&mut self, now: Instant, deadline_passed: bool) {
        if self.role != IceRole::Controlling || !self.can_send_checks() || self.nominating.is_some()
        {
            return;
        }
        if self.checklist.pairs().iter().any(|p| p.nominated) {
            return;
        }
        let pairs = self.checklist.pairs();
        let Some(best) = pairs.iter().position(|p| p.valid) else {
            return;
        };
        let better_pending = pairs[..best].iter().any(|p| p.state != PairState::Failed);
        let waited = deadline_passed
            || self
                .first_valid_at
                .is_some_and(|t| now >= t + self.config.timing.nomination_delay);
        if better_pending && !waited {
            return;
        }
        let id = pairs[best].id;
        self.nominating = Some(id);
        self.checklist.trigger(id, true);
    }

    /// When the controlling agent stops waiting for better pairs.
    pub(super) fn nomination_deadline(&self) -> Option<Instant> {
        if self.role != IceRole::Controlling
            || !self.can_send_checks()
            || self.nominating.is_some()
            || self.checklist.pairs().iter().any(|p| p.nominated)
            || !self.checklist.pairs().iter().any(|p| p.valid)
        {
            return None;
        }
        self.first_valid_at
            .map(|t| t + self.config.timing.nomination_delay)
    }

    /// A controlled agent honours USE-CANDIDATE (RFC 8445 section 7.3.1.5): a valid pair
    /// is nominated at once, otherwise when its triggered check succeeds.
    pub(super) fn on_use_candidate(&mut self, now: Instant, id: PairId) {
        let Some(p) = self.checklist.get_mut(id) else {
            return;
        };
        if p.valid {
            p.nominated = true;
            self.select_best_nominated(now);
        } else {
            p.nominate_on_success = true;
        }
    }

    /// Selects the highest-priority nominated pair, if it is not already selected.
    pub(super) fn select_best_nominated(&mut self, now: Instant) {
        let Some(best) = self
            .checklist
            .pairs()
            .iter()
            .find(|p| p.nominated && p.valid)
        else {
            return;
        };
        let (base, remote) = (best.base, best.remote);
        self.select_path(now, base, remote);
    }

    /// Makes (`base`, `remote`) the selected path, ending any pre-restart path.
    pub(super) fn select_path(&mut self, now: Instant, base: SocketAddr, remote: SocketAddr) {
        if self
            .selected
            .as_ref()
            .is_some_and(|p| p.local == base && p.remote == remote)
        {
            return;
        }
        let jitter = self.consent_jitter();
        self.selected = Some(Path::new(
            now,
            base,
            remote,
            self.local_creds.clone(),
            self.remote_creds.clone(),
            jitter,
        ));
        self.previous = None;
        tracing::debug!(local = %base, %remote, "ice: selected pair");
        self.emit(IceEvent::SelectedPairChanged {
            local: base,
            remote,
        });
    }

    /// Latches `failed` when checking cannot succeed any more: every pair failed after
    /// end-of-candidates, or the checking timeout passed without a selected pair.
    pub(super) fn check_failure(&mut self, now: Instant) {
        if self.failed || self.sending_path().is_some() {
            return;
        }
        // A relayed candidate still on its way (a TURN connection being opened, an
        // allocation in flight) brings new pairs: nothing has failed yet.
        let all_failed = !self.config.lite
            && self.remote_eoc
            && self.remote_creds.is_some()
            && !self.relays.is_gathering()
            && (self.checklist.all_failed()
                || (self.checklist.pairs().is_empty() && !self.sockets.is_empty()));
        let relays_dead = self.config.relay_only && self.relays.all_failed();
        let timed_out = self
            .checking_since
            .is_some_and(|t| now >= t + self.config.timing.checking_timeout);
        if all_failed || timed_out || relays_dead {
            tracing::debug!(all_failed, timed_out, relays_dead, "ice: checking failed");
            self.failed = true;
        }
    }
}
