//! Candidate pairs, their states and priorities (RFC 8445 sections 6.1.2 and 6.1.2.3),
//! and the STUN transactions that check them.

use super::events::IceRole;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Identifies a pair for as long as it is in the check list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PairId(pub(crate) u32);

/// The state of a candidate pair (RFC 8445 section 6.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PairState {
    /// Waits for a pair with the same foundation to succeed.
    Frozen,
    /// Will be checked when its turn comes.
    Waiting,
    /// A check is outstanding.
    InProgress,
    /// A check succeeded.
    Succeeded,
    /// The check failed (timeout, error response or asymmetric response).
    Failed,
}

/// RFC 8445 section 6.1.2.3: `2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)` where G is the
/// controlling agent's candidate priority and D the controlled agent's.
pub fn pair_priority(role: IceRole, local: u32, remote: u32) -> u64 {
    let (g, d) = match role {
        IceRole::Controlling => (u64::from(local), u64::from(remote)),
        IceRole::Controlled => (u64::from(remote), u64::from(local)),
    };
    (g.min(d) << 32) + 2 * g.max(d) + u64::from(g > d)
}

/// An outstanding STUN request, retransmitted with exponential backoff (RFC 8489
/// section 6.2.1) until answered or out of attempts.
#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    pub(crate) id: [u8; 12],
    /// The exact bytes of the request; retransmissions resend them unchanged.
    pub(crate) payload: Vec<u8>,
    /// Where the next retransmission (or the give-up) is due.
    pub(crate) next_at: Instant,
    pub(crate) rto: Duration,
    pub(crate) retransmits: u32,
    /// The request carried USE-CANDIDATE.
    pub(crate) use_candidate: bool,
    /// The role we claimed in the request.
    pub(crate) role: IceRole,
    /// The PRIORITY attribute we sent (the priority of a peer-reflexive local candidate).
    pub(crate) priority: u32,
}

/// What a transaction wants at a given moment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TxStep {
    /// Nothing due yet.
    Wait,
    /// Send `payload` again.
    Retransmit,
    /// Out of attempts: the transaction failed.
    GiveUp,
}

impl Transaction {
    /// Advances the retransmission schedule at `now`.
    pub(crate) fn step(&mut self, now: Instant, max_retransmits: u32, max_rto: Duration) -> TxStep {
        if now < self.next_at {
            return TxStep::Wait;
        }
        if self.retransmits >= max_retransmits {
            return TxStep::GiveUp;
        }
        self.retransmits += 1;
        self.rto = (self.rto * 2).min(max_rto);
        self.next_at = now + self.rto;
        TxStep::Retransmit
    }
}

/// One local/remote candidate pair of the check list.
#[derive(Debug, Clone)]
pub(crate) struct CandidatePair {
    pub(crate) id: PairId,
    /// The local candidate's address (host, or a peer-reflexive address for valid pairs).
    pub(crate) local: SocketAddr,
    /// The local socket checks and data leave from (the local candidate's base).
    pub(crate) base: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) local_priority: u32,
    pub(crate) remote_priority: u32,
    /// Local foundation and remote foundation joined.
    pub(crate) foundation: String,
    pub(crate) priority: u64,
    pub(crate) state: PairState,
    /// In the valid list (RFC 8445 section 7.2.5.3.2).
    pub(crate) valid: bool,
    /// Nominated (RFC 8445 section 8.1.1).
    pub(crate) nominated: bool,
    /// Controlled: a USE-CANDIDATE arrived before the pair succeeded; nominate on success.
    pub(crate) nominate_on_success: bool,
    pub(crate) transaction: Option<Transaction>,
    /// Transactions replaced by a triggered check: not retransmitted, responses accepted.
    pub(crate) cancelled: Vec<Transaction>,
}

impl CandidatePair {
    /// Recomputes the pair priority for `role`.
    pub(crate) fn reprioritize(&mut self, role: IceRole) {
        self.priority = pair_priority(role, self.local_priority, self.remote_priority);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_priority_follows_rfc_8445_formula() {
        let (l, r) = (2130706431u32, 1694498815u32);
        let p = pair_priority(IceRole::Controlling, l, r);
        assert_eq!(p, (u64::from(r) << 32) + 2 * u64::from(l) + 1);
        let q = pair_priority(IceRole::Controlled, l, r);
        assert_eq!(q, (u64::from(r) << 32) + 2 * u64::from(l));
    }

    #[test]
    fn both_agents_compute_the_same_pair_priority() {
        let (a, b) = (2130706431u32, 1862270975u32);
        assert_eq!(
            pair_priority(IceRole::Controlling, a, b),
            pair_priority(IceRole::Controlled, b, a)
        );
    }

    #[test]
    fn transaction_backs_off_then_gives_up() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut tx = Transaction {
            id: [0; 12],
            payload: vec![],
            next_at: t0 + ms(250),
            rto: ms(250),
            retransmits: 0,
            use_candidate: false,
            role: IceRole::Controlling,
            priority: 0,
        };
        assert_eq!(tx.step(t0 + ms(100), 2, ms(400)), TxStep::Wait);
        assert_eq!(tx.step(t0 + ms(250), 2, ms(400)), TxStep::Retransmit);
        assert_eq!(tx.next_at, t0 + ms(650));
        assert_eq!(tx.step(t0 + ms(650), 2, ms(400)), TxStep::Retransmit);
        assert_eq!(tx.next_at, t0 + ms(1050));
        assert_eq!(tx.step(t0 + ms(1050), 2, ms(400)), TxStep::GiveUp);
    }
}
