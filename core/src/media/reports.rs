//! When RTCP reports go out (RFC 3550 §6.2, simplified for a two-party session): about once
//! a second, each interval drawn from 0.5 to 1.5 times the nominal one so that reports of
//! many connections do not synchronise.

use crate::rng::Rng;
use std::time::{Duration, Instant};

/// The nominal interval between compound reports. Browsers report about once a second for
/// video; a fixed second keeps RTT and loss figures fresh for audio too.
pub(crate) const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// The report schedule of one connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportTimer {
    next: Option<Instant>,
}

impl ReportTimer {
    /// Starts the schedule at `now` (the first report half an interval later), unless running.
    pub fn start(&mut self, now: Instant, rng: &mut Rng) {
        if self.next.is_none() {
            self.next = Some(now + REPORT_INTERVAL / 2 + jitter(rng));
        }
    }

    /// When the next report is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a report is due at `now`; if so the next one is scheduled.
    pub fn poll_due(&mut self, now: Instant, rng: &mut Rng) -> bool {
        match self.next {
            Some(at) if at <= now => {
                self.next = Some(now + REPORT_INTERVAL / 2 + jitter(rng));
                true
            }
            _ => false,
        }
    }
}

/// Uniform in `0..REPORT_INTERVAL`, so the interval is 0.5 to 1.5 times the nominal one.
fn jitter(rng: &mut Rng) -> Duration {
    Duration::from_micros(rng.below(REPORT_INTERVAL.as_micros() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)]
    fn intervals_stay_within_half_and_one_and_a_half_seconds() {
        let mut rng = Rng::from_u64(3);
        let mut t = ReportTimer::default();
        let mut now = Instant::now();
        t.start(now, &mut rng);
        for _ in 0..100 {
            let at = t.deadline().unwrap();
            let gap = at - now;
            assert!(
                gap >= REPORT_INTERVAL / 2 && gap < REPORT_INTERVAL * 3 / 2,
                "{gap:?}"
            );
            assert!(!t.poll_due(at - Duration::from_millis(1), &mut rng));
            assert!(t.poll_due(at, &mut rng));
            now = at;
        }
    }
}
