//! Association timers: a small array of deadlines indexed by [`Timer`]; the next timeout is
//! the earliest one. Firing early is harmless: only expired timers act.

use std::time::Instant;

/// The timers of one association.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// T1-init / T1-cookie: INIT or COOKIE ECHO retransmission.
    T1 = 0,
    /// T2-shutdown.
    T2 = 1,
    /// T3-rtx: DATA retransmission.
    T3 = 2,
    /// Delayed SACK.
    DelayedAck = 3,
    /// Heartbeat.
    Heartbeat = 4,
    /// RE-CONFIG request retransmission.
    Reconfig = 5,
}

const COUNT: usize = 6;

/// Deadlines per timer.
#[derive(Debug, Default, Clone)]
pub(crate) struct Timers {
    at: [Option<Instant>; COUNT],
}

impl Timers {
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.at[t as usize] = Some(at);
    }

    pub(crate) fn stop(&mut self, t: Timer) {
        self.at[t as usize] = None;
    }

    pub(crate) fn is_set(&self, t: Timer) -> bool {
        self.at[t as usize].is_some()
    }

    /// Clears and returns whether `t` has expired at `now`.
    pub(crate) fn take_expired(&mut self, t: Timer, now: Instant) -> bool {
        match self.at[t as usize] {
            Some(at) if at <= now => {
                self.at[t as usize] = None;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    pub(crate) fn clear(&mut self) {
        self.at = [None; COUNT];
    }
}
