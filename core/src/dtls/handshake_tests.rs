//! In-crate handshake tests that need internals: forging a correctly protected Finished with
//! the wrong verify_data, and the retransmission give-up schedule.

use super::events::DtlsEvent;
use super::handshake::emit_header;
use super::record::Records;
use super::types::{ContentType, HandshakeType};
use super::{
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

#[test]
#[allow(clippy::disallowed_methods)] // tests need one real instant as a base
fn finished_with_wrong_verify_data_fails_the_handshake() {
    let now = Instant::now();
    let (mut c, mut s) = pair();
    c.start(now);
    s.handle_receive(now, &c.poll_transmit().unwrap()); // flight 1
    while let Some(d) = s.poll_transmit() {
        c.handle_receive(now, &d); // flight 4
    }
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
