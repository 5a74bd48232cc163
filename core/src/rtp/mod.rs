//! `rtp`: the wire formats of RTP, RTP header extensions and RTCP.
//!
//! Three representations, smoltcp style:
//!
//! - [`RtpPacket`]: a zero-copy, checked view over untrusted bytes. [`RtpPacket::new_checked`]
//!   validates the version and that the CSRC list, the extension block and the padding fit;
//!   after it succeeds no accessor panics. Setters rewrite the fixed header in place (for
//!   forwarding).
//! - [`RtpHeader`]: a small owned header with [`RtpHeader::parse`] and
//!   [`RtpHeader::write_to`], for building packets where convenience matters more than
//!   speed (it allocates for CSRCs and extension values).
//! - [`RtpHeaderRef`]: the same header with CSRCs and extension values borrowed;
//!   [`RtpHeaderRef::write_into`] writes it into a caller's `&mut [u8]` without allocating.
//!   Per-packet paths read with [`RtpPacket`] and write with [`RtpHeaderRef`] (or the crate's
//!   shared encoder), so neither direction touches the heap.
//!
//! [`extensions`] holds the header-extension URIs, the negotiated id ↔ URI map and typed
//! values; [`rtcp`] holds the RTCP packets.
//!
//! Implemented: RTP fixed header, CSRCs, padding (RFC 3550 §5.1); header extensions in the
//! one-byte and two-byte forms (RFC 8285 §4.2, §4.3), including padding bytes between
//! elements and the one-byte id 15 that stops processing; RTCP/RTP demultiplexing by packet
//! type (RFC 5761 §4). RTCP: see [`rtcp`].
//!
//! Not implemented: extension blocks with other "defined by profile" values than 0xBEDE and
//! 0x100X are skipped as a whole (the view's [`RtpPacket::extensions`] yields nothing for
//! them and [`RtpHeader::parse`] drops them); RTP header compression; SRTP (module `srtp`).
//!
//! Reading is liberal (unknown extensions are kept raw, a truncated extension element ends
//! the iteration instead of failing the packet), writing is strict (see
//! [`RtpHeader::write_to`]).

pub mod extensions;
mod header;
mod packet;
pub mod rtcp;
pub(crate) mod writer;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use extensions::{ExtensionMap, ExtensionValue};
pub use header::{MAX_CSRCS, MAX_EXTENSIONS, RtpHeader};
pub use packet::{ExtensionIter, RtpPacket};
pub use writer::{BufferTooSmall, RtpHeaderRef};

/// The RTP version this module understands (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;

/// Length of the fixed RTP header, without CSRCs or extensions.
pub const FIXED_HEADER_LEN: usize = 12;

/// The "defined by profile" value of the one-byte extension form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// The "defined by profile" value of the two-byte extension form with zero app bits
/// (RFC 8285 §4.3); any value `0x1000..=0x100F` is read as the two-byte form.
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// Why bytes are not an acceptable RTP or RTCP packet.
///
/// These describe untrusted input: callers handling network bytes drop the packet and count
/// it, they do not hand the error on.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer bytes than the fixed header (or a length field) requires.
    #[error("packet too short")]
    TooShort,
    /// The version field is not 2.
    #[error("version is not 2")]
    BadVersion,
    /// A length field (CSRC count, extension length, padding, RTCP length) does not fit the
    /// buffer.
    #[error("a length field does not fit the packet")]
    BadLength,
    /// The packet is framed correctly but its contents break the format.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
}

/// Whether a datagram on an RTP/RTCP-multiplexed port is RTCP (RFC 5761 §4): the second
/// byte, read with the RTP marker bit included, lies in 192..=223 (RTCP packet types 200–207
/// and the reserved neighbours). Shorter than 2 bytes: `false`.
///
/// A `true` says nothing about whether the packet is well formed.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}
