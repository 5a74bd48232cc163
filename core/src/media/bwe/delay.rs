//! The delay-based half of the estimator: packets are grouped by send time into bursts,
//! the change of one-way delay between consecutive groups is accumulated and smoothed, and
//! the trend of that delay over the last groups (a least-squares slope) is compared with an
//! adaptive threshold (the overuse detector of draft-ietf-rmcat-gcc-02 §5, with the
//! trendline filter libwebrtc uses in place of the Kalman filter).
//!
//! Both estimators share it: the send-side one gives our own send times and the arrival
//! times transport-cc feedback reports; the receive-side one ([`super::remote`]) gives the
//! sender's abs-send-time or RTP timestamp and our arrival times. Times are microseconds
//! on each side's own clock: only differences count.

use std::collections::VecDeque;

/// Packets sent within this span (µs) of a group's first packet belong to the group.
const GROUP_SPAN_US: i64 = 5_000;
/// Groups in the trend's window.
const WINDOW: usize = 20;
/// Weight of the old value in the exponential smoothing of the accumulated delay.
const SMOOTHING: f64 = 0.9;
/// Gain that turns the slope into the detector's input.
const THRESHOLD_GAIN: f64 = 4.0;
/// The adaptive threshold's start, bounds and speeds (ms; per ms of time).
const THRESHOLD_START: f64 = 12.5;
const THRESHOLD_MIN: f64 = 6.0;
const THRESHOLD_MAX: f64 = 600.0;
const K_UP: f64 = 0.0087;
const K_DOWN: f64 = 0.039;
/// How long the trend must stay over the threshold before it counts as overuse.
const OVERUSE_TIME_MS: f64 = 10.0;

/// What the detector concludes of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandwidthUsage {
    /// Delay is steady: there is room.
    #[default]
    Normal,
    /// Delay grows: a queue is building.
    Overusing,
    /// Delay shrinks: a queue is draining.
    Underusing,
}

/// A burst of packets sent close together.
#[derive(Debug, Clone, Copy)]
struct Group {
    first_send_us: i64,
    last_send_us: i64,
    last_arrival_us: i64,
}

/// Groups packets and computes the delay change between consecutive groups.
#[derive(Debug, Clone, Default)]
struct InterArrival {
    current: Option<Group>,
    previous: Option<Group>,
}

/// The delay change between two groups, and when the later one arrived.
#[derive(Debug, Clone, Copy)]
struct GroupDelta {
    /// Arrival delta minus send delta, in ms.
    delay_change_ms: f64,
    arrival_us: i64,
}

impl InterArrival {
    /// Adds a received packet (in feedback order); returns the delta when it closes a group.
    fn add(&mut self, send_us: i64, arrival_us: i64) -> Option<GroupDelta> {
        let fresh = Group {
            first_send_us: send_us,
            last_send_us: send_us,
            last_arrival_us: arrival_us,
        };
        let Some(cur) = self.current.as_mut() else {
            self.current = Some(fresh);
            return None;
        };
        if send_us < cur.first_send_us {
            // Reordered behind its group: ignore.
            return None;
        }
        if send_us.saturating_sub(cur.first_send_us) <= GROUP_SPAN_US {
            cur.last_send_us = cur.last_send_us.max(send_us);
            cur.last_arrival_us = cur.last_arrival_us.max(arrival_us);
            return None;
        }
        let closed = *cur;
        self.current = Some(fresh);
        let delta = self.previous.map(|prev| {
            let send_ms = closed.last_send_us.saturating_sub(prev.last_send_us) as f64 / 1e3;
            let arrival_ms =
                closed.last_arrival_us.saturating_sub(prev.last_arrival_us) as f64 / 1e3;
            GroupDelta {
                delay_change_ms: arrival_ms - send_ms,
                arrival_us: closed.last_arrival_us,
            }
        });
        self.previous = Some(closed);
        delta
    }
}

/// Delay trend and overuse detection.
#[derive(Debug, Clone)]
pub(crate) struct DelayDetector {
    inter_arrival: InterArrival,
    first_arrival_us: Option<i64>,
    accumulated_ms: f64,
    smoothed_ms: f64,
    /// (arrival ms since the first, smoothed accumulated delay ms)
    window: VecDeque<(f64, f64)>,
    deltas_seen: u32,
    threshold: f64,
    last_update_ms: Option<f64>,
    previous_trend: f64,
    overuse_ms: f64,
    overuse_count: u32,
    usage: BandwidthUsage,
    /// The last trend value (ms of modified slope), for traces and tests.
    pub trend: f64,
}

impl Default for DelayDetector {
    fn default() -> Self {
        Self {
            inter_arrival: InterArrival::default(),
            first_arrival_us: None,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            window: VecDeque::with_capacity(WINDOW),
            deltas_seen: 0,
            threshold: THRESHOLD_START,
            last_update_ms: None,
            previous_trend: 0.0,
            overuse_ms: -1.0,
            overuse_count: 0,
            usage: BandwidthUsage::Normal,
            trend: 0.0,
        }
    }
}

impl DelayDetector {
    /// The conclusion so far.
    pub fn usage(&self) -> BandwidthUsage {
        self.usage
    }

    /// Adds one received packet (in feedback or arrival order): when it was sent, by the
    /// sender's clock, and when it arrived, by the receiver's, both in microseconds.
    pub fn add(&mut self, send_us: i64, arrival_us: i64) {
        if let Some(delta) = self.inter_arrival.add(send_us, arrival_us) {
            self.update(delta);
        }
    }

    fn update(&mut self, delta: GroupDelta) {
        let first = *self.first_arrival_us.get_or_insert(delta.arrival_us);
        let arrival_ms = delta.arrival_us.saturating_sub(first) as f64 / 1e3;
        self.deltas_seen = self.deltas_seen.saturating_add(1);
        // A delay change beyond a second is a clock jump or a stall: clamp it.
        self.accumulated_ms += delta.delay_change_ms.clamp(-1000.0, 1000.0);
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back((arrival_ms, self.smoothed_ms));
        if self.window.len() == WINDOW
            && let Some(slope) = slope(&self.window)
        {
            self.trend = slope;
        }
        self.detect(arrival_ms, delta.delay_change_ms);
    }

    fn detect(&mut self, now_ms: f64, group_delta_ms: f64) {
        let modified = f64::from(self.deltas_seen.min(60)) * self.trend * THRESHOLD_GAIN;
        if modified > self.threshold {
            if self.overuse_ms < 0.0 {
                self.overuse_ms = group_delta_ms.max(0.0) / 2.0;
            } else {
                self.overuse_ms += group_delta_ms.max(0.0);
            }
            self.overuse_count += 1;
            if self.overuse_ms > OVERUSE_TIME_MS
                && self.overuse_count > 1
                && self.trend >= self.previous_trend
            {
                self.overuse_ms = 0.0;
                self.overuse_count = 0;
                self.usage = BandwidthUsage::Overusing;
            }
        } else if modified < -self.threshold {
            self.overuse_ms = -1.0;
            self.overuse_count = 0;
            self.usage = BandwidthUsage::Underusing;
        } else {
            self.overuse_ms = -1.0;
            self.overuse_count = 0;
            self.usage = BandwidthUsage::Normal;
        }
        self.previous_trend = self.trend;
        self.adapt_threshold(modified, now_ms);
    }

    fn adapt_threshold(&mut self, modified: f64, now_ms: f64) {
        let last = *self.last_update_ms.get_or_insert(now_ms);
        if modified.abs() > self.threshold + 15.0 {
            // A spike: the threshold must not chase it.
            self.last_update_ms = Some(now_ms);
            return;
        }
        let k = if modified.abs() < self.threshold {
            K_DOWN
        } else {
            K_UP
        };
        let dt = (now_ms - last).clamp(0.0, 100.0);
        self.threshold += k * (modified.abs() - self.threshold) * dt;
        self.threshold = self.threshold.clamp(THRESHOLD_MIN, THRESHOLD_MAX);
        self.last_update_ms = Some(now_ms);
    }
}

/// Least-squares slope of `points`; `None` if their x values are all equal.
fn slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    (den != 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds groups sent every 10 ms whose arrival spacing is `arrival_step_us`.
    fn feed(d: &mut DelayDetector, groups: u32, arrival_step_us: i64) {
        for i in 0..groups {
            d.add(i64::from(i) * 10_000, i64::from(i) * arrival_step_us);
        }
    }

    #[test]
    fn steady_delay_is_normal() {
        let mut d = DelayDetector::default();
        feed(&mut d, 200, 10_000);
        assert_eq!(d.usage(), BandwidthUsage::Normal);
    }

    #[test]
    fn growing_delay_is_overuse_and_shrinking_delay_is_underuse() {
        let mut d = DelayDetector::default();
        // Each group arrives 2 ms later than it would on an empty path.
        feed(&mut d, 60, 12_000);
        assert_eq!(d.usage(), BandwidthUsage::Overusing);
        let mut d = DelayDetector::default();
        feed(&mut d, 30, 10_000);
        for i in 30..90u32 {
            d.add(i64::from(i) * 10_000, 300_000 + i64::from(i - 30) * 8_000);
        }
        assert_eq!(d.usage(), BandwidthUsage::Underusing);
    }
}
