//! ChannelData messages (RFC 8656 section 12.4): a 4-byte header (channel number, length)
//! in front of the application data, the hot path between a TURN client and its server
//! once a channel is bound.
//!
//! Over UDP the datagram may carry padding after the data, which is ignored; over TCP and
//! TLS every ChannelData message is padded to a multiple of four bytes
//! ([`stream_frame_len`] finds message boundaries in a byte stream, RFC 8656 section
//! 12.5 and RFC 6062).

use crate::stun::HEADER_LEN;
use std::fmt;

/// The lowest channel number a client may bind (RFC 8656 section 12).
pub const MIN_CHANNEL: u16 = 0x4000;
/// The highest channel number a client may bind.
pub const MAX_CHANNEL: u16 = 0x4FFF;
/// Size of the ChannelData header.
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;

/// Whether `bytes` start like a ChannelData message (first byte 64..=79, RFC 7983).
pub fn is_channel_data(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x40..=0x4F))
}

/// Why bytes are not a ChannelData message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelDataError {
    /// Fewer than four bytes.
    #[error("ChannelData shorter than its header")]
    TooShort,
    /// The channel number is outside 0x4000..=0x4FFF.
    #[error("channel number {0:#06x} outside 0x4000..=0x4FFF")]
    BadChannel(u16),
    /// The length field exceeds the bytes present.
    #[error("ChannelData length {declared} exceeds the {available} bytes present")]
    Truncated {
        /// Length field.
        declared: usize,
        /// Bytes after the header.
        available: usize,
    },
}

/// A checked view of one ChannelData message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number (0x4000..=0x4FFF).
    pub channel: u16,
    /// The application data (padding excluded).
    pub payload: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Checks and reads untrusted bytes. Trailing bytes after the declared length
    /// (padding) are ignored. Never panics.
    pub fn parse(bytes: &'a [u8]) -> Result<ChannelData<'a>, ChannelDataError> {
        let [c0, c1, l0, l1, rest @ ..] = bytes else {
            return Err(ChannelDataError::TooShort);
        };
        let channel = u16::from_be_bytes([*c0, *c1]);
        if !(MIN_CHANNEL..=MAX_CHANNEL).contains(&channel) {
            return Err(ChannelDataError::BadChannel(channel));
        }
        let declared = usize::from(u16::from_be_bytes([*l0, *l1]));
        let payload = rest.get(..declared).ok_or(ChannelDataError::Truncated {
            declared,
            available: rest.len(),
        })?;
        Ok(ChannelData { channel, payload })
    }

    /// Appends the message to `out`; with `pad` (stream transports) zero bytes follow up
    /// to a multiple of four. `payload` must be at most 65,535 bytes (a UDP datagram
    /// always is); longer payloads are truncated to that length.
    pub fn encode_into(channel: u16, payload: &[u8], pad: bool, out: &mut Vec<u8>) {
        let len = payload.len().min(usize::from(u16::MAX));
        out.reserve(CHANNEL_DATA_HEADER_LEN + len + 3);
        out.extend_from_slice(&channel.to_be_bytes());
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&payload[..len]);
        if pad {
            out.resize(out.len() + (4 - len % 4) % 4, 0);
        }
    }

    /// The message built in `payload`'s own buffer (UDP: no padding): the header goes in
    /// front and the payload moves up four bytes, with no new allocation when the buffer
    /// has room for four more. A payload over 65,535 bytes is cut as [`encode`](Self::encode)
    /// cuts it.
    pub fn encode_in_place(channel: u16, mut payload: Vec<u8>) -> Vec<u8> {
        let len = payload.len().min(usize::from(u16::MAX));
        payload.truncate(len);
        payload.resize(CHANNEL_DATA_HEADER_LEN + len, 0);
        payload.copy_within(..len, CHANNEL_DATA_HEADER_LEN);
        payload[..2].copy_from_slice(&channel.to_be_bytes());
        payload[2..CHANNEL_DATA_HEADER_LEN].copy_from_slice(&(len as u16).to_be_bytes());
        payload
    }

    /// The message as a new buffer (UDP: no padding).
    pub fn encode(channel: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Self::encode_into(channel, payload, false, &mut out);
        out
    }
}

impl fmt::Debug for ChannelData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ChannelData {{ channel: {:#06x}, len: {} }}",
            self.channel,
            self.payload.len()
        )
    }
}

/// On a stream (TURN over TCP or TLS), the length of the message at the start of `buf`
/// including padding, once its header is there: STUN is 20 bytes plus its length field;
/// ChannelData is 4 bytes plus its length rounded up to four. `None` while the header is
/// incomplete; `Some(Err(()))` when the first byte is neither (the stream is unusable).
pub fn stream_frame_len(buf: &[u8]) -> Option<Result<usize, ()>> {
    let first = *buf.first()?;
    match first {
        0..=3 => {
            let len = buf.get(2..4)?;
            Some(Ok(
                HEADER_LEN + usize::from(u16::from_be_bytes([len[0], len[1]]))
            ))
        }
        0x40..=0x4F => {
            let len = buf.get(2..4)?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            Some(Ok(CHANNEL_DATA_HEADER_LEN + len + (4 - len % 4) % 4))
        }
        _ => Some(Err(())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn channel_data_encodes_header_then_payload() {
        let b = ChannelData::encode(0x4001, b"hello");
        assert_eq!(b, [0x40, 0x01, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o']);
        let mut padded = Vec::new();
        ChannelData::encode_into(0x4001, b"hello", true, &mut padded);
        assert_eq!(padded.len(), 12);
        assert_eq!(&padded[9..], [0, 0, 0]);
    }

    #[test]
    fn channel_data_parse_ignores_padding_and_rejects_bad_input() {
        let cd = ChannelData::parse(&[0x4F, 0xFF, 0, 2, 7, 8, 0, 0]).expect("valid");
        assert_eq!((cd.channel, cd.payload), (0x4FFF, &[7u8, 8][..]));
        assert_eq!(
            ChannelData::parse(&[0x40, 0]),
            Err(ChannelDataError::TooShort)
        );
        assert_eq!(
            ChannelData::parse(&[0x50, 0, 0, 0]),
            Err(ChannelDataError::BadChannel(0x5000))
        );
        assert_eq!(
            ChannelData::parse(&[0x40, 0, 0, 3, 1]),
            Err(ChannelDataError::Truncated {
                declared: 3,
                available: 1
            })
        );
    }

    #[test]
    fn stream_frames_are_sized_by_their_headers() {
        assert_eq!(stream_frame_len(&[0x40, 0x00, 0x00]), None);
        assert_eq!(stream_frame_len(&[0x40, 0x00, 0x00, 0x05]), Some(Ok(12)));
        assert_eq!(stream_frame_len(&[0x01, 0x01, 0x00, 0x08]), Some(Ok(28)));
        assert_eq!(stream_frame_len(&[0x80, 0, 0, 0]), Some(Err(())));
    }

    proptest! {
        #[test]
        fn channel_data_round_trips(channel in MIN_CHANNEL..=MAX_CHANNEL, payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let bytes = ChannelData::encode(channel, &payload);
            let cd = ChannelData::parse(&bytes).expect("round trip");
            prop_assert_eq!(cd.channel, channel);
            prop_assert_eq!(cd.payload, &payload[..]);
        }

        #[test]
        fn in_place_framing_matches_the_copying_one(channel in MIN_CHANNEL..=MAX_CHANNEL, payload in proptest::collection::vec(any::<u8>(), 0..300), spare in 0usize..8) {
            let mut buffer = Vec::with_capacity(payload.len() + spare);
            buffer.extend_from_slice(&payload);
            prop_assert_eq!(
                ChannelData::encode_in_place(channel, buffer),
                ChannelData::encode(channel, &payload)
            );
        }

        #[test]
        fn channel_data_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ChannelData::parse(&bytes);
            let _ = stream_frame_len(&bytes);
        }
    }
}
