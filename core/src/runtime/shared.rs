//! The state shared between the driver task and the application's handles.

use super::track::TrackEntry;
use super::waiters::{DeferWakes, Waiters};
use super::{ChannelEvent, Message, RuntimeError};
use crate::datachannel::ChannelState;
use crate::media::TransceiverId;
use crate::peer_connection::{ChannelId, Event, PeerConnection};
use std::collections::{HashMap, VecDeque};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// Events kept per data channel; older ones are dropped past this.
pub(crate) const MAX_CHANNEL_EVENTS: usize = 64;
/// Channels the peer opened that the application has not accepted yet; the oldest are
/// forgotten past this (their handles stay available through their ids).
pub(crate) const MAX_INCOMING_CHANNELS: usize = 1024;
/// Application events kept for the event stream; older ones are dropped past this.
pub(crate) const MAX_QUEUED_EVENTS: usize = 4096;
/// Bytes the application must read, since the driver last saw the unread total, before a
/// reader wakes the driver so that a reopened receive window reaches the peer. A 32nd of
/// the core's 2 MiB SCTP receive window: an update goes out at most this late, and a
/// reader keeping up with the data never wakes the driver at all.
pub(crate) const WINDOW_WAKE_STEP: usize = 64 * 1024;
/// Per-channel state on the async side.
#[derive(Debug)]
pub(crate) struct ChannelEntry {
    pub(crate) inbox: VecDeque<Message>,
    pub(crate) unread_bytes: usize,
    /// `readyState` as the driver last saw it (`Closed` once the connection ended).
    pub(crate) ready: ChannelState,
    /// The channel's own events (`open`, `bufferedamountlow`, `error`, `close`), bounded.
    pub(crate) events: VecDeque<ChannelEvent>,
    /// `send_*().await` waits while more than this many bytes are buffered (and, once
    /// waiting, until at most [`ChannelEntry::resume_level`] are).
    pub(crate) high_water: usize,
    /// Tasks waiting for a message, a state change or an event.
    pub(crate) waiters: Waiters,
    /// Tasks in a back-pressured send, woken when the buffer is below the high water mark.
    pub(crate) send_waiters: Waiters,
}

impl Default for ChannelEntry {
    fn default() -> Self {
        Self {
            inbox: VecDeque::new(),
            unread_bytes: 0,
            ready: ChannelState::Connecting,
            events: VecDeque::new(),
            high_water: super::channel::SEND_HIGH_WATER,
            waiters: Waiters::default(),
            send_waiters: Waiters::default(),
        }
    }
}

impl ChannelEntry {
    /// The buffered amount at or below which back-pressured senders are woken: half the
    /// high water mark. Woken as soon as the buffer dipped below the mark, a sender would
    /// queue one message and wait again, a wake-up (on another thread, often) per
    /// acknowledgement; from half the mark it refills the other half in one go while what
    /// is still buffered keeps the connection busy.
    pub(crate) fn resume_level(&self) -> usize {
        self.high_water / 2
    }

    /// Queues a channel event (the oldest is dropped past [`MAX_CHANNEL_EVENTS`]) and wakes
    /// the channel's waiters.
    pub(crate) fn push_event(&mut self, event: ChannelEvent) {
        if self.events.len() >= MAX_CHANNEL_EVENTS {
            tracing::debug!("channel events not read: dropping the oldest");
            self.events.pop_front();
        }
        self.events.push_back(event);
        self.waiters.wake_all();
    }

    /// Moves to `state` (never back from `Closed`), queueing the matching event.
    pub(crate) fn set_ready(&mut self, state: ChannelState) {
        if self.ready == state || self.ready == ChannelState::Closed {
            return;
        }
        self.ready = state;
        match state {
            ChannelState::Open => self.push_event(ChannelEvent::Open),
            ChannelState::Closing => self.push_event(ChannelEvent::Closing),
            ChannelState::Closed => self.push_event(ChannelEvent::Close),
            _ => {}
        }
        self.send_waiters.wake_all();
        self.waiters.wake_all();
    }
}

/// Everything behind the mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) pc: PeerConnection,
    pub(crate) channels: HashMap<ChannelId, ChannelEntry>,
    pub(crate) tracks: HashMap<TransceiverId, TrackEntry>,
    /// Tasks in `write_rtp` waiting for the driver to send what the core holds.
    pub(crate) send_waiters: Waiters,
    pub(crate) events: VecDeque<Event>,
    /// Channels the peer opened, for `accept_channel`.
    pub(crate) incoming: VecDeque<ChannelId>,
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
    /// The channels' unread total when the driver last reported it to the core.
    pub(crate) unread_seen_by_driver: usize,
    /// The driver has closed the core connection.
    pub(crate) pc_closed: bool,
}

impl State {
    /// The state around `pc` for one application handle, before the driver runs.
    pub(crate) fn new(pc: PeerConnection) -> Self {
        State {
            pc,
            channels: HashMap::new(),
            tracks: HashMap::new(),
            send_waiters: Waiters::default(),
            events: VecDeque::new(),
            incoming: VecDeque::new(),
            event_waiters: Waiters::default(),
            state_waiters: Waiters::default(),
            driver_waker: None,
            finished: None,
            handles: 1,
            close_requested: false,
            pc_closed: false,
            unread_seen_by_driver: 0,
        }
    }

    /// Wakes the driver so it drains the core's output after a command.
    pub(crate) fn wake_driver(&mut self) {
        if let Some(waker) = self.driver_waker.take() {
            super::waiters::wake(waker);
        }
    }

    /// Reports the bytes the application's channels hold unread to the core, where they
    /// count against the SCTP receive window: a slow reader pushes back on the peer
    /// through flow control while the driver keeps reading the sockets (so
    /// acknowledgements for our own sends, consent checks and DTLS keep flowing).
    ///
    /// Returns the total reported.
    pub(crate) fn report_unread(&mut self) -> usize {
        let unread = self.channels.values().map(|c| c.unread_bytes).sum();
        self.pc.set_application_unread(unread);
        unread
    }

    /// After the application took a message: reports the new unread total and wakes the
    /// driver when the window may have reopened enough to matter, that is once
    /// [`WINDOW_WAKE_STEP`] bytes were read since the driver last looked.
    ///
    /// The core advertises a window update only when its last advertised window was
    /// below a quarter of the receive window and half of it is open again. While the
    /// driver last saw less than `WINDOW_WAKE_STEP` unread, the application's queue cannot
    /// be what closes the window, so reading it needs no wake-up; otherwise the driver runs
    /// within `WINDOW_WAKE_STEP` bytes read of the moment the update is due.
    pub(crate) fn report_read(&mut self) {
        let unread = self.report_unread();
        if self.unread_seen_by_driver.saturating_sub(unread) >= WINDOW_WAKE_STEP {
            self.unread_seen_by_driver = unread;
            self.wake_driver();
        }
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

    /// Wakes back-pressured senders of every channel whose buffer fell to its
    /// [`ChannelEntry::resume_level`]. Called by the driver after each drain.
    pub(crate) fn wake_writable_senders(&mut self) {
        let pc = &mut self.pc;
        for (id, entry) in self.channels.iter_mut() {
            if entry.send_waiters.is_empty() {
                continue;
            }
            let buffered = pc.data_channel(*id).map_or(0, |mut h| h.buffered_amount());
            if buffered <= entry.resume_level() {
                entry.send_waiters.wake_all();
            }
        }
    }

    /// The driver ended: every channel not closed yet reports `error` (unless the
    /// application closed the connection) and `close`, as the browser does.
    pub(crate) fn close_all_channels(&mut self, reason: &RuntimeError) {
        for entry in self.channels.values_mut() {
            if entry.ready == ChannelState::Closed {
                continue;
            }
            if !matches!(reason, RuntimeError::Closed) {
                entry.push_event(ChannelEvent::Error(reason.to_string()));
            }
            entry.set_ready(ChannelState::Closed);
        }
    }

    pub(crate) fn track(&mut self, id: TransceiverId) -> &mut TrackEntry {
        self.tracks.entry(id).or_default()
    }

    /// Wakes everybody: used when the driver ends.
    pub(crate) fn wake_everyone(&mut self) {
        self.event_waiters.wake_all();
        self.state_waiters.wake_all();
        self.send_waiters.wake_all();
        for track in self.tracks.values_mut() {
            track.waiters.wake_all();
        }
        for channel in self.channels.values_mut() {
            channel.waiters.wake_all();
            channel.send_waiters.wake_all();
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
    ///
    /// Tasks woken while the lock is held (by this thread) are woken when it is released,
    /// so that they do not run only to wait for it (see `waiters`).
    pub(crate) fn lock(&self) -> StateGuard<'_> {
        let wakes = DeferWakes::begin();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        StateGuard {
            state,
            _wakes: wakes,
        }
    }
}

/// The locked [`State`]. Dropping it releases the lock first, then delivers the wake-ups
/// made while it was held.
#[derive(Debug)]
pub(crate) struct StateGuard<'a> {
    // Field order is drop order: unlock, then wake.
    state: MutexGuard<'a, State>,
    _wakes: DeferWakes,
}

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

/// A state around a fresh, unconnected connection, for unit tests of the handles.
#[cfg(test)]
pub(crate) fn fresh_state() -> State {
    #[allow(clippy::disallowed_methods)]
    let t0 = std::time::Instant::now();
    let config = crate::peer_connection::RtcConfiguration::with_seed(1);
    State::new(PeerConnection::new(config, t0).expect("valid config"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A state whose driver saw `unread` bytes on channel 0, with a counting driver waker.
    fn state_with_unread(unread: usize) -> (State, Arc<CountingWaker>) {
        let wakes = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let mut state = fresh_state();
        state.driver_waker = Some(Waker::from(wakes.clone()));
        state.channel(ChannelId(0)).unread_bytes = unread;
        state.unread_seen_by_driver = state.report_unread();
        (state, wakes)
    }

    fn read(state: &mut State, bytes: usize) {
        let entry = state.channel(ChannelId(0));
        entry.unread_bytes -= bytes;
        state.report_read();
    }

    #[test]
    fn a_failed_connection_reports_error_then_close_on_every_open_channel() {
        let mut state = fresh_state();
        state.channel(ChannelId(0)).set_ready(ChannelState::Open);
        state.channel(ChannelId(1)).set_ready(ChannelState::Closed);
        state.close_all_channels(&RuntimeError::ConnectionFailed);
        let open = state.channel(ChannelId(0));
        assert_eq!(open.ready, ChannelState::Closed);
        let events: Vec<_> = open.events.drain(..).collect();
        assert_eq!(
            events,
            vec![
                ChannelEvent::Open,
                ChannelEvent::Error("the connection failed".into()),
                ChannelEvent::Close
            ]
        );
        let closed = state.channel(ChannelId(1));
        assert_eq!(closed.events.back(), Some(&ChannelEvent::Close));
        assert_eq!(
            closed.events.len(),
            1,
            "a closed channel reports nothing more"
        );
    }

    #[test]
    fn closing_the_connection_closes_channels_without_error() {
        let mut state = fresh_state();
        state.channel(ChannelId(0)).set_ready(ChannelState::Open);
        state.close_all_channels(&RuntimeError::Closed);
        let events: Vec<_> = state.channel(ChannelId(0)).events.drain(..).collect();
        assert_eq!(events, vec![ChannelEvent::Open, ChannelEvent::Close]);
    }

    #[test]
    fn a_reader_keeping_up_never_wakes_the_driver() {
        let (mut state, wakes) = state_with_unread(1024);
        read(&mut state, 1024);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn reading_a_wake_step_since_the_driver_looked_wakes_it_once() {
        let (mut state, wakes) = state_with_unread(3 * WINDOW_WAKE_STEP);
        read(&mut state, WINDOW_WAKE_STEP - 1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0, "not a full step yet");
        read(&mut state, 1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert_eq!(state.unread_seen_by_driver, 2 * WINDOW_WAKE_STEP);
        read(&mut state, 1);
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "the next step starts afresh"
        );
    }
}
