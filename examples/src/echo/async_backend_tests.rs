//! The async echo backend against an rtcpeer client over loopback UDP, on tokio and on smol:
//! echoes, figures, the session limit, the server-offers flow and freeing on close; and
//! every backend, the mio loop's too, serving all its sessions on one UDP port.

use super::async_backend::{AsyncEchoBackend, timeout};
use super::backend::{BackendError, SessionBackend, SessionId, SessionStats};
use super::config::EchoConfig;
use super::mio_backend::MioEchoBackend;
use rtcpeer::runtime::api::{
    DataChannel, Event, Message, PeerConnection, RtcConfiguration, RtcSessionDescription, Runtime,
    SdpType, SocketConfig,
};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Longest any one scenario may take on a loaded machine.
const SCENARIO_LIMIT: Duration = Duration::from_secs(30);

fn client(runtime: &Arc<dyn Runtime>) -> PeerConnection {
    let sockets = SocketConfig::with_addresses([LOCALHOST]);
    PeerConnection::new(runtime.clone(), RtcConfiguration::default(), &sockets)
        .expect("client peer connection on 127.0.0.1")
}

fn answer(sdp: String) -> RtcSessionDescription {
    RtcSessionDescription {
        sdp_type: SdpType::Answer,
        sdp,
    }
}

async fn sleep(runtime: &Arc<dyn Runtime>, duration: Duration) {
    timeout(&**runtime, duration, std::future::pending::<()>()).await;
}

/// Runs `scenario` on `runtime`, failing the test if it does not finish in time.
async fn bounded(runtime: &Arc<dyn Runtime>, scenario: impl Future<Output = ()>) {
    let finished = timeout(&**runtime, SCENARIO_LIMIT, scenario).await;
    assert!(
        finished.is_some(),
        "scenario did not finish in {SCENARIO_LIMIT:?}"
    );
}

/// The client offers a channel, the backend answers; returns the open channel.
async fn connect_as_offerer(
    runtime: &Arc<dyn Runtime>,
    backend: &dyn SessionBackend,
) -> (PeerConnection, DataChannel, SessionId) {
    let pc = client(runtime);
    let chat = pc
        .create_data_channel("chat", Default::default())
        .await
        .expect("create channel");
    let offer = pc.create_offer().await.expect("create offer");
    pc.set_local_description(offer).await.expect("set offer");
    let offer = pc.wait_gathering_complete().await.expect("gathered offer");
    let created = backend
        .answer_offer(offer.sdp, LOCALHOST)
        .await
        .expect("answered");
    pc.set_remote_description(answer(created.sdp))
        .await
        .expect("set answer");
    chat.wait_open().await.expect("channel opens");
    (pc, chat, created.id)
}

async fn assert_echoes(chat: &DataChannel) {
    chat.send_text("hello echo").await.expect("send text");
    assert_eq!(chat.recv().await, Some(Message::Text("hello echo".into())));
    chat.send_binary(vec![0, 1, 2, 255])
        .await
        .expect("send binary");
    assert_eq!(
        chat.recv().await,
        Some(Message::Binary(vec![0, 1, 2, 255].into()))
    );
}

async fn stats_when(
    runtime: &Arc<dyn Runtime>,
    backend: &AsyncEchoBackend,
    id: SessionId,
    done: impl Fn(&SessionStats) -> bool,
) -> SessionStats {
    loop {
        let stats = backend.stats(id).expect("live session");
        if done(&stats) {
            return stats;
        }
        sleep(runtime, Duration::from_millis(10)).await;
    }
}

async fn wait_until_freed(runtime: &Arc<dyn Runtime>, backend: &AsyncEchoBackend) {
    while backend.session_count() > 0 {
        sleep(runtime, Duration::from_millis(10)).await;
    }
}

async fn echoes_counts_and_frees(runtime: Arc<dyn Runtime>) {
    let backend =
        AsyncEchoBackend::new(runtime.clone(), LOCALHOST, EchoConfig::with_max_sessions(4));
    let (_pc, chat, id) = connect_as_offerer(&runtime, &backend).await;
    assert_echoes(&chat).await;
    // The server counts an echo once its send returns, which can be after the client has
    // the echo in hand: wait (bounded by the test's timeout) for the count to catch up.
    let stats = stats_when(&runtime, &backend, id, |s| s.messages_sent == 2).await;
    assert_eq!(stats.state, "connected");
    assert!(stats.selected_pair.is_some(), "{stats:?}");
    assert_eq!((stats.messages_received, stats.messages_sent), (2, 2));
    assert_eq!((stats.bytes_received, stats.bytes_sent), (14, 14));
    assert_eq!(stats.channels, 1);
    assert!(backend.close(id));
    wait_until_freed(&runtime, &backend).await;
    assert!(backend.stats(id).is_none());
    assert!(!backend.close(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_backend_echoes_text_and_binary_counts_them_and_frees_the_session() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    bounded(&runtime, echoes_counts_and_frees(runtime.clone())).await;
}

#[test]
fn smol_backend_echoes_text_and_binary_counts_them_and_frees_the_session() {
    let runtime = rtcpeer_smol::SmolRuntime::current().into_dyn();
    smol::block_on(bounded(&runtime, echoes_counts_and_frees(runtime.clone())));
}

async fn server_offers(runtime: Arc<dyn Runtime>) {
    let backend =
        AsyncEchoBackend::new(runtime.clone(), LOCALHOST, EchoConfig::with_max_sessions(4));
    let created = backend.create_offer(LOCALHOST).await.expect("server offer");
    let pc = client(&runtime);
    let mut events = pc.events();
    pc.set_remote_description(RtcSessionDescription::offer(created.sdp))
        .await
        .expect("set server offer");
    let local = pc.create_answer().await.expect("create answer");
    pc.set_local_description(local).await.expect("set answer");
    let local = pc.wait_gathering_complete().await.expect("gathered answer");
    backend
        .accept_answer(created.id, local.sdp.clone())
        .await
        .expect("answer accepted");
    let again = backend.accept_answer(created.id, local.sdp).await;
    assert!(matches!(again, Err(BackendError::WrongState(id)) if id == created.id));
    let channel = loop {
        match events
            .next()
            .await
            .expect("client events until the channel")
        {
            Event::DataChannel(id) => break pc.data_channel(id),
            _ => continue,
        }
    };
    channel.wait_open().await.expect("server channel opens");
    assert_eq!(channel.label().as_deref(), Some("echo"));
    assert_echoes(&channel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_offered_session_takes_one_answer_and_echoes_on_its_channel() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    bounded(&runtime, server_offers(runtime.clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_refuses_sessions_beyond_its_limit() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    let backend =
        AsyncEchoBackend::new(runtime.clone(), LOCALHOST, EchoConfig::with_max_sessions(1));
    let first = backend.create_offer(LOCALHOST).await.expect("room for one");
    let refused = backend.create_offer(LOCALHOST).await;
    assert!(matches!(refused, Err(BackendError::Busy(1))), "{refused:?}");
    assert_eq!(backend.session_count(), 1);
    assert!(backend.close(first.id));
    bounded(&runtime, wait_until_freed(&runtime, &backend)).await;
    backend
        .create_offer(LOCALHOST)
        .await
        .expect("room again after close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_offer_is_refused_as_bad_sdp_and_leaves_no_session() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    let backend = AsyncEchoBackend::new(runtime, LOCALHOST, EchoConfig::with_max_sessions(4));
    let refused = backend
        .answer_offer("v=0\r\nnot an offer\r\n".into(), LOCALHOST)
        .await;
    assert!(
        matches!(refused, Err(BackendError::BadSdp(_))),
        "{refused:?}"
    );
    assert_eq!(backend.session_count(), 0);
}

/// The ports of the `a=candidate` lines of `sdp`.
fn candidate_ports(sdp: &str) -> Vec<u16> {
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate"))
        .filter_map(|l| l.split(' ').nth(5)?.parse().ok())
        .collect()
}

/// Every session is served on the backend's one UDP port (`udp_addrs` reads the
/// backend's bound addresses), the one its configuration names, and each echoes.
async fn sessions_share_one_port(
    runtime: Arc<dyn Runtime>,
    backend: &dyn SessionBackend,
    backend_port: u16,
    udp_addrs: impl Fn() -> Vec<SocketAddr>,
) {
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(connect_as_offerer(&runtime, backend).await);
    }
    let udp = udp_addrs();
    assert_eq!(udp.len(), 1, "one socket: {udp:?}");
    assert_eq!(udp[0].port(), backend_port, "the configured --udp-port");
    for (pc, chat, _) in &sessions {
        let remote = pc.remote_description().expect("the server's answer");
        let ports = candidate_ports(&remote.sdp);
        assert!(!ports.is_empty());
        assert!(
            ports.iter().all(|p| *p == udp[0].port()),
            "{ports:?} not all {}",
            udp[0].port()
        );
        assert_echoes(chat).await;
    }
    assert_eq!(backend.session_count(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_backend_serves_every_session_on_one_udp_port() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    let (config, port) = one_port_config();
    let backend = AsyncEchoBackend::new(runtime.clone(), LOCALHOST, config);
    let scenario = sessions_share_one_port(runtime.clone(), &backend, port, || backend.udp_addrs());
    bounded(&runtime, scenario).await;
}

#[test]
fn smol_backend_serves_every_session_on_one_udp_port() {
    let runtime = rtcpeer_smol::SmolRuntime::current().into_dyn();
    let (config, port) = one_port_config();
    let backend = AsyncEchoBackend::new(runtime.clone(), LOCALHOST, config);
    let scenario = sessions_share_one_port(runtime.clone(), &backend, port, || backend.udp_addrs());
    smol::block_on(bounded(&runtime, scenario));
}

/// The mio loop's sessions share its one socket too; the clients run on tokio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mio_backend_serves_every_session_on_one_udp_port() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    let (config, port) = one_port_config();
    let backend = MioEchoBackend::start(LOCALHOST, config).expect("mio loop");
    let scenario = sessions_share_one_port(runtime.clone(), &backend, port, || backend.udp_addrs());
    bounded(&runtime, scenario).await;
}

/// A configuration with a chosen UDP port (one the OS just gave out, so free), and that
/// port.
fn one_port_config() -> (EchoConfig, u16) {
    let probe = std::net::UdpSocket::bind((LOCALHOST, 0)).expect("probe socket");
    let port = probe.local_addr().expect("probe address").port();
    drop(probe);
    let mut config = EchoConfig::with_max_sessions(8);
    config.udp_port = port;
    (config, port)
}
