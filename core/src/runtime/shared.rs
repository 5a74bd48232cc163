//! The state shared between the driver task and the application's handles.

use super::waiters::Waiters;
use super::{Message, RuntimeError};
use crate::peer_connection::{ChannelId, Event, PeerConnection};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// Application events kept for the event stream; older ones are dropped past this.
pub(crate) const MAX_QUEUED_EVENTS: usize = 4096;
/// Per-channel state on the async side.
#[derive(Debug, Default)]
pub(crate) struct ChannelEntry {
    pub(crate) inbox: VecDeque<Message>,
    pub(crate) unread_bytes: usize,
    pub(crate) open: bool,
    pub(crate) closed: bool,
    pub(crate) waiters: Waiters,
}

/// Everything behind the mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) pc: PeerConnection,
    pub(crate) channels: HashMap<ChannelId, ChannelEntry>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) event_waiters: Waiters,
    /// Tasks waiting for a connection, gathering or signaling state change.
    pub(crate) state_waiters: Waiters,
    pub(crate) driver_waker: Option<Waker>,
    /// Set once the driver has ended; every wait then fails with `Closed`.
    pub(crate) finished: Option<RuntimeError>,
    /// Live `PeerConnection` handles; at 0 the driver closes the connection and ends.
    pub(crate) handles: usize,
    /// The application called `close`.
    pub(crate) close_requested: bool,
    /// The driver has closed the core connection.
    pub(crate) pc_closed: bool,
}

impl State {
    /// Wakes the driver so it drains the core's output after a command.
    pub(crate) fn wake_driver(&mut self) {
        if let Some(waker) = self.driver_waker.take() {
            waker.wake();
        }
    }

    /// Reports the bytes the application's channels hold unread to the core, where they
    /// count against the SCTP receive window: a slow reader pushes back on the peer
    /// through flow control while the driver keeps reading the sockets (so
    /// acknowledgements for our own sends, consent checks and DTLS keep flowing).
    pub(crate) fn report_unread(&mut self) {
        let unread = self.channels.values().map(|c| c.unread_bytes).sum();
        self.pc.set_application_unread(unread);
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            tracing::debug!("event stream not read: dropping the oldest event");
            self.events.pop_front();
        }
        self.events.push_back(event);
        self.event_waiters.wake_all();
    }

    pub(crate) fn channel(&mut self, id: ChannelId) -> &mut ChannelEntry {
        self.channels.entry(id).or_default()
    }

    /// Wakes everybody: used when the driver ends.
    pub(crate) fn wake_everyone(&mut self) {
        self.event_waiters.wake_all();
        self.state_waiters.wake_all();
        for channel in self.channels.values_mut() {
            channel.waiters.wake_all();
        }
    }
}

/// The shared state, locked by both sides.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(state: State) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(state),
        })
    }

    /// Locks the state. A panic while holding the lock leaves the state usable (every
    /// mutation keeps it consistent), so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
