//! Receiver TSN bookkeeping (RFC 9260 section 6.2): the cumulative TSN, the out-of-order
//! TSNs above it as a short sorted list of ranges (the future gap blocks), duplicate TSNs
//! for the next SACK, and when a SACK is due (every second packet with DATA, within the
//! delayed-ack time, at once when there are gaps or duplicates).

use super::chunk::SackChunk;

/// Most disjoint out-of-order ranges kept; a chunk that would add one more is dropped.
pub(crate) const MAX_RANGES: usize = 128;
/// Most duplicate TSNs reported in one SACK.
const MAX_DUPS: usize = 32;
/// How far ahead of the cumulative TSN a chunk may be.
const MAX_AHEAD: u64 = 65_000;

/// How a received TSN relates to what we have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsnClass {
    /// New: accept (unwrapped TSN).
    New(u64),
    /// Already received.
    Duplicate,
    /// Too far ahead or no room for another range.
    Refused,
}

/// Received TSNs.
#[derive(Debug, Clone)]
pub(crate) struct TsnTracker {
    cum: u64,
    /// Disjoint, sorted, non-adjacent ranges, all above `cum + 1`.
    ranges: Vec<(u64, u64)>,
    dups: Vec<u32>,
}

impl TsnTracker {
    pub(crate) fn new(peer_initial_tsn: u32) -> Self {
        Self {
            cum: u64::from(peer_initial_tsn) + (1 << 32) - 1,
            ranges: Vec::new(),
            dups: Vec::new(),
        }
    }

    pub(crate) fn cum(&self) -> u64 {
        self.cum
    }

    pub(crate) fn has_gaps(&self) -> bool {
        !self.ranges.is_empty()
    }

    pub(crate) fn has_dups(&self) -> bool {
        !self.dups.is_empty()
    }

    pub(crate) fn unwrap(&self, tsn: u32) -> u64 {
        let delta = tsn.wrapping_sub(self.cum as u32) as i32;
        self.cum.wrapping_add_signed(i64::from(delta))
    }

    /// Classifies a TSN without recording it.
    pub(crate) fn classify(&self, tsn: u32) -> TsnClass {
        let t = self.unwrap(tsn);
        if t <= self.cum {
            return TsnClass::Duplicate;
        }
        if t - self.cum > MAX_AHEAD {
            return TsnClass::Refused;
        }
        let idx = self.ranges.partition_point(|&(_, hi)| hi < t);
        match self.ranges.get(idx) {
            Some(&(lo, _)) if lo <= t => TsnClass::Duplicate,
            _ if self.ranges.len() >= MAX_RANGES && !self.touches(idx, t) => TsnClass::Refused,
            _ => TsnClass::New(t),
        }
    }

    fn touches(&self, idx: usize, t: u64) -> bool {
        t == self.cum + 1
            || self.ranges.get(idx).is_some_and(|r| r.0 == t + 1)
            || idx
                .checked_sub(1)
                .and_then(|i| self.ranges.get(i))
                .is_some_and(|r| r.1 + 1 == t)
    }

    /// Remembers a duplicate for the next SACK.
    pub(crate) fn note_duplicate(&mut self, tsn: u32) {
        if self.dups.len() < MAX_DUPS {
            self.dups.push(tsn);
        }
    }

    /// Records a TSN classified [`TsnClass::New`].
    pub(crate) fn record(&mut self, t: u64) {
        if t == self.cum + 1 {
            self.cum = t;
            self.absorb_front();
            return;
        }
        let idx = self.ranges.partition_point(|&(_, hi)| hi < t);
        let joins_prev = idx > 0 && self.ranges[idx - 1].1 + 1 == t;
        let joins_next = self.ranges.get(idx).is_some_and(|r| r.0 == t + 1);
        match (joins_prev, joins_next) {
            (true, true) => {
                self.ranges[idx - 1].1 = self.ranges[idx].1;
                self.ranges.remove(idx);
            }
            (true, false) => self.ranges[idx - 1].1 = t,
            (false, true) => self.ranges[idx].0 = t,
            (false, false) => self.ranges.insert(idx, (t, t)),
        }
    }

    fn absorb_front(&mut self) {
        if let Some(&(lo, hi)) = self.ranges.first()
            && lo == self.cum + 1
        {
            self.cum = hi;
            self.ranges.remove(0);
        }
    }

    /// FORWARD TSN: everything up to `new_cum` counts as received. Returns whether the
    /// cumulative TSN moved.
    pub(crate) fn forward(&mut self, new_cum: u64) -> bool {
        if new_cum <= self.cum || new_cum - self.cum > MAX_AHEAD {
            return false;
        }
        self.cum = new_cum;
        self.ranges.retain(|r| r.1 > new_cum);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(new_cum + 1);
        }
        self.absorb_front();
        true
    }

    /// Builds a SACK with at most `max_entries` gap blocks plus duplicates, and clears the
    /// duplicate list.
    pub(crate) fn sack(&mut self, a_rwnd: u32, max_entries: usize) -> SackChunk {
        let gap_blocks: Vec<(u16, u16)> = self
            .ranges
            .iter()
            .take(max_entries)
            .map(|&(lo, hi)| ((lo - self.cum) as u16, (hi - self.cum) as u16))
            .collect();
        let room = max_entries.saturating_sub(gap_blocks.len());
        let dup_count = self.dups.len().min(room);
        let duplicate_tsns = self.dups.drain(..).take(dup_count).collect();
        SackChunk {
            cumulative_tsn_ack: self.cum as u32,
            a_rwnd,
            gap_blocks,
            duplicate_tsns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(t: &mut TsnTracker, tsn: u32) {
        match t.classify(tsn) {
            TsnClass::New(u) => t.record(u),
            TsnClass::Duplicate => t.note_duplicate(tsn),
            TsnClass::Refused => panic!("refused {tsn}"),
        }
    }

    #[test]
    fn in_order_tsns_advance_the_cumulative_tsn() {
        let mut t = TsnTracker::new(100);
        for tsn in 100..110 {
            record(&mut t, tsn);
        }
        let s = t.sack(1000, 100);
        assert_eq!(s.cumulative_tsn_ack, 109);
        assert!(s.gap_blocks.is_empty());
    }

    #[test]
    fn out_of_order_tsns_become_gap_blocks_and_merge() {
        let mut t = TsnTracker::new(1);
        for tsn in [1, 3, 4, 7, 6] {
            record(&mut t, tsn);
        }
        let s = t.sack(1000, 100);
        assert_eq!(s.cumulative_tsn_ack, 1);
        assert_eq!(s.gap_blocks, vec![(2, 3), (5, 6)]);
        record(&mut t, 5);
        record(&mut t, 2);
        assert_eq!(t.sack(1000, 100).cumulative_tsn_ack, 7);
        assert!(!t.has_gaps());
    }

    #[test]
    fn duplicates_are_reported_once() {
        let mut t = TsnTracker::new(u32::MAX);
        record(&mut t, u32::MAX);
        record(&mut t, u32::MAX);
        record(&mut t, 0);
        let s = t.sack(1000, 100);
        assert_eq!(s.cumulative_tsn_ack, 0, "wraps around");
        assert_eq!(s.duplicate_tsns, vec![u32::MAX]);
        assert!(t.sack(1000, 100).duplicate_tsns.is_empty());
    }

    #[test]
    fn forward_tsn_skips_missing_tsns() {
        let mut t = TsnTracker::new(10);
        record(&mut t, 13);
        let target = t.unwrap(12);
        assert!(t.forward(target));
        assert_eq!(t.sack(0, 10).cumulative_tsn_ack, 13);
    }

    #[test]
    fn too_many_ranges_are_refused() {
        let mut t = TsnTracker::new(0);
        for i in 0..MAX_RANGES as u32 {
            record(&mut t, 2 + 2 * i);
        }
        assert_eq!(t.classify(10_000), TsnClass::Refused);
        assert!(
            matches!(t.classify(0), TsnClass::New(_)),
            "the next in order is always taken"
        );
    }
}
