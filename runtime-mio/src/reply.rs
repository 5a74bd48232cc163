//! The answer to a command sent with [`LoopHandle::call`](crate::LoopHandle::call): a
//! one-shot slot the loop thread fills and another thread waits on, by blocking or as a
//! `Future`.

use crate::LoopEnded;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    state: Mutex<SlotState<T>>,
    filled: Condvar,
}

struct SlotState<T> {
    value: Option<T>,
    /// The responder is gone: either `value` is set, or the command was dropped unrun.
    closed: bool,
    waker: Option<Waker>,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // A panic while holding this lock leaves a consistent state (plain field writes).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The value a command run on the loop returned, once it has run.
///
/// Wait for it with [`wait`](Self::wait) from a plain thread, or `.await` it from any
/// executor (it wakes the task when the loop has run the command). Both give
/// `Err(LoopEnded)` when the loop ended before running the command.
///
/// Never wait for a reply on the loop thread itself (inside the event callback or another
/// command): the loop cannot run the command while it is blocked waiting for it.
pub struct Reply<T> {
    slot: Arc<Slot<T>>,
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.slot.lock();
        f.debug_struct("Reply")
            .field("ready", &state.value.is_some())
            .field("closed", &state.closed)
            .finish()
    }
}

/// The loop's end of a [`Reply`]. Dropping it unanswered (the command was dropped because
/// the loop ended) resolves the reply to `Err(LoopEnded)`.
pub(crate) struct Responder<T> {
    slot: Arc<Slot<T>>,
}

/// A connected reply and responder.
pub(crate) fn reply<T>() -> (Reply<T>, Responder<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            closed: false,
            waker: None,
        }),
        filled: Condvar::new(),
    });
    (Reply { slot: slot.clone() }, Responder { slot })
}

impl<T> Responder<T> {
    /// Hands `value` to the waiting side.
    pub(crate) fn send(self, value: T) {
        self.slot.lock().value = Some(value);
        // `drop` marks the slot closed and wakes the waiter.
    }
}

impl<T> Drop for Responder<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.slot.lock();
            state.closed = true;
            state.waker.take()
        };
        self.slot.filled.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Reply<T> {
    /// Blocks the calling thread until the loop has run the command; its return value, or
    /// `Err(LoopEnded)` if the loop ended first.
    pub fn wait(self) -> Result<T, LoopEnded> {
        let mut state = self.slot.lock();
        while !state.closed {
            state = self
                .slot
                .filled
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state.value.take().ok_or(LoopEnded)
    }
}

impl<T> Future for Reply<T> {
    type Output = Result<T, LoopEnded>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.lock();
        if state.closed {
            return Poll::Ready(state.value.take().ok_or(LoopEnded));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
