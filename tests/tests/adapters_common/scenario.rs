//! The two-peer scenario shared by the async adapters: connect over loopback with
//! non-trickle signalling, open channels from both sides, transfer 8 MiB one way and
//! 1 MiB the other with content checks, close.

use super::sleep;
use rtcpeer::peer_connection::{Event, RtcConfiguration};
use rtcpeer::runtime::{
    AsyncPeerConnection, DataChannel, Message, Runtime, SEND_HIGH_WATER, SocketConfig,
};
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// Runs `fut`, panicking with `what` if it takes longer than `secs` seconds.
pub async fn within<T>(rt: &dyn Runtime, secs: u64, what: &str, fut: impl Future<Output = T>) -> T {
    let mut fut = pin!(fut);
    let mut timer = rt.new_timer(rt.now() + Duration::from_secs(secs));
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        if timer.as_mut().poll(cx).is_ready() {
            panic!("timed out after {secs} s: {what}");
        }
        Poll::Pending
    })
    .await
}

/// Message `index` of a test stream of `len` bytes: the index, then a derived pattern.
pub fn message(index: u32, len: usize) -> Vec<u8> {
    let mut out = index.to_be_bytes().to_vec();
    out.extend(
        (0..len.saturating_sub(4)).map(|i| (i as u32 ^ index.wrapping_mul(2_654_435_761)) as u8),
    );
    out
}

/// Two connected peers and a channel each opened, as seen from both sides.
pub struct Connected {
    pub a: AsyncPeerConnection,
    pub b: AsyncPeerConnection,
    /// Opened by `a`, and the same channel at `b`.
    pub a_to_b: (DataChannel, DataChannel),
    /// Opened by `b`, and the same channel at `a`.
    pub b_to_a: (DataChannel, DataChannel),
}

impl Connected {
    pub fn socket_of_b(&self) -> SocketAddr {
        self.b.local_addrs()[0]
    }
}

async fn remote_channel(rt: &dyn Runtime, pc: &AsyncPeerConnection, label: &str) -> DataChannel {
    let mut events = pc.events();
    within(rt, 20, "remote data channel", async {
        loop {
            match events.next().await {
                Some(Event::DataChannel(id)) => {
                    let channel = pc.data_channel(id);
                    if channel.label().as_deref() == Some(label) {
                        return channel;
                    }
                }
                Some(_) => {}
                None => panic!("connection ended before channel {label} arrived"),
            }
        }
    })
    .await
}

/// Connects two peers on loopback and opens one channel from each side.
pub async fn connect(runtime: Arc<dyn Runtime>) -> Connected {
    let rt = &*runtime;
    let new = || {
        AsyncPeerConnection::new(
            runtime.clone(),
            RtcConfiguration::default(),
            &SocketConfig::loopback(),
        )
        .expect("peer connection on 127.0.0.1")
    };
    let (a, b) = (new(), new());
    let from_a = a
        .create_data_channel("from-a", Default::default())
        .await
        .expect("channel");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("local offer");
    let offer = within(rt, 20, "gathering at a", a.wait_gathering_complete())
        .await
        .expect("offer");
    assert!(
        offer.sdp.contains("127.0.0.1"),
        "host candidate in the offer"
    );
    b.set_remote_description(offer).await.expect("remote offer");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("local answer");
    let answer = within(rt, 20, "gathering at b", b.wait_gathering_complete())
        .await
        .expect("answer");
    a.set_remote_description(answer)
        .await
        .expect("remote answer");
    within(rt, 30, "a connected", a.wait_connected())
        .await
        .expect("a connects");
    within(rt, 30, "b connected", b.wait_connected())
        .await
        .expect("b connects");
    let at_b = remote_channel(rt, &b, "from-a").await;
    within(rt, 20, "from-a open", from_a.wait_open())
        .await
        .expect("open");
    let from_b = b
        .create_data_channel("from-b", Default::default())
        .await
        .expect("channel");
    let at_a = remote_channel(rt, &a, "from-b").await;
    within(rt, 20, "from-b open", from_b.wait_open())
        .await
        .expect("open");
    Connected {
        a,
        b,
        a_to_b: (from_a, at_b),
        b_to_a: (from_b, at_a),
    }
}

/// Sends `total` bytes as messages of `chunk` bytes on `tx`, alternating binary and text.
pub async fn send_stream(tx: DataChannel, total: usize, chunk: usize) {
    let count = total.div_ceil(chunk) as u32;
    for i in 0..count {
        let len = chunk.min(total - i as usize * chunk).max(4);
        let bytes = message(i, len);
        tx.send_binary(bytes)
            .await
            .expect("send on an open channel");
        let queued = tx.buffered_amount();
        assert!(
            queued <= SEND_HIGH_WATER + chunk,
            "send waited for back-pressure: {queued} bytes queued"
        );
    }
}

/// Receives and checks the stream [`send_stream`] sends; returns the bytes received.
pub async fn recv_stream(rx: DataChannel, total: usize, chunk: usize) -> usize {
    let count = total.div_ceil(chunk) as u32;
    let mut bytes = 0;
    for i in 0..count {
        let len = chunk.min(total - i as usize * chunk).max(4);
        match rx.recv().await {
            Some(Message::Binary(got)) => {
                assert_eq!(got.len(), len, "message {i} length");
                assert!(got[..] == message(i, len)[..], "message {i} content");
                bytes += got.len();
            }
            other => panic!("message {i}: got {other:?}"),
        }
    }
    bytes
}

/// The full scenario: connect, both channels, 8 MiB a→b and 1 MiB b→a at once, a text
/// message each way, close.
pub async fn two_peers_transfer(rt: Arc<dyn Runtime>) {
    let c = within(&*rt, 60, "connect", connect(rt.clone())).await;
    transfer_both_ways(&rt, &c).await;
    c.a_to_b.0.send_text("done ✓").await.expect("text");
    let text = within(&*rt, 10, "text", c.a_to_b.1.recv()).await;
    assert_eq!(text, Some(Message::Text("done ✓".into())));
    c.a_to_b.0.close().expect("close channel");
    within(&*rt, 20, "channel closed at b", async {
        while c.a_to_b.1.recv().await.is_some() {}
    })
    .await;
    within(&*rt, 20, "close a", c.a.close()).await;
    within(&*rt, 20, "close b", c.b.close()).await;
    assert!(
        c.a.create_offer().await.is_err(),
        "closed connection refuses calls"
    );
}

/// 8 MiB a→b and 1 MiB b→a concurrently, every byte checked.
pub async fn transfer_both_ways(rt: &Arc<dyn Runtime>, c: &Connected) {
    const BIG: usize = 8 * 1024 * 1024;
    const SMALL: usize = 1024 * 1024;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for (tx, total) in [(c.a_to_b.0.clone(), BIG), (c.b_to_a.0.clone(), SMALL)] {
        rt.spawn(Box::pin(send_stream(tx, total, 60_000)));
    }
    for (rx, total) in [(c.a_to_b.1.clone(), BIG), (c.b_to_a.1.clone(), SMALL)] {
        let done = done_tx.clone();
        rt.spawn(Box::pin(async move {
            let got = recv_stream(rx, total, 60_000).await;
            done.send(got).expect("test waits");
        }));
    }
    let mut received = 0;
    for _ in 0..2 {
        received += within(&**rt, 120, "transfer", async {
            loop {
                if let Ok(n) = done_rx.try_recv() {
                    return n;
                }
                sleep(&**rt, Duration::from_millis(5)).await;
            }
        })
        .await;
    }
    assert_eq!(received, BIG + SMALL);
}

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
    let c = within(&*rt, 60, "connect", connect(rt.clone())).await;
    let targets = vec![c.socket_of_b(), c.a.local_addrs()[0]];
    let sprayer = spray_garbage(targets, 10_000);
    transfer_both_ways(&rt, &c).await;
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
    let Connected {
        a,
        b,
        a_to_b,
        b_to_a,
    } = within(&*rt, 60, "connect", connect(rt.clone())).await;
    drop((a, a_to_b.0, b_to_a.1));
    within(&*rt, 20, "b's channel from a ends", async {
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
    let c = within(&*rt, 60, "connect", connect(rt.clone())).await;
    rt.spawn(Box::pin(send_stream(c.a_to_b.0.clone(), TOTAL, 60_000)));
    sleep(&*rt, Duration::from_millis(700)).await;
    let got = within(
        &*rt,
        120,
        "slow reader",
        recv_stream(c.a_to_b.1.clone(), TOTAL, 60_000),
    )
    .await;
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
    within(&*rt, 30, "a connected", a.wait_connected())
        .await
        .expect("connects");
    within(&*rt, 20, "open", from_a.wait_open())
        .await
        .expect("open");
    assert!(
        forwarded.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "candidates trickled"
    );
    from_a.send_text("over trickle").await.expect("send");
    let at_b = super::wait_for(&*rt, &chan_rx).await;
    let got = within(&*rt, 10, "message", at_b.recv()).await;
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
    let c = within(&*rt, 60, "connect", connect(rt.clone())).await;
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
    rt.spawn(Box::pin(send_stream(c.a_to_b.0.clone(), TOTAL, CHUNK)));
    let got = within(
        &*rt,
        120,
        "echoes of 32 MiB",
        recv_stream(c.a_to_b.0.clone(), TOTAL, CHUNK),
    )
    .await;
    assert_eq!(got, TOTAL);
    c.a.close().await;
    c.b.close().await;
}
