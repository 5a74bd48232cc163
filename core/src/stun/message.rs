//! [`StunMessage`]: the owned representation of a STUN message, with parse and encode.

use super::StunError;
use super::attribute::{Attribute, AttributeType, ErrorCode, padding_len};
use super::header::{Class, HEADER_LEN, MAGIC_COOKIE, Method, TransactionId, message_type};
use super::integrity::{IntegrityKey, fingerprint};
use super::view::StunView;
use std::fmt;

/// An owned STUN message: header fields and typed attributes in wire order.
///
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are not in `attributes`:
/// [`StunMessage::parse`] leaves them out (verify them on the [`StunView`] first) and the
/// encoder appends them on request, computed over the bytes it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StunMessage {
    /// Request, indication, success or error response.
    pub class: Class,
    /// The method (Binding, or a TURN method).
    pub method: Method,
    /// The transaction id.
    pub transaction_id: TransactionId,
    /// The attributes, in the order they are (or were) on the wire.
    pub attributes: Vec<Attribute>,
    /// The byte written into the 0 to 3 padding bytes after each attribute value.
    ///
    /// Padding content is meaningless to receivers and senders normally write zeros (the
    /// default). It is here so that messages padded otherwise, such as the RFC 5769 test
    /// vectors that pad with spaces (0x20), can be reproduced byte for byte:
    /// [`StunMessage::parse`] records the first padding byte it sees.
    pub padding: u8,
}

/// What [`StunMessage::encode_with`] appends after the attributes, in this order:
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256, FINGERPRINT.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions<'k> {
    /// Append MESSAGE-INTEGRITY (HMAC-SHA1) under this key.
    pub integrity: Option<&'k IntegrityKey>,
    /// Append MESSAGE-INTEGRITY-SHA256 (full 32 bytes) under this key.
    pub integrity_sha256: Option<&'k IntegrityKey>,
    /// Append FINGERPRINT.
    pub fingerprint: bool,
}

impl EncodeOptions<'_> {
    fn trailer_len(&self) -> usize {
        let mut len = 0;
        if self.integrity.is_some() {
            len += 4 + 20;
        }
        if self.integrity_sha256.is_some() {
            len += 4 + 32;
        }
        if self.fingerprint {
            len += 4 + 4;
        }
        len
    }
}

impl StunMessage {
    /// A message with no attributes, padded with zeros.
    pub fn new(class: Class, method: Method, transaction_id: TransactionId) -> StunMessage {
        StunMessage {
            class,
            method,
            transaction_id,
            attributes: Vec::new(),
            padding: 0,
        }
    }

    /// A Binding request with no attributes.
    pub fn binding_request(transaction_id: TransactionId) -> StunMessage {
        StunMessage::new(Class::Request, Method::BINDING, transaction_id)
    }

    /// A Binding indication with no attributes (ICE keepalives, RFC 8445 section 11).
    pub fn binding_indication(transaction_id: TransactionId) -> StunMessage {
        StunMessage::new(Class::Indication, Method::BINDING, transaction_id)
    }

    /// A success response to `request`: same method and transaction id, no attributes.
    pub fn success_response_to(request: &StunView<'_>) -> StunMessage {
        StunMessage::new(Class::Success, request.method(), request.transaction_id())
    }

    /// An error response to `request` carrying `error` as ERROR-CODE.
    pub fn error_response_to(request: &StunView<'_>, error: ErrorCode) -> StunMessage {
        StunMessage::new(Class::Error, request.method(), request.transaction_id())
            .with(Attribute::ErrorCode(error))
    }

    /// Appends `attribute` and returns the message (builder style).
    pub fn with(mut self, attribute: Attribute) -> StunMessage {
        self.attributes.push(attribute);
        self
    }

    /// The first attribute of type `typ`.
    pub fn get(&self, typ: AttributeType) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.typ() == typ)
    }

    /// Checks and decodes `bytes`. The integrity and fingerprint attributes are dropped
    /// without being verified, as are the attributes a [`StunView`] ignores; use
    /// [`StunView`] to verify them.
    pub fn parse(bytes: &[u8]) -> Result<StunMessage, StunError> {
        StunMessage::from_view(&StunView::new_checked(bytes)?)
    }

    /// Decodes the accepted attributes of a checked view. A known attribute with a
    /// malformed value is an error.
    pub fn from_view(view: &StunView<'_>) -> Result<StunMessage, StunError> {
        let tid = view.transaction_id();
        let mut message = StunMessage::new(view.class(), view.method(), tid);
        let mut padding = None;
        for raw in view.attributes() {
            if matches!(
                raw.typ,
                AttributeType::MESSAGE_INTEGRITY
                    | AttributeType::MESSAGE_INTEGRITY_SHA256
                    | AttributeType::FINGERPRINT
            ) {
                continue;
            }
            padding = padding.or(raw.padding.first().copied());
            let attribute = Attribute::decode(raw.typ.0, raw.value, &tid)?;
            message.attributes.push(attribute);
        }
        message.padding = padding.unwrap_or(0);
        Ok(message)
    }

    /// The encoded size in bytes with `options`.
    pub fn encoded_len(&self, options: &EncodeOptions<'_>) -> usize {
        HEADER_LEN + self.attributes_len() + options.trailer_len()
    }

    fn attributes_len(&self) -> usize {
        self.attributes
            .iter()
            .map(|a| 4 + a.value_len() + padding_len(a.value_len()))
            .sum()
    }

    /// Encodes into a new buffer, appending MESSAGE-INTEGRITY under `integrity` if given
    /// and FINGERPRINT if `fingerprint`. Fails only if the message exceeds the 65,535
    /// bytes of attributes the length field can express.
    pub fn encode(
        &self,
        integrity: Option<&IntegrityKey>,
        fingerprint: bool,
    ) -> Result<Vec<u8>, StunError> {
        let mut out = Vec::new();
        self.encode_into(&mut out, integrity, fingerprint)?;
        Ok(out)
    }

    /// Like [`StunMessage::encode`], but appends to `out` (whose capacity is reused: clear
    /// it first to reuse one buffer for many messages).
    pub fn encode_into(
        &self,
        out: &mut Vec<u8>,
        integrity: Option<&IntegrityKey>,
        fingerprint: bool,
    ) -> Result<(), StunError> {
        let options = EncodeOptions {
            integrity,
            integrity_sha256: None,
            fingerprint,
        };
        self.encode_with(out, &options)
    }

    /// Appends the encoded message to `out` with the trailer `options` asks for. On error
    /// `out` is left unchanged.
    pub fn encode_with(
        &self,
        out: &mut Vec<u8>,
        options: &EncodeOptions<'_>,
    ) -> Result<(), StunError> {
        let body_len = self.encoded_len(options) - HEADER_LEN;
        if body_len > usize::from(u16::MAX) {
            return Err(StunError::TooLong { len: body_len });
        }
        let start = out.len();
        out.reserve(HEADER_LEN + body_len);
        out.extend_from_slice(&message_type(self.class, self.method).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        out.extend_from_slice(self.transaction_id.as_bytes());
        for a in &self.attributes {
            self.encode_attribute(a, out);
        }
        if let Some(key) = options.integrity {
            let mac = key.hmac_sha1(&out[start..], length_with(out, start, 20));
            push_attribute(out, AttributeType::MESSAGE_INTEGRITY, &mac);
        }
        if let Some(key) = options.integrity_sha256 {
            let mac = key.hmac_sha256(&out[start..], length_with(out, start, 32));
            push_attribute(out, AttributeType::MESSAGE_INTEGRITY_SHA256, &mac);
        }
        if options.fingerprint {
            let len = length_with(out, start, 4);
            set_length(out, start, len);
            let crc = fingerprint(&out[start..]);
            push_attribute(out, AttributeType::FINGERPRINT, &crc.to_be_bytes());
        }
        debug_assert_eq!(out.len() - start, HEADER_LEN + body_len);
        let len = length_with(out, start, usize::MAX);
        set_length(out, start, len);
        Ok(())
    }

    fn encode_attribute(&self, a: &Attribute, out: &mut Vec<u8>) {
        let len = a.value_len();
        out.extend_from_slice(&a.typ().0.to_be_bytes());
        let len16 = u16::try_from(len).expect("encode_with checked the total length");
        out.extend_from_slice(&len16.to_be_bytes());
        a.encode_value(&self.transaction_id, out);
        out.extend(std::iter::repeat_n(self.padding, padding_len(len)));
    }
}

/// The length field for the message that starts at `start` in `out` once one more
/// attribute with a `value_len`-byte value is appended (`usize::MAX`: none, the current
/// length).
fn length_with(out: &[u8], start: usize, value_len: usize) -> u16 {
    let current = out.len() - start - HEADER_LEN;
    let len = if value_len == usize::MAX {
        current
    } else {
        current + 4 + value_len
    };
    u16::try_from(len).expect("encode_with checked the total length")
}

fn set_length(out: &mut [u8], start: usize, len: u16) {
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

fn push_attribute(out: &mut Vec<u8>, typ: AttributeType, value: &[u8]) {
    out.extend_from_slice(&typ.0.to_be_bytes());
    let len = u16::try_from(value.len()).expect("integrity values are at most 32 bytes");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
}

/// One line for traces: `Binding Request 0123..ab [USERNAME, PRIORITY, ...]`.
impl fmt::Display for StunMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {:?} {} [",
            self.method, self.class, self.transaction_id
        )?;
        for (i, a) in self.attributes.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{:?}", a.typ())?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: TransactionId = TransactionId([7; 12]);

    #[test]
    fn empty_binding_request_is_a_bare_header() {
        let bytes = StunMessage::binding_request(TID)
            .encode(None, false)
            .unwrap();
        let mut expected = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42];
        expected.extend_from_slice(&[7; 12]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn encode_into_appends_after_existing_bytes() {
        let m = StunMessage::binding_request(TID).with(Attribute::Priority(5));
        let mut out = vec![0xEE];
        m.encode_into(&mut out, None, true).unwrap();
        assert_eq!(out[0], 0xEE);
        assert_eq!(out[1..], m.encode(None, true).unwrap()[..]);
    }

    #[test]
    fn oversized_message_is_refused_and_buffer_untouched() {
        let m = StunMessage::binding_request(TID).with(Attribute::Unknown {
            typ: 0x8FFF,
            value: vec![0; 65_529], // 4 + 65,529 + 3 bytes of padding = 65,536
        });
        let mut out = vec![1, 2, 3];
        assert!(matches!(
            m.encode_into(&mut out, None, false),
            Err(StunError::TooLong { .. })
        ));
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn largest_message_encodes() {
        let m = StunMessage::binding_request(TID).with(Attribute::Unknown {
            typ: 0x8FFF,
            value: vec![0; 65_528],
        });
        let bytes = m.encode(None, false).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 4 + 65_528);
        assert_eq!(StunMessage::parse(&bytes), Ok(m));
    }

    #[test]
    fn values_are_padded_with_the_padding_byte() {
        let mut m = StunMessage::binding_request(TID).with(Attribute::Username("abc".into()));
        m.padding = 0x20;
        let bytes = m.encode(None, false).unwrap();
        assert_eq!(
            &bytes[HEADER_LEN..],
            &[0x00, 0x06, 0x00, 0x03, b'a', b'b', b'c', 0x20]
        );
        assert_eq!(StunMessage::parse(&bytes), Ok(m));
    }

    #[test]
    fn success_response_copies_method_and_transaction_id() {
        let req = StunMessage::new(Class::Request, Method::ALLOCATE, TID)
            .encode(None, false)
            .unwrap();
        let view = StunView::new_checked(&req).unwrap();
        let resp = StunMessage::success_response_to(&view);
        assert_eq!(
            (resp.class, resp.method, resp.transaction_id),
            (Class::Success, Method::ALLOCATE, TID)
        );
    }

    #[test]
    fn get_finds_the_first_attribute_of_a_type() {
        let m = StunMessage::binding_request(TID)
            .with(Attribute::Priority(1))
            .with(Attribute::Priority(2));
        assert_eq!(
            m.get(AttributeType::PRIORITY),
            Some(&Attribute::Priority(1))
        );
        assert_eq!(m.get(AttributeType::USERNAME), None);
    }

    #[test]
    fn display_names_method_class_and_attributes() {
        let m = StunMessage::new(Class::Error, Method::new(0x0ABC).unwrap(), TID)
            .with(Attribute::Unknown {
                typ: 0x7777,
                value: vec![],
            })
            .with(Attribute::UseCandidate);
        assert_eq!(
            m.to_string(),
            "Method(0xabc) Error 070707070707070707070707 \
             [AttributeType(0x7777), USE-CANDIDATE]"
        );
    }

    #[test]
    fn sha256_integrity_verifies_alongside_sha1() {
        let key = IntegrityKey::short_term("pw");
        let m = StunMessage::binding_request(TID).with(Attribute::Username("a:b".into()));
        let options = EncodeOptions {
            integrity: Some(&key),
            integrity_sha256: Some(&key),
            fingerprint: true,
        };
        let mut out = Vec::new();
        m.encode_with(&mut out, &options).unwrap();
        assert_eq!(out.len(), m.encoded_len(&options));
        let view = StunView::new_checked(&out).unwrap();
        assert!(view.verify_integrity(&key));
        assert!(view.verify_integrity_sha256(&key));
        assert!(!view.verify_integrity_sha256(&IntegrityKey::short_term("other")));
        assert!(view.fingerprint_ok());
    }
}
