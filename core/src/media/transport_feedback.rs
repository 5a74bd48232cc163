//! Transport-wide congestion control feedback, receiving side
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3).
//!
//! Every received RTP packet that carries the transport-wide sequence number — media, RTX
//! and padding-only probes alike, whatever its SSRC (Chromium probes on SSRC 0) — is
//! recorded with its arrival time. Every [`FEEDBACK_INTERVAL`] the arrivals since the last
//! feedback go back to the sender as [`TransportCc`] messages: which numbers arrived, and
//! when, so that the sender's bandwidth estimator can see queues building. A gap (loss or
//! reordering) brings the next feedback forward, but never closer than
//! [`MIN_FEEDBACK_INTERVAL`] to the last one.
//!
//! Arrivals are kept in an [`ArrivalLog`] (bounded; late packets reported again); each
//! message reports at most
//! [`MAX_RECEIVED_PER_MESSAGE`] received packets (about 1 KB on the wire), and one poll
//! gives at most [`MAX_MESSAGES_PER_POLL`] messages.
//!
//! Sans-IO: arrival instants come from the caller, deadlines go back through
//! [`TransportFeedbackReceiver::deadline`].

use super::arrival_log::{ArrivalLog, Recorded};
use crate::rtp::rtcp::TransportCc;
use std::time::{Duration, Instant};

#[cfg(test)]
use super::arrival_log::MAX_PACKETS;

/// The regular interval between feedback messages (libwebrtc's default).
pub(crate) const FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);
/// The shortest interval, when a gap brings feedback forward.
pub(crate) const MIN_FEEDBACK_INTERVAL: Duration = Duration::from_millis(50);
/// The most received packets one message reports (keeps it near 1 KB).
pub(crate) const MAX_RECEIVED_PER_MESSAGE: usize = 400;
/// The most messages one poll gives; the rest wait for the next (RFC 8888 feedback too).
pub(crate) const MAX_MESSAGES_PER_POLL: usize = 8;

/// The reference time's unit.
const REFERENCE_UNIT: Duration = Duration::from_millis(64);
/// The receive delta's unit, in microseconds.
const DELTA_UNIT_US: i64 = 250;

/// Counters of the receiving side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportFeedbackStats {
    /// Packets with a transport-wide sequence number recorded.
    pub packets_recorded: u64,
    /// Packets too old to report (behind the kept history) or duplicates.
    pub packets_ignored: u64,
    /// Feedback messages built.
    pub feedback_sent: u64,
}

/// Records transport-wide sequence numbers as they arrive and builds the feedback. A peer
/// connection runs one for everything it receives; it is public for forwarders and tests
/// that build their own RTCP.
#[derive(Debug, Clone, Default)]
pub struct TransportFeedbackReceiver {
    /// Transport-wide sequence numbers and their arrivals.
    arrivals: ArrivalLog,
    /// The instant that reference times count from (the first arrival).
    epoch: Option<Instant>,
    next_due: Option<Instant>,
    last_sent: Option<Instant>,
    /// SSRC of the latest packet (Chromium names one reported stream as media source).
    media_ssrc: u32,
    count: u8,
    stats: TransportFeedbackStats,
}

impl TransportFeedbackReceiver {
    /// Records one arrival.
    pub fn on_packet(&mut self, now: Instant, seq: u16, ssrc: u32) {
        let Recorded::New { gap } = self.arrivals.record(now, seq) else {
            self.stats.packets_ignored += 1;
            return;
        };
        self.stats.packets_recorded += 1;
        self.epoch.get_or_insert(now);
        self.media_ssrc = ssrc;
        self.schedule(now, gap);
    }

    /// When feedback is due; `None` while nothing waits to be reported.
    pub fn deadline(&self) -> Option<Instant> {
        self.next_due
    }

    /// The feedback due at `now` (empty before its deadline), from `sender_ssrc`.
    pub fn poll_feedback(&mut self, now: Instant, sender_ssrc: u32) -> Vec<TransportCc> {
        if self.next_due.is_none_or(|at| at > now) {
            return Vec::new();
        }
        self.next_due = None;
        let mut messages = Vec::new();
        while messages.len() < MAX_MESSAGES_PER_POLL {
            match self.build_message(sender_ssrc) {
                Some(m) => messages.push(m),
                None => break,
            }
        }
        if !messages.is_empty() {
            self.last_sent = Some(now);
        }
        if self.pending() {
            self.next_due = Some(now + MIN_FEEDBACK_INTERVAL);
        }
        self.stats.feedback_sent += messages.len() as u64;
        messages
    }

    /// The counters so far.
    pub fn stats(&self) -> TransportFeedbackStats {
        self.stats
    }

    /// The highest extended sequence number recorded so far.
    #[cfg(test)]
    fn highest(&self) -> Option<i64> {
        self.arrivals.highest()
    }

    /// `seq` extended around the highest number so far.
    #[cfg(test)]
    fn extend(&self, seq: u16) -> i64 {
        self.arrivals.extend(seq)
    }

    fn pending(&self) -> bool {
        self.arrivals.pending()
    }

    fn schedule(&mut self, now: Instant, gap: bool) {
        let after_last = |interval: Duration| {
            self.last_sent
                .map_or(now + interval, |t| (t + interval).max(now))
        };
        let mut due = self
            .next_due
            .unwrap_or_else(|| after_last(FEEDBACK_INTERVAL));
        if gap {
            due = due.min(after_last(MIN_FEEDBACK_INTERVAL));
        }
        self.next_due = Some(due);
    }

    /// One message from `start` on: up to [`MAX_RECEIVED_PER_MESSAGE`] received packets,
    /// ending before a receive delta that does not fit 16 bits; moves `start` past it.
    fn build_message(&mut self, sender_ssrc: u32) -> Option<TransportCc> {
        let log = &self.arrivals;
        let (first, highest, epoch) = (log.start()?, log.highest()?, self.epoch?);
        if first > highest {
            return None;
        }
        let Some(first_at) = log.first_arrival_in(first, highest) else {
            self.arrivals.set_start(highest + 1);
            return None;
        };
        let reference = (first_at.saturating_duration_since(epoch).as_micros()
            / REFERENCE_UNIT.as_micros()) as i64;
        let mut last_us = reference * REFERENCE_UNIT.as_micros() as i64;
        let mut packets = Vec::new();
        let mut received = 0;
        let mut end = first;
        for seq in first..=highest {
            let Some(at) = log.arrival(seq) else {
                packets.push((seq as u16, None));
                continue;
            };
            let at_us = at.saturating_duration_since(epoch).as_micros() as i64;
            let delta = (at_us - last_us).div_euclid(DELTA_UNIT_US);
            if received == MAX_RECEIVED_PER_MESSAGE || i16::try_from(delta).is_err() {
                break;
            }
            last_us += delta * DELTA_UNIT_US;
            packets.push((seq as u16, Some(delta)));
            received += 1;
            end = seq;
        }
        // Trailing numbers not received are left for a later message.
        packets.truncate((end - first + 1) as usize);
        self.arrivals.set_start(end + 1);
        let message = TransportCc {
            sender_ssrc,
            media_ssrc: self.media_ssrc,
            base_seq: first as u16,
            reference_time: (reference & 0x00ff_ffff) as i32,
            fb_pkt_count: self.count,
            packets,
        };
        self.count = self.count.wrapping_add(1);
        Some(message)
    }
}

#[cfg(test)]
#[path = "transport_feedback_tests.rs"]
mod tests;
