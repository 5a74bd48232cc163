//! The echo sessions on smol through the `rtcpeer-smol` adapter: each session is an async
//! peer connection whose driver runs on smol's executor; one task per data channel echoes
//! messages, one task watches the connection state and frees the session when it ends.

use super::backend::{BackendError, BoxFuture, Created, SessionBackend, SessionId, SessionStats};
use super::session::{MAX_MESSAGE_SIZE, SERVER_CHANNEL_LABEL, state_name};
use super::tokio_backend::{CONNECT_TIMEOUT, os_seed};
use rtcpeer_smol::rtcpeer::peer_connection::{
    Event, PeerConnectionState, RtcConfiguration, RtcSessionDescription, SdpType,
};
use rtcpeer_smol::rtcpeer::runtime::{AsyncPeerConnection, DataChannel, Message, SocketConfig};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

struct Entry {
    pc: Arc<AsyncPeerConnection>,
    stats: Arc<Mutex<SessionStats>>,
    waiting_for_answer: bool,
}

struct Inner {
    listen_ip: IpAddr,
    limit: usize,
    next_id: AtomicU64,
    table: Mutex<HashMap<SessionId, Entry>>,
}

/// [`SessionBackend`] on smol's global executor via `rtcpeer-smol`.
#[derive(Clone)]
pub struct SmolEchoBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SmolEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolEchoBackend")
            .field("listen_ip", &self.inner.listen_ip)
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

impl SmolEchoBackend {
    /// Sessions bind their UDP sockets on `listen_ip`; at most `limit` live at once.
    pub fn new(listen_ip: IpAddr, limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                listen_ip,
                limit,
                next_id: AtomicU64::new(1),
                table: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        self.inner
            .table
            .lock()
            .expect("session table lock is never poisoned")
    }

    fn new_pc(&self) -> Result<Arc<AsyncPeerConnection>, BackendError> {
        if self.session_count() >= self.inner.limit {
            return Err(BackendError::Busy(self.inner.limit));
        }
        let config = RtcConfiguration {
            max_message_size: MAX_MESSAGE_SIZE,
            ..RtcConfiguration::with_seed(os_seed()?)
        };
        let sockets = SocketConfig::with_addresses([self.inner.listen_ip]);
        rtcpeer_smol::new_peer_connection(config, &sockets)
            .map(Arc::new)
            .map_err(internal)
    }

    /// Registers a session, starts its watcher, and returns the complete local description.
    async fn register(
        self,
        pc: Arc<AsyncPeerConnection>,
        offering: bool,
    ) -> Result<Created, BackendError> {
        let sdp = pc.wait_gathering_complete().await.map_err(internal)?.sdp;
        let id = SessionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let stats = Arc::new(Mutex::new(SessionStats::default()));
        let entry = Entry {
            pc: pc.clone(),
            stats: stats.clone(),
            waiting_for_answer: offering,
        };
        self.table().insert(id, entry);
        smol::spawn(watch(self.clone(), id, pc, stats)).detach();
        Ok(Created { id, sdp })
    }
}

/// Follows one session's events: echoes on every channel the peer opens, keeps the
/// figures, closes a session that does not connect in time, frees it when it ends.
async fn watch(
    backend: SmolEchoBackend,
    id: SessionId,
    pc: Arc<AsyncPeerConnection>,
    stats: Arc<Mutex<SessionStats>>,
) {
    let deadline_pc = pc.clone();
    smol::spawn(async move {
        let connected = smol::future::or(
            async { deadline_pc.wait_connected().await.is_ok() },
            async {
                smol::Timer::after(CONNECT_TIMEOUT).await;
                false
            },
        );
        if !connected.await {
            deadline_pc.close().await;
        }
    })
    .detach();
    let mut events = pc.events();
    while let Some(event) = events.next().await {
        match event {
            Event::DataChannel(channel) => {
                smol::spawn(echo(pc.data_channel(channel), stats.clone())).detach();
                stats.lock().expect("stats lock is never poisoned").channels += 1;
            }
            Event::ConnectionStateChange(state) => {
                stats.lock().expect("stats lock is never poisoned").state =
                    state_name(state).to_owned();
                if matches!(
                    state,
                    PeerConnectionState::Failed | PeerConnectionState::Closed
                ) {
                    break;
                }
            }
            _ => {}
        }
    }
    pc.close().await;
    backend.table().remove(&id);
    tracing::debug!(%id, "echo session freed");
}

/// Sends every message back on its channel, text as text, binary as binary.
async fn echo(channel: DataChannel, stats: Arc<Mutex<SessionStats>>) {
    while let Some(message) = channel.recv().await {
        let len = message.len() as u64;
        let sent = match message {
            Message::Text(text) => channel.send_text(&text).await,
            Message::Binary(bytes) => channel.send_binary(bytes).await,
        };
        let mut stats = stats.lock().expect("stats lock is never poisoned");
        stats.messages_received += 1;
        stats.bytes_received += len;
        if sent.is_ok() {
            stats.messages_sent += 1;
            stats.bytes_sent += len;
        }
    }
}

impl SessionBackend for SmolEchoBackend {
    fn answer_offer(&self, offer: String) -> BoxFuture<Result<Created, BackendError>> {
        let backend = self.clone();
        Box::pin(async move {
            let pc = backend.new_pc()?;
            pc.set_remote_description(RtcSessionDescription::offer(offer))
                .await
                .map_err(bad_sdp)?;
            let answer = pc.create_answer().await.map_err(bad_sdp)?;
            pc.set_local_description(answer).await.map_err(internal)?;
            backend.register(pc, false).await
        })
    }

    fn create_offer(&self) -> BoxFuture<Result<Created, BackendError>> {
        let backend = self.clone();
        Box::pin(async move {
            let pc = backend.new_pc()?;
            let channel = pc
                .create_data_channel(SERVER_CHANNEL_LABEL, Default::default())
                .await
                .map_err(internal)?;
            let offer = pc.create_offer().await.map_err(internal)?;
            pc.set_local_description(offer).await.map_err(internal)?;
            let created = backend.clone().register(pc, true).await?;
            if let Some(entry) = backend.table().get(&created.id) {
                smol::spawn(echo(channel, entry.stats.clone())).detach();
            }
            Ok(created)
        })
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let pc = match self.table().get_mut(&id) {
            None => Err(BackendError::NoSession(id)),
            Some(entry) if !entry.waiting_for_answer => Err(BackendError::WrongState(id)),
            Some(entry) => {
                entry.waiting_for_answer = false;
                Ok(entry.pc.clone())
            }
        };
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
        let Some(pc) = self.table().get(&id).map(|e| e.pc.clone()) else {
            return false;
        };
        smol::spawn(async move { pc.close().await }).detach();
        true
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        let table = self.table();
        let stats = table
            .get(&id)?
            .stats
            .lock()
            .expect("stats lock is never poisoned");
        Some(stats.clone())
    }

    fn session_count(&self) -> usize {
        self.table().len()
    }
}
