//! A DTLS endpoint as a simulator node, and a two-node scenario (client and server on the
//! simulated internet) to drive handshakes in virtual time.

use rtcpeer::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, DtlsRole, DtlsState,
    DtlsStats, Records,
};
use rtcpeer::sim::{Direction, LinkConfig, Node, NodeId, Sim, SimError};
use rtcpeer::{Rng, Transmit};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where the client lives.
pub const CLIENT_ADDR: &str = "198.51.100.1:5000";
/// Where the server lives.
pub const SERVER_ADDR: &str = "198.51.100.2:5000";
/// The exporter label DTLS-SRTP uses, and the key length compared in tests.
pub const SRTP_LABEL: &str = "EXTRACTOR-dtls_srtp";
pub const KEY_LEN: usize = 56;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// One DTLS endpoint talking to one peer address. It starts its handshake at a chosen
/// virtual time, sends queued application data once connected, and records every event
/// with the virtual time (since the simulation start) it happened at.
pub struct DtlsNode {
    dtls: Dtls,
    local: SocketAddr,
    peer: SocketAddr,
    sim_start: Instant,
    start_at: Option<Instant>,
    to_send: VecDeque<Vec<u8>>,
    out: VecDeque<Transmit>,
    events: Vec<(Duration, DtlsEvent)>,
    /// Datagrams from an address other than the peer's (ignored).
    pub foreign: u64,
}

impl DtlsNode {
    /// A node owning `dtls` at `local`, talking to `peer`, starting the handshake at
    /// `start_at` (virtual time).
    pub fn new(
        dtls: Dtls,
        local: SocketAddr,
        peer: SocketAddr,
        sim_start: Instant,
        start_at: Instant,
    ) -> Self {
        Self {
            dtls,
            local,
            peer,
            sim_start,
            start_at: Some(start_at),
            to_send: VecDeque::new(),
            out: VecDeque::new(),
            events: Vec::new(),
            foreign: 0,
        }
    }

    /// Queues application data; it is sent as soon as the connection is up (now, if it is).
    pub fn send(&mut self, now: Instant, data: &[u8]) {
        self.to_send.push_back(data.to_vec());
        self.pump(now);
    }

    /// Closes the connection (sends close_notify if a handshake was under way or done).
    pub fn close(&mut self, now: Instant) {
        self.dtls.close();
        self.pump(now);
    }

    pub fn state(&self) -> DtlsState {
        self.dtls.state()
    }

    pub fn stats(&self) -> DtlsStats {
        self.dtls.stats()
    }

    /// Every event with its virtual time since the simulation start.
    pub fn events(&self) -> &[(Duration, DtlsEvent)] {
        &self.events
    }

    /// When the handshake completed, if it did.
    pub fn connected_at(&self) -> Option<Duration> {
        self.events
            .iter()
            .find(|(_, e)| matches!(e, DtlsEvent::Connected { .. }))
            .map(|(t, _)| *t)
    }

    /// Whether an event matching `f` was recorded.
    pub fn saw(&self, f: impl Fn(&DtlsEvent) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }

    /// Application data received, in order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                DtlsEvent::ApplicationData(b) => Some(b.to_vec()),
                _ => None,
            })
            .collect()
    }

    /// Keying material, if connected.
    pub fn keys(&self) -> Option<Vec<u8>> {
        self.dtls.export_keying_material(SRTP_LABEL, KEY_LEN).ok()
    }

    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.dtls.poll_event() {
            self.events.push((now - self.sim_start, event));
        }
        if self.dtls.state() == DtlsState::Connected {
            while let Some(data) = self.to_send.pop_front() {
                self.dtls
                    .send_application_data(&data)
                    .expect("connected and data within a record");
            }
        }
        while let Some(payload) = self.dtls.poll_transmit() {
            self.out.push_back(Transmit {
                source: self.local,
                destination: self.peer,
                payload,
            });
        }
    }
}

impl Node for DtlsNode {
    fn handle_receive(&mut self, now: Instant, source: SocketAddr, _to: SocketAddr, data: &[u8]) {
        if source != self.peer {
            self.foreign += 1;
            return;
        }
        self.dtls.handle_receive(now, data);
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.start_at.is_some_and(|t| t <= now) {
            self.start_at = None;
            self.dtls.start(now);
        }
        self.dtls.handle_timeout(now);
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match (self.start_at, self.dtls.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

pub fn certificate(seed: u64) -> DtlsCertificate {
    DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed())
        .expect("certificate generation")
}

/// Client and server configurations that authenticate each other.
pub fn configs(seed: u64) -> (DtlsConfig, DtlsConfig) {
    let cc = certificate(seed * 2 + 1);
    let sc = certificate(seed * 2 + 2);
    let mut client = DtlsConfig::new(DtlsRole::Client, cc.clone());
    let mut server = DtlsConfig::new(DtlsRole::Server, sc.clone());
    client.remote_fingerprint = Some(sc.fingerprint());
    server.remote_fingerprint = Some(cc.fingerprint());
    (client, server)
}

/// A client and a server on the simulated internet.
pub struct Scenario {
    pub sim: Sim,
    pub client: NodeId,
    pub server: NodeId,
}

impl Scenario {
    /// Both endpoints, the client's link (both directions) set to `client_link`, the
    /// server's to `server_link`; everything seeded from `seed`. Both start at time zero.
    pub fn new(
        seed: u64,
        (client, server): (DtlsConfig, DtlsConfig),
        client_link: LinkConfig,
        server_link: LinkConfig,
    ) -> Self {
        #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
        let start = Instant::now();
        let mut rng = Rng::from_u64(seed);
        let client_dtls = Dtls::new(client, rng.child()).expect("client config");
        let server_dtls = Dtls::new(server, rng.child()).expect("server config");
        let mut sim = Sim::new(start, rng.child());
        let net = sim.internet();
        let (c, s) = (addr(CLIENT_ADDR), addr(SERVER_ADDR));
        let client = sim
            .add_node(net, c.ip(), DtlsNode::new(client_dtls, c, s, start, start))
            .expect("client node");
        let server = sim
            .add_node(net, s.ip(), DtlsNode::new(server_dtls, s, c, start, start))
            .expect("server node");
        sim.set_node_link(client, Direction::Both, client_link)
            .expect("client link");
        sim.set_node_link(server, Direction::Both, server_link)
            .expect("server link");
        Self {
            sim,
            client,
            server,
        }
    }

    /// Default configurations for `seed`, `client_link` on the client, nothing on the server.
    pub fn with_link(seed: u64, client_link: LinkConfig) -> Self {
        Self::new(seed, configs(seed), client_link, LinkConfig::new())
    }

    pub fn client(&self) -> &DtlsNode {
        self.sim.node(self.client)
    }

    pub fn server(&self) -> &DtlsNode {
        self.sim.node(self.server)
    }

    /// Runs until both sides are connected, or either has failed or closed, for at most
    /// `timeout` of virtual time.
    pub fn run_handshake(&mut self, timeout: Duration) -> Result<u64, SimError> {
        let (c, s) = (self.client, self.server);
        self.sim.run_until_condition(
            move |sim| {
                let states = [
                    sim.node::<DtlsNode>(c).state(),
                    sim.node::<DtlsNode>(s).state(),
                ];
                states.iter().all(|st| *st == DtlsState::Connected)
                    || states
                        .iter()
                        .any(|st| matches!(st, DtlsState::Failed | DtlsState::Closed))
            },
            timeout,
        )
    }

    /// When the later of the two sides connected.
    pub fn completion(&self) -> Option<Duration> {
        Some(
            self.client()
                .connected_at()?
                .max(self.server().connected_at()?),
        )
    }

    /// Asserts both sides connected with equal exported keys.
    pub fn assert_connected(&self) {
        assert_eq!(self.client().state(), DtlsState::Connected, "client");
        assert_eq!(self.server().state(), DtlsState::Connected, "server");
        let (ck, sk) = (self.client().keys(), self.server().keys());
        assert!(ck.is_some(), "client has keying material");
        assert_eq!(ck, sk, "both sides export the same keying material");
    }
}

/// The first record of a datagram: content type, epoch, and the handshake type if it is an
/// epoch-0 handshake record.
pub fn first_record(payload: &[u8]) -> Option<(u8, u16, Option<u8>)> {
    let rec = Records::new(payload).next()?;
    let hs = (rec.content_type.0 == 22 && rec.epoch == 0)
        .then(|| rec.fragment.first().copied())
        .flatten();
    Some((rec.content_type.0, rec.epoch, hs))
}

/// Flips a byte in every record of `payload` matching `pick`, at the offset (from the
/// record start) `at` returns for it. Returns how many records were changed.
pub fn flip_in_records(
    payload: &mut [u8],
    pick: impl Fn(u8, u16, &[u8]) -> bool,
    at: impl Fn(&[u8]) -> usize,
) -> usize {
    let copy = payload.to_vec();
    let mut offset = 0;
    let mut changed = 0;
    for rec in Records::new(&copy) {
        if pick(rec.content_type.0, rec.epoch, rec.fragment) {
            let idx = offset + at(rec.fragment);
            if let Some(b) = payload.get_mut(idx) {
                *b ^= 0x01;
                changed += 1;
            }
        }
        offset += rec.raw.len();
    }
    changed
}

/// Whether any epoch-0 handshake record in `payload` carries a fragment of a message
/// (offset > 0 or fragment shorter than the message).
pub fn has_fragmented_handshake(payload: &[u8]) -> bool {
    Records::new(payload).any(|rec| {
        let f = rec.fragment;
        if rec.content_type.0 != 22 || rec.epoch != 0 || f.len() < 12 {
            return false;
        }
        let u24 = |i: usize| u32::from_be_bytes([0, f[i], f[i + 1], f[i + 2]]);
        let (length, offset, frag_len) = (u24(1), u24(6), u24(9));
        offset > 0 || frag_len < length
    })
}
