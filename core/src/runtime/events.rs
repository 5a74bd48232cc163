//! The application's stream of connection events.

use super::shared::Shared;
use crate::peer_connection::Event;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The connection's events in order, as a [`futures_core::Stream`]: state changes, local
/// ICE candidates to signal, `negotiationneeded`, data channels opened by the peer, channel
/// state changes. Channel messages are not here: read them with
/// [`DataChannel::recv`](super::DataChannel::recv).
///
/// The stream ends when the connection's driver has ended. There is one queue per
/// connection: with several `Events` streams, each event goes to one of them. Events
/// nobody reads are kept up to a bound, then the oldest are dropped.
#[derive(Debug)]
pub struct Events {
    pub(crate) shared: Arc<Shared>,
}

impl Events {
    /// The next event, or `None` when the connection has ended.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Poll form of [`next`](Self::next).
    pub fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut state = self.shared.lock();
        if let Some(event) = state.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if state.finished.is_some() {
            return Poll::Ready(None);
        }
        state.event_waiters.register(cx.waker());
        Poll::Pending
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.poll_event(cx)
    }
}
