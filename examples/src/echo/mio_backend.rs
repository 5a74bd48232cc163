//! The echo sessions on hand-written mio event loops, one thread per *shard* (`--shards`,
//! one per core by default): each shard owns a core [`Endpoint`](rtcpeer::Endpoint)
//! holding its sessions' peer connections and a UDP socket of its own, all on the one
//! port of the listen address (`SO_REUSEPORT`), and waits in `Poll::poll` until its
//! earliest deadline or a wake (`mio_shard.rs`). The kernel spreads
//! received datagrams over the sockets by the sender's address; a datagram for another
//! shard's session is routed there through the shared router and the shard's mailbox
//! (`mio_shards.rs`), and every reply leaves from the owning shard's
//! socket, on the same port. A new session goes to the least-loaded shard and stays
//! there; the HTTP layer's commands reach it through its shard's mailbox and
//! `mio::Waker`. The same echo rule and session table as the async backend, but the
//! sans-IO core is driven by hand. Sessions configured with TURN over TCP/TLS get their
//! connections from `rtcpeer_mio::MioTurnStreams` on their shard's `Poll`.

use super::backend::{
    BackendError, BoxFuture, Created, GATHER_TIMEOUT, SessionBackend, SessionId, SessionStats,
    os_seed,
};
use super::config::EchoConfig;
use super::mio_shard::{SOCKET, Shard, WAKER};
pub use super::mio_shards::ShardRouting;
use super::mio_shards::{Command, Role, SessionRef, Shards, Start};
use super::session::echo_config;
use mio::{Interest, Poll, Waker};
use rtcpeer_mio::{MioUdpSocket, SocketConfig};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Held by the backend's clones only: when the last is dropped, the shards stop.
struct Owner {
    shards: Arc<Shards>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shards.stop();
    }
}

/// [`SessionBackend`] whose sessions run on mio loop threads (shards), all on one UDP
/// port; see the module documentation. Cheap to clone; the loops close their sessions
/// and end once every clone is dropped.
#[derive(Clone)]
pub struct MioEchoBackend {
    owner: Arc<Owner>,
}

impl std::fmt::Debug for MioEchoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioEchoBackend")
            .field("udp", &self.shards().udp)
            .field("routing", &self.routing())
            .field("sessions", &self.session_count())
            .finish()
    }
}

/// A shard's poll, waker and socket, bound before the shards start.
struct Bound {
    poll: Poll,
    waker: Waker,
    socket: MioUdpSocket,
}

impl Bound {
    /// A new `Poll` with its waker and a socket bound per `sockets`, registered with it.
    fn new(sockets: &SocketConfig) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let mut socket = MioUdpSocket::bind_all(sockets)?
            .into_iter()
            .next()
            .ok_or_else(|| io::Error::other("no UDP socket on the listen address"))?;
        poll.registry()
            .register(socket.source(), SOCKET, Interest::READABLE)?;
        Ok(Self {
            poll,
            waker,
            socket,
        })
    }

    /// The socket's address.
    fn local_addr(&self) -> SocketAddr {
        self.socket.local_addr()
    }

    /// Hands over the waker (to the shared mailboxes), keeping the rest.
    fn take_waker(self) -> (Waker, (Poll, MioUdpSocket)) {
        (self.waker, (self.poll, self.socket))
    }
}

/// Binds one socket per shard on `listen_ip`: the first on `port` (0: the OS picks), the
/// others on the first's port, all with `SO_REUSEPORT` when there is more than one.
fn bind_shards(listen_ip: IpAddr, port: u16, shards: usize) -> io::Result<Vec<Bound>> {
    let config = SocketConfig {
        port,
        reuse_port: shards > 1,
        ..SocketConfig::with_addresses([listen_ip])
    };
    let first = Bound::new(&config)?;
    let again = SocketConfig {
        port: first.local_addr().port(),
        ..config
    };
    let mut bound = vec![first];
    for _ in 1..shards {
        bound.push(Bound::new(&again)?);
    }
    Ok(bound)
}

impl MioEchoBackend {
    /// Binds the shards' sockets on `listen_ip` (port `config.udp_port`) and starts
    /// `config.shards` loop threads (0: [`rtcpeer::runtime::default_shards`]); sessions
    /// run under `config`.
    pub fn start(listen_ip: IpAddr, config: EchoConfig) -> io::Result<Self> {
        let count = match config.shards {
            0 => rtcpeer::runtime::default_shards(),
            n => n,
        };
        let bound = bind_shards(listen_ip, config.udp_port, count)?;
        let udp = bound[0].local_addr();
        let (wakers, loops): (Vec<_>, Vec<_>) = bound.into_iter().map(Bound::take_waker).unzip();
        let shards = Arc::new(Shards::new(udp, config, wakers));
        let owner = Arc::new(Owner {
            shards: Arc::clone(&shards),
        });
        for (index, parts) in loops.into_iter().enumerate() {
            let shard = Shard::new(index, parts, Arc::clone(&shards))?;
            std::thread::Builder::new()
                .name(format!("echo-mio-{index}"))
                .spawn(move || shard.run())?;
        }
        Ok(Self { owner })
    }

    fn shards(&self) -> &Shards {
        &self.owner.shards
    }

    /// The UDP address every session is served on (every shard's socket has it).
    pub fn udp_addrs(&self) -> Vec<SocketAddr> {
        vec![self.shards().udp]
    }

    /// The shard count and the datagrams handed between shards so far.
    pub fn routing(&self) -> ShardRouting {
        self.shards().routing()
    }

    /// Queues `command` for `shard`; `Internal` if its loop is gone.
    fn send(&self, shard: usize, command: Command) -> Result<(), BackendError> {
        if self.shards().send(shard, command) {
            Ok(())
        } else {
            Err(BackendError::Internal("the mio loop has stopped".into()))
        }
    }

    async fn create(self, role: Role, client: IpAddr) -> Result<Created, BackendError> {
        self.shards().sessions.check_room(client)?;
        // The endpoint replaces this seed with 32 bytes from its own OS-seeded rng.
        let config = echo_config(os_seed()?, self.shards().config.ice_lite);
        let (created, id) = oneshot::channel();
        let (gathered, sdp) = oneshot::channel();
        let start = Start {
            client,
            role,
            config,
            created,
            gathered,
        };
        let shard = self.shards().pick();
        if let Err(e) = self.send(shard, Command::Start(Box::new(start))) {
            self.shards().unload(shard);
            return Err(e);
        }
        let id = id
            .await
            .map_err(|_| BackendError::Internal("the mio loop has stopped".into()))??;
        match tokio::time::timeout(GATHER_TIMEOUT, sdp).await {
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

impl SessionBackend for MioEchoBackend {
    fn answer_offer(
        &self,
        offer: String,
        client: IpAddr,
    ) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().create(Role::Answer(offer), client))
    }

    fn create_offer(&self, client: IpAddr) -> BoxFuture<Result<Created, BackendError>> {
        Box::pin(self.clone().create(Role::Offer, client))
    }

    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>> {
        let (reply, result) = oneshot::channel();
        let sent =
            self.shards()
                .sessions
                .take_answer_turn(id)
                .and_then(|SessionRef { shard, handle }| {
                    self.send(shard, Command::Answer(id, handle, answer, reply))
                });
        Box::pin(async move {
            sent?;
            result.await.map_err(|_| BackendError::NoSession(id))?
        })
    }

    fn close(&self, id: SessionId) -> bool {
        self.shards()
            .sessions
            .handle(id)
            .is_some_and(|SessionRef { shard, handle }| {
                self.send(shard, Command::Close(id, handle)).is_ok()
            })
    }

    fn stats(&self, id: SessionId) -> Option<SessionStats> {
        self.shards().sessions.stats(id)
    }

    fn session_count(&self) -> usize {
        self.shards().sessions.len()
    }
}
