//! TURN over a stream (TCP or TLS to the server, RFC 8656 section 12.5, RFC 6062 framing):
//! STUN messages and ChannelData messages back to back, each ChannelData padded to a
//! multiple of four bytes (the padding is not counted in its length field).
//!
//! [`StreamFramer`] turns the bytes of such a stream, in whatever pieces they arrive, into
//! whole messages. Its memory is bounded by construction: it holds at most one incomplete
//! message, and a message is at most [`MAX_FRAME_LEN`] bytes (both length fields are 16
//! bits). Bytes that start neither a STUN message nor a ChannelData message (or a STUN
//! header whose length is not a multiple of four) make the stream unusable: the framer
//! reports [`FramingError`] once and from then on refuses everything; the owner closes the
//! connection.
//!
//! Padding is strict: a ChannelData message is always followed by the padding up to a
//! multiple of four bytes. A server that did not pad could not be told apart in general
//! (a zero padding byte also starts a STUN header), so an unpadded stream is not guessed
//! at; it desynchronises into [`FramingError`] quickly, which is reported.

use super::channel_data::CHANNEL_DATA_HEADER_LEN;
use crate::stun::HEADER_LEN;

/// The longest message on a TURN stream, padding included: a STUN header and 65,532 bytes
/// of attributes (the longest multiple of four), or a ChannelData header and 65,535 bytes
/// padded to 65,536.
pub const MAX_FRAME_LEN: usize = CHANNEL_DATA_HEADER_LEN + 65_536;

/// How a TURN client reaches its server (RFC 8656 section 3.1; the relayed leg from the
/// server to peers is UDP in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TurnTransport {
    /// `turn:host[:port][?transport=udp]`: datagrams.
    #[default]
    Udp,
    /// `turn:host[:port]?transport=tcp`: one TCP connection, RFC 8656 section 12.5 framing.
    Tcp,
    /// `turns:host[:port]`: TLS over TCP, the same framing inside TLS.
    Tls,
}

impl TurnTransport {
    /// Whether the transport is a stream (TCP or TLS).
    pub fn is_stream(self) -> bool {
        self != TurnTransport::Udp
    }

    /// The W3C `RTCIceCandidateStats.relayProtocol` value: `udp`, `tcp` or `tls`.
    pub fn relay_protocol(self) -> &'static str {
        match self {
            TurnTransport::Udp => "udp",
            TurnTransport::Tcp => "tcp",
            TurnTransport::Tls => "tls",
        }
    }

    /// The local preference a relayed candidate over this transport gets (RFC 8445
    /// section 5.1.2.1), as browsers rank them: UDP over TCP over TLS.
    pub fn local_preference(self) -> u32 {
        match self {
            TurnTransport::Udp => 65_535,
            TurnTransport::Tcp => 65_535 - 4096,
            TurnTransport::Tls => 65_535 - 8192,
        }
    }
}

/// Names one stream connection to a TURN server that the core asked its driver to open
/// (`Event::TurnConnect`); every later input and output about it carries this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TurnConnectionId(pub u32);

impl std::fmt::Display for TurnConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "turn-conn-{}", self.0)
    }
}

/// What the driver must open for the core: a TCP connection to `server`, and for
/// [`TurnTransport::Tls`] a TLS session over it that checks the server's certificate for
/// `server_name` against the default roots plus `extra_roots_pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnConnect {
    /// The connection's id.
    pub id: TurnConnectionId,
    /// The server's address.
    pub server: std::net::SocketAddr,
    /// TCP or TLS.
    pub transport: TurnTransport,
    /// The host of the URL: the TLS server name (SNI) and the name the certificate must
    /// carry (an IP literal for `turns:127.0.0.1`).
    pub server_name: String,
    /// Extra trusted roots (PEM text, for a private CA) from the configuration.
    pub extra_roots_pem: std::sync::Arc<[String]>,
}

/// Why a TURN stream became unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A message starts with a byte that neither STUN (0..=3) nor ChannelData (0x40..=0x4F)
    /// can start with.
    #[error("byte {0:#04x} starts neither a STUN nor a ChannelData message")]
    UnknownMessage(u8),
    /// A STUN header whose length is not a multiple of four.
    #[error("STUN message length {0} is not a multiple of four")]
    BadStunLength(u16),
}

/// The sizes of the message whose first four bytes are `header`: (bytes on the wire
/// including padding, bytes of the message without padding).
fn frame_sizes(header: [u8; 4]) -> Result<(usize, usize), FramingError> {
    let len = u16::from_be_bytes([header[2], header[3]]);
    match header[0] {
        0..=3 if len.is_multiple_of(4) => {
            let n = HEADER_LEN + usize::from(len);
            Ok((n, n))
        }
        0..=3 => Err(FramingError::BadStunLength(len)),
        0x40..=0x4F => {
            let len = usize::from(len);
            let n = CHANNEL_DATA_HEADER_LEN + len;
            Ok((n + (4 - len % 4) % 4, n))
        }
        other => Err(FramingError::UnknownMessage(other)),
    }
}

/// Splits a TURN stream into whole messages; see the [module documentation](self).
#[derive(Debug, Default, Clone)]
pub struct StreamFramer {
    /// The bytes of the incomplete message at hand (at most [`MAX_FRAME_LEN`]).
    buf: Vec<u8>,
    /// (wire length, message length) of the message in `buf`, once its header is in.
    sizes: Option<(usize, usize)>,
    failed: Option<FramingError>,
    frames: u64,
}

impl StreamFramer {
    /// A framer at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whole messages seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes held of an incomplete message (never more than [`MAX_FRAME_LEN`]).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The error that made the stream unusable, if any.
    pub fn error(&self) -> Option<FramingError> {
        self.failed
    }

    /// Takes the next bytes of the stream and calls `on_message` with every message they
    /// complete: a STUN message, or a ChannelData message without its padding (ready for
    /// [`ChannelData::parse`](super::ChannelData::parse)). Messages wholly inside `data`
    /// are handed out without a copy. After an error the stream is unusable and every
    /// later call returns the same error without looking at its bytes.
    pub fn push(
        &mut self,
        mut data: &[u8],
        mut on_message: impl FnMut(&[u8]),
    ) -> Result<(), FramingError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        while !data.is_empty() {
            if self.buf.is_empty() {
                // Fast path: whole messages straight from `data`.
                if let Some(header) = data.first_chunk::<4>() {
                    let (wire, msg) = self.sizes_or_fail(*header)?;
                    if let Some(frame) = data.get(..wire) {
                        self.frames += 1;
                        on_message(&frame[..msg]);
                        data = &data[wire..];
                        continue;
                    }
                }
            }
            // Slow path: collect the header, then the rest of the message.
            if self.sizes.is_none() {
                let take = (CHANNEL_DATA_HEADER_LEN - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                let Some(header) = self.buf.first_chunk::<4>() else {
                    continue;
                };
                let header = *header;
                self.sizes = Some(self.sizes_or_fail(header)?);
            }
            let Some((wire, msg)) = self.sizes else {
                continue;
            };
            let take = (wire - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() < wire {
                continue;
            }
            self.sizes = None;
            self.frames += 1;
            on_message(&self.buf[..msg]);
            self.buf.clear();
        }
        Ok(())
    }

    fn sizes_or_fail(&mut self, header: [u8; 4]) -> Result<(usize, usize), FramingError> {
        frame_sizes(header).inspect_err(|e| {
            tracing::debug!(error = %e, "turn: stream from the server is not TURN framing");
            self.failed = Some(*e);
            self.buf = Vec::new();
            self.sizes = None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::turn::ChannelData;
    use proptest::prelude::*;

    fn stun(len: usize, fill: u8) -> Vec<u8> {
        let mut m = vec![0x01, 0x01];
        m.extend_from_slice(&(len as u16).to_be_bytes());
        m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
        m.extend_from_slice(&[fill; 12]);
        m.extend(std::iter::repeat_n(fill, len));
        m
    }

    fn collect(framer: &mut StreamFramer, data: &[u8]) -> Result<Vec<Vec<u8>>, FramingError> {
        let mut out = Vec::new();
        framer.push(data, |m| out.push(m.to_vec()))?;
        Ok(out)
    }

    #[test]
    fn channel_data_over_a_stream_is_padded_byte_exact() {
        let mut out = Vec::new();
        ChannelData::encode_into(0x4001, b"abcde", true, &mut out);
        assert_eq!(
            out,
            [
                0x40, 0x01, 0x00, 0x05, b'a', b'b', b'c', b'd', b'e', 0, 0, 0
            ]
        );
        out.clear();
        ChannelData::encode_into(0x4FFF, b"abcd", true, &mut out);
        assert_eq!(out, [0x4F, 0xFF, 0x00, 0x04, b'a', b'b', b'c', b'd']);
        out.clear();
        ChannelData::encode_into(0x4000, b"", true, &mut out);
        assert_eq!(out, [0x40, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn messages_come_out_whole_and_without_padding() {
        let mut stream = stun(8, 7);
        ChannelData::encode_into(0x4002, b"xyz", true, &mut stream);
        stream.extend_from_slice(&stun(0, 1));
        let mut f = StreamFramer::new();
        let msgs = collect(&mut f, &stream).expect("valid");
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0], stun(8, 7));
        assert_eq!(msgs[1], [0x40, 0x02, 0x00, 0x03, b'x', b'y', b'z']);
        assert_eq!(msgs[2], stun(0, 1));
        assert_eq!(f.buffered(), 0);
        assert_eq!(f.frames(), 3);
    }

    #[test]
    fn garbage_fails_the_stream_once_and_for_all() {
        let mut f = StreamFramer::new();
        assert_eq!(
            collect(&mut f, &[0x80, 0, 0, 0]),
            Err(FramingError::UnknownMessage(0x80))
        );
        assert_eq!(
            collect(&mut f, &stun(0, 0)),
            Err(FramingError::UnknownMessage(0x80))
        );
        let mut f = StreamFramer::new();
        assert_eq!(
            collect(&mut f, &[0x00, 0x01, 0x00, 0x03, 0, 0]),
            Err(FramingError::BadStunLength(3))
        );
        // Split header: the error comes once the header is complete.
        let mut f = StreamFramer::new();
        assert_eq!(collect(&mut f, &[0x17, 0x03]), Ok(vec![]));
        assert_eq!(
            collect(&mut f, &[0x03]),
            Ok(vec![]),
            "three bytes are not a header yet"
        );
        assert_eq!(
            collect(&mut f, &[0x00]),
            Err(FramingError::UnknownMessage(0x17))
        );
    }

    #[test]
    fn the_largest_messages_are_buffered_and_no_more() {
        let mut f = StreamFramer::new();
        let mut big = Vec::new();
        ChannelData::encode_into(0x4000, &vec![9u8; 65_535], true, &mut big);
        assert_eq!(big.len(), MAX_FRAME_LEN);
        let mut seen = 0;
        for piece in big.chunks(1000) {
            f.push(piece, |m| {
                assert_eq!(m.len(), 4 + 65_535);
                seen += 1;
            })
            .expect("valid");
            assert!(f.buffered() <= MAX_FRAME_LEN);
        }
        assert_eq!(seen, 1);
        assert_eq!(f.buffered(), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_splits_give_the_same_messages(
            lens in proptest::collection::vec((0usize..300, any::<bool>()), 1..12),
            cuts in proptest::collection::vec(0usize..4000, 0..20),
        ) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for (i, (len, is_stun)) in lens.iter().enumerate() {
                if *is_stun {
                    let m = stun(len / 4 * 4, i as u8);
                    stream.extend_from_slice(&m);
                    expected.push(m);
                } else {
                    let payload = vec![i as u8; *len];
                    ChannelData::encode_into(0x4000 + i as u16, &payload, true, &mut stream);
                    expected.push(ChannelData::encode(0x4000 + i as u16, &payload));
                }
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.push(0);
            cuts.push(stream.len());
            cuts.sort_unstable();
            let mut f = StreamFramer::new();
            let mut got = Vec::new();
            for w in cuts.windows(2) {
                f.push(&stream[w[0]..w[1]], |m| got.push(m.to_vec())).expect("valid stream");
                prop_assert!(f.buffered() <= MAX_FRAME_LEN);
            }
            prop_assert_eq!(got, expected);
            prop_assert_eq!(f.buffered(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2000), 0..40),
        ) {
            let mut f = StreamFramer::new();
            for c in &chunks {
                let _ = f.push(c, |m| assert!(m.len() <= MAX_FRAME_LEN));
                prop_assert!(f.buffered() <= MAX_FRAME_LEN);
            }
        }
    }
}
