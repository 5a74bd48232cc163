//! The 64-entry sliding anti-replay window of RFC 6347 section 4.1.2.6.

/// Remembers the highest sequence number seen and which of the 63 before it arrived.
#[derive(Debug, Clone, Default)]
pub struct ReplayWindow {
    /// Highest sequence number accepted, if any.
    top: Option<u64>,
    /// Bit `i` set: `top - i` was accepted.
    bits: u64,
}

impl ReplayWindow {
    /// True if `seq` is new and not too old (check before authenticating).
    pub fn check(&self, seq: u64) -> bool {
        match self.top {
            None => true,
            Some(top) if seq > top => true,
            Some(top) => {
                let age = top - seq;
                age < 64 && self.bits & (1 << age) == 0
            }
        }
    }

    /// Marks `seq` as received (call only after the record authenticated).
    pub fn accept(&mut self, seq: u64) {
        match self.top {
            None => {
                self.top = Some(seq);
                self.bits = 1;
            }
            Some(top) if seq > top => {
                let shift = seq - top;
                self.bits = if shift >= 64 { 0 } else { self.bits << shift };
                self.bits |= 1;
                self.top = Some(seq);
            }
            Some(top) => {
                let age = top - seq;
                if age < 64 {
                    self.bits |= 1 << age;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_is_refused() {
        let mut w = ReplayWindow::default();
        assert!(w.check(5));
        w.accept(5);
        assert!(!w.check(5));
    }

    #[test]
    fn out_of_order_inside_window_is_accepted_once() {
        let mut w = ReplayWindow::default();
        w.accept(100);
        assert!(w.check(40));
        w.accept(40);
        assert!(!w.check(40));
        assert!(w.check(99));
    }

    #[test]
    fn older_than_window_is_refused() {
        let mut w = ReplayWindow::default();
        w.accept(100);
        assert!(!w.check(36));
        assert!(w.check(37));
    }

    #[test]
    fn big_jump_clears_the_window() {
        let mut w = ReplayWindow::default();
        w.accept(1);
        w.accept(1000);
        assert!(w.check(999));
        assert!(!w.check(1000));
    }
}
