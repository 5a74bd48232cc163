//! Configuration of an [`IceAgent`](super::IceAgent).

use super::IceError;
use super::events::IceRole;
use std::net::SocketAddr;
use std::time::Duration;

/// A STUN server used to gather server-reflexive candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StunServer {
    /// A server at a known address.
    Addr(SocketAddr),
    /// A server known by name. The agent emits
    /// [`IceEvent::ResolveName`](super::IceEvent::ResolveName) and waits for
    /// [`IceAgent::handle_resolved`](super::IceAgent::handle_resolved).
    Name {
        /// Host name.
        host: String,
        /// UDP port (3478 by default for STUN).
        port: u16,
    },
}

/// A TURN server (RFC 8656) to allocate relayed candidates on, over UDP, TCP or TLS,
/// with long-term credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayServer {
    /// Where the server is (port 3478 by default for `turn:`, 5349 for `turns:`).
    pub server: StunServer,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// How the server is reached (UDP, TCP or TLS).
    pub transport: crate::turn::TurnTransport,
    /// The URL's host: the TLS server name for [`TurnTransport::Tls`](crate::turn::TurnTransport::Tls).
    pub server_name: String,
    /// Extra trusted roots (PEM) for the TLS certificate check, besides the default ones.
    pub extra_roots_pem: std::sync::Arc<[String]>,
}

impl RelayServer {
    /// A server reached over UDP.
    pub fn udp(server: StunServer, username: &str, password: &str) -> Self {
        let server_name = match &server {
            StunServer::Addr(a) => a.ip().to_string(),
            StunServer::Name { host, .. } => host.clone(),
        };
        RelayServer {
            server,
            username: username.to_string(),
            password: password.to_string(),
            transport: crate::turn::TurnTransport::Udp,
            server_name,
            extra_roots_pem: std::sync::Arc::from(Vec::new()),
        }
    }
}

impl std::fmt::Debug for RelayServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayServer")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// The agent's clocks. Defaults follow RFC 8445, RFC 7675 and browser practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceTiming {
    /// Ta: the pacing of new connectivity checks (RFC 8445 section 14.2). Default 50 ms.
    pub ta: Duration,
    /// First retransmission timeout of a check or gathering request. Default 250 ms.
    pub initial_rto: Duration,
    /// The retransmission timeout doubles after each retransmission up to this. Default 3 s.
    pub max_rto: Duration,
    /// Retransmissions after the first transmission before a transaction fails.
    /// Default 6 (seven transmissions, the RFC 8489 Rc of 7; about 12 s with the defaults).
    pub max_retransmits: u32,
    /// Mean interval between consent checks (RFC 7675: 5 s, randomised by ±20 %).
    pub consent_interval: Duration,
    /// Consent is lost this long after the last authenticated response (RFC 7675: 30 s).
    pub consent_timeout: Duration,
    /// The selected pair counts as disconnected this long after the last authenticated
    /// response. Default 8 s: consent checks leave at most 6 s apart and each is
    /// retransmitted for about 1.75 s (250 + 500 + 1000 ms), so 8 s without a response
    /// means a whole consent check with all its retransmissions went unanswered. A
    /// single lost datagram never trips it; a dead path is reported within ~8 s.
    pub disconnected_timeout: Duration,
    /// A binding indication is sent on the selected pair when the agent sent nothing on it
    /// for this long (RFC 8445 section 11: 15 s).
    pub keepalive_interval: Duration,
    /// The controlling agent nominates the best valid pair at the latest this long after
    /// the first pair became valid, even if better pairs are still being checked.
    /// Default 500 ms.
    pub nomination_delay: Duration,
    /// If no pair is selected this long after checking started, the agent fails.
    /// Default 30 s.
    pub checking_timeout: Duration,
}

impl Default for IceTiming {
    fn default() -> Self {
        IceTiming {
            ta: Duration::from_millis(50),
            initial_rto: Duration::from_millis(250),
            max_rto: Duration::from_secs(3),
            max_retransmits: 6,
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            disconnected_timeout: Duration::from_secs(8),
            keepalive_interval: Duration::from_secs(15),
            nomination_delay: Duration::from_millis(500),
            checking_timeout: Duration::from_secs(30),
        }
    }
}

/// The longest any timing may be (so that deadline arithmetic cannot overflow).
const MAX_TIMING: Duration = Duration::from_secs(24 * 3600);

/// Everything an [`IceAgent`](super::IceAgent) is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceConfig {
    /// The role at start (JSEP: the offerer is controlling). A lite agent is always
    /// controlled, whatever this says.
    pub role: IceRole,
    /// Run as an ICE lite agent (RFC 8445 section 2.5): host candidates only, no checks
    /// sent, answers checks and uses the pair the peer nominates.
    pub lite: bool,
    /// STUN servers for server-reflexive candidates (ignored when `lite`).
    pub stun_servers: Vec<StunServer>,
    /// TURN servers for relayed candidates (ignored when `lite`).
    pub relay_servers: Vec<RelayServer>,
    /// `iceTransportPolicy: "relay"`: only relayed local candidates are announced,
    /// paired and answered on; host and server-reflexive ones never reach the wire.
    pub relay_only: bool,
    /// Timers.
    pub timing: IceTiming,
    /// Upper bound on remote candidates (signalled plus peer-reflexive). Default 64.
    pub max_remote_candidates: usize,
    /// Upper bound on candidate pairs (RFC 8445 section 6.1.2.5 suggests 100). Default 100.
    pub max_pairs: usize,
    /// Upper bound on local sockets. Default 16.
    pub max_local_sockets: usize,
}

impl Default for IceConfig {
    fn default() -> Self {
        IceConfig {
            role: IceRole::Controlling,
            lite: false,
            stun_servers: Vec::new(),
            relay_servers: Vec::new(),
            relay_only: false,
            timing: IceTiming::default(),
            max_remote_candidates: 64,
            max_pairs: 100,
            max_local_sockets: 16,
        }
    }
}

impl IceConfig {
    /// Checks that the values make sense: positive intervals, RTO bounds in order, the
    /// consent timeout above the consent interval and the disconnected timeout, every
    /// timing at most one day, positive bounds.
    pub fn validate(&self) -> Result<(), IceError> {
        let t = &self.timing;
        let bad = |what: &str| Err(IceError::InvalidConfig(what.to_string()));
        if t.ta.is_zero() {
            return bad("timing.ta must be positive");
        }
        if t.initial_rto.is_zero() || t.max_rto < t.initial_rto {
            return bad("timing.initial_rto must be positive and at most timing.max_rto");
        }
        if t.consent_interval.is_zero() || t.consent_timeout <= t.consent_interval {
            return bad("timing.consent_timeout must exceed a positive consent_interval");
        }
        if t.disconnected_timeout > t.consent_timeout {
            return bad("timing.disconnected_timeout must not exceed consent_timeout");
        }
        let longest = [
            t.ta,
            t.max_rto,
            t.consent_interval,
            t.consent_timeout,
            t.disconnected_timeout,
            t.keepalive_interval,
            t.nomination_delay,
            t.checking_timeout,
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        if longest > MAX_TIMING {
            return bad("timings must not exceed one day");
        }
        if t.keepalive_interval.is_zero() {
            return bad("timing.keepalive_interval must be positive");
        }
        if self.max_pairs == 0 || self.max_remote_candidates == 0 || self.max_local_sockets == 0 {
            return bad("bounds must be positive");
        }
        Ok(())
    }
}
