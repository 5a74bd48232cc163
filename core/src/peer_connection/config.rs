//! [`RtcConfiguration`]: what a [`PeerConnection`](super::PeerConnection) is built from
//! (the browser's `RTCConfiguration`, plus the sans-IO extras: seed, timings, limits).

use super::PeerConnectionError;
use crate::dtls::DtlsCertificate;
use crate::ice::{IceTiming, RelayServer, StunServer};
use crate::media::codec::MediaCodecs;
use crate::rng::Seed;
use crate::time::WallClock;
use std::sync::Arc;
use std::time::Duration;

/// One entry of `iceServers`: STUN or TURN URLs with optional credentials.
///
/// STUN URLs feed server-reflexive gathering; TURN URLs relayed candidates:
/// `turn:host[:port]` (UDP, port 3478), `turn:host[:port]?transport=tcp` (TCP, port 3478)
/// and `turns:host[:port]` (TLS over TCP, port 5349; the certificate is checked for `host`
/// against the default roots and [`RtcConfiguration::turn_tls_roots_pem`]). The TCP and
/// TLS connections are opened by the driver ([`Event::TurnConnect`](super::Event::TurnConnect));
/// the async adapters do it. The relayed leg from the server to the peer is UDP in every
/// case. `turns:...?transport=udp` (DTLS) is refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    /// `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:host[:port]`.
    pub urls: Vec<String>,
    /// TURN user name.
    pub username: Option<String>,
    /// TURN password.
    pub credential: Option<String>,
}

/// A parsed ICE server URL (RFC 7064, RFC 7065).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServerUrl {
    /// `stun`, `stuns`, `turn` or `turns`.
    pub scheme: String,
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// Port (3478 for stun/turn, 5349 for stuns/turns unless given).
    pub port: u16,
    /// `?transport=` for TURN URLs.
    pub transport: Option<String>,
}

impl IceServerUrl {
    /// Parses one URL; errors name the URL.
    pub fn parse(url: &str) -> Result<Self, PeerConnectionError> {
        let bad = || PeerConnectionError::InvalidConfig(format!("invalid ICE server URL {url:?}"));
        let (scheme, rest) = url.split_once(':').ok_or_else(bad)?;
        let default_port = match scheme {
            "stun" | "turn" => 3478,
            "stuns" | "turns" => 5349,
            _ => return Err(bad()),
        };
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let transport = match query {
            None => None,
            Some(q) if scheme.starts_with("turn") => {
                Some(q.strip_prefix("transport=").ok_or_else(bad)?.to_string())
            }
            Some(_) => return Err(bad()),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(bad)?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            scheme: scheme.to_string(),
            host: host.to_string(),
            port: port.unwrap_or(default_port),
            transport,
        })
    }

    /// Whether this is a STUN URL (`stun:`; `stuns:` needs TLS and is not used).
    pub fn is_stun(&self) -> bool {
        self.scheme == "stun"
    }

    /// For a TURN URL, how the server is reached: `turn:` over UDP unless
    /// `?transport=tcp`, `turns:` over TLS. `None` for STUN URLs and for transports we do
    /// not speak (`turns:...?transport=udp`, DTLS).
    pub fn turn_transport(&self) -> Option<crate::turn::TurnTransport> {
        use crate::turn::TurnTransport;
        match (self.scheme.as_str(), self.transport.as_deref()) {
            ("turn", None | Some("udp")) => Some(TurnTransport::Udp),
            ("turn", Some("tcp")) => Some(TurnTransport::Tcp),
            ("turns", None | Some("tcp")) => Some(TurnTransport::Tls),
            _ => None,
        }
    }
}

fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host, port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h, Some(p.parse().ok()?))),
        _ => Some((s, None)),
    }
}

/// `RTCIceTransportPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceTransportPolicy {
    /// Use every candidate.
    #[default]
    All,
    /// Use relayed candidates only (TURN allocations; host and server-reflexive
    /// candidates are neither signalled nor checked).
    Relay,
}

/// `RTCBundlePolicy`. Every policy is served as max-bundle: one transport for all
/// m-lines, which is what the data-channel-only and the server case want.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BundlePolicy {
    /// Browser default; treated as max-bundle.
    #[default]
    Balanced,
    /// One transport per media type; treated as max-bundle.
    MaxCompat,
    /// One transport for everything.
    MaxBundle,
}

/// The least check pacing (Ta) RFC 8445 section 14.2 allows: 5 ms.
pub const MIN_ICE_PACING: Duration = Duration::from_millis(5);

/// The Ta assumed for a peer whose description carries no `a=ice-pacing` (RFC 8445 section
/// 14.2's default): 50 ms.
pub const DEFAULT_ICE_PACING: Duration = Duration::from_millis(50);

/// Everything a [`PeerConnection`](super::PeerConnection) is built from.
#[derive(Debug, Clone)]
pub struct RtcConfiguration {
    /// STUN/TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Which candidates to use.
    pub ice_transport_policy: IceTransportPolicy,
    /// Bundle policy (always max-bundle in effect).
    pub bundle_policy: BundlePolicy,
    /// Our certificate; generated from the seeded rng when `None`.
    pub certificate: Option<DtlsCertificate>,
    /// The seed of every random draw of this connection: ICE credentials, the generated
    /// certificate, DTLS randoms and ECDHE keys, SCTP tags, SSRCs. Required: `None` (the
    /// default) makes [`PeerConnection::new`](super::PeerConnection::new) fail with
    /// [`PeerConnectionError::MissingSeed`], so that no connection gets keys another
    /// connection shares by accident. The runtime adapters and the `rtcpeer-mio` endpoint
    /// fill a `None` with 32 bytes from the OS random source; an [`Endpoint`](crate::Endpoint)
    /// gives each of its connections 32 bytes drawn from its own seed. Set it yourself only
    /// to replay a run (tests, simulations), or with 32 bytes from a secure source.
    pub seed: Option<Seed>,
    /// ICE timers. `ice_timing.ta` is the check pacing we propose in `a=ice-pacing`
    /// (default 5 ms, the least RFC 8445 allows); the pacing used is the larger of ours and
    /// the peer's, a peer that proposes none (browsers) counting as 50 ms (RFC 8445 section
    /// 14.2, RFC 8839 section 5.5). See [`MIN_ICE_PACING`].
    pub ice_timing: IceTiming,
    /// Run ICE as a lite agent (servers with public addresses).
    pub ice_lite: bool,
    /// Our `a=max-message-size` (bytes). Default 262144.
    pub max_message_size: usize,
    /// First DTLS retransmission timeout. Default 1 s.
    pub dtls_initial_retransmit: Duration,
    /// DTLS retransmissions before the handshake fails. Default 6.
    pub dtls_max_retransmissions: u32,
    /// How many remote data channels may exist at once. Default 1024.
    pub max_channels: usize,
    /// The audio and video codecs and header extensions we offer and accept, in preference
    /// order. Default: what Chromium offers (Opus, G.722, PCMU, PCMA; VP8, VP9, H.264, AV1
    /// with RTX). An empty list for a kind rejects every m-line of that kind.
    pub codecs: MediaCodecs,
    /// Wall-clock time for RTCP sender reports (NTP timestamps). The adapters give the
    /// system clock; `None` uses a fixed anchor (the connection's creation is
    /// 2023-11-14T22:13:20Z), which keeps simulations replayable.
    pub wall_clock: Option<Arc<dyn WallClock>>,
    /// Resolve remote candidates whose address is an mDNS `.local` name (as browsers send
    /// without camera permission) by multicast queries. Default `true`. The connection
    /// only emits the queries as transmits to 224.0.0.251:5353 (or `[ff02::fb]:5353`) from
    /// one of its sockets. A responder following RFC 6762 section 6.7 unicasts the answer
    /// to that socket; many (Chrome's) multicast it to the group, where only a socket bound
    /// to port 5353 that joined the group receives it. The adapters (tokio, smol, mio,
    /// `AsyncEndpoint`) open such a socket on the connection's first query and feed it to
    /// `handle_input`; a sans-IO application does the same, or gets unicast answers only
    /// (and may say so with `report_mdns_socket_error`). When `false`, such candidates
    /// are ignored and counted in `remote_candidates_unresolved`.
    pub resolve_mdns: bool,
    /// Extra trusted root certificates (PEM text, each may hold several) for `turns:`
    /// servers, for a private CA; the default roots (Mozilla's, from `webpki-roots`) are
    /// trusted too. Default empty.
    pub turn_tls_roots_pem: Vec<String>,
    /// Start, floor and ceiling of the send-side bandwidth estimate that paces media and
    /// that [`Event::BandwidthEstimate`](super::Event::BandwidthEstimate) reports. Default:
    /// start at 300 kbit/s, between 30 kbit/s and 50 Mbit/s.
    pub bandwidth: crate::media::bwe::BweConfig,
}

impl Default for RtcConfiguration {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            bundle_policy: BundlePolicy::MaxBundle,
            certificate: None,
            seed: None,
            ice_timing: IceTiming {
                ta: MIN_ICE_PACING,
                ..IceTiming::default()
            },
            ice_lite: false,
            max_message_size: 256 * 1024,
            dtls_initial_retransmit: Duration::from_secs(1),
            dtls_max_retransmissions: 6,
            max_channels: 1024,
            codecs: MediaCodecs::default(),
            wall_clock: None,
            resolve_mdns: true,
            turn_tls_roots_pem: Vec::new(),
            bandwidth: crate::media::bwe::BweConfig::default(),
        }
    }
}

impl RtcConfiguration {
    /// Defaults with a replayable seed ([`Seed::from_u64`]): for tests and simulations
    /// only, since anyone who guesses `seed` knows every key of the connection.
    pub fn with_seed(seed: u64) -> Self {
        Self::with_secret_seed(Seed::from_u64(seed))
    }

    /// Defaults with `seed`, for a connection driven by your own loop: pass
    /// `Seed::from_bytes(..)` with 32 bytes from the OS random source (for example the
    /// `getrandom` crate).
    pub fn with_secret_seed(seed: Seed) -> Self {
        Self {
            seed: Some(seed),
            ..Self::default()
        }
    }

    /// Parses every ICE server URL; returns the STUN servers to gather from (empty under
    /// the relay policy). TURN URLs must carry a username and credential.
    pub(crate) fn stun_servers(&self) -> Result<Vec<StunServer>, PeerConnectionError> {
        let mut out = Vec::new();
        for server in &self.ice_servers {
            for url in &server.urls {
                let parsed = IceServerUrl::parse(url)?;
                if parsed.scheme.starts_with("turn")
                    && (server.username.is_none() || server.credential.is_none())
                {
                    return Err(PeerConnectionError::InvalidConfig(format!(
                        "TURN URL {url:?} needs a username and credential"
                    )));
                }
                if parsed.is_stun() && self.ice_transport_policy == IceTransportPolicy::All {
                    out.push(match parsed.host.parse() {
                        Ok(ip) => StunServer::Addr(std::net::SocketAddr::new(ip, parsed.port)),
                        Err(_) => StunServer::Name {
                            host: parsed.host,
                            port: parsed.port,
                        },
                    });
                }
            }
        }
        Ok(out)
    }

    /// The TURN servers (`turn:` over UDP or TCP, `turns:` over TLS) for relayed
    /// candidates. Other transports (`turns:...?transport=udp`) are errors.
    pub(crate) fn relay_servers(&self) -> Result<Vec<RelayServer>, PeerConnectionError> {
        let mut out = Vec::new();
        let roots: Arc<[String]> = Arc::from(self.turn_tls_roots_pem.clone());
        for server in &self.ice_servers {
            for url in &server.urls {
                let parsed = IceServerUrl::parse(url)?;
                if !parsed.scheme.starts_with("turn") {
                    continue;
                }
                let Some(transport) = parsed.turn_transport() else {
                    return Err(PeerConnectionError::InvalidConfig(format!(
                        "TURN URL {url:?}: the transport must be udp or tcp for turn:, tcp for turns: (no DTLS)"
                    )));
                };
                let host = match parsed.host.parse() {
                    Ok(ip) => StunServer::Addr(std::net::SocketAddr::new(ip, parsed.port)),
                    Err(_) => StunServer::Name {
                        host: parsed.host.clone(),
                        port: parsed.port,
                    },
                };
                let mut relay = RelayServer::udp(
                    host,
                    server.username.as_deref().unwrap_or_default(),
                    server.credential.as_deref().unwrap_or_default(),
                );
                relay.transport = transport;
                relay.server_name = parsed.host.clone();
                relay.extra_roots_pem = roots.clone();
                out.push(relay);
            }
        }
        Ok(out)
    }

    pub(crate) fn validate(&self) -> Result<(), PeerConnectionError> {
        if self.seed.is_none() {
            return Err(PeerConnectionError::MissingSeed);
        }
        if self.ice_timing.ta < MIN_ICE_PACING {
            return Err(PeerConnectionError::InvalidConfig(
                "ice_timing.ta must be at least 5 ms (RFC 8445 section 14.2)".into(),
            ));
        }
        if !(1024..=1 << 30).contains(&self.max_message_size) {
            return Err(PeerConnectionError::InvalidConfig(
                "max_message_size must be within 1 KiB..=1 GiB".into(),
            ));
        }
        if self.max_channels == 0 || self.max_channels > 65534 {
            return Err(PeerConnectionError::InvalidConfig(
                "max_channels must be within 1..=65534".into(),
            ));
        }
        self.stun_servers()?;
        self.relay_servers().map(|_| ())
    }
}
