//! The echo sessions on an async runtime through rtcpeer's async API (`rtcpeer-tokio`,
//! `rtcpeer-smol`): each session is a [`PeerConnection`] of one [`Endpoint`], so every
//! session is served on the one UDP port of the listen address, by one driver task; one
//! task per data channel echoes messages, one task follows the connection's events and
//! frees the session when it ends.
//!
//! The body is written once against the core's [`Runtime`] trait; [`AsyncEchoBackend::tokio`]
//! and [`AsyncEchoBackend::smol`] only pick the runtime. The mio backend is the variant that
//! drives the sans-IO core from a hand-written loop.

use super::backend::{
    BackendError, BoxFuture, Created, GATHER_TIMEOUT, SctpRecovery, SessionBackend, SessionId,
    SessionStats, os_seed,
};
use super::config::EchoConfig;
use super::lifecycle::{self, EndReason};
use super::session::{SERVER_CHANNEL_LABEL, echo_config};
use super::table::SessionTable;
use rtcpeer::runtime::api::{
    DataChannel, Endpoint, Event, Message, PeerConnection, PeerConnectionState,
    RtcSessionDescription, Runtime, SdpType, SocketConfig, TrackLocal, TrackRemote,
};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Stats = Arc<Mutex<SessionStats>>;

/// Why the server itself ended a session, if it did (the watcher logs it).
type Why = Arc<Mutex<Option<EndReason>>>;

struct Inner {
    runtime: Arc<dyn Runtime>,
    listen_ip: IpAddr,
    config: EchoConfig,
    sessions: SessionTable<PeerConnection>,
    /// Bound on the first session (inside the runtime, whose reactor registers the socket).
    endpoint: Mutex<Option<Endpoint>>,
}

/// [`SessionBackend`] whose sessions are async peer connections on one [`Runtime`].
#[derive(Clone)]
pub struct AsyncEchoBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AsyncEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncEchoBackend")
            .field("runtime", &self.inner.runtime)
            .field("listen_ip", &self.inner.listen_ip)
            .field("config", &self.inner.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    BackendError::Internal(e.to_string())
}

fn bad_sdp(e: impl std::fmt::Display) -> BackendError {
    BackendError::BadSdp(e.to_string())
}

impl AsyncEchoBackend {
    /// Sessions run on `runtime` and bind their UDP sockets on `listen_ip`, under `config`.
    pub fn new(runtime: Arc<dyn Runtime>, listen_ip: IpAddr, config: EchoConfig) -> Self {
        let inner = Inner {
            runtime,
            listen_ip,
            config,
            sessions: SessionTable::new(config.limits),
            endpoint: Mutex::new(None),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Sessions on the current tokio runtime (`rtcpeer-tokio`).
    ///
    /// # Panics
    /// Outside the context of a tokio runtime.
    pub fn tokio(listen_ip: IpAddr, config: EchoConfig) -> Self {
        Self::new(
            rtcpeer_tokio::TokioRuntime::current().into_dyn(),
            listen_ip,
            config,
        )
    }

    /// Sessions on smol (`rtcpeer-smol`).
    ///
    /// Its tasks run on a smol executor with a thread per core (`smol_executor_per_core`),
    /// so that the endpoint's shards do run in parallel.
    pub fn smol(listen_ip: IpAddr, config: EchoConfig) -> Self {
        Self::new(
            rtcpeer_smol::SmolRuntime::with_executor(smol_executor_per_core()).into_dyn(),
            listen_ip,
            config,
        )
    }

    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.inner.runtime.spawn(Box::pin(future));
    }

    /// A new peer connection on the endpoint's socket, if there is room for `client`.
    fn new_pc(&self, client: IpAddr) -> Result<PeerConnection, BackendError> {
        self.inner.sessions.check_room(client)?;
        let config = echo_config(os_seed()?, self.inner.config.ice_lite);
        self.endpoint()?
            .new_peer_connection(config)
            .map_err(internal)
    }

    /// The endpoint every session runs on: one UDP socket on the listen address, bound
    /// on first use.
    fn endpoint(&self) -> Result<Endpoint, BackendError> {
        let mut slot = self
            .inner
            .endpoint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(endpoint) = &*slot {
            return Ok(endpoint.clone());
        }
        let sockets = SocketConfig {
            port: self.inner.config.udp_port,
            ..SocketConfig::with_addresses([self.inner.listen_ip])
        };
        let shards = match self.inner.config.shards {
            0 => rtcpeer::runtime::default_shards(),
            n => n,
        };
        let endpoint = Endpoint::with_shards(self.inner.runtime.clone(), &sockets, shards)
            .map_err(internal)?;
        *slot = Some(endpoint.clone());
        Ok(endpoint)
    }

    /// The UDP addresses every session is served on, once the first session bound them.
    pub fn udp_addrs(&self) -> Vec<std::net::SocketAddr> {
        let slot = self
            .inner
            .endpoint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref()
            .map_or_else(Vec::new, |e| e.local_addrs().to_vec())
    }

    /// Registers a session and starts its tasks (`own_channel`: the channel the server
    /// opened as offerer), then waits for gathering and returns the complete description.
    async fn start(
        self,
        pc: PeerConnection,
        own_channel: Option<DataChannel>,
        client: IpAddr,
    ) -> Result<Created, BackendError> {
        let mut stats = SessionStats::default();
        stats.set_state(pc.connection_state(), None);
        let stats = Arc::new(Mutex::new(stats));
        let offering = own_channel.is_some();
        let id = self
            .inner
            .sessions
            .insert(pc.clone(), stats.clone(), offering, client)?;
        lifecycle::created(id, client, offering);
        let why = Why::default();
        if let Some(channel) = own_channel {
            self.spawn(echo(channel, stats.clone()));
        }
        self.spawn(self.clone().guard(pc.clone(), why.clone()));
        self.spawn(self.clone().watch(id, pc.clone(), stats, why.clone()));
        let gathered = timeout(
            &*self.inner.runtime,
            GATHER_TIMEOUT,
            pc.wait_gathering_complete(),
        );
        match gathered.await {
            Some(Ok(description)) => Ok(Created {
                id,
                sdp: description.sdp,
            }),
            _ => {
                end(&pc, &why, EndReason::GatherTimeout).await;
                Err(internal("ICE gathering did not complete"))
            }
        }
    }

    /// Closes a session that sees no ICE check within the unchecked timeout, or does not
    /// connect within the connect timeout.
    async fn guard(self, pc: PeerConnection, why: Why) {
        let config = self.inner.config;
        let runtime = &*self.inner.runtime;
        if timeout(runtime, config.unchecked_timeout, pc.wait_connected())
            .await
            .is_some()
        {
            return; // connected, or already ended
        }
        if pc.stats().ice.checks_received == 0 {
            return end(&pc, &why, EndReason::NoCheck).await;
        }
        let rest = config
            .connect_timeout
            .saturating_sub(config.unchecked_timeout);
        if timeout(runtime, rest, pc.wait_connected()).await.is_none() {
            end(&pc, &why, EndReason::ConnectTimeout).await;
        }
    }

    /// Follows one session's events: echoes on every channel the peer opens, keeps the
    /// figures, and frees the session once it has ended.
    async fn watch(self, id: SessionId, pc: PeerConnection, stats: Stats, why: Why) {
        let mut events = pc.events();
        let mut failed = false;
        while let Some(event) = events.next().await {
            match event {
                Event::DataChannel(channel) => {
                    self.spawn(echo(pc.data_channel(channel), stats.clone()));
                }
                Event::Track(track) => {
                    let id = track.transceiver;
                    self.spawn(echo_track(
                        pc.track_remote(id),
                        pc.track_local(id),
                        stats.clone(),
                    ));
                    self.spawn(forward_keyframes(pc.track_local(id), pc.track_remote(id)));
                }
                Event::ChannelOpen(_) | Event::ChannelClosed(_) => {
                    let open = pc.with_core(|core| Ok(core.data_channel_ids().len()));
                    lock(&stats).channels = open.unwrap_or(0);
                }
                Event::ConnectionStateChange(state) => {
                    let pair = pc.with_core(|core| Ok(core.data_path()));
                    let mut figures = lock(&stats);
                    figures.set_state(state, pair.ok().flatten());
                    if state == PeerConnectionState::Connected {
                        lifecycle::connected(id, figures.selected_pair.as_deref());
                    }
                    failed = state == PeerConnectionState::Failed;
                    if failed || state == PeerConnectionState::Closed {
                        break;
                    }
                }
                _ => {}
            }
        }
        let fallback = if failed {
            EndReason::Failed
        } else {
            EndReason::Closed
        };
        let fallback = lock_why(&why).unwrap_or(fallback);
        let final_stats = pc.stats();
        pc.close().await;
        self.inner.sessions.remove(id);
        lifecycle::ended(
            id,
            lifecycle::end_reason(&final_stats, fallback),
            &final_stats,
        );
    }
}

fn lock_why(why: &Why) -> std::sync::MutexGuard<'_, Option<EndReason>> {
    why.lock().expect("reason lock is never poisoned")
}

/// Records why the server ends the session (first reason wins) and closes it.
async fn end(pc: &PeerConnection, why: &Why, reason: EndReason) {
    lock_why(why).get_or_insert(reason);
    pc.close().await;
}

fn lock(stats: &Stats) -> std::sync::MutexGuard<'_, SessionStats> {
    stats.lock().expect("stats lock is never poisoned")
}

/// `future`'s output, or `None` if `limit` passes first (on `runtime`'s clock and timers).
pub(crate) async fn timeout<T>(
    runtime: &dyn Runtime,
    limit: Duration,
    future: impl Future<Output = T>,
) -> Option<T> {
    let mut timer = runtime.new_timer(runtime.now() + limit);
    let expired = std::future::poll_fn(|cx| timer.as_mut().poll(cx));
    smol::future::or(async { Some(future.await) }, async {
        expired.await;
        None
    })
    .await
}

/// Sends every message back on its channel, text as text, binary as binary.
async fn echo(channel: DataChannel, stats: Stats) {
    while let Some(message) = channel.recv().await {
        let len = message.len();
        let sent = match message {
            Message::Text(text) => channel.send_text(&text).await,
            Message::Binary(bytes) => channel.send_binary(bytes).await,
        };
        if let Err(e) = &sent {
            tracing::debug!(%e, "echo: could not send the echo");
        }
        lock(&stats).count_echo(len, sent.is_ok());
    }
}

/// Sends every RTP packet of a client's track back on the same transceiver.
async fn echo_track(remote: TrackRemote, local: TrackLocal, stats: Stats) {
    while let Some(packet) = remote.read_rtp().await {
        let sent = local.write_rtp(super::media::echo_write(&packet)).await;
        if let Err(e) = &sent {
            tracing::trace!(%e, "echo: RTP packet not echoed");
        }
        lock(&stats).count_rtp(packet.payload_len, sent.is_ok());
    }
}

/// Forwards the client's keyframe requests about our echo to the client's own sender.
async fn forward_keyframes(local: TrackLocal, remote: TrackRemote) {
    while let Some(kind) = local.keyframe_request().await {
        if let Err(e) = remote.request_keyframe(kind) {
            tracing::debug!(%e, "echo: keyframe request not forwarded");
        }
    }
}

impl SessionBackend for AsyncEchoBackend {
    fn answer_offer(
        &self,
        offer: String,
        client: IpAddr,
    ) -> BoxFuture<Result<Created, BackendError>> {
        let backend = self.clone();
        Box::pin(async move {
            let pc = backend.new_pc(client)?;
            pc.set_remote_description(RtcSessionDescription::offer(offer))
                .await
                .map_err(bad_sdp)?;
            pc.with_core(|core| {
                super::media::prepare_answer(core);
                Ok(())
            })
            .map_err(internal)?;
            let answer = pc.create_answer().await.map_err(bad_sdp)?;
            pc.set_local_description(answer).await.map_err(internal)?;
            backend.start(pc, None, client).await
        })
    }

    fn create_offer(&self, client: IpAddr) -> BoxFuture<Result<Created, BackendError>> {
        let backend = self.clone();
        Box::pin(async move {
            let pc = backend.new_pc(client)?;
            let channel = pc
                .create_data_channel(SERVER_CHANNEL_LABEL, Default::default())
                .await
                .map_err(internal)?;
            let offer = pc.create_offer().await.map_err(internal)?;
            pc.set_local_description(offer).await.map_err(internal)?;
            backend.start(pc, Some(channel), client).await
        })
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let pc = self.inner.sessions.take_answer_turn(id);
        Box::pin(async move {
            let description = RtcSessionDescription {
                sdp_type: SdpType::Answer,
                sdp: answer,
            };
            pc?.set_remote_description(description)
                .await
                .map_err(bad_sdp)
        })
    }

    fn close(&self, id: SessionId) -> bool {
        let Some(pc) = self.inner.sessions.handle(id) else {
            return false;
        };
        self.spawn(async move { pc.close().await });
        true
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        let mut stats = self.inner.sessions.stats(id)?;
        if let Some(pc) = self.inner.sessions.handle(id) {
            stats.sctp = SctpRecovery::of(pc.stats().sctp.as_ref());
        }
        Some(stats)
    }

    fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }
}

/// A smol executor run by one thread per core. smol's global executor runs a single thread unless `SMOL_THREADS` says
/// otherwise, which puts every shard of a server's endpoint on one core: at 10,000 sessions
/// that one thread fell behind and the sockets overflowed.
fn smol_executor_per_core() -> Arc<smol::Executor<'static>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    crate::smol_exec::executor_with_threads(cores, "echo-smol")
}
