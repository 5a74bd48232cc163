//! In-crate handshake tests that need internals: forging a correctly protected Finished with
//! the wrong verify_data, and the retransmission give-up schedule.

use crate::dtls::events::DtlsEvent;
use crate::dtls::handshake::emit_header;
use crate::dtls::record::Records;
use crate::dtls::types::{ContentType, HandshakeType};
use crate::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsRole, DtlsState, FailureReason,
};
use crate::rng::Rng;
use std::time::{Duration, Instant};

fn pair() -> (Dtls, Dtls) {
    let mut rng = Rng::from_u64(1);
    let cc = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
    let sc = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
    let mut c = DtlsConfig::new(DtlsRole::Client, cc.clone());
    let mut s = DtlsConfig::new(DtlsRole::Server, sc.clone());
    c.remote_fingerprint = Some(sc.fingerprint());
    s.remote_fingerprint = Some(cc.fingerprint());
    (
        Dtls::new(c, rng.child()).unwrap(),
        Dtls::new(s, rng.child()).unwrap(),
    )
}

/// A client and server whose client has just handled the server's flight 4.
fn client_after_flight_4(now: Instant) -> (Dtls, Dtls) {
    let (mut c, mut s) = pair();
    c.start(now);
    s.handle_receive(now, &c.poll_transmit().unwrap()); // flight 1
    while let Some(d) = s.poll_transmit() {
        c.handle_receive(now, &d); // flight 4
    }
    (c, s)
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn finished_with_wrong_verify_data_fails_the_handshake() {
    let now = Instant::now();
    let (mut c, mut s) = client_after_flight_4(now);
    c.handle_timeout(now); // the rest of flight 5 (due at once)
    // Flight 5 without its protected Finished record.
    let flight5: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    for d in &flight5 {
        let plain: Vec<u8> = Records::new(d)
            .filter(|r| r.epoch == 0)
            .flat_map(|r| r.raw.to_vec())
            .collect();
        s.handle_receive(now, &plain);
    }
    assert_eq!(s.state(), DtlsState::Handshaking);
    // A Finished protected with the client's real key but with wrong verify_data.
    let seq = c.common.send_seq.wrapping_sub(1);
    let mut msg = Vec::new();
    emit_header(&mut msg, HandshakeType::FINISHED, 12, seq, 0, 12);
    msg.extend_from_slice(&[0x42; 12]);
    let mut forged = Vec::new();
    c.writer.write(&mut forged, ContentType::HANDSHAKE, 1, &msg);
    s.handle_receive(now, &forged);
    assert_eq!(s.state(), DtlsState::Failed);
    assert_eq!(
        s.poll_event(),
        Some(DtlsEvent::Failed(FailureReason::BadFinished))
    );
    assert!(s.export_keying_material("EXTRACTOR-dtls_srtp", 56).is_err());
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn client_sends_its_key_exchange_before_computing_the_shared_secret() {
    let now = Instant::now();
    let (mut c, _server) = client_after_flight_4(now);
    let epochs = |c: &mut Dtls| -> Vec<(u8, u16)> {
        std::iter::from_fn(|| c.poll_transmit())
            .flat_map(|d| {
                Records::new(&d)
                    .map(|r| (r.content_type.0, r.epoch))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // Certificate, ClientKeyExchange, CertificateVerify: plain handshake records only.
    let first = epochs(&mut c);
    assert!(
        !first.is_empty() && first.iter().all(|&r| r == (22, 0)),
        "{first:?}"
    );
    assert_eq!(c.poll_timeout(), Some(now), "the rest is due at once");
    c.handle_timeout(now);
    assert_eq!(
        epochs(&mut c),
        [(20, 0), (22, 1)],
        "ChangeCipherSpec, Finished"
    );
    assert!(
        c.poll_timeout().is_some_and(|t| t > now),
        "retransmission timer armed"
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn client_finishes_its_flight_before_handling_the_next_datagram() {
    let now = Instant::now();
    let (mut c, mut s) = pair();
    c.start(now);
    s.handle_receive(now, &c.poll_transmit().unwrap());
    let flight4: Vec<Vec<u8>> = std::iter::from_fn(|| s.poll_transmit()).collect();
    for d in &flight4 {
        c.handle_receive(now, d);
    }
    // A duplicate of flight 4 arrives before any timeout call: the flight is completed
    // first, and the handshake still succeeds.
    c.handle_receive(now, &flight4[0]);
    let flight5: Vec<Vec<u8>> = std::iter::from_fn(|| c.poll_transmit()).collect();
    assert!(flight5.len() >= 2);
    for d in &flight5 {
        s.handle_receive(now, d);
    }
    while let Some(d) = s.poll_transmit() {
        c.handle_receive(now, &d);
    }
    assert_eq!(s.state(), DtlsState::Connected);
    assert_eq!(c.state(), DtlsState::Connected);
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn unanswered_client_gives_up_after_the_documented_total() {
    let t0 = Instant::now();
    let (mut c, _) = pair();
    c.start(t0);
    let mut sent = 0;
    while c.poll_transmit().is_some() {
        sent += 1;
    }
    let mut waits = Vec::new();
    let mut now = t0;
    while let Some(at) = c.poll_timeout() {
        waits.push((at - now).as_secs());
        now = at;
        c.handle_timeout(now);
        while c.poll_transmit().is_some() {
            sent += 1;
        }
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60]);
    assert_eq!(now - t0, Duration::from_secs(123));
    assert_eq!(sent, 7, "first hello plus six retransmissions");
    assert_eq!(c.state(), DtlsState::Failed);
    assert_eq!(
        c.poll_event(),
        Some(DtlsEvent::Failed(FailureReason::Timeout))
    );
}

/// Chromium's first flight: its ClientHello spans two records (see the testdata file).
fn chromium_first_flight() -> Vec<Vec<u8>> {
    include_str!("../testdata/chromium156_client_hello.hex")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).expect("test data is hex"))
                .collect()
        })
        .collect()
}

fn server_only() -> Dtls {
    let mut rng = Rng::from_u64(7);
    let cert = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
    Dtls::new(DtlsConfig::new(DtlsRole::Server, cert), rng.child()).unwrap()
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn server_answers_a_client_hello_fragmented_over_two_records() {
    let now = Instant::now();
    let mut s = server_only();
    let flight = chromium_first_flight();
    assert_eq!(flight.len(), 2);
    s.handle_receive(now, &flight[0]);
    assert!(s.poll_transmit().is_none(), "half a hello gets no answer");
    s.handle_receive(now, &flight[1]);
    assert_eq!(s.stats().records_unexpected, 0);
    assert_eq!(s.state(), DtlsState::Handshaking);
    let reply = s.poll_transmit().expect("flight 4 is sent");
    let first = Records::new(&reply).next().expect("a record");
    assert_eq!(first.content_type, ContentType::HANDSHAKE);
    assert_eq!(first.fragment.first(), Some(&HandshakeType::SERVER_HELLO.0));
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn server_answers_a_fragmented_client_hello_arriving_in_reverse_order() {
    let now = Instant::now();
    let mut s = server_only();
    let flight = chromium_first_flight();
    s.handle_receive(now, &flight[1]);
    s.handle_receive(now, &flight[0]);
    assert_eq!(s.stats().records_unexpected, 0);
    assert!(s.poll_transmit().is_some(), "flight 4 is sent");
}

/// Datagrams `dtls` has queued, drained.
fn drain(dtls: &mut Dtls) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| dtls.poll_transmit()).collect()
}

/// What a flight carries, without the record headers (a resend has new record numbers).
fn handshake_bytes(flight: &[Vec<u8>]) -> Vec<&[u8]> {
    flight.iter().map(|d| &d[13..]).collect()
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn peer_ready_before_a_round_trip_defers_the_resend_until_the_answer_is_overdue() {
    let t0 = Instant::now();
    let rtt = Duration::from_millis(40);
    let (mut c, _) = pair();
    c.start(t0);
    let hello = drain(&mut c);
    assert!(!c.resend_first_flight(t0 + rtt / 2, Some(rtt)));
    assert!(drain(&mut c).is_empty(), "too young to resend now");
    let due = t0 + rtt + crate::dtls::early_resend::PEER_FLIGHT_ALLOWANCE;
    assert_eq!(c.poll_timeout(), Some(due));
    c.handle_timeout(due - Duration::from_millis(1));
    assert!(drain(&mut c).is_empty(), "not due yet");
    c.handle_timeout(due);
    let again = drain(&mut c);
    assert_eq!(
        handshake_bytes(&again),
        handshake_bytes(&hello),
        "the same flight again once overdue"
    );
    assert!(
        !c.resend_first_flight(due, Some(rtt)),
        "once per connection"
    );
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(1)));
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn deferred_resend_is_dropped_when_the_answer_comes_first() {
    let t0 = Instant::now();
    let rtt = Duration::from_millis(40);
    let (mut c, mut s) = pair();
    c.start(t0);
    for d in drain(&mut c) {
        s.handle_receive(t0, &d);
    }
    assert!(!c.resend_first_flight(t0 + rtt / 2, Some(rtt)));
    for d in drain(&mut s) {
        c.handle_receive(t0 + rtt, &d);
    }
    c.handle_timeout(t0 + rtt); // the second part of flight 5
    drain(&mut c);
    let due = t0 + rtt + crate::dtls::early_resend::PEER_FLIGHT_ALLOWANCE;
    c.handle_timeout(due);
    assert!(drain(&mut c).is_empty(), "answered: nothing resent");
}

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn peer_ready_a_round_trip_after_the_flight_resends_at_once() {
    let t0 = Instant::now();
    let rtt = Duration::from_millis(40);
    let (mut c, _) = pair();
    c.start(t0);
    let hello = drain(&mut c);
    assert!(c.resend_first_flight(t0 + rtt, Some(rtt)));
    assert_eq!(handshake_bytes(&drain(&mut c)), handshake_bytes(&hello));
}
