//! The driver's runtime timer, moved only when the core's deadline moves earlier.
//!
//! During a bulk transfer the core's next timeout changes after nearly every drain: the
//! retransmission timer restarts with each acknowledgement (later), the pacer asks to be
//! woken a few microseconds on (often already past when the driver looks). Resetting the
//! runtime timer each time costs more than the timeout itself on some runtimes: smol's
//! reactor takes every reset as a new timer and is notified of it (an `eventfd` write,
//! then a wake-up of the reactor to re-read its timers and set its `timerfd`), some
//! 17,000 resets per 2 × 64 MiB in `bench`.
//!
//! [`LazyTimer`] therefore touches the runtime timer only when it must: a deadline already
//! reached is due without it, and a timer set for an earlier time than the deadline stays
//! as it is. It fires early, is found early, and only then is set again for the deadline:
//! one spare wake-up per expiry instead of a reset per drain. A timer set later than the
//! deadline is moved earlier at once, so no timeout is ever late.

use super::AsyncTimer;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// A runtime timer with the instant it is set for; see the module documentation.
pub(super) struct LazyTimer {
    timer: Pin<Box<dyn AsyncTimer>>,
    /// When the runtime timer fires, while it is set and has not been seen to fire.
    armed: Option<Instant>,
}

impl std::fmt::Debug for LazyTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyTimer")
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl LazyTimer {
    /// Wraps `timer`, which is set for `armed`.
    pub(super) fn new(timer: Pin<Box<dyn AsyncTimer>>, armed: Instant) -> Self {
        Self {
            timer,
            armed: Some(armed),
        }
    }

    /// `Ready` once `deadline` is due: at once if `now` has reached it, otherwise once the
    /// runtime timer fired at or after `deadline` (the runtime's tick may round it up, so
    /// the caller's clock may still read a little earlier). `Pending` registers `cx`'s waker
    /// to be woken no later than `deadline` (plus the runtime's rounding).
    ///
    /// The runtime timer is reset only when it is set later than `deadline`, or when it
    /// fired for an earlier instant than `deadline`.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        now: Instant,
        deadline: Instant,
    ) -> Poll<()> {
        if deadline <= now {
            return Poll::Ready(());
        }
        if self.armed.is_none_or(|armed| armed > deadline) {
            self.arm(deadline);
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            match self.armed.take() {
                // It fired for an instant before this deadline: set it for this one.
                Some(armed) if armed < deadline => self.arm(deadline),
                _ => return Poll::Ready(()),
            }
        }
    }

    fn arm(&mut self, at: Instant) {
        self.timer.as_mut().reset(at);
        self.armed = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::task::Waker;
    use std::time::Duration;

    /// What the fake runtime timer saw: its resets, and the clock it fires by.
    #[derive(Debug, Default)]
    struct Log {
        resets: Vec<Instant>,
        clock: Option<Instant>,
    }

    /// A timer that is ready once the shared clock reaches the instant it is set for.
    #[derive(Debug)]
    struct FakeTimer {
        at: Instant,
        log: Arc<Mutex<Log>>,
    }

    impl AsyncTimer for FakeTimer {
        fn reset(self: Pin<&mut Self>, deadline: Instant) {
            let this = self.get_mut();
            this.at = deadline;
            this.log.lock().expect("log").resets.push(deadline);
        }

        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            let clock = self.log.lock().expect("log").clock;
            if clock.is_some_and(|c| c >= self.at) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    use crate::time::test_epoch as t0;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn setup(start: Instant) -> (LazyTimer, Arc<Mutex<Log>>) {
        let log = Arc::new(Mutex::new(Log::default()));
        let timer = FakeTimer {
            at: start,
            log: log.clone(),
        };
        (LazyTimer::new(Box::pin(timer), start), log)
    }

    fn set_clock(log: &Mutex<Log>, at: Instant) {
        log.lock().expect("log").clock = Some(at);
    }

    fn resets(log: &Mutex<Log>) -> Vec<Instant> {
        log.lock().expect("log").resets.clone()
    }

    #[test]
    fn a_deadline_already_reached_is_due_without_touching_the_timer() {
        let t = t0();
        let (mut timer, log) = setup(t);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(timer.poll(&mut cx, t + ms(5), t + ms(5)).is_ready());
        assert!(timer.poll(&mut cx, t + ms(9), t + ms(6)).is_ready());
        assert!(resets(&log).is_empty());
    }

    #[test]
    fn later_deadlines_keep_the_earlier_timer_until_it_fires() {
        let t = t0();
        let (mut timer, log) = setup(t);
        let mut cx = Context::from_waker(Waker::noop());
        set_clock(&log, t);
        // The start timer fired (at t): set for the first deadline.
        assert!(timer.poll(&mut cx, t, t + ms(10)).is_pending());
        assert_eq!(resets(&log), [t + ms(10)]);
        // The deadline moves later, again and again: no reset.
        for later in [11, 12, 20] {
            assert!(timer.poll(&mut cx, t, t + ms(later)).is_pending());
        }
        assert_eq!(resets(&log), [t + ms(10)]);
        // The timer fires at 10 ms, early for the 20 ms deadline: set again for it.
        set_clock(&log, t + ms(10));
        assert!(timer.poll(&mut cx, t + ms(10), t + ms(20)).is_pending());
        assert_eq!(resets(&log), [t + ms(10), t + ms(20)]);
        // At 20 ms it is due.
        set_clock(&log, t + ms(20));
        assert!(
            timer
                .poll(&mut cx, t + ms(20) - ms(1), t + ms(20))
                .is_ready()
        );
    }

    #[test]
    fn an_earlier_deadline_moves_the_timer_at_once() {
        let t = t0();
        let (mut timer, log) = setup(t);
        let mut cx = Context::from_waker(Waker::noop());
        set_clock(&log, t);
        assert!(timer.poll(&mut cx, t, t + ms(100)).is_pending());
        assert!(timer.poll(&mut cx, t, t + ms(3)).is_pending());
        assert_eq!(resets(&log), [t + ms(100), t + ms(3)]);
        set_clock(&log, t + ms(3));
        assert!(
            timer.poll(&mut cx, t + ms(2), t + ms(3)).is_ready(),
            "fired, never late"
        );
    }

    #[test]
    fn a_fired_timer_is_set_again_for_the_next_deadline() {
        let t = t0();
        let (mut timer, log) = setup(t);
        let mut cx = Context::from_waker(Waker::noop());
        set_clock(&log, t);
        assert!(timer.poll(&mut cx, t, t + ms(1)).is_pending());
        // It fires for the deadline it was set for: due, and no longer set.
        set_clock(&log, t + ms(1));
        assert!(timer.poll(&mut cx, t, t + ms(1)).is_ready());
        // The next deadline needs the timer again, even though it is later.
        assert!(timer.poll(&mut cx, t + ms(1), t + ms(4)).is_pending());
        assert_eq!(resets(&log), [t + ms(1), t + ms(4)]);
    }
}
