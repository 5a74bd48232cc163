//! Typed values of `a=rid` (RFC 8851) and `a=simulcast` (RFC 8853).

use core::fmt;

use super::text::{is_byte_string, split_first};

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
        match s {
            "send" => Some(Self::Send),
            "recv" => Some(Self::Recv),
            _ => None,
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

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (id, rest) = value.split_once(' ')?;
        let (dir, restrictions) = split_first(rest);
        let ok =
            is_rid_id(id) && restrictions.is_none_or(|r| is_byte_string(r) && !r.contains(' '));
        ok.then_some(())?;
        Some(Self {
            id: id.into(),
            direction: RidDirection::parse(dir)?,
            restrictions: restrictions.map(Into::into),
        })
    }
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
        let streams = list
            .split(';')
            .map(|alts| alts.split(',').map(parse_sc_id).collect::<Option<Vec<_>>>())
            .collect::<Option<Vec<_>>>()?;
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
        let words: Vec<&str> = value.split(' ').collect();
        let parts = match words.as_slice() {
            [d, l] => vec![SimulcastStreams::parse(d, l)?],
            [d1, l1, d2, l2] if d1 != d2 => {
                vec![
                    SimulcastStreams::parse(d1, l1)?,
                    SimulcastStreams::parse(d2, l2)?,
                ]
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
