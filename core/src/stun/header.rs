//! The 20-byte STUN header (RFC 8489 section 5): message type (class and method bits
//! interleaved), length, magic cookie and transaction id.

use super::StunError;
use crate::rng::Rng;
use std::fmt;

/// The fixed value in bytes 4..8 of every RFC 5389/8489 message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// The size of the STUN header in bytes.
pub const HEADER_LEN: usize = 20;

/// The class of a message: the two class bits C1 C0 of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `0b00`: a request, answered by a success or error response.
    Request,
    /// `0b01`: an indication, never answered.
    Indication,
    /// `0b10`: a success response.
    Success,
    /// `0b11`: an error response (carries ERROR-CODE).
    Error,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }

    fn from_bits(bits: u16) -> Class {
        match bits & 0b11 {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::Success,
            _ => Class::Error,
        }
    }

    /// Whether this is a success or error response.
    pub fn is_response(self) -> bool {
        matches!(self, Class::Success | Class::Error)
    }
}

/// A STUN method: an open 12-bit number with named constants, so unknown methods
/// round-trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (TURN, RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (TURN).
    pub const REFRESH: Method = Method(0x004);
    /// Send (TURN, indication only).
    pub const SEND: Method = Method(0x006);
    /// Data (TURN, indication only).
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (TURN).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (TURN).
    pub const CHANNEL_BIND: Method = Method(0x009);

    /// The method numbered `value`; an error if it does not fit in 12 bits.
    pub const fn new(value: u16) -> Result<Method, StunError> {
        if value > 0x0FFF {
            Err(StunError::InvalidMethod(value))
        } else {
            Ok(Method(value))
        }
    }

    /// The method number (always below 0x1000).
    pub const fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Method::BINDING => "Binding",
            Method::ALLOCATE => "Allocate",
            Method::REFRESH => "Refresh",
            Method::SEND => "Send",
            Method::DATA => "Data",
            Method::CREATE_PERMISSION => "CreatePermission",
            Method::CHANNEL_BIND => "ChannelBind",
            Method(other) => return write!(f, "Method({other:#05x})"),
        };
        f.write_str(name)
    }
}

/// The 16-bit message type for `class` and `method`: method bits M11..M0 and class bits
/// C1 C0 interleaved as `M11..M7 C1 M6..M4 C0 M3..M0` below two zero bits.
pub(crate) fn message_type(class: Class, method: Method) -> u16 {
    let m = method.0;
    let c = class.bits();
    (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 0b01) << 4) | ((c & 0b10) << 7)
}

/// Splits a message type into class and method (the two leading bits are ignored).
pub(crate) fn split_message_type(typ: u16) -> (Class, Method) {
    let method = (typ & 0x000F) | ((typ >> 1) & 0x0070) | ((typ >> 2) & 0x0F80);
    let class = ((typ >> 4) & 0b01) | ((typ >> 7) & 0b10);
    (Class::from_bits(class), Method(method))
}

/// The 96-bit transaction id that pairs a response with its request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh id drawn from `rng` (RFC 8489 asks for a cryptographically random one).
    pub fn random(rng: &mut Rng) -> TransactionId {
        TransactionId(rng.array())
    }

    /// The 12 bytes as they appear on the wire.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_request_type_is_0x0001() {
        assert_eq!(message_type(Class::Request, Method::BINDING), 0x0001);
    }

    #[test]
    fn class_bits_interleave_around_method_bits() {
        assert_eq!(message_type(Class::Indication, Method::BINDING), 0x0011);
        assert_eq!(message_type(Class::Success, Method::BINDING), 0x0101);
        assert_eq!(message_type(Class::Error, Method::BINDING), 0x0111);
        assert_eq!(message_type(Class::Indication, Method::SEND), 0x0016);
        assert_eq!(message_type(Class::Request, Method(0x0FFF)), 0x3EEF);
    }

    #[test]
    fn message_type_splits_back_for_every_class_and_method() {
        for m in 0..=0x0FFF {
            for class in [
                Class::Request,
                Class::Indication,
                Class::Success,
                Class::Error,
            ] {
                let typ = message_type(class, Method(m));
                assert_eq!(typ & 0xC000, 0);
                assert_eq!(split_message_type(typ), (class, Method(m)));
            }
        }
    }

    #[test]
    fn method_new_rejects_more_than_12_bits() {
        assert_eq!(Method::new(0x0FFF), Ok(Method(0x0FFF)));
        assert_eq!(Method::new(0x1000), Err(StunError::InvalidMethod(0x1000)));
    }

    #[test]
    fn transaction_id_random_is_deterministic_per_seed() {
        let a = TransactionId::random(&mut Rng::from_u64(7));
        let b = TransactionId::random(&mut Rng::from_u64(7));
        let c = TransactionId::random(&mut Rng::from_u64(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
