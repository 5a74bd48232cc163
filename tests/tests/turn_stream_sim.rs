//! TURN over a stream transport (TCP framing, RFC 8656 section 12.5) through the sans-IO
//! `TurnServer`, with no sockets: two relay-only `PeerConnection`s ask for a connection
//! (`Event::TurnConnect`), this test plays the TCP connections in memory (client bytes
//! framed on the server side, server messages padded and cut into odd-sized pieces on the
//! way back) and the sim server relays between the two allocations over its "UDP" leg.
//! Also: the selected pair is relayed via TCP in the stats, nothing is retransmitted on
//! the stream, a failed connection is a typed error event, and a peer sending garbage
//! ends the connection.
#![allow(clippy::disallowed_methods)] // the test supplies the base instant

use rtcpeer::Transmit;
use rtcpeer::ice::CandidateKind;
use rtcpeer::peer_connection::{
    ChannelId, DataChannelInit, Event, IceServer, IceTransportPolicy, Output, PeerConnection,
    PeerConnectionState, RtcConfiguration,
};
use rtcpeer::turn::server::{TurnServer, TurnServerConfig};
use rtcpeer::turn::{
    ChannelData, StreamFramer, TurnConnectionId, TurnError, TurnTransport, is_channel_data,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TURN: &str = "198.51.100.5:3478";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

fn config(seed: u64, url: &str) -> RtcConfiguration {
    RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec![url.into()],
            username: Some("alice".into()),
            credential: Some("s3cret".into()),
        }],
        ice_transport_policy: IceTransportPolicy::Relay,
        ..RtcConfiguration::with_seed(seed)
    }
}

/// One peer and its in-memory TCP connection to the server.
struct Side {
    pc: PeerConnection,
    /// The "TCP" source address the server sees for this peer's connection.
    tcp: SocketAddr,
    conn: Option<TurnConnectionId>,
    /// Server side of the stream: client bytes into messages.
    server_framer: StreamFramer,
    events: Vec<Event>,
    udp_transmits: usize,
}

struct Rig {
    now: Instant,
    server: TurnServer,
    sides: [Side; 2],
    /// Bytes server → client are cut into pieces of this many bytes.
    piece: usize,
    /// Refuse connections (answer TurnConnect with a failure).
    refuse: bool,
    /// Refuse this many more connections (then accept), across both sides.
    refuse_next: usize,
    /// Every TurnConnect: (side, when).
    connects: Vec<(usize, Instant)>,
}

impl Rig {
    fn new(seed: u64) -> Rig {
        let now = Instant::now();
        let url = format!("turn:{TURN}?transport=tcp");
        let side = |i: u8| {
            let mut pc = PeerConnection::new(config(seed + u64::from(i), &url), now).expect("pc");
            pc.add_local_socket(now, addr(&format!("10.0.0.{}:5000", i + 1)))
                .expect("socket");
            Side {
                pc,
                tcp: addr(&format!("203.0.113.{}:40000", i + 1)),
                conn: None,
                server_framer: StreamFramer::new(),
                events: Vec::new(),
                udp_transmits: 0,
            }
        };
        Rig {
            now,
            server: TurnServer::new(TurnServerConfig::new(addr(TURN), "sim", "alice", "s3cret")),
            sides: [side(0), side(1)],
            piece: 7,
            refuse: false,
            refuse_next: 0,
            connects: Vec::new(),
        }
    }

    /// Drains both peers and the server until nothing moves.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..2 {
                loop {
                    let out = self.sides[i].pc.poll_output();
                    match out {
                        Output::Timeout(_) => break,
                        Output::Transmit(t) => {
                            moved = true;
                            let _: Transmit = t;
                            self.sides[i].udp_transmits += 1;
                        }
                        Output::Event(e) => {
                            moved = true;
                            self.on_event(i, e);
                        }
                    }
                }
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                if let Some(i) = self.sides.iter().position(|s| s.tcp == t.destination) {
                    self.send_down(i, &t.payload);
                } else {
                    // Relayed leg: from one allocation to the other on the same server.
                    self.server
                        .handle_receive(self.now, t.source, t.destination, &t.payload);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn on_event(&mut self, i: usize, e: Event) {
        let now = self.now;
        match &e {
            Event::TurnConnect(c) => {
                assert_eq!(c.transport, TurnTransport::Tcp);
                assert_eq!(c.server, addr(TURN));
                self.connects.push((i, now));
                // A new connection: a new source port, a new stream for the server.
                self.sides[i].tcp = addr(&format!(
                    "203.0.113.{}:{}",
                    i + 1,
                    40000 + self.connects.len()
                ));
                self.sides[i].server_framer = StreamFramer::new();
                if self.refuse || self.refuse_next > 0 {
                    self.refuse_next = self.refuse_next.saturating_sub(1);
                    self.sides[i].pc.handle_turn_failed(
                        now,
                        c.id,
                        TurnError::Connect("connection refused".into()),
                    );
                } else {
                    self.sides[i].conn = Some(c.id);
                    self.sides[i].pc.handle_turn_connected(now, c.id);
                }
            }
            Event::TurnSend { id, data } => {
                assert_eq!(Some(*id), self.sides[i].conn);
                let mut messages = Vec::new();
                self.sides[i]
                    .server_framer
                    .push(data, |m| messages.push(m.to_vec()))
                    .expect("the client frames its stream");
                // The client pads its ChannelData (RFC 8656 section 12.5).
                if is_channel_data(data) {
                    assert_eq!(data.len() % 4, 0, "unpadded ChannelData on the stream");
                }
                let tcp = self.sides[i].tcp;
                for m in messages {
                    self.server.handle_receive(now, tcp, addr(TURN), &m);
                }
            }
            Event::IceCandidate(c) => {
                let c = c.clone();
                self.sides[1 - i]
                    .pc
                    .add_ice_candidate(c)
                    .expect("add candidate");
            }
            _ => {}
        }
        self.sides[i].events.push(e);
    }

    /// One server message down the "TCP" connection: padded, in odd pieces.
    fn send_down(&mut self, i: usize, message: &[u8]) {
        let mut bytes = Vec::new();
        match ChannelData::parse(message) {
            Ok(cd) if is_channel_data(message) => {
                ChannelData::encode_into(cd.channel, cd.payload, true, &mut bytes)
            }
            _ => bytes.extend_from_slice(message),
        }
        let Some(id) = self.sides[i].conn else {
            return;
        };
        for piece in bytes.chunks(self.piece) {
            self.sides[i].pc.handle_turn_data(self.now, id, piece);
        }
    }

    fn next_deadline(&mut self) -> Instant {
        let mut at = self.server.poll_timeout();
        for s in &mut self.sides {
            if let Output::Timeout(t) = s.pc.poll_output() {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        }
        at.unwrap_or(self.now + Duration::from_secs(1))
    }

    /// Steps virtual time until `done` or `timeout` passes.
    fn run_until(&mut self, timeout: Duration, mut done: impl FnMut(&Rig) -> bool) -> bool {
        let end = self.now + timeout;
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            let at = self.next_deadline().max(self.now);
            if at > end {
                return false;
            }
            self.now = at;
            self.server.handle_timeout(at);
            for s in &mut self.sides {
                s.pc.handle_timeout(at);
            }
        }
    }

    fn negotiate(&mut self) -> ChannelId {
        let ca = self.sides[0]
            .pc
            .create_data_channel("tcp", DataChannelInit::default())
            .expect("dc");
        let offer = self.sides[0].pc.create_offer().expect("offer");
        self.sides[0]
            .pc
            .set_local_description(offer.clone())
            .expect("sld");
        self.sides[1].pc.set_remote_description(offer).expect("srd");
        let answer = self.sides[1].pc.create_answer().expect("answer");
        self.sides[1]
            .pc
            .set_local_description(answer.clone())
            .expect("sld");
        self.sides[0]
            .pc
            .set_remote_description(answer)
            .expect("srd");
        ca
    }

    /// Both "TCP" connections reset (as when the server restarts).
    fn reset_connections(&mut self) {
        let now = self.now;
        for s in &mut self.sides {
            if let Some(id) = s.conn.take() {
                s.pc.handle_turn_failed(now, id, TurnError::ConnectionClosed);
            }
        }
    }

    /// An ICE restart from side 0, signalled in one go (no candidate crosses before the
    /// descriptions).
    fn restart_ice(&mut self) {
        let [a, b] = &mut self.sides;
        a.pc.restart_ice();
        let offer = a.pc.create_offer().expect("offer");
        a.pc.set_local_description(offer.clone()).expect("sld");
        b.pc.set_remote_description(offer).expect("srd");
        let answer = b.pc.create_answer().expect("answer");
        b.pc.set_local_description(answer.clone()).expect("sld");
        a.pc.set_remote_description(answer).expect("srd");
    }

    fn reconnecting(&self, i: usize) -> Vec<(u32, Duration)> {
        self.sides[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::TurnReconnecting { attempt, after, .. } => Some((*attempt, *after)),
                _ => None,
            })
            .collect()
    }

    fn messages(&self, i: usize) -> Vec<Vec<u8>> {
        self.sides[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::ChannelMessage { data, .. } => Some(data.to_vec()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn two_relay_only_peers_talk_through_the_sim_server_over_tcp_framing() {
    let mut rig = Rig::new(40);
    let ca = rig.negotiate();
    assert!(
        rig.run_until(Duration::from_secs(10), |r| r
            .sides
            .iter()
            .all(|s| s.pc.connection_state() == PeerConnectionState::Connected)),
        "not connected: {:?} {:?}",
        rig.sides[0].pc.connection_state(),
        rig.sides[0].events
    );
    let cb = rig.sides[1]
        .events
        .iter()
        .find_map(|e| match e {
            Event::DataChannel(id) => Some(*id),
            _ => None,
        })
        .expect("b saw a's channel");
    assert!(rig.run_until(Duration::from_secs(5), |r| {
        r.sides[0].events.contains(&Event::ChannelOpen(ca))
    }));
    let big = vec![0xA5u8; 3001]; // not a multiple of four: padding on the stream
    rig.sides[0]
        .pc
        .data_channel(ca)
        .expect("ca")
        .send_binary(big.clone())
        .expect("send");
    rig.sides[1]
        .pc
        .data_channel(cb)
        .expect("cb")
        .send_text("pong over tcp")
        .expect("send");
    assert!(rig.run_until(Duration::from_secs(5), |r| {
        r.messages(1).contains(&big) && r.messages(0).contains(&b"pong over tcp".to_vec())
    }));
    // Data flows on the first valid pair; the controlling side nominates at its deadline.
    assert!(rig.run_until(Duration::from_secs(5), |r| {
        r.sides
            .iter()
            .all(|s| s.pc.stats().selected_local_candidate.is_some())
    }));
    for s in &rig.sides {
        assert_eq!(s.udp_transmits, 0, "relay-only over TCP sent UDP");
        let stats = s.pc.stats();
        let local = stats
            .selected_local_candidate
            .expect("selected local candidate");
        assert_eq!(local.candidate_type, CandidateKind::Relayed);
        assert_eq!(local.relay_protocol, Some("tcp"));
        assert_eq!(
            local.related_address,
            Some(s.tcp),
            "our address as the server saw it"
        );
        for e in &s.events {
            assert!(
                !matches!(e, Event::TurnError { .. } | Event::IceCandidateError { .. }),
                "{e:?}"
            );
        }
    }
    // Channels were bound, so the data went as (padded) ChannelData.
    assert!(rig.server.stats().allocations >= 2);
}

#[test]
fn a_refused_tcp_connection_is_a_typed_error_event_at_once() {
    let mut rig = Rig::new(41);
    rig.refuse = true;
    rig.negotiate();
    assert!(rig.run_until(Duration::from_millis(10), |r| {
        r.sides[0].events.iter().any(|e| {
            matches!(
                e,
                Event::TurnError {
                    transport: TurnTransport::Tcp,
                    error: TurnError::Connect(_),
                    ..
                }
            )
        }) && r.sides[0].events.iter().any(|e| {
            matches!(
                e,
                Event::IceCandidateError {
                    error_code: 701,
                    ..
                }
            )
        })
    }));
}

#[test]
fn garbage_from_the_server_closes_the_connection_and_fails_the_relay() {
    let mut rig = Rig::new(42);
    rig.negotiate();
    assert!(rig.run_until(Duration::from_secs(1), |r| r.sides[0].conn.is_some()));
    let id = rig.sides[0].conn.expect("conn");
    let now = rig.now;
    // A TLS record (as from a TLS port): 0x16 starts neither STUN nor ChannelData.
    rig.sides[0]
        .pc
        .handle_turn_data(now, id, &[0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00]);
    rig.pump();
    let events = &rig.sides[0].events;
    assert!(events.contains(&Event::TurnClose(id)), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::TurnError {
                error: TurnError::Framing(_),
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn an_unanswered_request_on_a_stream_is_sent_once_and_given_up_after_39_5_s() {
    let mut rig = Rig::new(43);
    rig.negotiate();
    // Connected, but the "server" never reads the stream.
    let now = rig.now;
    let mut sent = 0;
    let mut connect_id = None;
    // Drive side 0 by hand.
    let pc = &mut rig.sides[0].pc;
    let mut t = now;
    let mut failed_at = None;
    while t < now + Duration::from_secs(60) && failed_at.is_none() {
        loop {
            match pc.poll_output() {
                Output::Timeout(at) => {
                    t = at.max(t + Duration::from_millis(1));
                    break;
                }
                Output::Event(Event::TurnConnect(c)) => {
                    connect_id = Some(c.id);
                    pc.handle_turn_connected(t, c.id);
                }
                Output::Event(Event::TurnSend { .. }) => sent += 1,
                Output::Event(Event::TurnError { error, .. }) => {
                    assert_eq!(error, TurnError::Timeout);
                    failed_at = Some(t);
                }
                _ => {}
            }
        }
        pc.handle_timeout(t);
    }
    assert!(connect_id.is_some());
    assert_eq!(
        sent, 1,
        "the Allocate went out once: no retransmission on TCP"
    );
    let failed_at = failed_at.expect("gave up");
    let waited = failed_at - now;
    assert!(
        waited >= Duration::from_millis(39_500) && waited < Duration::from_secs(41),
        "{waited:?}"
    );
}

/// Two relay-only peers connected over "TCP" with a channel open both ways: (rig, a's
/// channel, b's channel).
fn connected(seed: u64) -> (Rig, ChannelId, ChannelId) {
    let mut rig = Rig::new(seed);
    let ca = rig.negotiate();
    assert!(rig.run_until(Duration::from_secs(10), |r| {
        r.sides[0].events.contains(&Event::ChannelOpen(ca))
            && r.sides[1]
                .events
                .iter()
                .any(|e| matches!(e, Event::DataChannel(_)))
    }));
    let cb = rig.sides[1]
        .events
        .iter()
        .find_map(|e| match e {
            Event::DataChannel(id) => Some(*id),
            _ => None,
        })
        .expect("b saw a's channel");
    (rig, ca, cb)
}

/// `text` from a to b and back arrives within `within`.
fn round_trip(rig: &mut Rig, ca: ChannelId, cb: ChannelId, text: &str, within: Duration) -> bool {
    rig.sides[0]
        .pc
        .data_channel(ca)
        .expect("ca")
        .send_text(text)
        .expect("send");
    rig.sides[1]
        .pc
        .data_channel(cb)
        .expect("cb")
        .send_text(text)
        .expect("send");
    let want = text.as_bytes().to_vec();
    rig.run_until(within, |r| {
        r.messages(0).contains(&want) && r.messages(1).contains(&want)
    })
}

fn relayed_address(rig: &Rig, i: usize) -> Option<SocketAddr> {
    rig.sides[i]
        .pc
        .stats()
        .selected_local_candidate
        .filter(|l| l.candidate_type == CandidateKind::Relayed)
        .map(|l| l.address)
}

#[test]
fn a_turn_connection_that_closes_is_reopened_with_backoff_and_the_relay_allocated_again() {
    let (mut rig, ca, cb) = connected(44);
    assert!(round_trip(
        &mut rig,
        ca,
        cb,
        "before",
        Duration::from_secs(5)
    ));
    assert!(rig.run_until(Duration::from_secs(5), |r| {
        relayed_address(r, 0).is_some() && relayed_address(r, 1).is_some()
    }));
    let before = rig.server.relayed_addresses();
    let connects_before = rig.connects.len();
    // The server restarts: both connections reset, and it refuses the first new one of
    // each side while it comes back.
    rig.server.restart();
    rig.refuse_next = 2;
    let t0 = rig.now;
    rig.reset_connections();
    assert!(
        rig.run_until(Duration::from_secs(30), |r| {
            r.server.relayed_addresses().len() == 2
        }),
        "not re-allocated: {:?}",
        rig.sides[0].events
    );
    let after = rig.server.relayed_addresses();
    assert!(
        after.iter().all(|a| !before.contains(a)),
        "{before:?} {after:?}"
    );
    // Each side: closed, then one refused attempt; the next waits twice as long.
    let ms = Duration::from_millis;
    for i in 0..2 {
        assert_eq!(
            rig.reconnecting(i),
            [(1, ms(500)), (2, ms(1000))],
            "side {i}: {:?}",
            rig.sides[i].events
        );
        let attempts: Vec<Duration> = rig.connects[connects_before..]
            .iter()
            .filter(|(side, _)| *side == i)
            .map(|(_, at)| *at - t0)
            .collect();
        assert_eq!(attempts, [ms(500), ms(1500)], "side {i}");
    }
    for (i, s) in rig.sides.iter().enumerate() {
        let ice = s.pc.ice_agent().stats().clone();
        assert_eq!(ice.relay_reconnects, 2, "side {i}");
        assert!(ice.relay_allocations >= 2, "side {i}: {ice:?}");
        // No failure was reported: the relay came back.
        assert!(
            !s.events
                .iter()
                .any(|e| matches!(e, Event::TurnError { .. } | Event::IceCandidateError { .. })),
            "side {i}: {:?}",
            s.events
        );
        // The new relayed candidate was announced.
        let announced = s.events.iter().any(|e| match e {
            Event::IceCandidate(c) => after
                .iter()
                .any(|a| c.candidate.contains(&a.port().to_string())),
            _ => false,
        });
        assert!(announced, "side {i}: new relayed candidate not announced");
    }
    // As after a UDP re-allocation, the application restarts ICE; data flows again
    // through the new allocations.
    rig.restart_ice();
    assert!(round_trip(
        &mut rig,
        ca,
        cb,
        "after",
        Duration::from_secs(20)
    ));
    assert!(rig.run_until(Duration::from_secs(5), |r| {
        (0..2).all(|i| relayed_address(r, i).is_some_and(|a| after.contains(&a)))
    }));
}

#[test]
fn a_turn_server_that_stays_down_fails_the_relay_after_the_last_reconnection() {
    let (mut rig, _, _) = connected(45);
    let connects_before = rig.connects.len();
    rig.refuse = true;
    rig.reset_connections();
    // 0.5 + 1 + 2 + 4 + 8 + 16 s of backoff, then the relay fails.
    assert!(rig.run_until(Duration::from_secs(60), |r| {
        r.sides[0].events.iter().any(|e| {
            matches!(
                e,
                Event::TurnError {
                    error: TurnError::Connect(_),
                    ..
                }
            )
        })
    }));
    let attempts = rig.reconnecting(0);
    assert_eq!(attempts.len(), rtcpeer::ice::MAX_RELAY_RECONNECTS as usize);
    assert_eq!(attempts.last().map(|a| a.1), Some(Duration::from_secs(16)));
    // Nothing more is tried.
    let tried = rig.connects.len();
    assert_eq!(tried - connects_before, 2 * attempts.len());
    rig.run_until(Duration::from_secs(120), |_| false);
    assert_eq!(rig.connects.len(), tried, "attempts after the last one");
}
