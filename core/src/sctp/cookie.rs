//! The state cookie (RFC 9260 section 5.1.3): everything needed to build the association
//! from a COOKIE ECHO, authenticated with HMAC-SHA256 under a key drawn from the `Rng`, so
//! that the INIT receiver keeps no state until the cookie returns.

use super::chunk::InitChunk;
use crate::crypto::{constant_time_eq, hmac_sha256};

const MAC_LEN: usize = 32;
/// Cookie body length: tags, TSNs, window, streams, flags, creation time.
const BODY_LEN: usize = 4 + 4 + 4 + 4 + 4 + 2 + 2 + 1 + 8;
/// Encoded cookie length.
pub(crate) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// What a cookie remembers of the INIT it answered and of our answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cookie {
    /// Our tag (the INIT ACK's initiate tag).
    pub local_tag: u32,
    /// Our initial TSN.
    pub local_initial_tsn: u32,
    /// The peer's initiate tag.
    pub peer_tag: u32,
    /// The peer's initial TSN.
    pub peer_initial_tsn: u32,
    /// The peer's a_rwnd.
    pub peer_rwnd: u32,
    /// Streams: min of our inbound and the peer's outbound.
    pub inbound_streams: u16,
    /// Streams: min of our outbound and the peer's inbound.
    pub outbound_streams: u16,
    /// Bit 0: peer supports FORWARD TSN; bit 1: peer accepts zero checksum.
    pub flags: u8,
    /// Creation time, milliseconds since the association's epoch.
    pub created_ms: u64,
}

impl Cookie {
    /// Builds the cookie for an INIT ACK answering `init` with `ours`.
    pub(crate) fn new(init: &InitChunk, ours: &InitChunk, flags: u8, created_ms: u64) -> Self {
        Self {
            local_tag: ours.initiate_tag,
            local_initial_tsn: ours.initial_tsn,
            peer_tag: init.initiate_tag,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            inbound_streams: ours.inbound_streams.min(init.outbound_streams),
            outbound_streams: ours.outbound_streams.min(init.inbound_streams),
            flags,
            created_ms,
        }
    }

    /// Serializes and authenticates the cookie.
    pub(crate) fn seal(&self, key: &[u8; 32]) -> Vec<u8> {
        let mut v = Vec::with_capacity(COOKIE_LEN);
        v.extend_from_slice(&self.local_tag.to_be_bytes());
        v.extend_from_slice(&self.local_initial_tsn.to_be_bytes());
        v.extend_from_slice(&self.peer_tag.to_be_bytes());
        v.extend_from_slice(&self.peer_initial_tsn.to_be_bytes());
        v.extend_from_slice(&self.peer_rwnd.to_be_bytes());
        v.extend_from_slice(&self.inbound_streams.to_be_bytes());
        v.extend_from_slice(&self.outbound_streams.to_be_bytes());
        v.push(self.flags);
        v.extend_from_slice(&self.created_ms.to_be_bytes());
        let mac = hmac_sha256(key, &[&v]);
        v.extend_from_slice(&mac);
        v
    }

    /// Checks the MAC and decodes; `None` for any forgery or wrong length.
    pub(crate) fn open(bytes: &[u8], key: &[u8; 32]) -> Option<Self> {
        if bytes.len() != COOKIE_LEN {
            return None;
        }
        let (body, mac) = bytes.split_at(BODY_LEN);
        if !constant_time_eq(&hmac_sha256(key, &[body]), mac) {
            return None;
        }
        let u32_at =
            |at: usize| u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
        let u16_at = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&body[25..33]);
        Some(Self {
            local_tag: u32_at(0),
            local_initial_tsn: u32_at(4),
            peer_tag: u32_at(8),
            peer_initial_tsn: u32_at(12),
            peer_rwnd: u32_at(16),
            inbound_streams: u16_at(20),
            outbound_streams: u16_at(22),
            flags: body[24],
            created_ms: u64::from_be_bytes(ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Cookie {
        Cookie {
            local_tag: 1,
            local_initial_tsn: 2,
            peer_tag: 3,
            peer_initial_tsn: 4,
            peer_rwnd: 5,
            inbound_streams: 6,
            outbound_streams: 7,
            flags: 3,
            created_ms: 9,
        }
    }

    #[test]
    fn cookie_round_trips_under_its_key() {
        let key = [7u8; 32];
        assert_eq!(Cookie::open(&sample().seal(&key), &key), Some(sample()));
    }

    #[test]
    fn tampered_cookie_is_refused() {
        let key = [7u8; 32];
        let mut sealed = sample().seal(&key);
        sealed[3] ^= 1;
        assert_eq!(Cookie::open(&sealed, &key), None);
        assert_eq!(Cookie::open(&sample().seal(&[8u8; 32]), &key), None);
    }
}
