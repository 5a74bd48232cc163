//! The application's handle on one data channel, shaped after the W3C `RTCDataChannel`:
//! `readyState`, `bufferedAmount`, `bufferedAmountLowThreshold`, the `open`,
//! `bufferedamountlow`, `error` and `close` events, a non-blocking [`DataChannel::send`]
//! as in the browser, and beside it async sends with back-pressure and an async receive.
//!
//! Where rtcpeer differs from the browser, and why:
//! - messages are read with [`DataChannel::recv`] (a queue counted against the SCTP
//!   receive window, so a slow reader slows the peer down) instead of an `onmessage`
//!   callback;
//! - [`DataChannel::send_text`]/[`send_binary`](DataChannel::send_binary) wait while more
//!   than the high water mark is buffered (the browser has no such call; its `send` fails
//!   once its buffer is full, as our [`DataChannel::send`] does at the connection's send
//!   buffer limit);
//! - `close()` sends what was queued before closing, as in the browser, and
//!   [`DataChannel::wait_closed`] lets the application wait for that.

use super::RuntimeError;
use super::shared::{Shared, State};
use crate::datachannel::ChannelState;
use crate::peer_connection::ChannelId;
use bytes::Bytes;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The default high water mark: `send_text().await` and `send_binary().await` wait while
/// more than this many bytes are buffered on the channel, and a send that waited resumes
/// once half of it is left (see [`DataChannel::set_high_water_mark`]).
pub const SEND_HIGH_WATER: usize = 1024 * 1024;

/// A `bufferedAmountLowThreshold` that suits a sender pacing itself against
/// [`SEND_HIGH_WATER`] (refill when a quarter is left), for loops driving the core directly.
/// The async [`DataChannel`] starts at the browser's default, 0.
pub const SEND_LOW_WATER: usize = 256 * 1024;

/// Something that happened to one data channel: the browser's `RTCDataChannel` events,
/// read with [`DataChannel::next_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelEvent {
    /// `open`: the channel can send.
    Open,
    /// `bufferedamountlow`: [`DataChannel::buffered_amount`] fell to or below
    /// [`DataChannel::buffered_amount_low_threshold`].
    BufferedAmountLow,
    /// `readyState` became `closing` (either side called `close()`).
    Closing,
    /// `error`: the channel ends because the connection failed; `Close` follows.
    Error(String),
    /// `close`: the channel is closed; no event follows.
    Close,
}

/// A message received on a data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message (invalid UTF-8 from the peer is replaced by U+FFFD).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// The message's bytes, text or binary.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the message is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data.into())
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(data))
    }
}

/// Fails if the connection ended or the core never had channel `id` (so no wait on a
/// made-up id can last forever).
fn check_alive(state: &mut State, id: ChannelId) -> Result<(), crate::Error> {
    if state.finished.is_some() {
        return Err(RuntimeError::Closed.into());
    }
    state.pc.data_channel(id)?;
    Ok(())
}

/// Whether channel `id` takes a message now: open, and at most its high water mark
/// buffered. Fails once the channel is closing or closed, the connection ended, or the id
/// is unknown.
fn writable(state: &mut State, id: ChannelId) -> Result<bool, crate::Error> {
    check_alive(state, id)?;
    let entry = state.channel(id);
    let high_water = entry.high_water;
    match entry.ready {
        ChannelState::Open => {}
        ChannelState::Connecting => return Ok(false),
        _ => return Err(RuntimeError::ChannelClosed.into()),
    }
    let buffered = state
        .pc
        .data_channel(id)
        .map_or(0, |mut h| h.buffered_amount());
    Ok(buffered <= high_water)
}

/// Queues `message` on the core channel now.
fn send_now(state: &mut State, id: ChannelId, message: Message) -> Result<(), crate::Error> {
    let mut channel = state.pc.data_channel(id)?;
    let result = match message {
        Message::Text(text) => channel.send_text(&text),
        Message::Binary(data) => channel.send_binary(data),
    };
    state.wake_driver();
    result
}

/// A data channel of an async peer connection (the browser's `RTCDataChannel`). Cheap to
/// clone; clones share the channel.
///
/// Sending, three ways:
/// - [`send`](Self::send) queues and returns at once, as the browser's `send()`: watch
///   [`buffered_amount`](Self::buffered_amount) and [`ChannelEvent::BufferedAmountLow`]
///   to pace yourself; it fails only when the channel is not open or the connection's send
///   buffer is full;
/// - [`try_send`](Self::try_send) queues only below the high water mark and otherwise
///   fails with [`RuntimeError::WouldBlock`];
/// - [`send_text`](Self::send_text)/[`send_binary`](Self::send_binary) wait
///   (asynchronously) until the channel is open and at most the high water mark
///   ([`SEND_HIGH_WATER`] unless [set](Self::set_high_water_mark)) is buffered; a send
///   that had to wait is woken once the buffer has drained to half the mark, so a
///   sender refills the buffer in bursts instead of waking once per acknowledgement.
///
/// A task that awaits sends and reads only afterwards can deadlock against a peer that
/// echoes with back-pressure (its echo fills our receive window, then it stops reading):
/// read in another task, or queue with `send`.
///
/// [`recv`](Self::recv) returns messages in arrival order; with several receivers each
/// message goes to one of them. Every wait ends: with what it waited for, a typed error
/// (`ChannelClosed`, `NoSuchChannel`, `Closed`), or `None` at the channel's end.
///
/// ```no_run
/// # async fn demo(pc: rtcpeer::runtime::AsyncPeerConnection) -> Result<(), rtcpeer::Error> {
/// use rtcpeer::runtime::{ChannelEvent, Message};
/// let channel = pc.create_data_channel("chat", Default::default()).await?;
/// channel.wait_open().await?;
/// channel.set_buffered_amount_low_threshold(64 * 1024);
/// channel.send("hello")?; // queues and returns, like the browser's send()
/// if let Some(Message::Text(reply)) = channel.recv().await {
///     println!("peer said {reply}");
/// }
/// channel.close()?; // what was queued is still delivered
/// channel.wait_closed().await?;
/// assert_eq!(channel.next_event().await, Some(ChannelEvent::Open));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DataChannel {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: ChannelId,
}

impl DataChannel {
    /// The channel's id within its connection.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's label, or `None` once the core has forgotten the channel.
    pub fn label(&self) -> Option<String> {
        let mut state = self.shared.lock();
        let label = state.pc.data_channel(self.id).ok()?.label().to_owned();
        Some(label)
    }

    /// Bytes queued for sending and not yet acknowledged (`bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        let mut state = self.shared.lock();
        state
            .pc
            .data_channel(self.id)
            .map_or(0, |mut h| h.buffered_amount())
    }

    /// `readyState`: `Connecting`, `Open`, `Closing` or `Closed` (also once the connection
    /// ended).
    pub fn ready_state(&self) -> ChannelState {
        let mut state = self.shared.lock();
        if state.finished.is_some() {
            return ChannelState::Closed;
        }
        state.channel(self.id).ready
    }

    /// `bufferedAmountLowThreshold`.
    pub fn buffered_amount_low_threshold(&self) -> usize {
        let mut state = self.shared.lock();
        let handle = state.pc.data_channel(self.id);
        handle.map_or(0, |h| h.buffered_amount_low_threshold())
    }

    /// Sets `bufferedAmountLowThreshold` (default 0): [`ChannelEvent::BufferedAmountLow`]
    /// fires each time [`buffered_amount`](Self::buffered_amount) falls from above it to
    /// at or below it.
    pub fn set_buffered_amount_low_threshold(&self, threshold: usize) {
        let mut state = self.shared.lock();
        if let Ok(mut h) = state.pc.data_channel(self.id) {
            h.set_buffered_amount_low_threshold(threshold);
        }
    }

    /// The high water mark of the back-pressured sends.
    pub fn high_water_mark(&self) -> usize {
        self.shared.lock().channel(self.id).high_water
    }

    /// Sets the high water mark: [`send_text`](Self::send_text) and
    /// [`send_binary`](Self::send_binary) wait, and [`try_send`](Self::try_send) refuses,
    /// while more than `bytes` are buffered; a waiting send resumes at `bytes / 2`.
    /// Default [`SEND_HIGH_WATER`].
    pub fn set_high_water_mark(&self, bytes: usize) {
        let mut state = self.shared.lock();
        let entry = state.channel(self.id);
        entry.high_water = bytes;
        entry.send_waiters.wake_all();
    }

    /// The next event of this channel ([`ChannelEvent`]); `None` after
    /// [`ChannelEvent::Close`] was returned. Events come in order; with several readers
    /// each goes to one of them.
    pub async fn next_event(&self) -> Option<ChannelEvent> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            let entry = state.channel(self.id);
            if let Some(event) = entry.events.pop_front() {
                return Poll::Ready(Some(event));
            }
            if entry.ready == ChannelState::Closed {
                return Poll::Ready(None);
            }
            entry.waiters.register(cx.waker());
            if state.finished.is_some() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }

    /// Waits until the channel is open. Fails if it closes first, the connection ends, or
    /// the id names no channel.
    pub async fn wait_open(&self) -> Result<(), crate::Error> {
        self.wait_state(|s| match s {
            ChannelState::Open => Some(Ok(())),
            ChannelState::Connecting => None,
            _ => Some(Err(RuntimeError::ChannelClosed.into())),
        })
        .await
    }

    /// Waits until the channel is closed: after [`close`](Self::close) that is once every
    /// message queued before it was delivered and the peer has reset its side too. Ends
    /// with `Ok` also when the connection ends.
    pub async fn wait_closed(&self) -> Result<(), crate::Error> {
        self.wait_state(|s| (s == ChannelState::Closed).then_some(Ok(())))
            .await
    }

    /// Waits until `done` maps the channel's state to a result.
    async fn wait_state(
        &self,
        mut done: impl FnMut(ChannelState) -> Option<Result<(), crate::Error>>,
    ) -> Result<(), crate::Error> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            let ended = state.finished.is_some();
            if let Err(e) = state.pc.data_channel(self.id) {
                return Poll::Ready(Err(e));
            }
            let entry = state.channel(self.id);
            let ready = if ended {
                ChannelState::Closed
            } else {
                entry.ready
            };
            if let Some(result) = done(ready) {
                if ended && result.is_err() {
                    return Poll::Ready(Err(RuntimeError::Closed.into()));
                }
                return Poll::Ready(result);
            }
            entry.waiters.register(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// `send(data)` as in the browser: queues the message and returns at once, however
    /// much is buffered. Errors: the channel is not open (`NotOpen`), the message is
    /// larger than the peer accepts, the connection's send buffer is full
    /// (`SendBufferFull`), the connection ended.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        check_alive(&mut state, self.id)?;
        if matches!(
            state.channel(self.id).ready,
            ChannelState::Closing | ChannelState::Closed
        ) {
            return Err(RuntimeError::ChannelClosed.into());
        }
        send_now(&mut state, self.id, message.into())
    }

    /// Queues the message if the channel is open and at most the high water mark is
    /// buffered; otherwise fails at once with [`RuntimeError::WouldBlock`] (channel still
    /// connecting or buffer full) or the error `send` would give.
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        if !writable(&mut state, self.id)? {
            return Err(RuntimeError::WouldBlock.into());
        }
        send_now(&mut state, self.id, message.into())
    }

    /// Sends a text message once the channel is open and at most the high water mark is
    /// buffered.
    pub async fn send_text(&self, text: &str) -> Result<(), crate::Error> {
        self.send_when_writable(|state| {
            state.pc.data_channel(self.id)?.send_text(text)?;
            Ok(())
        })
        .await
    }

    /// Sends a binary message once the channel is open and at most the high water mark is
    /// buffered.
    pub async fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), crate::Error> {
        let mut data = Some(data.into());
        self.send_when_writable(|state| {
            let data = data.take().expect("the send runs once, when writable");
            state.pc.data_channel(self.id)?.send_binary(data)?;
            Ok(())
        })
        .await
    }

    /// Waits until the channel is writable, then runs `send` under the same lock (one lock
    /// per message on the fast path) and wakes the driver to send it. `send` runs at most
    /// once.
    async fn send_when_writable(
        &self,
        mut send: impl FnMut(&mut State) -> Result<(), crate::Error>,
    ) -> Result<(), crate::Error> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            match writable(&mut state, self.id) {
                Err(e) => return Poll::Ready(Err(e)),
                Ok(false) => {
                    let entry = state.channel(self.id);
                    entry.send_waiters.register(cx.waker());
                    if entry.ready == ChannelState::Connecting {
                        entry.waiters.register(cx.waker());
                    }
                    state.wake_driver();
                    return Poll::Pending;
                }
                Ok(true) => {}
            }
            let result = send(&mut state);
            state.wake_driver();
            Poll::Ready(result)
        })
        .await
    }

    /// The next message; `None` once the channel is closed (or the connection ended) and
    /// every message received before has been returned.
    pub async fn recv(&self) -> Option<Message> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`recv`](Self::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let mut state = self.shared.lock();
        let finished = state.finished.is_some();
        let entry = state.channel(self.id);
        if let Some(message) = entry.inbox.pop_front() {
            entry.unread_bytes = entry.unread_bytes.saturating_sub(message.len());
            state.report_read();
            return Poll::Ready(Some(message));
        }
        if entry.ready == ChannelState::Closed || finished {
            return Poll::Ready(None);
        }
        entry.waiters.register(cx.waker());
        if state.pc.data_channel(self.id).is_err() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// `close()`: starts closing the channel. As in the browser, messages queued before
    /// are still sent and delivered first; [`wait_closed`](Self::wait_closed) waits for
    /// that. Messages the peer sent before its side closed are still returned by
    /// [`recv`](Self::recv).
    pub fn close(&self) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        if state.finished.is_some() {
            return Ok(());
        }
        state.pc.data_channel(self.id)?.close()?;
        // `readyState` is `closing` as soon as `close()` returns, as in the browser.
        state.channel(self.id).set_ready(ChannelState::Closing);
        state.wake_driver();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peer_connection::PeerConnectionError;
    use crate::runtime::shared::fresh_state;

    /// A fresh state with one (connecting) channel, id 0.
    fn fresh_state_with_channel() -> State {
        let mut state = fresh_state();
        let id = state
            .pc
            .create_data_channel("t", Default::default())
            .expect("channel");
        assert_eq!(id, ChannelId(0));
        state
    }

    #[test]
    fn an_unknown_channel_id_fails_instead_of_waiting() {
        let mut state = fresh_state();
        let result = writable(&mut state, ChannelId(7));
        assert!(
            matches!(
                result,
                Err(crate::Error::PeerConnection(
                    PeerConnectionError::NoSuchChannel(ChannelId(7))
                ))
            ),
            "{result:?}"
        );
    }

    #[test]
    fn a_channel_not_yet_open_is_not_writable() {
        let mut state = fresh_state_with_channel();
        assert!(matches!(writable(&mut state, ChannelId(0)), Ok(false)));
    }

    #[test]
    fn an_open_channel_with_nothing_queued_is_writable() {
        let mut state = fresh_state_with_channel();
        state.channel(ChannelId(0)).ready = ChannelState::Open;
        assert!(matches!(writable(&mut state, ChannelId(0)), Ok(true)));
    }

    #[test]
    fn a_closed_channel_or_ended_driver_fails_the_send() {
        let mut state = fresh_state_with_channel();
        state.channel(ChannelId(0)).ready = ChannelState::Closing;
        let closed = writable(&mut state, ChannelId(0));
        assert!(
            matches!(
                closed,
                Err(crate::Error::Runtime(RuntimeError::ChannelClosed))
            ),
            "{closed:?}"
        );
        state.finished = Some(RuntimeError::Closed);
        let ended = writable(&mut state, ChannelId(0));
        assert!(matches!(
            ended,
            Err(crate::Error::Runtime(RuntimeError::Closed))
        ));
    }
}
