//! Contracts of the public API that issue 12 asked for: no two connections share keys
//! whichever documented way they were built, every wait ends, and the async data channel
//! behaves as the W3C `RTCDataChannel` (readyState, events, bufferedAmount, close after
//! queued data is delivered) on tokio, smol and mio, from one body
//! (`adapters_common::w3c`).

mod adapters_common;
mod pc_common;

use adapters_common::peer::AsyncAdapter;
use adapters_common::{executor, mio_peer::MioAdapter, w3c};
use rtcpeer::peer_connection::{PeerConnection, PeerConnectionError, RtcConfiguration};
use rtcpeer::runtime::{AsyncPeerConnection, Runtime, RuntimeError, SocketConfig};
use rtcpeer::{Endpoint, Error, Seed};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// `(ice-ufrag, ice-pwd, fingerprint)` of an SDP.
fn credentials(sdp: &str) -> (String, String, String) {
    let attr = |name: &str| {
        sdp.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in {sdp}"))
            .to_string()
    };
    (
        attr("a=ice-ufrag:"),
        attr("a=ice-pwd:"),
        attr("a=fingerprint:"),
    )
}

fn core_offer(pc: &mut PeerConnection) -> String {
    pc.create_data_channel("k", Default::default())
        .expect("channel");
    pc.create_offer().expect("offer").sdp
}

async fn async_offer(pc: &AsyncPeerConnection) -> String {
    pc.create_data_channel("k", Default::default())
        .await
        .expect("channel");
    pc.create_offer().await.expect("offer").sdp
}

/// Asserts that no two of `sdps` share a ufrag, a password or a certificate.
fn assert_pairwise_distinct(sdps: &[(String, String)]) {
    let creds: Vec<_> = sdps
        .iter()
        .map(|(way, sdp)| (way, credentials(sdp)))
        .collect();
    for pick in 0..3 {
        let mut seen = HashSet::new();
        for (way, c) in &creds {
            let value = [&c.0, &c.1, &c.2][pick];
            assert!(
                seen.insert(value.clone()),
                "{way}: {} shared with another connection",
                ["ice-ufrag", "ice-pwd", "fingerprint"][pick]
            );
        }
    }
}

#[test]
fn the_core_default_configuration_is_refused_for_want_of_a_seed() {
    let result = PeerConnection::new(RtcConfiguration::default(), now());
    assert!(
        matches!(
            result,
            Err(Error::PeerConnection(PeerConnectionError::MissingSeed))
        ),
        "{result:?}"
    );
}

#[test]
fn connections_built_every_documented_way_share_no_credentials_or_certificates() {
    let mut sdps = Vec::new();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let os_seed = || tokio_rt.block_on(async { rtcpeer_tokio::TokioRuntime::current().seed() });
    tokio_rt.block_on(async {
        for i in 0..3 {
            let pc = rtcpeer_tokio::new_peer_connection(
                RtcConfiguration::default(),
                &SocketConfig::loopback(),
            )
            .expect("tokio pc");
            sdps.push((format!("tokio #{i}"), async_offer(&pc).await));
        }
    });
    for i in 0..3 {
        let sdp = smol::block_on(async {
            let pc = rtcpeer_smol::new_peer_connection(
                RtcConfiguration::default(),
                &SocketConfig::loopback(),
            )
            .expect("smol pc");
            async_offer(&pc).await
        });
        sdps.push((format!("smol #{i}"), sdp));
    }
    let mut mio_loop =
        rtcpeer_mio::EventLoop::new(&SocketConfig::loopback(), |_, _, _| {}).expect("mio loop");
    for i in 0..3 {
        let ep = mio_loop.endpoint();
        let h = ep
            .add_peer_connection(RtcConfiguration::default(), now())
            .expect("mio pc");
        let pc = ep.peer_connection(h).expect("exists");
        sdps.push((format!("mio endpoint #{i}"), core_offer(pc)));
    }
    for e in 0..2 {
        let mut ep = Endpoint::new(Seed::from_bytes(os_seed()));
        for i in 0..2 {
            let h = ep
                .add_peer_connection(RtcConfiguration::default(), now())
                .expect("endpoint pc");
            let pc = ep.peer_connection(h).expect("exists");
            sdps.push((format!("endpoint {e} #{i}"), core_offer(pc)));
        }
    }
    for i in 0..2 {
        let config = RtcConfiguration::with_secret_seed(Seed::from_bytes(os_seed()));
        let mut pc = PeerConnection::new(config, now()).expect("core pc");
        sdps.push((format!("core with_secret_seed #{i}"), core_offer(&mut pc)));
    }
    assert_eq!(sdps.len(), 3 + 3 + 3 + 4 + 2);
    assert_pairwise_distinct(&sdps);
}

/// The `random` of every ClientHello and ServerHello in a pair's capture.
fn hello_randoms(p: &pc_common::Pair) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for r in p.sim.capture() {
        let b = &r.payload;
        // DTLS record (13 bytes), handshake header (12), version (2), then the random.
        if b.len() >= 59 && b[0] == 22 && (b[13] == 1 || b[13] == 2) {
            let random: [u8; 32] = b[27..59].try_into().expect("32 bytes");
            if !out.contains(&random) {
                out.push(random);
            }
        }
    }
    out
}

#[test]
fn dtls_randoms_differ_between_connections_seeded_from_the_os() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let os_seed = || tokio_rt.block_on(async { rtcpeer_tokio::TokioRuntime::current().seed() });
    let mut randoms = Vec::new();
    for pair in 0..2u64 {
        let seeds = (os_seed(), os_seed());
        let mut p = pc_common::Pair::with_peers(pair, |t0| {
            let peer = |seed, addr: &str| {
                let config = RtcConfiguration::with_secret_seed(Seed::from_bytes(seed));
                let mut pc = PeerConnection::new(config, t0).expect("pc");
                pc.add_local_socket(t0, addr.parse().expect("addr"))
                    .expect("socket");
                rtcpeer::peer_connection::SimPeer::new(pc)
            };
            (
                peer(seeds.0, "10.0.0.1:5000"),
                peer(seeds.1, "10.0.0.2:5000"),
            )
        });
        p.with(true, |pc| {
            pc.create_data_channel("r", Default::default())
                .expect("channel")
        });
        p.negotiate(true);
        assert!(p.run_until(Duration::from_secs(10), |p| p.connected()));
        let found = hello_randoms(&p);
        assert!(found.len() >= 2, "client and server randoms in the capture");
        randoms.extend(found);
    }
    let distinct: HashSet<_> = randoms.iter().collect();
    assert_eq!(distinct.len(), randoms.len(), "a DTLS random repeated");
}

/// `wait_gathering_complete` before `set_local_description` fails at once.
async fn gathering_wait_without_a_description_fails(rt: Arc<dyn Runtime>) {
    let pc = AsyncPeerConnection::new(rt, RtcConfiguration::default(), &SocketConfig::loopback())
        .expect("pc");
    let result = pc.wait_gathering_complete().await;
    assert!(
        matches!(
            result,
            Err(Error::Runtime(RuntimeError::NoLocalDescription))
        ),
        "{result:?}"
    );
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

fn on_tokio<F: Future<Output = ()>>(f: impl FnOnce(Arc<dyn Runtime>) -> F) {
    let rt = tokio_rt();
    rt.block_on(async { f(rtcpeer_tokio::TokioRuntime::current().into_dyn()).await });
}

fn on_smol<F: Future<Output = ()>>(f: impl FnOnce(Arc<dyn Runtime>) -> F) {
    smol::block_on(f(rtcpeer_smol::SmolRuntime::current().into_dyn()));
}

#[test]
fn tokio_data_channel_follows_the_w3c_checklist() {
    on_tokio(|rt| async move { w3c::data_channel_checklist(&AsyncAdapter(rt)).await });
}

#[test]
fn smol_data_channel_follows_the_w3c_checklist() {
    on_smol(|rt| async move { w3c::data_channel_checklist(&AsyncAdapter(rt)).await });
}

#[test]
fn mio_data_channel_follows_the_w3c_checklist() {
    executor::block_on(w3c::data_channel_checklist(&MioAdapter));
}

#[test]
fn tokio_gathering_wait_without_a_description_fails() {
    on_tokio(gathering_wait_without_a_description_fails);
}

#[test]
fn smol_gathering_wait_without_a_description_fails() {
    on_smol(gathering_wait_without_a_description_fails);
}

#[test]
fn tokio_send_everything_then_read_the_echo_completes() {
    on_tokio(|rt| async move { w3c::send_everything_then_read_the_echo(&AsyncAdapter(rt)).await });
}

#[test]
fn smol_send_everything_then_read_the_echo_completes() {
    on_smol(|rt| async move { w3c::send_everything_then_read_the_echo(&AsyncAdapter(rt)).await });
}

#[test]
fn mio_send_everything_then_read_the_echo_completes() {
    executor::block_on(w3c::send_everything_then_read_the_echo(&MioAdapter));
}
