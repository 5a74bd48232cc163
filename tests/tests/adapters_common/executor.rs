//! A one-task executor with timers, for async test bodies that run without an async
//! runtime (the mio adapter): [`block_on`] polls the task and parks the thread until a
//! waker fires or the earliest [`Sleep`] is due.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

thread_local! {
    /// Deadlines of the pending [`Sleep`]s of the task [`block_on`] runs on this thread.
    static DEADLINES: RefCell<BinaryHeap<Reverse<Instant>>> = RefCell::default();
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on this thread: polls it, then parks until a waker fires or
/// the earliest [`Sleep`] deadline passes.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        let now = Instant::now();
        let (expired, next) = DEADLINES.with_borrow_mut(|heap| {
            let mut expired = false;
            while heap.peek().is_some_and(|Reverse(at)| *at <= now) {
                heap.pop();
                expired = true;
            }
            (expired, heap.peek().map(|Reverse(at)| *at))
        });
        match next {
            _ if expired => {} // a sleep is due: poll again at once
            Some(at) => std::thread::park_timeout(at - now),
            None => std::thread::park(),
        }
    }
}

/// A timer for tasks run by [`block_on`] (and only those: it is woken by the executor's
/// deadline list, not by a waker).
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    registered: bool,
}

impl Sleep {
    /// Due `duration` from now.
    pub fn new(duration: Duration) -> Self {
        Self {
            deadline: Instant::now() + duration,
            registered: false,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self.registered {
            self.registered = true;
            let at = self.deadline;
            DEADLINES.with_borrow_mut(|heap| heap.push(Reverse(at)));
        }
        Poll::Pending
    }
}
