//! Pacing of what a peer connection sends: a token bucket that lets packets out at a
//! rate and in bursts of bounded size.
//!
//! Today it paces SCTP output at the association's pacing rate (its congestion window per
//! smoothed RTT, with a gain; see [`Association::pacing_rate`]), so that a window opened
//! by a batch of SACKs leaves as a stream of small bursts instead of one burst of
//! hundreds of datagrams, which overflows a peer's socket buffer (Linux's default of
//! 212,992 bytes holds about 90 datagrams). Only packets that may carry DATA wait for
//! tokens: while the bucket is empty, SACKs and other control chunks still leave
//! ([`Association::poll_control`]), since the peer's sending waits on them (a receiver
//! whose bucket, sized by its own idle direction's window, held its SACKs back cut a
//! bulk transfer to three quarters). Media, retransmissions and padding will go through
//! the same bucket once there is media, driven by the bandwidth estimate.
//!
//! The bucket holds at most [`BURST_BYTES`]: after an idle spell no more than that leaves
//! at once. A packet may go whenever the bucket is not empty, and may overdraw it; the
//! deficit is paid back before the next one ([`Pacer::next_send`] says when).
//!
//! [`Association::pacing_rate`]: crate::sctp::Association::pacing_rate
//! [`Association::poll_control`]: crate::sctp::Association::poll_control

use std::time::{Duration, Instant};

/// Most bytes let out back to back: 16 full-size datagrams.
pub(crate) const BURST_BYTES: u64 = 16 * 1200;

/// A token bucket in bytes, refilled at the pacing rate.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    /// Bytes that may leave now; negative after an overdraw.
    tokens: i64,
    /// When `tokens` was last brought up to date.
    updated: Option<Instant>,
    /// Bytes per second; `None` lets everything out at once.
    rate: Option<u64>,
    /// The last attempt to send stopped for want of tokens.
    blocked: bool,
}

impl Default for Pacer {
    fn default() -> Self {
        Self {
            tokens: BURST_BYTES as i64,
            updated: None,
            rate: None,
            blocked: false,
        }
    }
}

impl Pacer {
    /// Refills the bucket for the time since the last update at the old rate, then takes
    /// `rate` (bytes per second; `None` or 0: unpaced) for what follows.
    pub(crate) fn update(&mut self, now: Instant, rate: Option<u64>) {
        if let (Some(r), Some(last)) = (self.rate, self.updated) {
            let nanos = now.saturating_duration_since(last).as_nanos();
            let earned = nanos.saturating_mul(u128::from(r)) / 1_000_000_000;
            let earned = i64::try_from(earned).unwrap_or(i64::MAX);
            self.tokens = self.tokens.saturating_add(earned).min(BURST_BYTES as i64);
        }
        self.updated = Some(now);
        self.rate = rate.filter(|r| *r > 0);
        if self.rate.is_none() {
            self.tokens = BURST_BYTES as i64;
        }
    }

    /// Whether a packet may go now. Records a refusal, so that [`next_send`](Self::next_send)
    /// asks to be woken.
    pub(crate) fn may_send(&mut self) -> bool {
        let ok = self.rate.is_none() || self.tokens > 0;
        self.blocked = !ok;
        ok
    }

    /// A packet of `bytes` left.
    pub(crate) fn on_sent(&mut self, bytes: usize) {
        if self.rate.is_some() {
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            self.tokens = self.tokens.saturating_sub(bytes);
        }
    }

    /// Nothing more was waiting to be sent: no wake-up needed.
    pub(crate) fn idle(&mut self) {
        self.blocked = false;
    }

    /// When the bucket has tokens again, if the last attempt was refused.
    pub(crate) fn next_send(&self) -> Option<Instant> {
        if !self.blocked {
            return None;
        }
        let (rate, at) = (self.rate?, self.updated?);
        let deficit = u128::from(self.tokens.unsigned_abs()) + 1;
        let nanos = (deficit * 1_000_000_000).div_ceil(u128::from(rate));
        Some(at + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    /// Sends 1,000-byte packets at `now` until refused; returns how many went.
    fn send_all(p: &mut Pacer, now: Instant, rate: u64) -> usize {
        p.update(now, Some(rate));
        let mut n = 0;
        while p.may_send() {
            p.on_sent(1000);
            n += 1;
        }
        n
    }

    #[test]
    fn a_full_bucket_lets_one_burst_out_then_waits_for_tokens() {
        let mut p = Pacer::default();
        let now = t0();
        // 1 MB/s: 1,000 bytes per ms.
        let n = send_all(&mut p, now, 1_000_000);
        assert_eq!(n, (BURST_BYTES as usize).div_ceil(1000), "one burst");
        let next = p.next_send().expect("blocked");
        assert!(next > now && next <= now + Duration::from_millis(1));
        // After 5 ms, five packets' worth of tokens (minus the overdraft).
        let later = now + Duration::from_millis(5);
        let n = send_all(&mut p, later, 1_000_000);
        assert!((4..=5).contains(&n), "{n} packets after 5 ms");
    }

    #[test]
    fn idle_time_refills_no_more_than_a_burst() {
        let mut p = Pacer::default();
        let now = t0();
        send_all(&mut p, now, 1_000_000);
        let n = send_all(&mut p, now + Duration::from_secs(10), 1_000_000);
        assert_eq!(n, (BURST_BYTES as usize).div_ceil(1000));
    }

    #[test]
    fn without_a_rate_nothing_waits() {
        let mut p = Pacer::default();
        p.update(t0(), None);
        for _ in 0..1000 {
            assert!(p.may_send());
            p.on_sent(1200);
        }
        assert_eq!(p.next_send(), None);
    }
}
