//! The application's handle on one data channel: async send with back-pressure, async
//! receive.

use super::RuntimeError;
use super::shared::{Shared, State};
use crate::peer_connection::ChannelId;
use bytes::Bytes;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

/// `send_*` waits while more than this many bytes are queued on the channel.
pub const SEND_HIGH_WATER: usize = 1024 * 1024;
/// The `bufferedamountlow` threshold the driver sets, which wakes waiting senders.
pub const SEND_LOW_WATER: usize = 256 * 1024;

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

/// Sets the low-water threshold on a channel new to the driver.
pub(crate) fn configure_new(state: &mut State, id: ChannelId) {
    if let Ok(mut handle) = state.pc.data_channel(id) {
        handle.set_buffered_amount_low_threshold(SEND_LOW_WATER);
    }
}

/// Whether channel `id` takes a message now: open, and at most [`SEND_HIGH_WATER`] bytes
/// queued. Fails once the channel or the connection is closed.
fn writable(state: &mut State, id: ChannelId) -> Result<bool, RuntimeError> {
    if state.finished.is_some() {
        return Err(RuntimeError::Closed);
    }
    let entry = state.channel(id);
    if entry.closed {
        return Err(RuntimeError::ChannelClosed);
    }
    if !entry.open {
        return Ok(false);
    }
    let buffered = state
        .pc
        .data_channel(id)
        .map_or(0, |mut h| h.buffered_amount());
    Ok(buffered <= SEND_HIGH_WATER)
}

/// A data channel of an async peer connection. Cheap to clone; clones share the channel.
///
/// Sends wait (asynchronously) while more than [`SEND_HIGH_WATER`] bytes are queued, so a
/// sender never outruns the network by more than that. [`recv`](Self::recv) returns
/// messages in arrival order; with several receivers each message goes to one of them.
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

    /// Waits until the channel is open. Fails if it closes first or the connection ends.
    pub async fn wait_open(&self) -> Result<(), RuntimeError> {
        poll_fn(|cx| self.poll_open(cx)).await
    }

    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<Result<(), RuntimeError>> {
        let mut state = self.shared.lock();
        if state.finished.is_some() {
            return Poll::Ready(Err(RuntimeError::Closed));
        }
        let entry = state.channel(self.id);
        if entry.closed {
            return Poll::Ready(Err(RuntimeError::ChannelClosed));
        }
        if entry.open {
            return Poll::Ready(Ok(()));
        }
        entry.waiters.register(cx.waker());
        Poll::Pending
    }

    /// Sends a text message once the channel is open and its send queue is below the high
    /// water mark.
    pub async fn send_text(&self, text: &str) -> Result<(), crate::Error> {
        self.send_when_writable(|state| {
            state.pc.data_channel(self.id)?.send_text(text)?;
            Ok(())
        })
        .await
    }

    /// Sends a binary message once the channel is open and its send queue is below the
    /// high water mark.
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
                Err(e) => return Poll::Ready(Err(e.into())),
                Ok(false) => {
                    state.channel(self.id).waiters.register(cx.waker());
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
        if entry.closed || finished {
            return Poll::Ready(None);
        }
        entry.waiters.register(cx.waker());
        Poll::Pending
    }

    /// Starts closing the channel (`close()`); queued messages are still delivered.
    pub fn close(&self) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        state.pc.data_channel(self.id)?.close()?;
        state.wake_driver();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::shared::fresh_state;

    #[test]
    fn a_channel_not_yet_open_is_not_writable() {
        let mut state = fresh_state();
        assert!(matches!(writable(&mut state, ChannelId(0)), Ok(false)));
    }

    #[test]
    fn an_open_channel_with_nothing_queued_is_writable() {
        let mut state = fresh_state();
        state.channel(ChannelId(0)).open = true;
        assert!(matches!(writable(&mut state, ChannelId(0)), Ok(true)));
    }

    #[test]
    fn a_closed_channel_or_ended_driver_fails_the_send() {
        let mut state = fresh_state();
        state.channel(ChannelId(0)).closed = true;
        let closed = writable(&mut state, ChannelId(0));
        assert!(matches!(closed, Err(RuntimeError::ChannelClosed)));
        state.finished = Some(RuntimeError::Closed);
        let ended = writable(&mut state, ChannelId(0));
        assert!(matches!(ended, Err(RuntimeError::Closed)));
    }
}
