//! [`StunView`]: a zero-copy, checked view over a STUN message from the network.

use super::StunError;
use super::attribute::{
    self, AttributeType, ErrorCode, decode_address, decode_string, decode_u16_list, xor_address,
};
use super::header::{Class, HEADER_LEN, MAGIC_COOKIE, Method, TransactionId, split_message_type};
use super::integrity::{IntegrityKey, fingerprint};
use crate::crypto::constant_time_eq;
use std::fmt;
use std::net::SocketAddr;

/// A checked view over the bytes of one STUN message.
///
/// Built by [`StunView::new_checked`], which validates the header (leading zero bits,
/// magic cookie, length field equal to the bytes present and a multiple of 4) and the
/// framing of every attribute, including the fixed lengths of MESSAGE-INTEGRITY,
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT and the rule that FINGERPRINT comes last.
/// After that, no accessor panics, whatever the bytes.
///
/// Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT,
/// and attributes after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are ignored by
/// every accessor, as RFC 8489 section 14.5 requires: they are not authenticated.
#[derive(Clone, Copy)]
pub struct StunView<'a> {
    bytes: &'a [u8],
    integrity: Option<usize>,
    integrity_sha256: Option<usize>,
    fingerprint: Option<usize>,
}

/// One attribute as it is on the wire: type, value (without padding), position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The attribute type.
    pub typ: AttributeType,
    /// The value, without padding.
    pub value: &'a [u8],
    /// Where the attribute header starts, counted from the start of the message.
    pub offset: usize,
    /// The padding bytes after the value (0 to 3 of them; their content is meaningless).
    pub padding: &'a [u8],
}

/// Reads the attribute at `pos`, or `Ok(None)` at the end of the message.
fn next_raw(bytes: &[u8], pos: usize) -> Result<Option<RawAttribute<'_>>, StunError> {
    if pos >= bytes.len() {
        return Ok(None);
    }
    let overrun = StunError::AttributeOverrun { offset: pos };
    let Some([t0, t1, l0, l1]) = bytes
        .get(pos..pos + 4)
        .and_then(|h| h.first_chunk().copied())
    else {
        return Err(overrun);
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    let value_start = pos + 4;
    let padded_end = value_start + len + attribute::padding_len(len);
    let (Some(value), Some(padding)) = (
        bytes.get(value_start..value_start + len),
        bytes.get(value_start + len..padded_end),
    ) else {
        return Err(overrun);
    };
    Ok(Some(RawAttribute {
        typ: AttributeType(u16::from_be_bytes([t0, t1])),
        value,
        offset: pos,
        padding,
    }))
}

/// Where an accepted attribute sequence stands with respect to the integrity attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Open,
    AfterIntegrity,
    AfterIntegritySha256,
    Done,
}

impl Stage {
    /// Whether an attribute of type `t` is accepted at this stage.
    fn accepts(self, t: AttributeType) -> bool {
        match self {
            Stage::Open => true,
            Stage::AfterIntegrity => matches!(
                t,
                AttributeType::MESSAGE_INTEGRITY_SHA256 | AttributeType::FINGERPRINT
            ),
            Stage::AfterIntegritySha256 => t == AttributeType::FINGERPRINT,
            Stage::Done => false,
        }
    }

    /// The stage after an accepted attribute of type `t`.
    fn after(self, t: AttributeType) -> Stage {
        match t {
            AttributeType::MESSAGE_INTEGRITY => Stage::AfterIntegrity,
            AttributeType::MESSAGE_INTEGRITY_SHA256 => Stage::AfterIntegritySha256,
            AttributeType::FINGERPRINT => Stage::Done,
            _ => self,
        }
    }
}

/// Iterator over the accepted attributes of a [`StunView`], in wire order.
#[derive(Debug, Clone)]
pub struct RawAttributes<'a> {
    bytes: &'a [u8],
    pos: usize,
    stage: Stage,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<RawAttribute<'a>> {
        loop {
            let raw = next_raw(self.bytes, self.pos).ok().flatten()?;
            self.pos = raw.offset + 4 + raw.value.len() + raw.padding.len();
            if self.stage.accepts(raw.typ) {
                self.stage = self.stage.after(raw.typ);
                return Some(raw);
            }
        }
    }
}

impl<'a> StunView<'a> {
    /// Checks `bytes` as one complete STUN message (see the type's documentation for what
    /// is checked) and returns a view over it.
    pub fn new_checked(bytes: &'a [u8]) -> Result<StunView<'a>, StunError> {
        check_header(bytes)?;
        let mut pos = HEADER_LEN;
        while let Some(raw) = next_raw(bytes, pos)? {
            check_fixed_length(&raw)?;
            pos = raw.offset + 4 + raw.value.len() + raw.padding.len();
            if raw.typ == AttributeType::FINGERPRINT && pos != bytes.len() {
                return Err(StunError::MalformedAttribute {
                    typ: raw.typ.0,
                    reason: "FINGERPRINT is not the last attribute",
                });
            }
        }
        let mut view = StunView {
            bytes,
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
        };
        for raw in view.attributes() {
            let slot = match raw.typ {
                AttributeType::MESSAGE_INTEGRITY => &mut view.integrity,
                AttributeType::MESSAGE_INTEGRITY_SHA256 => &mut view.integrity_sha256,
                AttributeType::FINGERPRINT => &mut view.fingerprint,
                _ => continue,
            };
            slot.get_or_insert(raw.offset);
        }
        Ok(view)
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn header(&self) -> &'a [u8; HEADER_LEN] {
        self.bytes
            .first_chunk()
            .expect("new_checked ensures a full header")
    }

    /// The message class.
    pub fn class(&self) -> Class {
        let h = self.header();
        split_message_type(u16::from_be_bytes([h[0], h[1]])).0
    }

    /// The method.
    pub fn method(&self) -> Method {
        let h = self.header();
        split_message_type(u16::from_be_bytes([h[0], h[1]])).1
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        let (_, tid) = self.header().split_at(8);
        TransactionId(
            tid.try_into()
                .expect("the header has 12 bytes after the cookie"),
        )
    }

    /// The accepted attributes in wire order (see the type's documentation for which
    /// attributes are ignored).
    pub fn attributes(&self) -> RawAttributes<'a> {
        RawAttributes {
            bytes: self.bytes,
            pos: HEADER_LEN,
            stage: Stage::Open,
        }
    }

    /// The value of the first accepted attribute of type `typ`.
    pub fn get(&self, typ: AttributeType) -> Option<&'a [u8]> {
        self.attributes().find(|a| a.typ == typ).map(|a| a.value)
    }

    /// Accepted attributes whose types are comprehension-required (below 0x8000) but not
    /// understood by this codec, in wire order (duplicates included). A server answers a
    /// request that has any with a 420 error listing them in UNKNOWN-ATTRIBUTES.
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.attributes()
            .map(|a| a.typ)
            .filter(|t| t.is_comprehension_required() && !t.is_understood())
    }

    /// USERNAME, if present and valid UTF-8.
    pub fn username(&self) -> Option<&'a str> {
        self.string(AttributeType::USERNAME)
    }

    /// REALM, if present and valid UTF-8.
    pub fn realm(&self) -> Option<&'a str> {
        self.string(AttributeType::REALM)
    }

    /// NONCE, if present and valid UTF-8.
    pub fn nonce(&self) -> Option<&'a str> {
        self.string(AttributeType::NONCE)
    }

    /// SOFTWARE, if present and valid UTF-8.
    pub fn software(&self) -> Option<&'a str> {
        self.string(AttributeType::SOFTWARE)
    }

    fn string(&self, typ: AttributeType) -> Option<&'a str> {
        decode_string(typ, self.get(typ)?).ok()
    }

    /// PRIORITY, if present with a 4-byte value.
    pub fn priority(&self) -> Option<u32> {
        let v = self.get(AttributeType::PRIORITY)?;
        Some(u32::from_be_bytes(v.try_into().ok()?))
    }

    /// Whether USE-CANDIDATE is present (with its empty value).
    pub fn use_candidate(&self) -> bool {
        self.get(AttributeType::USE_CANDIDATE)
            .is_some_and(<[u8]>::is_empty)
    }

    /// The tie-breaker in ICE-CONTROLLING, if present with an 8-byte value.
    pub fn ice_controlling(&self) -> Option<u64> {
        self.u64_value(AttributeType::ICE_CONTROLLING)
    }

    /// The tie-breaker in ICE-CONTROLLED, if present with an 8-byte value.
    pub fn ice_controlled(&self) -> Option<u64> {
        self.u64_value(AttributeType::ICE_CONTROLLED)
    }

    fn u64_value(&self, typ: AttributeType) -> Option<u64> {
        Some(u64::from_be_bytes(self.get(typ)?.try_into().ok()?))
    }

    /// XOR-MAPPED-ADDRESS, decoded, if present and well formed.
    pub fn xor_mapped_address(&self) -> Option<SocketAddr> {
        let t = AttributeType::XOR_MAPPED_ADDRESS;
        let a = decode_address(t, self.get(t)?).ok()?;
        Some(xor_address(a, &self.transaction_id()))
    }

    /// MAPPED-ADDRESS, if present and well formed.
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        let t = AttributeType::MAPPED_ADDRESS;
        decode_address(t, self.get(t)?).ok()
    }

    /// ALTERNATE-SERVER, if present and well formed.
    pub fn alternate_server(&self) -> Option<SocketAddr> {
        let t = AttributeType::ALTERNATE_SERVER;
        decode_address(t, self.get(t)?).ok()
    }

    /// ERROR-CODE, if present and well formed.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::decode(self.get(AttributeType::ERROR_CODE)?).ok()
    }

    /// The types listed in UNKNOWN-ATTRIBUTES, if present and well formed.
    pub fn unknown_attributes(&self) -> Option<Vec<u16>> {
        let t = AttributeType::UNKNOWN_ATTRIBUTES;
        decode_u16_list(t, self.get(t)?).ok()
    }

    /// Whether the message has MESSAGE-INTEGRITY.
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether the message has MESSAGE-INTEGRITY-SHA256.
    pub fn has_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// Whether MESSAGE-INTEGRITY is present and matches the HMAC-SHA1 of the message under
    /// `key`. The comparison takes constant time. `false` when the attribute is absent.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> bool {
        let Some((prefix, value, adjusted)) = self.integrity_parts(self.integrity) else {
            return false;
        };
        constant_time_eq(&key.hmac_sha1(prefix, adjusted), value)
    }

    /// Whether MESSAGE-INTEGRITY-SHA256 is present and matches the HMAC-SHA256 of the
    /// message under `key`, truncated to the attribute's length (16 to 32 bytes).
    /// `false` when the attribute is absent.
    pub fn verify_integrity_sha256(&self, key: &IntegrityKey) -> bool {
        let Some((prefix, value, adjusted)) = self.integrity_parts(self.integrity_sha256) else {
            return false;
        };
        let mac = key.hmac_sha256(prefix, adjusted);
        mac.get(..value.len())
            .is_some_and(|mac| constant_time_eq(mac, value))
    }

    /// For the integrity attribute at `offset`: the message before it, its value, and the
    /// length field the sender hashed (counting up to the end of that attribute).
    fn integrity_parts(&self, offset: Option<usize>) -> Option<(&'a [u8], &'a [u8], u16)> {
        let offset = offset?;
        let raw = next_raw(self.bytes, offset).ok().flatten()?;
        let adjusted = offset + 4 + raw.value.len() - HEADER_LEN;
        let adjusted = u16::try_from(adjusted).ok()?;
        Some((self.bytes.get(..offset)?, raw.value, adjusted))
    }

    /// Whether the message ends with FINGERPRINT.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// Whether FINGERPRINT is present and matches the CRC-32 of the message before it.
    /// `false` when the attribute is absent.
    pub fn fingerprint_ok(&self) -> bool {
        let Some(offset) = self.fingerprint else {
            return false;
        };
        let (Some(prefix), Some(value)) = (
            self.bytes.get(..offset),
            self.bytes.get(offset + 4..).and_then(|v| v.first_chunk()),
        ) else {
            return false;
        };
        fingerprint(prefix) == u32::from_be_bytes(*value)
    }
}

fn check_header(bytes: &[u8]) -> Result<(), StunError> {
    let Some(h) = bytes.first_chunk::<HEADER_LEN>() else {
        return Err(StunError::TooShort { len: bytes.len() });
    };
    if h[0] & 0xC0 != 0 {
        return Err(StunError::NotStun);
    }
    let cookie = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    if cookie != MAGIC_COOKIE {
        return Err(StunError::BadMagicCookie(cookie));
    }
    let declared = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let actual = bytes.len() - HEADER_LEN;
    if declared != actual {
        return Err(StunError::LengthMismatch { declared, actual });
    }
    if !declared.is_multiple_of(4) {
        return Err(StunError::UnalignedLength(declared));
    }
    Ok(())
}

/// Rejects integrity and fingerprint attributes whose value has the wrong length.
fn check_fixed_length(raw: &RawAttribute<'_>) -> Result<(), StunError> {
    let ok = match raw.typ {
        AttributeType::MESSAGE_INTEGRITY => raw.value.len() == 20,
        AttributeType::MESSAGE_INTEGRITY_SHA256 => {
            (16..=32).contains(&raw.value.len()) && raw.value.len().is_multiple_of(4)
        }
        AttributeType::FINGERPRINT => raw.value.len() == 4,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(StunError::MalformedAttribute {
            typ: raw.typ.0,
            reason: "wrong length",
        })
    }
}

impl fmt::Debug for StunView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StunView({self})")
    }
}

/// One line for traces: `Binding Request 0123..ab [USERNAME, PRIORITY, ...]`.
impl fmt::Display for StunView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {:?} {} [",
            self.method(),
            self.class(),
            self.transaction_id()
        )?;
        for (i, a) in self.attributes().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{:?}", a.typ)?;
        }
        f.write_str("]")
    }
}
