//! Rates measured over a sliding window: what the receiver acknowledged (by arrival time),
//! what we sent, and the application-limited-region (ALR) detector built on the latter.

use std::collections::VecDeque;

/// Span of the window, in microseconds.
const WINDOW_US: i64 = 500_000;
/// Shortest span a rate is computed over (the first samples).
const MIN_SPAN_US: i64 = 100_000;
/// Most samples kept (a bound against a flood of tiny packets).
const MAX_SAMPLES: usize = 8_192;

/// Bytes at points of time (µs on some clock), and their rate over the last window.
#[derive(Debug, Default, Clone)]
pub struct RateWindow {
    samples: VecDeque<(i64, u32)>,
    bytes: u64,
}

impl RateWindow {
    /// Adds `size` bytes at `t_us` (not before the last sample's time; earlier ones are
    /// counted at the last time).
    pub fn add(&mut self, t_us: i64, size: u32) {
        let t = self
            .samples
            .back()
            .map_or(t_us, |(last, _)| t_us.max(*last));
        self.samples.push_back((t, size));
        self.bytes += u64::from(size);
        while let Some(&(first, s)) = self.samples.front() {
            if t - first <= WINDOW_US && self.samples.len() <= MAX_SAMPLES {
                break;
            }
            self.samples.pop_front();
            self.bytes -= u64::from(s);
        }
    }

    /// Bits per second over the window up to `now_us`; `None` before [`MIN_SPAN_US`] of
    /// samples.
    pub fn rate(&self, now_us: i64) -> Option<f64> {
        let first = self.samples.front()?.0;
        let span = (now_us - first).max(0);
        if span < MIN_SPAN_US {
            return None;
        }
        let counted: u64 = self
            .samples
            .iter()
            .filter(|(t, _)| now_us - t <= WINDOW_US)
            .map(|(_, s)| u64::from(*s))
            .sum();
        Some(counted as f64 * 8.0 * 1e6 / span.min(WINDOW_US) as f64)
    }

    /// The newest sample's time.
    pub fn last_time(&self) -> Option<i64> {
        self.samples.back().map(|(t, _)| *t)
    }
}

/// Application-limited region: we send well below the estimate (the encoder has less to
/// say than the path would carry), so the estimate cannot be confirmed by traffic and is
/// probed instead.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlrDetector {
    in_alr: bool,
}

impl AlrDetector {
    /// Enters below 65 % of the estimate, leaves above 80 %.
    pub fn update(&mut self, sent_bps: f64, estimate_bps: f64) {
        if self.in_alr {
            self.in_alr = sent_bps < 0.8 * estimate_bps;
        } else {
            self.in_alr = sent_bps < 0.65 * estimate_bps;
        }
    }

    pub fn in_alr(&self) -> bool {
        self.in_alr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_megabit_reads_as_one() {
        let mut w = RateWindow::default();
        // 1,250 bytes every 10 ms = 1 Mbit/s.
        for i in 0..200 {
            w.add(i * 10_000, 1250);
        }
        let r = w.rate(199 * 10_000).expect("rate");
        assert!((r - 1_000_000.0).abs() < 30_000.0, "{r}");
        assert!(w.samples.len() <= 52);
    }

    #[test]
    fn alr_has_hysteresis() {
        let mut a = AlrDetector::default();
        a.update(70.0, 100.0);
        assert!(!a.in_alr());
        a.update(60.0, 100.0);
        assert!(a.in_alr());
        a.update(75.0, 100.0);
        assert!(a.in_alr());
        a.update(85.0, 100.0);
        assert!(!a.in_alr());
    }
}
