//! Typed values of the attributes that describe grouping, streams and the transport:
//! `group` (RFC 5888, 8843), `msid-semantic`, `msid` (RFC 8830), `fingerprint` (RFC 8122),
//! `setup` (RFC 4145), the direction attributes (RFC 8866 §6.7) and `ice-options`
//! (RFC 8839 §5.6).
//!
//! Each type parses the attribute *value* (the text after `a=<name>:`) and prints it back
//! canonically through `Display`.

use core::fmt;

use super::text::{fields, is_token, is_word, write_joined};

/// `a=group:<semantics> <mid> ...` (RFC 5888): a group of media sections by mid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Semantics token, e.g. [`Group::BUNDLE`].
    pub semantics: String,
    /// The mids in the group, in order (may be empty).
    pub mids: Vec<String>,
}

impl Group {
    /// RFC 8843 bundle semantics.
    pub const BUNDLE: &'static str = "BUNDLE";
    /// RFC 5888 lip synchronisation semantics.
    pub const LS: &'static str = "LS";

    /// A BUNDLE group of `mids`.
    pub fn bundle<S: Into<String>>(mids: impl IntoIterator<Item = S>) -> Self {
        Self {
            semantics: Self::BUNDLE.into(),
            mids: mids.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether this is a BUNDLE group.
    pub fn is_bundle(&self) -> bool {
        self.semantics == Self::BUNDLE
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let parts = fields(value)?;
        let (semantics, mids) = parts.split_first()?;
        (is_token(semantics) && mids.iter().all(|m| is_token(m))).then(|| Self {
            semantics: (*semantics).into(),
            mids: mids.iter().map(|m| (*m).into()).collect(),
        })
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.semantics)?;
        self.mids.iter().try_for_each(|m| write!(f, " {m}"))
    }
}

/// `a=msid-semantic:<semantic> <id> ...` (session level, pre-RFC 8830 drafts, still sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsidSemantic {
    /// Chromium and Safari write a space after the colon (`a=msid-semantic: WMS`), Firefox
    /// does not; kept so that either text prints back unchanged.
    pub leading_space: bool,
    /// Semantic token, usually `WMS`.
    pub semantic: String,
    /// Stream identifiers (or `*`), possibly none.
    pub ids: Vec<String>,
}

impl MsidSemantic {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (leading_space, rest) = match value.strip_prefix(' ') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let parts = fields(rest)?;
        let (semantic, ids) = parts.split_first()?;
        (is_token(semantic) && ids.iter().all(|i| is_word(i))).then(|| Self {
            leading_space,
            semantic: (*semantic).into(),
            ids: ids.iter().map(|i| (*i).into()).collect(),
        })
    }
}

impl fmt::Display for MsidSemantic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.leading_space {
            f.write_str(" ")?;
        }
        f.write_str(&self.semantic)?;
        self.ids.iter().try_for_each(|i| write!(f, " {i}"))
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830): the media stream a track belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msid {
    /// Stream id (`-` for a track without stream).
    pub stream_id: String,
    /// Application data, in WebRTC the track id.
    pub track_id: Option<String>,
}

impl Msid {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let parts = fields(value)?;
        match parts.as_slice() {
            [s] if is_token(s) => Some(Self {
                stream_id: (*s).into(),
                track_id: None,
            }),
            [s, t] if is_token(s) && is_token(t) => Some(Self {
                stream_id: (*s).into(),
                track_id: Some((*t).into()),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Msid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stream_id)?;
        match &self.track_id {
            Some(t) => write!(f, " {t}"),
            None => Ok(()),
        }
    }
}

/// `a=fingerprint:<hash-func> <XX:XX:...>` (RFC 8122): the DTLS certificate fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hash function name as written (e.g. `sha-256`); compare case-insensitively.
    pub hash: String,
    /// The digest bytes. Printed as upper-case hex pairs separated by colons.
    pub bytes: Vec<u8>,
}

impl Fingerprint {
    /// A `sha-256` fingerprint of `digest`.
    pub fn sha256(digest: [u8; 32]) -> Self {
        Self {
            hash: "sha-256".into(),
            bytes: digest.to_vec(),
        }
    }

    /// Digest length of the hash functions RFC 8122 names; `None` for others.
    fn expected_len(hash: &str) -> Option<usize> {
        match hash.to_ascii_lowercase().as_str() {
            "md2" | "md5" => Some(16),
            "sha-1" => Some(20),
            "sha-224" => Some(28),
            "sha-256" => Some(32),
            "sha-384" => Some(48),
            "sha-512" => Some(64),
            _ => None,
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (hash, digest) = value.split_once(' ')?;
        if !is_token(hash) {
            return None;
        }
        let bytes = digest
            .split(':')
            .map(hex_pair)
            .collect::<Option<Vec<u8>>>()?;
        let len_ok = Self::expected_len(hash).map_or(!bytes.is_empty(), |n| n == bytes.len());
        len_ok.then(|| Self {
            hash: hash.into(),
            bytes,
        })
    }
}

fn hex_pair(s: &str) -> Option<u8> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u8::from_str_radix(s, 16).ok())
        .flatten()
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash)?;
        for (i, b) in self.bytes.iter().enumerate() {
            let sep = if i > 0 { ":" } else { "" };
            write!(f, "{sep}{b:02X}")?;
        }
        Ok(())
    }
}

/// `a=setup:<role>` (RFC 4145, 8842): which side starts the DTLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// The endpoint initiates (DTLS client).
    Active,
    /// The endpoint accepts (DTLS server).
    Passive,
    /// The endpoint can do either (offers only).
    ActPass,
    /// No connection for now.
    HoldConn,
}

impl Setup {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Passive, Self::ActPass, Self::HoldConn]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The media direction attributes `a=sendrecv|sendonly|recvonly|inactive` (RFC 8866 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sends and receives (the default when no direction attribute is present).
    SendRecv,
    /// Sends only.
    SendOnly,
    /// Receives only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction as seen from the other side (sendonly ⇄ recvonly).
    pub fn reverse(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }

    /// Whether this side sends.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this side receives.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str() == name)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `a=ice-options:<option> ...` (RFC 8839 §5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceOptions(pub Vec<String>);

impl IceOptions {
    /// Trickle ICE (RFC 8838).
    pub const TRICKLE: &'static str = "trickle";
    /// ICE restart semantics of RFC 8445 (`ice2`).
    pub const ICE2: &'static str = "ice2";

    /// Whether `option` is listed.
    pub fn has(&self, option: &str) -> bool {
        self.0.iter().any(|o| o == option)
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let parts = fields(value)?;
        parts
            .iter()
            .all(|p| is_ice_option(p))
            .then(|| Self(parts.iter().map(|p| (*p).into()).collect()))
    }
}

/// RFC 8839 `ice-option-tag = 1*ice-char` (ALPHA / DIGIT / `+` / `/`); we also accept `-`
/// and `_`, which deployed stacks use in private options.
fn is_ice_option(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b))
}

impl fmt::Display for IceOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_joined(f, &self.0, " ")
    }
}

/// RFC 8839 `ice-char`: ALPHA / DIGIT / `+` / `/`.
pub(crate) fn is_ice_chars(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}
