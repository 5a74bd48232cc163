//! Small lexical helpers shared by the SDP parser and the attribute types (RFC 8866 §9).
//!
//! Everything here is strict in the same way the printer is canonical: fields are separated
//! by exactly one space and numbers are plain decimals without leading zeros, so that whatever
//! parses prints back to the same text.

/// RFC 8866 `token-char`: visible ASCII except the separators `"(),/:;<=>?@[\]` and space.
pub(crate) fn is_token_char(c: char) -> bool {
    matches!(c, '!' | '#'..='\'' | '*' | '+' | '-' | '.' | '0'..='9' | 'A'..='Z' | '^'..='~')
}

/// A non-empty RFC 8866 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// A non-empty run of visible characters (no space, no control character).
pub(crate) fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control() && c != ' ')
}

/// RFC 8866 `byte-string` restricted to text: non-empty, no CR, LF or NUL.
pub(crate) fn is_byte_string(s: &str) -> bool {
    !s.is_empty() && !s.contains(['\r', '\n', '\0'])
}

/// A possibly empty free-text value (`s=`, `i=`, attribute values): no CR, LF or NUL.
pub(crate) fn is_text(s: &str) -> bool {
    !s.contains(['\r', '\n', '\0'])
}

/// Splits on single spaces; `None` if any field is empty (double, leading or trailing space).
pub(crate) fn fields(s: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = s.split(' ').collect();
    parts.iter().all(|p| !p.is_empty()).then_some(parts)
}

/// Splits off the first space-separated field; the rest may be absent.
pub(crate) fn split_first(s: &str) -> (&str, Option<&str>) {
    match s.split_once(' ') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    }
}

/// A canonical unsigned decimal: digits only, no sign, no leading zero (except `0` itself).
pub(crate) fn number<T: core::str::FromStr>(s: &str) -> Option<T> {
    let canonical = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s.len() == 1 || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// An RTP payload type (0..=127).
pub(crate) fn payload_type(s: &str) -> Option<u8> {
    number::<u8>(s).filter(|pt| *pt <= 127)
}

/// Writes `items` separated by `sep`.
pub(crate) fn write_joined<T: core::fmt::Display>(
    f: &mut core::fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
) -> core::fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}
