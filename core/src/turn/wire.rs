//! TURN on the STUN wire (RFC 8656 section 18): the TURN attributes, carried by the STUN
//! codec as raw attributes, and the requests and indications a client builds.
//!
//! Attributes: XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (same XOR scheme as
//! XOR-MAPPED-ADDRESS), LIFETIME, CHANNEL-NUMBER, DATA, REQUESTED-TRANSPORT. Not used:
//! EVEN-PORT, RESERVATION-TOKEN, REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY,
//! DONT-FRAGMENT, ICMP.

use crate::stun::{
    Attribute, AttributeType, Class, IntegrityKey, Method, StunMessage, StunView, TransactionId,
};
use std::net::SocketAddr;

/// REQUESTED-TRANSPORT value for UDP (IANA protocol number 17).
pub const TRANSPORT_UDP: u8 = 17;

/// An XOR address attribute (`typ` is XOR-PEER-ADDRESS or XOR-RELAYED-ADDRESS).
pub fn xor_address_attribute(typ: AttributeType, a: SocketAddr, tid: &TransactionId) -> Attribute {
    let mut value = Vec::with_capacity(20);
    Attribute::XorMappedAddress(a).encode_value(tid, &mut value);
    Attribute::Unknown { typ: typ.0, value }
}

/// Reads an XOR address attribute of type `typ` from a checked view.
pub fn xor_address(view: &StunView<'_>, typ: AttributeType) -> Option<SocketAddr> {
    let value = view.get(typ)?;
    match Attribute::decode(
        AttributeType::XOR_MAPPED_ADDRESS.0,
        value,
        &view.transaction_id(),
    ) {
        Ok(Attribute::XorMappedAddress(a)) => Some(a),
        _ => None,
    }
}

/// LIFETIME in seconds.
pub fn lifetime_attribute(secs: u32) -> Attribute {
    Attribute::Unknown {
        typ: AttributeType::LIFETIME.0,
        value: secs.to_be_bytes().to_vec(),
    }
}

/// Reads LIFETIME.
pub fn lifetime(view: &StunView<'_>) -> Option<u32> {
    let v: [u8; 4] = view.get(AttributeType::LIFETIME)?.try_into().ok()?;
    Some(u32::from_be_bytes(v))
}

/// CHANNEL-NUMBER (the number, then two reserved zero bytes).
pub fn channel_number_attribute(channel: u16) -> Attribute {
    let [a, b] = channel.to_be_bytes();
    Attribute::Unknown {
        typ: AttributeType::CHANNEL_NUMBER.0,
        value: vec![a, b, 0, 0],
    }
}

/// Reads CHANNEL-NUMBER.
pub fn channel_number(view: &StunView<'_>) -> Option<u16> {
    match view.get(AttributeType::CHANNEL_NUMBER)? {
        [a, b, _, _] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// REQUESTED-TRANSPORT with `protocol` (17: UDP).
pub fn requested_transport_attribute(protocol: u8) -> Attribute {
    Attribute::Unknown {
        typ: AttributeType::REQUESTED_TRANSPORT.0,
        value: vec![protocol, 0, 0, 0],
    }
}

/// Reads REQUESTED-TRANSPORT's protocol number.
pub fn requested_transport(view: &StunView<'_>) -> Option<u8> {
    match view.get(AttributeType::REQUESTED_TRANSPORT)? {
        [p, _, _, _] => Some(*p),
        _ => None,
    }
}

/// DATA.
pub fn data_attribute(data: &[u8]) -> Attribute {
    Attribute::Unknown {
        typ: AttributeType::DATA.0,
        value: data.to_vec(),
    }
}

/// Reads DATA.
pub fn data<'a>(view: &StunView<'a>) -> Option<&'a [u8]> {
    view.get(AttributeType::DATA)
}

/// A Send indication (RFC 8656 section 11.1): no credentials, XOR-PEER-ADDRESS and DATA.
pub fn send_indication(tid: TransactionId, peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    indication(Method::SEND, tid, peer, payload)
}

/// A Data indication (RFC 8656 section 11.4), as a server sends it.
pub fn data_indication(tid: TransactionId, peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    indication(Method::DATA, tid, peer, payload)
}

fn indication(method: Method, tid: TransactionId, peer: SocketAddr, payload: &[u8]) -> Vec<u8> {
    StunMessage::new(Class::Indication, method, tid)
        .with(xor_address_attribute(
            AttributeType::XOR_PEER_ADDRESS,
            peer,
            &tid,
        ))
        .with(data_attribute(payload))
        .encode(None, false)
        .unwrap_or_default()
}

/// Long-term credentials once the server told us its realm and nonce (RFC 8489 section
/// 9.2): what an authenticated request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongTermAuth {
    /// USERNAME.
    pub username: String,
    /// REALM from the server.
    pub realm: String,
    /// NONCE from the server (replaced on 438).
    pub nonce: String,
    /// `MD5(username:realm:password)`.
    pub key: IntegrityKey,
}

/// Encodes `msg`: with `auth`, USERNAME, REALM, NONCE and MESSAGE-INTEGRITY are added;
/// FINGERPRINT always. `None` only if the message would exceed the STUN size limit.
pub fn encode_request(mut msg: StunMessage, auth: Option<&LongTermAuth>) -> Option<Vec<u8>> {
    if let Some(a) = auth {
        msg = msg
            .with(Attribute::Username(a.username.clone()))
            .with(Attribute::Realm(a.realm.clone()))
            .with(Attribute::Nonce(a.nonce.clone()));
    }
    msg.encode(auth.map(|a| &a.key), true).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_peer_address_round_trips_through_a_message() {
        let tid = TransactionId([7; 12]);
        let peer: SocketAddr = "192.0.2.1:32853".parse().expect("addr");
        let bytes = send_indication(tid, peer, b"abc");
        let view = StunView::new_checked(&bytes).expect("valid");
        assert_eq!(view.method(), Method::SEND);
        assert_eq!(view.class(), Class::Indication);
        assert_eq!(
            xor_address(&view, AttributeType::XOR_PEER_ADDRESS),
            Some(peer)
        );
        assert_eq!(data(&view), Some(&b"abc"[..]));
    }

    #[test]
    fn xor_peer_address_value_matches_rfc_8489_xor_scheme() {
        // 192.0.2.1:32853 XORed with 0x2112A442: port 0xA147, address 0xE112A643.
        let tid = TransactionId([0; 12]);
        let a = xor_address_attribute(
            AttributeType::XOR_PEER_ADDRESS,
            "192.0.2.1:32853".parse().expect("addr"),
            &tid,
        );
        let Attribute::Unknown { typ, value } = a else {
            panic!("raw attribute expected")
        };
        assert_eq!(typ, 0x0012);
        assert_eq!(value, [0x00, 0x01, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43]);
    }

    #[test]
    fn lifetime_and_channel_number_encode_as_rfc_8656_says() {
        let tid = TransactionId([1; 12]);
        let msg = StunMessage::new(Class::Request, Method::CHANNEL_BIND, tid)
            .with(channel_number_attribute(0x4001))
            .with(lifetime_attribute(600))
            .with(requested_transport_attribute(TRANSPORT_UDP));
        let bytes = msg.encode(None, false).expect("encode");
        let view = StunView::new_checked(&bytes).expect("valid");
        assert_eq!(channel_number(&view), Some(0x4001));
        assert_eq!(lifetime(&view), Some(600));
        assert_eq!(requested_transport(&view), Some(17));
        assert_eq!(
            view.get(AttributeType::CHANNEL_NUMBER),
            Some(&[0x40, 0x01, 0, 0][..])
        );
    }
}
