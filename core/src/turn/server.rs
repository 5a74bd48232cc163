//! [`TurnServer`]: a small sans-IO TURN server over UDP (RFC 8656) for simulations and
//! tests (a [`crate::sim::Node`] with feature `sim`).
//!
//! Implemented: Binding (it is also a STUN server), Allocate, Refresh (LIFETIME 0
//! deallocates), CreatePermission, ChannelBind with the RFC's conflict rules (400 when a
//! number or a peer is already bound otherwise), Send and Data indications, ChannelData
//! both ways, long-term credentials with nonces that go stale after
//! [`TurnServerConfig::nonce_lifetime`] (438), expiry of allocations, permissions and
//! channels, retransmitted Allocate requests answered again, a restart that forgets
//! everything ([`TurnServer::restart`]), and a test hook that swallows ChannelBind
//! responses ([`TurnServer::drop_channel_bind_responses`]).
//!
//! Not implemented: TCP/TLS listeners, TCP allocations, IPv6 relays for IPv4 clients,
//! quotas beyond [`TurnServerConfig::max_allocations`], bandwidth limits, 300 redirects.

use super::channel_data::{ChannelData, MAX_CHANNEL, MIN_CHANNEL, is_channel_data};
use super::wire;
use crate::stun::{
    Attribute, AttributeType, Class, ErrorCode, IntegrityKey, Method, StunMessage, StunView,
    TransactionId,
};
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
const MAX_PERMISSIONS: usize = 64;
const MAX_QUEUED: usize = 4096;

/// Settings of a [`TurnServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnServerConfig {
    /// Where clients reach the server; relayed addresses use its IP with ports from 49152.
    pub listen: SocketAddr,
    /// REALM.
    pub realm: String,
    /// Known users and their passwords.
    pub users: Vec<(String, String)>,
    /// A nonce older than this is answered with 438. Default 600 s (coturn's default).
    pub nonce_lifetime: Duration,
    /// The longest allocation lifetime granted, in seconds. Default 3600.
    pub max_lifetime: u32,
    /// The most allocations at once. Default 64.
    pub max_allocations: usize,
}

impl TurnServerConfig {
    /// A server at `listen` in `realm` with one user.
    pub fn new(listen: SocketAddr, realm: &str, user: &str, password: &str) -> Self {
        TurnServerConfig {
            listen,
            realm: realm.to_string(),
            users: vec![(user.to_string(), password.to_string())],
            nonce_lifetime: Duration::from_secs(600),
            max_lifetime: 3600,
            max_allocations: 64,
        }
    }
}

/// What the server did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnServerStats {
    /// Allocations created.
    pub allocations: u64,
    /// Requests per method answered with success: Allocate, Refresh, CreatePermission,
    /// ChannelBind.
    pub allocate_ok: u64,
    /// Refresh successes.
    pub refresh_ok: u64,
    /// CreatePermission successes.
    pub permission_ok: u64,
    /// ChannelBind successes.
    pub channel_bind_ok: u64,
    /// 438 answers, per method in the order Allocate, Refresh, CreatePermission,
    /// ChannelBind.
    pub stale_nonce: [u64; 4],
    /// 401 answers.
    pub unauthorized: u64,
    /// Other error answers (400, 437, 442, 486).
    pub errors: u64,
    /// ChannelBind answered with 400 because of a conflicting binding.
    pub channel_conflicts: u64,
    /// ChannelBind responses swallowed by the test hook.
    pub channel_bind_responses_dropped: u64,
    /// Datagrams relayed from a client to a peer (Send indication or ChannelData).
    pub to_peer: u64,
    /// Datagrams relayed from a peer to a client (Data indication or ChannelData).
    pub to_client: u64,
    /// Datagrams dropped (no allocation, no permission, malformed, queue full).
    pub dropped: u64,
}

#[derive(Debug, Clone)]
struct Allocation {
    client: SocketAddr,
    relay: SocketAddr,
    expires: Instant,
    allocate_tid: TransactionId,
    permissions: Vec<(IpAddr, Instant)>,
    channels: Vec<(u16, SocketAddr, Instant)>,
}

impl Allocation {
    fn permitted(&self, ip: IpAddr, now: Instant) -> bool {
        self.permissions.iter().any(|(p, t)| *p == ip && *t > now)
    }
}

/// The sans-IO TURN server. See the [module documentation](self).
#[derive(Debug)]
pub struct TurnServer {
    config: TurnServerConfig,
    origin: Option<Instant>,
    epoch: u32,
    allocations: Vec<Allocation>,
    next_port: u16,
    drop_channel_bind_responses: bool,
    out: VecDeque<Transmit>,
    stats: TurnServerStats,
}

/// The authenticated context of a request.
struct Authed {
    key: IntegrityKey,
}

impl TurnServer {
    /// A server with no allocations.
    pub fn new(config: TurnServerConfig) -> Self {
        TurnServer {
            config,
            origin: None,
            epoch: 1,
            allocations: Vec::new(),
            next_port: 49152,
            drop_channel_bind_responses: false,
            out: VecDeque::new(),
            stats: TurnServerStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> &TurnServerStats {
        &self.stats
    }

    /// The relayed addresses of the current allocations.
    pub fn relayed_addresses(&self) -> Vec<SocketAddr> {
        self.allocations.iter().map(|a| a.relay).collect()
    }

    /// The channels bound on the allocation of `client`: (number, peer).
    pub fn channels_of(&self, client: SocketAddr) -> Vec<(u16, SocketAddr)> {
        self.allocations
            .iter()
            .filter(|a| a.client == client)
            .flat_map(|a| a.channels.iter().map(|(n, p, _)| (*n, *p)))
            .collect()
    }

    /// A restart: every allocation, permission and channel is forgotten and every nonce
    /// handed out becomes unknown (stale).
    pub fn restart(&mut self) {
        self.allocations.clear();
        self.epoch += 1;
    }

    /// Makes every nonce handed out so far stale (the next request gets 438).
    pub fn expire_nonces(&mut self) {
        self.epoch += 1;
    }

    /// Test hook: while on, ChannelBind succeeds on the server but its response is not
    /// sent (the client's view is ambiguous).
    pub fn drop_channel_bind_responses(&mut self, on: bool) {
        self.drop_channel_bind_responses = on;
    }

    /// A datagram arrived at `destination` (the listen address or a relayed address).
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        self.origin.get_or_insert(now);
        self.expire(now);
        if destination == self.config.listen {
            self.on_client_datagram(now, source, data);
        } else {
            self.on_peer_datagram(now, source, destination, data);
        }
    }

    /// Expires allocations, permissions and channels.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.allocations.iter().map(|a| a.expires).min()
    }

    fn expire(&mut self, now: Instant) {
        self.allocations.retain(|a| a.expires > now);
        for a in &mut self.allocations {
            a.permissions.retain(|(_, t)| *t > now);
            a.channels.retain(|(_, _, t)| *t > now);
        }
    }

    fn push(&mut self, source: SocketAddr, destination: SocketAddr, payload: Vec<u8>) {
        if self.out.len() >= MAX_QUEUED {
            self.stats.dropped += 1;
            return;
        }
        self.out.push_back(Transmit {
            source,
            destination,
            payload,
        });
    }

    fn nonce(&self, now: Instant) -> String {
        let secs = self
            .origin
            .map_or(0, |o| now.saturating_duration_since(o).as_secs());
        format!("{:08x}{:016x}", self.epoch, secs)
    }

    fn nonce_fresh(&self, nonce: &str, now: Instant) -> bool {
        let (Some(epoch), Some(secs)) = (nonce.get(..8), nonce.get(8..)) else {
            return false;
        };
        let (Ok(epoch), Ok(secs)) = (
            u32::from_str_radix(epoch, 16),
            u64::from_str_radix(secs, 16),
        ) else {
            return false;
        };
        let age = self
            .origin
            .map_or(0, |o| now.saturating_duration_since(o).as_secs())
            .saturating_sub(secs);
        epoch == self.epoch && age < self.config.nonce_lifetime.as_secs()
    }

    fn on_client_datagram(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        if is_channel_data(data) {
            self.client_channel_data(now, source, data);
            return;
        }
        let Ok(view) = StunView::new_checked(data) else {
            self.stats.dropped += 1;
            return;
        };
        match (view.class(), view.method()) {
            (Class::Request, Method::BINDING) => {
                let msg = StunMessage::success_response_to(&view)
                    .with(Attribute::XorMappedAddress(source));
                let bytes = msg.encode(None, true).unwrap_or_default();
                self.push(self.config.listen, source, bytes);
            }
            (Class::Indication, Method::SEND) => self.send_indication(now, source, &view),
            (Class::Request, _) => self.request(now, source, &view),
            _ => self.stats.dropped += 1,
        }
    }

    fn send_indication(&mut self, now: Instant, source: SocketAddr, view: &StunView<'_>) {
        let (Some(peer), Some(payload)) = (
            wire::xor_address(view, AttributeType::XOR_PEER_ADDRESS),
            wire::data(view),
        ) else {
            self.stats.dropped += 1;
            return;
        };
        match self.allocations.iter().find(|a| a.client == source) {
            Some(a) if a.permitted(peer.ip(), now) => {
                let relay = a.relay;
                self.stats.to_peer += 1;
                self.push(relay, peer, payload.to_vec());
            }
            _ => self.stats.dropped += 1,
        }
    }

    fn client_channel_data(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Ok(cd) = ChannelData::parse(data) else {
            self.stats.dropped += 1;
            return;
        };
        let target = self
            .allocations
            .iter()
            .find(|a| a.client == source)
            .and_then(|a| {
                let (_, peer, _) = a.channels.iter().find(|(n, _, _)| *n == cd.channel)?;
                a.permitted(peer.ip(), now).then_some((a.relay, *peer))
            });
        match target {
            Some((relay, peer)) => {
                self.stats.to_peer += 1;
                self.push(relay, peer, cd.payload.to_vec());
            }
            None => self.stats.dropped += 1,
        }
    }

    fn on_peer_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        relay: SocketAddr,
        data: &[u8],
    ) {
        let Some(a) = self.allocations.iter().find(|a| a.relay == relay) else {
            self.stats.dropped += 1;
            return;
        };
        if !a.permitted(source.ip(), now) {
            self.stats.dropped += 1;
            return;
        }
        let client = a.client;
        let payload = match a.channels.iter().find(|(_, p, _)| *p == source) {
            Some((n, _, _)) => ChannelData::encode(*n, data),
            None => wire::data_indication(TransactionId(self.tid(now, source)), source, data),
        };
        self.stats.to_client += 1;
        self.push(self.config.listen, client, payload);
    }

    /// Indication transaction ids need not be random here: derived from the counters.
    fn tid(&self, _now: Instant, source: SocketAddr) -> [u8; 12] {
        let mut id = [0u8; 12];
        id[..8].copy_from_slice(&self.stats.to_client.to_be_bytes());
        id[8..10].copy_from_slice(&source.port().to_be_bytes());
        id
    }

    fn method_index(method: Method) -> usize {
        match method {
            Method::ALLOCATE => 0,
            Method::REFRESH => 1,
            Method::CREATE_PERMISSION => 2,
            _ => 3,
        }
    }

    fn reply_error(
        &mut self,
        now: Instant,
        to: SocketAddr,
        view: &StunView<'_>,
        code: u16,
        key: Option<&IntegrityKey>,
    ) {
        let reason = match code {
            400 => "Bad Request",
            401 => "Unauthenticated",
            437 => "Allocation Mismatch",
            438 => "Stale Nonce",
            442 => "Unsupported Transport Protocol",
            486 => "Allocation Quota Reached",
            _ => "Error",
        };
        let Ok(error) = ErrorCode::new(code, reason) else {
            return;
        };
        let mut msg = StunMessage::error_response_to(view, error);
        if matches!(code, 401 | 438) {
            msg = msg
                .with(Attribute::Realm(self.config.realm.clone()))
                .with(Attribute::Nonce(self.nonce(now)));
        } else {
            self.stats.errors += 1;
        }
        let bytes = msg.encode(key, true).unwrap_or_default();
        self.push(self.config.listen, to, bytes);
    }

    /// Long-term credential check (RFC 8489 section 9.2.4). `None` when answered with an
    /// error already.
    fn authenticate(
        &mut self,
        now: Instant,
        source: SocketAddr,
        view: &StunView<'_>,
    ) -> Option<Authed> {
        let (Some(user), Some(nonce), Some(_realm)) = (view.username(), view.nonce(), view.realm())
        else {
            self.stats.unauthorized += 1;
            self.reply_error(now, source, view, 401, None);
            return None;
        };
        if !view.has_integrity() {
            self.stats.unauthorized += 1;
            self.reply_error(now, source, view, 401, None);
            return None;
        }
        if !self.nonce_fresh(nonce, now) {
            self.stats.stale_nonce[Self::method_index(view.method())] += 1;
            self.reply_error(now, source, view, 438, None);
            return None;
        }
        let password = self
            .config
            .users
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.clone());
        let key = password.map(|p| IntegrityKey::long_term(user, &self.config.realm, &p));
        match key {
            Some(key) if view.verify_integrity(&key) => Some(Authed { key }),
            _ => {
                self.stats.unauthorized += 1;
                self.reply_error(now, source, view, 401, None);
                None
            }
        }
    }

    fn request(&mut self, now: Instant, source: SocketAddr, view: &StunView<'_>) {
        let Some(auth) = self.authenticate(now, source, view) else {
            return;
        };
        let key = auth.key;
        let response = match view.method() {
            Method::ALLOCATE => self.allocate(now, source, view),
            Method::REFRESH => self.refresh(now, source, view),
            Method::CREATE_PERMISSION => self.create_permission(now, source, view),
            Method::CHANNEL_BIND => self.channel_bind(now, source, view),
            _ => Err(400),
        };
        match response {
            Ok(msg) => {
                if view.method() == Method::CHANNEL_BIND && self.drop_channel_bind_responses {
                    self.stats.channel_bind_responses_dropped += 1;
                    return;
                }
                let bytes = msg.encode(Some(&key), true).unwrap_or_default();
                self.push(self.config.listen, source, bytes);
            }
            Err(code) => self.reply_error(now, source, view, code, Some(&key)),
        }
    }

    fn allocate(
        &mut self,
        now: Instant,
        source: SocketAddr,
        view: &StunView<'_>,
    ) -> Result<StunMessage, u16> {
        let lifetime = self.granted_lifetime(view);
        if let Some(a) = self.allocations.iter().find(|a| a.client == source) {
            if a.allocate_tid != view.transaction_id() {
                return Err(437);
            }
            // A retransmission: answer again.
            let relay = a.relay;
            return Ok(self.allocate_success(view, source, relay, lifetime));
        }
        if wire::requested_transport(view) != Some(wire::TRANSPORT_UDP) {
            return Err(442);
        }
        if self.allocations.len() >= self.config.max_allocations {
            return Err(486);
        }
        let relay = SocketAddr::new(self.config.listen.ip(), self.next_port);
        self.next_port = self.next_port.checked_add(1).unwrap_or(49152);
        self.allocations.push(Allocation {
            client: source,
            relay,
            expires: now + Duration::from_secs(u64::from(lifetime)),
            allocate_tid: view.transaction_id(),
            permissions: Vec::new(),
            channels: Vec::new(),
        });
        self.stats.allocations += 1;
        self.stats.allocate_ok += 1;
        Ok(self.allocate_success(view, source, relay, lifetime))
    }

    fn granted_lifetime(&self, view: &StunView<'_>) -> u32 {
        wire::lifetime(view)
            .unwrap_or(600)
            .clamp(600.min(self.config.max_lifetime), self.config.max_lifetime)
    }

    fn allocate_success(
        &self,
        view: &StunView<'_>,
        source: SocketAddr,
        relay: SocketAddr,
        lifetime: u32,
    ) -> StunMessage {
        let tid = view.transaction_id();
        StunMessage::success_response_to(view)
            .with(wire::xor_address_attribute(
                AttributeType::XOR_RELAYED_ADDRESS,
                relay,
                &tid,
            ))
            .with(wire::lifetime_attribute(lifetime))
            .with(Attribute::XorMappedAddress(source))
    }

    fn allocation_mut(&mut self, source: SocketAddr) -> Result<&mut Allocation, u16> {
        self.allocations
            .iter_mut()
            .find(|a| a.client == source)
            .ok_or(437)
    }

    fn refresh(
        &mut self,
        now: Instant,
        source: SocketAddr,
        view: &StunView<'_>,
    ) -> Result<StunMessage, u16> {
        let requested = wire::lifetime(view).unwrap_or(600);
        let lifetime = if requested == 0 {
            0
        } else {
            self.granted_lifetime(view)
        };
        let a = self.allocation_mut(source)?;
        if lifetime == 0 {
            self.allocations.retain(|a| a.client != source);
        } else {
            a.expires = now + Duration::from_secs(u64::from(lifetime));
        }
        self.stats.refresh_ok += 1;
        Ok(StunMessage::success_response_to(view).with(wire::lifetime_attribute(lifetime)))
    }

    fn create_permission(
        &mut self,
        now: Instant,
        source: SocketAddr,
        view: &StunView<'_>,
    ) -> Result<StunMessage, u16> {
        let tid = view.transaction_id();
        let peers: Vec<IpAddr> = view
            .attributes()
            .filter(|a| a.typ == AttributeType::XOR_PEER_ADDRESS)
            .filter_map(|a| match Attribute::decode(0x0020, a.value, &tid) {
                Ok(Attribute::XorMappedAddress(p)) => Some(p.ip()),
                _ => None,
            })
            .collect();
        if peers.is_empty() {
            return Err(400);
        }
        let a = self.allocation_mut(source)?;
        for ip in peers {
            permit(a, ip, now)?;
        }
        self.stats.permission_ok += 1;
        Ok(StunMessage::success_response_to(view))
    }

    fn channel_bind(
        &mut self,
        now: Instant,
        source: SocketAddr,
        view: &StunView<'_>,
    ) -> Result<StunMessage, u16> {
        let (Some(number), Some(peer)) = (
            wire::channel_number(view),
            wire::xor_address(view, AttributeType::XOR_PEER_ADDRESS),
        ) else {
            return Err(400);
        };
        if !(MIN_CHANNEL..=MAX_CHANNEL).contains(&number) {
            return Err(400);
        }
        let a = self.allocation_mut(source)?;
        let conflict = a
            .channels
            .iter()
            .any(|(n, p, _)| (*n == number) != (*p == peer));
        if conflict {
            self.stats.channel_conflicts += 1;
            return Err(400);
        }
        let until = now + CHANNEL_LIFETIME;
        match a.channels.iter_mut().find(|(n, _, _)| *n == number) {
            Some(c) => c.2 = until,
            None => a.channels.push((number, peer, until)),
        }
        permit(a, peer.ip(), now)?;
        self.stats.channel_bind_ok += 1;
        Ok(StunMessage::success_response_to(view))
    }
}

fn permit(a: &mut Allocation, ip: IpAddr, now: Instant) -> Result<(), u16> {
    let until = now + PERMISSION_LIFETIME;
    if let Some(p) = a.permissions.iter_mut().find(|(p, _)| *p == ip) {
        p.1 = until;
    } else if a.permissions.len() < MAX_PERMISSIONS {
        a.permissions.push((ip, until));
    } else {
        return Err(508);
    }
    Ok(())
}

#[cfg(feature = "sim")]
impl crate::sim::Node for TurnServer {
    fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        TurnServer::handle_receive(self, now, source, destination, payload);
    }

    fn handle_timeout(&mut self, now: Instant) {
        TurnServer::handle_timeout(self, now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        TurnServer::poll_transmit(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        TurnServer::poll_timeout(self)
    }
}
