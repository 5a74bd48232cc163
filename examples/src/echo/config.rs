//! The echo server's session policy: limits, timeouts and the ICE mode, with the defaults a
//! server on the open internet should start from.

use super::table::TableLimits;
use std::time::Duration;

/// Sessions alive at once, in total (`--max-sessions`).
pub const DEFAULT_MAX_SESSIONS: usize = 256;
/// Sessions alive at once for one client IP address (`--max-sessions-per-client`).
pub const DEFAULT_MAX_SESSIONS_PER_CLIENT: usize = 16;
/// How long a session may wait for its first ICE check (`--unchecked-timeout`).
pub const DEFAULT_UNCHECKED_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a session may take from creation to `connected` (`--connect-timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a backend admits and ends sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoConfig {
    /// Session limits, in total and per client address.
    pub limits: TableLimits,
    /// A session that has not received one ICE connectivity check this long after it was
    /// created is closed: a client that never connects (an abandoned or hostile offer)
    /// holds its slot this long, not [`connect_timeout`](Self::connect_timeout).
    pub unchecked_timeout: Duration,
    /// A session not `connected` this long after it was created is closed.
    pub connect_timeout: Duration,
    /// Run ICE as a lite agent (RFC 8445 section 2.5): the server answers the client's
    /// checks and sends none itself, so an offer cannot make it send STUN to addresses the
    /// client merely names. Right for a server with a reachable address; turn off only when
    /// the server is behind a NAT and must run full ICE.
    pub ice_lite: bool,
    /// The UDP port every session is served on, on the listen address (the one port a
    /// firewall opens for the server); 0 lets the OS pick one.
    pub udp_port: u16,
    /// Shards serving the sessions, each with a socket of its own on the one UDP port
    /// (`--shards`): the async runtimes' endpoint driver tasks, or the mio backend's loop
    /// threads; 0: one per core.
    pub shards: usize,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            limits: TableLimits {
                total: DEFAULT_MAX_SESSIONS,
                per_client: DEFAULT_MAX_SESSIONS_PER_CLIENT,
            },
            unchecked_timeout: DEFAULT_UNCHECKED_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            ice_lite: true,
            udp_port: 0,
            shards: 0,
        }
    }
}

impl EchoConfig {
    /// The defaults with a total session limit of `total` (and the per-client limit no
    /// higher than that).
    pub fn with_max_sessions(total: usize) -> Self {
        let mut config = Self::default();
        config.limits.total = total;
        config.limits.per_client = config.limits.per_client.min(total);
        config
    }
}
