//! DTLS target: one endpoint (client or server, with or without HelloVerifyRequest) takes
//! datagrams from the input, time passes and its timer runs, and it sends application data
//! and closes on command. Certificates and seeds are fixed, so the committed transcripts
//! (recorded from a real handshake with [`seeds`]) stay valid and reach Connected and
//! application data on both roles; the fuzzer mutates from there. The wire parsers see
//! every datagram too.

use super::ops::{Ops, OpsWriter};
use super::{Milestones, Target};
use crate::dtls::wire::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, HandshakeFragment,
    HelloExtensions, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};
use crate::dtls::{
    CertificateValidity, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, DtlsRole, RecordView,
    Records,
};
use crate::rng::Rng;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "dtls",
    run,
    seeds,
    deep: &[
        "dtls_client_connected",
        "dtls_server_connected",
        "dtls_client_app_data",
        "dtls_server_app_data",
        "dtls_client_timeout",
        "dtls_server_timeout",
        "dtls_client_closed",
        "dtls_server_closed",
    ],
};

const MAX_OPS: usize = 64;

/// The certificate of the endpoint under test (index 0) and of its peer (index 1),
/// generated once from fixed seeds.
pub(super) fn certificate(which: usize) -> &'static DtlsCertificate {
    static CERTS: OnceLock<[DtlsCertificate; 2]> = OnceLock::new();
    let certs = CERTS.get_or_init(|| {
        [1, 2].map(|seed| {
            DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed())
                .expect("certificate generation")
        })
    });
    &certs[which]
}

fn endpoint(role: DtlsRole, hello_verify: bool, which: usize) -> Dtls {
    let mut config = DtlsConfig::new(role, certificate(which).clone());
    config.remote_fingerprint = Some(certificate(1 - which).fingerprint());
    config.hello_verify = hello_verify;
    Dtls::new(config, Rng::from_u64(2 + which as u64)).expect("valid config")
}

fn parse_everything(data: &[u8]) {
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
}

/// Input: a setup byte (bit 0 server, bit 1 HelloVerifyRequest), then operations:
/// 0 a datagram (two-byte length), 1 time passes (byte × 10 ms) and the timer runs,
/// 2 application data (length byte), 3 close.
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let mut ops = Ops::new(data);
    let setup = ops.u8();
    let role = if setup & 1 == 0 {
        DtlsRole::Client
    } else {
        DtlsRole::Server
    };
    let names = Names::of(role);
    let mut dtls = endpoint(role, setup & 2 != 0, 0);
    let mut now = start;
    dtls.start(now);
    for _ in 0..MAX_OPS {
        if ops.is_empty() {
            break;
        }
        match ops.u8() % 4 {
            0 => {
                let datagram = ops.long(2048);
                parse_everything(datagram);
                dtls.handle_receive(now, datagram);
            }
            1 => {
                now += Duration::from_millis(u64::from(ops.u8()) * 10);
                if dtls.poll_timeout().is_some_and(|t| t <= now) {
                    reached.insert(names.timeout);
                }
                dtls.handle_timeout(now);
            }
            2 => {
                let _ = dtls.send_application_data(ops.short());
            }
            _ => dtls.close(),
        }
        while dtls.poll_transmit().is_some() {}
        while let Some(event) = dtls.poll_event() {
            match event {
                DtlsEvent::Connected { .. } => {
                    reached.insert(names.connected);
                    let _ = dtls.export_keying_material("EXTRACTOR-dtls_srtp", 60);
                }
                DtlsEvent::ApplicationData(_) => {
                    reached.insert(names.app_data);
                }
                DtlsEvent::Closed | DtlsEvent::CloseNotify => {
                    reached.insert(names.closed);
                }
                _ => {}
            }
        }
    }
    reached
}

struct Names {
    connected: &'static str,
    app_data: &'static str,
    timeout: &'static str,
    closed: &'static str,
}

impl Names {
    fn of(role: DtlsRole) -> Names {
        match role {
            DtlsRole::Client => Names {
                connected: "dtls_client_connected",
                app_data: "dtls_client_app_data",
                timeout: "dtls_client_timeout",
                closed: "dtls_client_closed",
            },
            DtlsRole::Server => Names {
                connected: "dtls_server_connected",
                app_data: "dtls_server_app_data",
                timeout: "dtls_server_timeout",
                closed: "dtls_server_closed",
            },
        }
    }
}

/// Records a real handshake with the endpoint under test built exactly as [`run`] builds
/// it: the peer's datagrams become operations. With `lose_first`, the peer's first flight
/// is dropped and the input lets time pass so that the endpoint retransmits.
fn transcript(setup: u8, lose_first: bool, close: bool, now: Instant) -> Vec<u8> {
    let role = if setup & 1 == 0 {
        DtlsRole::Client
    } else {
        DtlsRole::Server
    };
    let peer_role = match role {
        DtlsRole::Client => DtlsRole::Server,
        DtlsRole::Server => DtlsRole::Client,
    };
    let mut tested = endpoint(role, setup & 2 != 0, 0);
    let mut peer = endpoint(peer_role, setup & 2 != 0, 1);
    let mut w = OpsWriter::default();
    w.u8(setup);
    let mut now = now;
    tested.start(now);
    peer.start(now);
    let mut dropped = !lose_first;
    let mut sent_data = false;
    for _ in 0..32 {
        let mut to_peer = Vec::new();
        while let Some(d) = tested.poll_transmit() {
            to_peer.push(d);
        }
        for d in to_peer {
            peer.handle_receive(now, &d);
        }
        if peer.state() == crate::dtls::DtlsState::Connected && !sent_data {
            sent_data = true;
            let _ = peer.send_application_data(b"hello from the peer");
            w.u8(2).short(b"hello from the endpoint");
            let _ = tested.send_application_data(b"hello from the endpoint");
        }
        let mut any = false;
        while let Some(d) = peer.poll_transmit() {
            any = true;
            if !dropped {
                dropped = true;
                continue;
            }
            w.u8(0).long(&d);
            tested.handle_receive(now, &d);
        }
        while tested.poll_event().is_some() {}
        while peer.poll_event().is_some() {}
        if !any {
            if tested.poll_transmit().is_none() && sent_data {
                break;
            }
            now += Duration::from_millis(1000);
            w.u8(1).u8(100);
            tested.handle_timeout(now);
            peer.handle_timeout(now);
        }
    }
    if close {
        w.u8(3);
    }
    w.0
}

fn seeds(now: Instant) -> Vec<Vec<u8>> {
    vec![
        transcript(0, false, false, now),
        transcript(1, false, true, now),
        transcript(2, true, true, now),
        transcript(3, true, false, now),
    ]
}
