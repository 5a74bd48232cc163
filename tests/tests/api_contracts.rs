//! Contracts of the public API that issue 12 asked for: no two connections share keys
//! whichever documented way they were built, every wait ends, and the async data channel
//! behaves as the W3C `RTCDataChannel` (readyState, events, bufferedAmount, close after
//! queued data is delivered) on tokio and smol.

mod pc_common;

use rtcpeer::peer_connection::{
    ChannelId, ChannelState, PeerConnection, PeerConnectionError, RtcConfiguration,
};
use rtcpeer::runtime::{
    AsyncPeerConnection, ChannelEvent, Message, Runtime, RuntimeError, SocketConfig,
};
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

/// Two connected async peers on `rt`: `a` created channel `ca`, `b` accepted it as `cb`.
async fn connected_pair(
    rt: &Arc<dyn Runtime>,
) -> (
    AsyncPeerConnection,
    AsyncPeerConnection,
    rtcpeer::runtime::DataChannel,
    rtcpeer::runtime::DataChannel,
) {
    let new = || {
        AsyncPeerConnection::new(
            rt.clone(),
            RtcConfiguration::default(),
            &SocketConfig::loopback(),
        )
        .expect("pc on 127.0.0.1")
    };
    let (a, b) = (new(), new());
    let ca = a
        .create_data_channel("checklist", Default::default())
        .await
        .expect("channel");
    assert_eq!(ca.ready_state(), ChannelState::Connecting);
    let refused = ca.try_send("too early");
    assert!(
        matches!(refused, Err(Error::Runtime(RuntimeError::WouldBlock))),
        "{refused:?}"
    );
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("local offer");
    let offer = a.wait_gathering_complete().await.expect("gathered");
    b.set_remote_description(offer).await.expect("remote offer");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("local answer");
    let answer = b.wait_gathering_complete().await.expect("gathered");
    a.set_remote_description(answer)
        .await
        .expect("remote answer");
    let cb = b.accept_channel().await.expect("the peer's channel");
    ca.wait_open().await.expect("open at a");
    cb.wait_open().await.expect("open at b");
    (a, b, ca, cb)
}

/// Runs `f` with a 60 s limit on real time.
async fn bounded<T>(rt: &Arc<dyn Runtime>, what: &str, f: impl Future<Output = T>) -> T {
    let deadline = rt.now() + Duration::from_secs(60);
    let mut timer = rt.new_timer(deadline);
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) {
            return std::task::Poll::Ready(v);
        }
        if timer.as_mut().poll(cx).is_ready() {
            panic!("{what} did not end within 60 s");
        }
        std::task::Poll::Pending
    })
    .await
}

/// The W3C `RTCDataChannel` checklist on the async API.
async fn data_channel_checklist(rt: Arc<dyn Runtime>) {
    let (a, b, ca, cb) = bounded(&rt, "connect", connected_pair(&rt)).await;
    // readyState and the open event.
    assert_eq!(ca.ready_state(), ChannelState::Open);
    assert_eq!(ca.next_event().await, Some(ChannelEvent::Open));
    assert_eq!(cb.next_event().await, Some(ChannelEvent::Open));
    assert_eq!(cb.label().as_deref(), Some("checklist"));
    // bufferedAmount accounting and bufferedamountlow.
    assert_eq!(ca.buffered_amount(), 0);
    ca.set_buffered_amount_low_threshold(16 * 1024);
    assert_eq!(ca.buffered_amount_low_threshold(), 16 * 1024);
    let chunk = vec![7u8; 64 * 1024];
    let chunks = 32;
    for _ in 0..chunks {
        ca.send(chunk.clone()).expect("send queues");
    }
    assert!(
        ca.buffered_amount() > 16 * 1024,
        "queued bytes count: {}",
        ca.buffered_amount()
    );
    // The event fires at every fall below the threshold (also between the sends above, as
    // the driver sends concurrently); the last one comes once the queue has drained.
    bounded(&rt, "bufferedamountlow after the last send", async {
        loop {
            let event = ca.next_event().await;
            assert_eq!(event, Some(ChannelEvent::BufferedAmountLow));
            if ca.buffered_amount() <= 16 * 1024 {
                break;
            }
        }
    })
    .await;
    // The high water mark refuses try_send.
    ca.set_high_water_mark(0);
    for _ in 0..16 {
        ca.send(chunk.clone())
            .expect("send ignores the high water mark");
    }
    let refused = ca.try_send(chunk.clone());
    assert!(
        matches!(refused, Err(Error::Runtime(RuntimeError::WouldBlock))),
        "{refused:?}"
    );
    ca.set_high_water_mark(rtcpeer::runtime::SEND_HIGH_WATER);
    // close() after queued data: everything arrives, then both sides reach closed.
    for _ in 0..chunks {
        ca.send(chunk.clone()).expect("send queues");
    }
    ca.close().expect("close");
    assert_eq!(ca.ready_state(), ChannelState::Closing);
    assert!(ca.send("late").is_err(), "no send while closing");
    let expected = (chunks * 2 + 16) * chunk.len();
    let received = bounded(&rt, "receive all", async {
        let mut total = 0;
        while let Some(m) = cb.recv().await {
            total += m.len();
        }
        total
    })
    .await;
    assert_eq!(received, expected, "close() delivered what was queued");
    bounded(&rt, "closed", ca.wait_closed())
        .await
        .expect("closed");
    assert_eq!(ca.ready_state(), ChannelState::Closed);
    let mut a_events = Vec::new();
    while let Some(e) = ca.next_event().await {
        a_events.push(e);
    }
    assert_eq!(a_events.last(), Some(&ChannelEvent::Close), "{a_events:?}");
    // No wait on a made-up channel id.
    let ghost = a.data_channel(ChannelId(999));
    let result = ghost.wait_open().await;
    assert!(
        matches!(
            result,
            Err(Error::PeerConnection(PeerConnectionError::NoSuchChannel(_)))
        ),
        "{result:?}"
    );
    assert!(ghost.send_text("x").await.is_err());
    // The error event: a channel of a connection that ends reports close; a failed one
    // error then close. Closing the connection ends every channel.
    let other = a
        .create_data_channel("second", Default::default())
        .await
        .expect("channel");
    a.close().await;
    assert_eq!(other.ready_state(), ChannelState::Closed);
    let mut other_events = Vec::new();
    while let Some(e) = other.next_event().await {
        other_events.push(e);
    }
    assert_eq!(
        other_events.last(),
        Some(&ChannelEvent::Close),
        "{other_events:?}"
    );
    assert!(
        !other_events
            .iter()
            .any(|e| matches!(e, ChannelEvent::Error(_))),
        "closing the connection is no error: {other_events:?}"
    );
    assert!(other.send("after").is_err());
    b.close().await;
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

/// One task queues 16 MiB with `send`, then reads the echo of all of it.
async fn send_everything_then_read_the_echo(rt: Arc<dyn Runtime>) {
    let (_a, _b, ca, cb) = bounded(&rt, "connect", connected_pair(&rt)).await;
    rt.spawn(Box::pin(async move {
        while let Some(m) = cb.recv().await {
            if let Message::Binary(data) = m
                && cb.send_binary(data).await.is_err()
            {
                break;
            }
        }
    }));
    let total = 16 * 1024 * 1024;
    let chunk = vec![1u8; 64 * 1024];
    for _ in 0..total / chunk.len() {
        ca.send(chunk.clone()).expect("queued");
    }
    let echoed = bounded(&rt, "echo of 16 MiB", async {
        let mut got = 0;
        while got < total {
            got += ca.recv().await.expect("echo").len();
        }
        got
    })
    .await;
    assert_eq!(echoed, total);
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
    on_tokio(data_channel_checklist);
}

#[test]
fn smol_data_channel_follows_the_w3c_checklist() {
    on_smol(data_channel_checklist);
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
    on_tokio(send_everything_then_read_the_echo);
}

#[test]
fn smol_send_everything_then_read_the_echo_completes() {
    on_smol(send_everything_then_read_the_echo);
}
