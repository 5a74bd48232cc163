//! mDNS resolution of remote `.local` candidates in the simulator (issue 13): peer A's
//! host candidate reaches B as `<uuid>.local` (rewritten by the test, as a browser without
//! camera permission sends it); B queries the mDNS group, a responder node that joined
//! 224.0.0.251 answers from port 5353, and the data channel opens on the pair whose remote
//! address is the resolved one. B's candidates are never given to A, so A can only answer
//! B's checks: without resolution there is no path at all.
//!
//! Also: no answer gives the name up after the bound (counted, nothing opens); hostile
//! responses (other name, truncated, a compression loop, a goodbye, a query) resolve
//! nothing, and the honest answer after them still works.

#[path = "pc_common/mod.rs"]
mod pc_common;

use pc_common::{A_ADDR, Pair, addr};
use rtcpeer::ice::CandidateKind;
use rtcpeer::mdns::{self, MDNS_IPV4, MDNS_PORT};
use rtcpeer::peer_connection::{ChannelId, Event, RtcConfiguration, SimPeer};
use rtcpeer::sim::Node;
use rtcpeer::transmit::Transmit;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The name A's host candidate is hidden behind.
const NAME: &str = "1f4712db-ea17-4bcf-a596-105139dfd8bf.local";
/// The responder's unicast address.
const RESPONDER: &str = "10.0.0.53";
/// The address hostile responses claim.
const FAKE: [u8; 4] = [10, 9, 9, 9];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Answers every query for `NAME` with A's address.
    Honest,
    /// Never answers.
    Silent,
    /// Answers with hostile datagrams only.
    Hostile,
    /// Hostile datagrams, then the honest answer.
    HostileThenHonest,
}

/// An mDNS responder for A's name, member of the group 224.0.0.251.
struct Responder {
    mode: Mode,
    answer: IpAddr,
    queries: usize,
    out: VecDeque<Transmit>,
}

impl Responder {
    fn honest(&self) -> Vec<u8> {
        mdns::encode_response(NAME, &[self.answer], 120).expect("response")
    }

    fn hostile(&self) -> Vec<Vec<u8>> {
        let header = |counts: [u16; 4], flags: u16| {
            let mut v = vec![0, 0];
            v.extend_from_slice(&flags.to_be_bytes());
            for c in counts {
                v.extend_from_slice(&c.to_be_bytes());
            }
            v
        };
        let fake = IpAddr::from(FAKE);
        let wrong_name = mdns::encode_response("another-uuid.local", &[fake], 120).expect("enc");
        let honest = self.honest();
        let truncated = honest[..honest.len() - 3].to_vec();
        // The answer's name is a pointer to itself.
        let mut looped = header([0, 1, 0, 0], 0x8400);
        looped.extend_from_slice(&[0xc0, 12, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4]);
        looped.extend_from_slice(&FAKE);
        let goodbye = mdns::encode_response(NAME, &[fake], 0).expect("enc");
        let query = mdns::encode_query(NAME, &[mdns::RecordType::A]).expect("enc");
        vec![wrong_name, truncated, looped, goodbye, query]
    }
}

impl Node for Responder {
    fn handle_receive(&mut self, _: Instant, source: SocketAddr, _: SocketAddr, payload: &[u8]) {
        let Ok(msg) = mdns::parse(payload) else {
            return;
        };
        if msg.is_response
            || !msg
                .questions
                .iter()
                .any(|q| q.name.eq_ignore_ascii_case(NAME))
        {
            return;
        }
        self.queries += 1;
        let mut replies = Vec::new();
        if matches!(self.mode, Mode::Hostile | Mode::HostileThenHonest) {
            replies.extend(self.hostile());
        }
        if matches!(self.mode, Mode::Honest | Mode::HostileThenHonest) {
            replies.push(self.honest());
        }
        let from = SocketAddr::new(RESPONDER.parse().expect("ip"), MDNS_PORT);
        for payload in replies {
            self.out.push_back(Transmit {
                source: from,
                destination: source,
                payload,
            });
        }
    }

    fn handle_timeout(&mut self, _: Instant) {}

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

struct Run {
    pair: Pair,
    channel: ChannelId,
    responder: rtcpeer::sim::NodeId,
    opened: bool,
}

/// A and B negotiate (A offers a channel); A's host candidates reach B with `NAME` in place
/// of the address; B's reach nobody. Runs for up to `limit` of virtual time or until the
/// channel is open on both sides.
fn run(seed: u64, mode: Mode, resolve: bool, limit: Duration) -> Run {
    run_with(seed, mode, resolve, false, limit)
}

/// [`run`], and with `end_of_candidates` A's end-of-candidates reaches B too (right after
/// the hidden candidate, as in a non-trickle offer).
fn run_with(seed: u64, mode: Mode, resolve: bool, end_of_candidates: bool, limit: Duration) -> Run {
    let mut pair = Pair::with_peers(seed, |now| {
        let mk = |s: u64, a: &str| {
            let config = RtcConfiguration {
                resolve_mdns: resolve,
                ..RtcConfiguration::with_seed(s)
            };
            let mut pc = rtcpeer::peer_connection::PeerConnection::new(config, now).expect("pc");
            pc.add_local_socket(now, addr(a)).expect("socket");
            SimPeer::new(pc)
        };
        (
            mk(seed * 2 + 1, A_ADDR),
            mk(seed * 2 + 2, pc_common::B_ADDR),
        )
    });
    pair.trickle = false;
    let net = pair.sim.internet();
    let responder = Responder {
        mode,
        answer: addr(A_ADDR).ip(),
        queries: 0,
        out: VecDeque::new(),
    };
    let responder = pair
        .sim
        .add_node(net, RESPONDER.parse().expect("ip"), responder)
        .expect("responder");
    pair.sim
        .join_multicast_group(responder, net, IpAddr::V4(MDNS_IPV4))
        .expect("join");
    let channel = pair.with(true, |pc| {
        pc.create_data_channel("c", Default::default())
            .expect("channel")
    });
    pair.negotiate(true);
    let mut forwarded = 0;
    let a_ip = addr(A_ADDR).ip().to_string();
    let opened = pair.run_until(limit, |p| {
        let fresh: Vec<_> = p.events(true)[forwarded..].to_vec();
        forwarded += fresh.len();
        for e in fresh {
            if let Event::IceCandidate(c) = &e
                && c.candidate.is_empty()
                && end_of_candidates
            {
                let c = c.clone();
                p.with(false, |pc| pc.add_ice_candidate(c).expect("add"));
            }
            if let Event::IceCandidate(mut c) = e
                && !c.candidate.is_empty()
            {
                assert!(c.candidate.contains(" typ host"), "{}", c.candidate);
                c.candidate = c
                    .candidate
                    .replacen(&format!(" {a_ip} "), &format!(" {NAME} "), 1);
                p.with(false, |pc| pc.add_ice_candidate(c).expect("add"));
            }
        }
        p.opened(true, channel) && !p.incoming(false).is_empty()
    });
    Run {
        pair,
        channel,
        responder,
        opened,
    }
}

#[test]
fn local_candidate_is_resolved_and_the_channel_opens_on_the_resolved_address() {
    let mut r = run(1, Mode::Honest, true, Duration::from_secs(10));
    assert!(
        r.opened,
        "the channel opened through the resolved candidate"
    );
    assert!(r.pair.opened(true, r.channel));
    let b = r.pair.pc(false);
    let stats = b.stats();
    assert_eq!(stats.mdns_resolved, 1);
    assert_eq!(stats.mdns_failed, 0);
    assert_eq!(stats.remote_candidates_unresolved, 0);
    assert!(stats.mdns_queries_sent >= 1);
    let resolved: Vec<_> = b.ice_agent().remote_candidates().to_vec();
    assert!(
        resolved
            .iter()
            .any(|c| c.address == addr(A_ADDR) && c.kind == CandidateKind::Host),
        "A's host candidate with the resolved address: {resolved:?}"
    );
    assert_eq!(b.data_path().map(|p| p.remote), Some(addr(A_ADDR)));
    assert!(r.pair.sim.node::<Responder>(r.responder).queries >= 1);
    // A heard nothing of B's candidates: every path it has, B's checks made.
    assert!(
        r.pair
            .pc(true)
            .ice_agent()
            .remote_candidates()
            .iter()
            .all(|c| c.kind == CandidateKind::PeerReflexive)
    );
    let _ = r.pair.pa();
}

/// End-of-candidates while the only remote candidate's name is pending does not fail ICE
/// for want of pairs: it waits for the answer (a browser's non-trickle offer whose host
/// candidates are all `.local` carries `a=end-of-candidates`).
#[test]
fn end_of_candidates_waits_for_the_pending_name() {
    let mut r = run_with(6, Mode::Honest, true, true, Duration::from_secs(10));
    assert!(
        r.opened,
        "the channel opened through the resolved candidate"
    );
    let failed = r.pair.events(false).iter().any(|e| {
        matches!(
            e,
            Event::ConnectionStateChange(rtcpeer::peer_connection::PeerConnectionState::Failed)
                | Event::IceConnectionStateChange(rtcpeer::ice::IceConnectionState::Failed)
        )
    });
    assert!(!failed, "B never failed while the name was pending");
    let b = r.pair.pc(false);
    assert_eq!(b.stats().mdns_resolved, 1);
    assert_eq!(b.data_path().map(|p| p.remote), Some(addr(A_ADDR)));
    let _ = r.pair.pa();
}

/// With no answer, the deferred end-of-candidates reaches ICE once the name is given up,
/// and the connection fails then (not before, not never).
#[test]
fn end_of_candidates_after_an_unanswered_name_fails_the_connection() {
    let mut r = run_with(7, Mode::Silent, true, true, Duration::from_secs(8));
    assert!(!r.opened);
    let b = r.pair.pc(false);
    assert_eq!(b.stats().mdns_failed, 1);
    assert_eq!(
        b.connection_state(),
        rtcpeer::peer_connection::PeerConnectionState::Failed
    );
    let _ = r.pair.pa();
}

#[test]
fn unanswered_name_is_given_up_after_the_bound_and_counted() {
    let r = run(2, Mode::Silent, true, Duration::from_secs(8));
    assert!(!r.opened, "no path exists without the answer");
    let stats = r.pair.pc(false).stats();
    assert_eq!(stats.mdns_resolved, 0);
    assert_eq!(stats.mdns_failed, 1);
    assert_eq!(stats.remote_candidates_unresolved, 1);
    assert_eq!(
        stats.mdns_queries_sent, 3,
        "three one-shot queries, then given up"
    );
    assert_eq!(r.pair.sim.node::<Responder>(r.responder).queries, 3);
    assert!(r.pair.pc(false).ice_agent().remote_candidates().is_empty());
}

#[test]
fn hostile_responses_resolve_nothing() {
    let r = run(3, Mode::Hostile, true, Duration::from_secs(8));
    assert!(!r.opened);
    let b = r.pair.pc(false);
    let stats = b.stats();
    assert_eq!(stats.mdns_resolved, 0);
    assert_eq!(stats.mdns_failed, 1);
    // Per query: the other name, the goodbye and the query are parsed and ignored; the
    // truncated and looping ones do not parse and are dropped by the demultiplexer.
    assert_eq!(stats.mdns_ignored, 3 * 3);
    assert!(stats.dropped_unknown >= 2 * 3);
    assert!(b.ice_agent().remote_candidates().is_empty());
}

#[test]
fn honest_answer_after_hostile_ones_still_resolves() {
    let r = run(4, Mode::HostileThenHonest, true, Duration::from_secs(10));
    assert!(r.opened);
    let b = r.pair.pc(false);
    assert_eq!(b.stats().mdns_resolved, 1);
    assert!(
        b.ice_agent()
            .remote_candidates()
            .iter()
            .all(|c| c.address.ip() != IpAddr::from(FAKE))
    );
    assert_eq!(b.data_path().map(|p| p.remote), Some(addr(A_ADDR)));
}

#[test]
fn resolution_switched_off_sends_no_query() {
    let r = run(5, Mode::Honest, false, Duration::from_secs(5));
    assert!(!r.opened);
    let stats = r.pair.pc(false).stats();
    assert_eq!(stats.mdns_queries_sent, 0);
    assert_eq!(stats.remote_candidates_unresolved, 1);
    assert_eq!(r.pair.sim.node::<Responder>(r.responder).queries, 0);
}

/// A peer whose socket is on port 5353 is not mistaken for an mDNS responder: its STUN,
/// DTLS and SCTP datagrams do not parse as DNS messages and reach the usual layers.
#[test]
fn a_peer_on_port_5353_still_connects() {
    let mut pair = Pair::with_peers(6, |now| {
        (
            pc_common::peer(13, "10.0.0.1:5353", now),
            pc_common::peer(14, pc_common::B_ADDR, now),
        )
    });
    let channel = pair.with(true, |pc| {
        pc.create_data_channel("c", Default::default())
            .expect("channel")
    });
    pair.negotiate(true);
    assert!(
        pair.run_until(Duration::from_secs(10), |p| p.opened(true, channel)
            && !p.incoming(false).is_empty())
    );
    let b = pair.pc(false).stats();
    assert_eq!(b.mdns_ignored, 0);
    assert_eq!(b.dropped_unknown, 0);
    assert!(b.datagrams_received > 4);
}
