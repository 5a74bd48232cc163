//! Errors from parsing an SDP text: the 1-based line and what is wrong with it.

use core::fmt;

/// An SDP text could not be parsed.
///
/// `line` is the 1-based line number the problem was found on; for a missing line at the end
/// of the text it is one past the last line. `Display` reads like
/// ``line 7: expected `m=<media> <port> <proto> <fmt> ...` ``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct SdpError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: SdpErrorKind,
}

impl SdpError {
    pub(crate) fn new(line: usize, kind: SdpErrorKind) -> Self {
        Self { line, kind }
    }
}

/// What is wrong with an SDP text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// The text is longer than [`SdpLimits::max_bytes`](super::SdpLimits::max_bytes).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The text has more lines than [`SdpLimits::max_lines`](super::SdpLimits::max_lines).
    TooManyLines {
        /// The limit in lines.
        limit: usize,
    },
    /// More `m=` sections than [`SdpLimits::max_media`](super::SdpLimits::max_media).
    TooManyMedia {
        /// The limit in media sections.
        limit: usize,
    },
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// The line is not `<type>=<value>` with a one-letter type.
    MalformedLine,
    /// The line holds a NUL or a carriage return that does not end it.
    ControlCharacter,
    /// The line type letter is not one RFC 8866 defines.
    UnknownLineType(char),
    /// The line type is valid but not allowed at this point (RFC 8866 §5 fixes the order).
    UnexpectedLine {
        /// The type letter found.
        found: char,
        /// Where it was found: `"session"` or `"media"` section.
        section: &'static str,
    },
    /// A required line is missing.
    MissingLine {
        /// The type letter of the missing line.
        expected: char,
    },
    /// `v=` is not `0`.
    UnsupportedVersion,
    /// A line's value does not follow its grammar; `expected` shows the grammar.
    InvalidValue {
        /// The grammar the line must follow, e.g. `` `m=<media> <port> <proto> <fmt> ...` ``.
        expected: &'static str,
    },
    /// An attribute WebRTC uses has a value that does not follow its grammar.
    InvalidAttribute {
        /// The attribute name.
        name: String,
        /// The grammar the attribute must follow.
        expected: &'static str,
    },
    /// An attribute appears at a level where RFC 8829 does not place it.
    MisplacedAttribute {
        /// The attribute name.
        name: String,
        /// `"session"` or `"media"`: where it was found.
        level: &'static str,
    },
}

impl fmt::Display for SdpErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "SDP is larger than {limit} bytes"),
            Self::TooManyLines { limit } => write!(f, "SDP has more than {limit} lines"),
            Self::TooManyMedia { limit } => write!(f, "SDP has more than {limit} media sections"),
            Self::InvalidUtf8 => f.write_str("not valid UTF-8"),
            Self::MalformedLine => f.write_str("expected `<type>=<value>`"),
            Self::ControlCharacter => f.write_str("NUL or stray carriage return in line"),
            Self::UnknownLineType(c) => write!(f, "unknown line type `{}=`", c.escape_debug()),
            Self::UnexpectedLine { found, section } => {
                write!(
                    f,
                    "`{found}=` line not allowed here in the {section} section"
                )
            }
            Self::MissingLine { expected } => write!(f, "missing `{expected}=` line"),
            Self::UnsupportedVersion => f.write_str("expected `v=0`"),
            Self::InvalidValue { expected } => write!(f, "expected `{expected}`"),
            Self::InvalidAttribute { name, expected } => {
                write!(f, "invalid `a={name}`: expected `a={expected}`")
            }
            Self::MisplacedAttribute { name, level } => {
                write!(f, "attribute `a={name}` is not allowed at {level} level")
            }
        }
    }
}
