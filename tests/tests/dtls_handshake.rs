//! DTLS handshakes between two in-memory rtcpeer endpoints: a shuttle with a virtual
//! clock, seeded loss, duplication and reordering, and a tamper hook.

use rtcpeer::Rng;
use rtcpeer::dtls::{
    AlertDescription, CertificateValidity, CipherSuite, Dtls, DtlsCertificate, DtlsConfig,
    DtlsError, DtlsEvent, DtlsRole, DtlsState, FailureReason, Fingerprint, Records, SrtpProfile,
};
use std::time::{Duration, Instant};

/// Which endpoint sent a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Client,
    Server,
}

/// What the tamper hook decides.
enum Verdict {
    Deliver,
    Drop,
}

type Hook = Box<dyn FnMut(From, &mut Vec<u8>) -> Verdict>;

struct Link {
    loss: f64,
    duplicate: f64,
    /// Extra random delay up to this many milliseconds (reorders datagrams).
    jitter_ms: u64,
}

const NO_IMPAIRMENT: Link = Link {
    loss: 0.0,
    duplicate: 0.0,
    jitter_ms: 0,
};

struct Pair {
    client: Dtls,
    server: Dtls,
    now: Instant,
    start: Instant,
    net: Rng,
    link: Link,
    hook: Hook,
    in_flight: Vec<(Instant, u64, From, Vec<u8>)>,
    order: u64,
    log: Vec<(From, Vec<u8>)>,
    client_events: Vec<DtlsEvent>,
    server_events: Vec<DtlsEvent>,
}

fn certificate(seed: u64) -> DtlsCertificate {
    DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed()).unwrap()
}

fn configs(seed: u64) -> (DtlsConfig, DtlsConfig) {
    let cc = certificate(seed * 2 + 1);
    let sc = certificate(seed * 2 + 2);
    let mut client = DtlsConfig::new(DtlsRole::Client, cc.clone());
    let mut server = DtlsConfig::new(DtlsRole::Server, sc.clone());
    client.remote_fingerprint = Some(sc.fingerprint());
    server.remote_fingerprint = Some(cc.fingerprint());
    (client, server)
}

impl Pair {
    fn new(seed: u64, client: DtlsConfig, server: DtlsConfig) -> Self {
        #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
        let start = Instant::now();
        let mut rng = Rng::from_u64(seed);
        let mut client = Dtls::new(client, rng.child()).unwrap();
        let server = Dtls::new(server, rng.child()).unwrap();
        client.start(start);
        Pair {
            client,
            server,
            now: start,
            start,
            net: rng.child(),
            link: NO_IMPAIRMENT,
            hook: Box::new(|_, _| Verdict::Deliver),
            in_flight: Vec::new(),
            order: 0,
            log: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    fn with_seed(seed: u64) -> Self {
        let (c, s) = configs(seed);
        Self::new(seed, c, s)
    }

    fn collect(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
        let mut out = Vec::new();
        while let Some(d) = self.client.poll_transmit() {
            out.push((From::Client, d));
        }
        while let Some(d) = self.server.poll_transmit() {
            out.push((From::Server, d));
        }
        for (from, mut d) in out {
            self.log.push((from, d.clone()));
            if let Verdict::Drop = (self.hook)(from, &mut d) {
                continue;
            }
            if self.net.chance(self.link.loss) {
                continue;
            }
            let copies = if self.net.chance(self.link.duplicate) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let delay = 10 + self.net.below(self.link.jitter_ms + 1);
                let at = self.now + Duration::from_millis(delay);
                self.order += 1;
                self.in_flight.push((at, self.order, from, d.clone()));
            }
        }
    }

    /// One event: deliver the earliest datagram or fire the earliest timer.
    fn step(&mut self) -> bool {
        self.collect();
        let next_dgram = self.in_flight.iter().map(|(at, o, ..)| (*at, *o)).min();
        let next_timer = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match (next_dgram, next_timer) {
            (Some((at, order)), t) if t.is_none_or(|t| at <= t) => {
                let i = self
                    .in_flight
                    .iter()
                    .position(|(_, o, ..)| *o == order)
                    .unwrap();
                let (at, _, from, d) = self.in_flight.swap_remove(i);
                self.now = self.now.max(at);
                match from {
                    From::Client => self.server.handle_receive(self.now, &d),
                    From::Server => self.client.handle_receive(self.now, &d),
                }
            }
            (_, Some(t)) => {
                self.now = self.now.max(t);
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
            }
            _ => return false,
        }
        self.collect();
        true
    }

    /// Steps until both sides settled (connected, closed or failed) or `limit` steps.
    fn run(&mut self, limit: usize) {
        for _ in 0..limit {
            let settled = |s: DtlsState| !matches!(s, DtlsState::New | DtlsState::Handshaking);
            if settled(self.client.state()) && settled(self.server.state()) {
                self.collect();
                return;
            }
            if !self.step() {
                return;
            }
        }
        panic!("no progress within {limit} steps");
    }

    /// Delivers everything in flight (timers fire only if a datagram is still pending).
    fn drain(&mut self) {
        self.collect();
        for _ in 0..1000 {
            if self.in_flight.is_empty() {
                break;
            }
            self.step();
        }
        self.collect();
    }

    fn assert_connected(&self) {
        assert_eq!(
            self.client.state(),
            DtlsState::Connected,
            "client: {:?}",
            self.client_events
        );
        assert_eq!(
            self.server.state(),
            DtlsState::Connected,
            "server: {:?}",
            self.server_events
        );
        let c = self
            .client
            .export_keying_material("EXTRACTOR-dtls_srtp", 56)
            .unwrap();
        let s = self
            .server
            .export_keying_material("EXTRACTOR-dtls_srtp", 56)
            .unwrap();
        assert_eq!(c, s);
    }
}

fn first_handshake_type(d: &[u8]) -> Option<(u8, Option<u8>)> {
    let rec = Records::new(d).next()?;
    let hs = (rec.epoch == 0 && rec.content_type.0 == 22).then(|| rec.fragment.first().copied());
    Some((rec.content_type.0, hs.flatten()))
}

#[test]
fn handshake_completes_with_srtp_and_matching_keys() {
    let mut p = Pair::with_seed(1);
    p.run(1000);
    p.assert_connected();
    let connected = DtlsEvent::Connected {
        srtp_profile: Some(SrtpProfile::AEAD_AES_128_GCM),
    };
    assert_eq!(p.client_events, std::slice::from_ref(&connected));
    assert_eq!(p.server_events, [connected]);
    assert_eq!(p.client.stats().retransmits, 0);
    assert_eq!(p.server.stats().retransmits, 0);
}

#[test]
fn application_data_flows_both_ways() {
    let mut p = Pair::with_seed(2);
    p.run(1000);
    p.client.send_application_data(b"ping").unwrap();
    p.server.send_application_data(b"pong").unwrap();
    p.drain();
    assert!(
        p.server_events
            .contains(&DtlsEvent::ApplicationData(b"ping"[..].into()))
    );
    assert!(
        p.client_events
            .contains(&DtlsEvent::ApplicationData(b"pong"[..].into()))
    );
}

#[test]
fn aes256_suite_is_used_when_the_server_prefers_it() {
    let (c, mut s) = configs(3);
    s.cipher_suites = vec![CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384];
    s.srtp_profiles = vec![SrtpProfile::AES128_CM_HMAC_SHA1_80];
    let mut p = Pair::new(3, c, s);
    p.run(1000);
    p.assert_connected();
    assert_eq!(
        p.client.srtp_profile(),
        Some(SrtpProfile::AES128_CM_HMAC_SHA1_80)
    );
    let first_app = {
        p.client.send_application_data(b"x").unwrap();
        p.client.poll_transmit().unwrap()
    };
    p.server.handle_receive(p.now, &first_app);
    assert_eq!(
        p.server.poll_event(),
        Some(DtlsEvent::ApplicationData(b"x"[..].into()))
    );
}

#[test]
fn hello_verify_request_cookie_exchange_completes() {
    let (c, mut s) = configs(4);
    s.hello_verify = true;
    let mut p = Pair::new(4, c, s);
    p.run(1000);
    p.assert_connected();
    let hvr = p
        .log
        .iter()
        .filter(|(f, d)| *f == From::Server && first_handshake_type(d) == Some((22, Some(3))))
        .count();
    assert_eq!(hvr, 1);
}

/// Drops the first datagram whose first record matches `target` (content type, handshake
/// type) from `who`.
fn drop_first(who: From, target: (u8, Option<u8>)) -> Hook {
    let mut done = false;
    Box::new(move |from, d| {
        if !done && from == who && first_handshake_type(d) == Some(target) {
            done = true;
            return Verdict::Drop;
        }
        Verdict::Deliver
    })
}

#[test]
fn handshake_survives_each_flight_lost_once() {
    let flights = [
        (From::Client, (22, Some(1))),  // flight 1: ClientHello
        (From::Server, (22, Some(3))),  // flight 2: HelloVerifyRequest
        (From::Server, (22, Some(2))),  // flight 4: ServerHello...
        (From::Client, (22, Some(11))), // flight 5: Certificate...
        (From::Server, (20, None)),     // flight 6: ChangeCipherSpec, Finished
    ];
    for (i, (who, target)) in flights.into_iter().enumerate() {
        let (c, mut s) = configs(10 + i as u64);
        s.hello_verify = true;
        let mut p = Pair::new(10 + i as u64, c, s);
        p.hook = drop_first(who, target);
        p.run(1000);
        p.assert_connected();
        let retransmits = p.client.stats().retransmits + p.server.stats().retransmits;
        assert!(retransmits >= 1, "flight {i}: nothing was retransmitted");
    }
}

#[test]
fn handshake_survives_twenty_percent_loss() {
    for seed in 20..30 {
        let mut p = Pair::with_seed(seed);
        p.link = Link {
            loss: 0.2,
            duplicate: 0.0,
            jitter_ms: 0,
        };
        p.run(10_000);
        p.assert_connected();
    }
}

#[test]
fn handshake_survives_reordering_and_duplication() {
    for seed in 30..40 {
        let (c, mut s) = configs(seed);
        s.hello_verify = seed % 2 == 0;
        let mut p = Pair::new(seed, c, s);
        p.link = Link {
            loss: 0.0,
            duplicate: 0.3,
            jitter_ms: 40,
        };
        p.run(10_000);
        p.assert_connected();
    }
}

#[test]
fn mtu_600_keeps_every_datagram_within_it() {
    let (mut c, mut s) = configs(40);
    c.mtu = 600;
    s.mtu = 600;
    let mut p = Pair::new(40, c, s);
    p.run(1000);
    p.assert_connected();
    assert!(p.log.iter().all(|(_, d)| d.len() <= 600));
    // The server's flight no longer fits one datagram.
    assert!(p.log.iter().filter(|(f, _)| *f == From::Server).count() >= 3);
}

#[test]
fn small_mtu_fragments_handshake_messages() {
    // Our certificates are about 300 bytes: an MTU of 300 must split them.
    let (mut c, mut s) = configs(41);
    c.mtu = 300;
    s.mtu = 300;
    let mut p = Pair::new(41, c, s);
    p.link = Link {
        loss: 0.0,
        duplicate: 0.2,
        jitter_ms: 30,
    };
    p.run(10_000);
    p.assert_connected();
    assert!(p.log.iter().all(|(_, d)| d.len() <= 300));
    let fragmented = p.log.iter().any(|(_, d)| {
        Records::new(d).any(|r| {
            r.epoch == 0
                && r.content_type.0 == 22
                && rtcpeer::dtls::wire::HandshakeFragment::parse(r.fragment)
                    .is_some_and(|(f, _)| !f.is_complete())
        })
    });
    assert!(fragmented, "no handshake message was fragmented");
}

fn flip_in_first(who: From, target: (u8, Option<u8>), at: usize) -> Hook {
    Box::new(move |from, d| {
        if from == who && first_handshake_type(d) == Some(target) {
            // Flip a byte inside the matching record's handshake body.
            let idx = 13 + 12 + at;
            if idx < d.len() {
                d[idx] ^= 0x55;
            }
        }
        Verdict::Deliver
    })
}

/// Finds the offset of the ServerKeyExchange body inside flight 4's first datagram.
fn ske_hook() -> Hook {
    Box::new(|from, d| {
        if from == From::Server {
            let mut offset = 0;
            for rec in Records::new(&d.clone()) {
                let body_start = offset + 13;
                if rec.content_type.0 == 22 && rec.epoch == 0 && rec.fragment.first() == Some(&12) {
                    // Inside the signature, near the end of the fragment.
                    let idx = body_start + rec.fragment.len() - 5;
                    d[idx] ^= 0x01;
                }
                offset += rec.raw.len();
            }
        }
        Verdict::Deliver
    })
}

#[test]
fn tampered_server_key_exchange_fails_the_handshake() {
    let mut p = Pair::with_seed(50);
    p.hook = ske_hook();
    p.run(1000);
    assert_eq!(p.client.state(), DtlsState::Failed);
    assert!(
        p.client_events
            .contains(&DtlsEvent::Failed(FailureReason::BadSignature))
    );
    assert!(
        p.server_events
            .contains(&DtlsEvent::Failed(FailureReason::PeerAlert(
                AlertDescription::DECRYPT_ERROR
            )))
    );
    assert_eq!(
        p.client.export_keying_material("EXTRACTOR-dtls_srtp", 56),
        Err(DtlsError::NoKeyingMaterial)
    );
}

#[test]
fn tampered_finished_fails_the_handshake() {
    let (mut c, mut s) = configs(51);
    c.max_retransmissions = 2;
    s.max_retransmissions = 2;
    let mut p = Pair::new(51, c, s);
    // Corrupt every epoch-1 handshake record (the Finished) the client sends.
    p.hook = Box::new(|from, d| {
        if from == From::Client {
            let mut offset = 0;
            for rec in Records::new(&d.clone()) {
                if rec.epoch == 1 && rec.content_type.0 == 22 {
                    d[offset + 13 + 8] ^= 0x80;
                }
                offset += rec.raw.len();
            }
        }
        Verdict::Deliver
    });
    p.run(1000);
    assert_eq!(p.server.state(), DtlsState::Failed);
    assert_eq!(p.client.state(), DtlsState::Failed);
    assert!(p.server.stats().records_bad_mac >= 1);
    assert!(
        !p.server_events
            .iter()
            .any(|e| matches!(e, DtlsEvent::Connected { .. }))
    );
    assert!(
        p.server_events
            .contains(&DtlsEvent::Failed(FailureReason::Timeout))
    );
}

#[test]
fn corrupted_client_random_breaks_the_server_signature() {
    let mut p = Pair::with_seed(52);
    // Change a byte of the client random: the server signs a random the client never sent.
    p.hook = flip_in_first(From::Client, (22, Some(1)), 5);
    p.run(1000);
    assert_eq!(p.server.state(), DtlsState::Failed);
    assert!(
        p.client_events
            .contains(&DtlsEvent::Failed(FailureReason::BadSignature))
    );
}

#[test]
fn wrong_fingerprint_fails_the_handshake() {
    let (mut c, s) = configs(60);
    c.remote_fingerprint = Some(certificate(999).fingerprint());
    let mut p = Pair::new(60, c, s);
    p.run(1000);
    assert!(
        p.client_events
            .contains(&DtlsEvent::Failed(FailureReason::FingerprintMismatch))
    );
    assert!(
        p.server_events
            .contains(&DtlsEvent::Failed(FailureReason::PeerAlert(
                AlertDescription::BAD_CERTIFICATE
            )))
    );
    assert!(
        p.client
            .export_keying_material("EXTRACTOR-dtls_srtp", 56)
            .is_err()
    );
    assert!(
        p.server
            .export_keying_material("EXTRACTOR-dtls_srtp", 56)
            .is_err()
    );
}

#[test]
fn server_rejects_client_with_wrong_fingerprint() {
    let (c, mut s) = configs(61);
    s.remote_fingerprint =
        Some(Fingerprint::parse(&format!("sha-256 {}", vec!["AB"; 32].join(":"))).unwrap());
    let mut p = Pair::new(61, c, s);
    p.run(1000);
    assert!(
        p.server_events
            .contains(&DtlsEvent::Failed(FailureReason::FingerprintMismatch))
    );
    // The server had no keys yet: its plaintext fatal alert still reaches the client.
    assert!(
        p.client_events
            .contains(&DtlsEvent::Failed(FailureReason::PeerAlert(
                AlertDescription::BAD_CERTIFICATE
            )))
    );
}

#[test]
fn replayed_application_record_is_dropped_and_counted() {
    let mut p = Pair::with_seed(70);
    p.run(1000);
    p.client.send_application_data(b"once").unwrap();
    let d = p.client.poll_transmit().unwrap();
    p.server.handle_receive(p.now, &d);
    p.server.handle_receive(p.now, &d);
    let mut got = Vec::new();
    while let Some(e) = p.server.poll_event() {
        got.push(e);
    }
    assert_eq!(got, [DtlsEvent::ApplicationData(b"once"[..].into())]);
    assert_eq!(p.server.stats().records_replayed, 1);
}

#[test]
fn close_notify_closes_both_sides() {
    let mut p = Pair::with_seed(80);
    p.run(1000);
    p.client.close();
    p.drain();
    assert_eq!(p.client.state(), DtlsState::Closed);
    assert_eq!(p.server.state(), DtlsState::Closed);
    assert!(p.server_events.contains(&DtlsEvent::CloseNotify));
    assert!(p.server_events.contains(&DtlsEvent::Closed));
    assert_eq!(p.client.send_application_data(b"x"), Err(DtlsError::Closed));
}

#[test]
fn same_seed_gives_identical_handshake_bytes() {
    let run = |seed| {
        let mut p = Pair::with_seed(90);
        p.net = Rng::from_u64(seed);
        let (c, s) = configs(90);
        let mut rng = Rng::from_u64(seed);
        p.client = Dtls::new(c, rng.child()).unwrap();
        p.server = Dtls::new(s, rng.child()).unwrap();
        p.client.start(p.start);
        p.run(1000);
        p.assert_connected();
        p.log
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn garbage_at_every_step_is_counted_and_harmless() {
    let mut p = Pair::with_seed(100);
    let mut junk = Rng::from_u64(5);
    for _ in 0..200 {
        // Random bytes, truncated real records, and records with a bad epoch.
        let mut g = vec![0u8; junk.below(80) as usize];
        junk.fill(&mut g);
        if let Some(b) = g.first_mut() {
            *b = 20 + (*b % 4);
        }
        p.client.handle_receive(p.now, &g);
        p.server.handle_receive(p.now, &g);
        // A truncated copy of the latest real datagram, to its real receiver.
        if let Some((from, real)) = p.log.last() {
            let cut = junk.below(real.len() as u64) as usize;
            match from {
                From::Client => p.server.handle_receive(p.now, &real[..cut]),
                From::Server => p.client.handle_receive(p.now, &real[..cut]),
            }
        }
        if !p.step() {
            break;
        }
    }
    p.run(1000);
    p.assert_connected();
    let s = p.server.stats();
    let c = p.client.stats();
    assert!(s.records_malformed + s.records_unexpected + s.records_bad_mac > 0);
    assert!(c.records_malformed + c.records_unexpected + c.records_bad_mac > 0);
}

#[test]
fn application_data_before_connection_is_refused() {
    let (c, _) = configs(110);
    let mut d = Dtls::new(c, Rng::from_u64(1)).unwrap();
    assert_eq!(d.send_application_data(b"x"), Err(DtlsError::NotConnected));
    assert!(d.export_keying_material("EXTRACTOR-dtls_srtp", 56).is_err());
}

#[test]
fn server_srtp_preference_picks_the_profile() {
    let (c, mut s) = configs(130);
    s.srtp_profiles = vec![SrtpProfile::AEAD_AES_256_GCM, SrtpProfile::AEAD_AES_128_GCM];
    let mut p = Pair::new(130, c, s);
    p.run(1000);
    p.assert_connected();
    assert_eq!(p.client.srtp_profile(), Some(SrtpProfile::AEAD_AES_256_GCM));
    assert_eq!(p.server.srtp_profile(), Some(SrtpProfile::AEAD_AES_256_GCM));
}

#[test]
fn no_common_srtp_profile_connects_without_srtp() {
    let (mut c, mut s) = configs(131);
    c.srtp_profiles = vec![SrtpProfile::AEAD_AES_256_GCM];
    s.srtp_profiles = vec![SrtpProfile::AES128_CM_HMAC_SHA1_80];
    let mut p = Pair::new(131, c, s);
    p.run(1000);
    p.assert_connected();
    assert!(
        p.client_events
            .contains(&DtlsEvent::Connected { srtp_profile: None })
    );
}

#[test]
fn records_sealed_into_a_reused_buffer_are_received() {
    let mut p = Pair::with_seed(140);
    p.run(1000);
    let mut buf = Vec::with_capacity(2048);
    for msg in [&b"first"[..], b"second"] {
        buf.clear();
        let cap = buf.capacity();
        p.client.seal_application_data(msg, &mut buf).unwrap();
        assert_eq!(buf.capacity(), cap, "sealing must not reallocate");
        p.server.handle_receive(p.now, &buf);
        assert_eq!(
            p.server.poll_event(),
            Some(DtlsEvent::ApplicationData(msg.into()))
        );
    }
    let big = vec![0u8; rtcpeer::dtls::MAX_APPLICATION_DATA + 1];
    assert!(matches!(
        p.client.seal_application_data(&big, &mut buf),
        Err(DtlsError::TooLarge { .. })
    ));
}
