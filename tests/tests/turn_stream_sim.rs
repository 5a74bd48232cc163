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
                if self.refuse {
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
