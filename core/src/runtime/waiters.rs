//! A set of wakers to wake together: every waiter re-checks its condition when woken.
//!
//! Wake-ups wait for the lock: while this thread holds the shared state's lock (a
//! [`DeferWakes`] scope, which `Shared::lock` opens), every wake-up is collected and only
//! delivered once the lock is released. A task woken under the lock would run on another
//! thread at once, find the lock taken, and sleep on it until the driver lets go (a
//! wasted wake-up, two context switches and a contended mutex per message or event).

use std::cell::RefCell;
use std::task::Waker;

/// Wakers of tasks waiting for one kind of change.
#[derive(Debug, Default)]
pub(crate) struct Waiters(Vec<Waker>);

impl Waiters {
    /// Registers `waker` unless an equivalent one is already registered.
    pub(crate) fn register(&mut self, waker: &Waker) {
        if !self.0.iter().any(|w| w.will_wake(waker)) {
            self.0.push(waker.clone());
        }
    }

    /// Whether nobody waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Wakes and forgets every registered waker (once this thread leaves its
    /// [`DeferWakes`] scope, if it is in one).
    pub(crate) fn wake_all(&mut self) {
        for waker in self.0.drain(..) {
            wake(waker);
        }
    }
}

/// The wake-ups held back on this thread, and how many [`DeferWakes`] scopes are open.
#[derive(Default)]
struct Deferred {
    depth: usize,
    wakers: Vec<Waker>,
}

thread_local! {
    static DEFERRED: RefCell<Deferred> = RefCell::new(Deferred::default());
}

/// Wakes `waker` now, or when this thread's outermost [`DeferWakes`] scope ends.
pub(crate) fn wake(waker: Waker) {
    let now = DEFERRED.with(|d| {
        let mut d = d.borrow_mut();
        if d.depth == 0 {
            return Some(waker);
        }
        if !d.wakers.iter().any(|w| w.will_wake(&waker)) {
            d.wakers.push(waker);
        }
        None
    });
    // Woken outside the borrow: a waker may run code that wakes others.
    if let Some(waker) = now {
        waker.wake();
    }
}

/// While a value lives, wake-ups on this thread are held back; dropping the outermost one
/// delivers them. Scopes nest.
#[derive(Debug)]
pub(crate) struct DeferWakes(());

impl DeferWakes {
    /// Opens a scope.
    pub(crate) fn begin() -> Self {
        DEFERRED.with(|d| d.borrow_mut().depth += 1);
        Self(())
    }
}

impl Drop for DeferWakes {
    fn drop(&mut self) {
        let due = DEFERRED.with(|d| {
            let mut d = d.borrow_mut();
            d.depth -= 1;
            if d.depth == 0 {
                std::mem::take(&mut d.wakers)
            } else {
                Vec::new()
            }
        });
        for waker in due {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn without_a_scope_waiters_wake_at_once() {
        let (count, waker) = counting();
        let mut waiters = Waiters::default();
        waiters.register(&waker);
        waiters.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(waiters.is_empty());
    }

    #[test]
    fn wake_ups_in_a_scope_wait_for_its_end_and_come_once() {
        let (count, waker) = counting();
        let outer = DeferWakes::begin();
        {
            let _inner = DeferWakes::begin();
            let mut waiters = Waiters::default();
            waiters.register(&waker);
            waiters.wake_all();
            wake(waker.clone());
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 0, "the outer scope is open");
        drop(outer);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "one wake-up per task");
    }
}
