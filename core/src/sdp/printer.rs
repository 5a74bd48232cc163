//! The SDP printer: canonical text with CRLF line endings, lines in RFC 8866 §5 order.

use core::fmt;

use super::media::MediaDescription;
use super::session::SessionDescription;

/// Writes `<kind>=<value>\r\n`.
fn line(f: &mut fmt::Formatter<'_>, kind: char, value: &dyn fmt::Display) -> fmt::Result {
    write!(f, "{kind}={value}\r\n")
}

impl fmt::Display for SessionDescription {
    /// Prints the whole description; every line ends with CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, 'v', &0)?;
        line(f, 'o', &self.origin)?;
        line(f, 's', &self.session_name)?;
        if let Some(i) = &self.information {
            line(f, 'i', i)?;
        }
        if let Some(u) = &self.uri {
            line(f, 'u', u)?;
        }
        self.emails.iter().try_for_each(|e| line(f, 'e', e))?;
        self.phones.iter().try_for_each(|p| line(f, 'p', p))?;
        if let Some(c) = &self.connection {
            line(f, 'c', c)?;
        }
        self.bandwidths.iter().try_for_each(|b| line(f, 'b', b))?;
        for t in &self.times {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            t.repeats.iter().try_for_each(|r| line(f, 'r', r))?;
        }
        if !self.time_zones.is_empty() {
            f.write_str("z=")?;
            super::text::write_joined(f, &self.time_zones, " ")?;
            f.write_str("\r\n")?;
        }
        if let Some(k) = &self.key {
            line(f, 'k', k)?;
        }
        self.attributes.iter().try_for_each(|a| line(f, 'a', a))?;
        self.media.iter().try_for_each(|m| write!(f, "{m}"))
    }
}

/// Adapter printing the value of an `m=` line.
struct MLine<'a>(&'a MediaDescription);

impl fmt::Display for MLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_m_line(f)
    }
}

impl fmt::Display for MediaDescription {
    /// Prints the `m=` line and the section's lines; every line ends with CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, 'm', &MLine(self))?;
        if let Some(i) = &self.title {
            line(f, 'i', i)?;
        }
        self.connections.iter().try_for_each(|c| line(f, 'c', c))?;
        self.bandwidths.iter().try_for_each(|b| line(f, 'b', b))?;
        if let Some(k) = &self.key {
            line(f, 'k', k)?;
        }
        self.attributes.iter().try_for_each(|a| line(f, 'a', a))
    }
}
