//! `stun`: the STUN message codec (RFC 8489), checked against the RFC 5769 test vectors.
//!
//! Two representations, smoltcp style:
//!
//! - [`StunView`]: a zero-copy, checked view over untrusted bytes. [`StunView::new_checked`]
//!   validates the header, the magic cookie, the length and the attribute framing; after it
//!   succeeds no accessor panics. It verifies MESSAGE-INTEGRITY (HMAC-SHA1),
//!   MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (CRC-32) in place.
//! - [`StunMessage`]: a small owned message (class, method, transaction id, typed
//!   [`Attribute`]s) with [`StunMessage::parse`] and [`StunMessage::encode`] /
//!   [`StunMessage::encode_into`], which append MESSAGE-INTEGRITY and FINGERPRINT when asked.
//!
//! [`server::BindingServer`] is a tiny sans-IO binding server (RFC 8489 section 6.3) for
//! tests and simulations.
//!
//! Implemented: the header with the interleaved class/method bits, the magic cookie, 96-bit
//! transaction ids; MAPPED-ADDRESS, XOR-MAPPED-ADDRESS (IPv4 and IPv6), USERNAME, REALM,
//! NONCE, SOFTWARE, ERROR-CODE, UNKNOWN-ATTRIBUTES, ALTERNATE-SERVER, the ICE attributes
//! PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING (RFC 8445 section 16.1), and any
//! other attribute kept as raw bytes ([`Attribute::Unknown`]); short-term and long-term
//! credential keys ([`IntegrityKey`]); reporting of unknown comprehension-required
//! attributes so that a server can answer 420.
//!
//! Not implemented: SASLprep / OpaqueString preparation of non-ASCII passwords (see
//! [`IntegrityKey`]), the long-term credential state machine (NONCE cookies,
//! PASSWORD-ALGORITHMS negotiation, USERHASH), typed TURN attributes (they are kept as
//! [`Attribute::Unknown`]; their type numbers are in [`AttributeType`]), DNS discovery,
//! STUN over TCP/TLS framing, and the client retransmission state machine (the ICE agent
//! owns its transactions).

mod attribute;
mod error;
mod header;
mod integrity;
mod message;
pub mod server;
mod view;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod rfc5769_tests;
#[cfg(test)]
mod view_tests;

pub use attribute::{Attribute, AttributeType, ErrorCode};
pub use error::StunError;
pub use header::{Class, HEADER_LEN, MAGIC_COOKIE, Method, TransactionId};
pub use integrity::{FINGERPRINT_XOR, IntegrityKey};
pub use message::{EncodeOptions, StunMessage};
pub use view::{RawAttribute, RawAttributes, StunView};

/// Whether `bytes` look like a STUN message, for demultiplexing (RFC 7983): at least a
/// header, a first byte in `0..=3` and the magic cookie in place.
///
/// A `true` here does not mean the message is well formed; use [`StunView::new_checked`].
pub fn looks_like_stun(bytes: &[u8]) -> bool {
    match bytes {
        [first, _, _, _, c0, c1, c2, c3, ..] => {
            bytes.len() >= HEADER_LEN
                && *first <= 3
                && u32::from_be_bytes([*c0, *c1, *c2, *c3]) == MAGIC_COOKIE
        }
        _ => false,
    }
}
