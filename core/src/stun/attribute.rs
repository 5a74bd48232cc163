//! STUN attributes (RFC 8489 section 14, RFC 8445 section 16.1): type numbers, the typed
//! [`Attribute`] enum, and the value formats (addresses, strings, ERROR-CODE, ...).

use super::StunError;
use super::header::{MAGIC_COOKIE, TransactionId};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// A STUN attribute type: an open 16-bit number with named constants.
///
/// Types below 0x8000 are comprehension-required: a receiver that does not understand one
/// must reject the message (a server answers 420 with UNKNOWN-ATTRIBUTES).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeType(pub u16);

macro_rules! attribute_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $text:expr;)*) => {
        impl AttributeType {
            $($(#[$doc])* pub const $name: AttributeType = AttributeType($value);)*

            /// The RFC name of a registered type this crate knows, if any.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

attribute_types! {
    /// MAPPED-ADDRESS (RFC 8489).
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS";
    /// USERNAME (RFC 8489).
    USERNAME = 0x0006, "USERNAME";
    /// MESSAGE-INTEGRITY, HMAC-SHA1 (RFC 8489).
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY";
    /// ERROR-CODE (RFC 8489).
    ERROR_CODE = 0x0009, "ERROR-CODE";
    /// UNKNOWN-ATTRIBUTES (RFC 8489).
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES";
    /// CHANNEL-NUMBER (TURN, RFC 8656).
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER";
    /// LIFETIME (TURN).
    LIFETIME = 0x000D, "LIFETIME";
    /// XOR-PEER-ADDRESS (TURN).
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS";
    /// DATA (TURN).
    DATA = 0x0013, "DATA";
    /// REALM (RFC 8489).
    REALM = 0x0014, "REALM";
    /// NONCE (RFC 8489).
    NONCE = 0x0015, "NONCE";
    /// XOR-RELAYED-ADDRESS (TURN).
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS";
    /// REQUESTED-ADDRESS-FAMILY (TURN).
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY";
    /// EVEN-PORT (TURN).
    EVEN_PORT = 0x0018, "EVEN-PORT";
    /// REQUESTED-TRANSPORT (TURN).
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT";
    /// DONT-FRAGMENT (TURN).
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT";
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489).
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256";
    /// PASSWORD-ALGORITHM (RFC 8489).
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM";
    /// USERHASH (RFC 8489).
    USERHASH = 0x001E, "USERHASH";
    /// XOR-MAPPED-ADDRESS (RFC 8489).
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS";
    /// RESERVATION-TOKEN (TURN).
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN";
    /// PRIORITY (ICE, RFC 8445).
    PRIORITY = 0x0024, "PRIORITY";
    /// USE-CANDIDATE (ICE).
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE";
    /// PASSWORD-ALGORITHMS (RFC 8489).
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS";
    /// ALTERNATE-DOMAIN (RFC 8489).
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN";
    /// SOFTWARE (RFC 8489).
    SOFTWARE = 0x8022, "SOFTWARE";
    /// ALTERNATE-SERVER (RFC 8489).
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER";
    /// FINGERPRINT (RFC 8489).
    FINGERPRINT = 0x8028, "FINGERPRINT";
    /// ICE-CONTROLLED (ICE).
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED";
    /// ICE-CONTROLLING (ICE).
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING";
}

impl AttributeType {
    /// Whether a receiver that does not understand this type must reject the message
    /// (types 0x0000..=0x7FFF).
    pub fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }

    /// Whether this codec understands the type: it has a typed [`Attribute`] variant or is
    /// one of the integrity/fingerprint attributes the codec handles itself.
    pub fn is_understood(self) -> bool {
        matches!(
            self,
            AttributeType::MAPPED_ADDRESS
                | AttributeType::XOR_MAPPED_ADDRESS
                | AttributeType::USERNAME
                | AttributeType::REALM
                | AttributeType::NONCE
                | AttributeType::SOFTWARE
                | AttributeType::ERROR_CODE
                | AttributeType::UNKNOWN_ATTRIBUTES
                | AttributeType::ALTERNATE_SERVER
                | AttributeType::PRIORITY
                | AttributeType::USE_CANDIDATE
                | AttributeType::ICE_CONTROLLED
                | AttributeType::ICE_CONTROLLING
                | AttributeType::MESSAGE_INTEGRITY
                | AttributeType::MESSAGE_INTEGRITY_SHA256
                | AttributeType::FINGERPRINT
        )
    }
}

impl fmt::Debug for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "AttributeType({:#06x})", self.0),
        }
    }
}

/// An ERROR-CODE value: a code in 300..=699 and a UTF-8 reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorCode {
    code: u16,
    reason: String,
}

impl ErrorCode {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 487 Role Conflict (ICE).
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error.
    pub const SERVER_ERROR: u16 = 500;

    /// An error code with its reason phrase; an error unless `code` is in 300..=699.
    pub fn new(code: u16, reason: impl Into<String>) -> Result<ErrorCode, StunError> {
        if !(300..=699).contains(&code) {
            return Err(StunError::InvalidErrorCode(code));
        }
        Ok(ErrorCode {
            code,
            reason: reason.into(),
        })
    }

    /// The numeric code (300..=699).
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The reason phrase.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub(crate) fn decode(value: &[u8]) -> Result<ErrorCode, StunError> {
        let malformed = |reason| StunError::MalformedAttribute {
            typ: AttributeType::ERROR_CODE.0,
            reason,
        };
        let [_, _, class, number, reason @ ..] = value else {
            return Err(malformed("shorter than 4 bytes"));
        };
        let (class, number) = (u16::from(class & 0x07), u16::from(*number));
        if !(3..=6).contains(&class) || number > 99 {
            return Err(malformed("class or number out of range"));
        }
        let reason = std::str::from_utf8(reason).map_err(|_| malformed("reason is not UTF-8"))?;
        Ok(ErrorCode {
            code: class * 100 + number,
            reason: reason.to_owned(),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let class = u8::try_from(self.code / 100).expect("code is in 300..=699");
        let number = u8::try_from(self.code % 100).expect("a remainder of 100 fits in u8");
        out.extend_from_slice(&[0, 0, class, number]);
        out.extend_from_slice(self.reason.as_bytes());
    }
}

/// One STUN attribute, typed where this codec understands it.
///
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are not variants: the
/// encoder computes them ([`super::StunMessage::encode`]) and the view verifies them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attribute {
    /// MAPPED-ADDRESS: the reflexive address, not obfuscated (RFC 3489 compatibility).
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS: the reflexive address, XORed with the cookie and transaction id.
    XorMappedAddress(SocketAddr),
    /// USERNAME (for ICE: `remote-ufrag:local-ufrag`).
    Username(String),
    /// REALM (long-term credentials).
    Realm(String),
    /// NONCE (long-term credentials).
    Nonce(String),
    /// SOFTWARE: a description of the sender's software.
    Software(String),
    /// ERROR-CODE, in error responses.
    ErrorCode(ErrorCode),
    /// UNKNOWN-ATTRIBUTES: the types a 420 response did not understand.
    UnknownAttributes(Vec<u16>),
    /// ALTERNATE-SERVER, with a 300 response.
    AlternateServer(SocketAddr),
    /// PRIORITY of the candidate a check is sent from (ICE).
    Priority(u32),
    /// USE-CANDIDATE: the controlling agent nominates this pair (ICE).
    UseCandidate,
    /// ICE-CONTROLLED with the sender's tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING with the sender's tie-breaker.
    IceControlling(u64),
    /// Any other attribute, kept as its raw value (without padding) and re-emitted as is.
    Unknown {
        /// The attribute type.
        typ: u16,
        /// The value bytes.
        value: Vec<u8>,
    },
}

impl Attribute {
    /// The attribute's type number.
    pub fn typ(&self) -> AttributeType {
        match self {
            Attribute::MappedAddress(_) => AttributeType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttributeType::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => AttributeType::USERNAME,
            Attribute::Realm(_) => AttributeType::REALM,
            Attribute::Nonce(_) => AttributeType::NONCE,
            Attribute::Software(_) => AttributeType::SOFTWARE,
            Attribute::ErrorCode(_) => AttributeType::ERROR_CODE,
            Attribute::UnknownAttributes(_) => AttributeType::UNKNOWN_ATTRIBUTES,
            Attribute::AlternateServer(_) => AttributeType::ALTERNATE_SERVER,
            Attribute::Priority(_) => AttributeType::PRIORITY,
            Attribute::UseCandidate => AttributeType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttributeType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttributeType::ICE_CONTROLLING,
            Attribute::Unknown { typ, .. } => AttributeType(*typ),
        }
    }

    /// The length of the value in bytes, without padding.
    pub fn value_len(&self) -> usize {
        match self {
            Attribute::MappedAddress(a)
            | Attribute::XorMappedAddress(a)
            | Attribute::AlternateServer(a) => address_len(a),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s) => s.len(),
            Attribute::ErrorCode(e) => 4 + e.reason.len(),
            Attribute::UnknownAttributes(types) => 2 * types.len(),
            Attribute::Priority(_) => 4,
            Attribute::UseCandidate => 0,
            Attribute::IceControlled(_) | Attribute::IceControlling(_) => 8,
            Attribute::Unknown { value, .. } => value.len(),
        }
    }

    /// Decodes the value of an attribute of type `typ`. Types without a typed variant
    /// become [`Attribute::Unknown`]; a known type with a malformed value is an error.
    pub fn decode(typ: u16, value: &[u8], tid: &TransactionId) -> Result<Attribute, StunError> {
        let t = AttributeType(typ);
        let attribute = match t {
            AttributeType::MAPPED_ADDRESS => Attribute::MappedAddress(decode_address(t, value)?),
            AttributeType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(xor_address(decode_address(t, value)?, tid))
            }
            AttributeType::ALTERNATE_SERVER => {
                Attribute::AlternateServer(decode_address(t, value)?)
            }
            AttributeType::USERNAME => Attribute::Username(decode_string(t, value)?.to_owned()),
            AttributeType::REALM => Attribute::Realm(decode_string(t, value)?.to_owned()),
            AttributeType::NONCE => Attribute::Nonce(decode_string(t, value)?.to_owned()),
            AttributeType::SOFTWARE => Attribute::Software(decode_string(t, value)?.to_owned()),
            AttributeType::ERROR_CODE => Attribute::ErrorCode(ErrorCode::decode(value)?),
            AttributeType::UNKNOWN_ATTRIBUTES => {
                Attribute::UnknownAttributes(decode_u16_list(t, value)?)
            }
            AttributeType::PRIORITY => Attribute::Priority(u32::from_be_bytes(fixed(t, value)?)),
            AttributeType::USE_CANDIDATE => {
                let [] = fixed::<0>(t, value)?;
                Attribute::UseCandidate
            }
            AttributeType::ICE_CONTROLLED => {
                Attribute::IceControlled(u64::from_be_bytes(fixed(t, value)?))
            }
            AttributeType::ICE_CONTROLLING => {
                Attribute::IceControlling(u64::from_be_bytes(fixed(t, value)?))
            }
            _ => Attribute::Unknown {
                typ,
                value: value.to_vec(),
            },
        };
        Ok(attribute)
    }

    /// Appends the value bytes (no header, no padding) to `out`.
    pub(crate) fn encode_value(&self, tid: &TransactionId, out: &mut Vec<u8>) {
        match self {
            Attribute::MappedAddress(a) | Attribute::AlternateServer(a) => encode_address(a, out),
            Attribute::XorMappedAddress(a) => encode_address(&xor_address(*a, tid), out),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s) => out.extend_from_slice(s.as_bytes()),
            Attribute::ErrorCode(e) => e.encode(out),
            Attribute::UnknownAttributes(types) => types
                .iter()
                .for_each(|t| out.extend_from_slice(&t.to_be_bytes())),
            Attribute::Priority(p) => out.extend_from_slice(&p.to_be_bytes()),
            Attribute::UseCandidate => {}
            Attribute::IceControlled(t) | Attribute::IceControlling(t) => {
                out.extend_from_slice(&t.to_be_bytes())
            }
            Attribute::Unknown { value, .. } => out.extend_from_slice(value),
        }
    }
}

/// The number of padding bytes after a value of `len` bytes (to a 32-bit boundary).
pub(crate) fn padding_len(len: usize) -> usize {
    (4 - len % 4) % 4
}

fn fixed<const N: usize>(t: AttributeType, value: &[u8]) -> Result<[u8; N], StunError> {
    value.try_into().map_err(|_| StunError::MalformedAttribute {
        typ: t.0,
        reason: "wrong length",
    })
}

pub(crate) fn decode_string(t: AttributeType, value: &[u8]) -> Result<&str, StunError> {
    std::str::from_utf8(value).map_err(|_| StunError::MalformedAttribute {
        typ: t.0,
        reason: "not UTF-8",
    })
}

pub(crate) fn decode_u16_list(t: AttributeType, value: &[u8]) -> Result<Vec<u16>, StunError> {
    if !value.len().is_multiple_of(2) {
        return Err(StunError::MalformedAttribute {
            typ: t.0,
            reason: "odd length",
        });
    }
    Ok(value
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

fn address_len(a: &SocketAddr) -> usize {
    match a {
        SocketAddr::V4(_) => 8,
        SocketAddr::V6(_) => 20,
    }
}

/// Decodes the shared address format: reserved byte, family (1 = IPv4, 2 = IPv6), port,
/// address. IPv6 addresses come back with zero flow info and scope id.
pub(crate) fn decode_address(t: AttributeType, value: &[u8]) -> Result<SocketAddr, StunError> {
    let malformed = |reason| StunError::MalformedAttribute { typ: t.0, reason };
    match value {
        [_, 0x01, p0, p1, a @ ..] => {
            let a: [u8; 4] = a
                .try_into()
                .map_err(|_| malformed("IPv4 length is not 8"))?;
            let port = u16::from_be_bytes([*p0, *p1]);
            Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        [_, 0x02, p0, p1, a @ ..] => {
            let a: [u8; 16] = a
                .try_into()
                .map_err(|_| malformed("IPv6 length is not 20"))?;
            let port = u16::from_be_bytes([*p0, *p1]);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a),
                port,
                0,
                0,
            )))
        }
        [_, _, _, _, ..] => Err(malformed("unknown address family")),
        _ => Err(malformed("shorter than 4 bytes")),
    }
}

fn encode_address(a: &SocketAddr, out: &mut Vec<u8>) {
    let family = if a.is_ipv4() { 0x01 } else { 0x02 };
    out.extend_from_slice(&[0, family]);
    out.extend_from_slice(&a.port().to_be_bytes());
    match a.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
}

/// XORs an address with the magic cookie (port: its top 16 bits; IPv4: all 32 bits;
/// IPv6: the cookie followed by the transaction id). The operation is its own inverse.
/// Flow info and scope id are not carried on the wire and come back as zero.
pub(crate) fn xor_address(a: SocketAddr, tid: &TransactionId) -> SocketAddr {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = a.port() ^ u16::from_be_bytes([cookie[0], cookie[1]]);
    match a.ip() {
        IpAddr::V4(ip) => {
            let ip = u32::from(ip) ^ MAGIC_COOKIE;
            SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)
        }
        IpAddr::V6(ip) => {
            let mut octets = ip.octets();
            let mask = cookie.iter().chain(tid.as_bytes());
            octets.iter_mut().zip(mask).for_each(|(o, m)| *o ^= m);
            SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), port, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: TransactionId = TransactionId([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    fn encode(a: &Attribute) -> Vec<u8> {
        let mut out = Vec::new();
        a.encode_value(&TID, &mut out);
        assert_eq!(out.len(), a.value_len());
        out
    }

    #[test]
    fn xor_mapped_ipv4_round_trips() {
        let a = Attribute::XorMappedAddress("192.0.2.1:32853".parse().unwrap());
        assert_eq!(encode(&a), [0, 1, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]);
        assert_eq!(Attribute::decode(0x0020, &encode(&a), &TID), Ok(a));
    }

    #[test]
    fn error_code_splits_class_and_number() {
        let e = ErrorCode::new(420, "Unknown Attribute").unwrap();
        let bytes = encode(&Attribute::ErrorCode(e.clone()));
        assert_eq!(&bytes[..4], &[0, 0, 4, 20]);
        assert_eq!(ErrorCode::decode(&bytes), Ok(e));
    }

    #[test]
    fn error_code_outside_300_to_699_is_refused() {
        assert_eq!(
            ErrorCode::new(299, ""),
            Err(StunError::InvalidErrorCode(299))
        );
        assert_eq!(
            ErrorCode::new(700, ""),
            Err(StunError::InvalidErrorCode(700))
        );
        assert!(ErrorCode::decode(&[0, 0, 2, 0]).is_err());
        assert!(ErrorCode::decode(&[0, 0, 4, 100]).is_err());
    }

    #[test]
    fn fixed_size_attributes_reject_wrong_lengths() {
        assert!(Attribute::decode(0x0024, &[0; 3], &TID).is_err());
        assert!(Attribute::decode(0x0025, &[0; 4], &TID).is_err());
        assert!(Attribute::decode(0x8029, &[0; 4], &TID).is_err());
        assert!(Attribute::decode(0x0020, &[0, 1, 0, 0, 0, 0, 0], &TID).is_err());
        assert!(Attribute::decode(0x0020, &[0, 3, 0, 0, 0, 0, 0, 0], &TID).is_err());
        assert!(Attribute::decode(0x000A, &[0; 3], &TID).is_err());
        assert!(Attribute::decode(0x0006, &[0xff], &TID).is_err());
    }

    #[test]
    fn unregistered_types_are_kept_raw() {
        let a = Attribute::decode(0x7F01, &[9, 8, 7], &TID).unwrap();
        assert_eq!(
            a,
            Attribute::Unknown {
                typ: 0x7F01,
                value: vec![9, 8, 7]
            }
        );
        assert_eq!(encode(&a), [9, 8, 7]);
    }

    #[test]
    fn comprehension_required_is_below_0x8000() {
        assert!(AttributeType(0x7FFF).is_comprehension_required());
        assert!(!AttributeType(0x8000).is_comprehension_required());
    }

    #[test]
    fn padding_reaches_the_next_32_bit_boundary() {
        assert_eq!([0, 1, 2, 3, 4, 5].map(padding_len), [0, 3, 2, 1, 0, 3]);
    }
}
