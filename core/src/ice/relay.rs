//! Relayed candidates (RFC 8445 section 5.1.1.2) from TURN allocations (RFC 8656): the
//! agent owns one [`TurnClient`] per (local socket, TURN server), makes a relayed
//! candidate of each allocation, and routes every datagram of a pair whose local
//! candidate is relayed through its client.
//!
//! - Sending: [`IceAgent::send`] wraps datagrams from a relayed address (Send indication,
//!   or ChannelData once bound); [`IceAgent::wrap_data`] does the same for application
//!   data on the data path and binds a channel to the remote peer on first use.
//! - Receiving: datagrams from a TURN server on the client's socket go to its client; the
//!   STUN inside (checks) is handled as if it had arrived on the relayed address, and
//!   everything else is queued for [`IceAgent::poll_relayed`].
//! - Permissions: one per remote candidate IP paired with a relayed candidate.
//! - TCP and TLS to the server ([`TurnTransport`]): the agent asks its driver to open the
//!   connection ([`IceEvent::TurnConnect`]), starts the allocation when told it is
//!   connected ([`IceAgent::handle_turn_connected`]), hands what goes to the server out as
//!   [`IceAgent::poll_turn_transmit`] and takes the server's bytes in
//!   ([`IceAgent::handle_turn_data`], framed by a [`StreamFramer`]). A first connection
//!   that fails or does not connect within [`TURN_CONNECT_TIMEOUT`] fails that relay. A
//!   connection that worked and then closed (server restart, reset) is opened again with
//!   backoff ([`RECONNECT_BACKOFF`] doubling, at most [`MAX_RELAY_RECONNECTS`] attempts in a
//!   row, [`IceEvent::RelayReconnecting`] each time) and the allocation made again: a new
//!   relayed candidate replaces the lost one, as after a UDP re-allocation.
//! - Relay-only policy ([`IceConfig::relay_only`](super::IceConfig::relay_only)): host and
//!   server-reflexive candidates are neither announced nor paired, and checks that reach
//!   a host socket directly are dropped.

use super::agent::{IceAgent, LocalCandidate};
use super::candidate::{Candidate, CandidateKind, candidate_priority};
use super::config::{RelayServer, StunServer};
use super::events::IceEvent;
use crate::transmit::Transmit;
use crate::turn::{
    Received, StreamFramer, TurnClient, TurnClientConfig, TurnConnect, TurnConnectionId, TurnError,
    TurnEvent, TurnTransport,
};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// The most TURN clients (allocations) per agent.
pub(crate) const MAX_RELAYS: usize = 8;
/// Relayed application datagrams held for `poll_relayed`.
const MAX_RELAYED_QUEUE: usize = 1024;
/// A TCP connection (and TLS handshake) to a TURN server must be up within this.
pub const TURN_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Connection attempts in a row after a TCP/TLS connection to a TURN server closed, before
/// the relay fails.
pub const MAX_RELAY_RECONNECTS: u32 = 6;
/// The wait before the first reconnection; each further attempt waits twice as long as the
/// one before, up to 16 s.
pub const RECONNECT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);
/// The longest wait between reconnection attempts.
const MAX_RECONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(16);
/// Bytes for TURN stream connections held for `poll_turn_transmit` (past it, the newest
/// are dropped and counted: a reliable stream cannot drop from its middle).
const MAX_STREAM_QUEUE: usize = 4 << 20;

/// The stream connection of a TCP or TLS relay.
#[derive(Debug, Clone)]
pub(crate) struct StreamConn {
    pub(crate) id: TurnConnectionId,
    /// Connected (told by the driver); until then the client waits.
    pub(crate) connected: bool,
    /// The connection ended (failed, closed, or closed by us); nothing more goes out.
    pub(crate) ended: bool,
    /// Fail the relay if not connected by then.
    pub(crate) deadline: Instant,
    pub(crate) framer: StreamFramer,
    /// What the driver is asked to open (the id changes with each connection).
    pub(crate) request: TurnConnect,
    /// Reconnection attempts in a row (reset by an allocation).
    pub(crate) reconnects: u32,
    /// The ended connection is opened again at this time.
    pub(crate) reconnect_at: Option<Instant>,
}

/// One allocation and the relayed candidate made of it.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pub(crate) client: TurnClient,
    /// TCP and TLS relays: their connection to the server.
    pub(crate) stream: Option<StreamConn>,
    /// The relayed address announced as a candidate (the current one).
    pub(crate) candidate: Option<SocketAddr>,
}

/// The agent's TURN state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Relays {
    pub(crate) list: Vec<Relay>,
    /// Servers with a resolved address.
    pub(crate) servers: Vec<(SocketAddr, RelayServer)>,
    /// Servers whose name waits for `handle_resolved`: (name, port, config).
    pub(crate) pending_names: Vec<(String, u16, RelayServer)>,
    /// Relayed non-STUN datagrams: (relayed local address, peer, data).
    pub(crate) queue: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// Bytes for stream connections, in order, for `poll_turn_transmit`.
    pub(crate) stream_out: VecDeque<(TurnConnectionId, Vec<u8>)>,
    /// Bytes in `stream_out`.
    pub(crate) stream_out_bytes: usize,
    /// The next stream connection id.
    pub(crate) next_stream_id: u32,
}

impl Relays {
    /// Starts from the configured servers; names to resolve are asked for in `events`.
    pub(crate) fn from_servers(servers: &[RelayServer], events: &mut VecDeque<IceEvent>) -> Self {
        let mut r = Relays::default();
        for s in servers {
            match &s.server {
                StunServer::Addr(a) => r.servers.push((*a, s.clone())),
                StunServer::Name { host, port } => {
                    if !r.pending_names.iter().any(|(n, _, _)| n == host) {
                        events.push_back(IceEvent::ResolveName { name: host.clone() });
                    }
                    r.pending_names.push((host.clone(), *port, s.clone()));
                }
            }
        }
        r
    }

    /// Whether a first allocation or a name is still outstanding.
    pub(crate) fn is_gathering(&self) -> bool {
        !self.pending_names.is_empty()
            || self.list.iter().any(|r| {
                r.candidate.is_none()
                    && (r.client.is_allocating()
                        || r.stream.as_ref().is_some_and(|s| !s.connected && !s.ended))
            })
    }

    /// The relay of the stream connection `id`.
    pub(crate) fn by_stream(&self, id: TurnConnectionId) -> Option<usize> {
        self.list
            .iter()
            .position(|r| r.stream.as_ref().is_some_and(|s| s.id == id))
    }

    /// The UDP relay whose client talks to `server` from `socket`.
    fn by_udp(&self, server: SocketAddr, socket: SocketAddr) -> Option<usize> {
        self.list.iter().position(|r| {
            r.stream.is_none() && r.client.server() == server && r.client.socket() == socket
        })
    }

    /// The relay whose current relayed address is `addr`.
    pub(crate) fn by_relayed(&self, addr: SocketAddr) -> Option<usize> {
        self.list
            .iter()
            .position(|r| r.client.relayed() == Some(addr))
    }

    /// Whether every allocation failed (and none is pending).
    pub(crate) fn all_failed(&self) -> bool {
        self.pending_names.is_empty()
            && !self.list.is_empty()
            && self.list.iter().all(|r| r.client.is_failed())
    }
}

/// What [`IceAgent::relay_wrap`] did with a datagram from a local address.
pub(super) enum RelayWrap {
    /// The address is not relayed: send as is.
    NotRelayed,
    /// Wrapped for the TURN server over UDP.
    Transmit(Transmit),
    /// Wrapped and queued on the TURN server's stream connection.
    Queued,
    /// Relayed, but cannot go out (no allocation).
    Dropped,
}

/// What [`IceAgent::relay_receive`] did with a datagram from a TURN server.
pub(super) enum RelayReceive {
    /// Relayed application data, queued for [`IceAgent::poll_relayed`]: no ICE state changed.
    Data,
    /// A TURN response, an indication or a relayed STUN check: timers may have changed.
    Control,
}

impl IceAgent {
    /// Starts an allocation from `socket` on every known TURN server of its family.
    pub(super) fn start_relays(&mut self, now: Instant, socket: SocketAddr) {
        if self.config.lite {
            return;
        }
        for (server, cfg) in self.relays.servers.clone() {
            self.start_relay(now, socket, server, &cfg);
        }
    }

    fn start_relay(
        &mut self,
        now: Instant,
        socket: SocketAddr,
        server: SocketAddr,
        cfg: &RelayServer,
    ) {
        if socket.is_ipv4() != server.is_ipv4() || self.relays.list.len() >= MAX_RELAYS {
            return;
        }
        // One allocation per (socket, server) over UDP; one per server over a stream
        // (the connection does not leave from one of our sockets).
        if self.relays.list.iter().any(|r| {
            r.client.server() == server
                && r.client.transport() == cfg.transport
                && (cfg.transport.is_stream() || r.client.socket() == socket)
        }) {
            return;
        }
        let mut config = TurnClientConfig::new(server, &cfg.username, &cfg.password);
        config.initial_rto = self.config.timing.initial_rto;
        config.max_rto = self.config.timing.max_rto;
        config.max_retransmits = self.config.timing.max_retransmits;
        config.transport = cfg.transport;
        let mut client = TurnClient::new(config, socket, self.rng.child());
        let stream = if cfg.transport.is_stream() {
            let id = TurnConnectionId(self.relays.next_stream_id);
            self.relays.next_stream_id = self.relays.next_stream_id.wrapping_add(1);
            tracing::debug!(%server, %id, transport = ?cfg.transport, "ice: connecting to TURN server");
            let request = TurnConnect {
                id,
                server,
                transport: cfg.transport,
                server_name: cfg.server_name.clone(),
                extra_roots_pem: cfg.extra_roots_pem.clone(),
            };
            self.emit(IceEvent::TurnConnect(request.clone()));
            Some(StreamConn {
                id,
                connected: false,
                ended: false,
                deadline: now + TURN_CONNECT_TIMEOUT,
                framer: StreamFramer::new(),
                request,
                reconnects: 0,
                reconnect_at: None,
            })
        } else {
            client.start(now);
            None
        };
        self.relays.list.push(Relay {
            client,
            stream,
            candidate: None,
        });
    }

    /// The driver connected stream `id` (and finished its TLS handshake): the allocation
    /// starts.
    pub fn handle_turn_connected(&mut self, now: Instant, id: TurnConnectionId) {
        let Some(i) = self.relays.by_stream(id) else {
            return;
        };
        let r = &mut self.relays.list[i];
        if let Some(s) = r.stream.as_mut().filter(|s| !s.ended && !s.connected) {
            s.connected = true;
            tracing::debug!(%id, server = %r.client.server(), "ice: TURN connection up");
            r.client.start(now);
            self.finish(now);
        }
    }

    /// Bytes the server sent on stream `id`, in order, in any pieces. Bytes that are not
    /// TURN framing end the connection (the driver is asked to close it) and fail the
    /// relay. Returns whether `id` is one of ours.
    pub fn handle_turn_data(&mut self, now: Instant, id: TurnConnectionId, data: &[u8]) -> bool {
        let Some(i) = self.relays.by_stream(id) else {
            return false;
        };
        let mut messages = Vec::new();
        let result = match self.relays.list[i].stream.as_mut() {
            Some(s) if s.connected && !s.ended => {
                s.framer.push(data, |m| messages.push(m.to_vec()))
            }
            _ => return true,
        };
        for m in messages {
            self.relay_receive_at(now, i, &m);
        }
        if let Err(e) = result {
            self.stats.relay_errors += 1;
            self.end_stream(now, i, TurnError::Framing(e), true);
        }
        // Timers too: an allocation may end gathering, a reconnection needs its deadline.
        self.finish(now);
        true
    }

    /// Stream `id` could not be opened (`error`: [`TurnError::Connect`],
    /// [`TurnError::Tls`] or [`TurnError::Certificate`]) or ended
    /// ([`TurnError::ConnectionClosed`]): its relay fails, reported as
    /// [`IceEvent::RelayFailed`].
    pub fn handle_turn_failed(&mut self, now: Instant, id: TurnConnectionId, error: TurnError) {
        if let Some(i) = self.relays.by_stream(id) {
            self.end_stream(now, i, error, false);
            self.finish(now);
        }
    }

    /// Ends the stream of relay `i`; `close`: ask the driver to close the connection. A
    /// connection that worked (or a reconnection) that ended for a reason a new connection
    /// may cure is opened again later (see the [module documentation](self)); otherwise the
    /// client fails.
    fn end_stream(&mut self, now: Instant, i: usize, error: TurnError, close: bool) {
        let closed = self.closed;
        let Some(s) = self.relays.list[i].stream.as_mut() else {
            return;
        };
        if s.ended {
            return;
        }
        s.ended = true;
        let id = s.id;
        let transient = matches!(
            error,
            TurnError::ConnectionClosed | TurnError::Connect(_) | TurnError::Tls(_)
        );
        let retry = !closed
            && transient
            && (s.connected || s.reconnects > 0)
            && s.reconnects < MAX_RELAY_RECONNECTS;
        let attempt = s.reconnects + 1;
        let after = RECONNECT_BACKOFF
            .saturating_mul(1 << s.reconnects.min(16))
            .min(MAX_RECONNECT_WAIT);
        if retry {
            s.reconnects = attempt;
            s.connected = false;
            s.reconnect_at = Some(now + after);
        }
        tracing::debug!(%id, %error, retry, "ice: TURN connection ended");
        self.relays.stream_out.retain(|(c, _)| *c != id);
        self.relays.stream_out_bytes = self.relays.stream_out.iter().map(|(_, b)| b.len()).sum();
        if let Some(old) = self.relays.list[i].candidate.take() {
            self.local.retain(|l| l.base != old);
        }
        if close {
            self.emit(IceEvent::TurnClose(id));
        }
        let client = &mut self.relays.list[i].client;
        if !retry {
            client.fail_transport(error);
            return;
        }
        client.lose_transport();
        let (server, transport) = (client.server(), client.transport());
        self.stats.relay_reconnects += 1;
        self.emit(IceEvent::RelayReconnecting {
            server,
            transport,
            error,
            attempt,
            after,
        });
    }

    /// Opens relay `i`'s connection again (its reconnection time came).
    fn reconnect_stream(&mut self, now: Instant, i: usize) {
        let id = TurnConnectionId(self.relays.next_stream_id);
        let Some(s) = self.relays.list[i].stream.as_mut() else {
            return;
        };
        self.relays.next_stream_id = self.relays.next_stream_id.wrapping_add(1);
        s.id = id;
        s.request.id = id;
        s.connected = false;
        s.ended = false;
        s.reconnect_at = None;
        s.deadline = now + TURN_CONNECT_TIMEOUT;
        s.framer = StreamFramer::new();
        let request = s.request.clone();
        tracing::debug!(server = %request.server, %id, attempt = s.reconnects, "ice: reconnecting to TURN server");
        self.emit(IceEvent::TurnConnect(request));
    }

    /// The next bytes for a TURN stream connection (in order per connection): write them
    /// to it.
    pub fn poll_turn_transmit(&mut self) -> Option<(TurnConnectionId, Vec<u8>)> {
        let (id, bytes) = self.relays.stream_out.pop_front()?;
        self.relays.stream_out_bytes -= bytes.len();
        Some((id, bytes))
    }

    fn queue_stream(&mut self, i: usize, bytes: Vec<u8>) {
        let Some(s) = self.relays.list[i].stream.as_ref() else {
            return;
        };
        if !s.connected || s.ended {
            self.stats.relay_dropped += 1;
            return;
        }
        if self.relays.stream_out_bytes + bytes.len() > MAX_STREAM_QUEUE {
            self.stats.relay_dropped += 1;
            tracing::debug!(id = %s.id, "ice: TURN stream queue full, dropped");
            return;
        }
        self.relays.stream_out_bytes += bytes.len();
        self.relays.stream_out.push_back((s.id, bytes));
    }

    /// A resolved name that belongs to TURN servers: start allocating from every socket.
    /// Returns whether `name` was one.
    pub(super) fn relay_name_resolved(
        &mut self,
        now: Instant,
        name: &str,
        addrs: &[IpAddr],
    ) -> bool {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.relays.pending_names)
            .into_iter()
            .partition(|(n, _, _)| n == name);
        self.relays.pending_names = rest;
        for (_, port, cfg) in &mine {
            // One address per family is enough for a relay.
            for ip in [
                addrs.iter().find(|a| a.is_ipv4()),
                addrs.iter().find(|a| a.is_ipv6()),
            ]
            .into_iter()
            .flatten()
            {
                let server = SocketAddr::new(*ip, *port);
                self.relays.servers.push((server, cfg.clone()));
                for socket in self.sockets.clone() {
                    self.start_relay(now, socket, server, cfg);
                }
            }
        }
        !mine.is_empty()
    }

    /// A datagram from `source` on `destination`: if it comes from the TURN server of a
    /// client on that socket and is TURN, it is handled here. `None`: not TURN.
    pub(super) fn relay_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> Option<RelayReceive> {
        let i = self.relays.by_udp(source, destination)?;
        let received = self.relay_receive_at(now, i, data)?;
        if matches!(received, RelayReceive::Control) {
            self.pump_relays(now);
        }
        Some(received)
    }

    /// A message from the server of relay `i` (a datagram, or a message framed out of its
    /// stream). `None`: not TURN.
    fn relay_receive_at(&mut self, now: Instant, i: usize, data: &[u8]) -> Option<RelayReceive> {
        match self.relays.list[i].client.handle_receive(now, data) {
            Received::NotMine => return None,
            Received::Consumed => {}
            Received::Relayed { peer, data } => {
                let local = self.relays.list[i].client.relayed()?;
                if crate::stun::looks_like_stun(&data) {
                    self.handle_stun(now, peer, local, &data);
                } else {
                    // The hot path: the client only unwrapped, nothing to pump.
                    if self.relays.queue.len() < MAX_RELAYED_QUEUE {
                        self.relays.queue.push_back((local, peer, data));
                    } else {
                        self.stats.relay_dropped += 1;
                    }
                    return Some(RelayReceive::Data);
                }
            }
        }
        Some(RelayReceive::Control)
    }

    /// The hot path of relayed receive: when `data` came from one of our TURN servers as
    /// ChannelData carrying application data (DTLS, SRTP), its payload, borrowed from
    /// `data`, to hand to DTLS/SRTP as if it had arrived from the peer. Anything else
    /// returns `None` with nothing changed: give it to
    /// [`handle_receive`](Self::handle_receive).
    pub fn relayed_application_data<'a>(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        data: &'a [u8],
    ) -> Option<&'a [u8]> {
        if self.closed {
            return None;
        }
        let i = self.relays.by_udp(source, destination)?;
        let relay = &mut self.relays.list[i];
        relay.client.relayed()?;
        relay
            .client
            .unwrap_application_data(data)
            .map(|(_, payload)| payload)
    }

    /// The next application datagram that came through a relay: (relayed local address,
    /// peer address, data). Drain after every [`handle_receive`](Self::handle_receive)
    /// and hand the data to DTLS/SRTP as if it had arrived from the peer.
    pub fn poll_relayed(&mut self) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
        self.relays.queue.pop_front()
    }

    /// The datagram that carries `payload` on the data path (RFC 8445 section 12): as is
    /// from the pair's local socket, or wrapped for its TURN server when the local
    /// candidate is relayed (a channel is bound to the peer on first use; Send
    /// indications until it is confirmed). `None` while there is no data path.
    pub fn wrap_data(&mut self, now: Instant, payload: Vec<u8>) -> Option<Transmit> {
        let path = self.data_path()?;
        let Some(i) = self.relays.by_relayed(path.local) else {
            return Some(Transmit {
                source: path.local,
                destination: path.remote,
                payload,
            });
        };
        let relay = &mut self.relays.list[i].client;
        let unbound = relay.channel(path.remote).is_none();
        if unbound {
            relay.ensure_channel(now, path.remote);
        }
        let wrapped = relay.wrap_owned(path.remote, payload)?;
        let t = Transmit {
            source: relay.socket(),
            destination: relay.server(),
            payload: wrapped,
        };
        let stream = self.relays.list[i].stream.is_some();
        let out = if stream {
            self.queue_stream(i, t.payload);
            None
        } else {
            Some(t)
        };
        // Only binding a channel queues requests; framing alone has nothing to pump.
        if unbound {
            self.pump_relays(now);
        }
        out
    }

    /// Whether the data path's local candidate is relayed over a TCP or TLS connection
    /// (its datagrams leave through [`poll_turn_transmit`](Self::poll_turn_transmit), not
    /// as transmits).
    pub fn data_path_is_stream(&self) -> bool {
        self.data_path()
            .and_then(|p| self.relays.by_relayed(p.local))
            .is_some_and(|i| self.relays.list[i].stream.is_some())
    }

    /// Wraps a datagram the agent sends from `source`, if `source` is relayed.
    pub(super) fn relay_wrap(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) -> RelayWrap {
        let Some(i) = self.relays.by_relayed(source) else {
            return RelayWrap::NotRelayed;
        };
        let relay = &mut self.relays.list[i].client;
        let Some(wrapped) = relay.wrap(destination, payload) else {
            return RelayWrap::Dropped;
        };
        let (socket, server) = (relay.socket(), relay.server());
        if self.relays.list[i].stream.is_some() {
            // Over a stream: queued for the connection (or dropped and counted there).
            self.queue_stream(i, wrapped);
            return RelayWrap::Queued;
        }
        RelayWrap::Transmit(Transmit {
            source: socket,
            destination: server,
            payload: wrapped,
        })
    }

    /// Installs a permission for `remote` on the relay of `base`, if `base` is relayed.
    pub(super) fn relay_permit(&mut self, now: Instant, base: SocketAddr, remote: IpAddr) {
        if let Some(i) = self.relays.by_relayed(base) {
            self.relays.list[i].client.ensure_permission(now, remote);
        }
    }

    /// Steps the clients' timers.
    pub(super) fn relay_timeout(&mut self, now: Instant) {
        for r in &mut self.relays.list {
            if r.client.poll_timeout().is_some_and(|at| at <= now) {
                r.client.handle_timeout(now);
            }
        }
        for i in 0..self.relays.list.len() {
            let due = self.relays.list[i]
                .stream
                .as_ref()
                .is_some_and(|s| s.reconnect_at.is_some_and(|at| now >= at));
            if due && !self.closed {
                self.reconnect_stream(now, i);
            }
            let late = self.relays.list[i]
                .stream
                .as_ref()
                .is_some_and(|s| !s.connected && !s.ended && now >= s.deadline);
            if late {
                let error = TurnError::Connect(format!(
                    "not connected within {} s",
                    TURN_CONNECT_TIMEOUT.as_secs()
                ));
                self.end_stream(now, i, error, true);
            }
        }
        self.pump_relays(now);
    }

    /// The earliest client deadline.
    pub(super) fn relay_deadline(&self) -> Option<Instant> {
        let connects = self.relays.list.iter().filter_map(|r| {
            let s = r.stream.as_ref()?;
            if !s.connected && !s.ended {
                Some(s.deadline)
            } else {
                s.reconnect_at
            }
        });
        self.relays
            .list
            .iter()
            .filter_map(|r| r.client.poll_timeout())
            .chain(connects)
            .min()
    }

    /// Moves the clients' datagrams to the agent's queue and acts on their events.
    pub(super) fn pump_relays(&mut self, now: Instant) {
        for i in 0..self.relays.list.len() {
            let (socket, server) = {
                let c = &self.relays.list[i].client;
                (c.socket(), c.server())
            };
            while let Some(payload) = self.relays.list[i].client.poll_transmit() {
                if self.relays.list[i].stream.is_some() {
                    self.queue_stream(i, payload);
                } else {
                    self.transmits.push_back(Transmit {
                        source: socket,
                        destination: server,
                        payload,
                    });
                }
            }
            while let Some(e) = self.relays.list[i].client.poll_event() {
                self.on_turn_event(now, i, server, e);
            }
        }
    }

    fn on_turn_event(&mut self, now: Instant, i: usize, server: SocketAddr, e: TurnEvent) {
        match e {
            TurnEvent::Allocated { relayed, mapped } => {
                self.stats.relay_allocations += 1;
                if let Some(s) = self.relays.list[i].stream.as_mut() {
                    s.reconnects = 0;
                }
                self.add_relayed_candidate(now, i, relayed, mapped);
            }
            TurnEvent::Reallocated { old, relayed } => {
                self.stats.relay_allocations += 1;
                if let Some(s) = self.relays.list[i].stream.as_mut() {
                    s.reconnects = 0;
                }
                tracing::debug!(%old, %relayed, "ice: relay re-allocated");
                self.local.retain(|l| l.base != old);
                let mapped = self.relays.list[i].client.mapped();
                self.add_relayed_candidate(now, i, relayed, mapped);
            }
            TurnEvent::Failed(error) => {
                self.stats.relay_errors += 1;
                tracing::debug!(%server, %error, "ice: TURN allocation failed");
                let transport = self.relays.list[i].client.transport();
                self.emit(IceEvent::RelayFailed {
                    server,
                    transport,
                    error,
                });
            }
            TurnEvent::PermissionFailed { peer, error } => {
                self.stats.relay_errors += 1;
                tracing::debug!(%server, %peer, %error, "ice: TURN permission failed");
            }
            TurnEvent::ChannelFailed { peer, error } => {
                self.stats.relay_errors += 1;
                tracing::debug!(%server, %peer, %error, "ice: TURN channel refused");
            }
        }
    }

    /// Makes `relayed` a local candidate (base: itself), announces and pairs it.
    fn add_relayed_candidate(
        &mut self,
        now: Instant,
        i: usize,
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
    ) {
        let (socket, server) = {
            let c = &self.relays.list[i].client;
            (c.socket(), c.server())
        };
        self.relays.list[i].candidate = Some(relayed);
        if self.local.iter().any(|l| l.candidate.address == relayed) {
            return;
        }
        let transport = self.relays.list[i].client.transport();
        let foundation = self.foundation(CandidateKind::Relayed, socket, Some(server));
        // RFC 8445 section 5.1.2.1: UDP relays rank above TCP, TCP above TLS (as browsers
        // do); among one transport the socket order decides.
        let preference = match transport {
            TurnTransport::Udp => self.local_preference(socket),
            other => other.local_preference(),
        };
        let priority = candidate_priority(CandidateKind::Relayed, preference, 1);
        let candidate = Candidate::new(
            CandidateKind::Relayed,
            foundation,
            1,
            priority,
            relayed,
            mapped.or(Some(socket)),
        );
        self.local.push(LocalCandidate {
            candidate: candidate.clone(),
            base: relayed,
        });
        self.announce(candidate);
        self.pair_local(now, relayed);
    }

    /// Whether a check that arrived on `destination` may be answered: one of our sockets
    /// (unless relay-only) or a current relayed address.
    pub(super) fn is_local_base(&self, destination: SocketAddr) -> bool {
        (!self.config.relay_only && self.sockets.contains(&destination))
            || self.relays.by_relayed(destination).is_some()
    }

    /// While the path in use is disconnected and its local candidate relayed, asks that
    /// relay's server whether the allocation still exists (see [`TurnClient::probe`]).
    pub(super) fn probe_disconnected_relay(&mut self, now: Instant) {
        let Some(path) = self.sending_path() else {
            return;
        };
        if !path.disconnected {
            return;
        }
        if let Some(i) = self.relays.by_relayed(path.local) {
            self.relays.list[i].client.probe(now);
        }
    }

    /// Deallocates every relay (on close).
    pub(super) fn close_relays(&mut self, now: Instant) {
        for r in &mut self.relays.list {
            r.client.close(now);
        }
        self.pump_relays(now);
        // The deallocation goes out first; then the driver closes the connections.
        let ids: Vec<_> = self
            .relays
            .list
            .iter_mut()
            .filter_map(|r| r.stream.as_mut())
            .filter_map(|s| {
                s.reconnect_at = None;
                (!s.ended).then_some(s)
            })
            .map(|s| {
                s.ended = true;
                s.id
            })
            .collect();
        for id in ids {
            self.emit(IceEvent::TurnClose(id));
        }
    }

    /// What the selected pair's local candidate is, for stats: (type, address, related
    /// address, relay protocol when relayed).
    pub fn local_candidate_info(
        &self,
        address: SocketAddr,
    ) -> Option<(CandidateKind, Option<SocketAddr>, Option<TurnTransport>)> {
        let l = self
            .local
            .iter()
            .find(|l| l.base == address || l.candidate.address == address)?;
        let relay = self
            .relays
            .by_relayed(l.candidate.address)
            .map(|i| self.relays.list[i].client.transport());
        Some((l.candidate.kind, l.candidate.related_address, relay))
    }
}
