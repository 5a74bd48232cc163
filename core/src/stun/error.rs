//! Errors of the STUN codec.

/// Why bytes are not an acceptable STUN message, or why a message cannot be encoded.
///
/// Parse errors describe untrusted input: callers that handle network bytes drop the
/// datagram and count it, they do not hand the error to their own caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StunError {
    /// Fewer than the 20 bytes of a STUN header.
    #[error("shorter than a STUN header ({len} bytes)")]
    TooShort {
        /// How many bytes there were.
        len: usize,
    },
    /// The two most significant bits of the message type are not zero.
    #[error("the two leading bits are not zero")]
    NotStun,
    /// The magic cookie is not 0x2112A442 (an RFC 3489 message or not STUN at all).
    #[error("wrong magic cookie {0:#010x}")]
    BadMagicCookie(u32),
    /// The header's length field disagrees with the number of bytes after the header.
    #[error("length field says {declared} bytes of attributes, {actual} are present")]
    LengthMismatch {
        /// The header's length field.
        declared: usize,
        /// The bytes present after the header.
        actual: usize,
    },
    /// The header's length field is not a multiple of 4.
    #[error("length {0} is not a multiple of 4")]
    UnalignedLength(usize),
    /// An attribute (with its padding) runs past the end of the message.
    #[error("attribute at offset {offset} runs past the end of the message")]
    AttributeOverrun {
        /// Where the attribute header starts, from the start of the message.
        offset: usize,
    },
    /// A known attribute carries a value that does not follow its format.
    #[error("malformed attribute {typ:#06x}: {reason}")]
    MalformedAttribute {
        /// The attribute type.
        typ: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The encoded message would exceed the 65,535 bytes the length field can describe.
    #[error("message too long to encode ({len} bytes of attributes)")]
    TooLong {
        /// The length the attributes would need.
        len: usize,
    },
    /// A method number does not fit in the 12 bits the header has for it.
    #[error("method {0:#x} does not fit in 12 bits")]
    InvalidMethod(u16),
    /// An ERROR-CODE outside 300..=699.
    #[error("error code {0} is outside 300..=699")]
    InvalidErrorCode(u16),
}
