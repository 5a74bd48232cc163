//! Packet index estimation (RFC 3711 §3.3.1, Appendix A) and the replay window (§3.3.2).
//!
//! The window is a ring of bits indexed by `index mod N` (N = window rounded up to whole
//! 64-bit words) plus the highest index seen. `check` answers without changing anything;
//! `commit` records an index once its packet has authenticated.

/// Length of the RTP sequence number space.
const SEQ_SPACE: u64 = 1 << 16;
/// Highest SRTP packet index (48 bits: 32-bit ROC, 16-bit SEQ).
pub(super) const MAX_RTP_INDEX: u64 = (1 << 48) - 1;

/// The 48-bit packet index of sequence number `seq`, guessed from the highest index
/// `highest` seen so far (RFC 3711 Appendix A): the candidate with ROC-1, ROC or ROC+1
/// closest to `highest`. `None` when the guess would leave the 48-bit space (ROC+1 past
/// 2^32 - 1); a guess of ROC-1 below zero falls back to ROC.
pub(super) fn estimate_index(highest: u64, seq: u16) -> Option<u64> {
    let roc = highest >> 16;
    let s_l = highest & 0xffff;
    let seq = u64::from(seq);
    let guess_roc = if s_l < SEQ_SPACE / 2 {
        if seq > s_l + SEQ_SPACE / 2 && roc > 0 {
            roc - 1
        } else {
            roc
        }
    } else if s_l - SEQ_SPACE / 2 > seq {
        roc + 1
    } else {
        roc
    };
    let index = (guess_roc << 16) | seq;
    (index <= MAX_RTP_INDEX).then_some(index)
}

/// Whether an index can still be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not seen and within (or ahead of) the window.
    Fresh,
    /// Seen before, or older than the window.
    Replayed,
}

/// A replay window over packet indices.
#[derive(Debug, Clone)]
pub(super) struct ReplayWindow {
    /// Window size in packets: indices older than `highest - size + 1` are refused.
    size: u64,
    /// Highest index committed, `None` before the first packet.
    highest: Option<u64>,
    /// Bit `i mod (64 * bits.len())` is set when index `i` was received.
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// An empty window of `size` packets (>= 1).
    pub(super) fn new(size: u16) -> Self {
        let words = usize::from(size).div_ceil(64).max(1);
        Self {
            size: u64::from(size.max(1)),
            highest: None,
            bits: vec![0; words].into_boxed_slice(),
        }
    }

    /// Highest committed index, if any.
    pub(super) fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Whether `index` may be accepted; changes nothing.
    pub(super) fn check(&self, index: u64) -> Verdict {
        let Some(highest) = self.highest else {
            return Verdict::Fresh;
        };
        if index > highest {
            return Verdict::Fresh;
        }
        if highest - index >= self.size || self.bit(index) {
            return Verdict::Replayed;
        }
        Verdict::Fresh
    }

    /// Records `index` as received (after its packet authenticated and `check` said fresh).
    pub(super) fn commit(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => {}
            Some(highest) => {
                self.clear_after(highest, index);
                self.highest = Some(index);
            }
            None => self.highest = Some(index),
        }
        let (word, mask) = self.position(index);
        self.bits[word] |= mask;
    }

    /// Clears the bits of indices `from + 1 ..= to` (their slots held old indices).
    fn clear_after(&mut self, from: u64, to: u64) {
        let ring = 64 * self.bits.len() as u64;
        if to - from >= ring {
            self.bits.fill(0);
            return;
        }
        let mut index = from + 1;
        while index <= to {
            let (word, mask) = self.position(index);
            if index.is_multiple_of(64) && to - index >= 63 {
                self.bits[word] = 0;
                index += 64;
            } else {
                self.bits[word] &= !mask;
                index += 1;
            }
        }
    }

    fn bit(&self, index: u64) -> bool {
        let (word, mask) = self.position(index);
        self.bits[word] & mask != 0
    }

    fn position(&self, index: u64) -> (usize, u64) {
        let slot = index % (64 * self.bits.len() as u64);
        ((slot / 64) as usize, 1 << (slot % 64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_estimate_follows_wrap_in_both_directions() {
        // Just before a wrap, a small SEQ belongs to the next ROC.
        assert_eq!(estimate_index(0xffff, 0), Some(0x1_0000));
        assert_eq!(estimate_index(0x0_fff0, 5), Some(0x1_0005));
        // Just after a wrap, a large SEQ belongs to the previous ROC.
        assert_eq!(estimate_index(0x1_0002, 0xfffe), Some(0x0_fffe));
        // In the middle, the same ROC.
        assert_eq!(estimate_index(0x2_8000, 0x7000), Some(0x2_7000));
        // ROC 0 has no previous ROC.
        assert_eq!(estimate_index(10, 0xfff0), Some(0xfff0));
        // The last ROC has no next one.
        assert_eq!(estimate_index(MAX_RTP_INDEX, 0), None);
    }

    #[test]
    fn window_refuses_duplicates_and_old_indices() {
        let mut w = ReplayWindow::new(64);
        assert_eq!(w.check(1000), Verdict::Fresh);
        w.commit(1000);
        assert_eq!(w.check(1000), Verdict::Replayed);
        assert_eq!(w.check(999), Verdict::Fresh);
        assert_eq!(w.check(937), Verdict::Fresh);
        assert_eq!(w.check(936), Verdict::Replayed);
        w.commit(990);
        assert_eq!(w.check(990), Verdict::Replayed);
        // Moving far ahead forgets the old slots but keeps refusing old indices.
        w.commit(1100);
        assert_eq!(w.check(1000), Verdict::Replayed);
        assert_eq!(w.check(1090), Verdict::Fresh);
        w.commit(1090);
        assert_eq!(w.check(1090), Verdict::Replayed);
    }

    #[test]
    fn window_reuses_ring_slots_after_advancing() {
        let mut w = ReplayWindow::new(128);
        for i in 0..1000 {
            assert_eq!(w.check(i), Verdict::Fresh, "index {i}");
            w.commit(i);
        }
        // Slot of 1000 held 872 (and 744); it must read as not received.
        assert_eq!(w.check(1000), Verdict::Fresh);
        w.commit(1130);
        for i in 1003..=1130 {
            assert_eq!(
                w.check(i),
                if i == 1130 {
                    Verdict::Replayed
                } else {
                    Verdict::Fresh
                }
            );
        }
    }

    #[test]
    fn window_size_is_honoured_exactly() {
        let mut w = ReplayWindow::new(100);
        w.commit(500);
        assert_eq!(w.check(401), Verdict::Fresh);
        assert_eq!(w.check(400), Verdict::Replayed);
    }
}
