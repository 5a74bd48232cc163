//! When each sequence number of one 16-bit space arrived, kept until feedback reports it:
//! the bookkeeping shared by transport-wide feedback (one space for the connection) and
//! RFC 8888 feedback (one space per RTP stream).
//!
//! Numbers are extended (unwrapped) around the highest seen. Arrivals are kept for
//! [`HISTORY`] behind the newest and for at most [`MAX_PACKETS`] numbers, so a peer cannot
//! grow memory. A packet that arrives after its number was reported missing moves the next
//! report's start back to it, as libwebrtc's receivers do, so the sender learns it arrived
//! after all.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How far behind the newest arrival late packets are still reported.
pub(crate) const HISTORY: Duration = Duration::from_millis(500);
/// The most sequence numbers whose arrival is kept.
pub(crate) const MAX_PACKETS: i64 = 1 << 13;

/// What [`ArrivalLog::record`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Recorded; `gap` when it was not the number right after the highest so far.
    New { gap: bool },
    /// A duplicate, or too old to report.
    Ignored,
}

/// Arrivals of one sequence-number space and where the next report starts.
#[derive(Debug, Default, Clone)]
pub(crate) struct ArrivalLog {
    /// Extended sequence number → arrival. Never empty after the first packet: pruning
    /// keeps the packet just recorded and every higher one, so its last key is the highest
    /// number so far.
    arrivals: BTreeMap<i64, Instant>,
    /// The first number the next report covers; never below the first key of `arrivals`.
    start: Option<i64>,
}

impl ArrivalLog {
    /// Records that `seq` arrived at `now`.
    pub(crate) fn record(&mut self, now: Instant, seq: u16) -> Recorded {
        let highest = self.highest();
        let ext = extend_around(seq, highest);
        let too_old = highest.is_some_and(|h| ext <= h - MAX_PACKETS);
        if too_old || self.arrivals.contains_key(&ext) {
            return Recorded::Ignored;
        }
        let gap = highest.is_some_and(|h| ext != h + 1);
        self.arrivals.insert(ext, now);
        self.start = Some(self.start.map_or(ext, |s| s.min(ext)));
        self.prune(now, highest.map_or(ext, |h| h.max(ext)));
        Recorded::New { gap }
    }

    /// The highest extended sequence number recorded so far.
    pub(crate) fn highest(&self) -> Option<i64> {
        self.arrivals.last_key_value().map(|(&seq, _)| seq)
    }

    /// The first number the next report covers.
    pub(crate) fn start(&self) -> Option<i64> {
        self.start
    }

    /// Marks everything before `next` reported.
    pub(crate) fn set_start(&mut self, next: i64) {
        self.start = Some(next);
    }

    /// Whether recorded numbers wait to be reported.
    pub(crate) fn pending(&self) -> bool {
        matches!((self.start, self.highest()), (Some(s), Some(h)) if s <= h)
    }

    /// When extended number `seq` arrived, if it did and is still kept.
    pub(crate) fn arrival(&self, seq: i64) -> Option<Instant> {
        self.arrivals.get(&seq).copied()
    }

    /// The first kept arrival at or after `from` (up to `to`).
    pub(crate) fn first_arrival_in(&self, from: i64, to: i64) -> Option<Instant> {
        self.arrivals.range(from..=to).next().map(|(_, &at)| at)
    }

    /// Numbers kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.arrivals.len()
    }

    /// `seq` extended around the highest number so far.
    #[cfg(test)]
    pub(crate) fn extend(&self, seq: u16) -> i64 {
        extend_around(seq, self.highest())
    }

    /// Forgets arrivals older than [`HISTORY`] before `now` or [`MAX_PACKETS`] behind
    /// `highest` (the highest number, just recorded), from the lowest number up to the first
    /// one kept (the packet just recorded at `now` always is); the next report starts no
    /// earlier than what is kept.
    fn prune(&mut self, now: Instant, highest: i64) {
        while let Some((&seq, &at)) = self.arrivals.first_key_value() {
            let old = now.saturating_duration_since(at) > HISTORY;
            if seq > highest - MAX_PACKETS && !old {
                break;
            }
            self.arrivals.pop_first();
        }
        let floor = self
            .arrivals
            .first_key_value()
            .map_or(highest + 1, |(&k, _)| k);
        if let Some(start) = self.start.as_mut() {
            *start = (*start).max(floor);
        }
        debug_assert!(
            self.start.is_none_or(|s| s >= floor),
            "the start stays at or after the first arrival kept"
        );
    }
}

/// `seq` extended to the value nearest `highest` (`seq` itself when nothing came yet).
pub(crate) fn extend_around(seq: u16, highest: Option<i64>) -> i64 {
    match highest {
        None => i64::from(seq),
        Some(h) => h + i64::from(seq.wrapping_sub(h as u16) as i16),
    }
}
