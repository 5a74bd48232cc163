//! TURN relays in the simulator: two `PeerConnection`s behind symmetric NATs reach each
//! other only through the sans-IO `TurnServer`; refreshes over a 20-minute call with
//! short-lived nonces; a server restart; lost ChannelBind responses; wrong credentials;
//! the relay-only policy.

#[path = "pc_common/mod.rs"]
mod pc_common;

use pc_common::{Pair, addr, start};
use rtcpeer::Rng;
use rtcpeer::ice::{CandidateKind, IceConnectionState};
use rtcpeer::peer_connection::{
    ChannelId, DataChannelInit, Event, IceServer, IceTransportPolicy, PeerConnection,
    RtcConfiguration, SimPeer,
};
use rtcpeer::sim::{Direction, LinkConfig, NatConfig, NodeId, Sim};
use rtcpeer::turn::server::{TurnServer, TurnServerConfig};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const S: Duration = Duration::from_secs(1);
const TURN: &str = "198.51.100.5:3478";

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

thread_local! {
    /// The TURN URL the peers of this test thread are configured with.
    static TURN_URL: std::cell::RefCell<String> = std::cell::RefCell::new(format!("turn:{TURN}"));
}

fn config(seed: u64, password: &str, relay_only: bool) -> RtcConfiguration {
    RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec![TURN_URL.with(|u| u.borrow().clone())],
            username: Some("alice".into()),
            credential: Some(password.into()),
        }],
        ice_transport_policy: if relay_only {
            IceTransportPolicy::Relay
        } else {
            IceTransportPolicy::All
        },
        ..RtcConfiguration::with_seed(seed)
    }
}

struct Setup {
    pair: Pair,
    server: NodeId,
}

impl Setup {
    fn server(&mut self) -> &mut TurnServer {
        self.pair.sim.node_mut::<TurnServer>(self.server)
    }
}

/// A TURN server on the internet and two peers, each behind its own symmetric NAT (or,
/// with `lan`, both on one LAN), 20 ms per access link.
fn setup(seed: u64, passwords: [&str; 2], relay_only: bool, lan: bool, nonce: Duration) -> Setup {
    let t0 = start();
    let mut sim = Sim::new(t0, Rng::from_u64(seed));
    let internet = sim.internet();
    let mut server_config = TurnServerConfig::new(addr(TURN), "sim", "alice", "s3cret");
    server_config.nonce_lifetime = nonce;
    let server = sim
        .add_node(internet, addr(TURN).ip(), TurnServer::new(server_config))
        .expect("server");
    let shared_lan = lan.then(|| sim.add_routed_network(internet).expect("lan"));
    let mut ids = Vec::new();
    for i in 0..2u8 {
        let host = format!("192.168.{}.2", i + 1);
        let net = match shared_lan {
            Some(n) => n,
            None => {
                let public = ip(&format!("203.0.113.{}", i + 1));
                let nat = sim
                    .add_nat(internet, public, NatConfig::symmetric())
                    .expect("nat");
                sim.set_uplink(nat, Direction::Both, LinkConfig::new().latency(20 * MS))
                    .expect("uplink");
                nat
            }
        };
        let socket = SocketAddr::new(ip(&host), 5000);
        let mut pc = PeerConnection::new(
            config(seed * 2 + u64::from(i), passwords[i as usize], relay_only),
            t0,
        )
        .expect("config");
        pc.add_local_socket(t0, socket).expect("socket");
        ids.push(
            sim.add_node(net, ip(&host), SimPeer::new(pc))
                .expect("peer"),
        );
    }
    let pair = Pair {
        sim,
        a: ids[0],
        b: ids[1],
        trickle: true,
        a_events: Vec::new(),
        b_events: Vec::new(),
    };
    Setup { pair, server }
}

const MS: Duration = Duration::from_millis(1);

/// Negotiates with a channel from a, waits until it is open on both sides.
fn open_channel(p: &mut Pair) -> (ChannelId, ChannelId) {
    let ca = p.with(true, |pc| {
        pc.create_data_channel("relay", DataChannelInit::default())
            .expect("dc")
    });
    p.negotiate(true);
    assert!(
        p.run_until(10 * S, |p| p.opened(true, ca)
            && !p.incoming(false).is_empty()),
        "channel not open: a={:?} b={:?}",
        p.pc(true).ice_agent().stats(),
        p.pc(false).ice_agent().stats()
    );
    let cb = p.incoming(false)[0];
    assert!(p.run_until(5 * S, |p| p.opened(false, cb)));
    (ca, cb)
}

/// Sends `text` both ways and waits until both arrived.
fn exchange(p: &mut Pair, ca: ChannelId, cb: ChannelId, text: &str, within: Duration) -> bool {
    p.with(true, |pc| {
        pc.data_channel(ca)
            .expect("ca")
            .send_text(text)
            .expect("send")
    });
    p.with(false, |pc| {
        pc.data_channel(cb)
            .expect("cb")
            .send_text(text)
            .expect("send")
    });
    let want = text.as_bytes().to_vec();
    p.run_until(within, |p| {
        p.messages(false, cb).iter().any(|(m, _)| *m == want)
            && p.messages(true, ca).iter().any(|(m, _)| *m == want)
    })
}

fn relayed_on_both_sides(p: &Pair) -> bool {
    [true, false].into_iter().all(|a| {
        p.pc(a)
            .data_path()
            .is_some_and(|path| path.local.ip() == addr(TURN).ip())
    })
}

#[test]
fn peers_behind_symmetric_nats_connect_only_through_the_relay_and_move_data() {
    let mut s = setup(1, ["s3cret"; 2], false, false, 600 * S);
    let (ca, cb) = open_channel(&mut s.pair);
    assert!(exchange(&mut s.pair, ca, cb, "through the relay", 2 * S));
    assert!(relayed_on_both_sides(&s.pair));
    assert!(
        s.pair.run_until(5 * S, pc_common::nominated),
        "a: {:#?}\nb: {:#?}",
        s.pair.pc(true).ice_agent().pairs(),
        s.pair.pc(false).ice_agent().pairs()
    );
    // RFC 8445 section 5.1.2.1: type preference 0 for relayed candidates.
    let relay = s
        .pair
        .pc(true)
        .ice_agent()
        .local_candidates()
        .find(|c| c.kind == CandidateKind::Relayed)
        .expect("a relayed candidate")
        .clone();
    assert_eq!(relay.priority, (65535 << 8) + 255);
    assert_eq!(relay.address.ip(), addr(TURN).ip());
    assert!(
        relay.to_string().contains("typ relay raddr 203.0.113.1"),
        "{relay}"
    );
    let stats = s.server().stats().clone();
    assert_eq!(stats.allocations, 2);
    assert!(stats.to_peer > 0 && stats.to_client > 0, "{stats:?}");
    // Once the data path is relayed, its traffic uses channels.
    assert!(s.server().stats().channel_bind_ok >= 2);
}

#[test]
fn a_twenty_minute_call_refreshes_everything_and_survives_stale_nonces() {
    // Nonces last 100 s, so every Refresh, CreatePermission refresh and ChannelBind
    // refresh meets a 438 first.
    let mut s = setup(2, ["s3cret"; 2], false, false, 100 * S);
    let (ca, cb) = open_channel(&mut s.pair);
    for minute in 0..20 {
        let text = format!("minute {minute}");
        assert!(
            exchange(&mut s.pair, ca, cb, &text, 60 * S),
            "lost at {text}"
        );
        let until = s.pair.sim.now() + 60 * S;
        s.pair.run_until(61 * S, |p| p.sim.now() >= until);
    }
    assert!(relayed_on_both_sides(&s.pair));
    let stats = s.server().stats().clone();
    assert_eq!(stats.allocations, 2, "{stats:?}");
    assert!(stats.refresh_ok >= 6, "{stats:?}");
    assert!(stats.permission_ok >= 8, "{stats:?}");
    assert!(stats.channel_bind_ok >= 6, "{stats:?}");
    assert!(
        stats.stale_nonce[1..].iter().all(|n| *n >= 1),
        "438 on Refresh, CreatePermission and ChannelBind: {stats:?}"
    );
    for a in [true, false] {
        let state = s.pair.pc(a).ice_connection_state();
        assert!(
            matches!(
                state,
                IceConnectionState::Connected | IceConnectionState::Completed
            ),
            "side {a}: {state:?}"
        );
    }
}

#[test]
fn a_server_restart_is_survived_by_reallocation_and_an_ice_restart() {
    let mut s = setup(3, ["s3cret"; 2], false, false, 600 * S);
    let (ca, cb) = open_channel(&mut s.pair);
    assert!(exchange(&mut s.pair, ca, cb, "before", 2 * S));
    assert!(s.pair.run_until(5 * S, pc_common::nominated));
    let before = s.server().relayed_addresses();
    s.server().restart();
    // Consent fails through the dead relay; the clients probe and re-allocate.
    let disconnected = s.pair.run_until(30 * S, |p| {
        p.pc(true).ice_connection_state() == IceConnectionState::Disconnected
    });
    let server_stats = s.server().stats().clone();
    assert!(
        disconnected,
        "state {:?}, a {:?}, server {server_stats:?}",
        s.pair.pc(true).ice_connection_state(),
        s.pair.pc(true).ice_agent().stats(),
    );
    let server = s.server;
    assert!(s.pair.run_until(20 * S, |p| {
        p.sim.node::<TurnServer>(server).relayed_addresses().len() == 2
    }));
    let after = s.server().relayed_addresses();
    assert!(
        after.iter().all(|a| !before.contains(a)),
        "{before:?} {after:?}"
    );
    // The application restarts ICE, as browsers' applications do on disconnection.
    s.pair.with(true, |pc| pc.restart_ice());
    s.pair.negotiate(true);
    assert!(exchange(&mut s.pair, ca, cb, "after", 20 * S));
    assert!(relayed_on_both_sides(&s.pair));
    assert!(after.contains(&s.pair.pc(true).data_path().expect("path").local));
}

#[test]
fn lost_channel_bind_responses_never_end_in_a_400_loop() {
    let mut s = setup(4, ["s3cret"; 2], false, false, 600 * S);
    s.server().drop_channel_bind_responses(true);
    let (ca, cb) = open_channel(&mut s.pair);
    // Data flows over Send/Data indications while the bindings are unconfirmed.
    assert!(exchange(&mut s.pair, ca, cb, "indications", 2 * S));
    let until = s.pair.sim.now() + 30 * S;
    s.pair.run_until(31 * S, |p| p.sim.now() >= until);
    s.server().drop_channel_bind_responses(false);
    let until = s.pair.sim.now() + 30 * S;
    s.pair.run_until(31 * S, |p| p.sim.now() >= until);
    assert!(exchange(&mut s.pair, ca, cb, "channels", 2 * S));
    let stats = s.server().stats().clone();
    assert_eq!(stats.channel_conflicts, 0, "{stats:?}");
    assert!(stats.channel_bind_responses_dropped > 0, "{stats:?}");
    for a in [true, false] {
        let agent = s.pair.pc(a).ice_agent();
        assert_eq!(agent.stats().relay_errors, 0, "side {a}");
    }
}

#[test]
fn wrong_credentials_give_an_error_event_within_two_seconds_and_ice_fails() {
    let mut s = setup(5, ["wrong", "s3cret"], true, false, 600 * S);
    let t0 = s.pair.sim.now();
    s.pair.with(true, |pc| {
        pc.create_data_channel("x", DataChannelInit::default())
            .expect("dc")
    });
    s.pair.negotiate(true);
    assert!(s.pair.run_until(2 * S, |p| {
        p.events(true).iter().any(|e| {
            matches!(
                e,
                Event::IceCandidateError {
                    error_code: 401,
                    ..
                }
            )
        })
    }));
    assert!(s.pair.sim.now() - t0 <= 2 * S);
    assert!(s.pair.run_until(S, |p| {
        p.pc(true).ice_connection_state() == IceConnectionState::Failed
    }));
    assert_eq!(s.server().stats().allocations, 1, "only b allocated");
}

#[test]
fn relay_only_never_puts_host_pairs_on_the_wire() {
    // Both peers on one LAN, where host pairs would work at once.
    let mut s = setup(6, ["s3cret"; 2], true, true, 600 * S);
    let (ca, cb) = open_channel(&mut s.pair);
    assert!(exchange(&mut s.pair, ca, cb, "relayed anyway", 2 * S));
    assert!(relayed_on_both_sides(&s.pair));
    let server_ip = addr(TURN).ip();
    // Every datagram sent, delivered or dropped went to or came from the server.
    assert!(!s.pair.sim.capture().is_empty());
    for r in s.pair.sim.capture() {
        assert!(
            r.source.ip() == server_ip || r.destination.ip() == server_ip,
            "a datagram bypassed the relay: {r:?}"
        );
    }
    for a in [true, false] {
        for pair in s.pair.pc(a).ice_agent().pairs() {
            assert_eq!(pair.local.ip(), server_ip, "a non-relayed pair: {pair:?}");
        }
    }
}

#[test]
fn a_relayed_call_is_deterministic() {
    let run = || {
        let mut s = setup(9, ["s3cret"; 2], false, false, 600 * S);
        let (ca, cb) = open_channel(&mut s.pair);
        assert!(exchange(&mut s.pair, ca, cb, "same bytes", 2 * S));
        s.pair.sim.capture_digest()
    };
    assert_eq!(run(), run());
}

#[test]
fn turn_over_tcp_and_tls_are_accepted_and_dtls_is_a_clear_configuration_error() {
    let config = |url: &str| RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec![url.into()],
            username: Some("u".into()),
            credential: Some("p".into()),
        }],
        ..RtcConfiguration::with_seed(1)
    };
    for url in ["turns:turn.example.org", "turn:198.51.100.5?transport=tcp"] {
        PeerConnection::new(config(url), start()).expect(url);
    }
    let url = "turns:turn.example.org?transport=udp";
    let err = PeerConnection::new(config(url), start()).expect_err(url);
    assert!(err.to_string().contains("no DTLS"), "{url}: {err}");
}

#[test]
fn a_turn_server_given_by_name_is_resolved_through_the_application() {
    TURN_URL.with(|u| *u.borrow_mut() = "turn:turn.sim.test:3478".into());
    let mut s = setup(10, ["s3cret"; 2], true, false, 600 * S);
    let server_ip = addr(TURN).ip();
    for a in [true, false] {
        let asked = s.pair.run_until(S, |p| {
            p.events(a)
                .iter()
                .any(|e| *e == Event::ResolveName("turn.sim.test".into()))
        });
        assert!(asked, "side {a} did not ask for the name");
        let now = s.pair.sim.now();
        s.pair.with(a, |pc| {
            pc.handle_resolved(now, "turn.sim.test", &[server_ip])
        });
    }
    let (ca, cb) = open_channel(&mut s.pair);
    assert!(exchange(&mut s.pair, ca, cb, "by name", 2 * S));
    assert!(relayed_on_both_sides(&s.pair));
}
