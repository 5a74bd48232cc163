//! Data Channel Establishment Protocol messages (RFC 8832 section 5): DATA_CHANNEL_OPEN and
//! DATA_CHANNEL_ACK, carried with PPID 50.

use bytes::Bytes;

const OPEN: u8 = 0x03;
const ACK: u8 = 0x02;

/// Channel type of a DATA_CHANNEL_OPEN (open set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelType(pub u8);

impl ChannelType {
    /// Reliable, ordered.
    pub const RELIABLE: Self = Self(0x00);
    /// Reliable, unordered.
    pub const RELIABLE_UNORDERED: Self = Self(0x80);
    /// Limited retransmissions, ordered.
    pub const REXMIT: Self = Self(0x01);
    /// Limited retransmissions, unordered.
    pub const REXMIT_UNORDERED: Self = Self(0x81);
    /// Limited lifetime, ordered.
    pub const TIMED: Self = Self(0x02);
    /// Limited lifetime, unordered.
    pub const TIMED_UNORDERED: Self = Self(0x82);

    /// Whether messages are unordered.
    pub fn unordered(self) -> bool {
        self.0 & 0x80 != 0
    }
}

/// A DCEP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcepMessage {
    /// DATA_CHANNEL_OPEN.
    Open {
        /// Channel type.
        channel_type: ChannelType,
        /// Priority (RFC 8832 section 6.4 values: 128, 256, 512, 1024).
        priority: u16,
        /// Retransmissions or lifetime in milliseconds, by channel type.
        reliability: u32,
        /// Label (UTF-8).
        label: String,
        /// Sub-protocol (UTF-8).
        protocol: String,
    },
    /// DATA_CHANNEL_ACK.
    Ack,
}

/// A DCEP message that could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadDcep;

impl DcepMessage {
    /// Parses a DCEP message (PPID 50 payload).
    pub fn parse(b: &[u8]) -> Result<Self, BadDcep> {
        match b.first() {
            Some(&ACK) => Ok(DcepMessage::Ack),
            Some(&OPEN) if b.len() >= 12 => {
                let label_len = usize::from(u16::from_be_bytes([b[8], b[9]]));
                let proto_len = usize::from(u16::from_be_bytes([b[10], b[11]]));
                let label = b.get(12..12 + label_len).ok_or(BadDcep)?;
                let proto = b
                    .get(12 + label_len..12 + label_len + proto_len)
                    .ok_or(BadDcep)?;
                Ok(DcepMessage::Open {
                    channel_type: ChannelType(b[1]),
                    priority: u16::from_be_bytes([b[2], b[3]]),
                    reliability: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    label: String::from_utf8(label.to_vec()).map_err(|_| BadDcep)?,
                    protocol: String::from_utf8(proto.to_vec()).map_err(|_| BadDcep)?,
                })
            }
            _ => Err(BadDcep),
        }
    }

    /// Encodes the message. Label and protocol must each fit in 65535 bytes (checked by the
    /// channel API before building an OPEN).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            DcepMessage::Ack => Bytes::from_static(&[ACK]),
            DcepMessage::Open {
                channel_type,
                priority,
                reliability,
                label,
                protocol,
            } => {
                let mut v = Vec::with_capacity(12 + label.len() + protocol.len());
                v.push(OPEN);
                v.push(channel_type.0);
                v.extend_from_slice(&priority.to_be_bytes());
                v.extend_from_slice(&reliability.to_be_bytes());
                let ll = u16::try_from(label.len()).expect("checked by the caller");
                let pl = u16::try_from(protocol.len()).expect("checked by the caller");
                v.extend_from_slice(&ll.to_be_bytes());
                v.extend_from_slice(&pl.to_be_bytes());
                v.extend_from_slice(label.as_bytes());
                v.extend_from_slice(protocol.as_bytes());
                Bytes::from(v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn open_matches_the_rfc8832_layout() {
        let m = DcepMessage::Open {
            channel_type: ChannelType::REXMIT_UNORDERED,
            priority: 256,
            reliability: 3,
            label: "chat".into(),
            protocol: "x".into(),
        };
        let b = m.to_bytes();
        assert_eq!(
            b.as_ref(),
            &[
                3, 0x81, 1, 0, 0, 0, 0, 3, 0, 4, 0, 1, b'c', b'h', b'a', b't', b'x'
            ]
        );
        assert_eq!(DcepMessage::parse(&b), Ok(m));
    }

    #[test]
    fn ack_is_one_byte() {
        assert_eq!(DcepMessage::Ack.to_bytes().as_ref(), &[2]);
        assert_eq!(DcepMessage::parse(&[2]), Ok(DcepMessage::Ack));
    }

    fn channel_type() -> impl proptest::strategy::Strategy<Value = ChannelType> {
        proptest::prelude::any::<u8>().prop_map(ChannelType)
    }

    proptest::proptest! {
        #[test]
        fn every_open_round_trips(
            channel_type in channel_type(),
            priority: u16,
            reliability: u32,
            label in ".{0,40}",
            protocol in ".{0,20}",
        ) {
            let m = DcepMessage::Open { channel_type, priority, reliability, label, protocol };
            proptest::prop_assert_eq!(DcepMessage::parse(&m.to_bytes()), Ok(m));
        }

        #[test]
        fn arbitrary_bytes_parse_or_are_refused_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            if let Ok(m) = DcepMessage::parse(&bytes) {
                // What parses re-encodes to a prefix-equal message (trailing bytes ignored).
                let again = m.to_bytes();
                proptest::prop_assert!(bytes.starts_with(&again));
            }
        }

        #[test]
        fn an_open_cut_short_anywhere_is_refused(cut in 1usize..17) {
            let m = DcepMessage::Open {
                channel_type: ChannelType::RELIABLE,
                priority: 256,
                reliability: 0,
                label: "chat".into(),
                protocol: "x".into(),
            };
            let b = m.to_bytes();
            proptest::prop_assert_eq!(DcepMessage::parse(&b[..b.len() - cut]), Err(BadDcep));
        }
    }

    #[test]
    fn truncated_open_is_rejected() {
        assert_eq!(
            DcepMessage::parse(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, b'a']),
            Err(BadDcep)
        );
        assert_eq!(DcepMessage::parse(&[]), Err(BadDcep));
        assert_eq!(DcepMessage::parse(&[7]), Err(BadDcep));
    }
}
