//! The agent's only contact with the STUN codec ([`crate::stun`]): building the few
//! messages ICE sends and reading the fields ICE needs from untrusted datagrams.

use super::events::IceRole;
use crate::stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Method, StunMessage, StunView, TransactionId,
};
use std::net::SocketAddr;

/// The class of a received Binding message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InClass {
    Request,
    Indication,
    Success,
    /// An error response with its code (0 when ERROR-CODE is missing).
    Error(u16),
}

/// The fields of a received Binding message the agent uses, read from a checked view.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) class: InClass,
    pub(crate) id: [u8; 12],
    pub(crate) username: Option<String>,
    pub(crate) priority: Option<u32>,
    pub(crate) use_candidate: bool,
    pub(crate) controlling: Option<u64>,
    pub(crate) controlled: Option<u64>,
    pub(crate) mapped: Option<SocketAddr>,
    pub(crate) has_fingerprint: bool,
    pub(crate) fingerprint_ok: bool,
}

/// Why a datagram that looked like STUN was not accepted by [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// Not a well-formed STUN message.
    Malformed,
    /// Well formed, but not a Binding message.
    NotBinding,
}

/// Reads a Binding message from untrusted bytes. Never panics.
pub(crate) fn parse(bytes: &[u8]) -> Result<Incoming, Reject> {
    let view = StunView::new_checked(bytes).map_err(|_| Reject::Malformed)?;
    if view.method() != Method::BINDING {
        return Err(Reject::NotBinding);
    }
    let class = match view.class() {
        Class::Request => InClass::Request,
        Class::Indication => InClass::Indication,
        Class::Success => InClass::Success,
        Class::Error => InClass::Error(view.error_code().map_or(0, |e| e.code())),
    };
    Ok(Incoming {
        class,
        id: *view.transaction_id().as_bytes(),
        username: view.username().map(str::to_string),
        priority: view.priority(),
        use_candidate: view.use_candidate(),
        controlling: view.ice_controlling(),
        controlled: view.ice_controlled(),
        mapped: view.xor_mapped_address(),
        has_fingerprint: view.has_fingerprint(),
        fingerprint_ok: view.fingerprint_ok(),
    })
}

/// Whether `bytes` carry a MESSAGE-INTEGRITY valid under the short-term password `pwd`.
pub(crate) fn integrity_ok(bytes: &[u8], pwd: &str) -> bool {
    StunView::new_checked(bytes)
        .map(|v| v.verify_integrity(&IntegrityKey::short_term(pwd)))
        .unwrap_or(false)
}

fn encode(msg: &StunMessage, pwd: Option<&str>) -> Vec<u8> {
    let key = pwd.map(IntegrityKey::short_term);
    msg.encode(key.as_ref(), true)
        .expect("ICE messages are far below the STUN length limit")
}

/// What a connectivity check (or consent check) carries (RFC 8445 section 7.1.1).
#[derive(Debug, Clone)]
pub(crate) struct CheckRequest<'a> {
    pub(crate) id: [u8; 12],
    /// `remote_ufrag:local_ufrag`.
    pub(crate) username: String,
    pub(crate) priority: u32,
    pub(crate) role: IceRole,
    pub(crate) tie_breaker: u64,
    pub(crate) use_candidate: bool,
    /// The remote password: the MESSAGE-INTEGRITY key.
    pub(crate) pwd: &'a str,
}

/// Encodes a Binding request for a connectivity or consent check.
pub(crate) fn encode_check(req: &CheckRequest<'_>) -> Vec<u8> {
    let mut msg = StunMessage::binding_request(TransactionId(req.id))
        .with(Attribute::Username(req.username.clone()))
        .with(Attribute::Priority(req.priority));
    msg = match req.role {
        IceRole::Controlling => msg.with(Attribute::IceControlling(req.tie_breaker)),
        IceRole::Controlled => msg.with(Attribute::IceControlled(req.tie_breaker)),
    };
    if req.use_candidate {
        msg = msg.with(Attribute::UseCandidate);
    }
    encode(&msg, Some(req.pwd))
}

/// Encodes a Binding success response telling the requester its address (`mapped`),
/// authenticated with our password.
pub(crate) fn encode_success(id: [u8; 12], mapped: SocketAddr, pwd: &str) -> Vec<u8> {
    let msg = StunMessage::new(Class::Success, Method::BINDING, TransactionId(id))
        .with(Attribute::XorMappedAddress(mapped));
    encode(&msg, Some(pwd))
}

/// Encodes a 487 (Role Conflict) error response (RFC 8445 section 7.3.1.1).
pub(crate) fn encode_role_conflict(id: [u8; 12], pwd: &str) -> Vec<u8> {
    let code = ErrorCode::new(ErrorCode::ROLE_CONFLICT, "Role Conflict")
        .expect("487 is a valid error code");
    let msg = StunMessage::new(Class::Error, Method::BINDING, TransactionId(id))
        .with(Attribute::ErrorCode(code));
    encode(&msg, Some(pwd))
}

/// Encodes an unauthenticated Binding request to a STUN server.
pub(crate) fn encode_server_request(id: [u8; 12]) -> Vec<u8> {
    encode(&StunMessage::binding_request(TransactionId(id)), None)
}

/// Encodes a Binding indication used as a keepalive (RFC 8445 section 11).
pub(crate) fn encode_keepalive(id: [u8; 12]) -> Vec<u8> {
    encode(&StunMessage::binding_indication(TransactionId(id)), None)
}
