//! Connection setup cost in the simulator with zero latency: two `PeerConnection`s
//! (certificate generation included), offer → answer → trickled candidates → ICE →
//! DTLS → SCTP → a data channel open on both sides. CPU time per connection, with each
//! connection generating its certificate, and with one certificate shared by all (the
//! server case: `RtcConfiguration::certificate`).

use criterion::{Criterion, criterion_group, criterion_main};
use rtcpeer::Rng;
use rtcpeer::dtls::{CertificateValidity, DtlsCertificate};
use rtcpeer::peer_connection::{DataChannelInit, Event, PeerConnection, RtcConfiguration, SimPeer};
use rtcpeer::sim::{NodeId, Sim};
use std::time::Instant;

fn peer(seed: u64, addr: &str, now: Instant, certificate: Option<&DtlsCertificate>) -> SimPeer {
    let config = RtcConfiguration {
        certificate: certificate.cloned(),
        ..RtcConfiguration::with_seed(seed)
    };
    let mut pc = PeerConnection::new(config, now).expect("pc");
    pc.add_local_socket(now, addr.parse().expect("addr"))
        .expect("socket");
    SimPeer::new(pc)
}

fn forward(sim: &mut Sim, from: NodeId, to: NodeId) {
    if !sim
        .node::<SimPeer>(from)
        .events
        .iter()
        .any(|e| matches!(e, Event::IceCandidate(_)))
    {
        return;
    }
    let src = sim.node_mut::<SimPeer>(from);
    let cands: Vec<_> = src
        .events
        .iter()
        .filter_map(|e| match e {
            Event::IceCandidate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    src.events.retain(|e| !matches!(e, Event::IceCandidate(_)));
    let p = sim.node_mut::<SimPeer>(to);
    for c in cands {
        p.pc.add_ice_candidate(c).expect("candidate");
    }
    p.drain();
}

fn open(p: &SimPeer) -> bool {
    p.events.iter().any(|e| matches!(e, Event::ChannelOpen(_)))
}

fn setup_once(seed: u64, t0: Instant, certificate: Option<&DtlsCertificate>) {
    let mut sim = Sim::new(t0, Rng::from_u64(seed));
    let net = sim.internet();
    let mut a = peer(seed * 2, "10.0.0.1:5000", t0, certificate);
    let mut b = peer(seed * 2 + 1, "10.0.0.2:5000", t0, certificate);
    a.pc.create_data_channel("c", DataChannelInit::default())
        .expect("dc");
    let offer = a.pc.create_offer().expect("offer");
    a.pc.set_local_description(offer.clone()).expect("sld");
    b.pc.set_remote_description(offer).expect("srd");
    let answer = b.pc.create_answer().expect("answer");
    b.pc.set_local_description(answer.clone()).expect("sld");
    a.pc.set_remote_description(answer).expect("srd");
    a.drain();
    b.drain();
    let ia = sim
        .add_node(net, "10.0.0.1".parse().expect("ip"), a)
        .expect("a");
    let ib = sim
        .add_node(net, "10.0.0.2".parse().expect("ip"), b)
        .expect("b");
    let mut a_open = false;
    let mut b_open = false;
    for _ in 0..100_000 {
        forward(&mut sim, ia, ib);
        forward(&mut sim, ib, ia);
        a_open |= open(sim.node::<SimPeer>(ia));
        b_open |= open(sim.node::<SimPeer>(ib));
        if a_open && b_open {
            return;
        }
        sim.step().expect("step");
    }
    panic!("setup did not complete");
}

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let t0 = Instant::now();
    let mut seed = 0;
    c.bench_function("setup: two peers, offer to channel open on both", |b| {
        b.iter(|| {
            seed += 1;
            setup_once(seed, t0, None);
        })
    });
    let shared = DtlsCertificate::generate(&mut Rng::from_u64(1), CertificateValidity::fixed())
        .expect("certificate");
    c.bench_function(
        "setup: two peers, offer to channel open on both, shared certificate",
        |b| {
            b.iter(|| {
                seed += 1;
                setup_once(seed, t0, Some(&shared));
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
