//! Scenarios only the async adapters run (tokio, smol): they use `AsyncPeerConnection`
//! features beyond the shared [`Peer`](super::peer::Peer) trait (stats, dropping handles,
//! trickled candidates through the event stream), on the shared [`connect`] and streams.

use super::peer::AsyncAdapter;
use super::scenario::{Connected, connect, recv_stream, send_stream, transfer_both_ways, within};
use super::sleep;
use futures_lite::future::zip;
use rtcpeer::peer_connection::{Event, RtcConfiguration};
use rtcpeer::runtime::{AsyncPeerConnection, DataChannel, Message, Runtime, SocketConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Sprays `count` random datagrams (random lengths 1..=1500, every first-byte range of
/// RFC 7983 covered) from a fresh loopback socket at `targets`, from a plain thread.
pub fn spray_garbage(targets: Vec<SocketAddr>, count: usize) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let mut rng = rtcpeer::Rng::from_u64(0x06a7_ba9e);
        let mut sent = 0;
        for i in 0..count {
            let len = 1 + rng.below(1500) as usize;
            let mut datagram = vec![0u8; len];
            rng.fill(&mut datagram);
            let target = targets[i % targets.len()];
            if socket.send_to(&datagram, target).is_ok() {
                sent += 1;
            }
            if i % 100 == 99 {
                // Paced, so that the spray lasts as long as the transfer.
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        sent
    })
}

/// Connects, then runs the two-way transfer while 10,000 garbage datagrams hit both
/// peers' sockets; the transfer must complete intact and the connection stay up.
pub async fn transfer_survives_garbage(rt: Arc<dyn Runtime>) {
    let adapter = AsyncAdapter(rt);
    let c = within(&adapter, 60, "connect", connect(&adapter)).await;
    let targets = vec![c.socket_of_b(), c.a.local_addrs()[0]];
    let sprayer = spray_garbage(targets, 10_000);
    transfer_both_ways(&adapter, &c).await;
    assert_eq!(sprayer.join().expect("sprayer thread"), 10_000);
    let stats = c.b.stats();
    assert!(
        stats.datagrams_received > 5_000,
        "garbage reached b: {stats:?}"
    );
    assert!(stats.dropped_unknown + stats.dropped_media > 0, "{stats:?}");
    assert_eq!(
        c.a.connection_state(),
        rtcpeer::peer_connection::PeerConnectionState::Connected
    );
    c.a.close().await;
    c.b.close().await;
}

/// Dropping every handle of one peer closes it: the other peer's channels end.
pub async fn dropping_every_handle_closes_the_connection(rt: Arc<dyn Runtime>) {
    let adapter = AsyncAdapter(rt);
    let Connected {
        a,
        b,
        a_to_b,
        b_to_a,
    } = within(&adapter, 60, "connect", connect(&adapter)).await;
    drop((a, a_to_b.0, b_to_a.1));
    within(&adapter, 20, "b's channel from a ends", async {
        while a_to_b.1.recv().await.is_some() {}
    })
    .await;
    assert!(
        b_to_a.0.send_text("late").await.is_err(),
        "send on a closed channel fails"
    );
    b.close().await;
}

/// A reader that does not read for a while closes the SCTP receive window (its unread
/// bytes count against it), which stalls the sender; reading again reopens it and every
/// byte arrives.
pub async fn slow_reader_pauses_and_resumes(rt: Arc<dyn Runtime>) {
    const TOTAL: usize = 12 * 1024 * 1024;
    let adapter = AsyncAdapter(rt.clone());
    let c = within(&adapter, 60, "connect", connect(&adapter)).await;
    let late_reader = async {
        sleep(&*rt, Duration::from_millis(700)).await;
        recv_stream(&c.a_to_b.1, TOTAL, 60_000).await
    };
    let sender = send_stream(&c.a_to_b.0, TOTAL, 60_000);
    let (_, got) = within(&adapter, 120, "slow reader", zip(sender, late_reader)).await;
    assert_eq!(got, TOTAL);
    c.a.close().await;
    c.b.close().await;
}

/// Forwards `from`'s trickled candidates to `to` (once `to` has a remote description)
/// and reports `from`'s remote data channels on `channels`, until `from` ends.
async fn forward_candidates(
    rt: Arc<dyn Runtime>,
    from: AsyncPeerConnection,
    to: AsyncPeerConnection,
    channels: std::sync::mpsc::Sender<DataChannel>,
    counter: Arc<std::sync::atomic::AtomicUsize>,
) {
    let mut events = from.events();
    while let Some(event) = events.next().await {
        match event {
            Event::IceCandidate(candidate) => {
                while to.remote_description().is_none() {
                    sleep(&*rt, Duration::from_millis(1)).await;
                }
                if to.add_ice_candidate(candidate).await.is_err() {
                    return; // `to` closed
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            Event::DataChannel(id) => {
                let _ = channels.send(from.data_channel(id));
            }
            Event::ConnectionStateChange(rtcpeer::peer_connection::PeerConnectionState::Closed) => {
                break;
            }
            _ => {}
        }
    }
}

/// `desc` with every `a=candidate` line removed, so candidates can only travel by trickle.
fn without_candidates(
    mut desc: rtcpeer::peer_connection::RtcSessionDescription,
) -> rtcpeer::peer_connection::RtcSessionDescription {
    desc.sdp = desc
        .sdp
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("a=candidate") && !line.starts_with("a=end-of-candidates"))
        .collect();
    desc
}

/// Trickle ICE: descriptions are exchanged before gathering finishes and candidates
/// travel through the event streams; the peers connect and a message gets through.
pub async fn trickled_candidates_connect(rt: Arc<dyn Runtime>) {
    let new = || {
        AsyncPeerConnection::new(
            rt.clone(),
            RtcConfiguration::default(),
            &SocketConfig::loopback(),
        )
        .expect("peer connection on 127.0.0.1")
    };
    let (a, b) = (new(), new());
    let adapter = AsyncAdapter(rt.clone());
    let (chan_tx, chan_rx) = std::sync::mpsc::channel();
    let forwarded = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    rt.spawn(Box::pin(forward_candidates(
        rt.clone(),
        a.clone(),
        b.clone(),
        chan_tx.clone(),
        forwarded.clone(),
    )));
    rt.spawn(Box::pin(forward_candidates(
        rt.clone(),
        b.clone(),
        a.clone(),
        chan_tx,
        forwarded.clone(),
    )));
    let from_a = a
        .create_data_channel("trickle", Default::default())
        .await
        .expect("channel");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer.clone())
        .await
        .expect("local offer");
    b.set_remote_description(offer).await.expect("remote offer");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer.clone())
        .await
        .expect("local answer");
    a.set_remote_description(answer)
        .await
        .expect("remote answer");
    within(&adapter, 30, "a connected", a.wait_connected())
        .await
        .expect("connects");
    within(&adapter, 20, "open", from_a.wait_open())
        .await
        .expect("open");
    assert!(
        forwarded.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "candidates trickled"
    );
    from_a.send_text("over trickle").await.expect("send");
    let at_b = super::wait_for(&*rt, &chan_rx).await;
    let got = within(&adapter, 10, "message", at_b.recv()).await;
    assert_eq!(got, Some(Message::Text("over trickle".into())));
    a.close().await;
    b.close().await;
}

/// `b` echoes every message back on the same channel (`recv`, then `send` with
/// back-pressure) while `a` sends 32 MiB and reads the echoes concurrently. The echo
/// starts late, so `b` holds more than its unread limit while its echoes wait for `a`'s
/// acknowledgements; the transfer must still complete with every byte checked.
pub async fn echo_under_back_pressure_completes(rt: Arc<dyn Runtime>) {
    const TOTAL: usize = 32 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let adapter = AsyncAdapter(rt.clone());
    let c = within(&adapter, 60, "connect", connect(&adapter)).await;
    let echo = c.a_to_b.1.clone();
    let echo_rt = rt.clone();
    rt.spawn(Box::pin(async move {
        sleep(&*echo_rt, Duration::from_millis(700)).await;
        while let Some(message) = echo.recv().await {
            let Message::Binary(bytes) = message else {
                panic!("echo got a text message");
            };
            if echo.send_binary(bytes).await.is_err() {
                return;
            }
        }
    }));
    let sender = send_stream(&c.a_to_b.0, TOTAL, CHUNK);
    let echoes = recv_stream(&c.a_to_b.0, TOTAL, CHUNK);
    let (_, got) = within(&adapter, 120, "echoes of 32 MiB", zip(sender, echoes)).await;
    assert_eq!(got, TOTAL);
    c.a.close().await;
    c.b.close().await;
}
