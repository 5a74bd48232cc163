//! Retransmission timeout (RFC 6298 as RFC 9260 section 6.3.1 uses it) and the congestion
//! window (RFC 9260 section 7.2), with two changes for long, lossy paths:
//!
//! - A loss is taken as congestion only when the path shows a standing queue: the smoothed
//!   RTT exceeds the minimum RTT by a quarter (at least 5 ms). Random loss on an idle path
//!   triggers retransmission but keeps the window. On a real bottleneck the queue fills
//!   before it drops, so the RTT rises first and the window is halved as usual.
//! - While the RTT shows no queue the window keeps growing as in slow start (the path has
//!   spare capacity); on short paths (below 5 ms) only in slow start, CUBIC-like after: by
//!   one packet per RTT near the last congestion point, faster the further away from it.
//! - Once a queue shows, slow start ends and the window holds (a delay signal, as HyStart
//!   and Vegas use): on a short path a socket buffer of a few hundred kilobytes is the
//!   whole queue, and a window grown until it drops loses datagrams every few RTTs.
//! - On short paths the first slow start turns conservative (growth by a quarter, as
//!   HyStart++'s CSS) once the latest RTT exceeds the minimum by a quarter: the exit
//!   signal arrives a round trip late, and at full growth the queue it reports has
//!   meanwhile doubled past a default socket buffer.

use std::time::{Duration, Instant};

/// Paths with a shorter minimum RTT (LAN, loopback) get a queue allowance of one minimum
/// RTT instead of 5 ms, and grow CUBIC-like after slow start.
pub(crate) const SHORT_PATH: Duration = Duration::from_millis(5);

/// In conservative slow start the window grows by this fraction of what is acknowledged.
const CSS_DIVISOR: usize = 4;

/// Below this window (in packets) a queue neither ends slow start nor holds the window:
/// on a path whose RTT is mostly noise (loopback, coarse timers) the delay signal would
/// otherwise pin a small window, and a window this small cannot overrun a socket buffer.
pub(crate) const HOLD_FLOOR_PACKETS: usize = 48;

/// RTO estimator (RFC 6298).
#[derive(Debug, Clone)]
pub(crate) struct Rto {
    srtt: Option<Duration>,
    /// The latest sample.
    latest: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min_rtt: Option<Duration>,
    min: Duration,
    max: Duration,
}

impl Rto {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        Self {
            srtt: None,
            latest: None,
            rttvar: Duration::ZERO,
            rto: initial.clamp(min, max),
            min_rtt: None,
            min,
            max,
        }
    }

    /// Takes one RTT measurement (never from a retransmitted chunk: Karn's rule).
    pub(crate) fn sample(&mut self, rtt: Duration) {
        let (srtt, rttvar) = match self.srtt {
            None => (rtt, rtt / 2),
            Some(srtt) => {
                let diff = srtt.abs_diff(rtt);
                (srtt * 7 / 8 + rtt / 8, self.rttvar * 3 / 4 + diff / 4)
            }
        };
        self.srtt = Some(srtt);
        self.latest = Some(rtt);
        self.rttvar = rttvar;
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        self.rto = (srtt + (rttvar * 4).max(Duration::from_millis(1))).clamp(self.min, self.max);
    }

    /// Doubles the RTO after a timeout (capped).
    pub(crate) fn back_off(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }

    pub(crate) fn rto(&self) -> Duration {
        self.rto
    }

    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Whether the latest RTT sample shows a queue (by the allowance of
    /// [`queue_building`](Self::queue_building)): the prompt signal that ends slow start,
    /// where the smoothed RTT lags a window that doubles every round trip.
    pub(crate) fn latest_shows_queue(&self) -> bool {
        match (self.latest, self.min_rtt) {
            (Some(rtt), Some(min)) => rtt > min + (min / 4).max(min.min(SHORT_PATH)),
            _ => false,
        }
    }

    /// Whether the latest RTT sample on a short path (below [`SHORT_PATH`]) exceeds the
    /// minimum by a quarter of it: a queue is starting, well before it shows as
    /// [`latest_shows_queue`](Self::latest_shows_queue).
    pub(crate) fn latest_shows_queue_starting(&self) -> bool {
        match (self.latest, self.min_rtt) {
            (Some(rtt), Some(min)) => min < SHORT_PATH && rtt > min + min / 4,
            _ => false,
        }
    }

    /// Whether the path's minimum RTT is below [`SHORT_PATH`].
    pub(crate) fn short_path(&self) -> bool {
        self.min_rtt.is_some_and(|m| m < SHORT_PATH)
    }

    /// Whether the RTT shows a standing queue (see the module doc): the smoothed RTT
    /// exceeds the minimum by a quarter, at least 5 ms, except on paths shorter than
    /// 5 ms (LAN, loopback), where the allowance is the minimum RTT itself: there a few
    /// milliseconds of queue are a full socket buffer (Linux's default holds about
    /// 90 datagrams, 1 ms at 100 MB/s).
    pub(crate) fn queue_building(&self) -> bool {
        match (self.srtt, self.min_rtt) {
            (Some(srtt), Some(min)) => {
                let allowance = (min / 4).max(min.min(SHORT_PATH));
                srtt > min + allowance
            }
            _ => true,
        }
    }
}

/// Congestion window state.
#[derive(Debug, Clone)]
pub(crate) struct Congestion {
    mtu: usize,
    pub(crate) cwnd: usize,
    pub(crate) ssthresh: usize,
    partial_bytes_acked: usize,
    /// Window at the last congestion reduction (CUBIC's W_max).
    w_max: usize,
    /// When congestion avoidance began (CUBIC's epoch).
    epoch: Option<Instant>,
    /// Acknowledged bytes not yet turned into window growth in conservative slow start.
    css_acked: usize,
}

impl Congestion {
    pub(crate) fn new(mtu: usize, peer_rwnd: usize) -> Self {
        Self {
            mtu,
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            ssthresh: peer_rwnd.max(4 * mtu),
            partial_bytes_acked: 0,
            w_max: 0,
            epoch: None,
            css_acked: 0,
        }
    }

    /// New data was acknowledged: `acked` bytes, with the window fully used or not.
    ///
    /// Without a queue on the path the window grows as in slow start; on a path shorter
    /// than [`SHORT_PATH`] only during slow start, and CUBIC-like after, since there a
    /// doubling overshoots a small buffer before the RTT can show it. Once the RTT shows
    /// a queue, slow start ends (before the queue overflows, as HyStart does) and the
    /// window holds: growing it would only lengthen the queue until it drops.
    pub(crate) fn on_ack(&mut self, now: Instant, acked: usize, window_full: bool, rto: &Rto) {
        if !window_full || acked == 0 {
            return;
        }
        let slow_start = self.cwnd <= self.ssthresh;
        let small = self.cwnd < HOLD_FLOOR_PACKETS * self.mtu;
        let queue = if small {
            false
        } else if slow_start && self.w_max == 0 {
            rto.latest_shows_queue()
        } else {
            rto.srtt().is_some() && rto.queue_building()
        };
        if queue {
            // After a loss or timeout, slow start climbs back to the ssthresh that event
            // set whatever the (possibly stale) RTT says; only the first one ends early.
            if !slow_start {
                return;
            }
            if self.w_max == 0 {
                self.ssthresh = self.cwnd;
                return;
            }
        }
        if slow_start || !rto.short_path() {
            let mut step = acked.min(2 * self.mtu);
            if slow_start && !small && self.w_max == 0 && rto.latest_shows_queue_starting() {
                // Conservative slow start (as HyStart++ does): once a queue starts, grow
                // by a quarter, so that the queue the exit signal needs a round trip to
                // report does not overrun a buffer of a few hundred kilobytes first.
                self.css_acked += step;
                step = self.css_acked / CSS_DIVISOR;
                self.css_acked %= CSS_DIVISOR;
            }
            self.cwnd += step;
            return;
        }
        self.partial_bytes_acked += acked;
        let step = self.avoidance_step(now, rto);
        while self.partial_bytes_acked >= self.cwnd {
            self.partial_bytes_acked -= self.cwnd;
            self.cwnd += step;
        }
    }

    /// Bytes to add per window acknowledged in congestion avoidance.
    fn avoidance_step(&mut self, now: Instant, rto: &Rto) -> usize {
        let epoch = *self.epoch.get_or_insert(now);
        let Some(rtt) = rto.srtt() else {
            return self.mtu;
        };
        // CUBIC window (in packets) one RTT from now: W(t) = C (t - K)^3 + W_max.
        let w_max = (self.w_max / self.mtu) as f64;
        let k = (w_max * 0.3 / 0.4).cbrt();
        let t = (now - epoch + rtt).as_secs_f64();
        let target = (0.4 * (t - k).powi(3) + w_max).max(0.0) * self.mtu as f64;
        let gap = target - self.cwnd as f64;
        // At least one packet per RTT (Reno), at most doubling per RTT.
        (gap.max(self.mtu as f64) as usize).min(self.cwnd)
    }

    /// A loss was detected by acknowledgements (fast retransmit), once per recovery.
    pub(crate) fn on_fast_loss(&mut self, now: Instant, rto: &Rto) {
        if !rto.queue_building() {
            // Random loss: keep sending at the same rate, but stop exponential growth.
            self.ssthresh = self.ssthresh.min(self.cwnd);
            return;
        }
        self.w_max = self.cwnd;
        self.ssthresh = (self.cwnd * 7 / 10).max(4 * self.mtu);
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
        self.epoch = Some(now);
    }

    /// The T3-rtx timer expired.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        self.w_max = self.cwnd;
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.epoch = Some(now);
    }

    /// The association was idle for an RTO (RFC 9260 section 7.2.1).
    pub(crate) fn on_idle(&mut self) {
        self.cwnd = self.cwnd.min((4 * self.mtu).max(4380)).max(self.cwnd / 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_follows_rfc6298_first_sample() {
        let mut rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(10),
            Duration::from_secs(60),
        );
        rto.sample(Duration::from_millis(100));
        // SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 300 ms.
        assert_eq!(rto.rto(), Duration::from_millis(300));
    }

    #[test]
    fn rto_back_off_is_capped() {
        let mut rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(10),
            Duration::from_secs(3),
        );
        rto.back_off();
        rto.back_off();
        assert_eq!(rto.rto(), Duration::from_secs(3));
    }

    #[test]
    fn loss_with_a_standing_queue_reduces_the_window() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(10),
            Duration::from_secs(3),
        );
        rto.sample(Duration::from_millis(50));
        let mut cc = Congestion::new(1000, 1 << 20);
        cc.cwnd = 100_000;
        cc.on_fast_loss(now, &rto);
        assert_eq!(cc.cwnd, 100_000, "no queue: window kept");
        for _ in 0..20 {
            rto.sample(Duration::from_millis(120));
        }
        cc.on_fast_loss(now, &rto);
        assert_eq!(cc.cwnd, 70_000, "queue: window reduced");
    }

    #[test]
    fn slow_start_grows_only_when_the_window_is_used() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(10),
            Duration::from_secs(3),
        );
        let mut cc = Congestion::new(1000, 1 << 20);
        let start = cc.cwnd;
        cc.on_ack(now, 1000, false, &rto);
        assert_eq!(cc.cwnd, start);
        cc.on_ack(now, 1000, true, &rto);
        assert_eq!(cc.cwnd, start + 1000);
    }

    #[test]
    fn slow_start_grows_by_a_quarter_once_a_short_path_queue_starts() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut rto = Rto::new(
            Duration::from_secs(1),
            Duration::from_millis(10),
            Duration::from_secs(3),
        );
        rto.sample(Duration::from_micros(400));
        let mut cc = Congestion::new(1000, 1 << 20);
        cc.cwnd = 100_000;
        cc.on_ack(now, 2000, true, &rto);
        assert_eq!(cc.cwnd, 102_000, "no queue: full slow start");
        // 30 % above the minimum: a queue starts, below the exit signal (100 %).
        rto.sample(Duration::from_micros(520));
        assert!(rto.latest_shows_queue_starting() && !rto.latest_shows_queue());
        cc.on_ack(now, 2000, true, &rto);
        assert_eq!(cc.cwnd, 102_500, "a quarter of what was acknowledged");
        assert!(cc.cwnd <= cc.ssthresh, "still in slow start");
        rto.sample(Duration::from_micros(900));
        cc.on_ack(now, 2000, true, &rto);
        assert_eq!(cc.ssthresh, 102_500, "the queue ends slow start");
    }
}
