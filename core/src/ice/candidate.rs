//! ICE candidates: kinds, priorities and the SDP `candidate` attribute grammar
//! (RFC 8445 section 5.1.2, RFC 8839 section 5.1).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// How a candidate was obtained (RFC 8445 section 5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address of a local interface.
    Host,
    /// The address a STUN server saw (`srflx`).
    ServerReflexive,
    /// An address learned from a connectivity check (`prflx`).
    PeerReflexive,
    /// An address on a TURN relay (`relay`).
    Relayed,
}

impl CandidateKind {
    /// The type preference of RFC 8445 section 5.1.2.2 (recommended values).
    pub fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The `typ` token of RFC 8839.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

/// The transport of a candidate. rtcpeer's agent checks only UDP candidates; TCP lines
/// parse (and print) so they can be carried and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (`udp`).
    Udp,
    /// TCP (`tcp`, RFC 6544); never paired by the agent.
    Tcp,
}

/// The `tcptype` extension of RFC 6544.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// `active`
    Active,
    /// `passive`
    Passive,
    /// `so` (simultaneous open)
    So,
}

impl TcpType {
    fn as_str(self) -> &'static str {
        match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::So => "so",
        }
    }
}

/// Computes a candidate priority (RFC 8445 section 5.1.2.1):
/// `2^24 * type_pref + 2^8 * local_pref + (256 - component)`.
///
/// `local_pref` is clamped to 65535 and `component` to 1..=256.
pub fn candidate_priority(kind: CandidateKind, local_pref: u32, component: u16) -> u32 {
    let component = u32::from(component.clamp(1, 256));
    (kind.type_preference() << 24) + (local_pref.min(65535) << 8) + (256 - component)
}

/// One ICE candidate as carried in SDP or trickled by the application.
///
/// `Display` prints the attribute value with its `candidate:` prefix, as browsers put it in
/// `RTCIceCandidate.candidate`; `FromStr` parses RFC 8839's grammar with the prefix
/// optional (and an `a=` before it tolerated). Known extensions become fields; unknown
/// ones are kept in order in [`Candidate::extensions`] and printed back after the known ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Foundation: 1 to 32 ICE characters.
    pub foundation: String,
    /// Component id (1 is RTP, and the only one with rtcp-mux and BUNDLE).
    pub component: u16,
    /// Transport protocol.
    pub transport: Transport,
    /// Priority (RFC 8445 section 5.1.2).
    pub priority: u32,
    /// The transport address.
    pub address: SocketAddr,
    /// How it was obtained.
    pub kind: CandidateKind,
    /// `raddr`/`rport`: the base (srflx, prflx) or mapped address (relay).
    pub related_address: Option<SocketAddr>,
    /// `tcptype` (TCP candidates only).
    pub tcp_type: Option<TcpType>,
    /// `generation` (a Chrome extension; bumped on ICE restart).
    pub generation: Option<u32>,
    /// `ufrag`: the ICE username fragment this candidate belongs to.
    pub ufrag: Option<String>,
    /// `network-id`.
    pub network_id: Option<u32>,
    /// `network-cost`.
    pub network_cost: Option<u32>,
    /// Unknown extension attributes, as (name, value) pairs in the order received.
    pub extensions: Vec<(String, String)>,
}

impl Candidate {
    /// A candidate with no extension attributes.
    pub fn new(
        kind: CandidateKind,
        foundation: impl Into<String>,
        component: u16,
        priority: u32,
        address: SocketAddr,
        related_address: Option<SocketAddr>,
    ) -> Self {
        Candidate {
            foundation: foundation.into(),
            component,
            transport: Transport::Udp,
            priority,
            address,
            kind,
            related_address,
            tcp_type: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: Vec::new(),
        }
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        };
        write!(
            f,
            "candidate:{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            transport,
            self.priority,
            self.address.ip(),
            self.address.port(),
            self.kind.as_str()
        )?;
        if let Some(r) = self.related_address {
            write!(f, " raddr {} rport {}", r.ip(), r.port())?;
        }
        if let Some(t) = self.tcp_type {
            write!(f, " tcptype {}", t.as_str())?;
        }
        if let Some(g) = self.generation {
            write!(f, " generation {g}")?;
        }
        if let Some(u) = &self.ufrag {
            write!(f, " ufrag {u}")?;
        }
        if let Some(n) = self.network_id {
            write!(f, " network-id {n}")?;
        }
        if let Some(c) = self.network_cost {
            write!(f, " network-cost {c}")?;
        }
        for (k, v) in &self.extensions {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}

/// Why a candidate line did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCandidateError {
    /// The line ended before a required field.
    #[error("candidate line ends before the {0} field")]
    Missing(&'static str),
    /// The foundation is empty, longer than 32 characters or not ICE characters.
    #[error("invalid foundation {0:?}")]
    Foundation(String),
    /// The component id is not a number in 1..=256.
    #[error("invalid component id {0:?}")]
    Component(String),
    /// The priority is not a 32-bit number.
    #[error("invalid priority {0:?}")]
    Priority(String),
    /// The connection address is not an IP address. Host names (such as mDNS `.local`
    /// names) must be resolved by the application before the candidate is added.
    #[error("connection address {0:?} is not an IP address")]
    Address(String),
    /// A port is not a number in 0..=65535.
    #[error("invalid port {0:?}")]
    Port(String),
    /// The fifth token after the port is not `typ`.
    #[error("expected `typ`, found {0:?}")]
    ExpectedTyp(String),
    /// The candidate type is not host, srflx, prflx or relay.
    #[error("unknown candidate type {0:?}")]
    Kind(String),
    /// `raddr` without `rport` or the other way round.
    #[error("raddr and rport must come together")]
    RelatedAddress,
    /// An extension value does not parse (name, value).
    #[error("invalid value {1:?} for {0}")]
    Extension(String, String),
    /// An extension name has no value after it.
    #[error("extension {0:?} has no value")]
    ExtensionWithoutValue(String),
    /// More extension attributes than rtcpeer keeps (see `MAX_EXTENSIONS`).
    #[error("too many extension attributes")]
    TooManyExtensions,
}

/// The most unknown extension attributes kept per candidate.
pub const MAX_EXTENSIONS: usize = 16;

fn is_ice_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/'
}

fn parse_num<T: FromStr>(
    tok: &str,
    err: impl FnOnce(String) -> ParseCandidateError,
) -> Result<T, ParseCandidateError> {
    tok.parse().map_err(|_| err(tok.to_string()))
}

fn parse_ip(tok: &str) -> Result<IpAddr, ParseCandidateError> {
    // Tolerate IPv6 written in brackets, which some stacks emit.
    let bare = tok
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(tok);
    bare.parse()
        .map_err(|_| ParseCandidateError::Address(tok.to_string()))
}

fn parse_kind(tok: &str) -> Result<CandidateKind, ParseCandidateError> {
    match tok {
        "host" => Ok(CandidateKind::Host),
        "srflx" => Ok(CandidateKind::ServerReflexive),
        "prflx" => Ok(CandidateKind::PeerReflexive),
        "relay" => Ok(CandidateKind::Relayed),
        _ => Err(ParseCandidateError::Kind(tok.to_string())),
    }
}

impl FromStr for Candidate {
    type Err = ParseCandidateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        let mut toks = s.split_ascii_whitespace();
        let mut next = |what: &'static str| toks.next().ok_or(ParseCandidateError::Missing(what));

        let foundation = next("foundation")?;
        if foundation.is_empty() || foundation.len() > 32 || !foundation.chars().all(is_ice_char) {
            return Err(ParseCandidateError::Foundation(foundation.to_string()));
        }
        let comp_tok = next("component")?;
        let component: u16 = parse_num(comp_tok, ParseCandidateError::Component)?;
        if !(1..=256).contains(&component) {
            return Err(ParseCandidateError::Component(comp_tok.to_string()));
        }
        let transport = match next("transport")?.to_ascii_lowercase().as_str() {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            other => {
                return Err(ParseCandidateError::Extension(
                    "transport".into(),
                    other.into(),
                ));
            }
        };
        let priority = parse_num(next("priority")?, ParseCandidateError::Priority)?;
        let ip = parse_ip(next("connection address")?)?;
        let port: u16 = parse_num(next("port")?, ParseCandidateError::Port)?;
        let typ = next("typ")?;
        if typ != "typ" {
            return Err(ParseCandidateError::ExpectedTyp(typ.to_string()));
        }
        let kind = parse_kind(next("candidate type")?)?;
        let mut c = Candidate::new(
            kind,
            foundation,
            component,
            priority,
            SocketAddr::new(ip, port),
            None,
        );
        c.transport = transport;
        let rest: Vec<&str> = toks.collect();
        parse_extensions(&mut c, &rest)?;
        Ok(c)
    }
}

fn parse_extensions(c: &mut Candidate, rest: &[&str]) -> Result<(), ParseCandidateError> {
    let mut raddr: Option<IpAddr> = None;
    let mut rport: Option<u16> = None;
    let mut it = rest.chunks(2);
    for chunk in &mut it {
        let (name, value) = match chunk {
            [n, v] => (*n, *v),
            [n] => return Err(ParseCandidateError::ExtensionWithoutValue(n.to_string())),
            _ => unreachable!("chunks(2) yields one or two items"),
        };
        let bad = || ParseCandidateError::Extension(name.to_string(), value.to_string());
        match name {
            "raddr" => raddr = Some(parse_ip(value)?),
            "rport" => rport = Some(value.parse().map_err(|_| bad())?),
            "tcptype" => {
                c.tcp_type = Some(match value {
                    "active" => TcpType::Active,
                    "passive" => TcpType::Passive,
                    "so" => TcpType::So,
                    _ => return Err(bad()),
                })
            }
            "generation" => c.generation = Some(value.parse().map_err(|_| bad())?),
            "ufrag" => c.ufrag = Some(value.to_string()),
            "network-id" => c.network_id = Some(value.parse().map_err(|_| bad())?),
            "network-cost" => c.network_cost = Some(value.parse().map_err(|_| bad())?),
            _ => {
                if c.extensions.len() >= MAX_EXTENSIONS {
                    return Err(ParseCandidateError::TooManyExtensions);
                }
                c.extensions.push((name.to_string(), value.to_string()));
            }
        }
    }
    c.related_address = match (raddr, rport) {
        (Some(ip), Some(port)) => Some(SocketAddr::new(ip, port)),
        (None, None) => None,
        _ => return Err(ParseCandidateError::RelatedAddress),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(line: &str) {
        let c: Candidate = line.parse().expect("parses");
        assert_eq!(c.to_string(), line);
    }

    #[test]
    fn parses_chrome_host_candidate() {
        let line = "candidate:842163049 1 udp 2122260223 192.168.1.34 56143 typ host generation 0 ufrag 4ZcD network-id 1 network-cost 10";
        let c: Candidate = line.parse().unwrap();
        assert_eq!(c.foundation, "842163049");
        assert_eq!(c.component, 1);
        assert_eq!(c.transport, Transport::Udp);
        assert_eq!(c.priority, 2122260223);
        assert_eq!(c.address, "192.168.1.34:56143".parse().unwrap());
        assert_eq!(c.kind, CandidateKind::Host);
        assert_eq!(c.generation, Some(0));
        assert_eq!(c.ufrag.as_deref(), Some("4ZcD"));
        assert_eq!(c.network_id, Some(1));
        assert_eq!(c.network_cost, Some(10));
        round_trip(line);
    }

    #[test]
    fn parses_srflx_with_related_address() {
        let line = "candidate:1467250027 1 udp 1686052607 203.0.113.7 61001 typ srflx raddr 192.168.1.34 rport 56143 generation 0";
        let c: Candidate = line.parse().unwrap();
        assert_eq!(c.kind, CandidateKind::ServerReflexive);
        assert_eq!(
            c.related_address,
            Some("192.168.1.34:56143".parse().unwrap())
        );
        round_trip(line);
    }

    #[test]
    fn parses_firefox_ipv6_and_relay() {
        round_trip(
            "candidate:1 1 UDP 2122187007 2001:db8::1 50823 typ host"
                .replace("UDP", "udp")
                .as_str(),
        );
        let relay =
            "candidate:5 1 udp 8265727 198.51.100.3 3478 typ relay raddr 203.0.113.7 rport 61001";
        assert_eq!(
            relay.parse::<Candidate>().unwrap().kind,
            CandidateKind::Relayed
        );
        round_trip(relay);
    }

    #[test]
    fn parses_tcp_candidate_with_tcptype() {
        let line =
            "candidate:3 1 tcp 1518280447 192.168.1.34 9 typ host tcptype active generation 0";
        let c: Candidate = line.parse().unwrap();
        assert_eq!(c.transport, Transport::Tcp);
        assert_eq!(c.tcp_type, Some(TcpType::Active));
        round_trip(line);
    }

    #[test]
    fn prefix_is_optional_and_a_equals_tolerated() {
        let a: Candidate = "1 1 udp 2130706431 192.0.2.1 54400 typ host"
            .parse()
            .unwrap();
        let b: Candidate = "a=candidate:1 1 udp 2130706431 192.0.2.1 54400 typ host"
            .parse()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.to_string(),
            "candidate:1 1 udp 2130706431 192.0.2.1 54400 typ host"
        );
    }

    #[test]
    fn unknown_extensions_are_preserved_in_order() {
        let line =
            "candidate:1 1 udp 2130706431 192.0.2.1 54400 typ host generation 0 x-foo bar x-baz 7";
        let c: Candidate = line.parse().unwrap();
        assert_eq!(
            c.extensions,
            vec![("x-foo".into(), "bar".into()), ("x-baz".into(), "7".into())]
        );
        round_trip(line);
    }

    #[test]
    fn mdns_hostname_is_a_typed_error() {
        let e = "candidate:1 1 udp 2130706431 4f2a-9c.local 54400 typ host"
            .parse::<Candidate>()
            .unwrap_err();
        assert_eq!(e, ParseCandidateError::Address("4f2a-9c.local".into()));
    }

    #[test]
    fn malformed_lines_give_typed_errors() {
        use ParseCandidateError as E;
        let cases: &[(&str, E)] = &[
            ("candidate:1 1 udp", E::Missing("priority")),
            (
                "candidate:1 0 udp 1 192.0.2.1 1 typ host",
                E::Component("0".into()),
            ),
            (
                "candidate:1 1 udp x 192.0.2.1 1 typ host",
                E::Priority("x".into()),
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 70000 typ host",
                E::Port("70000".into()),
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 1 type host",
                E::ExpectedTyp("type".into()),
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 1 typ nat",
                E::Kind("nat".into()),
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 1 typ srflx raddr 10.0.0.1",
                E::RelatedAddress,
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 1 typ host generation",
                E::ExtensionWithoutValue("generation".into()),
            ),
            (
                "candidate:1 1 udp 1 192.0.2.1 1 typ host generation x",
                E::Extension("generation".into(), "x".into()),
            ),
            (
                "candidate:a_b 1 udp 1 192.0.2.1 1 typ host",
                E::Foundation("a_b".into()),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(&line.parse::<Candidate>().unwrap_err(), want, "{line}");
        }
    }

    #[test]
    fn too_many_extensions_are_refused() {
        let mut line = String::from("candidate:1 1 udp 1 192.0.2.1 1 typ host");
        for i in 0..=MAX_EXTENSIONS {
            line.push_str(&format!(" x{i} v"));
        }
        assert_eq!(
            line.parse::<Candidate>().unwrap_err(),
            ParseCandidateError::TooManyExtensions
        );
    }

    #[test]
    fn priority_formula_matches_rfc_8445() {
        assert_eq!(
            candidate_priority(CandidateKind::Host, 65535, 1),
            2130706431
        );
        assert_eq!(
            candidate_priority(CandidateKind::ServerReflexive, 65535, 1),
            (100 << 24) + (65535 << 8) + 255
        );
        assert_eq!(candidate_priority(CandidateKind::Relayed, 0, 2), 254);
        assert!(
            candidate_priority(CandidateKind::PeerReflexive, 65535, 1)
                > candidate_priority(CandidateKind::ServerReflexive, 65535, 1)
        );
    }
}
