//! Interop with a TURN server nobody here wrote: Debian's `coturn` (`turnserver`), started
//! by each test on 127.0.0.1 inside a loopback-only network namespace
//! (`tests/interop/netns.sh`): the test binary runs itself again inside the namespace
//! with `RTCPEER_TURN_NETNS=1`, starts coturn there and talks to it over real UDP.
//!
//! - two rtcpeer peers (tokio adapter) with the relay-only policy connect through coturn
//!   and exchange data channel messages, reaching coturn over UDP, over TCP
//!   (`turn:...?transport=tcp`) and over TLS (`turns:`, coturn's certificate issued by a
//!   CA the test makes with the `openssl` CLI and passes as a trusted root), each its own
//!   test; TCP and TLS also on the smol and the mio adapters (one test body for all three,
//!   over the adapter traits of `adapters_common`); the selected local candidate is
//!   relayed with that `relayProtocol`;
//! - a `turns:` server whose certificate comes from another CA gives a certificate error
//!   event within 2 s;
//! - `echo --relay-only` on tokio, smol and mio whose only ICE server is a TCP, then a
//!   TLS TURN URL (its `Endpoint` sessions open the connections) is reached by a
//!   relay-only rtcpeer client through coturn, and echoes (needs the `echo` example
//!   built: `cargo build -p rtcpeer-examples --bins`);
//! - coturn killed and started again mid-call: the peers' TCP connections are reopened,
//!   the allocations made again, and data flows after an ICE restart;
//! - coturn answers our STUN Binding requests (server-reflexive gathering);
//! - wrong credentials give `IceCandidateError` 401 within 2 s and ICE fails.
//!
//! Needs `turnserver` (installed by `tests/provision.sh`). `RTCPEER_SKIP_INTEROP=1` skips
//! loudly when it is missing.
#![allow(clippy::disallowed_methods)] // real peers need the real clock

mod adapters_common;
mod example_bin;
mod provision;

use adapters_common::executor;
use adapters_common::mio_peer::MioAdapter;
use adapters_common::peer::{Adapter, AsyncAdapter, Channel, Peer};
use adapters_common::scenario;

use rtcpeer::ice::{IceAgent, IceConfig, IceEvent, IceGatheringState, StunServer};
use rtcpeer::peer_connection::{Event, IceServer, IceTransportPolicy, RtcConfiguration};
use rtcpeer::runtime::{Message, SocketConfig};
use rtcpeer::{Rng, Transmit};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";
const REALM: &str = "rtcpeer.test";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

fn coturn_installed() -> bool {
    Command::new("turnserver")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Outside the namespace: runs this very test again inside a fresh loopback-only
/// namespace and asserts it passed there. Returns `true` when already inside (the caller
/// runs the body).
fn inside_namespace(test: &str) -> bool {
    if std::env::var("RTCPEER_TURN_NETNS").as_deref() == Ok("1") {
        return true;
    }
    if !coturn_installed() {
        if std::env::var("RTCPEER_SKIP_INTEROP").as_deref() == Ok("1") {
            eprintln!(
                "SKIPPED {test}: no `turnserver` (RTCPEER_SKIP_INTEROP=1); coturn interop NOT tested"
            );
            return false;
        }
        let provisioned = provision::provision_once();
        assert!(
            coturn_installed(),
            "{test} needs coturn's `turnserver`; installing it failed: {provisioned:?}"
        );
    }
    let exe = std::env::current_exe().expect("test binary path");
    let output = Command::new(repo_root().join("tests/interop/netns.sh"))
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RTCPEER_TURN_NETNS", "1")
        .output()
        .expect("spawn tests/interop/netns.sh");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && out.contains("1 passed"),
        "{test} failed inside the namespace ({}):\n{out}\n{err}",
        output.status
    );
    false
}

/// A CA and a server certificate for 127.0.0.1 issued by it (P-256, two days), made with
/// the `openssl` CLI in a temporary directory that is removed on drop.
struct TestPki {
    dir: PathBuf,
}

impl TestPki {
    fn new(tag: &str) -> TestPki {
        let dir = std::env::temp_dir().join(format!("rtcpeer-pki-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("pki dir");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("run openssl (installed by tests/provision.sh)");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &[
                "-subj",
                "/CN=rtcpeer test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        run(&[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat());
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext.cnf");
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        TestPki { dir }
    }

    fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("ca.pem")).expect("ca.pem")
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A coturn process on 127.0.0.1:`port`, killed on drop.
struct Coturn {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Coturn {
    fn start(port: u16) -> Coturn {
        Coturn::start_with(port, None)
    }

    /// With `tls`, coturn also listens for TLS on `tls_port` with the PKI's server
    /// certificate.
    fn start_with(port: u16, tls: Option<(u16, &TestPki)>) -> Coturn {
        let log =
            std::env::temp_dir().join(format!("rtcpeer-coturn-{}-{port}.log", std::process::id()));
        let child = Command::new("turnserver")
            .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1"])
            .arg(format!("--listening-port={port}"))
            .args(["--min-port=50000", "--max-port=50100"])
            .args(["--lt-cred-mech", "--fingerprint", "--allow-loopback-peers"])
            .arg(format!("--user={USER}:{PASSWORD}"))
            .arg(format!("--realm={REALM}"))
            .args(match tls {
                Some((tls_port, pki)) => vec![
                    format!("--tls-listening-port={tls_port}"),
                    format!("--cert={}", pki.dir.join("server.pem").display()),
                    format!("--pkey={}", pki.dir.join("server.key").display()),
                ],
                None => vec!["--no-tls".to_string()],
            })
            .args(["--no-cli", "--no-dtls", "--simple-log"])
            .arg(format!("--log-file={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn turnserver");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let c = Coturn { child, addr, log };
        c.wait_ready();
        c
    }

    /// Sends Binding requests until coturn answers (at most 5 s).
    fn wait_ready(&self) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let request =
            rtcpeer::stun::StunMessage::binding_request(rtcpeer::stun::TransactionId([9; 12]))
                .encode(None, true)
                .expect("encode");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 1500];
        while Instant::now() < deadline {
            let _ = socket.send_to(&request, self.addr);
            if socket.recv_from(&mut buf).is_ok() {
                return;
            }
        }
        panic!("coturn did not answer in 5 s; log:\n{}", self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn turn_config(seed: u64, server: SocketAddr, password: &str) -> RtcConfiguration {
    url_config(seed, format!("turn:{server}"), password, Vec::new())
}

fn url_config(seed: u64, url: String, password: &str, roots: Vec<String>) -> RtcConfiguration {
    RtcConfiguration {
        ice_servers: vec![IceServer {
            urls: vec![url],
            username: Some(USER.into()),
            credential: Some(password.into()),
        }],
        ice_transport_policy: IceTransportPolicy::Relay,
        turn_tls_roots_pem: roots,
        ..RtcConfiguration::with_seed(seed)
    }
}

/// `f`, or a panic after `secs` (async-io's timer: works under tokio and smol alike).
async fn within<T>(secs: u64, what: &str, f: impl std::future::Future<Output = T>) -> T {
    futures_lite::future::or(f, async {
        smol::Timer::after(Duration::from_secs(secs)).await;
        panic!("{what}: not done in {secs} s")
    })
    .await
}

/// Two relay-only tokio peers through the TURN server at `server` (seeds `seeds`): `a`
/// offers a channel, `b` answers, and both wait until the channel is open at `a` and seen
/// by `b`. Returns the peers, their channel ends and `a`'s gathered offer.
struct RelayedPair {
    a: rtcpeer_tokio::PeerConnection,
    b: rtcpeer_tokio::PeerConnection,
    ca: rtcpeer_tokio::DataChannel,
    cb: rtcpeer_tokio::DataChannel,
    offer_sdp: String,
}

async fn connect_relayed_pair(server: SocketAddr, seeds: (u64, u64), label: &str) -> RelayedPair {
    let sockets = SocketConfig::loopback();
    let a = rtcpeer_tokio::new_peer_connection(turn_config(seeds.0, server, PASSWORD), &sockets)
        .expect("a");
    let b = rtcpeer_tokio::new_peer_connection(turn_config(seeds.1, server, PASSWORD), &sockets)
        .expect("b");
    connect_pair(a, b, label).await
}

/// [`connect_relayed_pair`] for peers made by the caller (any adapter, any TURN URL).
async fn connect_pair(
    a: rtcpeer_tokio::PeerConnection,
    b: rtcpeer_tokio::PeerConnection,
    label: &str,
) -> RelayedPair {
    let ca = a
        .create_data_channel(label, Default::default())
        .await
        .expect("dc");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("sld");
    let offer = within(5, "a gathers", a.wait_gathering_complete())
        .await
        .expect("offer");
    let offer_sdp = offer.sdp.clone();
    let mut b_events = b.events();
    b.set_remote_description(offer).await.expect("srd");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("sld");
    let answer = within(5, "b gathers", b.wait_gathering_complete())
        .await
        .expect("answer");
    a.set_remote_description(answer).await.expect("srd");
    within(10, "a connects", a.wait_connected())
        .await
        .expect("a connected");
    let cb = within(10, "b sees the channel", async {
        loop {
            match b_events.next().await {
                Some(Event::DataChannel(id)) => return b.data_channel(id),
                Some(_) => {}
                None => panic!("b ended"),
            }
        }
    })
    .await;
    ca.wait_open().await.expect("open");
    RelayedPair {
        a,
        b,
        ca,
        cb,
        offer_sdp,
    }
}

#[test]
fn coturn_relays_between_two_relay_only_rtcpeer_peers_over_udp() {
    if !inside_namespace("coturn_relays_between_two_relay_only_rtcpeer_peers_over_udp") {
        return;
    }
    let coturn = Coturn::start(3478);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let RelayedPair {
            a,
            b,
            ca,
            cb,
            offer_sdp,
        } = connect_relayed_pair(coturn.addr, (1, 2), "relay").await;
        assert!(
            offer_sdp.contains("typ relay"),
            "no relayed candidate:\n{offer_sdp}"
        );
        assert!(
            !offer_sdp.contains("typ host"),
            "relay-only offer has host candidates"
        );
        ca.send_text("via coturn").await.expect("send");
        let got = within(5, "b receives", cb.recv()).await.expect("message");
        assert_eq!(got, Message::Text("via coturn".into()));
        cb.send_text("and back").await.expect("send");
        let got = within(5, "a receives", ca.recv()).await.expect("message");
        assert_eq!(got, Message::Text("and back".into()));
        let stats = a
            .with_core(|pc| Ok(pc.ice_agent().stats().clone()))
            .expect("stats");
        assert!(
            stats.relay_allocations >= 1 && stats.relay_errors == 0,
            "{stats:?}"
        );
        let path = a
            .with_core(|pc| Ok(pc.data_path()))
            .expect("path")
            .expect("a path");
        assert_eq!(path.local.ip(), coturn.addr.ip());
        assert!(
            (50000..=50100).contains(&path.local.port()),
            "relayed port {path:?}"
        );
        a.close().await;
        b.close().await;
    });
}

/// Two relay-only peers on `adapter` reach coturn through `url` (TCP or TLS), move
/// data-channel data both ways, and their selected local candidates are relayed via
/// `protocol`. One body for tokio, smol and mio.
async fn relay_over_stream<A: Adapter>(
    adapter: &A,
    url: String,
    roots: Vec<String>,
    protocol: &str,
) {
    let make = |seed| adapter.new_peer_with(url_config(seed, url.clone(), PASSWORD, roots.clone()));
    let (a, b) = (make(11), make(12));
    let ca = a.create_data_channel(protocol).await.expect("dc");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("sld");
    let offer = scenario::within(adapter, 10, "a gathers", a.wait_gathering_complete())
        .await
        .expect("offer");
    assert!(
        offer.sdp.contains("typ relay"),
        "no relayed candidate:\n{}",
        offer.sdp
    );
    assert!(
        !offer.sdp.contains("typ host"),
        "relay-only offer has host candidates"
    );
    b.set_remote_description(offer).await.expect("srd");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("sld");
    let answer = scenario::within(adapter, 10, "b gathers", b.wait_gathering_complete())
        .await
        .expect("answer");
    a.set_remote_description(answer).await.expect("srd");
    scenario::within(adapter, 10, "a connects", a.wait_connected())
        .await
        .expect("a connected");
    let cb = scenario::within(
        adapter,
        10,
        "b sees the channel",
        b.remote_channel(protocol),
    )
    .await
    .expect("b's channel");
    scenario::within(adapter, 10, "channel opens", ca.wait_open())
        .await
        .expect("open");
    let big = vec![0x5Au8; 10_003]; // several SCTP chunks, not a multiple of four
    ca.send_binary(big.clone().into()).await.expect("send");
    let got = scenario::within(adapter, 5, "b receives", cb.recv())
        .await
        .expect("message");
    assert_eq!(got, Message::Binary(big.into()));
    cb.send_text(&format!("back over {protocol}"))
        .await
        .expect("send");
    let got = scenario::within(adapter, 5, "a receives", ca.recv())
        .await
        .expect("message");
    assert_eq!(got, Message::Text(format!("back over {protocol}")));
    for (side, pc) in [("a", &a), ("b", &b)] {
        let local = scenario::within(adapter, 5, "a selected pair", async {
            loop {
                let local = pc.with_core(|pc| pc.stats().selected_local_candidate).await;
                if let Some(local) = local {
                    return local;
                }
                adapter.sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert_eq!(
            local.candidate_type,
            rtcpeer::ice::CandidateKind::Relayed,
            "{side}"
        );
        assert_eq!(local.relay_protocol, Some(protocol), "{side}");
        assert_eq!(local.address.ip(), std::net::Ipv4Addr::LOCALHOST, "{side}");
        assert!(
            (50000..=50100).contains(&local.address.port()),
            "{side}: relayed port {local:?}"
        );
        let ice = pc.with_core(|pc| pc.ice_agent().stats().clone()).await;
        assert!(
            ice.relay_allocations >= 1 && ice.relay_errors == 0,
            "{side}: {ice:?}"
        );
    }
    a.close().await;
    b.close().await;
}

fn tokio_adapter() -> AsyncAdapter {
    AsyncAdapter(rtcpeer_tokio::TokioRuntime::current().into_dyn())
}

fn smol_adapter() -> AsyncAdapter {
    AsyncAdapter(rtcpeer_smol::SmolRuntime::current().into_dyn())
}

#[test]
fn coturn_relays_between_two_relay_only_rtcpeer_peers_over_tcp() {
    if !inside_namespace("coturn_relays_between_two_relay_only_rtcpeer_peers_over_tcp") {
        return;
    }
    let coturn = Coturn::start(3482);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        relay_over_stream(
            &tokio_adapter(),
            format!("turn:{}?transport=tcp", coturn.addr),
            Vec::new(),
            "tcp",
        )
        .await;
    });
}

#[test]
fn coturn_relays_between_two_relay_only_rtcpeer_peers_over_tls() {
    if !inside_namespace("coturn_relays_between_two_relay_only_rtcpeer_peers_over_tls") {
        return;
    }
    let pki = TestPki::new("tls");
    let _coturn = Coturn::start_with(3484, Some((5350, &pki)));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        relay_over_stream(
            &tokio_adapter(),
            "turns:127.0.0.1:5350".into(),
            vec![pki.ca_pem()],
            "tls",
        )
        .await;
    });
}

#[test]
fn coturn_relays_over_tcp_and_tls_on_the_smol_adapter() {
    if !inside_namespace("coturn_relays_over_tcp_and_tls_on_the_smol_adapter") {
        return;
    }
    let pki = TestPki::new("smol");
    let coturn = Coturn::start_with(3486, Some((5352, &pki)));
    smol::block_on(async {
        let smol = smol_adapter();
        relay_over_stream(
            &smol,
            format!("turn:{}?transport=tcp", coturn.addr),
            Vec::new(),
            "tcp",
        )
        .await;
        relay_over_stream(
            &smol,
            "turns:127.0.0.1:5352".into(),
            vec![pki.ca_pem()],
            "tls",
        )
        .await;
    });
}

#[test]
fn coturn_relays_over_tcp_on_the_mio_adapter() {
    if !inside_namespace("coturn_relays_over_tcp_on_the_mio_adapter") {
        return;
    }
    let coturn = Coturn::start(3488);
    executor::block_on(relay_over_stream(
        &MioAdapter,
        format!("turn:{}?transport=tcp", coturn.addr),
        Vec::new(),
        "tcp",
    ));
}

#[test]
fn coturn_relays_over_tls_on_the_mio_adapter() {
    if !inside_namespace("coturn_relays_over_tls_on_the_mio_adapter") {
        return;
    }
    let pki = TestPki::new("mio");
    let _coturn = Coturn::start_with(3490, Some((5354, &pki)));
    executor::block_on(relay_over_stream(
        &MioAdapter,
        "turns:127.0.0.1:5354".into(),
        vec![pki.ca_pem()],
        "tls",
    ));
}

#[test]
fn coturn_over_tls_with_a_certificate_from_an_untrusted_ca_is_a_certificate_error_within_two_seconds()
 {
    if !inside_namespace(
        "coturn_over_tls_with_a_certificate_from_an_untrusted_ca_is_a_certificate_error_within_two_seconds",
    ) {
        return;
    }
    let pki = TestPki::new("server");
    let other = TestPki::new("other");
    let _coturn = Coturn::start_with(3488, Some((5354, &pki)));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let config = url_config(
            21,
            "turns:127.0.0.1:5354".into(),
            PASSWORD,
            vec![other.ca_pem()],
        );
        let a = rtcpeer_tokio::new_peer_connection(config, &SocketConfig::loopback()).expect("a");
        let mut events = a.events();
        let t0 = Instant::now();
        a.create_data_channel("x", Default::default())
            .await
            .expect("dc");
        let offer = a.create_offer().await.expect("offer");
        a.set_local_description(offer).await.expect("sld");
        let (error, text) = within(2, "a certificate error event", async {
            let mut text = None;
            let mut typed = None;
            loop {
                match events.next().await {
                    Some(Event::TurnError {
                        error, transport, ..
                    }) => {
                        assert_eq!(transport, rtcpeer::turn::TurnTransport::Tls);
                        typed = Some(error);
                    }
                    Some(Event::IceCandidateError {
                        error_code,
                        error_text,
                        ..
                    }) => {
                        assert_eq!(error_code, 701);
                        text = Some(error_text);
                    }
                    Some(_) => {}
                    None => panic!("ended"),
                }
                if let (Some(e), Some(t)) = (&typed, &text) {
                    return (e.clone(), t.clone());
                }
            }
        })
        .await;
        assert!(t0.elapsed() <= Duration::from_secs(2));
        assert!(
            matches!(error, rtcpeer::turn::TurnError::Certificate(_)),
            "not a certificate error: {error:?}"
        );
        assert!(text.contains("certificate"), "{text}");
        a.close().await;
    });
}

/// Drives a sans-IO agent on a real socket until `done` or `limit`.
fn drive_agent(
    agent: &mut IceAgent,
    socket: &UdpSocket,
    limit: Duration,
    mut done: impl FnMut(&IceEvent) -> bool,
) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 1500];
    socket
        .set_read_timeout(Some(Duration::from_millis(10)))
        .expect("timeout");
    while start.elapsed() < limit {
        while let Some(Transmit {
            destination,
            payload,
            ..
        }) = agent.poll_transmit()
        {
            socket.send_to(&payload, destination).expect("send");
        }
        while let Some(e) = agent.poll_event() {
            if done(&e) {
                return true;
            }
        }
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            agent.handle_receive(
                Instant::now(),
                from,
                socket.local_addr().expect("addr"),
                &buf[..n],
            );
        }
        agent.handle_timeout(Instant::now());
    }
    false
}

#[test]
fn coturn_answers_stun_binding_requests_for_server_reflexive_gathering() {
    if !inside_namespace("coturn_answers_stun_binding_requests_for_server_reflexive_gathering") {
        return;
    }
    let coturn = Coturn::start(3479);
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let config = IceConfig {
        stun_servers: vec![StunServer::Addr(coturn.addr)],
        ..IceConfig::default()
    };
    let mut agent = IceAgent::new(config, Rng::from_u64(3)).expect("agent");
    let t0 = Instant::now();
    agent
        .add_local_socket(t0, socket.local_addr().expect("addr"))
        .expect("socket");
    let complete = drive_agent(&mut agent, &socket, Duration::from_secs(5), |e| {
        *e == IceEvent::GatheringStateChange(IceGatheringState::Complete)
    });
    assert!(complete, "gathering did not complete");
    // On loopback the mapped address equals the host address (so no new candidate), but
    // the answer was matched to our request and ended gathering well before the 12 s a
    // silent server takes.
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(agent.stats().gather_requests_sent, 1);
    assert_eq!(agent.stats().responses_received, 1);
    assert_eq!(agent.stats().retransmits, 0);
}

#[test]
fn coturn_rejects_wrong_credentials_with_an_error_event_within_two_seconds() {
    if !inside_namespace("coturn_rejects_wrong_credentials_with_an_error_event_within_two_seconds")
    {
        return;
    }
    let coturn = Coturn::start(3480);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let a = rtcpeer_tokio::new_peer_connection(
            turn_config(5, coturn.addr, "not-the-password"),
            &SocketConfig::loopback(),
        )
        .expect("a");
        let mut events = a.events();
        let t0 = Instant::now();
        a.create_data_channel("x", Default::default())
            .await
            .expect("dc");
        let offer = a.create_offer().await.expect("offer");
        a.set_local_description(offer).await.expect("sld");
        let (code, text) = within(2, "an icecandidateerror", async {
            loop {
                match events.next().await {
                    Some(Event::IceCandidateError {
                        error_code,
                        error_text,
                        ..
                    }) => {
                        return (error_code, error_text);
                    }
                    Some(_) => {}
                    None => panic!("ended"),
                }
            }
        })
        .await;
        assert!(t0.elapsed() <= Duration::from_secs(2));
        assert_eq!(code, 401, "{text}");
        let state = a
            .with_core(|pc| Ok(pc.ice_connection_state()))
            .expect("state");
        assert_eq!(state, rtcpeer::ice::IceConnectionState::Failed);
        a.close().await;
    });
}

/// A UDP proxy in front of coturn that swallows its ChannelBind success responses for a
/// while (the client cannot tell whether its binding exists) and counts ChannelBind
/// error responses and ChannelData from clients.
struct ChannelBindDropper {
    addr: SocketAddr,
    stats: std::sync::Arc<DropperStats>,
}

#[derive(Default)]
struct DropperStats {
    bind_success_dropped: std::sync::atomic::AtomicU64,
    bind_errors: std::sync::atomic::AtomicU64,
    channel_data_from_clients: std::sync::atomic::AtomicU64,
    stop: std::sync::atomic::AtomicBool,
}

impl ChannelBindDropper {
    fn start(upstream: SocketAddr, drop_for: Duration) -> ChannelBindDropper {
        use std::sync::atomic::Ordering::Relaxed;
        let front = UdpSocket::bind("127.0.0.1:0").expect("bind proxy");
        front
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let addr = front.local_addr().expect("addr");
        let stats = std::sync::Arc::new(DropperStats::default());
        let front = std::sync::Arc::new(front);
        let until = Instant::now() + drop_for;
        let s = stats.clone();
        std::thread::spawn(move || {
            let mut clients: Vec<(SocketAddr, std::sync::Arc<UdpSocket>)> = Vec::new();
            let mut buf = [0u8; 2048];
            while !s.stop.load(Relaxed) {
                let Ok((n, from)) = front.recv_from(&mut buf) else {
                    continue;
                };
                if (0x40..=0x4F).contains(&buf[0]) {
                    s.channel_data_from_clients.fetch_add(1, Relaxed);
                }
                let up = match clients.iter().find(|(c, _)| *c == from) {
                    Some((_, up)) => up.clone(),
                    None => {
                        let up = std::sync::Arc::new(UdpSocket::bind("127.0.0.1:0").expect("bind"));
                        up.set_read_timeout(Some(Duration::from_millis(20)))
                            .expect("timeout");
                        clients.push((from, up.clone()));
                        let (up2, front2, s2) = (up.clone(), front.clone(), s.clone());
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 2048];
                            while !s2.stop.load(Relaxed) {
                                let Ok(n) = up2.recv(&mut buf) else { continue };
                                match buf[..2] {
                                    [0x01, 0x09] if Instant::now() < until => {
                                        s2.bind_success_dropped.fetch_add(1, Relaxed);
                                        continue;
                                    }
                                    [0x01, 0x19] => {
                                        s2.bind_errors.fetch_add(1, Relaxed);
                                    }
                                    _ => {}
                                }
                                let _ = front2.send_to(&buf[..n], from);
                            }
                        });
                        up
                    }
                };
                let _ = up.send_to(&buf[..n], upstream);
            }
        });
        ChannelBindDropper { addr, stats }
    }
}

impl Drop for ChannelBindDropper {
    fn drop(&mut self) {
        self.stats
            .stop
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn coturn_channel_bind_responses_lost_for_a_while_never_cause_a_400() {
    if !inside_namespace("coturn_channel_bind_responses_lost_for_a_while_never_cause_a_400") {
        return;
    }
    use std::sync::atomic::Ordering::Relaxed;
    let coturn = Coturn::start(3481);
    let proxy = ChannelBindDropper::start(coturn.addr, Duration::from_secs(4));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let RelayedPair { a, b, ca, cb, .. } = connect_relayed_pair(proxy.addr, (7, 8), "c").await;
        // While the bindings are unconfirmed, Send/Data indications carry the data.
        ca.send_text("while ambiguous").await.expect("send");
        let got = within(5, "b receives", cb.recv()).await.expect("message");
        assert_eq!(got, Message::Text("while ambiguous".into()));
        assert!(
            proxy.stats.bind_success_dropped.load(Relaxed) > 0,
            "no ChannelBind dropped"
        );
        // After the loss ends, a retransmission with the same number is confirmed and
        // ChannelData flows.
        tokio::time::sleep(Duration::from_secs(8)).await;
        for i in 0..5 {
            ca.send_text(&format!("bound {i}")).await.expect("send");
            let got = within(5, "b receives", cb.recv()).await.expect("message");
            assert_eq!(got, Message::Text(format!("bound {i}")));
        }
        assert_eq!(
            proxy.stats.bind_errors.load(Relaxed),
            0,
            "a ChannelBind was refused"
        );
        assert!(
            proxy.stats.channel_data_from_clients.load(Relaxed) > 0,
            "no ChannelData after the bindings were confirmed"
        );
        a.close().await;
        b.close().await;
    });
}

/// A running `echo` server; killed when dropped.
struct Echo {
    child: Child,
    /// host:port of its HTTP signalling.
    http: SocketAddr,
}

impl Echo {
    fn start(args: &[String]) -> Echo {
        let mut child = Command::new(example_bin::example_binary("echo"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start echo");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("echo's first line");
        let http = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no URL in echo's first line {line:?}"));
        Echo { child, http }
    }

    /// `POST /offer` (plain HTTP/1.1 on loopback): the answer's SDP.
    fn post_offer(&self, sdp: &str) -> String {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(self.http).expect("connect to echo");
        tcp.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        write!(
            tcp,
            "POST /offer HTTP/1.1\r\nHost: {}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sdp}",
            self.http,
            sdp.len()
        )
        .expect("send the offer");
        let mut response = String::new();
        tcp.read_to_string(&mut response).expect("echo's answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 201"), "{head}\n{body}");
        body.to_owned()
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `echo --relay-only` on `runtime` whose only ICE server is `url` (a TCP or TLS TURN
/// URL) is reached by a relay-only rtcpeer client (TURN over UDP on the same coturn): the
/// answer carries relayed candidates only, which can only come over `url`, and messages
/// come back through both relays.
async fn echo_reached_through_a_stream_relay(
    coturn: SocketAddr,
    runtime: &str,
    url: &str,
    roots: &[String],
) {
    let mut args: Vec<String> = ["--runtime", runtime, "--relay-only", "--ice-server", url]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--turn-user", USER, "--turn-pass", PASSWORD].map(String::from));
    let dir = std::env::temp_dir().join(format!("rtcpeer-echo-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("roots dir");
    for (i, pem) in roots.iter().enumerate() {
        let path = dir.join(format!("root{i}.pem"));
        std::fs::write(&path, pem).expect("root file");
        args.extend(["--turn-tls-root".to_string(), path.display().to_string()]);
    }
    let echo = Echo::start(&args);
    let client = rtcpeer_tokio::new_peer_connection(
        turn_config(31, coturn, PASSWORD),
        &SocketConfig::loopback(),
    )
    .expect("client");
    let channel = client
        .create_data_channel("echo", Default::default())
        .await
        .expect("dc");
    let offer = client.create_offer().await.expect("offer");
    client.set_local_description(offer).await.expect("sld");
    let offer = within(5, "client gathers", client.wait_gathering_complete())
        .await
        .expect("offer");
    let answer = echo.post_offer(&offer.sdp);
    assert!(
        answer.contains("typ relay"),
        "{runtime} {url}: no relayed candidate in echo's answer:\n{answer}"
    );
    assert!(
        !answer.contains("typ host"),
        "{runtime} {url}: relay-only echo announced host candidates:\n{answer}"
    );
    client
        .set_remote_description(rtcpeer::peer_connection::RtcSessionDescription::answer(
            &answer,
        ))
        .await
        .expect("srd");
    within(10, "client connects", client.wait_connected())
        .await
        .expect("connected");
    within(10, "channel opens", channel.wait_open())
        .await
        .expect("open");
    for i in 0..5 {
        let text = format!("{runtime} over {url} #{i}");
        channel.send_text(&text).await.expect("send");
        let got = within(5, "the echo", channel.recv()).await.expect("echo");
        assert_eq!(got, Message::Text(text));
    }
    // The data path (the selected pair, or the first valid one before nomination).
    let remote = client
        .with_core(|pc| Ok(pc.data_path()))
        .expect("path")
        .expect("a data path")
        .remote;
    assert!(
        remote.ip() == coturn.ip() && (50000..=50100).contains(&remote.port()),
        "{runtime} {url}: echo's end of the pair is not a coturn relay: {remote}"
    );
    client.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `echo` on `runtime` with a TCP and then a TLS TURN server.
fn echo_through_tcp_and_tls_turn(test: &str, runtime: &str, port: u16, tls_port: u16) {
    if !inside_namespace(test) {
        return;
    }
    let pki = TestPki::new(runtime);
    let coturn = Coturn::start_with(port, Some((tls_port, &pki)));
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    rt.block_on(async {
        let tcp = format!("turn:{}?transport=tcp", coturn.addr);
        echo_reached_through_a_stream_relay(coturn.addr, runtime, &tcp, &[]).await;
        let tls = format!("turns:127.0.0.1:{tls_port}");
        echo_reached_through_a_stream_relay(coturn.addr, runtime, &tls, &[pki.ca_pem()]).await;
    });
}

#[test]
fn tokio_echo_relays_through_coturn_over_tcp_and_tls() {
    echo_through_tcp_and_tls_turn(
        "tokio_echo_relays_through_coturn_over_tcp_and_tls",
        "tokio",
        3492,
        5356,
    );
}

#[test]
fn smol_echo_relays_through_coturn_over_tcp_and_tls() {
    echo_through_tcp_and_tls_turn(
        "smol_echo_relays_through_coturn_over_tcp_and_tls",
        "smol",
        3494,
        5358,
    );
}

#[test]
fn mio_echo_relays_through_coturn_over_tcp_and_tls() {
    echo_through_tcp_and_tls_turn(
        "mio_echo_relays_through_coturn_over_tcp_and_tls",
        "mio",
        3496,
        5360,
    );
}

/// Waits until `pc` re-allocated through a reconnected TURN stream (at least one
/// reconnection and two allocations).
async fn reallocated(pc: &rtcpeer_tokio::PeerConnection) {
    within(20, "reconnect and re-allocate", async {
        loop {
            let ice = pc
                .with_core(|pc| Ok(pc.ice_agent().stats().clone()))
                .expect("stats");
            if ice.relay_reconnects >= 1 && ice.relay_allocations >= 2 {
                return;
            }
            smol::Timer::after(Duration::from_millis(50)).await;
        }
    })
    .await;
}

/// An ICE restart from `a`, non-trickle.
async fn restart_ice(a: &rtcpeer_tokio::PeerConnection, b: &rtcpeer_tokio::PeerConnection) {
    a.restart_ice().expect("restart");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("sld");
    let offer = within(10, "a gathers", a.wait_gathering_complete())
        .await
        .expect("offer");
    b.set_remote_description(offer).await.expect("srd");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("sld");
    let answer = within(10, "b gathers", b.wait_gathering_complete())
        .await
        .expect("answer");
    a.set_remote_description(answer).await.expect("srd");
}

#[test]
fn a_restarted_coturn_is_reconnected_over_tcp_and_the_call_resumes() {
    if !inside_namespace("a_restarted_coturn_is_reconnected_over_tcp_and_the_call_resumes") {
        return;
    }
    let coturn = Coturn::start(3498);
    let url = format!("turn:{}?transport=tcp", coturn.addr);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let pair = rt.block_on(async {
        let make = |seed| {
            rtcpeer_tokio::new_peer_connection(
                url_config(seed, url.clone(), PASSWORD, Vec::new()),
                &SocketConfig::loopback(),
            )
            .expect("peer")
        };
        let pair = connect_pair(make(41), make(42), "restart").await;
        pair.ca.send_text("before").await.expect("send");
        let got = within(5, "b receives", pair.cb.recv()).await;
        assert_eq!(got, Some(Message::Text("before".into())));
        pair
    });
    // coturn dies (its TCP connections reset) and comes back on the same port.
    drop(coturn);
    let coturn = Coturn::start(3498);
    rt.block_on(async {
        let RelayedPair { a, b, ca, cb, .. } = pair;
        reallocated(&a).await;
        reallocated(&b).await;
        restart_ice(&a, &b).await;
        for text in ["after", "and after"] {
            ca.send_text(text).await.expect("send");
            let got = within(10, "b receives after the restart", cb.recv()).await;
            assert_eq!(got, Some(Message::Text(text.into())));
        }
        cb.send_text("back").await.expect("send");
        let got = within(10, "a receives after the restart", ca.recv()).await;
        assert_eq!(got, Some(Message::Text("back".into())));
        let path = a
            .with_core(|pc| Ok(pc.data_path()))
            .expect("path")
            .expect("a path");
        assert_eq!(path.local.ip(), coturn.addr.ip());
        assert!((50000..=50100).contains(&path.local.port()), "{path:?}");
        let ice = a
            .with_core(|pc| Ok(pc.ice_agent().stats().clone()))
            .expect("stats");
        assert!(ice.relay_reconnects >= 1, "{ice:?}");
        a.close().await;
        b.close().await;
    });
}
