//! `endpoint`: many [`PeerConnection`]s behind shared sockets — the server case.
//!
//! An [`Endpoint`] owns its connections and routes each received datagram to one of them:
//! first by its 5-tuple (our socket, the peer's address), learned from every datagram a
//! connection sends (ICE checks and the selected pair); for an unknown 5-tuple, by the
//! local-ufrag part of a STUN USERNAME (RFC 8445 section 7.2.2: `local:remote` from the
//! receiver's view). Everything else is dropped and counted. One
//! [`poll_output`](Endpoint::poll_output) serves all connections, tagging each output with its
//! [`ConnectionHandle`]. Each connection's seed is drawn from the endpoint's rng, so one
//! endpoint seed fixes every byte.
//!
//! Not implemented: removing routes of a connection other than by removing the connection,
//! fairness beyond round-robin polling.

mod router;
mod schedule;

pub use router::{MAX_ROUTES_PER_CONNECTION, Router};
use schedule::Schedule;

use crate::peer_connection::{
    Event, Input, Output, PeerConnection, PeerConnectionState, RtcConfiguration,
};
use crate::rng::{Rng, Seed};
use crate::transmit::Transmit;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Identifies one connection of an [`Endpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionHandle(pub u32);

/// What [`Endpoint::poll_output`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointOutput {
    /// Send this datagram (for connection `0`).
    Transmit(ConnectionHandle, Transmit),
    /// An event of connection `0`.
    Event(ConnectionHandle, Event),
    /// Every connection is drained until this instant; `None` before any input (nothing
    /// is scheduled: wait for one).
    Timeout(Option<Instant>),
}

/// Counters of the routing layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointStats {
    /// Datagrams routed to a connection.
    pub routed: u64,
    /// Dropped: no route and no usable STUN USERNAME.
    pub dropped_unroutable: u64,
    /// Routes currently known.
    pub routes: usize,
}

/// Many peer connections sharing sockets, sans-IO. Inputs take `now`; drain
/// [`poll_output`](Self::poll_output) until `Timeout` after each.
///
/// ```
/// use rtcpeer::peer_connection::RtcConfiguration;
/// use rtcpeer::{Endpoint, EndpointOutput, Seed};
///
/// # fn main() -> Result<(), rtcpeer::Error> {
/// let now = std::time::Instant::now();
/// // A replayable seed for this example; a server takes 32 bytes from the OS.
/// let mut server = Endpoint::new(Seed::from_u64(7));
/// server.add_local_socket(now, "192.0.2.1:3478".parse().unwrap())?;
/// let h = server.add_peer_connection(RtcConfiguration::default(), now)?;
/// let pc = server.peer_connection(h).expect("just added");
/// pc.create_data_channel("chat", Default::default())?;
/// let offer = pc.create_offer()?;
/// pc.set_local_description(offer)?;
/// // Drain: every output names its connection.
/// while let EndpointOutput::Transmit(..) | EndpointOutput::Event(..) = server.poll_output() {}
/// let second = server.add_peer_connection(RtcConfiguration::default(), now)?;
/// assert_ne!(h, second);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Endpoint {
    rng: Rng,
    now: Option<Instant>,
    sockets: Vec<SocketAddr>,
    /// Boxed: a `PeerConnection` is several KiB, and a B-tree node holds eleven values
    /// inline, mostly spare, moved by value on every split.
    conns: BTreeMap<ConnectionHandle, Box<PeerConnection>>,
    router: Router,
    next: u32,
    /// Which connections may have output, and every connection's next timeout.
    schedule: Schedule,
    stats: EndpointStats,
}

impl Endpoint {
    /// An endpoint whose connections' seeds all come from `seed`: give it 32 bytes from
    /// the OS random source ([`Seed::from_bytes`]), or [`Seed::from_u64`] to replay a test
    /// (then every key is predictable; see [`Seed`]).
    pub fn new(seed: Seed) -> Self {
        Self {
            rng: seed.rng(),
            now: None,
            sockets: Vec::new(),
            conns: BTreeMap::new(),
            router: Router::new(),
            next: 0,
            schedule: Schedule::default(),
            stats: EndpointStats::default(),
        }
    }

    /// Reports a shared socket: every connection (present and future) gathers it.
    pub fn add_local_socket(&mut self, now: Instant, addr: SocketAddr) -> Result<(), crate::Error> {
        self.now = Some(now);
        if !self.sockets.contains(&addr) {
            self.sockets.push(addr);
        }
        for (h, pc) in self.conns.iter_mut() {
            pc.add_local_socket(now, addr)?;
            self.schedule.mark(*h);
        }
        Ok(())
    }

    /// Adds a connection built from `config` with 32 bytes of seed drawn from the
    /// endpoint's rng (the config's own seed is replaced), so no two connections of an
    /// endpoint share keys.
    pub fn add_peer_connection(
        &mut self,
        mut config: RtcConfiguration,
        now: Instant,
    ) -> Result<ConnectionHandle, crate::Error> {
        self.now = Some(now);
        config.seed = Some(Seed::from_bytes(self.rng.array()));
        let mut pc = PeerConnection::new(config, now)?;
        for s in &self.sockets {
            pc.add_local_socket(now, *s)?;
        }
        let h = ConnectionHandle(self.next);
        self.next += 1;
        self.router.set_ufrag(h, pc.local_ufrag());
        self.conns.insert(h, Box::new(pc));
        self.schedule.mark(h);
        Ok(h)
    }

    /// The connection `h`, to command it (JSEP, data channels); drain afterwards (the
    /// connection is polled by the next [`poll_output`](Self::poll_output)).
    pub fn peer_connection(&mut self, h: ConnectionHandle) -> Option<&mut PeerConnection> {
        let pc = self.conns.get_mut(&h)?;
        self.schedule.mark(h);
        Some(pc.as_mut())
    }

    /// Handles of every connection.
    pub fn handles(&self) -> Vec<ConnectionHandle> {
        self.conns.keys().copied().collect()
    }

    /// Removes a closed or failed connection and its routes; returns whether it was removed.
    pub fn remove_if_done(&mut self, h: ConnectionHandle) -> bool {
        let done = self.conns.get(&h).is_some_and(|pc| {
            matches!(
                pc.connection_state(),
                PeerConnectionState::Closed | PeerConnectionState::Failed
            )
        });
        if done {
            self.conns.remove(&h);
            self.router.remove(h);
            self.schedule.forget(h);
        }
        done
    }

    /// Counters.
    pub fn stats(&self) -> EndpointStats {
        EndpointStats {
            routes: self.router.address_routes(),
            ..self.stats.clone()
        }
    }

    /// A datagram arrived on our socket `destination` from `source`.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        self.now = Some(now);
        let routed = self.route(source, destination, payload);
        if routed.is_none() && source.port() == crate::mdns::MDNS_PORT {
            self.handle_mdns(now, source, destination, payload);
            return;
        }
        let Some(h) = routed else {
            tracing::debug!(%source, %destination, "endpoint: unroutable datagram dropped");
            self.stats.dropped_unroutable += 1;
            return;
        };
        self.stats.routed += 1;
        let pc = self
            .conns
            .get_mut(&h)
            .expect("routes point at live connections");
        self.schedule.mark(h);
        pc.handle_input(
            now,
            Input::Receive {
                source,
                destination,
                payload,
            },
        );
    }

    /// A datagram from port 5353 that no 5-tuple routes (an mDNS answer, multicast to the
    /// group or unicast to a query's source): every connection resolving a `.local` name
    /// gets it (each takes the answers for its own names); with none, it is unroutable.
    fn handle_mdns(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        let mut delivered = false;
        for (h, pc) in &mut self.conns {
            if !pc.is_resolving_mdns() {
                continue;
            }
            delivered = true;
            self.schedule.mark(*h);
            pc.handle_input(
                now,
                Input::Receive {
                    source,
                    destination,
                    payload,
                },
            );
        }
        if delivered {
            self.stats.routed += 1;
        } else {
            tracing::debug!(%source, "endpoint: mDNS datagram for no pending name dropped");
            self.stats.dropped_unroutable += 1;
        }
    }

    fn route(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) -> Option<ConnectionHandle> {
        self.router.route(source, destination, payload)
    }

    /// Fires the timeouts due at `now` (early calls are harmless: nothing is due).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        while let Some(h) = self.schedule.pop_due(now) {
            if let Some(pc) = self.conns.get_mut(&h) {
                pc.handle_timeout(now);
                self.schedule.mark(h);
            }
        }
    }

    /// The next output of the connections that had an input, a command or a timeout since
    /// they were last drained; `Timeout` (the earliest of every connection's) once all are
    /// drained. Connections with nothing to do are not polled, so a drain costs what the
    /// active connections produce, not the number of connections.
    pub fn poll_output(&mut self) -> EndpointOutput {
        while let Some(h) = self.schedule.next_ready() {
            let Some(pc) = self.conns.get_mut(&h) else {
                self.schedule.drained(h, None);
                continue;
            };
            match pc.poll_output() {
                Output::Transmit(t) => {
                    self.router.learn(h, t.source, t.destination);
                    self.refresh_ufrag(h);
                    return EndpointOutput::Transmit(h, t);
                }
                Output::Event(e) => {
                    self.refresh_ufrag(h);
                    return EndpointOutput::Event(h, e);
                }
                Output::Timeout(at) => self.schedule.drained(h, Some(at)),
            }
        }
        EndpointOutput::Timeout(
            self.schedule
                .earliest()
                .or(self.now.map(|n| n + Duration::from_secs(3600))),
        )
    }
}

impl Endpoint {
    /// Keeps the ufrag index current: an ICE restart changes a connection's ufrag, and a
    /// restarted connection always has output (its new checks).
    fn refresh_ufrag(&mut self, h: ConnectionHandle) {
        if let Some(pc) = self.conns.get(&h) {
            self.router.set_ufrag(h, pc.local_ufrag());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity;
    use crate::dtls::{CertificateValidity, DtlsCertificate};

    fn endpoint_with(connections: usize) -> (Endpoint, Vec<ConnectionHandle>) {
        let now = crate::time::test_epoch();
        let cert = DtlsCertificate::generate(
            &mut Seed::from_bytes([7; 32]).rng(),
            CertificateValidity::fixed(),
        )
        .expect("certificate");
        let mut ep = Endpoint::new(Seed::from_bytes([1; 32]));
        ep.add_local_socket(now, SocketAddr::from(([10, 0, 0, 1], 5000)))
            .expect("socket");
        let handles = (0..connections)
            .map(|_| {
                let config = RtcConfiguration {
                    certificate: Some(cert.clone()),
                    ..RtcConfiguration::with_seed(0)
                };
                ep.add_peer_connection(config, now).expect("connection")
            })
            .collect();
        drain(&mut ep);
        (ep, handles)
    }

    fn drain(ep: &mut Endpoint) {
        while !matches!(ep.poll_output(), EndpointOutput::Timeout(_)) {}
    }

    fn close_and_remove(ep: &mut Endpoint, h: ConnectionHandle) {
        ep.peer_connection(h).expect("connection").close();
        drain(ep);
        assert!(ep.remove_if_done(h));
    }

    #[test]
    fn connections_removed_at_once_leave_no_timeout_behind() {
        let (mut ep, handles) = endpoint_with(300);
        assert_eq!(ep.schedule.timeout_entries(), 300);
        for h in &handles {
            ep.peer_connection(*h).expect("connection").close();
        }
        drain(&mut ep);
        for h in handles {
            assert!(ep.remove_if_done(h));
        }
        drain(&mut ep);
        assert_eq!(ep.schedule.timeout_entries(), 0);
        assert!(ep.schedule.timeout_capacity() < capacity::MIN_SHRINK_CAPACITY);
    }

    #[test]
    fn connections_removed_one_drain_at_a_time_give_back_the_heap() {
        // A server drains between two removals: the endpoint's next-timeout query then
        // drops the ended connections' entries itself, and must give back the space.
        let (mut ep, handles) = endpoint_with(300);
        for h in handles {
            close_and_remove(&mut ep, h);
            drain(&mut ep);
        }
        assert_eq!(ep.schedule.timeout_entries(), 0);
        assert!(ep.schedule.timeout_capacity() < capacity::MIN_SHRINK_CAPACITY);
    }
}
