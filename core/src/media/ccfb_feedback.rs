//! RFC 8888 congestion control feedback, receiving side: for a peer that negotiated
//! `a=rtcp-fb:* ack ccfb` and not transport-cc.
//!
//! Every received RTP packet — media, RTX and padding-only probes alike — is recorded by
//! SSRC and RTP sequence number with its arrival time (an [`ArrivalLog`] per stream,
//! bounded, late packets reported again). Every [`CCFB_INTERVAL`] while something waits,
//! the arrivals since the last report go back as [`CongestionControlFeedback`] messages:
//! one report block per stream from the first number not yet reported to the highest, each
//! packet received or not, its arrival as an offset before the report timestamp (RFC 8888
//! §3.1). ECN is not known to the core (the driver does not read it) and is reported as
//! not-ECT.
//!
//! Bounds: at most [`MAX_STREAMS`] streams are tracked (a new one replaces the stream
//! heard from least recently); a message reports at most [`MAX_REPORTS_PER_MESSAGE`]
//! packets (about 1 KB on the wire); one poll gives at most
//! [`MAX_MESSAGES_PER_POLL`] messages.

use super::arrival_log::{ArrivalLog, Recorded};
use super::transport_feedback::MAX_MESSAGES_PER_POLL;
use crate::rtp::rtcp::{
    ATO_OVER_RANGE, ATO_UNITS_PER_SECOND, CcfbArrival, CcfbBlock, CongestionControlFeedback,
};
use std::time::{Duration, Instant};

/// The interval between reports while packets arrive (RFC 8888 §3.1 leaves it to the
/// congestion controller; libwebrtc sends every 25–250 ms by rate).
pub(crate) const CCFB_INTERVAL: Duration = Duration::from_millis(50);
/// The most streams tracked at once.
pub(crate) const MAX_STREAMS: usize = 32;
/// The most packets one message reports (2 bytes each).
pub(crate) const MAX_REPORTS_PER_MESSAGE: usize = 500;

/// Counters of the receiving side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CcfbStats {
    /// Packets recorded.
    pub packets_recorded: u64,
    /// Packets too old to report, or duplicates.
    pub packets_ignored: u64,
    /// Streams dropped to make room for a new one.
    pub streams_evicted: u64,
    /// Feedback messages built.
    pub feedback_sent: u64,
}

#[derive(Debug, Clone)]
struct StreamArrivals {
    ssrc: u32,
    log: ArrivalLog,
    last_arrival: Instant,
}

/// Records RTP packets by stream as they arrive and builds RFC 8888 feedback. A peer
/// connection runs one for everything it receives when RFC 8888 feedback was negotiated;
/// it is public for forwarders and tests that build their own RTCP.
#[derive(Debug, Default, Clone)]
pub struct CcfbReceiver {
    streams: Vec<StreamArrivals>,
    next_due: Option<Instant>,
    stats: CcfbStats,
}

impl CcfbReceiver {
    /// Records that packet `seq` of stream `ssrc` arrived at `now`.
    pub fn on_packet(&mut self, now: Instant, ssrc: u32, seq: u16) {
        let stream = self.stream_mut(now, ssrc);
        stream.last_arrival = now;
        match stream.log.record(now, seq) {
            Recorded::New { .. } => {
                self.stats.packets_recorded += 1;
                self.next_due.get_or_insert(now + CCFB_INTERVAL);
            }
            Recorded::Ignored => self.stats.packets_ignored += 1,
        }
    }

    /// When feedback is due; `None` while nothing waits to be reported.
    pub fn deadline(&self) -> Option<Instant> {
        self.next_due
    }

    /// The feedback due at `now` (empty before its deadline), from `sender_ssrc`, stamped
    /// with `report_ntp` (the wall clock at `now` as a 64-bit NTP timestamp; its middle 32
    /// bits are written).
    pub fn poll_feedback(
        &mut self,
        now: Instant,
        sender_ssrc: u32,
        report_ntp: u64,
    ) -> Vec<CongestionControlFeedback> {
        if self.next_due.is_none_or(|at| at > now) {
            return Vec::new();
        }
        self.next_due = None;
        let report_timestamp = (report_ntp >> 16) as u32;
        let mut messages = Vec::new();
        while messages.len() < MAX_MESSAGES_PER_POLL {
            let blocks = self.next_blocks(now);
            if blocks.is_empty() {
                break;
            }
            messages.push(CongestionControlFeedback {
                sender_ssrc,
                blocks,
                report_timestamp,
            });
        }
        if self.streams.iter().any(|s| s.log.pending()) {
            self.next_due = Some(now + CCFB_INTERVAL);
        }
        self.stats.feedback_sent += messages.len() as u64;
        messages
    }

    /// The counters so far.
    pub fn stats(&self) -> CcfbStats {
        self.stats
    }

    /// The stream of `ssrc`, added (in place of the one heard from least recently when
    /// [`MAX_STREAMS`] are tracked) when new.
    fn stream_mut(&mut self, now: Instant, ssrc: u32) -> &mut StreamArrivals {
        if let Some(i) = self.streams.iter().position(|s| s.ssrc == ssrc) {
            return &mut self.streams[i];
        }
        if self.streams.len() >= MAX_STREAMS
            && let Some(oldest) =
                (0..self.streams.len()).min_by_key(|&i| self.streams[i].last_arrival)
        {
            self.streams.swap_remove(oldest);
            self.stats.streams_evicted += 1;
        }
        self.streams.push(StreamArrivals {
            ssrc,
            log: ArrivalLog::default(),
            last_arrival: now,
        });
        self.streams.last_mut().expect("just pushed")
    }

    /// Report blocks for one message: what waits in each stream, up to
    /// [`MAX_REPORTS_PER_MESSAGE`] packets in all; marks them reported.
    fn next_blocks(&mut self, now: Instant) -> Vec<CcfbBlock> {
        let mut budget = MAX_REPORTS_PER_MESSAGE;
        let mut blocks = Vec::new();
        for s in &mut self.streams {
            if budget == 0 {
                break;
            }
            let (Some(first), Some(highest)) = (s.log.start(), s.log.highest()) else {
                continue;
            };
            if first > highest {
                continue;
            }
            let last = highest.min(first + budget as i64 - 1);
            let reports: Vec<_> = (first..=last)
                .map(|seq| s.log.arrival(seq).map(|at| arrival(now, at)))
                .collect();
            budget -= reports.len();
            s.log.set_start(last + 1);
            blocks.push(CcfbBlock {
                media_ssrc: s.ssrc,
                begin_seq: first as u16,
                reports,
            });
        }
        blocks
    }
}

/// A packet that arrived at `at`, reported at `now`.
fn arrival(now: Instant, at: Instant) -> CcfbArrival {
    let before = now.saturating_duration_since(at);
    let units = before.as_micros() * u128::from(ATO_UNITS_PER_SECOND) / 1_000_000;
    CcfbArrival {
        ecn: 0,
        offset: u16::try_from(units).map_or(ATO_OVER_RANGE, |u| u.min(ATO_OVER_RANGE)),
    }
}

#[cfg(test)]
#[path = "ccfb_feedback_tests.rs"]
mod tests;
