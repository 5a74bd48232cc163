//! Typed values of `a=rid` (RFC 8851) and `a=simulcast` (RFC 8853).
//!
//! Parsing is liberal in what browsers and older drafts wrote: any run of spaces or tabs
//! between fields, a space after the colon (`a=simulcast: send ...`), the
//! `rid=` prefix of draft-ietf-mmusic-sdp-simulcast (older Firefox:
//! `a=simulcast: send rid=a;b`), keywords in any case, spaces after the `;` of a restriction
//! list, and empty entries from a trailing `;`. Printing is strict RFC syntax.

use core::fmt;

use super::text::is_byte_string;

/// Direction of a RID or a simulcast stream list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`
    Send,
    /// `recv`
    Recv,
}

impl RidDirection {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("send") {
            Some(Self::Send)
        } else if s.eq_ignore_ascii_case("recv") {
            Some(Self::Recv)
        } else {
            None
        }
    }
}

impl fmt::Display for RidDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 8851 `rid-id = 1*(alpha-numeric / "-" / "_")`.
fn is_rid_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `a=rid:<id> <send|recv> [<restrictions>]` (RFC 8851): one RTP stream identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rid {
    /// The RID.
    pub id: String,
    /// Whether the stream is sent or received.
    pub direction: RidDirection,
    /// Restrictions as written, e.g. `pt=96,97;max-width=1280`.
    pub restrictions: Option<String>,
}

impl Rid {
    /// The `;`-separated restrictions as `(name, value)`.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.restrictions
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (p, None),
            })
    }

    /// The payload types of a `pt=` restriction (empty when there is none).
    pub fn payload_types(&self) -> Vec<u8> {
        self.params()
            .find(|(k, _)| *k == "pt")
            .and_then(|(_, v)| v)
            .map(|v| v.split(',').filter_map(super::text::payload_type).collect())
            .unwrap_or_default()
    }

    /// The typed restrictions (RFC 8851 §4 and the codec-independent ones of §5).
    pub fn typed_restrictions(&self) -> RidRestrictions {
        let mut r = RidRestrictions {
            payload_types: self.payload_types(),
            ..RidRestrictions::default()
        };
        for (k, v) in self.params() {
            let n = v.and_then(super::text::number::<u32>);
            match k {
                "max-width" => r.max_width = n,
                "max-height" => r.max_height = n,
                "max-fps" => r.max_fps = n,
                "max-fs" => r.max_fs = n,
                "max-br" => r.max_br = n,
                "max-pps" => r.max_pps = n,
                "depend" => {
                    r.depend = v
                        .unwrap_or("")
                        .split(',')
                        .filter(|d| is_rid_id(d))
                        .map(str::to_string)
                        .collect();
                }
                _ => {}
            }
        }
        r
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let mut words = value.split_ascii_whitespace();
        let id = words.next()?;
        let direction = RidDirection::parse(words.next()?)?;
        // RFC 8851 has no space in the list; a space after a `;` is forgiven.
        let rest: String = words.collect();
        let restrictions = (!rest.is_empty()).then_some(rest);
        let ok = is_rid_id(id) && restrictions.as_deref().is_none_or(is_byte_string);
        ok.then_some(())?;
        Some(Self {
            id: id.into(),
            direction,
            restrictions,
        })
    }
}

/// The restrictions of an `a=rid` line, typed (unknown or malformed ones left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RidRestrictions {
    /// `pt=`: payload types the stream may use (empty: any).
    pub payload_types: Vec<u8>,
    /// `max-width`, pixels.
    pub max_width: Option<u32>,
    /// `max-height`, pixels.
    pub max_height: Option<u32>,
    /// `max-fps`, frames per second.
    pub max_fps: Option<u32>,
    /// `max-fs`, frame size in pixels.
    pub max_fs: Option<u32>,
    /// `max-br`, bit/s.
    pub max_br: Option<u32>,
    /// `max-pps`, pixels per second.
    pub max_pps: Option<u32>,
    /// `depend=`: the rids this stream depends on.
    pub depend: Vec<String>,
}

impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.direction)?;
        match &self.restrictions {
            Some(r) => write!(f, " {r}"),
            None => Ok(()),
        }
    }
}

/// One RID in a simulcast list, possibly paused (`~h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulcastRid {
    /// The RID.
    pub id: String,
    /// Written with a leading `~`: offered but paused.
    pub paused: bool,
}

/// One `send ...` or `recv ...` part of `a=simulcast`: a `;`-separated list of streams, each
/// a `,`-separated list of alternative RIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulcastStreams {
    /// Whether these streams are sent or received.
    pub direction: RidDirection,
    /// The streams; each has at least one alternative.
    pub streams: Vec<Vec<SimulcastRid>>,
}

impl SimulcastStreams {
    fn parse(direction: &str, list: &str) -> Option<Self> {
        // draft-ietf-mmusic-sdp-simulcast (up to -13) wrote `rid=` before the list.
        let list = list.strip_prefix("rid=").unwrap_or(list);
        let streams = list
            .split(';')
            .filter(|alts| !alts.is_empty())
            .map(|alts| alts.split(',').map(parse_sc_id).collect::<Option<Vec<_>>>())
            .collect::<Option<Vec<_>>>()?;
        (!streams.is_empty()).then_some(())?;
        Some(Self {
            direction: RidDirection::parse(direction)?,
            streams,
        })
    }
}

fn parse_sc_id(s: &str) -> Option<SimulcastRid> {
    let (paused, id) = match s.strip_prefix('~') {
        Some(id) => (true, id),
        None => (false, s),
    };
    is_rid_id(id).then(|| SimulcastRid {
        id: id.into(),
        paused,
    })
}

impl fmt::Display for SimulcastStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.direction)?;
        for (i, alts) in self.streams.iter().enumerate() {
            f.write_str(if i > 0 { ";" } else { "" })?;
            for (j, rid) in alts.iter().enumerate() {
                let sep = if j > 0 { "," } else { "" };
                let pause = if rid.paused { "~" } else { "" };
                write!(f, "{sep}{pause}{}", rid.id)?;
            }
        }
        Ok(())
    }
}

/// `a=simulcast:<send|recv> <list> [<recv|send> <list>]` (RFC 8853 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulcast {
    /// One or two parts in the order written; two parts have different directions.
    pub parts: Vec<SimulcastStreams>,
}

impl Simulcast {
    /// The streams in `direction`, if that part is present.
    pub fn streams(&self, direction: RidDirection) -> Option<&[Vec<SimulcastRid>]> {
        self.parts
            .iter()
            .find(|p| p.direction == direction)
            .map(|p| p.streams.as_slice())
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let words: Vec<&str> = value.split_ascii_whitespace().take(5).collect();
        let parts = match words.as_slice() {
            [d, l] => vec![SimulcastStreams::parse(d, l)?],
            [d1, l1, d2, l2] => {
                let a = SimulcastStreams::parse(d1, l1)?;
                let b = SimulcastStreams::parse(d2, l2)?;
                (a.direction != b.direction).then_some(())?;
                vec![a, b]
            }
            _ => return None,
        };
        Some(Self { parts })
    }
}

impl fmt::Display for Simulcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::text::write_joined(f, &self.parts, " ")
    }
}
