//! Receiver side of loss recovery (RFC 4585 §6.2.1 generic NACK): which sequence numbers of
//! one inbound stream are missing, and when to ask for them again.
//!
//! Modelled on the behaviour of libwebrtc's NACK module: a sequence number becomes missing
//! when a newer one arrives; it is asked for at once, then again every round-trip time,
//! at most [`MAX_RETRIES`] times, and forgotten when it arrives (as the original or as a
//! retransmission) or falls more than [`MAX_AGE`] sequence numbers behind the newest. A
//! list that would grow past [`MAX_LIST`] is cleared and the caller told to request a
//! keyframe instead: so many retransmissions would come too late to help.
//!
//! Not implemented: the reorder histogram libwebrtc uses to delay the first NACK (the
//! first request goes out at once, so a reordered packet may be asked for needlessly;
//! answering it costs one duplicate).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most sequence numbers waited for at once.
pub(crate) const MAX_LIST: usize = 1000;
/// Sequence numbers this far behind the newest are no longer asked for.
pub(crate) const MAX_AGE: u64 = 10_000;
/// Most NACKs sent for one sequence number.
pub(crate) const MAX_RETRIES: u8 = 10;
/// The spacing of retries before a round-trip time is known.
pub(crate) const DEFAULT_RTT: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
struct Missing {
    /// NACKs sent for it so far.
    sent: u8,
    /// When it is due (again).
    due: Instant,
}

/// What an arriving packet changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NackUpdate {
    /// Nothing the caller must act on.
    None,
    /// The list overflowed and was cleared: ask for a keyframe.
    KeyframeNeeded,
}

/// The missing sequence numbers of one inbound stream. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub(crate) struct NackGenerator {
    /// The newest sequence number, extended with its wrap count.
    highest: Option<u64>,
    missing: BTreeMap<u64, Missing>,
    /// The earliest `due` in `missing`.
    deadline: Option<Instant>,
    /// Sequence numbers given up after [`MAX_RETRIES`] or by age.
    pub given_up: u64,
}

impl NackGenerator {
    /// Accounts a packet (an original or a repaired retransmission) with `seq`.
    pub fn on_packet(&mut self, now: Instant, seq: u16) -> NackUpdate {
        let Some(highest) = self.highest else {
            self.highest = Some(u64::from(seq) + (1 << 16));
            return NackUpdate::None;
        };
        let ext = extend(highest, seq);
        if ext <= highest {
            // The deadline stays unless nothing is missing any more: if this was the
            // earliest entry, it is now early, which costs one `take_due` that finds
            // nothing due and recomputes it. (Recomputing here would scan the list for
            // every repaired packet, and repairs arrive oldest first.)
            if self.missing.remove(&ext).is_some() && self.missing.is_empty() {
                self.deadline = None;
            }
            return NackUpdate::None;
        }
        self.highest = Some(ext);
        let gap = ext - highest - 1;
        if gap as usize + self.missing.len() > MAX_LIST {
            self.given_up += self.missing.len() as u64 + gap;
            self.missing.clear();
            self.deadline = None;
            return NackUpdate::KeyframeNeeded;
        }
        for s in highest + 1..ext {
            self.missing.insert(s, Missing { sent: 0, due: now });
        }
        let aged_out = self.forget_older_than(ext.saturating_sub(MAX_AGE));
        if gap > 0 {
            self.deadline = Some(self.deadline.map_or(now, |d| d.min(now)));
        } else if aged_out {
            self.refresh_deadline();
        }
        // In order and nothing aged out (the common case): the list and its deadline are
        // unchanged, and the packet costs O(1) whatever the list's length.
        NackUpdate::None
    }

    /// Gives up the entries numbered below `oldest_kept`; whether there were any.
    fn forget_older_than(&mut self, oldest_kept: u64) -> bool {
        if self
            .missing
            .first_key_value()
            .is_none_or(|(seq, _)| *seq >= oldest_kept)
        {
            return false;
        }
        let kept = self.missing.split_off(&oldest_kept);
        self.given_up += self.missing.len() as u64;
        self.missing = kept;
        true
    }

    /// Whether a packet numbered `seq` would still be news: missing, or beyond the
    /// highest seen. A retransmission that is not (a probe's copy of a packet that
    /// arrived) is a duplicate.
    pub fn awaits(&self, seq: u16) -> bool {
        let Some(highest) = self.highest else {
            return true;
        };
        let ext = extend(highest, seq);
        ext > highest || self.missing.contains_key(&ext)
    }

    /// When [`take_due`](Self::take_due) has something to send.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The sequence numbers to NACK at `now` (at most `limit`; the rest stay due), in
    /// ascending order; each is due again after `rtt`. Those asked for [`MAX_RETRIES`]
    /// times are given up (returned as the count).
    pub fn take_due(&mut self, now: Instant, rtt: Duration, limit: usize) -> (Vec<u16>, u64) {
        if self.deadline.is_none_or(|d| d > now) {
            return (Vec::new(), 0);
        }
        let mut due = Vec::new();
        let mut dropped = Vec::new();
        for (&seq, m) in self.missing.iter_mut() {
            if m.due > now {
                continue;
            }
            if due.len() >= limit {
                break;
            }
            if m.sent >= MAX_RETRIES {
                dropped.push(seq);
                continue;
            }
            m.sent += 1;
            m.due = now + rtt;
            due.push(seq as u16);
        }
        for seq in &dropped {
            self.missing.remove(seq);
        }
        self.given_up += dropped.len() as u64;
        self.refresh_deadline();
        (due, dropped.len() as u64)
    }

    /// How many sequence numbers are waited for.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn len(&self) -> usize {
        self.missing.len()
    }

    /// The newest sequence number, extended with its wrap count.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// The deadline from scratch: O(length of the list), so only after `take_due` and
    /// when old entries age out.
    fn refresh_deadline(&mut self) {
        self.deadline = self.missing.values().map(|m| m.due).min();
    }
}

/// `seq` extended to the wrap count that puts it nearest `highest`.
pub(crate) fn extend(highest: u64, seq: u16) -> u64 {
    let base = highest & !0xffff;
    let candidate = base | u64::from(seq);
    let candidates = [
        candidate.wrapping_sub(1 << 16),
        candidate,
        candidate + (1 << 16),
    ];
    candidates
        .into_iter()
        .filter(|c| *c >= 1 << 16)
        .min_by_key(|c| c.abs_diff(highest))
        .unwrap_or(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    const RTT: Duration = Duration::from_millis(50);

    #[test]
    fn a_gap_is_nacked_at_once_then_every_rtt_until_it_arrives() {
        let now = t0();
        let mut g = NackGenerator::default();
        for seq in [10u16, 11, 14] {
            assert_eq!(g.on_packet(now, seq), NackUpdate::None);
        }
        assert_eq!(g.deadline(), Some(now));
        assert_eq!(g.take_due(now, RTT, 100), (vec![12, 13], 0));
        // Not again before one RTT.
        assert_eq!(g.take_due(now + RTT / 2, RTT, 100).0, Vec::<u16>::new());
        assert_eq!(g.deadline(), Some(now + RTT));
        g.on_packet(now + RTT / 2, 12);
        assert_eq!(g.take_due(now + RTT, RTT, 100), (vec![13], 0));
        g.on_packet(now + RTT, 13);
        assert_eq!(g.len(), 0);
        assert_eq!(g.deadline(), None);
    }

    #[test]
    fn a_long_list_goes_out_in_bounded_chunks() {
        let now = t0();
        let mut g = NackGenerator::default();
        g.on_packet(now, 0);
        g.on_packet(now, 11);
        assert_eq!(g.take_due(now, RTT, 4).0, vec![1, 2, 3, 4]);
        assert_eq!(g.deadline(), Some(now));
        assert_eq!(g.take_due(now, RTT, 4).0, vec![5, 6, 7, 8]);
        assert_eq!(g.take_due(now, RTT, 4).0, vec![9, 10]);
        assert_eq!(g.deadline(), Some(now + RTT));
    }

    #[test]
    fn a_packet_that_arrived_is_never_nacked() {
        let now = t0();
        let mut g = NackGenerator::default();
        for seq in [1u16, 3, 2, 4, 5] {
            g.on_packet(now, seq);
        }
        assert_eq!(g.take_due(now, RTT, 100).0, Vec::<u16>::new());
    }

    #[test]
    fn retries_stop_after_the_cap() {
        let now = t0();
        let mut g = NackGenerator::default();
        g.on_packet(now, 1);
        g.on_packet(now, 3);
        let mut sent = 0;
        let mut at = now;
        for _ in 0..20 {
            let (due, _) = g.take_due(at, RTT, 100);
            sent += due.len();
            at += RTT;
        }
        assert_eq!(sent, usize::from(MAX_RETRIES));
        assert_eq!(g.len(), 0);
        assert_eq!(g.given_up, 1);
    }

    #[test]
    fn gaps_across_the_wrap_are_found() {
        let now = t0();
        let mut g = NackGenerator::default();
        g.on_packet(now, 65_534);
        g.on_packet(now, 1);
        assert_eq!(g.take_due(now, RTT, 100).0, vec![65_535, 0]);
    }

    #[test]
    fn an_overflowing_list_asks_for_a_keyframe_and_stays_bounded() {
        let now = t0();
        let mut g = NackGenerator::default();
        g.on_packet(now, 0);
        assert_eq!(g.on_packet(now, 2000), NackUpdate::KeyframeNeeded);
        assert_eq!(g.len(), 0);
        // Many small gaps add up to the cap, never beyond it.
        let mut seq = 2000u16;
        let mut overflowed = false;
        for _ in 0..2000 {
            seq = seq.wrapping_add(2);
            overflowed |= g.on_packet(now, seq) == NackUpdate::KeyframeNeeded;
            assert!(g.len() <= MAX_LIST);
        }
        assert!(overflowed);
    }

    #[test]
    fn old_and_duplicate_sequence_numbers_change_nothing() {
        let now = t0();
        let mut g = NackGenerator::default();
        g.on_packet(now, 100);
        g.on_packet(now, 100);
        g.on_packet(now, 50);
        assert_eq!(g.len(), 0);
        assert_eq!(g.take_due(now, RTT, 100).0, Vec::<u16>::new());
    }

    /// The earliest `due` of the list, computed from scratch.
    fn earliest_due(g: &NackGenerator) -> Option<Instant> {
        g.missing.values().map(|m| m.due).min()
    }

    proptest::proptest! {
        /// Whatever arrives (in order, late, duplicated, across the wrap, with gaps), the
        /// deadline is never later than the earliest entry's due time, so no NACK is ever
        /// late; and at the earliest due time the entries due are handed out.
        #[test]
        fn the_deadline_is_never_later_than_the_earliest_due(
            steps in proptest::collection::vec((0u16..40, proptest::bool::ANY, 0u64..60), 1..300)
        ) {
            let start = t0();
            let mut g = NackGenerator::default();
            let mut seq = 0u16;
            let mut ms = 0u64;
            for (jump, late, dt) in steps {
                ms += dt;
                let now = start + Duration::from_millis(ms);
                let s = if late { seq.wrapping_sub(jump) } else { seq.wrapping_add(jump) };
                if !late {
                    seq = s;
                }
                g.on_packet(now, s);
                if let Some(earliest) = earliest_due(&g) {
                    let deadline = g.deadline().expect("a deadline while something is missing");
                    proptest::prop_assert!(deadline <= earliest);
                }
                if g.deadline().is_some_and(|d| d <= now) {
                    let due_before = g.missing.values().filter(|m| m.due <= now).count();
                    let (asked, dropped) = g.take_due(now, RTT, usize::MAX);
                    proptest::prop_assert_eq!(asked.len() + dropped as usize, due_before);
                }
            }
        }
    }
}
