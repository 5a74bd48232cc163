//! The application's handle on a peer connection driven by a runtime.

use super::driver::Driver;
use super::shared::{Shared, State};
use super::{DataChannel, Events, Runtime, RuntimeError, SocketConfig, TrackLocal, TrackRemote};
use crate::media::{TrackInfo, TransceiverId, TransceiverInit};
use crate::peer_connection::{
    ChannelId, DataChannelInit, IceCandidate, IceGatheringState, PeerConnection,
    PeerConnectionState, RtcConfiguration, RtcSessionDescription, SignalingState,
};
use crate::sdp::MediaKind;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

/// A WebRTC peer connection running on an async runtime: the browser's
/// `RTCPeerConnection` with `async` methods.
///
/// [`new`](Self::new) binds UDP sockets, reports them to the core as host candidates and
/// spawns a driver task that owns sockets and timer. Handles are cheap to clone; the
/// connection closes when [`close`](Self::close) is called or the last handle is dropped
/// (the driver then sends the closing datagrams and ends). [`DataChannel`] handles do not
/// keep the connection alive.
///
/// JSEP methods are `async` for the familiar shape; they complete without waiting for the
/// network. Waiting happens in [`wait_gathering_complete`](Self::wait_gathering_complete),
/// [`wait_connected`](Self::wait_connected), channel sends (back-pressure) and receives.
#[derive(Debug)]
pub struct AsyncPeerConnection {
    shared: Arc<Shared>,
    local_addrs: Arc<[SocketAddr]>,
    runtime: Arc<dyn Runtime>,
}

impl AsyncPeerConnection {
    /// Binds sockets per `sockets`, creates the connection and starts its driver on
    /// `runtime`. A `config.seed` of `None` (the default) is filled with 32 bytes from the
    /// OS random source ([`Runtime::seed`]); a seed you set is kept (replayable tests).
    pub fn new(
        runtime: Arc<dyn Runtime>,
        config: RtcConfiguration,
        sockets: &SocketConfig,
    ) -> Result<Self, crate::Error> {
        let bound = runtime.bind(sockets).map_err(RuntimeError::Io)?;
        let local_addrs: Arc<[SocketAddr]> = bound.iter().map(|s| s.local_addr()).collect();
        let pc = new_core(&*runtime, config, &local_addrs)?;
        let shared = Shared::new(State::new(pc));
        let driver = Driver::new(shared.clone(), runtime.clone(), bound);
        runtime.spawn(Box::pin(driver));
        Ok(Self::from_parts(shared, local_addrs, runtime))
    }

    /// The handle on a connection whose driver is already arranged for.
    pub(super) fn from_parts(
        shared: Arc<Shared>,
        local_addrs: Arc<[SocketAddr]>,
        runtime: Arc<dyn Runtime>,
    ) -> Self {
        Self {
            shared,
            local_addrs,
            runtime,
        }
    }

    /// The addresses of the bound sockets (the host candidates).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Runs `f` on the core connection under the lock, then wakes the driver so that the
    /// output of the call is drained and sent. Fails with `Closed` once the driver ended.
    ///
    /// This is also the escape hatch to any core method without an async wrapper.
    pub fn with_core<T>(
        &self,
        f: impl FnOnce(&mut PeerConnection) -> Result<T, crate::Error>,
    ) -> Result<T, crate::Error> {
        let mut state = self.shared.lock();
        if state.finished.is_some() {
            return Err(RuntimeError::Closed.into());
        }
        let result = f(&mut state.pc);
        state.wake_driver();
        result
    }

    /// `createOffer()`.
    pub async fn create_offer(&self) -> Result<RtcSessionDescription, crate::Error> {
        self.with_core(|pc| pc.create_offer())
    }

    /// `createAnswer()`.
    pub async fn create_answer(&self) -> Result<RtcSessionDescription, crate::Error> {
        self.with_core(|pc| pc.create_answer())
    }

    /// `setLocalDescription(desc)`; starts gathering on the first call.
    pub async fn set_local_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), crate::Error> {
        self.with_core(|pc| pc.set_local_description(desc))
    }

    /// `setRemoteDescription(desc)`.
    pub async fn set_remote_description(
        &self,
        desc: RtcSessionDescription,
    ) -> Result<(), crate::Error> {
        self.with_core(|pc| pc.set_remote_description(desc))
    }

    /// `addIceCandidate(candidate)`: a trickled remote candidate.
    pub async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<(), crate::Error> {
        self.with_core(|pc| pc.add_ice_candidate(candidate))
    }

    /// `localDescription`, with the candidates gathered so far.
    pub fn local_description(&self) -> Option<RtcSessionDescription> {
        self.shared.lock().pc.local_description()
    }

    /// `remoteDescription`.
    pub fn remote_description(&self) -> Option<RtcSessionDescription> {
        self.shared.lock().pc.remote_description()
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> PeerConnectionState {
        self.shared.lock().pc.connection_state()
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> SignalingState {
        self.shared.lock().pc.signaling_state()
    }

    /// The core connection's counters (received, sent, dropped per reason, per layer).
    pub fn stats(&self) -> crate::peer_connection::PeerConnectionStats {
        self.shared.lock().pc.stats()
    }

    /// `iceGatheringState`.
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.shared.lock().pc.ice_gathering_state()
    }

    /// `createDataChannel(label, init)`.
    pub async fn create_data_channel(
        &self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<DataChannel, crate::Error> {
        let id = self.with_core(|pc| pc.create_data_channel(label, init))?;
        self.shared.lock().channel(id);
        Ok(self.data_channel(id))
    }

    /// `ondatachannel`: the next channel the peer opened, as a handle; `None` once the
    /// connection ended. Each channel is returned once (the [`Events`] stream reports it
    /// too, as an `Event::DataChannel` with its id).
    pub async fn accept_channel(&self) -> Option<DataChannel> {
        let id = poll_fn(|cx| {
            let mut state = self.shared.lock();
            if let Some(id) = state.incoming.pop_front() {
                return Poll::Ready(Some(id));
            }
            if state.finished.is_some() {
                return Poll::Ready(None);
            }
            state.state_waiters.register(cx.waker());
            Poll::Pending
        })
        .await?;
        Some(self.data_channel(id))
    }

    /// The handle of channel `id` (for example from an `Event::DataChannel`). An id the
    /// connection never had gives a handle whose calls fail with `NoSuchChannel` (none
    /// waits).
    pub fn data_channel(&self, id: ChannelId) -> DataChannel {
        DataChannel {
            shared: self.shared.clone(),
            id,
        }
    }

    /// `addTrack(track)`: sends on a transceiver of the track's kind (see
    /// [`PeerConnection::add_track`](crate::peer_connection::PeerConnection::add_track));
    /// the handle writes RTP once negotiation and DTLS-SRTP completed.
    pub async fn add_track(&self, track: TrackInfo) -> Result<TrackLocal, crate::Error> {
        let id = self.with_core(|pc| pc.add_track(track))?;
        Ok(self.track_local(id))
    }

    /// `addTransceiver(kind, init)`.
    pub async fn add_transceiver(
        &self,
        kind: MediaKind,
        init: TransceiverInit,
    ) -> Result<TransceiverId, crate::Error> {
        self.with_core(|pc| pc.add_transceiver(kind, init))
    }

    /// `removeTrack(sender)`.
    pub async fn remove_track(&self, id: TransceiverId) -> Result<(), crate::Error> {
        self.with_core(|pc| pc.remove_track(id))
    }

    /// The sending handle of transceiver `id`.
    pub fn track_local(&self, id: TransceiverId) -> TrackLocal {
        TrackLocal {
            shared: self.shared.clone(),
            id,
        }
    }

    /// The receiving handle of transceiver `id` (for example from an `Event::Track`).
    pub fn track_remote(&self, id: TransceiverId) -> TrackRemote {
        TrackRemote {
            shared: self.shared.clone(),
            id,
        }
    }

    /// The connection's event stream (see [`Events`]).
    pub fn events(&self) -> Events {
        Events {
            shared: self.shared.clone(),
        }
    }

    /// Waits until ICE gathering is complete, then returns the local description with
    /// every candidate in it: what a non-trickle peer (WHIP, WHEP) needs. Fails at once
    /// with [`RuntimeError::NoLocalDescription`] if no local description was set (gathering
    /// starts with it), and with `Closed` when the connection ends.
    pub async fn wait_gathering_complete(&self) -> Result<RtcSessionDescription, crate::Error> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.finished.is_some() {
                return Poll::Ready(Err(RuntimeError::Closed.into()));
            }
            if state.pc.local_description().is_none() {
                return Poll::Ready(Err(RuntimeError::NoLocalDescription.into()));
            }
            if state.pc.ice_gathering_state() == IceGatheringState::Gathering {
                // With host candidates only, gathering ends on a core timeout due at once:
                // run it here rather than wait for the driver to wake, run it and wake us
                // (an early call is harmless). The driver drains what it produced.
                let now = self.runtime.now();
                state.pc.handle_timeout(now);
                state.wake_driver();
            }
            if state.pc.ice_gathering_state() == IceGatheringState::Complete {
                let desc = state.pc.local_description();
                return Poll::Ready(desc.ok_or_else(|| RuntimeError::NoLocalDescription.into()));
            }
            state.state_waiters.register(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Waits until the connection state is `Connected`. Fails with
    /// [`RuntimeError::ConnectionFailed`] on `Failed` (ICE found no path, DTLS failed:
    /// this ends within the ICE and DTLS timeouts) and with `Closed` on `Closed` or when
    /// the driver ends.
    pub async fn wait_connected(&self) -> Result<(), crate::Error> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.finished.is_some() {
                return Poll::Ready(Err(RuntimeError::Closed.into()));
            }
            match state.pc.connection_state() {
                PeerConnectionState::Connected => Poll::Ready(Ok(())),
                PeerConnectionState::Failed => {
                    Poll::Ready(Err(RuntimeError::ConnectionFailed.into()))
                }
                PeerConnectionState::Closed => Poll::Ready(Err(RuntimeError::Closed.into())),
                _ => {
                    state.state_waiters.register(cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// `restartIce()`.
    pub fn restart_ice(&self) -> Result<(), crate::Error> {
        self.with_core(|pc| {
            pc.restart_ice();
            Ok(())
        })
    }

    /// `close()`: closes the connection, sends the closing datagrams, and waits until the
    /// driver has ended. As in the browser, messages still buffered on data channels are
    /// dropped: to deliver them first, `close()` each channel and
    /// [`wait_closed`](DataChannel::wait_closed) before closing the connection.
    pub async fn close(&self) {
        {
            let mut state = self.shared.lock();
            state.close_requested = true;
            state.wake_driver();
        }
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.finished.is_some() {
                return Poll::Ready(());
            }
            state.state_waiters.register(cx.waker());
            Poll::Pending
        })
        .await
    }
}

/// The core connection for an async driver: a `config.seed` of `None` is filled from the
/// OS ([`Runtime::seed`]), a missing wall clock from the runtime's, and every address of
/// `local_addrs` is reported as a socket.
pub(super) fn new_core(
    runtime: &dyn Runtime,
    mut config: RtcConfiguration,
    local_addrs: &[SocketAddr],
) -> Result<PeerConnection, crate::Error> {
    if config.seed.is_none() {
        config.seed = Some(crate::Seed::from_bytes(runtime.seed()));
    }
    let now = runtime.now();
    if config.wall_clock.is_none() {
        config.wall_clock = Some(Arc::new(crate::time::AnchoredWallClock::new(
            now,
            runtime.system_time(),
        )));
    }
    let mut pc = PeerConnection::new(config, now)?;
    for addr in local_addrs {
        pc.add_local_socket(now, *addr)?;
    }
    Ok(pc)
}

impl Clone for AsyncPeerConnection {
    fn clone(&self) -> Self {
        self.shared.lock().handles += 1;
        Self {
            shared: self.shared.clone(),
            local_addrs: self.local_addrs.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl Drop for AsyncPeerConnection {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.handles = state.handles.saturating_sub(1);
        if state.handles == 0 {
            state.wake_driver();
        }
    }
}
