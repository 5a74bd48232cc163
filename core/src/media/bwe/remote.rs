//! The receive-side bandwidth estimator, for a peer that negotiated REMB and not
//! transport-wide feedback (older stacks, aiortc), in the manner of libwebrtc's remote
//! bitrate estimators: for every media packet received, the change of the delay between
//! groups of packets is measured from the sender's clock — the abs-send-time header
//! extension when the packet has it, else the RTP timestamp (a timeline per SSRC) — and
//! our arrival time; the same trendline and overuse detector as the send side
//! ([`DelayDetector`]) judges it, and the same AIMD rate control ([`AimdControl`]) turns
//! the verdicts into an estimate, bounded by 1.5× the incoming rate (measured over a
//! window of [`RateWindow`]).
//!
//! The estimate goes back to the sender as a REMB (draft-alvestrand-rmcat-remb-03): at
//! once when it fell by [`REMB_DECREASE_PERCENT`] % or more since the last one sent, else
//! every [`REMB_INTERVAL`] while packets arrive.
//!
//! Sans-IO and deterministic; every piece of state is bounded (at most [`MAX_TIMELINES`]
//! sender clocks, [`MAX_SSRCS`] SSRCs named in a REMB), whatever a peer sends.

use super::BweConfig;
use super::aimd::AimdControl;
use super::delay::{BandwidthUsage, DelayDetector};
use super::rate::RateWindow;
use crate::rtp::rtcp::Remb;
use std::time::{Duration, Instant};

/// Most sender clocks followed at once (one for abs-send-time, one per SSRC otherwise).
pub const MAX_TIMELINES: usize = 8;
/// Most SSRCs a REMB names (the streams received lately).
pub const MAX_SSRCS: usize = 8;
/// A REMB is sent at least this often while packets arrive.
pub const REMB_INTERVAL: Duration = Duration::from_secs(1);
/// A fall of the estimate by this much (percent of the last REMB) is sent at once.
pub const REMB_DECREASE_PERCENT: u64 = 3;
/// A sender clock (and an SSRC) not heard from for this long is forgotten.
const TIMELINE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the rate control runs while the path is not overused.
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);
/// The shortest time between two decreases while the overuse lasts (libwebrtc's bound on
/// its round-trip-based reduction interval).
const DECREASE_INTERVAL: Duration = Duration::from_millis(200);
/// The round trip the rate control assumes: a receiver that only receives does not
/// measure one.
const ASSUMED_RTT: Duration = Duration::from_millis(200);
/// abs-send-time: 6.18 fixed-point seconds in 24 bits.
const ABS_SEND_TIME_UNITS_PER_S: i64 = 1 << 18;
const ABS_SEND_TIME_MODULUS: i64 = 1 << 24;
const RTP_TIMESTAMP_MODULUS: i64 = 1 << 32;

/// When the sender sent a packet, as the packet tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTime {
    /// The 24-bit abs-send-time extension's value (6.18 fixed-point seconds).
    AbsSendTime(u32),
    /// The RTP timestamp, with the clock rate of the stream's codec.
    RtpTimestamp { timestamp: u32, clock_rate: u32 },
}

/// Whose clock a timeline follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    AbsSendTime,
    Rtp { ssrc: u32, clock_rate: u32 },
}

/// One sender clock: its values unwrapped, and the delay detector fed from it.
#[derive(Debug, Clone)]
struct Timeline {
    clock: Clock,
    /// The last value, extended past the field's wraps.
    extended: i64,
    detector: DelayDetector,
    last_heard: Instant,
}

impl Timeline {
    fn units_per_s(&self) -> i64 {
        match self.clock {
            Clock::AbsSendTime => ABS_SEND_TIME_UNITS_PER_S,
            Clock::Rtp { clock_rate, .. } => i64::from(clock_rate.max(1)),
        }
    }

    fn modulus(&self) -> i64 {
        match self.clock {
            Clock::AbsSendTime => ABS_SEND_TIME_MODULUS,
            Clock::Rtp { .. } => RTP_TIMESTAMP_MODULUS,
        }
    }

    /// Feeds one packet whose clock read `raw`, arrived at `arrival_us`.
    fn add(&mut self, raw: i64, arrival_us: i64, now: Instant) {
        self.extended = unwrap_near(self.extended, raw, self.modulus());
        let send_us = i128::from(self.extended) * 1_000_000 / i128::from(self.units_per_s());
        let send_us =
            i64::try_from(send_us).unwrap_or(if send_us < 0 { i64::MIN } else { i64::MAX });
        self.detector.add(send_us, arrival_us);
        self.last_heard = now;
    }
}

/// The value of a field counting modulo `modulus` nearest to `anchor`.
fn unwrap_near(anchor: i64, raw: i64, modulus: i64) -> i64 {
    let delta = (raw - anchor).rem_euclid(modulus);
    let delta = if delta >= modulus / 2 {
        delta - modulus
    } else {
        delta
    };
    anchor.saturating_add(delta)
}

/// Figures of the receive-side estimator, for stats and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveBweStats {
    /// The estimate, bits per second (what the last REMB said, or will say).
    pub estimate_bps: u64,
    /// What arrived lately, bits per second.
    pub incoming_bps: Option<u64>,
    /// The worst verdict among the sender clocks.
    pub usage: BandwidthUsage,
    /// Packets fed.
    pub packets: u64,
    /// REMB messages handed out.
    pub remb_sent: u64,
    /// The bitrate of the last REMB handed out.
    pub last_remb_bps: Option<u64>,
}

/// The estimator (see the module documentation).
#[derive(Debug, Clone)]
pub struct ReceiveSideBwe {
    aimd: AimdControl,
    timelines: Vec<Timeline>,
    incoming: RateWindow,
    /// The streams received lately, named in REMBs: (ssrc, last heard).
    ssrcs: Vec<(u32, Instant)>,
    origin: Option<Instant>,
    last_packet: Option<Instant>,
    last_update: Option<Instant>,
    last_decrease: Option<Instant>,
    last_usage: BandwidthUsage,
    /// The last REMB handed out: when, and its bitrate.
    last_remb: Option<(Instant, u64)>,
    remb_due: Option<Instant>,
    stats: ReceiveBweStats,
}

impl ReceiveSideBwe {
    /// Starts at `config`'s start rate, within its limits.
    pub fn new(config: BweConfig) -> Self {
        let c = config.sanitized();
        Self {
            aimd: AimdControl::new(c.start_bitrate_bps, c.min_bitrate_bps, c.max_bitrate_bps),
            timelines: Vec::new(),
            incoming: RateWindow::default(),
            ssrcs: Vec::new(),
            origin: None,
            last_packet: None,
            last_update: None,
            last_decrease: None,
            last_usage: BandwidthUsage::Normal,
            last_remb: None,
            remb_due: None,
            stats: ReceiveBweStats::default(),
        }
    }

    /// The estimate now, bits per second.
    pub fn estimate(&self) -> u64 {
        self.aimd.estimate()
    }

    pub fn stats(&self) -> ReceiveBweStats {
        let incoming = self
            .incoming
            .last_time()
            .and_then(|t| self.incoming.rate(t));
        ReceiveBweStats {
            estimate_bps: self.aimd.estimate(),
            incoming_bps: incoming.map(|r| r as u64),
            usage: self.usage(),
            ..self.stats
        }
    }

    fn micros(&mut self, now: Instant) -> i64 {
        let origin = *self.origin.get_or_insert(now);
        i64::try_from(now.saturating_duration_since(origin).as_micros()).unwrap_or(i64::MAX)
    }

    /// One media packet of `size` bytes from `ssrc` arrived at `now`, sent at `sent`.
    pub fn on_packet(&mut self, now: Instant, ssrc: u32, size: usize, sent: SendTime) {
        self.stats.packets += 1;
        let arrival_us = self.micros(now);
        self.incoming
            .add(arrival_us, u32::try_from(size).unwrap_or(u32::MAX));
        self.last_packet = Some(now);
        self.note_ssrc(ssrc, now);
        let (clock, raw) = match sent {
            SendTime::AbsSendTime(v) => (Clock::AbsSendTime, i64::from(v & 0x00ff_ffff)),
            SendTime::RtpTimestamp {
                timestamp,
                clock_rate,
            } => (Clock::Rtp { ssrc, clock_rate }, i64::from(timestamp)),
        };
        self.timeline(clock, raw, now).add(raw, arrival_us, now);
        self.control(now, arrival_us);
    }

    /// The timeline of `clock` (made with `raw` as its first value when new; the one not
    /// heard from longest gives way when [`MAX_TIMELINES`] are followed).
    fn timeline(&mut self, clock: Clock, raw: i64, now: Instant) -> &mut Timeline {
        self.timelines
            .retain(|t| now.saturating_duration_since(t.last_heard) <= TIMELINE_TIMEOUT);
        if let Some(i) = self.timelines.iter().position(|t| t.clock == clock) {
            return &mut self.timelines[i];
        }
        if self.timelines.len() >= MAX_TIMELINES
            && let Some(oldest) =
                (0..self.timelines.len()).min_by_key(|&i| self.timelines[i].last_heard)
        {
            self.timelines.remove(oldest);
        }
        self.timelines.push(Timeline {
            clock,
            extended: raw,
            detector: DelayDetector::default(),
            last_heard: now,
        });
        self.timelines.last_mut().expect("pushed above")
    }

    fn note_ssrc(&mut self, ssrc: u32, now: Instant) {
        self.ssrcs
            .retain(|(_, at)| now.saturating_duration_since(*at) <= TIMELINE_TIMEOUT);
        if let Some(entry) = self.ssrcs.iter_mut().find(|(s, _)| *s == ssrc) {
            entry.1 = now;
            return;
        }
        if self.ssrcs.len() >= MAX_SSRCS {
            self.ssrcs.remove(0);
        }
        self.ssrcs.push((ssrc, now));
    }

    /// The worst verdict among the sender clocks (overuse over underuse over normal).
    fn usage(&self) -> BandwidthUsage {
        let rank = |u: BandwidthUsage| match u {
            BandwidthUsage::Normal => 0,
            BandwidthUsage::Underusing => 1,
            BandwidthUsage::Overusing => 2,
        };
        self.timelines
            .iter()
            .map(|t| t.detector.usage())
            .max_by_key(|u| rank(*u))
            .unwrap_or_default()
    }

    /// Runs the rate control when due: at once when overuse starts (and again every
    /// [`DECREASE_INTERVAL`] while it lasts), else every [`UPDATE_INTERVAL`]; only once
    /// the incoming rate is measured.
    fn control(&mut self, now: Instant, arrival_us: i64) {
        let usage = self.usage();
        let Some(incoming) = self.incoming.rate(arrival_us) else {
            return;
        };
        let since = |at: Option<Instant>| at.map(|t| now.saturating_duration_since(t));
        let due = if usage == BandwidthUsage::Overusing {
            self.last_usage != BandwidthUsage::Overusing
                || since(self.last_decrease).is_none_or(|d| d >= DECREASE_INTERVAL)
        } else {
            since(self.last_update).is_none_or(|d| d >= UPDATE_INTERVAL)
        };
        self.last_usage = usage;
        if !due {
            return;
        }
        self.aimd.update(usage, Some(incoming), ASSUMED_RTT, now);
        self.last_update = Some(now);
        if usage == BandwidthUsage::Overusing {
            self.last_decrease = Some(now);
        }
        self.schedule_remb(now);
    }

    /// A REMB is due now for the first estimate and for a fall of
    /// [`REMB_DECREASE_PERCENT`] % or more, else [`REMB_INTERVAL`] after the last.
    fn schedule_remb(&mut self, now: Instant) {
        let estimate = self.aimd.estimate();
        self.remb_due = Some(match self.last_remb {
            None => now,
            Some((_, last))
                if u128::from(estimate) * 100
                    <= u128::from(last) * u128::from(100 - REMB_DECREASE_PERCENT) =>
            {
                now
            }
            Some((at, _)) => at + REMB_INTERVAL,
        });
    }

    /// When the next REMB is due; `None` before the first estimate.
    pub fn deadline(&self) -> Option<Instant> {
        self.remb_due
    }

    /// The REMB due at `now`, from `sender_ssrc`, naming the streams received lately;
    /// `None` before its deadline, or when nothing arrived for a while (then none is due
    /// until packets arrive again).
    pub fn poll_remb(&mut self, now: Instant, sender_ssrc: u32) -> Option<Remb> {
        if self.remb_due.is_none_or(|at| at > now) {
            return None;
        }
        let quiet = self
            .last_packet
            .is_none_or(|at| now.saturating_duration_since(at) > TIMELINE_TIMEOUT);
        if quiet {
            self.remb_due = None;
            return None;
        }
        let bitrate_bps = self.aimd.estimate();
        self.last_remb = Some((now, bitrate_bps));
        self.remb_due = Some(now + REMB_INTERVAL);
        self.stats.remb_sent += 1;
        self.stats.last_remb_bps = Some(bitrate_bps);
        Some(Remb {
            sender_ssrc,
            bitrate_bps,
            ssrcs: self.ssrcs.iter().map(|(s, _)| *s).collect(),
        })
    }

    /// Sender clocks followed (for bounds checks).
    pub fn timelines(&self) -> usize {
        self.timelines.len()
    }
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
