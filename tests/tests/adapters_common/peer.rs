//! What the shared scenario body needs from an adapter, as three small traits, and their
//! implementation for the async adapters (tokio, smol) over `AsyncPeerConnection`.
//! The mio implementation is in [`super::mio_peer`].
//!
//! The scenario runs as one task: concurrent steps are joined futures, never spawned
//! tasks, so the traits need no `Send` bounds and no spawner.

#![allow(async_fn_in_trait)] // test harness: every future is awaited in the task that made it

use bytes::Bytes;
use rtcpeer::peer_connection::{
    ChannelId, ChannelState, PeerConnection, PeerConnectionState, RtcConfiguration,
    RtcSessionDescription,
};
use rtcpeer::runtime::{
    AsyncPeerConnection, ChannelEvent, DataChannel, Message, Runtime, RuntimeError, SocketConfig,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Makes peers and measures time on one adapter.
pub trait Adapter {
    type Peer: Peer;

    /// A new peer connection with the default configuration, on 127.0.0.1 sockets.
    fn new_peer(&self) -> Self::Peer {
        self.new_peer_with(RtcConfiguration::default())
    }

    /// A new peer connection with `config`, on 127.0.0.1 sockets.
    fn new_peer_with(&self, config: RtcConfiguration) -> Self::Peer;

    /// Completes once `duration` has passed.
    async fn sleep(&self, duration: Duration);
}

/// One peer connection: the JSEP calls and waits the scenario makes.
pub trait Peer {
    type Channel: Channel;

    /// The bound socket addresses (host candidates).
    fn local_addrs(&self) -> Vec<SocketAddr>;
    /// `createDataChannel(label)` with default options.
    async fn create_data_channel(&self, label: &str) -> Result<Self::Channel, rtcpeer::Error>;
    async fn create_offer(&self) -> Result<RtcSessionDescription, rtcpeer::Error>;
    async fn create_answer(&self) -> Result<RtcSessionDescription, rtcpeer::Error>;
    async fn set_local_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error>;
    async fn set_remote_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error>;
    /// The local description with every candidate, once gathering is complete.
    async fn wait_gathering_complete(&self) -> Result<RtcSessionDescription, rtcpeer::Error>;
    /// Completes when the connection is `Connected`; fails on `Failed` or `Closed`.
    async fn wait_connected(&self) -> Result<(), rtcpeer::Error>;
    /// `connectionState`.
    async fn connection_state(&self) -> PeerConnectionState;
    /// A handle on channel `id`, which need not exist (then every call on it fails).
    fn data_channel(&self, id: ChannelId) -> Self::Channel;
    /// The next channel the remote peer opened with `label`, or `None` if the connection
    /// ended first.
    async fn remote_channel(&self, label: &str) -> Option<Self::Channel>;
    /// Datagrams that reached this peer's sockets and were handed to the core, and how
    /// many of those the core dropped as not part of the connection (garbage).
    async fn received_and_dropped(&self) -> (u64, u64);
    /// `close()`, complete once the closing datagrams are sent.
    async fn close(&self);
    /// Runs `f` on the core connection (stats, ICE agent) where the adapter keeps it.
    async fn with_core<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PeerConnection) -> T + Send + 'static,
    ) -> T;
}

/// One data channel, with the W3C `RTCDataChannel` surface the checklist tests.
pub trait Channel {
    /// Waits for `open`; fails if the channel closes first or `id` names no channel.
    async fn wait_open(&self) -> Result<(), rtcpeer::Error>;
    /// Sends once the channel's queue is at most `SEND_HIGH_WATER` bytes (back-pressure).
    async fn send_binary(&self, data: Bytes) -> Result<(), rtcpeer::Error>;
    async fn send_text(&self, text: &str) -> Result<(), rtcpeer::Error>;
    /// `bufferedAmount`.
    async fn buffered_amount(&self) -> usize;
    /// The next message; `None` once the channel is closed and drained.
    async fn recv(&self) -> Option<Message>;
    /// Starts closing the channel: what was queued is delivered first.
    async fn close(&self) -> Result<(), rtcpeer::Error>;
    /// `readyState`.
    async fn ready_state(&self) -> ChannelState;
    /// The next W3C event; `None` after `close` was returned.
    async fn next_event(&self) -> Option<ChannelEvent>;
    /// `label`, or `None` once the channel is forgotten.
    async fn label(&self) -> Option<String>;
    /// `bufferedAmountLowThreshold`.
    async fn buffered_amount_low_threshold(&self) -> usize;
    async fn set_buffered_amount_low_threshold(&self, bytes: usize);
    /// The high water mark of back-pressured sends and `try_send`.
    async fn set_high_water_mark(&self, bytes: usize);
    /// `send()` as in the browser: queues however much is buffered.
    async fn send(&self, message: Message) -> Result<(), rtcpeer::Error>;
    /// Queues only when open and at most the high water mark is buffered, else
    /// `WouldBlock`.
    async fn try_send(&self, message: Message) -> Result<(), rtcpeer::Error>;
    /// Waits until the channel is closed (queued data delivered, both sides reset).
    async fn wait_closed(&self) -> Result<(), rtcpeer::Error>;
}

/// The tokio or smol adapter, through the runtime trait both implement.
#[derive(Debug, Clone)]
pub struct AsyncAdapter(pub Arc<dyn Runtime>);

impl Adapter for AsyncAdapter {
    type Peer = AsyncPeerConnection;

    fn new_peer_with(&self, config: RtcConfiguration) -> AsyncPeerConnection {
        AsyncPeerConnection::new(self.0.clone(), config, &SocketConfig::loopback())
            .expect("peer connection on 127.0.0.1")
    }

    async fn sleep(&self, duration: Duration) {
        super::sleep(&*self.0, duration).await;
    }
}

impl Peer for AsyncPeerConnection {
    type Channel = DataChannel;

    fn local_addrs(&self) -> Vec<SocketAddr> {
        AsyncPeerConnection::local_addrs(self).to_vec()
    }

    async fn create_data_channel(&self, label: &str) -> Result<DataChannel, rtcpeer::Error> {
        AsyncPeerConnection::create_data_channel(self, label, Default::default()).await
    }

    async fn create_offer(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        AsyncPeerConnection::create_offer(self).await
    }

    async fn create_answer(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        AsyncPeerConnection::create_answer(self).await
    }

    async fn set_local_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error> {
        AsyncPeerConnection::set_local_description(self, desc).await
    }

    async fn set_remote_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error> {
        AsyncPeerConnection::set_remote_description(self, desc).await
    }

    async fn wait_gathering_complete(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        AsyncPeerConnection::wait_gathering_complete(self).await
    }

    async fn wait_connected(&self) -> Result<(), rtcpeer::Error> {
        AsyncPeerConnection::wait_connected(self).await
    }

    async fn connection_state(&self) -> PeerConnectionState {
        AsyncPeerConnection::connection_state(self)
    }

    fn data_channel(&self, id: ChannelId) -> DataChannel {
        AsyncPeerConnection::data_channel(self, id)
    }

    async fn remote_channel(&self, label: &str) -> Option<DataChannel> {
        let mut events = self.events();
        while let Some(event) = events.next().await {
            if let rtcpeer::peer_connection::Event::DataChannel(id) = event {
                let channel = self.data_channel(id);
                if channel.label().as_deref() == Some(label) {
                    return Some(channel);
                }
            }
        }
        None
    }

    async fn received_and_dropped(&self) -> (u64, u64) {
        let stats = self.stats();
        let dropped = stats.dropped_unknown + stats.dropped_media;
        (stats.datagrams_received, dropped)
    }

    async fn close(&self) {
        AsyncPeerConnection::close(self).await;
    }

    async fn with_core<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PeerConnection) -> T + Send + 'static,
    ) -> T {
        AsyncPeerConnection::with_core(self, |pc| Ok(f(pc))).expect("a live connection")
    }
}

impl Channel for DataChannel {
    async fn wait_open(&self) -> Result<(), rtcpeer::Error> {
        DataChannel::wait_open(self).await
    }

    async fn send_binary(&self, data: Bytes) -> Result<(), rtcpeer::Error> {
        DataChannel::send_binary(self, data).await
    }

    async fn send_text(&self, text: &str) -> Result<(), rtcpeer::Error> {
        DataChannel::send_text(self, text).await
    }

    async fn buffered_amount(&self) -> usize {
        DataChannel::buffered_amount(self)
    }

    async fn recv(&self) -> Option<Message> {
        DataChannel::recv(self).await
    }

    async fn close(&self) -> Result<(), rtcpeer::Error> {
        DataChannel::close(self)
    }

    async fn ready_state(&self) -> ChannelState {
        DataChannel::ready_state(self)
    }

    async fn next_event(&self) -> Option<ChannelEvent> {
        DataChannel::next_event(self).await
    }

    async fn label(&self) -> Option<String> {
        DataChannel::label(self)
    }

    async fn buffered_amount_low_threshold(&self) -> usize {
        DataChannel::buffered_amount_low_threshold(self)
    }

    async fn set_buffered_amount_low_threshold(&self, bytes: usize) {
        DataChannel::set_buffered_amount_low_threshold(self, bytes);
    }

    async fn set_high_water_mark(&self, bytes: usize) {
        DataChannel::set_high_water_mark(self, bytes);
    }

    async fn send(&self, message: Message) -> Result<(), rtcpeer::Error> {
        DataChannel::send(self, message)
    }

    async fn try_send(&self, message: Message) -> Result<(), rtcpeer::Error> {
        DataChannel::try_send(self, message)
    }

    async fn wait_closed(&self) -> Result<(), rtcpeer::Error> {
        DataChannel::wait_closed(self).await
    }
}

/// `RuntimeError::Closed` as a core error, for adapters that mirror the async glue.
pub fn closed() -> rtcpeer::Error {
    RuntimeError::Closed.into()
}
