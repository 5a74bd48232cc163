//! Running a simulation: single steps and bounded runs.

use super::engine::EventKind;
use super::simulator::Sim;
use super::{NetworkId, SimError};
use crate::transmit::Transmit;
use std::time::{Duration, Instant};

/// Running.
impl Sim {
    /// The virtual time of the next event, if any.
    pub fn next_event_time(&self) -> Option<Instant> {
        self.queue.peek().map(|e| e.at)
    }

    /// Runs the next event, jumping the clock to its time. Returns that time, or `None`
    /// when nothing is left to do (the clock stays put).
    ///
    /// Fails with [`SimError::Livelock`] (without running the event) once more than
    /// [`SimConfig::livelock_events`](super::SimConfig::livelock_events) events (datagrams
    /// sent count as events too) have run at the same virtual instant; the simulation stays usable but further steps at that
    /// instant fail the same way.
    pub fn step(&mut self) -> Result<Option<Instant>, SimError> {
        let Some(at) = self.next_event_time() else {
            return Ok(None);
        };
        if at > self.now {
            self.now = at;
            self.events_at_now = 0;
        }
        if self.events_at_now >= self.config.livelock_events {
            return Err(SimError::Livelock {
                elapsed: self.elapsed(),
                events: self.events_at_now,
            });
        }
        self.events_at_now += 1;
        let event = self.queue.pop().expect("peeked just above");
        self.dispatch(event.kind);
        Ok(Some(at))
    }

    /// Runs every event up to and including `deadline`, then sets the clock to
    /// `deadline` (if it is in the future). Fails with [`SimError::StepLimit`] after
    /// `max_steps` events, or on livelock.
    pub fn run_until(&mut self, deadline: Instant, max_steps: u64) -> Result<u64, SimError> {
        let mut steps = 0;
        while self.next_event_time().is_some_and(|t| t <= deadline) {
            if steps >= max_steps {
                return Err(self.step_limit(max_steps));
            }
            self.step()?;
            steps += 1;
        }
        self.advance_to(deadline);
        Ok(steps)
    }

    /// Runs until `done` returns true (checked before the first event and after every
    /// event). Fails with [`SimError::Deadline`] if virtual time would pass `deadline`
    /// first (the clock is then at `deadline`), with [`SimError::StepLimit`] after
    /// `max_steps` events, or on livelock. Returns the number of events run.
    pub fn run_until_with(
        &mut self,
        mut done: impl FnMut(&Sim) -> bool,
        deadline: Instant,
        max_steps: u64,
    ) -> Result<u64, SimError> {
        let mut steps = 0;
        while !done(self) {
            if self.next_event_time().is_none_or(|t| t > deadline) {
                self.advance_to(deadline);
                return Err(SimError::Deadline {
                    elapsed: self.elapsed(),
                });
            }
            if steps >= max_steps {
                return Err(self.step_limit(max_steps));
            }
            self.step()?;
            steps += 1;
        }
        Ok(steps)
    }

    /// Runs for `duration` of virtual time with the configured step budget
    /// ([`SimConfig::max_steps`](super::SimConfig::max_steps)).
    pub fn run_for(&mut self, duration: Duration) -> Result<u64, SimError> {
        let deadline = self.now + duration;
        self.run_until(deadline, self.config.max_steps)
    }

    /// Runs until `done` returns true, for at most `timeout` of virtual time, with the
    /// configured step budget. See [`Sim::run_until_with`].
    pub fn run_until_condition(
        &mut self,
        done: impl FnMut(&Sim) -> bool,
        timeout: Duration,
    ) -> Result<u64, SimError> {
        let deadline = self.now + timeout;
        self.run_until_with(done, deadline, self.config.max_steps)
    }

    /// Puts a datagram on `network` at the current virtual time as if it arrived from
    /// outside the model: no source check, no rules, no sender link; it is routed from
    /// there like any other. Useful to forge traffic in tests.
    pub fn inject(&mut self, network: NetworkId, transmit: Transmit) -> Result<(), SimError> {
        if network.0 >= self.networks.len() {
            return Err(SimError::UnknownNetwork(network));
        }
        self.inject_packet(network, transmit);
        Ok(())
    }

    /// Re-collects output from node `id` at the current time (after commanding it through
    /// some path other than [`Sim::node_mut`]).
    pub fn poke(&mut self, id: super::NodeId) -> Result<(), SimError> {
        self.slot(id)?;
        self.push(self.now, EventKind::Poke(id));
        Ok(())
    }

    fn advance_to(&mut self, deadline: Instant) {
        if deadline > self.now {
            self.now = deadline;
            self.events_at_now = 0;
        }
    }

    fn step_limit(&self, steps: u64) -> SimError {
        SimError::StepLimit {
            steps,
            elapsed: self.elapsed(),
        }
    }
}
