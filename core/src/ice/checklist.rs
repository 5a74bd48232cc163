//! The check list (RFC 8445 section 6.1.2): pair formation, pruning, ordering, the
//! frozen/waiting machinery and the triggered-check queue.
//!
//! rtcpeer runs one data stream per agent (BUNDLE and rtcp-mux), so the check list set
//! has exactly one check list.

use super::events::IceRole;
use super::pair::{CandidatePair, PairId, PairState, pair_priority};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// The local side of a prospective pair.
#[derive(Debug, Clone)]
pub(crate) struct LocalEnd<'a> {
    pub(crate) address: SocketAddr,
    pub(crate) base: SocketAddr,
    pub(crate) priority: u32,
    pub(crate) foundation: &'a str,
}

/// The remote side of a prospective pair.
#[derive(Debug, Clone)]
pub(crate) struct RemoteEnd<'a> {
    pub(crate) address: SocketAddr,
    pub(crate) priority: u32,
    pub(crate) foundation: &'a str,
}

/// A queued triggered check (RFC 8445 section 7.3.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Triggered {
    pub(crate) pair: PairId,
    pub(crate) use_candidate: bool,
}

/// The check list: pairs sorted by priority, highest first.
#[derive(Debug, Clone)]
pub(crate) struct CheckList {
    pairs: Vec<CandidatePair>,
    triggered: VecDeque<Triggered>,
    next_id: u32,
    max_pairs: usize,
}

impl CheckList {
    /// An empty list holding at most `max_pairs` pairs.
    pub(crate) fn new(max_pairs: usize) -> Self {
        CheckList {
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            next_id: 0,
            max_pairs,
        }
    }

    /// All pairs, highest priority first.
    pub(crate) fn pairs(&self) -> &[CandidatePair] {
        &self.pairs
    }

    /// All pairs, mutably (the order must not be changed by the caller).
    pub(crate) fn pairs_mut(&mut self) -> &mut [CandidatePair] {
        &mut self.pairs
    }

    pub(crate) fn get(&self, id: PairId) -> Option<&CandidatePair> {
        self.pairs.iter().find(|p| p.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: PairId) -> Option<&mut CandidatePair> {
        self.pairs.iter_mut().find(|p| p.id == id)
    }

    /// The pair sending from `base` to `remote`, regardless of its local candidate.
    pub(crate) fn find_by_path(&self, base: SocketAddr, remote: SocketAddr) -> Option<PairId> {
        self.pairs
            .iter()
            .find(|p| p.base == base && p.remote == remote && p.local == base)
            .or_else(|| {
                self.pairs
                    .iter()
                    .find(|p| p.base == base && p.remote == remote)
            })
            .map(|p| p.id)
    }

    /// Adds the pair of `local` and `remote` unless it is redundant or impossible.
    ///
    /// Pairs need the same IP family. Redundancy (RFC 8445 section 6.1.2.4): a pair whose
    /// local base and remote address equal an existing pair's is kept only if it has a
    /// higher priority, replacing the other. Over `max_pairs` the lowest-priority idle
    /// pair is evicted, or the new pair refused if it is the lowest. The initial state is
    /// Waiting when no pair of the same foundation is Waiting or In-Progress, else Frozen
    /// (RFC 8445 section 6.1.2.6, RFC 8838 section 11).
    pub(crate) fn add(
        &mut self,
        role: IceRole,
        local: LocalEnd<'_>,
        remote: RemoteEnd<'_>,
        state: Option<PairState>,
    ) -> Option<PairId> {
        if local.base.is_ipv4() != remote.address.is_ipv4() {
            return None;
        }
        let priority = pair_priority(role, local.priority, remote.priority);
        if let Some(existing) = self
            .pairs
            .iter()
            .position(|p| p.base == local.base && p.remote == remote.address)
        {
            if self.pairs[existing].priority >= priority {
                return None;
            }
            self.pairs.remove(existing);
        }
        if self.pairs.len() >= self.max_pairs && !self.evict_below(priority) {
            return None;
        }
        let foundation = format!("{}:{}", local.foundation, remote.foundation);
        let state = state.unwrap_or_else(|| self.initial_state(&foundation));
        let id = PairId(self.next_id);
        self.next_id += 1;
        self.pairs.push(CandidatePair {
            id,
            local: local.address,
            base: local.base,
            remote: remote.address,
            local_priority: local.priority,
            remote_priority: remote.priority,
            foundation,
            priority,
            state,
            valid: false,
            nominated: false,
            nominate_on_success: false,
            transaction: None,
            cancelled: Vec::new(),
        });
        self.sort();
        Some(id)
    }

    fn initial_state(&self, foundation: &str) -> PairState {
        if self.foundation_busy(foundation) {
            PairState::Frozen
        } else {
            PairState::Waiting
        }
    }

    /// Evicts the lowest-priority pair that is neither in progress nor valid, if its
    /// priority is below `priority`. Returns whether room was made.
    fn evict_below(&mut self, priority: u64) -> bool {
        let victim = self
            .pairs
            .iter()
            .enumerate()
            .rev()
            .find(|(_, p)| p.state != PairState::InProgress && !p.valid && !p.nominated)
            .map(|(i, p)| (i, p.priority));
        match victim {
            Some((i, p)) if p < priority => {
                let id = self.pairs[i].id;
                self.pairs.remove(i);
                self.triggered.retain(|t| t.pair != id);
                true
            }
            _ => false,
        }
    }

    /// Restores priority order (stable, so equal priorities keep insertion order).
    pub(crate) fn sort(&mut self) {
        self.pairs.sort_by_key(|p| std::cmp::Reverse(p.priority));
    }

    /// Recomputes every pair priority after a role change.
    pub(crate) fn reprioritize(&mut self, role: IceRole) {
        for p in &mut self.pairs {
            p.reprioritize(role);
        }
        self.sort();
    }

    /// Queues a triggered check on `pair`, once: a later request for the same pair only
    /// upgrades it to carry USE-CANDIDATE.
    pub(crate) fn trigger(&mut self, pair: PairId, use_candidate: bool) {
        if let Some(t) = self.triggered.iter_mut().find(|t| t.pair == pair) {
            t.use_candidate |= use_candidate;
            return;
        }
        // Bounded by the pair count: one entry per pair.
        self.triggered.push_back(Triggered {
            pair,
            use_candidate,
        });
    }

    /// Whether [`CheckList::next_check`] would return a check: something is triggered, a
    /// pair is Waiting, or a Frozen pair's foundation is idle. Exact, so that a pacing
    /// timer armed on it always finds work.
    pub(crate) fn has_work(&self) -> bool {
        !self.triggered.is_empty()
            || self.highest_waiting().is_some()
            || self
                .pairs
                .iter()
                .any(|p| p.state == PairState::Frozen && !self.foundation_busy(&p.foundation))
    }

    fn foundation_busy(&self, foundation: &str) -> bool {
        self.pairs.iter().any(|p| {
            p.foundation == foundation
                && matches!(p.state, PairState::Waiting | PairState::InProgress)
        })
    }

    /// Picks the check for this Ta slot (RFC 8445 section 6.1.4.2): the head of the
    /// triggered queue, else the highest-priority Waiting pair, else after unfreezing
    /// one Frozen pair per idle foundation the highest-priority Waiting pair.
    pub(crate) fn next_check(&mut self) -> Option<Triggered> {
        while let Some(t) = self.triggered.pop_front() {
            if self.get(t.pair).is_some() {
                return Some(t);
            }
        }
        if let Some(id) = self.highest_waiting() {
            return Some(Triggered {
                pair: id,
                use_candidate: false,
            });
        }
        self.unfreeze_idle_foundations();
        self.highest_waiting().map(|id| Triggered {
            pair: id,
            use_candidate: false,
        })
    }

    fn highest_waiting(&self) -> Option<PairId> {
        self.pairs
            .iter()
            .find(|p| p.state == PairState::Waiting && p.transaction.is_none())
            .map(|p| p.id)
    }

    fn unfreeze_idle_foundations(&mut self) {
        for i in 0..self.pairs.len() {
            if self.pairs[i].state == PairState::Frozen
                && !self.foundation_busy(&self.pairs[i].foundation)
            {
                self.pairs[i].state = PairState::Waiting;
            }
        }
    }

    /// Moves every Frozen pair with `foundation` to Waiting (RFC 8445 section 7.2.5.3.3).
    pub(crate) fn unfreeze_foundation(&mut self, foundation: &str) {
        for p in &mut self.pairs {
            if p.state == PairState::Frozen && p.foundation == foundation {
                p.state = PairState::Waiting;
            }
        }
    }

    /// Whether every pair failed (and there is at least one).
    pub(crate) fn all_failed(&self) -> bool {
        !self.pairs.is_empty() && self.pairs.iter().all(|p| p.state == PairState::Failed)
    }

    /// Whether no pair is left to check (none Frozen, Waiting or In-Progress).
    pub(crate) fn is_done(&self) -> bool {
        self.triggered.is_empty()
            && self.pairs.iter().all(|p| {
                matches!(p.state, PairState::Succeeded | PairState::Failed)
                    && p.transaction.is_none()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn local<'a>(a: &str, base: &str, prio: u32, f: &'a str) -> LocalEnd<'a> {
        LocalEnd {
            address: addr(a),
            base: addr(base),
            priority: prio,
            foundation: f,
        }
    }

    fn remote<'a>(a: &str, prio: u32, f: &'a str) -> RemoteEnd<'a> {
        RemoteEnd {
            address: addr(a),
            priority: prio,
            foundation: f,
        }
    }

    const R: IceRole = IceRole::Controlling;

    #[test]
    fn pairs_are_sorted_by_priority() {
        let mut cl = CheckList::new(100);
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.3:1", 300, "b"),
            None,
        );
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.4:1", 200, "c"),
            None,
        );
        let remotes: Vec<_> = cl
            .pairs()
            .iter()
            .map(|p| p.remote.ip().to_string())
            .collect();
        assert_eq!(remotes, ["10.0.0.3", "10.0.0.4", "10.0.0.2"]);
    }

    #[test]
    fn pairs_need_the_same_ip_family() {
        let mut cl = CheckList::new(100);
        let id = cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 1, "1"),
            remote("[2001:db8::1]:1", 1, "a"),
            None,
        );
        assert!(id.is_none());
        assert!(cl.pairs().is_empty());
    }

    #[test]
    fn redundant_pair_with_same_base_keeps_higher_priority() {
        let mut cl = CheckList::new(100);
        // Host pair first, then the server-reflexive candidate of the same base: pruned.
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 2000, "1"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        let srflx = cl.add(
            R,
            local("203.0.113.1:9", "10.0.0.1:1", 1000, "2"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        assert!(srflx.is_none());
        assert_eq!(cl.pairs().len(), 1);
        // A higher-priority pair on the same path replaces the lower one.
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 3000, "3"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        assert_eq!(cl.pairs().len(), 1);
        assert_eq!(cl.pairs()[0].local_priority, 3000);
    }

    #[test]
    fn one_pair_per_foundation_starts_waiting() {
        let mut cl = CheckList::new(100);
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:2", 90, "a"),
            None,
        );
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.3:1", 80, "b"),
            None,
        );
        let states: Vec<_> = cl.pairs().iter().map(|p| p.state).collect();
        assert_eq!(
            states,
            [PairState::Waiting, PairState::Frozen, PairState::Waiting]
        );
        cl.unfreeze_foundation("1:a");
        assert_eq!(cl.pairs()[1].state, PairState::Waiting);
    }

    #[test]
    fn triggered_checks_come_before_ordinary_ones() {
        let mut cl = CheckList::new(100);
        let hi = cl
            .add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:1", 200, "a"),
                None,
            )
            .unwrap();
        let lo = cl
            .add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.3:1", 100, "b"),
                None,
            )
            .unwrap();
        cl.trigger(lo, false);
        cl.trigger(lo, true);
        assert_eq!(
            cl.next_check(),
            Some(Triggered {
                pair: lo,
                use_candidate: true
            })
        );
        assert_eq!(cl.next_check().map(|t| t.pair), Some(hi));
    }

    #[test]
    fn frozen_pairs_are_unfrozen_when_nothing_waits() {
        let mut cl = CheckList::new(100);
        let a = cl
            .add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:1", 100, "a"),
                None,
            )
            .unwrap();
        let b = cl
            .add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:2", 90, "a"),
                None,
            )
            .unwrap();
        cl.get_mut(a).unwrap().state = PairState::Failed;
        assert_eq!(cl.next_check().map(|t| t.pair), Some(b));
    }

    #[test]
    fn frozen_pair_behind_a_busy_foundation_is_no_work() {
        let mut cl = CheckList::new(100);
        let a = cl
            .add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:1", 100, "a"),
                None,
            )
            .unwrap();
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:2", 90, "a"),
            None,
        );
        assert!(cl.has_work());
        cl.get_mut(a).unwrap().state = PairState::InProgress;
        assert!(!cl.has_work());
        assert_eq!(cl.next_check(), None);
        cl.get_mut(a).unwrap().state = PairState::Failed;
        assert!(cl.has_work());
    }

    #[test]
    fn pair_count_is_bounded_by_evicting_the_lowest() {
        let mut cl = CheckList::new(2);
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:1", 100, "a"),
            None,
        );
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
            remote("10.0.0.2:2", 200, "a"),
            None,
        );
        // Lower than everything: refused.
        assert!(
            cl.add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:3", 50, "a"),
                None
            )
            .is_none()
        );
        // Higher: evicts the lowest.
        assert!(
            cl.add(
                R,
                local("10.0.0.1:1", "10.0.0.1:1", 100, "1"),
                remote("10.0.0.2:4", 300, "a"),
                None
            )
            .is_some()
        );
        let ports: Vec<_> = cl.pairs().iter().map(|p| p.remote.port()).collect();
        assert_eq!(ports, [4, 2]);
    }

    #[test]
    fn role_change_reorders_pairs() {
        let mut cl = CheckList::new(10);
        cl.add(
            R,
            local("10.0.0.1:1", "10.0.0.1:1", 10, "1"),
            remote("10.0.0.2:1", 20, "a"),
            None,
        );
        let before = cl.pairs()[0].priority;
        cl.reprioritize(IceRole::Controlled);
        assert_ne!(cl.pairs()[0].priority, before);
        assert_eq!(
            cl.pairs()[0].priority,
            pair_priority(IceRole::Controlled, 10, 20)
        );
    }
}
