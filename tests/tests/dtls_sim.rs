//! DTLS 1.2 handshakes between two rtcpeer endpoints through the network simulator, in
//! virtual time: latency, each flight lost once, random loss, reordering and duplication,
//! small MTUs, tampering, a wrong fingerprint, replay, close_notify and determinism.

#[path = "dtls_sim/harness.rs"]
mod harness;

use harness::{
    CLIENT_ADDR, DtlsNode, SERVER_ADDR, Scenario, addr, certificate, configs, first_record,
    flip_in_records, has_fragmented_handshake,
};
use rtcpeer::Transmit;
use rtcpeer::dtls::{AlertDescription, DtlsEvent, DtlsState, FailureReason};
use rtcpeer::sim::{DropReason, Fate, IPV4_UDP_OVERHEAD, LinkConfig, Loss, Rule};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);
const S: Duration = Duration::from_secs(1);
/// The default first retransmission timeout of a DTLS endpoint.
const RTO: Duration = Duration::from_secs(1);

/// 30 ms one way between client and server (all on the client's access link).
fn thirty_ms() -> LinkConfig {
    LinkConfig::new().latency(30 * MS)
}

#[test]
fn handshake_completes_with_matching_keys_over_30ms_link() {
    let mut sc = Scenario::with_link(1, thirty_ms());
    sc.run_handshake(10 * S).expect("handshake within 10 s");
    sc.assert_connected();
    // ClientHello 30 ms, server flight 60 ms, client flight 90 ms, server Finished 120 ms.
    assert_eq!(sc.server().connected_at(), Some(90 * MS));
    assert_eq!(sc.client().connected_at(), Some(120 * MS));
    assert_eq!(sc.client().stats().retransmits, 0);
    assert_eq!(sc.server().stats().retransmits, 0);
}

#[test]
fn application_data_flows_both_ways_after_the_handshake() {
    let mut sc = Scenario::with_link(2, thirty_ms());
    let now = sc.sim.now();
    sc.sim
        .node_mut::<DtlsNode>(sc.client)
        .send(now, b"from client");
    sc.sim
        .node_mut::<DtlsNode>(sc.server)
        .send(now, b"from server");
    sc.sim.run_for(S).expect("run");
    sc.assert_connected();
    assert_eq!(sc.server().received(), [b"from client".to_vec()]);
    assert_eq!(sc.client().received(), [b"from server".to_vec()]);
}

/// Which sender and first message identify the first datagram of a flight.
#[derive(Clone, Copy)]
struct Flight {
    from_client: bool,
    /// (content type, handshake type of an epoch-0 handshake record)
    first: (u8, Option<u8>),
    /// Matching datagrams to let through before the one dropped.
    skip: u64,
    hello_verify: bool,
}

/// Runs the handshake over the 30 ms link with and without losing the flight's first
/// datagram once; returns (baseline completion, lossy scenario).
fn lose_once(seed: u64, flight: Flight) -> (Duration, Scenario) {
    let build = || {
        let (mut c, mut s) = configs(seed);
        c.hello_verify = flight.hello_verify;
        s.hello_verify = flight.hello_verify;
        Scenario::new(seed, (c, s), thirty_ms(), LinkConfig::new())
    };
    let mut base = build();
    base.run_handshake(10 * S).expect("baseline handshake");
    base.assert_connected();
    let baseline = base.completion().expect("baseline completed");

    let mut sc = build();
    let sender = addr(if flight.from_client {
        CLIENT_ADDR
    } else {
        SERVER_ADDR
    });
    let rule = sc.sim.add_rule(
        Rule::drop(move |d| {
            d.source == sender
                && first_record(d.payload).map(|(ct, _, hs)| (ct, hs)) == Some(flight.first)
        })
        .skip(flight.skip)
        .limit(1),
    );
    sc.run_handshake(20 * S)
        .expect("handshake despite the loss");
    sc.assert_connected();
    assert_eq!(sc.sim.rule_hits(rule), Ok(1), "the flight was dropped once");
    assert_eq!(sc.sim.stats().dropped(DropReason::Rule(rule)), 1);
    (baseline, sc)
}

/// The loss cost one retransmission timeout (plus at most a one-way delay).
fn assert_delayed_by_rto(baseline: Duration, sc: &Scenario) {
    let done = sc.completion().expect("completed");
    let shift = done - baseline;
    assert!(
        shift >= RTO - 10 * MS && shift <= RTO + 60 * MS,
        "completion moved by {shift:?} (baseline {baseline:?}, now {done:?})"
    );
    assert!(sc.client().stats().retransmits > 0, "client retransmitted");
}

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;
const CERTIFICATE: u8 = 11;
const HANDSHAKE: u8 = 22;
const CHANGE_CIPHER_SPEC: u8 = 20;
const APPLICATION_DATA: u8 = 23;

#[test]
fn lost_flight_1_client_hello_is_retransmitted() {
    let flight = Flight {
        from_client: true,
        first: (HANDSHAKE, Some(CLIENT_HELLO)),
        skip: 0,
        hello_verify: false,
    };
    let (baseline, sc) = lose_once(10, flight);
    assert_delayed_by_rto(baseline, &sc);
}

#[test]
fn lost_flight_2_hello_verify_request_is_recovered() {
    let flight = Flight {
        from_client: false,
        first: (HANDSHAKE, Some(HELLO_VERIFY_REQUEST)),
        skip: 0,
        hello_verify: true,
    };
    let (baseline, sc) = lose_once(11, flight);
    assert_delayed_by_rto(baseline, &sc);
}

#[test]
fn lost_flight_3_client_hello_with_cookie_is_retransmitted() {
    let flight = Flight {
        from_client: true,
        first: (HANDSHAKE, Some(CLIENT_HELLO)),
        skip: 1,
        hello_verify: true,
    };
    let (baseline, sc) = lose_once(12, flight);
    assert_delayed_by_rto(baseline, &sc);
}

#[test]
fn lost_flight_4_server_hello_is_retransmitted() {
    let flight = Flight {
        from_client: false,
        first: (HANDSHAKE, Some(SERVER_HELLO)),
        skip: 0,
        hello_verify: false,
    };
    let (baseline, sc) = lose_once(13, flight);
    assert_delayed_by_rto(baseline, &sc);
    assert!(
        sc.server().stats().retransmits > 0,
        "server resent flight 4"
    );
}

#[test]
fn lost_flight_5_client_certificate_is_retransmitted() {
    let flight = Flight {
        from_client: true,
        first: (HANDSHAKE, Some(CERTIFICATE)),
        skip: 0,
        hello_verify: false,
    };
    let (baseline, sc) = lose_once(14, flight);
    assert_delayed_by_rto(baseline, &sc);
}

#[test]
fn lost_flight_6_server_finished_is_retransmitted() {
    let flight = Flight {
        from_client: false,
        first: (CHANGE_CIPHER_SPEC, None),
        skip: 0,
        hello_verify: false,
    };
    let (baseline, sc) = lose_once(15, flight);
    assert_delayed_by_rto(baseline, &sc);
    assert!(
        sc.server().stats().retransmits > 0,
        "server resent flight 6"
    );
}

#[test]
fn handshake_completes_with_twenty_percent_random_loss() {
    let (mut lost, mut retransmits) = (0, 0);
    for seed in 20..26 {
        let link = thirty_ms().loss(Loss::Random(0.2));
        let mut sc = Scenario::with_link(seed, link);
        sc.run_handshake(120 * S)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        sc.assert_connected();
        lost += sc.sim.stats().dropped(DropReason::Loss);
        retransmits += sc.client().stats().retransmits + sc.server().stats().retransmits;
    }
    assert!(lost > 0, "the links lost datagrams");
    assert!(retransmits > 0, "the endpoints recovered by retransmitting");
}

#[test]
fn handshake_completes_with_reordering_and_duplication() {
    for seed in 30..34 {
        let link = thirty_ms()
            .jitter(20 * MS)
            .jitter_reorders(true)
            .reorder(0.3, 40 * MS)
            .duplicate(0.3);
        let mut sc = Scenario::new(seed, configs(seed), link.clone(), link);
        sc.run_handshake(60 * S)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        sc.assert_connected();
        assert!(
            sc.sim.stats().duplicated > 0,
            "seed {seed}: duplicates made"
        );
    }
}

/// Handshake with `mtu` on both links and the endpoints told the matching payload limit;
/// returns the scenario after asserting nothing above the MTU was sent or dropped for it.
fn handshake_with_mtu(seed: u64, mtu: usize) -> Scenario {
    let (mut c, mut s) = configs(seed);
    c.mtu = mtu - IPV4_UDP_OVERHEAD;
    s.mtu = mtu - IPV4_UDP_OVERHEAD;
    let link = thirty_ms().mtu(mtu);
    let mut sc = Scenario::new(seed, (c, s), link.clone(), link);
    sc.run_handshake(10 * S).expect("handshake");
    sc.assert_connected();
    assert_eq!(sc.sim.stats().dropped(DropReason::Mtu), 0);
    let largest = sc
        .sim
        .capture()
        .iter()
        .filter(|r| matches!(r.fate, Fate::Sent { .. }))
        .map(|r| r.payload.len() + IPV4_UDP_OVERHEAD)
        .max()
        .expect("datagrams were sent");
    assert!(largest <= mtu, "largest packet {largest} > MTU {mtu}");
    sc
}

#[test]
fn handshake_fits_an_mtu_of_600() {
    handshake_with_mtu(40, 600);
}

#[test]
fn small_mtu_forces_handshake_fragmentation() {
    let sc = handshake_with_mtu(41, 300);
    let fragmented = sc
        .sim
        .capture()
        .iter()
        .filter(|r| matches!(r.fate, Fate::Sent { .. }))
        .any(|r| has_fragmented_handshake(&r.payload));
    assert!(fragmented, "a handshake message was split across records");
}

#[test]
fn lost_second_datagram_of_a_fragmented_flight_is_recovered() {
    let build = || {
        let (mut c, mut s) = configs(42);
        c.mtu = 300 - IPV4_UDP_OVERHEAD;
        s.mtu = 300 - IPV4_UDP_OVERHEAD;
        Scenario::new(42, (c, s), thirty_ms().mtu(300), LinkConfig::new().mtu(300))
    };
    let mut base = build();
    base.run_handshake(10 * S).expect("baseline handshake");
    let baseline = base.completion().expect("baseline completed");
    let server = addr(SERVER_ADDR);
    let flight_4_datagrams = base
        .sim
        .capture()
        .iter()
        .filter(|r| matches!(r.fate, Fate::Sent { .. }) && r.source == server)
        .filter(|r| first_record(&r.payload).is_some_and(|(ct, epoch, _)| ct == 22 && epoch == 0))
        .count();
    assert!(
        flight_4_datagrams >= 3,
        "flight 4 spans {flight_4_datagrams} datagrams"
    );

    let mut sc = build();
    // Flight 4 is the server's only epoch-0 handshake flight: drop its second datagram.
    let rule = sc.sim.add_rule(
        Rule::drop(move |d| {
            d.source == server
                && first_record(d.payload).is_some_and(|(ct, epoch, _)| ct == 22 && epoch == 0)
        })
        .skip(1)
        .limit(1),
    );
    sc.run_handshake(20 * S)
        .expect("handshake despite the loss");
    sc.assert_connected();
    assert_eq!(sc.sim.rule_hits(rule), Ok(1));
    assert_delayed_by_rto(baseline, &sc);
    assert!(
        sc.server().stats().retransmits > 0,
        "server resent flight 4"
    );
}

#[test]
fn tampered_finished_fails_the_handshake() {
    let (mut c, mut s) = configs(50);
    c.max_retransmissions = 2;
    s.max_retransmissions = 2;
    let mut sc = Scenario::new(50, (c, s), thirty_ms(), LinkConfig::new());
    let client = addr(CLIENT_ADDR);
    // Flip the first ciphertext byte (after the 8-byte explicit nonce) of every encrypted
    // handshake record the client sends: its Finished.
    let rule = sc.sim.add_rule(Rule::rewrite(
        move |d| d.source == client,
        |t: &mut Transmit| {
            flip_in_records(
                &mut t.payload,
                |ct, epoch, _| ct == 22 && epoch == 1,
                |_| 13 + 8,
            );
        },
    ));
    sc.sim.run_for(30 * S).expect("run");
    assert!(sc.sim.rule_hits(rule).expect("rule") > 0);
    let server = sc.server();
    assert_eq!(server.state(), DtlsState::Failed);
    assert!(server.stats().records_bad_mac >= 1);
    assert!(!server.saw(|e| matches!(e, DtlsEvent::Connected { .. })));
    assert!(server.saw(|e| *e == DtlsEvent::Failed(FailureReason::Timeout)));
    assert_eq!(server.keys(), None);
    assert_eq!(sc.client().state(), DtlsState::Failed);
    assert!(
        !sc.client()
            .saw(|e| matches!(e, DtlsEvent::Connected { .. }))
    );
}

#[test]
fn tampered_server_key_exchange_signature_fails_the_handshake() {
    let mut sc = Scenario::with_link(51, thirty_ms());
    let server = addr(SERVER_ADDR);
    // The signature ends the ServerKeyExchange: flip a byte 5 from its end.
    let rule = sc.sim.add_rule(Rule::rewrite(
        move |d| d.source == server,
        |t: &mut Transmit| {
            flip_in_records(
                &mut t.payload,
                |ct, epoch, f| ct == 22 && epoch == 0 && f.first() == Some(&12),
                |f| 13 + f.len() - 5,
            );
        },
    ));
    sc.run_handshake(10 * S).expect("handshake ends");
    sc.sim.run_for(S).expect("alert delivered");
    assert!(sc.sim.rule_hits(rule).expect("rule") > 0);
    let client = sc.client();
    assert_eq!(client.state(), DtlsState::Failed);
    assert!(client.saw(|e| *e == DtlsEvent::Failed(FailureReason::BadSignature)));
    assert!(!client.saw(|e| matches!(e, DtlsEvent::Connected { .. })));
    assert_eq!(client.keys(), None);
    assert!(sc.server().saw(
        |e| *e == DtlsEvent::Failed(FailureReason::PeerAlert(AlertDescription::DECRYPT_ERROR))
    ));
}

#[test]
fn wrong_expected_fingerprint_fails_the_handshake() {
    let (mut c, s) = configs(60);
    c.remote_fingerprint = Some(certificate(999).fingerprint());
    let mut sc = Scenario::new(60, (c, s), thirty_ms(), LinkConfig::new());
    sc.run_handshake(10 * S).expect("handshake ends");
    sc.sim.run_for(S).expect("alert delivered");
    let client = sc.client();
    assert_eq!(client.state(), DtlsState::Failed);
    assert!(client.saw(|e| *e == DtlsEvent::Failed(FailureReason::FingerprintMismatch)));
    assert!(!client.saw(|e| matches!(e, DtlsEvent::Connected { .. })));
    assert_eq!(client.keys(), None);
    let server = sc.server();
    assert_eq!(server.state(), DtlsState::Failed);
    assert!(!server.saw(|e| matches!(e, DtlsEvent::Connected { .. })));
    assert_eq!(server.keys(), None);
}

#[test]
fn replayed_application_record_is_dropped_and_delivered_once() {
    let mut sc = Scenario::with_link(70, thirty_ms());
    sc.run_handshake(10 * S).expect("handshake");
    let now = sc.sim.now();
    sc.sim.node_mut::<DtlsNode>(sc.client).send(now, b"once");
    sc.sim.run_for(S).expect("run");
    let client = addr(CLIENT_ADDR);
    let captured = sc
        .sim
        .capture()
        .iter()
        .find(|r| {
            matches!(r.fate, Fate::Sent { .. })
                && r.source == client
                && r.payload.first() == Some(&APPLICATION_DATA)
        })
        .expect("the application record was captured")
        .clone();
    let internet = sc.sim.internet();
    sc.sim
        .inject(
            internet,
            Transmit {
                source: captured.source,
                destination: captured.destination,
                payload: captured.payload,
            },
        )
        .expect("inject");
    sc.sim.run_for(S).expect("run");
    let server = sc.server();
    assert_eq!(server.received(), [b"once".to_vec()]);
    assert_eq!(server.stats().records_replayed, 1);
    assert_eq!(server.stats().application_records_received, 1);
    assert_eq!(server.state(), DtlsState::Connected);
}

#[test]
fn close_on_one_side_closes_both() {
    let mut sc = Scenario::with_link(80, thirty_ms());
    sc.run_handshake(10 * S).expect("handshake");
    let now = sc.sim.now();
    sc.sim.node_mut::<DtlsNode>(sc.client).close(now);
    sc.sim.run_for(S).expect("run");
    let client = sc.client();
    assert_eq!(client.state(), DtlsState::Closed);
    assert!(client.saw(|e| *e == DtlsEvent::Closed));
    let server = sc.server();
    assert_eq!(server.state(), DtlsState::Closed);
    assert!(server.saw(|e| *e == DtlsEvent::CloseNotify));
    assert!(server.saw(|e| *e == DtlsEvent::Closed));
    let close_at = server
        .events()
        .iter()
        .find(|(_, e)| *e == DtlsEvent::CloseNotify)
        .map(|(t, _)| *t)
        .expect("close_notify");
    assert_eq!(close_at - now.duration_since(sc.sim.start()), 30 * MS);
}

/// A lossy, reordering handshake plus one message each way; returns the capture digest.
fn impaired_run_digest(seed: u64) -> ([u8; 32], Vec<(Duration, Vec<u8>)>) {
    let link = thirty_ms()
        .jitter(10 * MS)
        .jitter_reorders(true)
        .duplicate(0.1)
        .loss(Loss::Random(0.1));
    // Same certificates for every seed: only the simulator's and endpoints' randomness vary.
    let mut sc = Scenario::new(seed, configs(7), link.clone(), link);
    let now = sc.sim.now();
    sc.sim.node_mut::<DtlsNode>(sc.client).send(now, b"ping");
    sc.sim.node_mut::<DtlsNode>(sc.server).send(now, b"pong");
    sc.sim.run_for(30 * S).expect("run");
    sc.assert_connected();
    let delivered: Vec<(Duration, Vec<u8>)> = sc
        .sim
        .capture()
        .iter()
        .filter(|r| r.fate.is_delivered())
        .map(|r| (r.elapsed, r.payload.clone()))
        .collect();
    (sc.sim.capture_digest(), delivered)
}

#[test]
fn same_seed_gives_identical_capture_and_different_seed_does_not() {
    let (a, a_records) = impaired_run_digest(90);
    let (b, b_records) = impaired_run_digest(90);
    assert_eq!(a, b, "same seed, same digest");
    assert_eq!(
        a_records, b_records,
        "same datagrams at the same virtual times"
    );
    let (c, _) = impaired_run_digest(91);
    assert_ne!(a, c, "a different seed changes the capture");
}
