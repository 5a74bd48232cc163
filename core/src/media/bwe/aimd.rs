//! Rate control of the delay-based estimate (draft-ietf-rmcat-gcc-02 §5.5): increase while
//! the path is not overused, multiplicatively far from the last known capacity and
//! additively near it; on overuse, decrease to a fraction of what was acknowledged; hold
//! while a queue drains.

use super::delay::BandwidthUsage;
use std::time::{Duration, Instant};

/// Fraction of the acknowledged rate the estimate drops to on overuse.
const BETA: f64 = 0.85;
/// Growth per second far from the known capacity.
const MULTIPLICATIVE_GAIN_PER_S: f64 = 0.08;
/// A packet's bits, for the additive increase of about one packet per response time.
const PACKET_BITS: f64 = 1200.0 * 8.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hold,
    Increase,
    Decrease,
}

/// The estimate of the capacity seen at decreases: a running mean and variance of the
/// acknowledged rates (kbit/s) measured at overuse.
#[derive(Debug, Clone, Copy, Default)]
struct LinkCapacity {
    mean_kbps: Option<f64>,
    var: f64,
}

impl LinkCapacity {
    fn update(&mut self, kbps: f64) {
        let mean = self.mean_kbps.map_or(kbps, |m| 0.95 * m + 0.05 * kbps);
        let norm = mean.max(1.0);
        self.var = (0.95 * self.var + 0.05 * (mean - kbps).powi(2) / norm).clamp(0.4, 2.5);
        self.mean_kbps = Some(mean);
    }

    /// Whether `kbps` is within three standard deviations of the capacity.
    fn near(&self, kbps: f64) -> bool {
        self.mean_kbps.is_some_and(|m| {
            let sd = (self.var * m).sqrt();
            kbps <= m + 3.0 * sd && kbps >= m - 3.0 * sd
        })
    }

    fn above(&self, kbps: f64) -> bool {
        self.mean_kbps
            .is_some_and(|m| kbps > m + 3.0 * (self.var * m).sqrt())
    }
}

/// AIMD rate control.
#[derive(Debug, Clone)]
pub(crate) struct AimdControl {
    estimate: f64,
    state: State,
    capacity: LinkCapacity,
    last_change: Option<Instant>,
    min: f64,
    max: f64,
}

impl AimdControl {
    pub fn new(start_bps: u64, min_bps: u64, max_bps: u64) -> Self {
        Self {
            estimate: start_bps as f64,
            state: State::Hold,
            capacity: LinkCapacity::default(),
            last_change: None,
            min: min_bps as f64,
            max: max_bps as f64,
        }
    }

    /// The estimate in bits per second.
    pub fn estimate(&self) -> u64 {
        self.estimate as u64
    }

    /// Sets the estimate (from a probe's result, or a cap).
    pub fn set_estimate(&mut self, bps: u64, now: Instant) {
        self.estimate = (bps as f64).clamp(self.min, self.max);
        self.last_change = Some(now);
    }

    /// One update from the detector. `acked_bps` is what the receiver acknowledged lately
    /// (plus what was sent outside feedback); `rtt` the round trip.
    pub fn update(
        &mut self,
        usage: BandwidthUsage,
        acked_bps: Option<f64>,
        rtt: Duration,
        now: Instant,
    ) {
        let dt = self.last_change.map_or(0.0, |t| {
            now.saturating_duration_since(t).as_secs_f64().min(1.0)
        });
        self.state = match (usage, self.state) {
            (BandwidthUsage::Overusing, _) => State::Decrease,
            (BandwidthUsage::Underusing, _) => State::Hold,
            (BandwidthUsage::Normal, State::Hold | State::Decrease) => State::Increase,
            (BandwidthUsage::Normal, State::Increase) => State::Increase,
        };
        match self.state {
            State::Increase => self.increase(acked_bps, rtt, dt),
            State::Decrease => {
                self.decrease(acked_bps);
                self.state = State::Hold;
            }
            State::Hold => {}
        }
        self.estimate = self.estimate.clamp(self.min, self.max);
        self.last_change = Some(now);
    }

    fn increase(&mut self, acked_bps: Option<f64>, rtt: Duration, dt: f64) {
        if let Some(acked) = acked_bps
            && self.capacity.above(acked / 1000.0)
        {
            // The path got faster than we thought: forget what we knew.
            self.capacity = LinkCapacity::default();
        }
        let grown = if self.capacity.near(self.estimate / 1000.0) {
            let response = rtt.as_secs_f64() + 0.1;
            self.estimate + (PACKET_BITS / response * dt).max(1000.0 * dt)
        } else {
            self.estimate * (1.0 + MULTIPLICATIVE_GAIN_PER_S).powf(dt).max(1.0) + 1000.0 * dt
        };
        // Not far beyond what the path has shown it carries.
        let cap = acked_bps.map_or(f64::MAX, |a| 1.5 * a + 10_000.0);
        self.estimate = self.estimate.max(grown.min(cap));
    }

    fn decrease(&mut self, acked_bps: Option<f64>) {
        let target = acked_bps.map_or(self.estimate * BETA, |a| a * BETA);
        if let Some(a) = acked_bps {
            self.capacity.update(a / 1000.0);
        }
        self.estimate = target.min(self.estimate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    #[test]
    fn normal_grows_overuse_drops_to_beta_of_acked() {
        let mut a = AimdControl::new(1_000_000, 10_000, 50_000_000);
        let mut now = t0();
        for _ in 0..20 {
            now += Duration::from_millis(100);
            a.update(
                BandwidthUsage::Normal,
                Some(1_000_000.0),
                Duration::from_millis(50),
                now,
            );
        }
        let grown = a.estimate();
        assert!(grown > 1_100_000 && grown <= 1_510_000, "{grown}");
        now += Duration::from_millis(100);
        a.update(
            BandwidthUsage::Overusing,
            Some(1_000_000.0),
            Duration::from_millis(50),
            now,
        );
        assert_eq!(a.estimate(), 850_000);
    }
}
