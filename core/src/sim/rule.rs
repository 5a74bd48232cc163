//! Rules: drop, delay, rewrite or just count chosen datagrams.
//!
//! A rule is a predicate over a datagram as its sender handed it to the network (virtual
//! time, source, destination, payload) and an action. Rules are checked in the order they
//! were added, right after the sender's source address is validated and before the
//! datagram enters the sender's link. A [`Action::Drop`] or [`Action::Delay`] ends the
//! checking; [`Action::Rewrite`] and [`Action::Count`] let later rules see the datagram too.

use crate::transmit::Transmit;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A datagram as a rule's predicate sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Datagram<'a> {
    /// The node that sent it.
    pub sender: super::NodeId,
    /// Virtual time now.
    pub now: Instant,
    /// Virtual time since the simulation started.
    pub elapsed: Duration,
    /// Source address as sent.
    pub source: SocketAddr,
    /// Destination address as sent.
    pub destination: SocketAddr,
    /// The bytes.
    pub payload: &'a [u8],
}

/// What a rule does to the datagrams it applies to.
#[non_exhaustive]
pub enum Action {
    /// Drop it (recorded with [`super::DropReason::Rule`]).
    Drop,
    /// Hold it back this long before it enters the sender's link.
    Delay(Duration),
    /// Change it: payload, and even addresses (a rewritten source is not re-validated, so
    /// this can forge datagrams on purpose).
    Rewrite(Box<dyn FnMut(&mut Transmit)>),
    /// Only count it (see [`super::Sim::rule_hits`]).
    Count,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Drop => f.write_str("Drop"),
            Self::Delay(d) => write!(f, "Delay({d:?})"),
            Self::Rewrite(_) => f.write_str("Rewrite(..)"),
            Self::Count => f.write_str("Count"),
        }
    }
}

/// A predicate plus an action, optionally skipping the first matches and limited to a
/// number of applications.
///
/// ```
/// # use rtcpeer::sim::{Action, Rule};
/// # let (a, b): (std::net::SocketAddr, std::net::SocketAddr) =
/// #     ("10.0.0.1:1".parse().unwrap(), "10.0.0.2:2".parse().unwrap());
/// // Drop the third datagram from a to b, and only that one.
/// let rule = Rule::new(move |d| d.source == a && d.destination == b, Action::Drop)
///     .skip(2)
///     .limit(1);
/// # let _ = rule;
/// ```
pub struct Rule {
    pub(crate) predicate: Box<dyn FnMut(&Datagram<'_>) -> bool>,
    pub(crate) action: Action,
    pub(crate) skip: u64,
    pub(crate) limit: Option<u64>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("action", &self.action)
            .field("skip", &self.skip)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// A rule applying `action` to every datagram for which `predicate` is true.
    pub fn new(predicate: impl FnMut(&Datagram<'_>) -> bool + 'static, action: Action) -> Self {
        Self {
            predicate: Box::new(predicate),
            action,
            skip: 0,
            limit: None,
        }
    }

    /// A rule that drops every datagram matching `predicate`.
    pub fn drop(predicate: impl FnMut(&Datagram<'_>) -> bool + 'static) -> Self {
        Self::new(predicate, Action::Drop)
    }

    /// A rule that delays every datagram matching `predicate` by `delay`.
    pub fn delay(predicate: impl FnMut(&Datagram<'_>) -> bool + 'static, delay: Duration) -> Self {
        Self::new(predicate, Action::Delay(delay))
    }

    /// A rule that passes every datagram matching `predicate` through `rewrite`.
    pub fn rewrite(
        predicate: impl FnMut(&Datagram<'_>) -> bool + 'static,
        rewrite: impl FnMut(&mut Transmit) + 'static,
    ) -> Self {
        Self::new(predicate, Action::Rewrite(Box::new(rewrite)))
    }

    /// A rule that only counts datagrams matching `predicate`.
    pub fn count(predicate: impl FnMut(&Datagram<'_>) -> bool + 'static) -> Self {
        Self::new(predicate, Action::Count)
    }

    /// Lets the first `n` matching datagrams pass untouched (they still count as matches).
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Applies the action to at most `n` datagrams (after the skipped ones); then the rule
    /// is spent.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
}

/// A rule installed in a simulation, with its counters.
#[derive(Debug)]
pub(crate) struct RuleSlot {
    pub(crate) rule: Rule,
    /// Datagrams the predicate matched.
    pub(crate) matches: u64,
    /// Datagrams the action was applied to.
    pub(crate) applied: u64,
}

impl RuleSlot {
    /// Whether the rule can still apply its action.
    pub(crate) fn spent(&self) -> bool {
        self.rule.limit.is_some_and(|l| self.applied >= l)
    }

    /// Runs the predicate; returns whether the action must be applied to this datagram.
    pub(crate) fn check(&mut self, datagram: &Datagram<'_>) -> bool {
        if self.spent() || !(self.rule.predicate)(datagram) {
            return false;
        }
        self.matches += 1;
        if self.matches <= self.rule.skip {
            return false;
        }
        self.applied += 1;
        true
    }
}

/// True for a datagram whose payload starts a DTLS record (content types 20-63, RFC 7983).
pub fn is_dtls(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| (20..=63).contains(b))
}

/// True for a datagram whose payload looks like STUN (first byte 0-3, RFC 7983).
pub fn is_stun(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| *b <= 3)
}
