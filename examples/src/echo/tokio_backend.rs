//! The echo sessions on tokio: one task per session owns its [`EchoSession`] and one UDP
//! socket bound on the server's listen address, and feeds it datagrams, timeouts and
//! commands from the HTTP layer.

use super::backend::{BackendError, BoxFuture, Created, SessionBackend, SessionId, SessionStats};
use super::session::EchoSession;
use rtcpeer::Transmit;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// How long a session may take from creation to `connected` before it is closed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long ICE gathering may take before the offer or answer is refused.
const GATHER_TIMEOUT: Duration = Duration::from_secs(10);

enum Command {
    Answer(String, oneshot::Sender<Result<(), BackendError>>),
    Close,
}

struct Handle {
    commands: mpsc::UnboundedSender<Command>,
    stats: Arc<Mutex<SessionStats>>,
    waiting_for_answer: bool,
}

struct Inner {
    listen_ip: IpAddr,
    limit: usize,
    next_id: AtomicU64,
    sessions: Mutex<HashMap<SessionId, Handle>>,
}

/// [`SessionBackend`] that runs every session as a tokio task. Construct it inside a tokio
/// runtime (it spawns onto the current one).
#[derive(Clone)]
pub struct TokioEchoBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokioEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioEchoBackend")
            .field("listen_ip", &self.inner.listen_ip)
            .field("sessions", &self.session_count())
            .finish()
    }
}

/// A fresh seed from the OS for one peer connection (certificate, ICE credentials, ...).
pub fn os_seed() -> Result<u64, BackendError> {
    getrandom::u64().map_err(|e| BackendError::Internal(format!("OS random source: {e}")))
}

impl TokioEchoBackend {
    /// Sessions bind their UDP sockets on `listen_ip`; at most `limit` live at once.
    pub fn new(listen_ip: IpAddr, limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                listen_ip,
                limit,
                next_id: AtomicU64::new(1),
                sessions: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Handle>> {
        self.inner
            .sessions
            .lock()
            .expect("session table lock is never poisoned")
    }

    /// Binds a socket and builds a session with `make`, then runs it until gathering is
    /// complete and returns its id and local description.
    async fn start(
        self,
        offering: bool,
        make: impl FnOnce(SocketAddr, u64, Instant) -> Result<EchoSession, BackendError>,
    ) -> Result<Created, BackendError> {
        if self.session_count() >= self.inner.limit {
            return Err(BackendError::Busy(self.inner.limit));
        }
        let socket = UdpSocket::bind((self.inner.listen_ip, 0))
            .await
            .map_err(|e| BackendError::Internal(format!("bind UDP: {e}")))?;
        let local = socket
            .local_addr()
            .map_err(|e| BackendError::Internal(e.to_string()))?;
        let session = make(local, os_seed()?, Instant::now())?;
        let id = SessionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (commands, receiver) = mpsc::unbounded_channel();
        let (gathered_tx, gathered_rx) = oneshot::channel();
        let handle = Handle {
            commands,
            stats: session.stats(),
            waiting_for_answer: offering,
        };
        self.sessions().insert(id, handle);
        let backend = self.clone();
        tokio::spawn(async move {
            drive(session, socket, local, receiver, gathered_tx).await;
            backend.sessions().remove(&id);
            tracing::debug!(%id, "echo session freed");
        });
        match tokio::time::timeout(GATHER_TIMEOUT, gathered_rx).await {
            Ok(Ok(sdp)) => Ok(Created { id, sdp }),
            _ => {
                self.close(id);
                Err(BackendError::Internal(
                    "ICE gathering did not complete".into(),
                ))
            }
        }
    }
}

/// Runs one session until it is closed or failed.
async fn drive(
    mut session: EchoSession,
    socket: UdpSocket,
    local: SocketAddr,
    mut commands: mpsc::UnboundedReceiver<Command>,
    gathered: oneshot::Sender<String>,
) {
    let mut gathered = Some(gathered);
    let connect_by = Instant::now() + CONNECT_TIMEOUT;
    let mut ever_connected = false;
    let mut buf = vec![0u8; 65536];
    let mut out: Vec<Transmit> = Vec::new();
    loop {
        let deadline = session.drain(&mut |t| out.push(t));
        for t in out.drain(..) {
            if let Err(e) = socket.send_to(&t.payload, t.destination).await {
                tracing::debug!(%e, to = %t.destination, "echo: send failed");
            }
        }
        if let Some(sdp) = gathered.as_ref().and(session.gathered_sdp()) {
            let _ = gathered.take().expect("checked Some just above").send(sdp);
        }
        ever_connected |= session.is_connected();
        if session.is_finished() {
            session.trace_final_figures();
            return;
        }
        let deadline = if ever_connected {
            deadline
        } else {
            deadline.min(connect_by)
        };
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, from)) => session.handle_datagram(Instant::now(), from, local, &buf[..n]),
                Err(e) => tracing::debug!(%e, "echo: receive failed"),
            },
            () = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                if !ever_connected && now >= connect_by {
                    tracing::debug!("echo: session did not connect in time");
                    session.close();
                }
                session.handle_timeout(now);
            }
            command = commands.recv() => match command {
                Some(Command::Answer(sdp, reply)) => { let _ = reply.send(session.accept_answer(&sdp)); }
                Some(Command::Close) | None => session.close(),
            },
        }
    }
}

impl SessionBackend for TokioEchoBackend {
    fn answer_offer(&self, offer: String) -> BoxFuture<Result<Created, BackendError>> {
        let backend = self.clone();
        Box::pin(backend.start(false, move |socket, seed, now| {
            EchoSession::answering(&offer, socket, seed, now)
        }))
    }

    fn create_offer(&self) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().start(true, EchoSession::offering))
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let (reply, result) = oneshot::channel();
        let sent = match self.sessions().get_mut(&id) {
            None => Err(BackendError::NoSession(id)),
            Some(handle) if !handle.waiting_for_answer => Err(BackendError::WrongState(id)),
            Some(handle) => {
                handle.waiting_for_answer = false;
                handle
                    .commands
                    .send(Command::Answer(answer, reply))
                    .map_err(|_| BackendError::NoSession(id))
            }
        };
        Box::pin(async move {
            sent?;
            result.await.map_err(|_| BackendError::NoSession(id))?
        })
    }

    fn close(&self, id: SessionId) -> bool {
        match self.sessions().get(&id) {
            Some(handle) => {
                let _ = handle.commands.send(Command::Close);
                true
            }
            None => false,
        }
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        let sessions = self.sessions();
        let stats = sessions
            .get(&id)?
            .stats
            .lock()
            .expect("stats lock is never poisoned");
        Some(stats.clone())
    }

    fn session_count(&self) -> usize {
        self.sessions().len()
    }
}
