//! Interarrival jitter (RFC 3550 §6.4.1 and appendix A.8) as the frame assembler measures
//! it, and the bounded wait for a missing packet that follows from it.

use std::time::{Duration, Instant};

/// The running jitter estimate of one stream, in RTP timestamp units.
#[derive(Debug, Clone)]
pub(crate) struct JitterEstimate {
    clock_rate: f64,
    epoch: Option<Instant>,
    last_transit: Option<f64>,
    jitter: f64,
}

impl JitterEstimate {
    pub(crate) fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate: f64::from(clock_rate.max(1)),
            epoch: None,
            last_transit: None,
            jitter: 0.0,
        }
    }

    /// Accounts for a packet with RTP timestamp `timestamp` arriving at `now`.
    ///
    /// `extended_timestamp` must keep growing across wraps (the assembler unwraps it), so
    /// a wrap does not read as a jump of 2^32 ticks.
    pub(crate) fn on_packet(&mut self, now: Instant, extended_timestamp: i64) {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = now.saturating_duration_since(epoch).as_secs_f64() * self.clock_rate;
        let transit = arrival - extended_timestamp as f64;
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs();
            // A jump larger than 10 s is a stream discontinuity, not jitter.
            if d < 10.0 * self.clock_rate {
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
        self.last_transit = Some(transit);
    }

    /// The current estimate.
    pub(crate) fn jitter(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / self.clock_rate)
    }
}

/// How long to wait for a missing packet: `min + 3 × jitter + extra`, at most `max`.
pub(crate) fn wait_for(
    jitter: Duration,
    extra: Duration,
    min: Duration,
    max: Duration,
) -> Duration {
    (min + jitter * 3 + extra).min(max).max(min.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    fn steady_arrivals_have_no_jitter_and_late_ones_raise_it() {
        let start = Instant::now();
        let mut j = JitterEstimate::new(90_000);
        for i in 0..50u32 {
            j.on_packet(
                start + Duration::from_millis(u64::from(i) * 33),
                i64::from(i) * 2970,
            );
        }
        assert!(j.jitter() < Duration::from_micros(100), "{:?}", j.jitter());
        for i in 50..100u32 {
            let wobble = if i % 2 == 0 { 20 } else { 0 };
            j.on_packet(
                start + Duration::from_millis(u64::from(i) * 33 + wobble),
                i64::from(i) * 2970,
            );
        }
        assert!(j.jitter() > Duration::from_millis(10), "{:?}", j.jitter());
    }

    #[test]
    fn the_wait_is_bounded_on_both_sides() {
        let ms = Duration::from_millis;
        assert_eq!(wait_for(ms(0), ms(0), ms(20), ms(200)), ms(20));
        assert_eq!(wait_for(ms(10), ms(50), ms(20), ms(200)), ms(100));
        assert_eq!(wait_for(ms(100), ms(500), ms(20), ms(200)), ms(200));
    }
}
