//! `a=` lines: the typed [`Attribute`] enum, its parsing by name and its printing.
//!
//! Attributes WebRTC uses get a typed variant; any other attribute is kept verbatim as
//! [`Attribute::Other`], so unknown attributes survive a round trip in their place. A known
//! attribute whose value does not follow its grammar is an error, not an `Other`.

use core::fmt;

use super::candidate::CandidateValue;
use super::error::SdpErrorKind;
use super::rtp_attrs::{Extmap, Fmtp, Rtcp, RtcpFb, RtpMap, Ssrc, SsrcGroup};
use super::simulcast::{Rid, Simulcast};
use super::text::{is_text, is_token, number};
use super::transport_attrs::{
    Direction, Fingerprint, Group, IceOptions, Msid, MsidSemantic, Setup, is_ice_chars,
};

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute {
    /// `a=group:` (session level).
    Group(Group),
    /// `a=msid-semantic:` (session level).
    MsidSemantic(MsidSemantic),
    /// `a=ice-lite` (session level).
    IceLite,
    /// `a=ice-pacing:` (session level, RFC 8839 §5.5): the Ta, in milliseconds, the agent
    /// proposes for pacing its connectivity checks.
    IcePacing(u32),
    /// `a=ice-ufrag:` (4 to 256 ice-chars).
    IceUfrag(String),
    /// `a=ice-pwd:` (22 to 256 ice-chars).
    IcePwd(String),
    /// `a=ice-options:`.
    IceOptions(IceOptions),
    /// `a=fingerprint:`.
    Fingerprint(Fingerprint),
    /// `a=setup:`.
    Setup(Setup),
    /// `a=extmap:`.
    Extmap(Extmap),
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    ExtmapAllowMixed,
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive`.
    Direction(Direction),
    /// `a=end-of-candidates` (RFC 8840).
    EndOfCandidates,
    /// `a=mid:` (media level).
    Mid(String),
    /// `a=msid:` (media level).
    Msid(Msid),
    /// `a=rtcp:` (media level).
    Rtcp(Rtcp),
    /// `a=rtcp-mux` (media level).
    RtcpMux,
    /// `a=rtcp-mux-only` (media level, RFC 8858).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (media level, RFC 5506).
    RtcpRsize,
    /// `a=rtpmap:` (media level).
    RtpMap(RtpMap),
    /// `a=fmtp:` (media level).
    Fmtp(Fmtp),
    /// `a=rtcp-fb:` (media level).
    RtcpFb(RtcpFb),
    /// `a=ssrc:` (media level).
    Ssrc(Ssrc),
    /// `a=ssrc-group:` (media level).
    SsrcGroup(SsrcGroup),
    /// `a=rid:` (media level).
    Rid(Rid),
    /// `a=simulcast:` (media level).
    Simulcast(Simulcast),
    /// `a=sctp-port:` (media level, RFC 8841).
    SctpPort(u16),
    /// `a=max-message-size:` (media level, RFC 8841).
    MaxMessageSize(u64),
    /// `a=candidate:` (media level).
    Candidate(CandidateValue),
    /// Any other attribute, verbatim: `a=<name>` (value `None`) or `a=<name>:<value>`.
    /// When building one, use a name this module does not type (else it parses back as the
    /// typed variant) and a value without line breaks.
    Other {
        /// Attribute name (a token).
        name: String,
        /// Value after the colon, if there is a colon.
        value: Option<String>,
    },
}

/// Where an attribute may appear (RFC 8829 §5.2, §5.3 and the attributes' own RFCs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Session,
    Media,
    Both,
}

impl Attribute {
    /// The attribute name as it appears after `a=`.
    pub fn name(&self) -> &str {
        match self {
            Self::Group(_) => "group",
            Self::MsidSemantic(_) => "msid-semantic",
            Self::IceLite => "ice-lite",
            Self::IcePacing(_) => "ice-pacing",
            Self::IceUfrag(_) => "ice-ufrag",
            Self::IcePwd(_) => "ice-pwd",
            Self::IceOptions(_) => "ice-options",
            Self::Fingerprint(_) => "fingerprint",
            Self::Setup(_) => "setup",
            Self::Extmap(_) => "extmap",
            Self::ExtmapAllowMixed => "extmap-allow-mixed",
            Self::Direction(d) => d.as_str(),
            Self::EndOfCandidates => "end-of-candidates",
            Self::Mid(_) => "mid",
            Self::Msid(_) => "msid",
            Self::Rtcp(_) => "rtcp",
            Self::RtcpMux => "rtcp-mux",
            Self::RtcpMuxOnly => "rtcp-mux-only",
            Self::RtcpRsize => "rtcp-rsize",
            Self::RtpMap(_) => "rtpmap",
            Self::Fmtp(_) => "fmtp",
            Self::RtcpFb(_) => "rtcp-fb",
            Self::Ssrc(_) => "ssrc",
            Self::SsrcGroup(_) => "ssrc-group",
            Self::Rid(_) => "rid",
            Self::Simulcast(_) => "simulcast",
            Self::SctpPort(_) => "sctp-port",
            Self::MaxMessageSize(_) => "max-message-size",
            Self::Candidate(_) => "candidate",
            Self::Other { name, .. } => name,
        }
    }

    pub(crate) fn level(&self) -> Level {
        match self {
            Self::Group(_) | Self::MsidSemantic(_) | Self::IceLite | Self::IcePacing(_) => {
                Level::Session
            }
            Self::IceUfrag(_)
            | Self::IcePwd(_)
            | Self::IceOptions(_)
            | Self::Fingerprint(_)
            | Self::Setup(_)
            | Self::Extmap(_)
            | Self::ExtmapAllowMixed
            | Self::Direction(_)
            | Self::EndOfCandidates
            | Self::Other { .. } => Level::Both,
            _ => Level::Media,
        }
    }

    /// Parses one attribute from the text after `a=` (`<name>` or `<name>:<value>`), e.g. the
    /// `candidate:...` string a trickled ICE candidate arrives as. It does not check at which
    /// level the attribute may appear.
    pub fn parse_line(line: &str) -> Result<Self, SdpErrorKind> {
        if line.contains(['\r', '\n', '\0']) {
            return Err(SdpErrorKind::ControlCharacter);
        }
        Self::parse(line).map_err(AttributeError::into_kind)
    }

    /// Parses the part of an `a=` line after `a=`: `<name>` or `<name>:<value>`.
    ///
    /// Liberal where it costs nothing: a line that fails its grammar only because of
    /// trailing spaces or tabs (`a=msid-semantic: WMS `, `a=rtcp-mux `) is read without
    /// them, and an attribute that only describes (see [`is_descriptive`]) whose value
    /// still does not follow its grammar is kept verbatim as [`Attribute::Other`], as
    /// browsers ignore it. Attributes negotiation depends on stay strict.
    ///
    /// On failure returns the grammar the attribute must follow (for the error message).
    pub(crate) fn parse(line: &str) -> Result<Self, AttributeError> {
        let strict = Self::parse_strict(line);
        let trimmed = line.trim_end_matches([' ', '\t']);
        let Err(error) = strict else {
            return strict;
        };
        if trimmed.len() < line.len()
            && let Ok(attribute) = Self::parse_strict(trimmed)
        {
            return Ok(attribute);
        }
        match trimmed.split_once(':') {
            Some((name, value)) if is_descriptive(name) && is_text(value) => {
                tracing::debug!(name, "sdp: malformed a={name} kept verbatim");
                Ok(Self::Other {
                    name: name.into(),
                    value: Some(line.get(name.len() + 1..).unwrap_or_default().into()),
                })
            }
            _ => Err(error),
        }
    }

    fn parse_strict(line: &str) -> Result<Self, AttributeError> {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if !is_token(name) {
            return Err(AttributeError::BadName);
        }
        if let Some(flag) = parse_flag(name) {
            return match value {
                None => Ok(flag),
                Some(_) => Err(invalid(name, flag_grammar(name))),
            };
        }
        match value {
            Some(v) => parse_valued(name, v),
            None if grammar(name).is_some() => {
                Err(invalid(name, grammar(name).expect("checked just above")))
            }
            None => Ok(Self::Other {
                name: name.into(),
                value: None,
            }),
        }
    }
}

/// Why an `a=` line did not parse.
#[derive(Debug)]
pub(crate) enum AttributeError {
    /// The name is not a token.
    BadName,
    /// A known attribute with a value not following `expected`.
    Invalid {
        name: String,
        expected: &'static str,
    },
}

impl AttributeError {
    pub(crate) fn into_kind(self) -> SdpErrorKind {
        match self {
            Self::BadName => SdpErrorKind::InvalidValue {
                expected: "a=<attribute>[:<value>]",
            },
            Self::Invalid { name, expected } => SdpErrorKind::InvalidAttribute { name, expected },
        }
    }
}

fn invalid(name: &str, expected: &'static str) -> AttributeError {
    AttributeError::Invalid {
        name: name.into(),
        expected,
    }
}

fn parse_flag(name: &str) -> Option<Attribute> {
    Some(match name {
        "ice-lite" => Attribute::IceLite,
        "extmap-allow-mixed" => Attribute::ExtmapAllowMixed,
        "end-of-candidates" => Attribute::EndOfCandidates,
        "rtcp-mux" => Attribute::RtcpMux,
        "rtcp-mux-only" => Attribute::RtcpMuxOnly,
        "rtcp-rsize" => Attribute::RtcpRsize,
        other => Attribute::Direction(Direction::parse(other)?),
    })
}

fn flag_grammar(name: &str) -> &'static str {
    match name {
        "ice-lite" => "ice-lite",
        "extmap-allow-mixed" => "extmap-allow-mixed",
        "end-of-candidates" => "end-of-candidates",
        "rtcp-mux" => "rtcp-mux",
        "rtcp-mux-only" => "rtcp-mux-only",
        "rtcp-rsize" => "rtcp-rsize",
        "sendrecv" => "sendrecv",
        "sendonly" => "sendonly",
        "recvonly" => "recvonly",
        _ => "inactive",
    }
}

/// Attributes that describe streams or tune behaviour but do not decide whether an offer
/// can be answered: a malformed one is kept as [`Attribute::Other`] instead of refusing
/// the whole description (browsers skip such lines too).
fn is_descriptive(name: &str) -> bool {
    matches!(
        name,
        "msid-semantic" | "msid" | "ssrc" | "ssrc-group" | "rtcp" | "rtcp-fb" | "ice-options"
    )
}

/// The grammar of each valued attribute this module types, for error messages.
fn grammar(name: &str) -> Option<&'static str> {
    Some(match name {
        "group" => "group:<semantics> <mid>...",
        "msid-semantic" => "msid-semantic:<semantic> <id>...",
        "ice-ufrag" => "ice-ufrag:<4 to 256 ice-chars>",
        "ice-pwd" => "ice-pwd:<22 to 256 ice-chars>",
        "ice-options" => "ice-options:<option> ...",
        "ice-pacing" => "ice-pacing:<milliseconds>",
        "fingerprint" => "fingerprint:<hash-func> <XX:XX:...>",
        "setup" => "setup:<active|passive|actpass|holdconn>",
        "extmap" => "extmap:<id>[/<direction>] <uri> [<attributes>]",
        "mid" => "mid:<token>",
        "msid" => "msid:<stream id> [<track id>]",
        "rtcp" => "rtcp:<port> [<nettype> <addrtype> <address>]",
        "rtpmap" => "rtpmap:<pt> <encoding>/<clock rate>[/<channels>]",
        "fmtp" => "fmtp:<format> <parameters>",
        "rtcp-fb" => "rtcp-fb:<pt|*> <type> [<parameters>]",
        "ssrc" => "ssrc:<ssrc> <attribute>[:<value>]",
        "ssrc-group" => "ssrc-group:<semantics> <ssrc>...",
        "rid" => "rid:<id> <send|recv> [<restrictions>]",
        "simulcast" => "simulcast:<send|recv> <streams> [<recv|send> <streams>]",
        "sctp-port" => "sctp-port:<port>",
        "max-message-size" => "max-message-size:<bytes>",
        "candidate" => {
            "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ..."
        }
        _ => return None,
    })
}

fn parse_valued(name: &str, v: &str) -> Result<Attribute, AttributeError> {
    let Some(expected) = grammar(name) else {
        return if is_text(v) {
            Ok(Attribute::Other {
                name: name.into(),
                value: Some(v.into()),
            })
        } else {
            Err(AttributeError::BadName)
        };
    };
    let parsed = match name {
        "group" => Group::parse(v).map(Attribute::Group),
        "msid-semantic" => MsidSemantic::parse(v).map(Attribute::MsidSemantic),
        "ice-ufrag" => is_ice_chars(v, 4, 256).then(|| Attribute::IceUfrag(v.into())),
        "ice-pwd" => is_ice_chars(v, 22, 256).then(|| Attribute::IcePwd(v.into())),
        "ice-options" => IceOptions::parse(v).map(Attribute::IceOptions),
        "ice-pacing" => number(v).map(Attribute::IcePacing),
        "fingerprint" => Fingerprint::parse(v).map(Attribute::Fingerprint),
        "setup" => Setup::parse(v).map(Attribute::Setup),
        "extmap" => Extmap::parse(v).map(Attribute::Extmap),
        "mid" => is_token(v).then(|| Attribute::Mid(v.into())),
        "msid" => Msid::parse(v).map(Attribute::Msid),
        "rtcp" => Rtcp::parse(v).map(Attribute::Rtcp),
        "rtpmap" => RtpMap::parse(v).map(Attribute::RtpMap),
        "fmtp" => Fmtp::parse(v).map(Attribute::Fmtp),
        "rtcp-fb" => RtcpFb::parse(v).map(Attribute::RtcpFb),
        "ssrc" => Ssrc::parse(v).map(Attribute::Ssrc),
        "ssrc-group" => SsrcGroup::parse(v).map(Attribute::SsrcGroup),
        "rid" => Rid::parse(v).map(Attribute::Rid),
        "simulcast" => Simulcast::parse(v).map(Attribute::Simulcast),
        "sctp-port" => number(v).map(Attribute::SctpPort),
        "max-message-size" => number(v).map(Attribute::MaxMessageSize),
        _ => CandidateValue::new(v).ok().map(Attribute::Candidate),
    };
    parsed.ok_or_else(|| invalid(name, expected))
}

impl fmt::Display for Attribute {
    /// Prints the attribute without the `a=` prefix and without a line ending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Self::Group(v) => write!(f, "{name}:{v}"),
            Self::MsidSemantic(v) => write!(f, "{name}:{v}"),
            Self::IceUfrag(v) | Self::IcePwd(v) | Self::Mid(v) => write!(f, "{name}:{v}"),
            Self::IceOptions(v) => write!(f, "{name}:{v}"),
            Self::Fingerprint(v) => write!(f, "{name}:{v}"),
            Self::Setup(v) => write!(f, "{name}:{v}"),
            Self::Extmap(v) => write!(f, "{name}:{v}"),
            Self::Msid(v) => write!(f, "{name}:{v}"),
            Self::Rtcp(v) => write!(f, "{name}:{v}"),
            Self::RtpMap(v) => write!(f, "{name}:{v}"),
            Self::Fmtp(v) => write!(f, "{name}:{v}"),
            Self::RtcpFb(v) => write!(f, "{name}:{v}"),
            Self::Ssrc(v) => write!(f, "{name}:{v}"),
            Self::SsrcGroup(v) => write!(f, "{name}:{v}"),
            Self::Rid(v) => write!(f, "{name}:{v}"),
            Self::Simulcast(v) => write!(f, "{name}:{v}"),
            Self::SctpPort(v) => write!(f, "{name}:{v}"),
            Self::IcePacing(v) => write!(f, "{name}:{v}"),
            Self::MaxMessageSize(v) => write!(f, "{name}:{v}"),
            Self::Candidate(v) => write!(f, "{name}:{v}"),
            Self::Other { value: Some(v), .. } => write!(f, "{name}:{v}"),
            Self::IceLite
            | Self::ExtmapAllowMixed
            | Self::Direction(_)
            | Self::EndOfCandidates
            | Self::RtcpMux
            | Self::RtcpMuxOnly
            | Self::RtcpRsize
            | Self::Other { value: None, .. } => f.write_str(name),
        }
    }
}
