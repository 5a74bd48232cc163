//! Media descriptions (`m=` sections, RFC 8866 §5.14) with typed media-level getters.

use core::fmt;

use super::attribute::Attribute;
use super::candidate::CandidateValue;
use super::rtp_attrs::{Extmap, Fmtp, Rtcp, RtcpFb, RtpMap, Ssrc, SsrcGroup};
use super::session::{Bandwidth, ConnectionAddress};
use super::simulcast::{Rid, Simulcast};
use super::text::{fields, is_token, is_word, number, payload_type};
use super::transport_attrs::{Direction, Fingerprint, IceOptions, Msid, Setup};

/// The `<media>` field of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `application` (data channels)
    Application,
    /// Any other token, as written.
    Other(String),
}

impl MediaKind {
    /// The token.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "application" => Self::Application,
            other if is_token(other) => Self::Other(other.into()),
            _ => return None,
        })
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `m=` section and the lines that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `<media>`
    pub kind: MediaKind,
    /// `<port>`; 0 marks a rejected or bundled-only section.
    pub port: u16,
    /// `/<number of ports>`, if written.
    pub port_count: Option<u16>,
    /// `<proto>`, e.g. [`Self::PROTO_RTP`] or [`Self::PROTO_SCTP`].
    pub proto: String,
    /// `<fmt>` list: payload type numbers for RTP, `webrtc-datachannel` for SCTP.
    pub formats: Vec<String>,
    /// `i=`
    pub title: Option<String>,
    /// `c=` lines.
    pub connections: Vec<ConnectionAddress>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=`
    pub key: Option<String>,
    /// Media-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
}

/// A codec of an RTP media section: a payload type with what the attributes say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec<'a> {
    /// The payload type.
    pub payload_type: u8,
    /// Its `a=rtpmap`, if any (static payload types may have none).
    pub rtpmap: Option<&'a RtpMap>,
    /// Its `a=fmtp`, if any.
    pub fmtp: Option<&'a Fmtp>,
    /// Its `a=rtcp-fb` lines, including those for `*`.
    pub feedback: Vec<&'a RtcpFb>,
}

impl Codec<'_> {
    /// The encoding name from `a=rtpmap`, if any.
    pub fn name(&self) -> Option<&str> {
        self.rtpmap.map(|r| r.encoding.as_str())
    }
}

impl MediaDescription {
    /// RTP over DTLS-SRTP with feedback (RFC 5764): audio and video in WebRTC.
    pub const PROTO_RTP: &'static str = "UDP/TLS/RTP/SAVPF";
    /// SCTP over DTLS (RFC 8841): data channels.
    pub const PROTO_SCTP: &'static str = "UDP/DTLS/SCTP";
    /// The `<fmt>` of a data channel section.
    pub const FORMAT_DATACHANNEL: &'static str = "webrtc-datachannel";

    /// A section `m=<kind> <port> <proto> <formats>` with no other lines.
    pub fn new<S: Into<String>>(
        kind: MediaKind,
        port: u16,
        proto: impl Into<String>,
        formats: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            proto: proto.into(),
            formats: formats.into_iter().map(Into::into).collect(),
            title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// Appends an attribute (builder style).
    pub fn with_attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Appends a `c=` line (builder style).
    pub fn with_connection(mut self, connection: ConnectionAddress) -> Self {
        self.connections.push(connection);
        self
    }

    /// Replaces the direction attribute (or appends one when there is none).
    pub fn set_direction(&mut self, direction: Direction) {
        let new = Attribute::Direction(direction);
        match self
            .attributes
            .iter_mut()
            .find(|a| matches!(a, Attribute::Direction(_)))
        {
            Some(slot) => *slot = new,
            None => self.attributes.push(new),
        }
        self.attributes.retain({
            let mut seen = false;
            move |a| !matches!(a, Attribute::Direction(_)) || !std::mem::replace(&mut seen, true)
        });
    }

    /// Parses the value of an `m=` line.
    pub(crate) fn parse_m_line(value: &str) -> Option<Self> {
        let f = fields(value)?;
        let [kind, port, proto, formats @ ..] = f.as_slice() else {
            return None;
        };
        let (port, port_count) = match port.split_once('/') {
            Some((p, n)) => (number(p)?, Some(number(n)?)),
            None => (number(port)?, None),
        };
        let ok = !formats.is_empty() && is_proto(proto) && formats.iter().all(|f| is_token(f));
        ok.then_some(())?;
        let mut m = Self::new(
            MediaKind::parse(kind)?,
            port,
            *proto,
            formats.iter().copied(),
        );
        m.port_count = port_count;
        Some(m)
    }

    /// Writes the value of the `m=` line.
    pub(crate) fn fmt_m_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        self.formats.iter().try_for_each(|fmt| write!(f, " {fmt}"))
    }

    /// Whether the port is 0 (rejected, or bundled-only in an offer).
    pub fn is_port_zero(&self) -> bool {
        self.port == 0
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Mid(m) => Some(m.as_str()),
            _ => None,
        })
    }

    /// The direction attribute, if present (RFC 8866 default when absent: sendrecv).
    pub fn direction(&self) -> Option<Direction> {
        direction(&self.attributes)
    }

    /// `a=ice-ufrag` of this section.
    pub fn ice_ufrag(&self) -> Option<&str> {
        ice_ufrag(&self.attributes)
    }

    /// `a=ice-pwd` of this section.
    pub fn ice_pwd(&self) -> Option<&str> {
        ice_pwd(&self.attributes)
    }

    /// `a=ice-options` of this section.
    pub fn ice_options(&self) -> Option<&IceOptions> {
        ice_options(&self.attributes)
    }

    /// `a=fingerprint` lines of this section.
    pub fn fingerprints(&self) -> impl Iterator<Item = &Fingerprint> {
        fingerprints(&self.attributes)
    }

    /// `a=setup` of this section.
    pub fn setup(&self) -> Option<Setup> {
        setup(&self.attributes)
    }

    /// The payload types of the `<fmt>` list (formats that are not numbers are skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| payload_type(f))
    }

    /// `a=rtpmap` lines.
    pub fn rtpmaps(&self) -> impl Iterator<Item = &RtpMap> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::RtpMap(r) => Some(r),
            _ => None,
        })
    }

    /// `a=fmtp` lines.
    pub fn fmtps(&self) -> impl Iterator<Item = &Fmtp> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Fmtp(r) => Some(r),
            _ => None,
        })
    }

    /// `a=rtcp-fb` lines.
    pub fn rtcp_fbs(&self) -> impl Iterator<Item = &RtcpFb> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::RtcpFb(r) => Some(r),
            _ => None,
        })
    }

    /// The codecs in `<fmt>` order, each with its rtpmap, fmtp and feedback.
    pub fn codecs(&self) -> Vec<Codec<'_>> {
        self.payload_types()
            .map(|pt| Codec {
                payload_type: pt,
                rtpmap: self.rtpmaps().find(|r| r.payload_type == pt),
                fmtp: self.fmtps().find(|f| f.payload_type() == Some(pt)),
                feedback: self
                    .rtcp_fbs()
                    .filter(|fb| fb.payload_type.is_none_or(|p| p == pt))
                    .collect(),
            })
            .collect()
    }

    /// `a=extmap` lines.
    pub fn extmaps(&self) -> impl Iterator<Item = &Extmap> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
    }

    /// `a=msid` lines.
    pub fn msids(&self) -> impl Iterator<Item = &Msid> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Msid(m) => Some(m),
            _ => None,
        })
    }

    /// `a=ssrc` lines.
    pub fn ssrcs(&self) -> impl Iterator<Item = &Ssrc> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Ssrc(s) => Some(s),
            _ => None,
        })
    }

    /// `a=ssrc-group` lines.
    pub fn ssrc_groups(&self) -> impl Iterator<Item = &SsrcGroup> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::SsrcGroup(s) => Some(s),
            _ => None,
        })
    }

    /// `a=rid` lines.
    pub fn rids(&self) -> impl Iterator<Item = &Rid> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Rid(r) => Some(r),
            _ => None,
        })
    }

    /// `a=simulcast`, if present.
    pub fn simulcast(&self) -> Option<&Simulcast> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Simulcast(s) => Some(s),
            _ => None,
        })
    }

    /// `a=rtcp`, if present.
    pub fn rtcp(&self) -> Option<&Rtcp> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp(r) => Some(r),
            _ => None,
        })
    }

    /// Whether `a=rtcp-mux` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.attributes.contains(&Attribute::RtcpMux)
    }

    /// Whether `a=rtcp-mux-only` is present.
    pub fn rtcp_mux_only(&self) -> bool {
        self.attributes.contains(&Attribute::RtcpMuxOnly)
    }

    /// Whether `a=rtcp-rsize` is present.
    pub fn rtcp_rsize(&self) -> bool {
        self.attributes.contains(&Attribute::RtcpRsize)
    }

    /// Whether `a=extmap-allow-mixed` is present in this section.
    pub fn extmap_allow_mixed(&self) -> bool {
        self.attributes.contains(&Attribute::ExtmapAllowMixed)
    }

    /// `a=sctp-port`, if present.
    pub fn sctp_port(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::SctpPort(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=max-message-size`, if present (RFC 8841: absent means 64 KiB).
    pub fn max_message_size(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxMessageSize(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=candidate` lines.
    pub fn candidates(&self) -> impl Iterator<Item = &CandidateValue> {
        self.attributes.iter().filter_map(|a| match a {
            Attribute::Candidate(c) => Some(c),
            _ => None,
        })
    }

    /// Whether `a=end-of-candidates` is present.
    pub fn end_of_candidates(&self) -> bool {
        self.attributes.contains(&Attribute::EndOfCandidates)
    }

    /// Attributes that this module does not type, by name, in order.
    pub fn other_attributes<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Option<&'a str>> {
        self.attributes.iter().filter_map(move |a| match a {
            Attribute::Other { name: n, value } if n == name => Some(value.as_deref()),
            _ => None,
        })
    }
}

/// `<proto>`: tokens separated by `/`.
fn is_proto(s: &str) -> bool {
    is_word(s) && s.split('/').all(is_token)
}

pub(crate) fn direction(attrs: &[Attribute]) -> Option<Direction> {
    attrs.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

pub(crate) fn ice_ufrag(attrs: &[Attribute]) -> Option<&str> {
    attrs.iter().find_map(|a| match a {
        Attribute::IceUfrag(u) => Some(u.as_str()),
        _ => None,
    })
}

pub(crate) fn ice_pwd(attrs: &[Attribute]) -> Option<&str> {
    attrs.iter().find_map(|a| match a {
        Attribute::IcePwd(p) => Some(p.as_str()),
        _ => None,
    })
}

pub(crate) fn ice_options(attrs: &[Attribute]) -> Option<&IceOptions> {
    attrs.iter().find_map(|a| match a {
        Attribute::IceOptions(o) => Some(o),
        _ => None,
    })
}

pub(crate) fn fingerprints(attrs: &[Attribute]) -> impl Iterator<Item = &Fingerprint> {
    attrs.iter().filter_map(|a| match a {
        Attribute::Fingerprint(f) => Some(f),
        _ => None,
    })
}

pub(crate) fn setup(attrs: &[Attribute]) -> Option<Setup> {
    attrs.iter().find_map(|a| match a {
        Attribute::Setup(s) => Some(*s),
        _ => None,
    })
}
