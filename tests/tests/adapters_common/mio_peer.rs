//! The shared scenario's [`Peer`] over `rtcpeer-mio`: each peer is one `EventLoop` on its
//! own thread with one connection in its endpoint.
//!
//! Commands (JSEP calls, sends) go to the loop with `LoopHandle::call` and are awaited as
//! its `Reply`. The loop's event callback mirrors what the scenario waits for (gathering,
//! connection state, remote channels, each channel's `readyState` and W3C events, messages)
//! into a [`Mirror`]; every change wakes the futures waiting on it. The async body runs on
//! [`block_on`](super::executor::block_on), whose [`Sleep`] is this adapter's timer.
//!
//! What the async glue adds to the core, done here the same way over the mio loop's
//! callback and commands: `readyState` moves (and queues `open`/`closing`/`close`) on the
//! core's channel events and on `close()`; a failed connection gives each channel `error`
//! then `close`, an ended loop `close`; back-pressured sends wait while more than the
//! channel's high water mark (`SEND_HIGH_WATER` unless set) is queued, `try_send` refuses
//! then; messages held unread count against the SCTP receive window
//! (`set_application_unread`); a made-up channel id fails at once (`NoSuchChannel`).

use super::executor::Sleep;
use super::peer::{Adapter, Channel, Peer, closed};
use bytes::Bytes;
use rtcpeer::endpoint::{ConnectionHandle, Endpoint};
use rtcpeer::peer_connection::{
    ChannelId, ChannelState, DataChannelHandle, Event, IceGatheringState, PeerConnection,
    PeerConnectionState, RtcConfiguration, RtcSessionDescription,
};
use rtcpeer::runtime::{ChannelEvent, Message, RuntimeError, SEND_HIGH_WATER, SEND_LOW_WATER};
use rtcpeer_mio::{EventLoop, LoopHandle, SocketConfig};
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Channel events kept unread before the oldest is dropped (as the async glue does).
const MAX_CHANNEL_EVENTS: usize = 64;

#[derive(Debug)]
struct ChannelMirror {
    /// `readyState` as the callback last saw it (`Closed` once the loop ended).
    ready: ChannelState,
    /// The W3C events not read yet, bounded.
    events: VecDeque<ChannelEvent>,
    inbox: VecDeque<Message>,
    unread: usize,
    /// How many `bufferedamountlow` events fired: a sender that saw a full queue waits
    /// for this to grow.
    low_events: u64,
    /// Back-pressured sends wait, and `try_send` refuses, above this many buffered bytes.
    high_water: usize,
}

impl Default for ChannelMirror {
    fn default() -> Self {
        Self {
            ready: ChannelState::Connecting,
            events: VecDeque::new(),
            inbox: VecDeque::new(),
            unread: 0,
            low_events: 0,
            high_water: SEND_HIGH_WATER,
        }
    }
}

impl ChannelMirror {
    fn push_event(&mut self, event: ChannelEvent) {
        if self.events.len() >= MAX_CHANNEL_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Moves to `state` (never back from `Closed`), queueing the matching event.
    fn set_ready(&mut self, state: ChannelState) {
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
    }

    /// Closing or closed.
    fn closed(&self) -> bool {
        matches!(self.ready, ChannelState::Closing | ChannelState::Closed)
    }
}

#[derive(Debug)]
struct Mirror {
    gathering_complete: bool,
    state: PeerConnectionState,
    /// Channels the peer opened, with their labels, not yet taken by `remote_channel`.
    announced: VecDeque<(ChannelId, String)>,
    channels: HashMap<ChannelId, ChannelMirror>,
    loop_ended: bool,
    wakers: Vec<Waker>,
}

impl Mirror {
    fn channel(&mut self, id: ChannelId) -> &mut ChannelMirror {
        self.channels.entry(id).or_default()
    }

    fn unread(&self) -> usize {
        self.channels.values().map(|c| c.unread).sum()
    }

    /// The connection ended: every channel not closed yet reports `error` (if `error`
    /// says why) and `close`, as the browser does.
    fn close_all_channels(&mut self, error: Option<&str>) {
        for channel in self.channels.values_mut() {
            if channel.ready == ChannelState::Closed {
                continue;
            }
            if let Some(reason) = error {
                channel.push_event(ChannelEvent::Error(reason.to_owned()));
            }
            channel.set_ready(ChannelState::Closed);
        }
    }
}

#[derive(Debug)]
struct Shared(Mutex<Mirror>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Mirror> {
        self.0.lock().expect("no panic while the mirror is locked")
    }

    /// Changes the mirror and wakes every waiting future.
    fn update<T>(&self, change: impl FnOnce(&mut Mirror) -> T) -> T {
        let (out, wakers) = {
            let mut mirror = self.lock();
            let out = change(&mut mirror);
            (out, std::mem::take(&mut mirror.wakers))
        };
        wakers.into_iter().for_each(Waker::wake);
        out
    }

    /// Completes with the first `Some` that `check` returns; rechecked on every change.
    async fn wait<T>(&self, mut check: impl FnMut(&mut Mirror) -> Option<T>) -> T {
        poll_fn(|cx| {
            let mut mirror = self.lock();
            if let Some(v) = check(&mut mirror) {
                return Poll::Ready(v);
            }
            if !mirror.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                mirror.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// The event callback's work, on the loop thread.
    fn on_event(&self, pc: &mut PeerConnection, event: Event) {
        match event {
            Event::IceGatheringStateChange(IceGatheringState::Complete) => {
                self.update(|m| m.gathering_complete = true);
            }
            Event::ConnectionStateChange(state) => self.update(|m| {
                m.state = state;
                if state == PeerConnectionState::Failed {
                    m.close_all_channels(Some("the connection failed"));
                }
            }),
            Event::DataChannel(id) => {
                let Ok(mut channel) = pc.data_channel(id) else {
                    return;
                };
                channel.set_buffered_amount_low_threshold(SEND_LOW_WATER);
                let label = channel.label().to_owned();
                self.update(|m| {
                    m.channel(id);
                    m.announced.push_back((id, label));
                });
            }
            Event::ChannelOpen(id) => self.update(|m| m.channel(id).set_ready(ChannelState::Open)),
            Event::ChannelClosing(id) => {
                self.update(|m| m.channel(id).set_ready(ChannelState::Closing));
            }
            Event::ChannelClosed(id) => {
                self.update(|m| m.channel(id).set_ready(ChannelState::Closed));
            }
            Event::ChannelBufferedAmountLow(id) => self.update(|m| {
                let channel = m.channel(id);
                channel.low_events += 1;
                channel.push_event(ChannelEvent::BufferedAmountLow);
            }),
            Event::ChannelMessage { id, data, binary } => {
                let message = if binary {
                    Message::Binary(data)
                } else {
                    Message::Text(String::from_utf8_lossy(&data).into_owned())
                };
                let unread = self.update(|m| {
                    let channel = m.channel(id);
                    channel.unread += message.len();
                    channel.inbox.push_back(message);
                    m.unread()
                });
                pc.set_application_unread(unread);
            }
            _ => {}
        }
    }
}

/// Peers on mio event loops; the scenario must run under
/// [`block_on`](super::executor::block_on).
#[derive(Debug, Clone, Copy)]
pub struct MioAdapter;

impl Adapter for MioAdapter {
    type Peer = MioPeer;

    fn new_peer_with(&self, config: RtcConfiguration) -> MioPeer {
        MioPeer::start(config)
    }

    async fn sleep(&self, duration: Duration) {
        Sleep::new(duration).await;
    }
}

/// The loop handle, the connection in that loop's endpoint, and the mirror.
#[derive(Debug, Clone)]
struct Link {
    handle: LoopHandle,
    connection: ConnectionHandle,
    shared: Arc<Shared>,
}

impl Link {
    /// Runs `f` on the connection inside the loop; `Closed` once the loop has ended.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PeerConnection, &Shared) -> Result<T, rtcpeer::Error> + Send + 'static,
    ) -> Result<T, rtcpeer::Error> {
        let (connection, shared) = (self.connection, self.shared.clone());
        let reply = self.handle.call(move |ep: &mut Endpoint| {
            let pc = ep.peer_connection(connection).ok_or_else(closed)?;
            f(pc, &shared)
        });
        reply.await.map_err(|_| closed())?
    }
}

/// One connection on its own mio event loop thread.
#[derive(Debug)]
pub struct MioPeer {
    link: Link,
    local_addrs: Vec<SocketAddr>,
    thread: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
}

impl MioPeer {
    fn start(config: RtcConfiguration) -> Self {
        let shared = Arc::new(Shared(Mutex::new(Mirror {
            gathering_complete: false,
            state: PeerConnectionState::New,
            announced: VecDeque::new(),
            channels: HashMap::new(),
            loop_ended: false,
            wakers: Vec::new(),
        })));
        let mirror = shared.clone();
        let mut event_loop = EventLoop::new(&SocketConfig::loopback(), move |ep, h, event| {
            if let Some(pc) = ep.peer_connection(h) {
                mirror.on_event(pc, event);
            }
        })
        .expect("event loop on 127.0.0.1");
        let connection = event_loop
            .endpoint()
            .add_peer_connection(config, Instant::now())
            .expect("connection");
        let local_addrs = event_loop.local_addrs();
        let handle = event_loop.handle();
        let ended = shared.clone();
        let thread = std::thread::spawn(move || {
            let result = event_loop.run();
            ended.update(|m| {
                m.loop_ended = true;
                m.close_all_channels(result.as_ref().err().map(|e| e.to_string()).as_deref());
            });
            result
        });
        Self {
            link: Link {
                handle,
                connection,
                shared,
            },
            local_addrs,
            thread: Mutex::new(Some(thread)),
        }
    }
}

impl Peer for MioPeer {
    type Channel = MioChannel;

    fn local_addrs(&self) -> Vec<SocketAddr> {
        self.local_addrs.clone()
    }

    async fn create_data_channel(&self, label: &str) -> Result<MioChannel, rtcpeer::Error> {
        let label = label.to_owned();
        let id = self
            .link
            .call(move |pc, shared| {
                let id = pc.create_data_channel(&label, Default::default())?;
                pc.data_channel(id)?
                    .set_buffered_amount_low_threshold(SEND_LOW_WATER);
                shared.update(|m| {
                    m.channel(id);
                });
                Ok(id)
            })
            .await?;
        Ok(MioChannel {
            link: self.link.clone(),
            id,
        })
    }

    async fn create_offer(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        self.link.call(|pc, _| pc.create_offer()).await
    }

    async fn create_answer(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        self.link.call(|pc, _| pc.create_answer()).await
    }

    async fn set_local_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error> {
        self.link.call(|pc, _| pc.set_local_description(desc)).await
    }

    async fn set_remote_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), rtcpeer::Error> {
        self.link
            .call(|pc, _| pc.set_remote_description(desc))
            .await
    }

    async fn wait_gathering_complete(&self) -> Result<RtcSessionDescription, rtcpeer::Error> {
        let shared = &self.link.shared;
        shared
            .wait(|m| (m.gathering_complete || m.loop_ended).then_some(()))
            .await;
        self.link
            .call(|pc, _| {
                pc.local_description().ok_or_else(|| {
                    rtcpeer::Error::InvalidConfig("no local description was set".into())
                })
            })
            .await
    }

    async fn wait_connected(&self) -> Result<(), rtcpeer::Error> {
        let shared = &self.link.shared;
        shared
            .wait(|m| match m.state {
                PeerConnectionState::Connected => Some(Ok(())),
                PeerConnectionState::Failed => Some(Err(RuntimeError::ConnectionFailed.into())),
                PeerConnectionState::Closed => Some(Err(closed())),
                _ if m.loop_ended => Some(Err(closed())),
                _ => None,
            })
            .await
    }

    async fn connection_state(&self) -> PeerConnectionState {
        let state = self.link.call(|pc, _| Ok(pc.connection_state())).await;
        // The loop ends only after closing its connections.
        state.unwrap_or(PeerConnectionState::Closed)
    }

    fn data_channel(&self, id: ChannelId) -> MioChannel {
        MioChannel {
            link: self.link.clone(),
            id,
        }
    }

    async fn remote_channel(&self, label: &str) -> Option<MioChannel> {
        let shared = &self.link.shared;
        let id = shared
            .wait(|m| {
                let found = m.announced.iter().position(|(_, l)| l == label);
                match found {
                    Some(i) => m.announced.remove(i).map(|(id, _)| Some(id)),
                    None => m.loop_ended.then_some(None),
                }
            })
            .await?;
        Some(MioChannel {
            link: self.link.clone(),
            id,
        })
    }

    async fn received_and_dropped(&self) -> (u64, u64) {
        // The endpoint hands the connection what it can route and drops the rest itself.
        let connection = self.link.connection;
        let counts = self.link.handle.call(move |ep: &mut Endpoint| {
            let routing = ep.stats();
            let stats = ep.peer_connection(connection).map(|pc| pc.stats())?;
            let arrived = routing.routed + routing.dropped_unroutable;
            let dropped = routing.dropped_unroutable + stats.dropped_unknown + stats.dropped_media;
            Some((arrived, dropped))
        });
        counts
            .await
            .ok()
            .flatten()
            .expect("counters of a live connection")
    }

    async fn close(&self) {
        // Err: the loop has already ended, which is what closing waits for.
        let _ = self.link.handle.close();
        let shared = &self.link.shared;
        shared.wait(|m| m.loop_ended.then_some(())).await;
        let thread = self.thread.lock().expect("not poisoned").take();
        if let Some(thread) = thread {
            let result = thread.join().expect("loop thread does not panic");
            result.expect("loop ends cleanly");
        }
    }

    async fn with_core<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PeerConnection) -> T + Send + 'static,
    ) -> T {
        self.link
            .call(move |pc, _| Ok(f(pc)))
            .await
            .expect("a live connection")
    }
}

/// A data channel of a [`MioPeer`].
#[derive(Debug, Clone)]
pub struct MioChannel {
    link: Link,
    id: ChannelId,
}

/// Outcome of one send attempt on the loop thread.
enum Attempt {
    Sent,
    /// The queue was over the high water mark after this many `bufferedamountlow` events.
    Full(u64, Bytes),
}

impl MioChannel {
    async fn wait_low_after(&self, seen: u64) {
        let id = self.id;
        let shared = &self.link.shared;
        shared
            .wait(|m| {
                let ended = m.loop_ended;
                let channel = m.channel(id);
                (channel.low_events > seen || channel.closed() || ended).then_some(())
            })
            .await;
    }

    async fn send(&self, data: Bytes, binary: bool) -> Result<(), rtcpeer::Error> {
        self.wait_open().await?;
        let id = self.id;
        let mut data = data;
        loop {
            let attempt = self
                .link
                .call(move |pc, shared| {
                    let mut channel = pc.data_channel(id)?;
                    let high_water = shared.lock().channel(id).high_water;
                    if channel.buffered_amount() > high_water {
                        // Read on the loop thread, where the callback counts: no event
                        // can slip between this check and the count.
                        let seen = shared.lock().channel(id).low_events;
                        return Ok(Attempt::Full(seen, data));
                    }
                    if binary {
                        channel.send_binary(data)?;
                    } else {
                        channel.send_text(&String::from_utf8_lossy(&data))?;
                    }
                    Ok(Attempt::Sent)
                })
                .await?;
            match attempt {
                Attempt::Sent => return Ok(()),
                Attempt::Full(seen, back) => {
                    data = back;
                    self.wait_low_after(seen).await;
                }
            }
        }
    }
}

impl Channel for MioChannel {
    async fn wait_open(&self) -> Result<(), rtcpeer::Error> {
        let id = self.id;
        // A made-up id fails at once instead of waiting for an event that never comes.
        self.link
            .call(move |pc, _| pc.data_channel(id).map(drop))
            .await?;
        let shared = &self.link.shared;
        shared
            .wait(|m| {
                let ended = m.loop_ended;
                let channel = m.channel(id);
                if channel.ready == ChannelState::Open {
                    Some(Ok(()))
                } else if channel.closed() {
                    Some(Err(RuntimeError::ChannelClosed.into()))
                } else {
                    ended.then(|| Err(closed()))
                }
            })
            .await
    }

    async fn send_binary(&self, data: Bytes) -> Result<(), rtcpeer::Error> {
        self.send(data, true).await
    }

    async fn send_text(&self, text: &str) -> Result<(), rtcpeer::Error> {
        self.send(Bytes::copy_from_slice(text.as_bytes()), false)
            .await
    }

    async fn buffered_amount(&self) -> usize {
        let id = self.id;
        let amount = self
            .link
            .call(move |pc, _| Ok(pc.data_channel(id)?.buffered_amount()))
            .await;
        amount.unwrap_or(0)
    }

    async fn recv(&self) -> Option<Message> {
        let id = self.id;
        let shared = &self.link.shared;
        let message = shared
            .wait(|m| {
                let ended = m.loop_ended;
                let channel = m.channel(id);
                if let Some(message) = channel.inbox.pop_front() {
                    channel.unread = channel.unread.saturating_sub(message.len());
                    Some(Some(message))
                } else {
                    (channel.closed() || ended).then_some(None)
                }
            })
            .await?;
        // The receive window may have reopened; the count is read on the loop thread.
        let _ = self.link.handle.execute({
            let (connection, shared) = (self.link.connection, shared.clone());
            move |ep| {
                if let Some(pc) = ep.peer_connection(connection) {
                    pc.set_application_unread(shared.lock().unread());
                }
            }
        });
        Some(message)
    }

    async fn close(&self) -> Result<(), rtcpeer::Error> {
        let id = self.id;
        self.link
            .call(move |pc, shared| {
                pc.data_channel(id)?.close()?;
                // `readyState` is `closing` as soon as `close()` returns, as in the browser.
                shared.update(|m| m.channel(id).set_ready(ChannelState::Closing));
                Ok(())
            })
            .await
    }

    async fn ready_state(&self) -> ChannelState {
        let mut m = self.link.shared.lock();
        if m.loop_ended {
            ChannelState::Closed
        } else {
            m.channel(self.id).ready
        }
    }

    async fn next_event(&self) -> Option<ChannelEvent> {
        let id = self.id;
        self.link
            .shared
            .wait(|m| {
                let ended = m.loop_ended;
                let channel = m.channel(id);
                if let Some(event) = channel.events.pop_front() {
                    Some(Some(event))
                } else {
                    (channel.ready == ChannelState::Closed || ended).then_some(None)
                }
            })
            .await
    }

    async fn label(&self) -> Option<String> {
        let id = self.id;
        let label = self
            .link
            .call(move |pc, _| Ok(pc.data_channel(id)?.label().to_owned()))
            .await;
        label.ok()
    }

    async fn buffered_amount_low_threshold(&self) -> usize {
        let id = self.id;
        let threshold = self
            .link
            .call(move |pc, _| Ok(pc.data_channel(id)?.buffered_amount_low_threshold()))
            .await;
        threshold.unwrap_or(0)
    }

    async fn set_buffered_amount_low_threshold(&self, bytes: usize) {
        let id = self.id;
        // Err: the channel or the loop is gone, and with it the threshold.
        let _ = self
            .link
            .call(move |pc, _| {
                pc.data_channel(id)?
                    .set_buffered_amount_low_threshold(bytes);
                Ok(())
            })
            .await;
    }

    async fn set_high_water_mark(&self, bytes: usize) {
        let id = self.id;
        self.link
            .shared
            .update(|m| m.channel(id).high_water = bytes);
    }

    async fn send(&self, message: Message) -> Result<(), rtcpeer::Error> {
        let id = self.id;
        self.link
            .call(move |pc, shared| {
                let mut channel = pc.data_channel(id)?;
                if shared.lock().channel(id).closed() {
                    return Err(RuntimeError::ChannelClosed.into());
                }
                send_message(&mut channel, message)
            })
            .await
    }

    async fn try_send(&self, message: Message) -> Result<(), rtcpeer::Error> {
        let id = self.id;
        self.link
            .call(move |pc, shared| {
                let mut channel = pc.data_channel(id)?;
                let (ready, high_water) = {
                    let mut m = shared.lock();
                    let mirror = m.channel(id);
                    (mirror.ready, mirror.high_water)
                };
                match ready {
                    ChannelState::Open if channel.buffered_amount() <= high_water => {
                        send_message(&mut channel, message)
                    }
                    ChannelState::Open | ChannelState::Connecting => {
                        Err(RuntimeError::WouldBlock.into())
                    }
                    _ => Err(RuntimeError::ChannelClosed.into()),
                }
            })
            .await
    }

    async fn wait_closed(&self) -> Result<(), rtcpeer::Error> {
        let id = self.id;
        self.link
            .shared
            .wait(|m| (m.loop_ended || m.channel(id).ready == ChannelState::Closed).then_some(()))
            .await;
        Ok(())
    }
}

/// Queues `message` on the core channel.
fn send_message(
    channel: &mut DataChannelHandle<'_>,
    message: Message,
) -> Result<(), rtcpeer::Error> {
    match message {
        Message::Text(text) => channel.send_text(&text),
        Message::Binary(data) => channel.send_binary(data),
    }
}
