//! Property tests: arbitrary bytes into every parser and into `handle_receive` at every
//! step of a handshake never panic, and what they break is counted.

use crate::dtls::certificate::p256_public_key_of;
use crate::dtls::extensions::HelloExtensions;
use crate::dtls::handshake::HandshakeFragment;
use crate::dtls::messages::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, HelloVerifyRequest,
    ServerHello, ServerKeyExchange, parse_client_key_exchange,
};
use crate::dtls::record::{RecordView, Records};
use crate::dtls::{CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsRole, DtlsState};
use crate::rng::Rng;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Instant;

fn parse_everything(bytes: &[u8]) {
    for rec in Records::new(bytes) {
        let _ = rec.to_string();
    }
    let _ = RecordView::parse(bytes);
    let _ = HandshakeFragment::parse(bytes);
    let _ = ClientHello::parse(bytes);
    let _ = ServerHello::parse(bytes);
    let _ = HelloVerifyRequest::parse(bytes);
    let _ = CertificateMsg::parse(bytes);
    let _ = ServerKeyExchange::parse(bytes);
    let _ = CertificateRequest::parse(bytes);
    let _ = CertificateVerify::parse(bytes);
    let _ = parse_client_key_exchange(bytes);
    let _ = HelloExtensions::parse(bytes);
    let _ = p256_public_key_of(bytes);
}

fn certs() -> &'static (DtlsCertificate, DtlsCertificate) {
    static CERTS: OnceLock<(DtlsCertificate, DtlsCertificate)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let mut rng = Rng::from_u64(1);
        let a = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
        let b = DtlsCertificate::generate(&mut rng, CertificateValidity::fixed()).unwrap();
        (a, b)
    })
}

fn pair(hello_verify: bool) -> (Dtls, Dtls) {
    let (cc, sc) = certs();
    let mut c = DtlsConfig::new(DtlsRole::Client, cc.clone());
    let mut s = DtlsConfig::new(DtlsRole::Server, sc.clone());
    c.remote_fingerprint = Some(sc.fingerprint());
    s.remote_fingerprint = Some(cc.fingerprint());
    s.hello_verify = hello_verify;
    (
        Dtls::new(c, Rng::from_u64(2)).unwrap(),
        Dtls::new(s, Rng::from_u64(3)).unwrap(),
    )
}

fn pump(c: &mut Dtls, s: &mut Dtls, queue: &mut VecDeque<(bool, Vec<u8>)>) {
    while let Some(d) = c.poll_transmit() {
        queue.push_back((true, d));
    }
    while let Some(d) = s.poll_transmit() {
        queue.push_back((false, d));
    }
}

/// Runs the handshake for `steps` datagram deliveries; returns the next pending datagram
/// and whether it goes to the server.
fn advance(c: &mut Dtls, s: &mut Dtls, now: Instant, steps: usize) -> Option<(bool, Vec<u8>)> {
    c.start(now);
    let mut queue = VecDeque::new();
    for _ in 0..steps {
        pump(c, s, &mut queue);
        let Some((to_server, d)) = queue.pop_front() else {
            break;
        };
        let target = if to_server { &mut *s } else { &mut *c };
        target.handle_receive(now, &d);
    }
    pump(c, s, &mut queue);
    queue.pop_front()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        parse_everything(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_record_shaped_input(
        ct in 20u8..=23,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut rec = vec![ct, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0];
        rec.extend_from_slice(&(body.len() as u16).to_be_bytes());
        rec.extend_from_slice(&body);
        parse_everything(&rec);
        prop_assert!(RecordView::parse(&rec).is_some());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    fn handle_receive_at_every_step_never_panics(
        steps in 0usize..8,
        hello_verify in any::<bool>(),
        garbage in proptest::collection::vec(any::<u8>(), 0..200),
        flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..6),
        cut in any::<u16>(),
    ) {
        let now = Instant::now();
        let (mut c, mut s) = pair(hello_verify);
        let next = advance(&mut c, &mut s, now, steps);
        let before = (c.stats(), s.stats());
        c.handle_receive(now, &garbage);
        s.handle_receive(now, &garbage);
        if !garbage.is_empty() && RecordView::parse(&garbage).is_none() {
            // Unparseable input is counted (as malformed, or as unexpected once closed).
            let dropped = |st: crate::dtls::DtlsStats| st.records_malformed + st.records_unexpected;
            prop_assert!(dropped(c.stats()) > dropped(before.0));
            prop_assert!(dropped(s.stats()) > dropped(before.1));
        }
        if let Some((to_server, mut d)) = next {
            let mut truncated = d.clone();
            truncated.truncate(usize::from(cut) % (d.len() + 1));
            for (at, x) in &flips {
                let i = usize::from(*at) % d.len();
                d[i] ^= x | 1;
            }
            let target = if to_server { &mut s } else { &mut c };
            target.handle_receive(now, &d);
            target.handle_receive(now, &truncated);
        }
        let _ = c.poll_event();
        let _ = s.poll_event();
        let after = (c.stats(), s.stats());
        prop_assert!(after.0.datagrams_received > before.0.datagrams_received);
        prop_assert!(after.1.datagrams_received > before.1.datagrams_received);
        prop_assert!(c.state() != DtlsState::New);
    }
}
