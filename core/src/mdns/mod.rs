//! `mdns`: the Multicast DNS messages needed to resolve a peer's `.local` host candidates
//! (RFC 6762, on the RFC 1035 wire format; draft-ietf-mmusic-mdns-ice-candidates for why
//! browsers send them).
//!
//! Implemented: encoding a one-shot query (id 0, QM questions of class IN for A and/or AAAA
//! of one name); encoding a response with A/AAAA answers (for responders in tests and
//! simulations); parsing any DNS message: header, questions and the answer, authority and
//! additional records, with name compression. Parsing is bounded: every length is checked,
//! a compression pointer must point strictly backwards (so no loop is possible) and at most
//! [`MAX_POINTER_HOPS`] are followed per name, names are at most 255 bytes, and at most
//! [`MAX_RECORDS`] questions plus records are read. A, AAAA records are decoded; the
//! others are kept as their type only.
//!
//! Not implemented: known-answer suppression, probing and announcing, unicast-response
//! (QU) questions, caching by TTL, service discovery records. The core opens no socket:
//! the application (or an adapter) joins 224.0.0.251 / ff02::fb on a socket bound to port
//! 5353 and feeds what it receives to [`PeerConnection::handle_input`](crate::peer_connection::PeerConnection::handle_input).

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The mDNS port.
pub const MDNS_PORT: u16 = 5353;
/// The IPv4 mDNS group, 224.0.0.251.
pub const MDNS_IPV4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// The IPv6 mDNS group, ff02::fb.
pub const MDNS_IPV6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
/// Compression pointers followed at most while reading one name.
pub const MAX_POINTER_HOPS: usize = 16;
/// Questions plus records read at most from one message; more is an error.
pub const MAX_RECORDS: usize = 64;
/// The longest name on the wire (RFC 1035 section 3.1), in bytes.
const MAX_NAME_LEN: usize = 255;
/// The class IN.
const CLASS_IN: u16 = 1;
/// The cache-flush bit of a record's class (RFC 6762 section 10.2) and the unicast-response
/// bit of a question's class (section 5.4).
const CLASS_TOP_BIT: u16 = 0x8000;
/// The QR bit of the flags: a response.
const FLAG_RESPONSE: u16 = 0x8000;
/// The AA bit of the flags, set in every mDNS response (RFC 6762 section 18.4).
const FLAG_AUTHORITATIVE: u16 = 0x0400;

/// The multicast destination for queries from a socket of `local`'s family.
pub fn group_for(local: SocketAddr) -> SocketAddr {
    match local {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(MDNS_IPV4), MDNS_PORT),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(MDNS_IPV6), MDNS_PORT),
    }
}

/// A record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordType {
    /// An IPv4 address (1).
    A,
    /// An IPv6 address (28).
    Aaaa,
    /// Any other type, by number.
    Other(u16),
}

impl RecordType {
    fn code(self) -> u16 {
        match self {
            Self::A => 1,
            Self::Aaaa => 28,
            Self::Other(c) => c,
        }
    }

    fn from_code(c: u16) -> Self {
        match c {
            1 => Self::A,
            28 => Self::Aaaa,
            c => Self::Other(c),
        }
    }
}

/// Why bytes are not a DNS message, or why a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MdnsError {
    /// The message ends inside a header, name or record.
    #[error("DNS message truncated")]
    Truncated,
    /// A label length byte with the reserved top bits 01 or 10.
    #[error("reserved DNS label type")]
    BadLabel,
    /// A label that holds a `.` byte: the dotted names this module reads and writes cannot
    /// tell it from two labels, so such a name would be answered or matched as another.
    #[error("DNS label containing a dot")]
    DotInLabel,
    /// A compression pointer that does not point backwards, or too many of them.
    #[error("bad DNS compression pointer")]
    BadPointer,
    /// A name longer than 255 bytes on the wire.
    #[error("DNS name too long")]
    NameTooLong,
    /// More questions and records than [`MAX_RECORDS`].
    #[error("too many DNS records")]
    TooManyRecords,
    /// An A or AAAA record whose data has the wrong length.
    #[error("bad DNS record data length")]
    BadRdata,
    /// A name to encode with an empty or over-long label, or that is too long.
    #[error("name {0:?} cannot be encoded")]
    InvalidName(String),
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, labels joined by `.`, without a trailing dot.
    pub name: String,
    /// The type asked for.
    pub qtype: RecordType,
    /// Whether the unicast-response bit is set (a QU question).
    pub unicast_response: bool,
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData {
    /// An address (A or AAAA).
    Address(IpAddr),
    /// A record of another type; its data is skipped.
    Other(RecordType),
}

/// One resource record of class IN (records of other classes are skipped while parsing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name, labels joined by `.`, without a trailing dot.
    pub name: String,
    /// Time to live in seconds; 0 is a goodbye (RFC 6762 section 10.1).
    pub ttl: u32,
    /// The data.
    pub data: RecordData,
}

/// A parsed DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The id (0 in mDNS; ignored on reception, RFC 6762 section 18.1).
    pub id: u16,
    /// Whether the QR bit is set.
    pub is_response: bool,
    /// The OPCODE (0 for a standard query or its response; RFC 6762 section 18.3 has mDNS
    /// ignore every other).
    pub opcode: u8,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer, authority and additional records of class IN, in order.
    pub records: Vec<Record>,
}

impl Message {
    /// The addresses the message's records give for `name` (compared ignoring ASCII case,
    /// a trailing dot ignored), goodbyes (TTL 0) left out, duplicates removed.
    pub fn addresses_of(&self, name: &str) -> Vec<IpAddr> {
        let name = name.trim_end_matches('.');
        let mut out: Vec<IpAddr> = Vec::new();
        for r in &self.records {
            if let RecordData::Address(ip) = r.data
                && r.ttl > 0
                && r.name.eq_ignore_ascii_case(name)
                && !out.contains(&ip)
            {
                out.push(ip);
            }
        }
        out
    }
}

/// A one-shot mDNS query (RFC 6762 section 5.1): id 0, no flags, one QM question of class
/// IN per entry of `types` for `name`.
///
/// Errors: `name` has an empty label, a label over 63 bytes, or is over 255 bytes encoded.
pub fn encode_query(name: &str, types: &[RecordType]) -> Result<Vec<u8>, MdnsError> {
    let encoded = encode_name(name)?;
    let count = u16::try_from(types.len()).map_err(|_| MdnsError::TooManyRecords)?;
    let mut out = Vec::with_capacity(12 + types.len() * (encoded.len() + 4));
    put_header(&mut out, 0, count, 0);
    for t in types {
        out.extend_from_slice(&encoded);
        out.extend_from_slice(&t.code().to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
    }
    Ok(out)
}

/// An mDNS response (RFC 6762 section 6): id 0, QR and AA set, no questions, one A or AAAA
/// answer per address for `name` with the cache-flush bit, the first answer's name written
/// out and the others pointing at it.
///
/// Errors: as [`encode_query`].
pub fn encode_response(name: &str, addrs: &[IpAddr], ttl: u32) -> Result<Vec<u8>, MdnsError> {
    let encoded = encode_name(name)?;
    let count = u16::try_from(addrs.len()).map_err(|_| MdnsError::TooManyRecords)?;
    let mut out = Vec::new();
    put_header(&mut out, FLAG_RESPONSE | FLAG_AUTHORITATIVE, 0, count);
    for (i, ip) in addrs.iter().enumerate() {
        if i == 0 {
            out.extend_from_slice(&encoded);
        } else {
            out.extend_from_slice(&[0xc0, 12]); // the first answer's name, at offset 12
        }
        let (rtype, rdata): (RecordType, Vec<u8>) = match ip {
            IpAddr::V4(v4) => (RecordType::A, v4.octets().to_vec()),
            IpAddr::V6(v6) => (RecordType::Aaaa, v6.octets().to_vec()),
        };
        out.extend_from_slice(&rtype.code().to_be_bytes());
        out.extend_from_slice(&(CLASS_IN | CLASS_TOP_BIT).to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Ok(out)
}

fn put_header(out: &mut Vec<u8>, flags: u16, questions: u16, answers: u16) {
    for v in [0, flags, questions, answers, 0, 0] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// `name` as wire labels ending in the root label.
fn encode_name(name: &str) -> Result<Vec<u8>, MdnsError> {
    let invalid = || MdnsError::InvalidName(name.to_string());
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid());
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() > MAX_NAME_LEN {
        return Err(invalid());
    }
    Ok(out)
}

/// Parses a DNS message (query or response). Never panics; see the module docs for the
/// bounds.
pub fn parse(buf: &[u8]) -> Result<Message, MdnsError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
    if total > MAX_RECORDS {
        return Err(MdnsError::TooManyRecords);
    }
    let mut msg = Message {
        id,
        is_response: flags & FLAG_RESPONSE != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        ..Message::default()
    };
    for _ in 0..counts[0] {
        let name = r.name()?;
        let qtype = RecordType::from_code(r.u16()?);
        let class = r.u16()?;
        msg.questions.push(Question {
            name,
            qtype,
            unicast_response: class & CLASS_TOP_BIT != 0,
        });
    }
    for _ in 0..(total - usize::from(counts[0])) {
        if let Some(record) = r.record()? {
            msg.records.push(record);
        }
    }
    Ok(msg)
}

/// A cursor over the message; every read is bounds-checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MdnsError> {
        let end = self.pos.checked_add(n).ok_or(MdnsError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(MdnsError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, MdnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, MdnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// One record; `None` for a class other than IN (skipped).
    fn record(&mut self) -> Result<Option<Record>, MdnsError> {
        let name = self.name()?;
        let rtype = RecordType::from_code(self.u16()?);
        let class = self.u16()? & !CLASS_TOP_BIT;
        let ttl = self.u32()?;
        let len = usize::from(self.u16()?);
        let rdata = self.take(len)?;
        if class != CLASS_IN {
            return Ok(None);
        }
        let data = match rtype {
            RecordType::A => {
                let o: [u8; 4] = rdata.try_into().map_err(|_| MdnsError::BadRdata)?;
                RecordData::Address(IpAddr::V4(Ipv4Addr::from(o)))
            }
            RecordType::Aaaa => {
                let o: [u8; 16] = rdata.try_into().map_err(|_| MdnsError::BadRdata)?;
                RecordData::Address(IpAddr::V6(Ipv6Addr::from(o)))
            }
            other => RecordData::Other(other),
        };
        Ok(Some(Record { name, ttl, data }))
    }

    /// A possibly compressed name at the cursor; the cursor moves past its in-place part.
    /// A pointer must point before the start of the run of labels that holds it, so each
    /// run starts strictly earlier than the last and no loop is possible; the hop count
    /// is bounded as well.
    fn name(&mut self) -> Result<String, MdnsError> {
        let mut name = String::new();
        let mut wire_len = 1; // the root label
        let mut at = self.pos;
        let mut run_start = at;
        let mut resume = None;
        let mut hops = 0;
        loop {
            let len = *self.buf.get(at).ok_or(MdnsError::Truncated)?;
            match len >> 6 {
                0b11 => {
                    let low = *self.buf.get(at + 1).ok_or(MdnsError::Truncated)?;
                    let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                    hops += 1;
                    if target >= run_start || hops > MAX_POINTER_HOPS {
                        return Err(MdnsError::BadPointer);
                    }
                    resume.get_or_insert(at + 2);
                    at = target;
                    run_start = target;
                }
                0b00 if len == 0 => {
                    self.pos = resume.unwrap_or(at + 1);
                    return Ok(name);
                }
                0b00 => {
                    let len = usize::from(len);
                    let label = self
                        .buf
                        .get(at + 1..at + 1 + len)
                        .ok_or(MdnsError::Truncated)?;
                    wire_len += len + 1;
                    if wire_len > MAX_NAME_LEN {
                        return Err(MdnsError::NameTooLong);
                    }
                    if label.contains(&b'.') {
                        return Err(MdnsError::DotInLabel);
                    }
                    if !name.is_empty() {
                        name.push('.');
                    }
                    name.push_str(&String::from_utf8_lossy(label));
                    at += 1 + len;
                }
                _ => return Err(MdnsError::BadLabel),
            }
        }
    }
}
