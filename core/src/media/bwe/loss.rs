//! The loss-based bound of the estimate (draft-ietf-rmcat-gcc-02 §6): losses above 10 %
//! lower it in proportion, below 2 % it grows; in between it holds.

use std::time::{Duration, Instant};

/// Loss fraction above which the bound drops.
const HIGH_LOSS: f64 = 0.10;
/// Loss fraction below which the bound grows.
const LOW_LOSS: f64 = 0.02;
/// Packets counted before a loss fraction is trusted.
const MIN_PACKETS: u32 = 20;
/// Span over which the loss fraction is measured.
const INTERVAL: Duration = Duration::from_millis(500);

/// The bound and the counts of the current interval.
#[derive(Debug, Clone)]
pub(crate) struct LossBound {
    bound: f64,
    received: u32,
    lost: u32,
    interval_start: Option<Instant>,
    last_decrease: Option<Instant>,
    /// The last loss fraction measured.
    pub last_loss: f64,
    max: f64,
}

impl LossBound {
    pub fn new(max_bps: u64) -> Self {
        Self {
            bound: max_bps as f64,
            received: 0,
            lost: 0,
            interval_start: None,
            last_decrease: None,
            last_loss: 0.0,
            max: max_bps as f64,
        }
    }

    /// The bound in bits per second.
    pub fn bound(&self) -> f64 {
        self.bound
    }

    /// Counts one reported packet.
    pub fn on_packet(&mut self, received: bool, now: Instant) {
        self.interval_start.get_or_insert(now);
        if received {
            self.received += 1;
        } else {
            self.lost += 1;
        }
    }

    /// Closes the interval when due; `current` is the estimate now (the bound never drops
    /// from above it), `rtt` spaces decreases.
    pub fn update(&mut self, now: Instant, current: f64, rtt: Duration) {
        let Some(start) = self.interval_start else {
            return;
        };
        let total = self.received + self.lost;
        if now.saturating_duration_since(start) < INTERVAL || total < MIN_PACKETS {
            return;
        }
        let loss = f64::from(self.lost) / f64::from(total);
        self.last_loss = loss;
        let elapsed = now.saturating_duration_since(start).as_secs_f64();
        if loss > HIGH_LOSS {
            let spaced = self.last_decrease.is_none_or(|t| {
                now.saturating_duration_since(t) >= Duration::from_millis(300) + rtt
            });
            if spaced {
                self.bound = self.bound.min(current) * (1.0 - 0.5 * loss);
                self.last_decrease = Some(now);
            }
        } else if loss < LOW_LOSS {
            // Grow by 8 % a second, and never hold the estimate below itself.
            self.bound = (self.bound * 1.08f64.powf(elapsed))
                .max(current * 1.08)
                .min(self.max);
        }
        self.received = 0;
        self.lost = 0;
        self.interval_start = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    #[test]
    fn twenty_percent_loss_cuts_the_bound_by_ten_percent() {
        let mut l = LossBound::new(10_000_000);
        let now = t0();
        for i in 0..100 {
            l.on_packet(i % 5 != 0, now);
        }
        l.update(now + INTERVAL, 1_000_000.0, Duration::from_millis(50));
        assert!((l.bound() - 900_000.0).abs() < 1.0, "{}", l.bound());
        assert!((l.last_loss - 0.2).abs() < 1e-9);
    }
}
