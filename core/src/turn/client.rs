//! The TURN client state machine (RFC 8656 sections 7 to 12) for one allocation on one
//! server, from one local socket. Sans-IO: the owner feeds datagrams from the server and
//! timeouts, and drains datagrams for the server and events.
//!
//! - Allocate with long-term credentials: an unauthenticated Allocate learns REALM and
//!   NONCE from the 401, the retry carries MESSAGE-INTEGRITY. A second 401 to an
//!   authenticated request means wrong credentials ([`TurnError::Unauthorized`]).
//! - 438 (Stale Nonce) on any request: the new NONCE is taken and the request sent again
//!   (a bounded number of times per request).
//! - Refresh at half the lifetime; a failed or unanswered Refresh (server restarted, 437)
//!   re-allocates ([`TurnEvent::Reallocated`] carries the new relayed address).
//! - CreatePermission per peer IP, refreshed every [`PERMISSION_REFRESH`].
//! - ChannelBind per peer, refreshed every [`CHANNEL_REFRESH`]. A peer keeps its channel
//!   number for the life of the allocation: a lost or ambiguous ChannelBind response is
//!   retried with the same number, and a 400 stops channel use for that peer (Send
//!   indications continue) rather than trying another number.
//! - Send indications until the channel is confirmed, then ChannelData; Data indications
//!   and ChannelData from the server are unwrapped.
//! - Deallocation (Refresh with LIFETIME 0) on [`TurnClient::close`].

use super::channel_data::{ChannelData, MAX_CHANNEL, MIN_CHANNEL, is_channel_data};
use super::stream::{FramingError, TurnTransport};
use super::wire::{self, LongTermAuth};
use crate::rng::Rng;
use crate::stun::{
    AttributeType, Class, ErrorCode, IntegrityKey, Method, StunMessage, StunView, TransactionId,
};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Permissions last 300 s on the server (RFC 8656 section 9); refreshed after this.
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel bindings last 600 s (RFC 8656 section 12); refreshed after this.
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(480);
/// After a request for a permission or channel failed for good, the next attempt waits this.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Most permissions (peer IPs) and channels per allocation.
pub const MAX_PEERS: usize = 64;
/// 438 answers followed per request before giving up.
const MAX_STALE_RETRIES: u8 = 3;
/// Undrained events kept.
const MAX_EVENTS: usize = 64;
/// Over a reliable transport a request is sent once and fails after this (RFC 8489
/// section 6.2.2: Ti, 39.5 s).
pub const RELIABLE_TIMEOUT: Duration = Duration::from_millis(39_500);

/// What the client needs to know about its server.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnClientConfig {
    /// The server's address (UDP).
    pub server: SocketAddr,
    /// Long-term credential user name.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// Requested allocation lifetime in seconds (the server may shorten it). Default 600.
    pub lifetime: u32,
    /// First retransmission timeout. Default 250 ms (RFC 8489 says 500 ms; ICE uses less).
    pub initial_rto: Duration,
    /// Retransmission timeouts double up to this. Default 3 s.
    pub max_rto: Duration,
    /// Retransmissions before a request fails. Default 6. Not used over TCP and TLS,
    /// which send each request once and wait [`RELIABLE_TIMEOUT`].
    pub max_retransmits: u32,
    /// How the server is reached. Default [`TurnTransport::Udp`]. Over TCP and TLS the
    /// owner carries the client's messages on the connection (framing them is done:
    /// ChannelData comes out padded) and starts the client once it is connected.
    pub transport: TurnTransport,
}

impl std::fmt::Debug for TurnClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnClientConfig")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"..")
            .field("lifetime", &self.lifetime)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl TurnClientConfig {
    /// A configuration with the default timings.
    pub fn new(server: SocketAddr, username: &str, password: &str) -> Self {
        TurnClientConfig {
            server,
            username: username.to_string(),
            password: password.to_string(),
            lifetime: 600,
            initial_rto: Duration::from_millis(250),
            max_rto: Duration::from_secs(3),
            max_retransmits: 6,
            transport: TurnTransport::Udp,
        }
    }
}

/// Why an allocation (or a request on it) failed. Wrong credentials, a server that
/// refuses and a server that never answers are told apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// The server rejected our credentials (401 to an authenticated request).
    #[error("TURN server rejected the credentials (401 Unauthenticated)")]
    Unauthorized,
    /// No answer after every retransmission: no route to the server, or it is down.
    #[error("TURN server did not answer")]
    Timeout,
    /// The server answered with an error.
    #[error("TURN server error {code}: {reason}")]
    Server {
        /// ERROR-CODE number.
        code: u16,
        /// Reason phrase.
        reason: String,
    },
    /// A success response without the attributes it must carry.
    #[error("TURN server response lacks {0}")]
    Malformed(&'static str),
    /// The TCP connection to the server could not be made (refused, unreachable, timed
    /// out).
    #[error("TCP connection to the TURN server failed: {0}")]
    Connect(String),
    /// The TLS handshake with the server failed for another reason than its certificate.
    #[error("TLS handshake with the TURN server failed: {0}")]
    Tls(String),
    /// The server's TLS certificate was refused (unknown issuer, wrong name, expired).
    #[error("TURN server's TLS certificate was refused: {0}")]
    Certificate(String),
    /// The TCP or TLS connection to the server closed (the allocation went with it).
    #[error("connection to the TURN server closed")]
    ConnectionClosed,
    /// The server's byte stream was not TURN framing; the connection was closed.
    #[error("TURN server stream unusable: {0}")]
    Framing(FramingError),
}

impl TurnError {
    /// The STUN error code, if the server sent one (401 for [`TurnError::Unauthorized`]).
    pub fn code(&self) -> Option<u16> {
        match self {
            TurnError::Unauthorized => Some(ErrorCode::UNAUTHENTICATED),
            TurnError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// What the client reports, drained with [`TurnClient::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnEvent {
    /// The allocation exists: its relayed address and our address as the server sees it.
    Allocated {
        /// XOR-RELAYED-ADDRESS.
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS (a server-reflexive address), if sent.
        mapped: Option<SocketAddr>,
    },
    /// The old allocation was lost (a refresh failed) and a new one exists.
    Reallocated {
        /// The relayed address that no longer works.
        old: SocketAddr,
        /// The new relayed address.
        relayed: SocketAddr,
    },
    /// The allocation failed and will not be retried.
    Failed(TurnError),
    /// A CreatePermission for `peer` failed (permission traffic is dropped by the server).
    PermissionFailed {
        /// The peer IP.
        peer: IpAddr,
        /// Why.
        error: TurnError,
    },
    /// A ChannelBind for `peer` was refused; Send indications are used for it instead.
    ChannelFailed {
        /// The peer.
        peer: SocketAddr,
        /// Why.
        error: TurnError,
    },
}

/// What [`TurnClient::handle_receive`] made of a datagram from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Not for the TURN client (e.g. a Binding response; the caller handles it).
    NotMine,
    /// Consumed (a response, or dropped as invalid and counted).
    Consumed,
    /// Data from `peer` through the relay.
    Relayed {
        /// The peer's address.
        peer: SocketAddr,
        /// The data.
        data: Vec<u8>,
    },
}

/// Counters of one client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnStats {
    /// Requests sent (first transmissions).
    pub requests_sent: u64,
    /// Retransmissions.
    pub retransmits: u64,
    /// 438 answers handled.
    pub stale_nonces: u64,
    /// Allocations made after the first (the server lost one).
    pub reallocations: u64,
    /// Send indications sent.
    pub send_indications: u64,
    /// ChannelData messages sent.
    pub channel_data_sent: u64,
    /// Data indications received.
    pub data_indications: u64,
    /// ChannelData messages received.
    pub channel_data_received: u64,
    /// Dropped: malformed, unauthenticated or unknown messages from the server.
    pub dropped: u64,
}

/// The request a transaction carries (rebuilt with a new nonce after a 438).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    Allocate,
    Refresh { lifetime: u32 },
    CreatePermission(IpAddr),
    ChannelBind { peer: SocketAddr, number: u16 },
}

#[derive(Debug, Clone)]
struct Transaction {
    id: TransactionId,
    request: Request,
    payload: Vec<u8>,
    next_at: Instant,
    rto: Duration,
    retransmits: u32,
    /// Whether it carried credentials.
    authenticated: bool,
    stale_retries: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AllocState {
    Idle,
    Allocating { previous: Option<SocketAddr> },
    Allocated,
    Failed,
    Closed,
}

#[derive(Debug, Clone)]
struct Permission {
    ip: IpAddr,
    installed: bool,
    /// When the next CreatePermission goes out (`None` while one is in flight).
    next_at: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Channel {
    peer: SocketAddr,
    number: u16,
    /// Confirmed by a success response.
    bound: bool,
    /// Refused (400): not used, not retried.
    refused: bool,
    next_at: Option<Instant>,
}

/// A TURN client for one allocation. See the [module documentation](crate::turn).
///
/// Contract: [`start`](Self::start) once; feed datagrams that came from the server on
/// the client's socket to [`handle_receive`](Self::handle_receive); call
/// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout);
/// after each call drain [`poll_transmit`](Self::poll_transmit) (datagrams to send from
/// [`socket`](Self::socket) to the server) and [`poll_event`](Self::poll_event).
#[derive(Debug, Clone)]
pub struct TurnClient {
    config: TurnClientConfig,
    socket: SocketAddr,
    rng: Rng,
    state: AllocState,
    auth: Option<LongTermAuth>,
    relayed: Option<SocketAddr>,
    mapped: Option<SocketAddr>,
    refresh_at: Option<Instant>,
    expires_at: Option<Instant>,
    error: Option<TurnError>,
    last_probe: Option<Instant>,
    /// The relayed address of an allocation lost with its connection, until the next one
    /// is made ([`TurnEvent::Reallocated`] names it).
    lost: Option<SocketAddr>,
    transactions: Vec<Transaction>,
    permissions: Vec<Permission>,
    channels: Vec<Channel>,
    next_channel: u16,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<TurnEvent>,
    stats: TurnStats,
}

impl TurnClient {
    /// A client that will allocate on `config.server` from the local `socket`.
    pub fn new(config: TurnClientConfig, socket: SocketAddr, rng: Rng) -> Self {
        TurnClient {
            config,
            socket,
            rng,
            state: AllocState::Idle,
            auth: None,
            relayed: None,
            mapped: None,
            refresh_at: None,
            expires_at: None,
            error: None,
            last_probe: None,
            lost: None,
            transactions: Vec::new(),
            permissions: Vec::new(),
            channels: Vec::new(),
            next_channel: MIN_CHANNEL,
            out: VecDeque::new(),
            events: VecDeque::new(),
            stats: TurnStats::default(),
        }
    }

    // ----- getters -----

    /// How the server is reached.
    pub fn transport(&self) -> TurnTransport {
        self.config.transport
    }

    /// The server address.
    pub fn server(&self) -> SocketAddr {
        self.config.server
    }

    /// The local socket the client sends from.
    pub fn socket(&self) -> SocketAddr {
        self.socket
    }

    /// The relayed address while allocated.
    pub fn relayed(&self) -> Option<SocketAddr> {
        (self.state == AllocState::Allocated)
            .then_some(self.relayed)
            .flatten()
    }

    /// Our address as the server saw it (from the last Allocate success).
    pub fn mapped(&self) -> Option<SocketAddr> {
        self.mapped
    }

    /// The error that ended the allocation, once failed.
    pub fn error(&self) -> Option<&TurnError> {
        self.error.as_ref()
    }

    /// Whether an allocation is being made (first or again).
    pub fn is_allocating(&self) -> bool {
        matches!(self.state, AllocState::Allocating { .. })
    }

    /// Whether the allocation failed for good.
    pub fn is_failed(&self) -> bool {
        self.state == AllocState::Failed
    }

    /// The channel number bound (confirmed) for `peer`.
    pub fn channel(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|c| c.peer == peer && c.bound && !c.refused)
            .map(|c| c.number)
    }

    /// Whether a permission for `ip` is installed (confirmed).
    pub fn has_permission(&self, ip: IpAddr) -> bool {
        self.permissions.iter().any(|p| p.ip == ip && p.installed)
    }

    /// Counters.
    pub fn stats(&self) -> &TurnStats {
        &self.stats
    }

    // ----- inputs -----

    /// Sends the first Allocate (unauthenticated, to learn realm and nonce). After
    /// [`lose_transport`](Self::lose_transport), allocates again on the new connection.
    pub fn start(&mut self, now: Instant) {
        if self.state == AllocState::Idle {
            self.state = AllocState::Allocating {
                previous: self.lost.take(),
            };
            self.send_request(now, Request::Allocate, 0);
        }
    }

    /// Installs (and keeps refreshing) a permission for `ip`. Bounded by [`MAX_PEERS`];
    /// a no-op when it exists.
    pub fn ensure_permission(&mut self, now: Instant, ip: IpAddr) {
        if self.permissions.iter().any(|p| p.ip == ip) || self.permissions.len() >= MAX_PEERS {
            return;
        }
        self.permissions.push(Permission {
            ip,
            installed: false,
            next_at: Some(now),
        });
        self.step_permissions(now);
    }

    /// Binds a channel to `peer` (once; the number stays the peer's), which also installs
    /// its permission. Until confirmed, [`wrap`](Self::wrap) uses Send indications.
    pub fn ensure_channel(&mut self, now: Instant, peer: SocketAddr) {
        if self.channels.iter().any(|c| c.peer == peer)
            || self.channels.len() >= MAX_PEERS
            || self.next_channel > MAX_CHANNEL
        {
            return;
        }
        self.channels.push(Channel {
            peer,
            number: self.next_channel,
            bound: false,
            refused: false,
            next_at: Some(now),
        });
        self.next_channel += 1;
        self.step_channels(now);
    }

    /// Wraps `payload` for `peer`: ChannelData when a channel is bound, else a Send
    /// indication. `None` (nothing to send) while not allocated.
    pub fn wrap(&mut self, peer: SocketAddr, payload: &[u8]) -> Option<Vec<u8>> {
        self.relayed()?;
        if let Some(number) = self.channel(peer) {
            self.stats.channel_data_sent += 1;
            let mut out = Vec::new();
            ChannelData::encode_into(number, payload, self.config.transport.is_stream(), &mut out);
            return Some(out);
        }
        self.stats.send_indications += 1;
        let tid = TransactionId(self.rng.array());
        Some(wire::send_indication(tid, peer, payload))
    }

    /// [`wrap`](Self::wrap) for a payload the caller gives up: ChannelData is framed in
    /// the payload's own buffer (the data path's hot case, no copy into a new one).
    pub fn wrap_owned(&mut self, peer: SocketAddr, payload: Vec<u8>) -> Option<Vec<u8>> {
        self.relayed()?;
        match self.channel(peer) {
            Some(number) => {
                self.stats.channel_data_sent += 1;
                let mut out = ChannelData::encode_in_place(number, payload);
                if self.config.transport.is_stream() {
                    // RFC 8656 section 12.5: padded to a multiple of four on a stream.
                    out.resize(out.len().next_multiple_of(4), 0);
                }
                Some(out)
            }
            None => self.wrap(peer, &payload),
        }
    }

    /// The hot receive path: when `data` is ChannelData on one of our channels carrying
    /// application data (not a STUN message), counts it and returns the peer and the
    /// payload, borrowed from `data`. Anything else returns `None` and changes nothing:
    /// give it to [`handle_receive`](Self::handle_receive).
    pub fn unwrap_application_data<'a>(
        &mut self,
        data: &'a [u8],
    ) -> Option<(SocketAddr, &'a [u8])> {
        let cd = ChannelData::parse(data).ok()?;
        if crate::stun::looks_like_stun(cd.payload) {
            return None;
        }
        let peer = self.channels.iter().find(|c| c.number == cd.channel)?.peer;
        self.stats.channel_data_received += 1;
        Some((peer, cd.payload))
    }

    /// A datagram from the server. Never panics; what is invalid is dropped and counted.
    pub fn handle_receive(&mut self, now: Instant, data: &[u8]) -> Received {
        if is_channel_data(data) {
            return self.on_channel_data(data);
        }
        let Ok(view) = StunView::new_checked(data) else {
            return Received::NotMine;
        };
        if view.method() == Method::BINDING {
            return Received::NotMine;
        }
        match view.class() {
            Class::Indication if view.method() == Method::DATA => self.on_data_indication(&view),
            Class::Success | Class::Error => {
                self.on_response(now, &view);
                Received::Consumed
            }
            _ => {
                self.stats.dropped += 1;
                Received::Consumed
            }
        }
    }

    /// Retransmits, refreshes and gives up what is due at `now` (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.step_transactions(now);
        if self.state == AllocState::Allocated {
            if self.expires_at.is_some_and(|at| now >= at) {
                tracing::debug!(server = %self.config.server, "turn: allocation expired");
                self.reallocate(now);
                return;
            }
            if self.refresh_at.is_some_and(|at| now >= at) && !self.in_flight_refresh() {
                self.refresh_at = None;
                self.send_request(
                    now,
                    Request::Refresh {
                        lifetime: self.config.lifetime,
                    },
                    0,
                );
            }
            self.step_permissions(now);
            self.step_channels(now);
        }
    }

    /// Asks the server at once whether the allocation still exists (a Refresh), at most
    /// every 5 s. Call it when traffic through the relay stopped (e.g. ICE consent checks
    /// go unanswered): a server that lost the allocation answers 437 and the client
    /// re-allocates ([`TurnEvent::Reallocated`]) instead of waiting for the next refresh.
    pub fn probe(&mut self, now: Instant) {
        let recent = self.last_probe.is_some_and(|t| now < t + RETRY_AFTER);
        if self.state != AllocState::Allocated || recent || self.in_flight_refresh() {
            return;
        }
        self.last_probe = Some(now);
        self.send_request(
            now,
            Request::Refresh {
                lifetime: self.config.lifetime,
            },
            0,
        );
    }

    /// The connection to the server (TCP or TLS) failed or closed: the allocation is gone
    /// with it (RFC 8656 section 3.1) and the client fails with `error` (reported as
    /// [`TurnEvent::Failed`]). A no-op once closed or failed.
    pub fn fail_transport(&mut self, error: TurnError) {
        if !matches!(self.state, AllocState::Closed | AllocState::Failed) {
            self.relayed = None;
            self.fail(error);
        }
    }

    /// The connection to the server (TCP or TLS) closed and its owner will open a new one:
    /// the allocation is gone with the old one (RFC 8656 section 3.1). The client forgets
    /// it (and what was queued for the old connection) and waits for
    /// [`start`](Self::start); the next allocation is reported as
    /// [`TurnEvent::Reallocated`] from the lost relayed address. A no-op once closed or
    /// failed.
    pub fn lose_transport(&mut self) {
        if matches!(self.state, AllocState::Closed | AllocState::Failed) {
            return;
        }
        let previous = match self.state {
            AllocState::Allocating { previous } => previous,
            _ => None,
        };
        self.lost = self.relayed.take().or(previous).or(self.lost);
        self.state = AllocState::Idle;
        self.transactions.clear();
        self.out.clear();
        // A new connection starts a new authentication (the server may have restarted).
        self.auth = None;
        self.refresh_at = None;
        self.expires_at = None;
        for c in &mut self.channels {
            c.next_at = None;
        }
    }

    /// Deallocates (Refresh with LIFETIME 0, sent once, not retransmitted) and stops.
    pub fn close(&mut self, now: Instant) {
        if self.state == AllocState::Allocated {
            self.send_request(now, Request::Refresh { lifetime: 0 }, 0);
        }
        self.transactions.clear();
        self.state = AllocState::Closed;
    }

    // ----- outputs -----

    /// The next datagram for the server (send it from [`socket`](Self::socket)).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, AllocState::Closed | AllocState::Failed) {
            return None;
        }
        let tx = self.transactions.iter().map(|t| t.next_at);
        let alloc = (self.state == AllocState::Allocated)
            .then_some([self.refresh_at, self.expires_at])
            .into_iter()
            .flatten()
            .flatten();
        let perms = self.permissions.iter().filter_map(|p| p.next_at);
        let chans = self.channels.iter().filter_map(|c| c.next_at);
        let gated = (self.state == AllocState::Allocated)
            .then(|| perms.chain(chans).min())
            .flatten();
        tx.chain(alloc).chain(gated).min()
    }

    // ----- internals -----

    fn emit(&mut self, e: TurnEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    fn in_flight_refresh(&self) -> bool {
        self.transactions
            .iter()
            .any(|t| matches!(t.request, Request::Refresh { .. }))
    }

    fn build(&self, id: TransactionId, request: Request) -> Option<Vec<u8>> {
        let msg = match request {
            Request::Allocate => StunMessage::new(Class::Request, Method::ALLOCATE, id)
                .with(wire::requested_transport_attribute(wire::TRANSPORT_UDP))
                .with(wire::lifetime_attribute(self.config.lifetime)),
            Request::Refresh { lifetime } => StunMessage::new(Class::Request, Method::REFRESH, id)
                .with(wire::lifetime_attribute(lifetime)),
            Request::CreatePermission(ip) => {
                StunMessage::new(Class::Request, Method::CREATE_PERMISSION, id).with(
                    wire::xor_address_attribute(
                        AttributeType::XOR_PEER_ADDRESS,
                        SocketAddr::new(ip, 0),
                        &id,
                    ),
                )
            }
            Request::ChannelBind { peer, number } => {
                StunMessage::new(Class::Request, Method::CHANNEL_BIND, id)
                    .with(wire::channel_number_attribute(number))
                    .with(wire::xor_address_attribute(
                        AttributeType::XOR_PEER_ADDRESS,
                        peer,
                        &id,
                    ))
            }
        };
        wire::encode_request(msg, self.auth.as_ref())
    }

    fn send_request(&mut self, now: Instant, request: Request, stale_retries: u8) {
        let id = TransactionId(self.rng.array());
        let Some(payload) = self.build(id, request) else {
            return;
        };
        let lifetime_zero = request == Request::Refresh { lifetime: 0 };
        if !lifetime_zero {
            let wait = if self.config.transport.is_stream() {
                RELIABLE_TIMEOUT
            } else {
                self.config.initial_rto
            };
            self.transactions.push(Transaction {
                id,
                request,
                payload: payload.clone(),
                next_at: now + wait,
                rto: self.config.initial_rto,
                retransmits: 0,
                authenticated: self.auth.is_some(),
                stale_retries,
            });
        }
        self.stats.requests_sent += 1;
        self.out.push_back(payload);
    }

    fn step_transactions(&mut self, now: Instant) {
        let (max, max_rto) = (self.config.max_retransmits, self.config.max_rto);
        // Reliable transports do not retransmit: the one transmission timed out.
        let max = if self.config.transport.is_stream() {
            0
        } else {
            max
        };
        let mut gave_up = Vec::new();
        for t in &mut self.transactions {
            if now < t.next_at {
                continue;
            }
            if t.retransmits >= max {
                gave_up.push(t.id);
                continue;
            }
            t.retransmits += 1;
            t.rto = (t.rto * 2).min(max_rto);
            t.next_at = now + t.rto;
            self.out.push_back(t.payload.clone());
            self.stats.retransmits += 1;
        }
        for id in gave_up {
            if let Some(i) = self.transactions.iter().position(|t| t.id == id) {
                let t = self.transactions.remove(i);
                self.on_failure(now, t.request, TurnError::Timeout);
            }
        }
    }

    fn step_permissions(&mut self, now: Instant) {
        let due: Vec<IpAddr> = self
            .permissions
            .iter_mut()
            .filter(|p| p.next_at.is_some_and(|at| now >= at))
            .map(|p| {
                p.next_at = None;
                p.ip
            })
            .collect();
        if self.state != AllocState::Allocated {
            for p in &mut self.permissions {
                if due.contains(&p.ip) {
                    p.next_at = Some(now);
                }
            }
            return;
        }
        for ip in due {
            self.send_request(now, Request::CreatePermission(ip), 0);
        }
    }

    fn step_channels(&mut self, now: Instant) {
        let allocated = self.state == AllocState::Allocated;
        let mut due = Vec::new();
        for c in &mut self.channels {
            if allocated && !c.refused && c.next_at.is_some_and(|at| now >= at) {
                c.next_at = None;
                due.push((c.peer, c.number));
            }
        }
        for (peer, number) in due {
            self.send_request(now, Request::ChannelBind { peer, number }, 0);
        }
    }

    fn on_channel_data(&mut self, data: &[u8]) -> Received {
        let Ok(cd) = ChannelData::parse(data) else {
            self.stats.dropped += 1;
            return Received::Consumed;
        };
        // The server may use the channel as soon as it processed our ChannelBind, before
        // its response reaches us: a number we asked for is enough.
        match self.channels.iter().find(|c| c.number == cd.channel) {
            Some(c) => {
                self.stats.channel_data_received += 1;
                Received::Relayed {
                    peer: c.peer,
                    data: cd.payload.to_vec(),
                }
            }
            None => {
                self.stats.dropped += 1;
                tracing::debug!(
                    channel = cd.channel,
                    "turn: ChannelData on an unknown channel"
                );
                Received::Consumed
            }
        }
    }

    fn on_data_indication(&mut self, view: &StunView<'_>) -> Received {
        match (
            wire::xor_address(view, AttributeType::XOR_PEER_ADDRESS),
            wire::data(view),
        ) {
            (Some(peer), Some(data)) if self.relayed().is_some() => {
                self.stats.data_indications += 1;
                Received::Relayed {
                    peer,
                    data: data.to_vec(),
                }
            }
            _ => {
                self.stats.dropped += 1;
                Received::Consumed
            }
        }
    }

    fn on_response(&mut self, now: Instant, view: &StunView<'_>) {
        let Some(i) = self
            .transactions
            .iter()
            .position(|t| t.id == view.transaction_id())
        else {
            self.stats.dropped += 1;
            return;
        };
        let authenticated = self.transactions[i].authenticated;
        if view.class() == Class::Success {
            // A success to an authenticated request must prove the server knows the key.
            let key_ok = match (&self.auth, authenticated) {
                (Some(a), true) => view.verify_integrity(&a.key),
                _ => true,
            };
            if !key_ok {
                self.stats.dropped += 1;
                tracing::debug!("turn: success response with a wrong MESSAGE-INTEGRITY dropped");
                return;
            }
            let t = self.transactions.remove(i);
            self.on_success(now, t.request, view);
            return;
        }
        let t = self.transactions.remove(i);
        let error = view.error_code();
        let code = error.as_ref().map_or(0, ErrorCode::code);
        match code {
            ErrorCode::UNAUTHENTICATED if !t.authenticated || self.auth.is_none() => {
                if self.learn_auth(view) {
                    self.send_request(now, t.request, t.stale_retries);
                } else {
                    self.on_failure(now, t.request, TurnError::Malformed("REALM or NONCE"));
                }
            }
            ErrorCode::UNAUTHENTICATED => self.on_failure(now, t.request, TurnError::Unauthorized),
            ErrorCode::STALE_NONCE if t.stale_retries < MAX_STALE_RETRIES => {
                self.stats.stale_nonces += 1;
                if self.learn_auth(view) {
                    tracing::debug!(request = ?t.request, "turn: stale nonce, retrying");
                    self.send_request(now, t.request, t.stale_retries + 1);
                } else {
                    self.on_failure(now, t.request, TurnError::Malformed("NONCE"));
                }
            }
            _ => {
                let reason = error.map(|e| e.reason().to_string()).unwrap_or_default();
                self.on_failure(now, t.request, TurnError::Server { code, reason });
            }
        }
    }

    /// Takes REALM and NONCE from a 401 or 438; returns whether both were usable.
    fn learn_auth(&mut self, view: &StunView<'_>) -> bool {
        let nonce = view.nonce().map(str::to_string);
        let realm = view
            .realm()
            .map(str::to_string)
            .or_else(|| self.auth.as_ref().map(|a| a.realm.clone()));
        let (Some(nonce), Some(realm)) = (nonce, realm) else {
            return false;
        };
        let key = IntegrityKey::long_term(&self.config.username, &realm, &self.config.password);
        self.auth = Some(LongTermAuth {
            username: self.config.username.clone(),
            realm,
            nonce,
            key,
        });
        true
    }

    fn on_success(&mut self, now: Instant, request: Request, view: &StunView<'_>) {
        match request {
            Request::Allocate => self.on_allocated(now, view),
            Request::Refresh { .. } => {
                let lifetime = wire::lifetime(view).unwrap_or(self.config.lifetime);
                self.set_lifetime(now, lifetime);
            }
            Request::CreatePermission(ip) => {
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == ip) {
                    p.installed = true;
                    p.next_at = Some(now + PERMISSION_REFRESH);
                }
            }
            Request::ChannelBind { peer, .. } => {
                if let Some(c) = self.channels.iter_mut().find(|c| c.peer == peer) {
                    c.bound = true;
                    c.next_at = Some(now + CHANNEL_REFRESH);
                }
                // A channel binding also installs the permission.
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == peer.ip()) {
                    p.installed = true;
                }
            }
        }
    }

    fn set_lifetime(&mut self, now: Instant, lifetime: u32) {
        let lifetime = Duration::from_secs(u64::from(lifetime.max(2)));
        self.expires_at = Some(now + lifetime);
        self.refresh_at = Some(now + lifetime / 2);
    }

    fn on_allocated(&mut self, now: Instant, view: &StunView<'_>) {
        let AllocState::Allocating { previous } = self.state else {
            return;
        };
        let Some(relayed) = wire::xor_address(view, AttributeType::XOR_RELAYED_ADDRESS) else {
            self.fail(TurnError::Malformed("XOR-RELAYED-ADDRESS"));
            return;
        };
        self.mapped = view.xor_mapped_address();
        self.relayed = Some(relayed);
        self.state = AllocState::Allocated;
        self.set_lifetime(now, wire::lifetime(view).unwrap_or(self.config.lifetime));
        tracing::debug!(server = %self.config.server, %relayed, "turn: allocated");
        match previous {
            None => self.emit(TurnEvent::Allocated {
                relayed,
                mapped: self.mapped,
            }),
            Some(old) => {
                self.stats.reallocations += 1;
                self.emit(TurnEvent::Reallocated { old, relayed });
            }
        }
        // Permissions and channels of a new allocation start from scratch on the server.
        for p in &mut self.permissions {
            p.installed = false;
            p.next_at = Some(now);
        }
        self.channels.clear();
        self.next_channel = MIN_CHANNEL;
        self.step_permissions(now);
    }

    fn fail(&mut self, error: TurnError) {
        tracing::debug!(server = %self.config.server, %error, "turn: allocation failed");
        self.state = AllocState::Failed;
        self.transactions.clear();
        self.error = Some(error.clone());
        self.emit(TurnEvent::Failed(error));
    }

    /// Forgets the lost allocation and allocates again.
    fn reallocate(&mut self, now: Instant) {
        let previous = self.relayed.or(match self.state {
            AllocState::Allocating { previous } => previous,
            _ => None,
        });
        self.transactions.clear();
        self.state = AllocState::Allocating { previous };
        // A restarted server no longer knows our nonce (and may answer it with 401): start
        // over unauthenticated to learn the current realm and nonce.
        self.auth = None;
        self.refresh_at = None;
        self.expires_at = None;
        for c in &mut self.channels {
            c.next_at = None;
        }
        self.send_request(now, Request::Allocate, 0);
    }

    fn on_failure(&mut self, now: Instant, request: Request, error: TurnError) {
        if matches!(self.state, AllocState::Closed | AllocState::Failed) {
            return;
        }
        let mismatch = error.code() == Some(437);
        match request {
            Request::Allocate => self.fail(error),
            Request::Refresh { .. } => {
                tracing::debug!(%error, "turn: refresh failed, allocating again");
                self.reallocate(now);
            }
            _ if mismatch => self.reallocate(now),
            Request::CreatePermission(ip) => {
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == ip) {
                    p.next_at = Some(now + RETRY_AFTER);
                }
                self.emit(TurnEvent::PermissionFailed { peer: ip, error });
            }
            Request::ChannelBind { peer, .. } => self.on_channel_failure(now, peer, error),
        }
    }

    /// A ChannelBind that timed out is ambiguous (the server may have bound it): retry
    /// later with the same number. One the server refused (400: the number or the peer is
    /// bound otherwise) is never retried with another number.
    fn on_channel_failure(&mut self, now: Instant, peer: SocketAddr, error: TurnError) {
        let Some(c) = self.channels.iter_mut().find(|c| c.peer == peer) else {
            return;
        };
        if error == TurnError::Timeout {
            c.next_at = Some(now + RETRY_AFTER);
            tracing::debug!(%peer, number = c.number, "turn: ChannelBind unanswered, will retry with the same number");
            return;
        }
        c.refused = true;
        c.bound = false;
        c.next_at = None;
        self.emit(TurnEvent::ChannelFailed { peer, error });
    }
}
