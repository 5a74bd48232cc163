//! [`BindingServer`]: a tiny sans-IO STUN binding server (RFC 8489 section 6.3), for tests
//! and simulations (it is a [`crate::sim::Node`] with feature `sim`).
//!
//! It answers Binding requests with the source address as seen (XOR-MAPPED-ADDRESS),
//! optionally SOFTWARE, and FINGERPRINT; it answers requests that carry unknown
//! comprehension-required attributes with 420 and UNKNOWN-ATTRIBUTES. It does not
//! authenticate (no credentials, MESSAGE-INTEGRITY is not checked), does not implement
//! ALTERNATE-SERVER redirection and drops everything else, counting it in
//! [`BindingServerStats`].

use super::{Attribute, Class, ErrorCode, Method, StunMessage, StunView};
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// Settings of a [`BindingServer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingServerConfig {
    /// SOFTWARE to put in every response, if any.
    pub software: Option<String>,
    /// The most responses held for [`BindingServer::poll_transmit`]; more are dropped.
    pub max_queued: usize,
}

impl Default for BindingServerConfig {
    fn default() -> Self {
        BindingServerConfig {
            software: None,
            max_queued: 256,
        }
    }
}

/// What a [`BindingServer`] did with the datagrams it received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BindingServerStats {
    /// Binding requests answered with a success response.
    pub answered: u64,
    /// Binding requests answered with 420 (unknown comprehension-required attributes).
    pub rejected_unknown_attributes: u64,
    /// Datagrams dropped because they were not well-formed STUN.
    pub malformed: u64,
    /// Messages dropped because their FINGERPRINT did not match.
    pub bad_fingerprint: u64,
    /// Well-formed messages that are not Binding requests (indications, responses, other
    /// methods), dropped.
    pub ignored: u64,
    /// Responses dropped because the output queue was full.
    pub queue_full: u64,
}

/// The most attribute types listed in one UNKNOWN-ATTRIBUTES.
const MAX_UNKNOWN_LISTED: usize = 32;

/// A sans-IO STUN binding server: feed datagrams with [`BindingServer::handle_receive`],
/// then drain [`BindingServer::poll_transmit`]. It has no timers.
#[derive(Debug)]
pub struct BindingServer {
    config: BindingServerConfig,
    queue: VecDeque<Transmit>,
    stats: BindingServerStats,
}

impl BindingServer {
    /// A server with `config` and an empty queue.
    pub fn new(config: BindingServerConfig) -> BindingServer {
        BindingServer {
            config,
            queue: VecDeque::new(),
            stats: BindingServerStats::default(),
        }
    }

    /// Counters of what the server did so far.
    pub fn stats(&self) -> &BindingServerStats {
        &self.stats
    }

    /// A datagram from `source` arrived at `destination` (the server's address). A
    /// response, if any, is queued to go from `destination` back to `source`. Never fails:
    /// bad input is dropped and counted.
    pub fn handle_receive(&mut self, source: SocketAddr, destination: SocketAddr, payload: &[u8]) {
        let view = match StunView::new_checked(payload) {
            Ok(view) => view,
            Err(error) => {
                tracing::debug!(%source, %error, "stun server: dropping malformed datagram");
                self.stats.malformed += 1;
                return;
            }
        };
        if view.has_fingerprint() && !view.fingerprint_ok() {
            tracing::debug!(%source, "stun server: dropping message with bad FINGERPRINT");
            self.stats.bad_fingerprint += 1;
            return;
        }
        if view.class() != Class::Request || view.method() != Method::BINDING {
            tracing::trace!(%source, message = %view, "stun server: ignoring");
            self.stats.ignored += 1;
            return;
        }
        let response = self.response_to(&view, source);
        self.enqueue(destination, source, &response);
    }

    fn response_to(&mut self, request: &StunView<'_>, source: SocketAddr) -> StunMessage {
        let mut unknown: Vec<u16> = Vec::new();
        for t in request.unknown_comprehension_required() {
            if !unknown.contains(&t.0) && unknown.len() < MAX_UNKNOWN_LISTED {
                unknown.push(t.0);
            }
        }
        let mut response = if unknown.is_empty() {
            self.stats.answered += 1;
            StunMessage::success_response_to(request).with(Attribute::XorMappedAddress(source))
        } else {
            self.stats.rejected_unknown_attributes += 1;
            let error = ErrorCode::new(ErrorCode::UNKNOWN_ATTRIBUTE, "Unknown Attribute")
                .expect("420 is a valid error code");
            StunMessage::error_response_to(request, error)
                .with(Attribute::UnknownAttributes(unknown))
        };
        if let Some(software) = &self.config.software {
            response
                .attributes
                .push(Attribute::Software(software.clone()));
        }
        response
    }

    fn enqueue(&mut self, from: SocketAddr, to: SocketAddr, response: &StunMessage) {
        if self.queue.len() >= self.config.max_queued {
            tracing::debug!(%to, "stun server: output queue full, dropping response");
            self.stats.queue_full += 1;
            return;
        }
        match response.encode(None, true) {
            Ok(payload) => self.queue.push_back(Transmit {
                source: from,
                destination: to,
                payload,
            }),
            // Only an absurdly long SOFTWARE in the configuration can get here.
            Err(error) => tracing::debug!(%error, "stun server: cannot encode response"),
        }
    }

    /// The next response to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.queue.pop_front()
    }
}

#[cfg(feature = "sim")]
impl crate::sim::Node for BindingServer {
    fn handle_receive(
        &mut self,
        _now: std::time::Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        BindingServer::handle_receive(self, source, destination, payload);
    }

    fn handle_timeout(&mut self, _now: std::time::Instant) {}

    fn poll_transmit(&mut self) -> Option<Transmit> {
        BindingServer::poll_transmit(self)
    }

    fn poll_timeout(&self) -> Option<std::time::Instant> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{AttributeType, TransactionId};

    const TID: TransactionId = TransactionId([5; 12]);

    fn server() -> BindingServer {
        BindingServer::new(BindingServerConfig::default())
    }

    fn addrs() -> (SocketAddr, SocketAddr) {
        (
            "198.51.100.7:40000".parse().unwrap(),
            "203.0.113.1:3478".parse().unwrap(),
        )
    }

    fn request() -> StunMessage {
        StunMessage::binding_request(TID)
    }

    fn exchange(server: &mut BindingServer, request: &[u8]) -> Option<Transmit> {
        let (client, me) = addrs();
        server.handle_receive(client, me, request);
        server.poll_transmit()
    }

    #[test]
    fn binding_request_gets_source_as_xor_mapped_address() {
        let mut s = server();
        let t = exchange(&mut s, &request().encode(None, false).unwrap()).unwrap();
        let (client, me) = addrs();
        assert_eq!((t.source, t.destination), (me, client));
        let view = StunView::new_checked(&t.payload).unwrap();
        assert_eq!((view.class(), view.transaction_id()), (Class::Success, TID));
        assert_eq!(view.xor_mapped_address(), Some(client));
        assert!(view.fingerprint_ok());
        assert_eq!(s.stats().answered, 1);
    }

    #[test]
    fn ipv6_source_is_reflected() {
        let mut s = server();
        let client: SocketAddr = "[2001:db8::9]:5000".parse().unwrap();
        let me: SocketAddr = "[2001:db8::1]:3478".parse().unwrap();
        s.handle_receive(client, me, &request().encode(None, true).unwrap());
        let t = s.poll_transmit().unwrap();
        let view = StunView::new_checked(&t.payload).unwrap();
        assert_eq!(view.xor_mapped_address(), Some(client));
    }

    #[test]
    fn software_is_added_when_configured() {
        let mut s = BindingServer::new(BindingServerConfig {
            software: Some("rtcpeer test".into()),
            ..BindingServerConfig::default()
        });
        let t = exchange(&mut s, &request().encode(None, false).unwrap()).unwrap();
        let view = StunView::new_checked(&t.payload).unwrap();
        assert_eq!(view.software(), Some("rtcpeer test"));
    }

    #[test]
    fn unknown_comprehension_required_attributes_get_420() {
        let mut s = server();
        let unknown = |typ| Attribute::Unknown { typ, value: vec![] };
        let req = request()
            .with(unknown(0x7001))
            .with(unknown(0xC001))
            .with(unknown(0x7001))
            .with(unknown(0x0002));
        let t = exchange(&mut s, &req.encode(None, false).unwrap()).unwrap();
        let view = StunView::new_checked(&t.payload).unwrap();
        assert_eq!(view.class(), Class::Error);
        assert_eq!(view.error_code().map(|e| e.code()), Some(420));
        assert_eq!(view.unknown_attributes(), Some(vec![0x7001, 0x0002]));
        assert_eq!(view.get(AttributeType::XOR_MAPPED_ADDRESS), None);
        assert_eq!(s.stats().rejected_unknown_attributes, 1);
    }

    #[test]
    fn indications_responses_and_other_methods_are_ignored() {
        let mut s = server();
        let messages = [
            StunMessage::binding_indication(TID),
            StunMessage::new(Class::Success, Method::BINDING, TID),
            StunMessage::new(Class::Request, Method::ALLOCATE, TID),
        ];
        for m in messages {
            assert_eq!(exchange(&mut s, &m.encode(None, false).unwrap()), None);
        }
        assert_eq!(s.stats().ignored, 3);
    }

    #[test]
    fn garbage_is_dropped_and_counted() {
        let mut s = server();
        assert_eq!(exchange(&mut s, &[0x16, 0xfe, 0xfd, 0, 0]), None);
        assert_eq!(s.stats().malformed, 1);
    }

    #[test]
    fn bad_fingerprint_is_dropped_and_counted() {
        let mut s = server();
        let mut bytes = request().encode(None, true).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(exchange(&mut s, &bytes), None);
        assert_eq!(s.stats().bad_fingerprint, 1);
    }

    #[test]
    fn full_queue_drops_and_counts_responses() {
        let mut s = BindingServer::new(BindingServerConfig {
            max_queued: 2,
            ..BindingServerConfig::default()
        });
        let (client, me) = addrs();
        let bytes = request().encode(None, false).unwrap();
        for _ in 0..3 {
            s.handle_receive(client, me, &bytes);
        }
        assert_eq!(s.stats().queue_full, 1);
        assert!(s.poll_transmit().is_some());
        assert!(s.poll_transmit().is_some());
        assert!(s.poll_transmit().is_none());
    }

    #[cfg(feature = "sim")]
    #[test]
    fn works_as_a_simulator_node() {
        use crate::sim::Node;
        #[allow(clippy::disallowed_methods)]
        let t0 = std::time::Instant::now();
        let mut s = server();
        let (client, me) = addrs();
        Node::handle_receive(
            &mut s,
            t0,
            client,
            me,
            &request().encode(None, false).unwrap(),
        );
        assert_eq!(Node::poll_timeout(&s), None);
        let t = Node::poll_transmit(&mut s).unwrap();
        assert_eq!(t.destination, client);
        assert!(Node::poll_transmit(&mut s).is_none());
    }
}
