//! Hostile and odd input: garbage never panics, never changes state, is counted;
//! responses from the wrong address are not successes; server-reflexive gathering.

use super::shuttle::{Shuttle, addr, config};
use crate::ice::wire::{self, CheckRequest};
use crate::ice::{
    CandidateKind, IceAgent, IceConfig, IceEvent, IceGatheringState, IceRole, StunServer,
};
use crate::rng::Rng;
use crate::stun::{Attribute, Class, Method, StunMessage, StunView, TransactionId};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

fn connected() -> Shuttle {
    let mut s = Shuttle::lan(
        config(IceRole::Controlling),
        config(IceRole::Controlled),
        40,
    );
    assert!(s.run_until(5 * S, Shuttle::connected));
    s.run_for(S);
    s
}

/// A check from B to A as B would build it, with a chosen username and password.
fn check(s: &Shuttle, username: String, pwd: &str) -> Vec<u8> {
    wire::encode_check(&CheckRequest {
        id: [7; 12],
        username,
        priority: 1_000,
        role: IceRole::Controlled,
        tie_breaker: s.b().agent.tie_breaker(),
        use_candidate: false,
        pwd,
    })
}

/// Feeds `data` to A at a frozen instant and checks that nothing changed but counters.
fn feed_and_expect_no_effect(s: &mut Shuttle, data: &[u8]) {
    let (from, to) = (addr("10.0.0.2:6000"), addr("10.0.0.1:5000"));
    let now = s.now;
    let state = s.a().agent.connection_state();
    let selected = s.a().agent.selected_pair();
    let pairs = s.a().agent.pairs();
    let a = &mut s.peers[0].agent;
    a.handle_receive(now, from, to, data);
    assert_eq!(a.poll_transmit(), None, "garbage must never be answered");
    assert_eq!(a.poll_event(), None);
    assert_eq!(a.connection_state(), state);
    assert_eq!(a.selected_pair(), selected);
    assert_eq!(a.pairs(), pairs);
}

#[test]
fn random_bytes_never_panic_nor_change_state() {
    let mut s = connected();
    let mut rng = Rng::from_u64(99);
    for i in 0..2000 {
        let len = rng.below(200) as usize;
        let mut data = vec![0u8; len];
        rng.fill(&mut data);
        if i % 2 == 0 && len >= 20 {
            // Make half of them pass the STUN demultiplexing test.
            data[0] &= 0x01;
            data[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
        }
        feed_and_expect_no_effect(&mut s, &data);
    }
    let st = s.a().agent.stats();
    assert!(st.dropped_malformed > 500, "{st:?}");
}

#[test]
fn truncated_stun_is_counted_as_malformed() {
    let mut s = connected();
    let ufrags = format!(
        "{}:{}",
        s.a().agent.local_credentials().ufrag,
        s.b().agent.local_credentials().ufrag
    );
    let good = check(&s, ufrags, &s.a().agent.local_credentials().pwd.clone());
    let before = s.a().agent.stats().dropped_malformed;
    for len in [20, 24, 30, good.len() - 1] {
        feed_and_expect_no_effect(&mut s, &good[..len]);
    }
    assert_eq!(s.a().agent.stats().dropped_malformed, before + 4);
}

#[test]
fn wrong_integrity_is_dropped_and_counted() {
    let mut s = connected();
    let user = format!(
        "{}:{}",
        s.a().agent.local_credentials().ufrag,
        s.b().agent.local_credentials().ufrag
    );
    let data = check(&s, user, "not-the-right-password-at-all");
    let before = s.a().agent.stats().clone();
    feed_and_expect_no_effect(&mut s, &data);
    let after = s.a().agent.stats();
    assert_eq!(
        after.dropped_bad_integrity,
        before.dropped_bad_integrity + 1
    );
    assert_eq!(after.checks_received, before.checks_received);
}

#[test]
fn wrong_fingerprint_is_dropped_and_counted() {
    let mut s = connected();
    let user = format!(
        "{}:{}",
        s.a().agent.local_credentials().ufrag,
        s.b().agent.local_credentials().ufrag
    );
    let mut data = check(&s, user, &s.a().agent.local_credentials().pwd.clone());
    let last = data.len() - 1;
    data[last] ^= 0x55;
    let before = s.a().agent.stats().dropped_bad_fingerprint;
    feed_and_expect_no_effect(&mut s, &data);
    assert_eq!(s.a().agent.stats().dropped_bad_fingerprint, before + 1);
}

#[test]
fn unknown_ufrag_is_dropped_and_counted() {
    let mut s = connected();
    let pwd = s.a().agent.local_credentials().pwd.clone();
    let before = s.a().agent.stats().dropped_unknown_ufrag;
    let data = check(&s, "nobody:else".into(), &pwd);
    feed_and_expect_no_effect(&mut s, &data);
    // Our ufrag without the colon and the peer's ufrag is not a valid USERNAME either.
    let ours = s.a().agent.local_credentials().ufrag.clone();
    let data = check(&s, ours, &pwd);
    feed_and_expect_no_effect(&mut s, &data);
    // No USERNAME at all counts the same way.
    let bare = StunMessage::binding_request(TransactionId([1; 12]))
        .encode(None, true)
        .unwrap();
    feed_and_expect_no_effect(&mut s, &bare);
    assert_eq!(s.a().agent.stats().dropped_unknown_ufrag, before + 3);
}

#[test]
fn unmatched_response_is_dropped_and_counted() {
    let mut s = connected();
    let resp = StunMessage::new(Class::Success, Method::BINDING, TransactionId([3; 12]))
        .with(Attribute::XorMappedAddress(addr("10.0.0.1:5000")))
        .encode(None, true)
        .unwrap();
    let before = s.a().agent.stats().dropped_unmatched_response;
    feed_and_expect_no_effect(&mut s, &resp);
    assert_eq!(s.a().agent.stats().dropped_unmatched_response, before + 1);
}

#[test]
fn non_stun_datagrams_are_not_consumed() {
    let mut s = connected();
    let now = s.now;
    let a = &mut s.peers[0].agent;
    assert!(!a.handle_receive(
        now,
        addr("10.0.0.2:6000"),
        addr("10.0.0.1:5000"),
        &[22, 254, 253, 0]
    ));
    assert!(!a.handle_receive(now, addr("10.0.0.2:6000"), addr("10.0.0.1:5000"), &[]));
}

#[test]
fn response_from_the_wrong_address_is_not_a_success() {
    let mut s = Shuttle::lan(
        config(IceRole::Controlling),
        config(IceRole::Controlled),
        41,
    );
    // Every success response B sends appears to come from another port.
    s.tamper = Some(Box::new(|_, t| {
        let is_success =
            StunView::new_checked(&t.payload).is_ok_and(|v| v.class() == Class::Success);
        if is_success && t.source == addr("10.0.0.2:6000") {
            t.source = addr("10.0.0.2:6001");
        }
        true
    }));
    s.run_for(20 * S);
    let a = &s.a().agent;
    assert!(a.stats().checks_failed > 0);
    assert!(a.pairs().iter().all(|p| !p.valid));
    assert!(a.selected_pair().is_none());
}

/// Answers a Binding request the way a STUN server behind a NAT would see it.
fn server_answer(req: &[u8], mapped: SocketAddr) -> Vec<u8> {
    let view = StunView::new_checked(req).expect("agent sends valid STUN");
    StunMessage::new(Class::Success, Method::BINDING, view.transaction_id())
        .with(Attribute::XorMappedAddress(mapped))
        .encode(None, true)
        .unwrap()
}

#[test]
fn server_reflexive_candidate_is_gathered_once_and_gathering_completes() {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let server = addr("198.51.100.1:3478");
    let cfg = IceConfig {
        stun_servers: vec![
            StunServer::Addr(server),
            StunServer::Name {
                host: "stun.example.org".into(),
                port: 3478,
            },
        ],
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(cfg, Rng::from_u64(50)).unwrap();
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::ResolveName {
            name: "stun.example.org".into()
        })
    );
    let base = addr("10.0.0.1:5000");
    a.add_local_socket(now, base).unwrap();
    let first = a.poll_transmit().expect("request to the known server");
    assert_eq!((first.source, first.destination), (base, server));
    let other = addr("198.51.100.2:3478");
    a.handle_resolved(now, "stun.example.org", &[other.ip()]);
    let second = a.poll_transmit().expect("request to the resolved server");
    assert_eq!(second.destination, other);
    assert_eq!(a.gathering_state(), IceGatheringState::Gathering);
    let mapped = addr("203.0.113.9:40000");
    let later = now + Duration::from_millis(30);
    assert!(a.handle_receive(later, server, base, &server_answer(&first.payload, mapped)));
    assert!(a.handle_receive(later, other, base, &server_answer(&second.payload, mapped)));
    let events: Vec<_> = std::iter::from_fn(|| a.poll_event()).collect();
    let srflx: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            IceEvent::LocalCandidate(c) if c.kind == CandidateKind::ServerReflexive => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        srflx.len(),
        1,
        "same mapped address announced once: {events:?}"
    );
    assert_eq!(srflx[0].address, mapped);
    assert_eq!(srflx[0].related_address, Some(base));
    a.handle_timeout(a.poll_timeout().unwrap());
    assert_eq!(a.gathering_state(), IceGatheringState::Complete);
    assert_eq!(a.stats().responses_received, 2);
}

#[test]
fn unanswered_stun_server_is_retransmitted_then_given_up() {
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let cfg = IceConfig {
        stun_servers: vec![StunServer::Addr(addr("198.51.100.1:3478"))],
        ..IceConfig::default()
    };
    let mut a = IceAgent::new(cfg, Rng::from_u64(51)).unwrap();
    a.add_local_socket(now, addr("10.0.0.1:5000")).unwrap();
    let mut sent = 0;
    while let Some(at) = a.poll_timeout() {
        now = at;
        a.handle_timeout(now);
        while a.poll_transmit().is_some() {
            sent += 1;
        }
        if a.gathering_state() == IceGatheringState::Complete {
            break;
        }
    }
    assert_eq!(sent, 7, "one request plus six retransmissions");
    assert_eq!(a.stats().retransmits, 6);
    assert_eq!(a.gathering_state(), IceGatheringState::Complete);
}

#[test]
fn api_misuse_gives_typed_errors() {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut a = IceAgent::new(IceConfig::default(), Rng::from_u64(52)).unwrap();
    let bad = crate::ice::Credentials::new("ab", "short");
    assert_eq!(
        a.set_remote_credentials(now, bad),
        Err(crate::ice::IceError::InvalidCredentials)
    );
    let good = crate::ice::Credentials::new("abcd", "0123456789012345678901");
    a.set_remote_credentials(now, good.clone()).unwrap();
    a.set_remote_credentials(now, good).unwrap();
    let other = crate::ice::Credentials::new("efgh", "0123456789012345678901");
    assert_eq!(
        a.set_remote_credentials(now, other.clone()),
        Err(crate::ice::IceError::RestartRequired)
    );
    a.restart(now).unwrap();
    a.set_remote_credentials(now, other).unwrap();
    a.close(now);
    assert_eq!(
        a.add_local_socket(now, addr("10.0.0.1:1")),
        Err(crate::ice::IceError::Closed)
    );
    assert_eq!(a.connection_state(), crate::ice::IceConnectionState::Closed);
    assert_eq!(a.poll_timeout(), None);
    let cfg = IceConfig {
        max_pairs: 0,
        ..IceConfig::default()
    };
    assert!(matches!(
        IceAgent::new(cfg, Rng::from_u64(1)),
        Err(crate::ice::IceError::InvalidConfig(_))
    ));
    let mut huge = IceConfig::default();
    huge.timing.consent_timeout = Duration::MAX;
    assert!(matches!(
        IceAgent::new(huge, Rng::from_u64(1)),
        Err(crate::ice::IceError::InvalidConfig(_))
    ));
}
