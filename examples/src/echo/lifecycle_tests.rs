//! The session lifecycle on every backend (tokio, smol, mio) against an rtcpeer client over
//! loopback UDP: a client's close frees its session at once, abandoned offers are freed
//! after the unchecked timeout while another client connects, an ICE-lite server sends no
//! check to addresses an offer names, and connect/echo/close churn is refused nothing.

use super::backend::{BackendError, SessionBackend};
use super::config::EchoConfig;
use super::table::TableLimits;
use super::{async_backend::AsyncEchoBackend, mio_backend::MioEchoBackend};
use rtcpeer::runtime::api::{
    DataChannel, Message, PeerConnection, RtcConfiguration, RtcSessionDescription, Runtime,
    SdpType, SocketConfig,
};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Another client address (the sessions' UDP still runs on 127.0.0.1; the backend only
/// counts sessions per address).
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn runtime() -> Arc<dyn Runtime> {
    rtcpeer_tokio::TokioRuntime::current().into_dyn()
}

fn backends(config: EchoConfig) -> Vec<(&'static str, Arc<dyn SessionBackend>)> {
    vec![
        (
            "tokio",
            Arc::new(AsyncEchoBackend::tokio(LOCALHOST, config)),
        ),
        ("smol", Arc::new(AsyncEchoBackend::smol(LOCALHOST, config))),
        (
            "mio",
            Arc::new(MioEchoBackend::start(LOCALHOST, config).expect("mio loop")),
        ),
    ]
}

fn client() -> PeerConnection {
    let sockets = SocketConfig::with_addresses([LOCALHOST]);
    PeerConnection::new(runtime(), RtcConfiguration::default(), &sockets).expect("client")
}

/// A complete offer with one data channel from a fresh client (which is then dropped:
/// nobody will ever send a check for it).
async fn abandoned_offer() -> String {
    let pc = client();
    pc.create_data_channel("x", Default::default())
        .await
        .expect("channel");
    let offer = pc.create_offer().await.expect("offer");
    pc.set_local_description(offer).await.expect("sld");
    pc.wait_gathering_complete().await.expect("gathered").sdp
}

/// The client offers, `backend` answers for `from`; returns the client and its open channel.
async fn connect(
    backend: &dyn SessionBackend,
    from: IpAddr,
) -> Result<(PeerConnection, DataChannel), BackendError> {
    let pc = client();
    let chat = pc
        .create_data_channel("chat", Default::default())
        .await
        .expect("channel");
    let offer = pc.create_offer().await.expect("offer");
    pc.set_local_description(offer).await.expect("sld");
    let offer = pc.wait_gathering_complete().await.expect("gathered");
    let created = backend.answer_offer(offer.sdp, from).await?;
    let answer = RtcSessionDescription {
        sdp_type: SdpType::Answer,
        sdp: created.sdp,
    };
    pc.set_remote_description(answer).await.expect("answer");
    chat.wait_open().await.expect("channel opens");
    Ok((pc, chat))
}

async fn echo_once(chat: &DataChannel, text: &str) {
    chat.send_text(text).await.expect("send");
    assert_eq!(chat.recv().await, Some(Message::Text(text.into())));
}

/// Waits until `backend` has `count` sessions; returns how long that took.
async fn sessions_reach(backend: &dyn SessionBackend, count: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    while backend.session_count() != count {
        assert!(
            started.elapsed() < limit,
            "{} sessions after {limit:?}, want {count}",
            backend.session_count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_close_frees_its_session_at_once_on_every_backend() {
    for (name, backend) in backends(EchoConfig::default()) {
        let (pc, chat) = connect(&*backend, LOCALHOST).await.expect("connect");
        echo_once(&chat, name).await;
        assert_eq!(backend.session_count(), 1, "{name}");
        pc.close().await;
        // Was: kept until ICE consent ran out, about 30 s.
        let took = sessions_reach(&*backend, 0, Duration::from_secs(5)).await;
        assert!(
            took < Duration::from_secs(1),
            "{name}: freed after {took:?}"
        );
    }
}

async fn abandoned_offers_scenario(name: &str, backend: Arc<dyn SessionBackend>, count: usize) {
    let offer = abandoned_offer().await;
    let started = Instant::now();
    for i in 0..count {
        backend
            .answer_offer(offer.clone(), LOCALHOST)
            .await
            .unwrap_or_else(|e| panic!("{name}: abandoned offer {i}: {e}"));
    }
    let refused = backend.answer_offer(offer.clone(), LOCALHOST).await;
    assert!(
        matches!(refused, Err(BackendError::ClientBusy(..))),
        "{name}: {refused:?}"
    );
    // Meanwhile another client gets the remaining slot and is served.
    let (pc, chat) = connect(&*backend, OTHER_CLIENT)
        .await
        .expect("legit client");
    echo_once(&chat, "still served").await;
    // The abandoned sessions go once the unchecked timeout has passed for each.
    let limit = UNCHECKED + Duration::from_secs(5) + started.elapsed();
    sessions_reach(&*backend, 1, limit).await;
    echo_once(&chat, "and still connected").await;
    pc.close().await;
    sessions_reach(&*backend, 0, Duration::from_secs(2)).await;
}

const UNCHECKED: Duration = Duration::from_secs(1);

fn abandoned_config(count: usize) -> EchoConfig {
    EchoConfig {
        limits: TableLimits {
            total: count + 1,
            per_client: count,
        },
        unchecked_timeout: UNCHECKED,
        ..EchoConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_offers_are_freed_after_the_unchecked_timeout_while_another_client_connects() {
    const COUNT: usize = 256;
    for (name, backend) in backends(abandoned_config(COUNT)) {
        if name == "smol" {
            continue; // same code as tokio (AsyncEchoBackend); the churn is costly
        }
        abandoned_offers_scenario(name, backend, COUNT).await;
    }
}

/// An offer whose only candidates are 64 entries naming `target`.
fn offer_naming(offer: &str, target: std::net::SocketAddr) -> String {
    let mut out = String::new();
    for line in offer.split_inclusive("\r\n") {
        if line.starts_with("a=candidate:") {
            continue;
        }
        out.push_str(line);
        if line.starts_with("a=mid:") {
            for i in 0..64 {
                let priority = 2_130_706_431u32 - i;
                out.push_str(&format!(
                    "a=candidate:{i} 1 udp {priority} {} {} typ host\r\n",
                    target.ip(),
                    target.port()
                ));
            }
        }
    }
    out
}

async fn datagrams_at(target: &tokio::net::UdpSocket, window: Duration) -> usize {
    let mut buf = [0u8; 2048];
    let mut count = 0;
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Ok(_)) = tokio::time::timeout_at(deadline, target.recv_from(&mut buf)).await {
        count += 1;
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_lite_server_sends_nothing_to_addresses_an_offer_names() {
    let target = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let offer = offer_naming(&abandoned_offer().await, target.local_addr().expect("addr"));
    for (lite, expect_traffic) in [(true, false), (false, true)] {
        let config = EchoConfig {
            ice_lite: lite,
            ..EchoConfig::default()
        };
        let backend = AsyncEchoBackend::tokio(LOCALHOST, config);
        backend
            .answer_offer(offer.clone(), LOCALHOST)
            .await
            .expect("answered");
        let seen = datagrams_at(&target, Duration::from_millis(1500)).await;
        assert_eq!(
            seen > 0,
            expect_traffic,
            "ice_lite {lite}: {seen} datagrams"
        );
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Connect, echo 10 messages, close; `ECHO_CHURN_CYCLES` times (default 1,000) with the
/// default limits: none is refused, and memory does not grow with the cycles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_echo_close_churn_is_never_refused_and_memory_stays_flat() {
    let cycles: usize = std::env::var("ECHO_CHURN_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let backend = AsyncEchoBackend::tokio(LOCALHOST, EchoConfig::default());
    let mut refused = 0;
    let mut rss_after_warmup = 0;
    let started = Instant::now();
    for cycle in 0..cycles {
        match connect(&backend, LOCALHOST).await {
            Ok((pc, chat)) => {
                for i in 0..10 {
                    echo_once(&chat, &format!("{cycle}/{i}")).await;
                }
                pc.close().await;
            }
            Err(BackendError::Busy(_) | BackendError::ClientBusy(..)) => refused += 1,
            Err(e) => panic!("cycle {cycle}: {e}"),
        }
        if cycle + 1 == cycles / 10 {
            rss_after_warmup = rss_kib();
        }
    }
    sessions_reach(&backend, 0, Duration::from_secs(5)).await;
    let rss_end = rss_kib();
    eprintln!(
        "churn: {cycles} cycles in {:?}, {refused} refused, RSS {rss_after_warmup} KiB after \
         warm-up, {rss_end} KiB at the end",
        started.elapsed()
    );
    assert_eq!(refused, 0);
    // Flat: what the last 90 % of the cycles added stays below 16 MiB (a leak of one
    // session each would be far more: a session holds buffers and a socket).
    assert!(
        rss_end < rss_after_warmup + 16 * 1024,
        "RSS grew from {rss_after_warmup} KiB to {rss_end} KiB"
    );
}
