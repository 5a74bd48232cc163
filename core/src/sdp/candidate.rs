//! The value of `a=candidate:` (RFC 8839 §5.1), kept as a validated string.
//!
//! The typed ICE candidate lives in the `ice` module; this newtype only checks the shape
//! (`<foundation> <component> <transport> <priority> <address> <port> typ <type>` followed by
//! name/value pairs such as `raddr`, `rport`, `tcptype`, `generation`) so that a description
//! that parsed carries well-formed candidates, and offers accessors for those fields.

use core::fmt;

use super::text::{fields, is_token, is_word, number};

/// A validated `a=candidate:` value (without the `candidate:` prefix).
///
/// Invariant: the text satisfies the shape above, with fields separated by single spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CandidateValue(String);

impl CandidateValue {
    /// Checks the RFC 8839 shape of `value` (the text after `candidate:`).
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidCandidate> {
        let value = value.into();
        if is_valid(&value) {
            Ok(Self(value))
        } else {
            Err(InvalidCandidate)
        }
    }

    /// The candidate text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn field(&self, i: usize) -> &str {
        self.0
            .split(' ')
            .nth(i)
            .expect("validated: at least 8 fields")
    }

    /// Foundation (1 to 32 ice-chars).
    pub fn foundation(&self) -> &str {
        self.field(0)
    }

    /// Component id (1 for RTP).
    pub fn component(&self) -> u16 {
        number(self.field(1)).expect("validated: component is a number")
    }

    /// Transport, e.g. `udp` or `tcp` (compare case-insensitively).
    pub fn transport(&self) -> &str {
        self.field(2)
    }

    /// Priority.
    pub fn priority(&self) -> u32 {
        number(self.field(3)).expect("validated: priority is a u32")
    }

    /// Connection address: an IP address or a (for example mDNS `.local`) name.
    pub fn address(&self) -> &str {
        self.field(4)
    }

    /// Port.
    pub fn port(&self) -> u16 {
        number(self.field(5)).expect("validated: port is a u16")
    }

    /// Candidate type: `host`, `srflx`, `prflx`, `relay` or an extension token.
    pub fn typ(&self) -> &str {
        self.field(7)
    }

    /// The value of an extension or `raddr`/`rport`/`tcptype` field named `name`.
    pub fn extension(&self, name: &str) -> Option<&str> {
        let rest: Vec<&str> = self.0.split(' ').skip(8).collect();
        rest.chunks(2)
            .find(|kv| kv.first() == Some(&name))
            .and_then(|kv| kv.get(1).copied())
    }
}

fn is_ice_chars(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/".contains(&b))
}

fn is_valid(value: &str) -> bool {
    let Some(f) = fields(value) else { return false };
    let [
        foundation,
        component,
        transport,
        priority,
        address,
        port,
        typ,
        kind,
        rest @ ..,
    ] = f.as_slice()
    else {
        return false;
    };
    let component_ok = number::<u16>(component).is_some_and(|c| (1..=256).contains(&c));
    is_ice_chars(foundation, 32)
        && component_ok
        && is_token(transport)
        && number::<u32>(priority).is_some_and(|p| p > 0)
        && is_word(address)
        && number::<u16>(port).is_some()
        && *typ == "typ"
        && is_token(kind)
        && rest.len() % 2 == 0
        && rest.iter().all(|w| is_word(w))
}

impl fmt::Display for CandidateValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A candidate value does not have the RFC 8839 shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected `<foundation> <component> <transport> <priority> <address> <port> typ <type> [<name> <value>]...`"
)]
pub struct InvalidCandidate;
