//! Fuzzes the DTLS wire parsers and whole-datagram input to a client and a server endpoint.
//! The first byte picks a split of the input into several datagrams.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::Rng;
use rtcpeer::dtls::wire::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, HandshakeFragment,
    HelloExtensions, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};
use rtcpeer::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsRole, RecordView, Records,
};
use std::sync::OnceLock;
use std::time::Instant;

fn certificate() -> &'static DtlsCertificate {
    static CERT: OnceLock<DtlsCertificate> = OnceLock::new();
    CERT.get_or_init(|| {
        DtlsCertificate::generate(&mut Rng::from_u64(1), CertificateValidity::fixed())
            .expect("certificate generation")
    })
}

fn now() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    #[allow(clippy::disallowed_methods)] // the fuzzer needs one real instant as a base
    *BASE.get_or_init(Instant::now)
}

fuzz_target!(|data: &[u8]| {
    let _ = Records::new(data).count();
    let _ = RecordView::parse(data);
    let _ = HandshakeFragment::parse(data);
    let _ = ClientHello::parse(data);
    let _ = ServerHello::parse(data);
    let _ = HelloVerifyRequest::parse(data);
    let _ = CertificateMsg::parse(data);
    let _ = ServerKeyExchange::parse(data);
    let _ = CertificateRequest::parse(data);
    let _ = CertificateVerify::parse(data);
    let _ = HelloExtensions::parse(data);

    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    for role in [DtlsRole::Client, DtlsRole::Server] {
        let mut config = DtlsConfig::new(role, certificate().clone());
        config.remote_fingerprint = Some(certificate().fingerprint());
        config.hello_verify = split & 1 == 1;
        let mut dtls = Dtls::new(config, Rng::from_u64(2)).expect("valid config");
        dtls.start(now());
        for datagram in rest.chunks(chunk) {
            dtls.handle_receive(now(), datagram);
            while dtls.poll_transmit().is_some() {}
            while dtls.poll_event().is_some() {}
        }
    }
});
