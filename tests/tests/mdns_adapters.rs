//! mDNS resolution of a remote `.local` candidate through the adapters' own multicast
//! socket, on tokio, smol and mio (issue 13), over real loopback UDP.
//!
//! Each test runs itself again inside a fresh loopback-only network namespace
//! (`tests/interop/netns.sh`) and there turns multicast on for `lo` and routes
//! 224.0.0.0/4 to it, so the group traffic never leaves the namespace. A responder thread
//! joins 224.0.0.251 on port 5353 and answers A queries for its name with 127.0.0.1 the way
//! Chrome's responder does: by multicast to the group only, never unicast to the query's
//! source port. So the answer reaches a peer only through a socket bound to port 5353 that
//! joined the group, which the adapter must open on the peer's first query.
//!
//! Peer A's offer reaches B with its host candidates rewritten to the responder's name;
//! B's answer reaches A without candidates, so A can only answer B's checks: without
//! resolution there is no path. The connection must come up, a message cross, and B's
//! stats count the name resolved and no socket error.

mod adapters_common;

use adapters_common::executor;
use adapters_common::mio_peer::MioAdapter;
use adapters_common::peer::{Adapter, AsyncAdapter, Channel, Peer};
use adapters_common::scenario::within;
use bytes::Bytes;
use rtcpeer::mdns::{self, MDNS_IPV4, MDNS_PORT, RecordType};
use rtcpeer::peer_connection::RtcConfiguration;
use rtcpeer::peer_connection::{RtcSessionDescription, SdpType};
use rtcpeer::runtime::{
    AsyncPeerConnection, AsyncTimer, AsyncUdpSocket, BoxFuture, Message, Runtime, SocketConfig,
};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

const NETNS_ENV: &str = "RTCPEER_MDNS_NETNS";

/// Outside the namespace: runs this very test again inside a fresh loopback-only
/// namespace and asserts it passed there. Returns `true` when already inside (the caller
/// runs the body after the multicast setup).
fn inside_namespace(test: &str) -> bool {
    if std::env::var(NETNS_ENV).as_deref() == Ok("1") {
        setup_multicast_on_loopback();
        return true;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/netns.sh");
    let output = Command::new(script)
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(NETNS_ENV, "1")
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

/// Multicast on `lo` and the route for 224.0.0.0/4 through it, in the namespace only (the
/// namespace must have nothing but `lo`: group traffic must not reach a real network).
fn setup_multicast_on_loopback() {
    let links = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link show");
    let links = String::from_utf8_lossy(&links.stdout);
    let names: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(str::trim))
        .collect();
    assert_eq!(names, ["lo"], "not a loopback-only namespace: {links}");
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().expect("run ip");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("File exists"),
            "ip {args:?} failed (root in the namespace needed): {err}"
        );
    };
    ip(&["link", "set", "lo", "multicast", "on"]);
    ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);
}

/// How the responder answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answers {
    /// To the group only, as Chrome's responder does: reaches only group members.
    Multicast,
    /// Unicast to the query's source (RFC 6762 section 6.7), from a socket that holds port
    /// 5353 exclusively (no `SO_REUSEADDR`), so the adapter cannot open its own.
    UnicastExclusive,
}

/// An mDNS responder for one name: a socket on port 5353 joined to the group on `lo`,
/// answering A queries for the name with 127.0.0.1.
struct Responder {
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    fn start(name: &'static str, answers: Answers) -> Self {
        let socket = match answers {
            Answers::Multicast => rtcpeer_net::bind_mdns_socket(Ipv4Addr::LOCALHOST)
                .expect("responder joins 224.0.0.251 on lo"),
            Answers::UnicastExclusive => {
                let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, MDNS_PORT)).expect("5353");
                socket
                    .join_multicast_v4(&MDNS_IPV4, &Ipv4Addr::LOCALHOST)
                    .expect("responder joins 224.0.0.251 on lo");
                socket
            }
        };
        socket.set_nonblocking(false).expect("blocking");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let (queries, stop) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (q, s) = (queries.clone(), stop.clone());
        let thread = std::thread::spawn(move || serve(&socket, name, answers, &q, &s));
        Self {
            queries,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    socket: &UdpSocket,
    name: &str,
    answers: Answers,
    queries: &AtomicUsize,
    stop: &AtomicBool,
) {
    let group = SocketAddr::from((MDNS_IPV4, MDNS_PORT));
    let answer = mdns::encode_response(name, &[IpAddr::V4(Ipv4Addr::LOCALHOST)], 120)
        .expect("answer encodes");
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(msg) = mdns::parse(&buf[..len]) else {
            continue;
        };
        let asks = msg.questions.iter().any(|q| {
            q.qtype == RecordType::A && q.name.eq_ignore_ascii_case(name.trim_end_matches('.'))
        });
        if msg.is_response || !asks {
            continue;
        }
        queries.fetch_add(1, Ordering::SeqCst);
        // A peer's socket is not on port 5353: RFC 6762 section 6.7 has the answer unicast
        // back to it; the multicast responder, like Chrome's, sends it to the group.
        assert_ne!(
            from.port(),
            MDNS_PORT,
            "the core queries from its own socket"
        );
        let to = match answers {
            Answers::Multicast => group,
            Answers::UnicastExclusive => from,
        };
        socket.send_to(&answer, to).expect("send the answer");
    }
}

/// `sdp` with every candidate's address 127.0.0.1 replaced by `name`.
fn hide_behind(sdp: &str, name: &str) -> String {
    let out: Vec<String> = sdp
        .split("\r\n")
        .map(|l| {
            if l.starts_with("a=candidate:") {
                l.replace(" 127.0.0.1 ", &format!(" {name} "))
            } else {
                l.to_string()
            }
        })
        .collect();
    out.join("\r\n")
}

/// `sdp` without candidate lines and without end-of-candidates (as if B trickled its
/// candidates and they were all lost: A must not give up before B's checks arrive).
fn without_candidates(sdp: &str) -> String {
    let out: Vec<&str> = sdp
        .split("\r\n")
        .filter(|l| !l.starts_with("a=candidate:") && *l != "a=end-of-candidates")
        .collect();
    out.join("\r\n")
}

async fn resolve_through_multicast<A: Adapter>(adapter: &A, name: &'static str) {
    let b = adapter.new_peer();
    resolve_with(adapter, name, b, Answers::Multicast).await;
}

/// The scenario with `b` (the resolving side) given (a connection on an endpoint, say)
/// and the responder answering as `answers` says. With `UnicastExclusive` the adapter's
/// socket cannot be opened: counted once, and resolution goes on through the unicast
/// answer on the connection's own socket.
async fn resolve_with<A: Adapter>(adapter: &A, name: &'static str, b: A::Peer, answers: Answers) {
    let responder = Responder::start(name, answers);
    let a = adapter.new_peer();
    let from_a = a.create_data_channel("mdns").await.expect("channel");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("local offer");
    let offer = within(adapter, 20, "gathering at a", a.wait_gathering_complete())
        .await
        .expect("offer");
    let hidden = hide_behind(&offer.sdp, name);
    assert!(hidden.contains(&format!(" {name} ")), "{}", offer.sdp);
    assert!(!hidden.contains("127.0.0.1 "), "{hidden}");
    let hidden = RtcSessionDescription {
        sdp_type: SdpType::Offer,
        sdp: hidden,
    };
    b.set_remote_description(hidden)
        .await
        .expect("remote offer");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("local answer");
    let answer = within(adapter, 20, "gathering at b", b.wait_gathering_complete())
        .await
        .expect("answer");
    let answer = RtcSessionDescription {
        sdp_type: SdpType::Answer,
        sdp: without_candidates(&answer.sdp),
    };
    a.set_remote_description(answer)
        .await
        .expect("remote answer");
    within(
        adapter,
        20,
        "b connected through the resolved name",
        b.wait_connected(),
    )
    .await
    .expect("b connects");
    within(adapter, 20, "a connected", a.wait_connected())
        .await
        .expect("a connects");
    let at_b = within(adapter, 20, "channel at b", b.remote_channel("mdns"))
        .await
        .expect("channel reaches b");
    within(adapter, 20, "channel open", from_a.wait_open())
        .await
        .expect("open");
    from_a
        .send_binary(Bytes::from_static(b"over a resolved candidate"))
        .await
        .expect("send");
    let got = within(adapter, 20, "message at b", at_b.recv()).await;
    assert_eq!(
        got,
        Some(Message::Binary(Bytes::from_static(
            b"over a resolved candidate"
        )))
    );
    let stats = b.with_core(|pc| pc.stats()).await;
    assert_eq!(stats.mdns_resolved, 1, "{stats:?}");
    assert!(stats.mdns_queries_sent >= 1, "{stats:?}");
    let socket_errors = u64::from(answers == Answers::UnicastExclusive);
    assert_eq!(stats.mdns_socket_errors, socket_errors, "{stats:?}");
    assert_eq!(stats.mdns_failed, 0, "{stats:?}");
    assert!(responder.queries.load(Ordering::SeqCst) >= 1);
    // A never saw a `.local` candidate: its adapter queried nothing.
    let a_stats = a.with_core(|pc| pc.stats()).await;
    assert_eq!(a_stats.mdns_queries_sent, 0, "{a_stats:?}");
    a.close().await;
    b.close().await;
}

#[test]
fn tokio_resolves_a_local_candidate_through_its_multicast_socket() {
    if !inside_namespace("tokio_resolves_a_local_candidate_through_its_multicast_socket") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        // A (no `.local` candidate) and B (one) on runtimes that count mDNS sockets.
        let inner = rtcpeer_tokio::TokioRuntime::current().into_dyn();
        let (rt_a, rt_b) = (MdnsCounting::new(inner.clone()), MdnsCounting::new(inner));
        let b = AsyncPeerConnection::new(
            rt_b.clone(),
            RtcConfiguration::default(),
            &SocketConfig::loopback(),
        )
        .expect("peer on 127.0.0.1");
        let adapter = AsyncAdapter(rt_a.clone());
        resolve_with(&adapter, "rtcpeer-test-1.local", b, Answers::Multicast).await;
        assert_eq!(
            rt_a.mdns_sockets.load(Ordering::SeqCst),
            0,
            "a peer that sees no .local candidate opens no mDNS socket"
        );
        assert_eq!(
            rt_b.mdns_sockets.load(Ordering::SeqCst),
            1,
            "one mDNS socket for the connection, opened on its first query"
        );
    });
}

/// A runtime that counts the mDNS sockets it opens.
#[derive(Debug)]
struct MdnsCounting {
    inner: Arc<dyn Runtime>,
    mdns_sockets: AtomicUsize,
}

impl MdnsCounting {
    fn new(inner: Arc<dyn Runtime>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            mdns_sockets: AtomicUsize::new(0),
        })
    }
}

impl Runtime for MdnsCounting {
    fn now(&self) -> Instant {
        self.inner.now()
    }
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        self.inner.new_timer(deadline)
    }
    fn spawn(&self, future: BoxFuture<()>) {
        self.inner.spawn(future);
    }
    fn bind(&self, config: &SocketConfig) -> std::io::Result<Vec<Arc<dyn AsyncUdpSocket>>> {
        self.inner.bind(config)
    }
    fn bind_mdns(&self, interface: Ipv4Addr) -> std::io::Result<Arc<dyn AsyncUdpSocket>> {
        self.mdns_sockets.fetch_add(1, Ordering::SeqCst);
        self.inner.bind_mdns(interface)
    }
    fn resolve(&self, host: String, port: u16) -> BoxFuture<std::io::Result<Vec<SocketAddr>>> {
        self.inner.resolve(host, port)
    }
    fn seed(&self) -> [u8; 32] {
        self.inner.seed()
    }
    fn system_time(&self) -> std::time::SystemTime {
        self.inner.system_time()
    }
}

/// The server case: the resolving side is a connection on a tokio `AsyncEndpoint`, whose
/// driver opens one mDNS socket for all its connections.
#[test]
fn tokio_endpoint_resolves_a_local_candidate_through_its_multicast_socket() {
    if !inside_namespace("tokio_endpoint_resolves_a_local_candidate_through_its_multicast_socket") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
        let endpoint = rtcpeer::runtime::AsyncEndpoint::new(
            runtime.clone(),
            &rtcpeer::runtime::SocketConfig::loopback(),
        )
        .expect("endpoint on 127.0.0.1");
        let b = endpoint
            .new_peer_connection(rtcpeer::peer_connection::RtcConfiguration::default())
            .expect("connection on the endpoint");
        let adapter = AsyncAdapter(runtime);
        resolve_with(&adapter, "rtcpeer-test-4.local", b, Answers::Multicast).await;
        assert!(endpoint.stats().routed > 0);
    });
}

#[test]
fn smol_resolves_a_local_candidate_through_its_multicast_socket() {
    if !inside_namespace("smol_resolves_a_local_candidate_through_its_multicast_socket") {
        return;
    }
    let adapter = AsyncAdapter(rtcpeer_smol::SmolRuntime::current().into_dyn());
    smol::block_on(resolve_through_multicast(&adapter, "rtcpeer-test-2.local"));
}

#[test]
fn mio_resolves_a_local_candidate_through_its_multicast_socket() {
    if !inside_namespace("mio_resolves_a_local_candidate_through_its_multicast_socket") {
        return;
    }
    executor::block_on(resolve_through_multicast(
        &MioAdapter,
        "rtcpeer-test-3.local",
    ));
}

/// The adapter cannot open its mDNS socket (port 5353 held exclusively by the responder):
/// logged, counted once in `mdns_socket_errors`, not fatal; the unicast answer resolves.
#[test]
fn tokio_without_its_multicast_socket_still_takes_unicast_answers() {
    if !inside_namespace("tokio_without_its_multicast_socket_still_takes_unicast_answers") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let adapter = AsyncAdapter(rtcpeer_tokio::TokioRuntime::current().into_dyn());
        let b = adapter.new_peer();
        resolve_with(
            &adapter,
            "rtcpeer-test-5.local",
            b,
            Answers::UnicastExclusive,
        )
        .await;
    });
}

/// As above, on mio.
#[test]
fn mio_without_its_multicast_socket_still_takes_unicast_answers() {
    if !inside_namespace("mio_without_its_multicast_socket_still_takes_unicast_answers") {
        return;
    }
    executor::block_on(async {
        let b = MioAdapter.new_peer();
        resolve_with(
            &MioAdapter,
            "rtcpeer-test-6.local",
            b,
            Answers::UnicastExclusive,
        )
        .await;
    });
}
