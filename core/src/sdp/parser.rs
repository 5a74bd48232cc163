//! The SDP parser: splits lines, enforces the RFC 8866 §5 line order and the limits, and
//! builds the typed model, naming the 1-based line of the first problem.

use super::attribute::{Attribute, AttributeError, Level};
use super::error::{SdpError, SdpErrorKind};
use super::media::MediaDescription;
use super::session::{
    Bandwidth, ConnectionAddress, Origin, Repeat, SessionDescription, TimeDescription,
    TimeZoneAdjustment,
};
use super::text::is_word;

/// Bounds that protect the parser against hostile input. The defaults are far above what
/// browsers produce (Chromium's offer with audio, video and data is about 6 KB, 180 lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdpLimits {
    /// Largest accepted text in bytes.
    pub max_bytes: usize,
    /// Most accepted lines.
    pub max_lines: usize,
    /// Most accepted `m=` sections.
    pub max_media: usize,
}

impl Default for SdpLimits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            max_lines: 8192,
            max_media: 256,
        }
    }
}

/// Order of session-level line types (RFC 8866 §5); `m` ends the session part.
const SESSION_ORDER: &[u8] = b"vosiuepcbtrzka";
/// Order of media-level line types after `m=`.
const MEDIA_ORDER: &[u8] = b"micbka";
/// Session line types that must appear.
const REQUIRED: &[u8] = b"vost";

const ORIGIN: &str = "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>";
const CONNECTION: &str = "c=<nettype> <addrtype> <connection-address>";
const BANDWIDTH: &str = "b=<bwtype>:<bandwidth>";
const TIMING: &str = "t=<start-time> <stop-time>";
const REPEAT: &str = "r=<repeat interval> <active duration> <offset>...";
const ZONE: &str = "z=<adjustment time> <offset> ...";
const MEDIA: &str = "m=<media> <port> <proto> <fmt> ...";
const URI: &str = "u=<uri>";

/// Parses `text` (LF or CRLF line endings) within `limits`.
///
/// Blank (or whitespace-only) lines, which hand-assembled SDP often ends with, are skipped:
/// no valid line is blank, so nothing else can be meant. Everything else is strict (a value's
/// trailing spaces can be part of it, e.g. in `a=fmtp`), and printing is canonical.
pub(crate) fn parse(text: &str, limits: &SdpLimits) -> Result<SessionDescription, SdpError> {
    if text.len() > limits.max_bytes {
        let line = line_at(text.as_bytes(), limits.max_bytes);
        return Err(SdpError::new(
            line,
            SdpErrorKind::TooLarge {
                limit: limits.max_bytes,
            },
        ));
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut state = State::new(limits);
    let mut count = 0;
    if !text.is_empty() {
        for (i, raw) in body.split('\n').enumerate() {
            count = i + 1;
            if count > limits.max_lines {
                let kind = SdpErrorKind::TooManyLines {
                    limit: limits.max_lines,
                };
                return Err(SdpError::new(count, kind));
            }
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim_matches([' ', '\t']).is_empty() {
                continue;
            }
            state
                .line(line)
                .map_err(|kind| SdpError::new(count, kind))?;
        }
    }
    state
        .finish()
        .map_err(|kind| SdpError::new(count + 1, kind))
}

/// The 1-based line number that byte offset `at` falls on.
pub(crate) fn line_at(bytes: &[u8], at: usize) -> usize {
    let end = at.min(bytes.len());
    bytes
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Session fields collected so far; `origin` is set once the `o=` line is seen.
struct State<'l> {
    limits: &'l SdpLimits,
    /// Index in `SESSION_ORDER` (or `MEDIA_ORDER` once in media) of the last line.
    last: Option<usize>,
    origin: Option<Origin>,
    session: Option<SessionDescription>,
    in_media: bool,
}

type LineResult = Result<(), SdpErrorKind>;

impl<'l> State<'l> {
    fn new(limits: &'l SdpLimits) -> Self {
        Self {
            limits,
            last: None,
            origin: None,
            session: None,
            in_media: false,
        }
    }

    fn line(&mut self, line: &str) -> LineResult {
        if line.contains(['\r', '\0']) {
            return Err(SdpErrorKind::ControlCharacter);
        }
        let bytes = line.as_bytes();
        let (Some(&kind), Some(b'=')) = (bytes.first(), bytes.get(1)) else {
            return Err(SdpErrorKind::MalformedLine);
        };
        if !kind.is_ascii_lowercase() {
            return Err(SdpErrorKind::MalformedLine);
        }
        let value = line.get(2..).expect("bytes 0 and 1 are ASCII");
        if kind == b'm' {
            return self.media_line(value);
        }
        if self.in_media {
            self.media_field(kind, value)
        } else {
            self.session_field(kind, value)
        }
    }

    fn session(&mut self) -> &mut SessionDescription {
        self.session
            .as_mut()
            .expect("the order check saw o= and s= before any later line")
    }

    fn media(&mut self) -> &mut MediaDescription {
        self.session()
            .media
            .last_mut()
            .expect("in_media is set only after pushing a section")
    }

    /// Checks that `kind` may follow the previous session-level line.
    fn session_order(&mut self, kind: u8) -> LineResult {
        let rank = SESSION_ORDER
            .iter()
            .position(|&k| k == kind)
            .ok_or(SdpErrorKind::UnknownLineType(kind as char))?;
        let repeatable = b"epbta".contains(&kind);
        let allowed = match (self.last, kind) {
            (Some(last), b'r') => matches!(SESSION_ORDER.get(last), Some(b't' | b'r')),
            (Some(last), b't') if SESSION_ORDER.get(last) == Some(&b'r') => true,
            (Some(last), _) => rank > last || (rank == last && repeatable),
            (None, _) => true,
        };
        if !allowed {
            return Err(SdpErrorKind::UnexpectedLine {
                found: kind as char,
                section: "session",
            });
        }
        let from = self.last.map_or(0, |l| l + 1);
        if let Some(&missing) = SESSION_ORDER
            .get(from..rank)
            .and_then(|skipped| skipped.iter().find(|k| REQUIRED.contains(k)))
        {
            return Err(SdpErrorKind::MissingLine {
                expected: missing as char,
            });
        }
        self.last = Some(rank);
        Ok(())
    }

    fn session_field(&mut self, kind: u8, value: &str) -> LineResult {
        self.session_order(kind)?;
        let bad = |expected| SdpErrorKind::InvalidValue { expected };
        match kind {
            b'v' => (value == "0")
                .then_some(())
                .ok_or(SdpErrorKind::UnsupportedVersion)?,
            b'o' => self.origin = Some(Origin::parse(value).ok_or(bad(ORIGIN))?),
            b's' => {
                let origin = self.origin.take().expect("order check: o= precedes s=");
                let mut session = SessionDescription::new(origin);
                session.session_name = value.into();
                session.times.clear();
                self.session = Some(session);
            }
            b'i' => self.session().information = Some(value.into()),
            b'u' => {
                self.session().uri = Some(is_word(value).then(|| value.into()).ok_or(bad(URI))?)
            }
            b'e' => self.session().emails.push(value.into()),
            b'p' => self.session().phones.push(value.into()),
            b'c' => {
                self.session().connection =
                    Some(ConnectionAddress::parse(value).ok_or(bad(CONNECTION))?)
            }
            b'b' => self
                .session()
                .bandwidths
                .push(Bandwidth::parse(value).ok_or(bad(BANDWIDTH))?),
            b't' => self
                .session()
                .times
                .push(TimeDescription::parse(value).ok_or(bad(TIMING))?),
            b'r' => {
                let repeat = Repeat::parse(value).ok_or(bad(REPEAT))?;
                let time = self
                    .session()
                    .times
                    .last_mut()
                    .expect("order check: r= follows t=");
                time.repeats.push(repeat);
            }
            b'z' => {
                self.session().time_zones =
                    TimeZoneAdjustment::parse_line(value).ok_or(bad(ZONE))?
            }
            b'k' => self.session().key = Some(value.into()),
            _ => {
                let attribute = parse_attribute(value, Level::Session)?;
                self.session().attributes.push(attribute);
            }
        }
        Ok(())
    }

    fn media_line(&mut self, value: &str) -> LineResult {
        if !self.in_media {
            self.session_order(b'a')?;
            self.last = None;
        }
        let limit = self.limits.max_media;
        let media = MediaDescription::parse_m_line(value)
            .ok_or(SdpErrorKind::InvalidValue { expected: MEDIA })?;
        let session = self.session();
        if session.media.len() >= limit {
            return Err(SdpErrorKind::TooManyMedia { limit });
        }
        session.media.push(media);
        self.in_media = true;
        self.last = Some(0);
        Ok(())
    }

    fn media_field(&mut self, kind: u8, value: &str) -> LineResult {
        let unexpected = SdpErrorKind::UnexpectedLine {
            found: kind as char,
            section: "media",
        };
        let Some(rank) = MEDIA_ORDER.iter().position(|&k| k == kind) else {
            return Err(if SESSION_ORDER.contains(&kind) {
                unexpected
            } else {
                SdpErrorKind::UnknownLineType(kind as char)
            });
        };
        let last = self.last.expect("set when the m= line was read");
        if rank < last || (rank == last && !b"cba".contains(&kind)) {
            return Err(unexpected);
        }
        self.last = Some(rank);
        let bad = |expected| SdpErrorKind::InvalidValue { expected };
        match kind {
            b'i' => self.media().title = Some(value.into()),
            b'c' => {
                let c = ConnectionAddress::parse(value).ok_or(bad(CONNECTION))?;
                self.media().connections.push(c);
            }
            b'b' => {
                let b = Bandwidth::parse(value).ok_or(bad(BANDWIDTH))?;
                self.media().bandwidths.push(b);
            }
            b'k' => self.media().key = Some(value.into()),
            _ => {
                let attribute = parse_attribute(value, Level::Media)?;
                self.media().attributes.push(attribute);
            }
        }
        Ok(())
    }

    /// Checks what must be present once all lines are read.
    fn finish(mut self) -> Result<SessionDescription, SdpErrorKind> {
        if !self.in_media {
            // Any required line not yet seen is missing.
            let seen = self.last.map_or(0, |l| l + 1);
            if let Some(&missing) = SESSION_ORDER
                .get(seen..)
                .and_then(|rest| rest.iter().find(|k| REQUIRED.contains(k)))
            {
                return Err(SdpErrorKind::MissingLine {
                    expected: missing as char,
                });
            }
        }
        self.session
            .take()
            .ok_or(SdpErrorKind::MissingLine { expected: 'v' })
    }
}

fn parse_attribute(value: &str, level: Level) -> Result<Attribute, SdpErrorKind> {
    let attribute = Attribute::parse(value).map_err(AttributeError::into_kind)?;
    let allowed = attribute.level() == Level::Both || attribute.level() == level;
    if !allowed {
        let level = if level == Level::Session {
            "session"
        } else {
            "media"
        };
        return Err(SdpErrorKind::MisplacedAttribute {
            name: attribute.name().into(),
            level,
        });
    }
    Ok(attribute)
}
