//! A simulator host stacking data channels on DTLS over UDP (RFC 8261: every SCTP packet is
//! one DTLS application data record), and a two-host scenario around it.
//!
//! The DTLS client is the data channel client (even stream ids), the server the odd side.

use rtcpeer::datachannel::{DataChannelConfig, DataChannelEvent, DataChannels, DtlsRole as DcRole};
use rtcpeer::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, DtlsRole, DtlsState,
};
use rtcpeer::sctp::AssociationState;
use rtcpeer::sim::{Direction, LinkConfig, Node, NodeId, Sim, SimConfig};
use rtcpeer::{Rng, Transmit};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where the DTLS client lives.
pub const CLIENT_ADDR: &str = "198.51.100.1:5000";
/// Where the DTLS server lives.
pub const SERVER_ADDR: &str = "198.51.100.2:5000";

/// One peer: a `Dtls` endpoint carrying a `DataChannels` association.
pub struct DcNode {
    pub dtls: Dtls,
    pub dc: DataChannels,
    local: SocketAddr,
    peer: SocketAddr,
    now: Instant,
    start_pending: bool,
    sctp_started: bool,
    out: VecDeque<Transmit>,
    /// Every data channel event, in order.
    pub events: Vec<DataChannelEvent>,
    /// SCTP packets the DTLS layer refused (never expected once connected).
    pub seal_errors: u64,
}

impl DcNode {
    fn new(
        dtls: Dtls,
        dc: DataChannels,
        local: SocketAddr,
        peer: SocketAddr,
        now: Instant,
    ) -> Self {
        Self {
            dtls,
            dc,
            local,
            peer,
            now,
            start_pending: true,
            sctp_started: false,
            out: VecDeque::new(),
            events: Vec::new(),
            seal_errors: 0,
        }
    }

    /// Whether the SCTP association is established.
    pub fn established(&self) -> bool {
        self.dc.association().state() == AssociationState::Established
    }

    /// Messages received on channel `id`, in arrival order.
    pub fn messages(&self, id: u16) -> Vec<&[u8]> {
        self.events
            .iter()
            .filter_map(|e| match e {
                DataChannelEvent::Message { id: i, data, .. } if *i == id => Some(&data[..]),
                _ => None,
            })
            .collect()
    }

    /// Whether an event equal to `e` was seen.
    pub fn saw(&self, e: &DataChannelEvent) -> bool {
        self.events.iter().any(|x| x == e)
    }

    /// Moves everything that is ready: DTLS events into SCTP, SCTP packets into DTLS
    /// records, records into datagrams. Call after any API call on `dc`.
    pub fn pump(&mut self) {
        let now = self.now;
        while let Some(event) = self.dtls.poll_event() {
            match event {
                DtlsEvent::ApplicationData(b) => self.dc.handle_receive(now, b),
                DtlsEvent::Connected { .. } => self.start_sctp(),
                _ => {}
            }
        }
        while let Some(e) = self.dc.poll_event() {
            self.events.push(e);
        }
        if self.dtls.state() == DtlsState::Connected {
            while let Some(packet) = self.dc.poll_transmit(now) {
                if self.dtls.send_application_data(&packet).is_err() {
                    self.seal_errors += 1;
                }
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

    fn start_sctp(&mut self) {
        if !self.sctp_started {
            self.sctp_started = true;
            self.dc.connect(self.now).expect("fresh association");
        }
    }
}

impl Node for DcNode {
    fn handle_receive(&mut self, now: Instant, source: SocketAddr, _: SocketAddr, data: &[u8]) {
        self.now = now;
        if source == self.peer {
            self.dtls.handle_receive(now, data);
        }
        self.pump();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if std::mem::take(&mut self.start_pending) {
            self.dtls.start(now);
        }
        self.dtls.handle_timeout(now);
        if self.sctp_started {
            self.dc.handle_timeout(now);
        }
        self.pump();
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.start_pending {
            return Some(self.now);
        }
        let dc = self.sctp_started.then(|| self.dc.poll_timeout()).flatten();
        match (self.dtls.poll_timeout(), dc) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn certificate(seed: u64) -> DtlsCertificate {
    DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed())
        .expect("certificate generation")
}

/// A DTLS client and server on the simulated internet, each running data channels.
pub struct Pair {
    pub sim: Sim,
    /// The DTLS client (even stream ids).
    pub client: NodeId,
    /// The DTLS server (odd stream ids).
    pub server: NodeId,
}

impl Pair {
    /// Both peers, `link` on the client's link in both directions (so every datagram
    /// crosses it once), everything seeded from `seed`; runs until the association is up.
    /// The capture keeps at most 100,000 datagrams.
    pub fn connect(seed: u64, link: LinkConfig) -> Self {
        Self::connect_with(seed, link, SimConfig::new().capture_limit(100_000))
    }

    /// [`Pair::connect`] with a chosen simulator configuration.
    pub fn connect_with(seed: u64, link: LinkConfig, config: SimConfig) -> Self {
        #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
        let start = Instant::now();
        let mut rng = Rng::from_u64(seed);
        let (cc, sc) = (certificate(seed * 2 + 1), certificate(seed * 2 + 2));
        let mut ccfg = DtlsConfig::new(DtlsRole::Client, cc.clone());
        let mut scfg = DtlsConfig::new(DtlsRole::Server, sc.clone());
        ccfg.remote_fingerprint = Some(sc.fingerprint());
        scfg.remote_fingerprint = Some(cc.fingerprint());
        let (c, s) = (addr(CLIENT_ADDR), addr(SERVER_ADDR));
        let mut make = |cfg: DtlsConfig, local, peer| {
            // The data channel role follows the DTLS role (RFC 8832 section 6).
            let role = match cfg.role {
                DtlsRole::Client => DcRole::Client,
                DtlsRole::Server => DcRole::Server,
            };
            let dtls = Dtls::new(cfg, rng.child()).expect("dtls config");
            let dc = DataChannels::new(DataChannelConfig::new(role), rng.child(), start);
            DcNode::new(dtls, dc, local, peer, start)
        };
        let client_node = make(ccfg, c, s);
        let server_node = make(scfg, s, c);
        let mut sim = Sim::with_config(start, rng.child(), config);
        let net = sim.internet();
        let client = sim.add_node(net, c.ip(), client_node).expect("client");
        let server = sim.add_node(net, s.ip(), server_node).expect("server");
        sim.set_node_link(client, Direction::Both, link)
            .expect("client link");
        let mut pair = Self {
            sim,
            client,
            server,
        };
        pair.run_until(Duration::from_secs(60), |p| {
            p.client().established() && p.server().established()
        });
        pair
    }

    pub fn client(&self) -> &DcNode {
        self.sim.node(self.client)
    }

    pub fn server(&self) -> &DcNode {
        self.sim.node(self.server)
    }

    pub fn node(&self, id: NodeId) -> &DcNode {
        self.sim.node(id)
    }

    /// Runs `f` on a node's data channels, then pumps the node so its output leaves.
    pub fn with<R>(&mut self, id: NodeId, f: impl FnOnce(&mut DataChannels) -> R) -> R {
        let now = self.sim.now();
        let node = self.sim.node_mut::<DcNode>(id);
        node.now = now;
        let r = f(&mut node.dc);
        node.pump();
        r
    }

    /// Runs until `done` holds, panicking after `timeout` of virtual time.
    pub fn run_until(&mut self, timeout: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = self.sim.now() + timeout;
        while !done(self) {
            assert!(self.sim.now() < deadline, "timed out after {timeout:?}");
            self.sim
                .run_for(Duration::from_millis(10))
                .expect("simulation step");
        }
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// `n` messages of random sizes in `0..=max` with random contents.
pub fn messages(seed: u64, n: usize, max: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::from_u64(seed);
    (0..n)
        .map(|_| {
            let mut v = vec![0u8; rng.below(max as u64 + 1) as usize];
            rng.fill(&mut v);
            v
        })
        .collect()
}
