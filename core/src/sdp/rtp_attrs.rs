//! Typed values of the RTP attributes: `rtpmap`, `fmtp` (RFC 8866 §6.6, §6.15), `rtcp-fb`
//! (RFC 4585), `extmap` (RFC 8285), `rtcp` (RFC 3605), `ssrc` and `ssrc-group` (RFC 5576).
//!
//! Each type parses the attribute *value* (the text after `a=<name>:`) and prints it back
//! canonically through `Display`.

use core::fmt;

use super::session::ConnectionAddress;
use super::text::{fields, is_byte_string, is_token, is_word, number, payload_type, split_first};
use super::transport_attrs::Direction;

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`: what an RTP payload type means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type (0..=127).
    pub payload_type: u8,
    /// Encoding name as written, e.g. `opus`, `VP8`, `rtx` (compare case-insensitively).
    pub encoding: String,
    /// RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters; for audio the channel count.
    pub channels: Option<u32>,
}

impl RtpMap {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (pt, rest) = value.split_once(' ')?;
        let mut parts = rest.split('/');
        let encoding = parts.next().filter(|e| is_token(e))?;
        let clock_rate = number(parts.next()?)?;
        let channels = match parts.next() {
            Some(c) => Some(number(c)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            payload_type: payload_type(pt)?,
            encoding: encoding.into(),
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        match self.channels {
            Some(c) => write!(f, "/{c}"),
            None => Ok(()),
        }
    }
}

/// `a=fmtp:<format> <parameters>`: format-specific parameters, kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (for RTP media a payload type number).
    pub format: String,
    /// The parameter text, e.g. `minptime=10;useinbandfec=1`.
    pub params: String,
}

impl Fmtp {
    /// The format as an RTP payload type, when it is one.
    pub fn payload_type(&self) -> Option<u8> {
        payload_type(&self.format)
    }

    /// The `;`-separated parameters as `(name, value)`; a parameter without `=` has no value.
    /// Surrounding spaces are trimmed.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
    }

    /// The value of parameter `name` (exact match), if present with a value.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v)
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (format, params) = value.split_once(' ')?;
        (is_token(format) && is_byte_string(params)).then(|| Self {
            format: format.into(),
            params: params.into(),
        })
    }
}

impl fmt::Display for Fmtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.format, self.params)
    }
}

/// `a=rtcp-fb:<pt|*> <type> [<parameters>]` (RFC 4585 §4.2): an RTCP feedback capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb {
    /// The payload type it applies to; `None` for `*` (all payload types).
    pub payload_type: Option<u8>,
    /// Feedback type, e.g. `nack`, `ccm`, `transport-cc`, `goog-remb`.
    pub feedback: String,
    /// The rest, e.g. `pli` for `nack pli`, `fir` for `ccm fir`.
    pub param: Option<String>,
}

impl RtcpFb {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (pt, rest) = value.split_once(' ')?;
        let payload_type = if pt == "*" {
            None
        } else {
            Some(payload_type(pt)?)
        };
        let (feedback, param) = split_first(rest);
        let param_ok =
            param.is_none_or(|p| fields(p).is_some_and(|w| w.iter().all(|x| is_word(x))));
        (is_token(feedback) && param_ok).then(|| Self {
            payload_type,
            feedback: feedback.into(),
            param: param.map(Into::into),
        })
    }
}

impl fmt::Display for RtcpFb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.feedback)?,
            None => write!(f, "* {}", self.feedback)?,
        }
        match &self.param {
            Some(p) => write!(f, " {p}"),
            None => Ok(()),
        }
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8): an RTP header extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extmap {
    /// Extension id: 1..=14 (one-byte form), 1..=255 (two-byte form), 4096..=4351 in offers.
    pub id: u16,
    /// Direction restriction, if any.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: String,
    /// Extension attributes after the URI, as written.
    pub attributes: Option<String>,
}

impl Extmap {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (head, rest) = value.split_once(' ')?;
        let (id, direction) = match head.split_once('/') {
            Some((id, dir)) => (id, Some(Direction::parse(dir)?)),
            None => (head, None),
        };
        let id: u16 = number(id).filter(|id| matches!(id, 1..=255 | 4096..=4351))?;
        let (uri, attributes) = split_first(rest);
        let attrs_ok = attributes.is_none_or(|a| fields(a).is_some());
        (is_word(uri) && attrs_ok).then(|| Self {
            id,
            direction,
            uri: uri.into(),
            attributes: attributes.map(Into::into),
        })
    }
}

impl fmt::Display for Extmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{d}")?;
        }
        write!(f, " {}", self.uri)?;
        match &self.attributes {
            Some(a) => write!(f, " {a}"),
            None => Ok(()),
        }
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// RTCP port.
    pub port: u16,
    /// RTCP address, when given.
    pub address: Option<ConnectionAddress>,
}

impl Rtcp {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (port, rest) = split_first(value);
        let address = match rest {
            Some(r) => Some(ConnectionAddress::parse(r)?),
            None => None,
        };
        Some(Self {
            port: number(port)?,
            address,
        })
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        match &self.address {
            Some(a) => write!(f, " {a}"),
            None => Ok(()),
        }
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1): a source-level attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssrc {
    /// The synchronisation source.
    pub ssrc: u32,
    /// Source attribute name, e.g. `cname`, `msid`.
    pub attribute: String,
    /// Source attribute value, as written (may contain spaces, e.g. for `msid`).
    pub value: Option<String>,
}

impl Ssrc {
    /// RFC 5576 `cname` source attribute.
    pub const CNAME: &'static str = "cname";

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (ssrc, rest) = value.split_once(' ')?;
        let (attribute, value) = match rest.split_once(':') {
            Some((a, v)) => (a, Some(v)),
            None => (rest, None),
        };
        let value_ok = value.is_none_or(|v| !v.contains(['\r', '\n', '\0']));
        let ssrc = number(ssrc)?;
        (is_token(attribute) && value_ok).then(|| Self {
            ssrc,
            attribute: attribute.into(),
            value: value.map(Into::into),
        })
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        match &self.value {
            Some(v) => write!(f, ":{v}"),
            None => Ok(()),
        }
    }
}

/// `a=ssrc-group:<semantics> <ssrc> ...` (RFC 5576 §4.2), e.g. `FID` for RTX pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    /// Semantics, e.g. `FID`, `SIM`, `FEC-FR`.
    pub semantics: String,
    /// The sources, in order.
    pub ssrcs: Vec<u32>,
}

impl SsrcGroup {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let parts = fields(value)?;
        let (semantics, ssrcs) = parts.split_first()?;
        let ssrcs = ssrcs
            .iter()
            .map(|s| number(s))
            .collect::<Option<Vec<u32>>>()?;
        is_token(semantics).then(|| Self {
            semantics: (*semantics).into(),
            ssrcs,
        })
    }
}

impl fmt::Display for SsrcGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        self.ssrcs.iter().try_for_each(|s| write!(f, " {s}"))
    }
}
