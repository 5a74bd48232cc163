//! The agent's timers: an enum indexing a small array of deadlines.
//!
//! The next timeout is the earliest armed deadline. Deadlines are recomputed from the
//! agent's state after every input, so firing early or twice is harmless.

use std::time::Instant;

/// One kind of deadline the agent keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The next Ta slot for a connectivity check (RFC 8445 section 6.1.4.2).
    Pacing,
    /// The earliest retransmission or give-up of an outstanding transaction.
    Transaction,
    /// The next consent freshness check (RFC 7675).
    Consent,
    /// The next keepalive (RFC 8445 section 11).
    Keepalive,
    /// When the controlling agent stops waiting for better pairs and nominates.
    Nomination,
    /// When the selected pair counts as disconnected, or consent is lost.
    Liveness,
    /// The overall checking deadline.
    Checking,
    /// Re-evaluate the gathering state.
    Gathering,
    /// The earliest TURN client deadline (retransmission, refresh).
    Relay,
}

impl Timer {
    const ALL: [Timer; 9] = [
        Timer::Pacing,
        Timer::Transaction,
        Timer::Consent,
        Timer::Keepalive,
        Timer::Nomination,
        Timer::Liveness,
        Timer::Checking,
        Timer::Gathering,
        Timer::Relay,
    ];
}

/// The deadlines, one slot per [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers {
    slots: [Option<Instant>; Timer::ALL.len()],
}

impl Timers {
    /// Arms (or with `None` disarms) `timer`.
    pub(crate) fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.slots[timer as usize] = at;
    }

    /// The deadline of `timer`.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.slots[timer as usize]
    }

    /// Whether `timer` is armed and due at `now`.
    pub(crate) fn is_due(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.slots.iter().flatten().min().copied()
    }

    /// Disarms every timer.
    pub(crate) fn clear(&mut self) {
        self.slots = Default::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn next_is_the_earliest_armed_deadline() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Consent, Some(t0 + Duration::from_secs(5)));
        t.set(Timer::Pacing, Some(t0 + Duration::from_millis(50)));
        assert_eq!(t.next(), Some(t0 + Duration::from_millis(50)));
        assert!(t.is_due(Timer::Pacing, t0 + Duration::from_millis(50)));
        assert!(!t.is_due(Timer::Consent, t0 + Duration::from_millis(50)));
        t.set(Timer::Pacing, None);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(5)));
        t.clear();
        assert_eq!(t.next(), None);
    }
}
