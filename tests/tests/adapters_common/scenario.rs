//! The two-peer scenario every adapter runs from this one body (tokio, smol, mio): connect
//! over loopback with non-trickle signalling, open channels from both sides, transfer
//! 8 MiB one way and 1 MiB the other with content checks, a text message, close.
//!
//! Written against the [`Adapter`]/[`Peer`]/[`Channel`] traits of [`super::peer`];
//! concurrent steps are joined futures inside the one task that runs the scenario.

use super::peer::{Adapter, Channel, Peer};
use futures_lite::future::zip;
use rtcpeer::peer_connection::PeerConnectionState;
use rtcpeer::runtime::{Message, SEND_HIGH_WATER};
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Runs `fut`, panicking with `what` if it takes longer than `secs` seconds.
pub async fn within<A: Adapter, T>(
    adapter: &A,
    secs: u64,
    what: &str,
    fut: impl Future<Output = T>,
) -> T {
    let mut fut = pin!(fut);
    let mut timer = pin!(adapter.sleep(Duration::from_secs(secs)));
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
pub struct Connected<P: Peer> {
    pub a: P,
    pub b: P,
    /// Opened by `a`, and the same channel at `b`.
    pub a_to_b: (P::Channel, P::Channel),
    /// Opened by `b`, and the same channel at `a`.
    pub b_to_a: (P::Channel, P::Channel),
}

impl<P: Peer> Connected<P> {
    pub fn socket_of_b(&self) -> SocketAddr {
        self.b.local_addrs()[0]
    }
}

async fn remote_channel<A: Adapter>(
    adapter: &A,
    pc: &A::Peer,
    label: &str,
) -> <A::Peer as Peer>::Channel {
    within(adapter, 20, "remote data channel", pc.remote_channel(label))
        .await
        .unwrap_or_else(|| panic!("connection ended before channel {label} arrived"))
}

/// Connects two peers on loopback and opens one channel from each side.
pub async fn connect<A: Adapter>(adapter: &A) -> Connected<A::Peer> {
    let (a, b) = (adapter.new_peer(), adapter.new_peer());
    let from_a = a.create_data_channel("from-a").await.expect("channel");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("local offer");
    let offer = within(adapter, 20, "gathering at a", a.wait_gathering_complete())
        .await
        .expect("offer");
    assert!(
        offer.sdp.contains("127.0.0.1"),
        "host candidate in the offer"
    );
    b.set_remote_description(offer).await.expect("remote offer");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("local answer");
    let answer = within(adapter, 20, "gathering at b", b.wait_gathering_complete())
        .await
        .expect("answer");
    a.set_remote_description(answer)
        .await
        .expect("remote answer");
    within(adapter, 30, "a connected", a.wait_connected())
        .await
        .expect("a connects");
    within(adapter, 30, "b connected", b.wait_connected())
        .await
        .expect("b connects");
    assert_eq!(a.connection_state().await, PeerConnectionState::Connected);
    assert_eq!(b.connection_state().await, PeerConnectionState::Connected);
    let at_b = remote_channel(adapter, &b, "from-a").await;
    within(adapter, 20, "from-a open", from_a.wait_open())
        .await
        .expect("open");
    let from_b = b.create_data_channel("from-b").await.expect("channel");
    let at_a = remote_channel(adapter, &a, "from-b").await;
    within(adapter, 20, "from-b open", from_b.wait_open())
        .await
        .expect("open");
    Connected {
        a,
        b,
        a_to_b: (from_a, at_b),
        b_to_a: (from_b, at_a),
    }
}

/// Sends `total` bytes as binary messages of `chunk` bytes on `tx`, checking that each
/// send waited for back-pressure instead of queueing without bound.
pub async fn send_stream(tx: &impl Channel, total: usize, chunk: usize) {
    let count = total.div_ceil(chunk) as u32;
    for i in 0..count {
        let len = chunk.min(total - i as usize * chunk).max(4);
        tx.send_binary(message(i, len).into())
            .await
            .expect("send on an open channel");
        let queued = tx.buffered_amount().await;
        assert!(
            queued <= SEND_HIGH_WATER + chunk,
            "send waited for back-pressure: {queued} bytes queued"
        );
    }
}

/// Receives and checks the stream [`send_stream`] sends (order, length and content of
/// every message); returns the bytes received.
pub async fn recv_stream(rx: &impl Channel, total: usize, chunk: usize) -> usize {
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
/// message each way, a channel close that reaches the peer, close both connections.
pub async fn two_peers_transfer<A: Adapter>(adapter: &A) {
    let c = within(adapter, 60, "connect", connect(adapter)).await;
    transfer_both_ways(adapter, &c).await;
    for (tx, rx, text) in [
        (&c.a_to_b.0, &c.a_to_b.1, "done ✓"),
        (&c.b_to_a.0, &c.b_to_a.1, "ok ✓"),
    ] {
        tx.send_text(text).await.expect("text");
        let got = within(adapter, 10, "text", rx.recv()).await;
        assert_eq!(got, Some(Message::Text(text.into())));
    }
    c.a_to_b.0.close().await.expect("close channel");
    let end = within(adapter, 20, "channel closed at b", c.a_to_b.1.recv()).await;
    assert_eq!(end, None, "the close reaches b after the last message");
    within(adapter, 20, "close a", c.a.close()).await;
    within(adapter, 20, "close b", c.b.close()).await;
    assert!(
        c.a.create_offer().await.is_err(),
        "closed connection refuses calls"
    );
}

/// W3C `RTCDataChannel.close()`: what was queued before the close is still sent. a queues
/// twice b's SCTP receive window while b does not read, so whatever the scheduling at least
/// one window's worth is still buffered at a when it closes; then b reads every byte and
/// the end.
pub async fn close_delivers_queued_data<A: Adapter>(adapter: &A) {
    const TOTAL: usize = 4 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let c = within(adapter, 60, "connect", connect(adapter)).await;
    let (tx, rx) = (&c.a_to_b.0, &c.a_to_b.1);
    // Every send is taken at once: a unread b holds back what does not fit its window.
    tx.set_high_water_mark(TOTAL).await;
    let sending = async {
        for i in 0..TOTAL / CHUNK {
            tx.send_binary(message(i as u32, CHUNK).into())
                .await
                .expect("send");
        }
        let queued = tx.buffered_amount().await;
        tx.close().await.expect("close");
        queued
    };
    let queued = within(adapter, 60, "queue and close", sending).await;
    let receiving = async {
        let mut got = 0;
        while let Some(m) = rx.recv().await {
            got += m.len();
        }
        got
    };
    let got = within(adapter, 60, "read after close", receiving).await;
    assert!(
        queued >= TOTAL / 4,
        "data was still queued when close() was called: {queued} bytes"
    );
    assert_eq!(got, TOTAL, "every byte queued before close() arrived");
    within(adapter, 20, "close a", c.a.close()).await;
    within(adapter, 20, "close b", c.b.close()).await;
}

/// 8 MiB a→b and 1 MiB b→a concurrently, every byte checked.
pub async fn transfer_both_ways<A: Adapter>(adapter: &A, c: &Connected<A::Peer>) {
    const BIG: usize = 8 * 1024 * 1024;
    const SMALL: usize = 1024 * 1024;
    const CHUNK: usize = 60_000;
    let sends = zip(
        send_stream(&c.a_to_b.0, BIG, CHUNK),
        send_stream(&c.b_to_a.0, SMALL, CHUNK),
    );
    let receives = zip(
        recv_stream(&c.a_to_b.1, BIG, CHUNK),
        recv_stream(&c.b_to_a.1, SMALL, CHUNK),
    );
    let (_, received) = within(adapter, 120, "transfer", zip(sends, receives)).await;
    assert_eq!(received, (BIG, SMALL), "bytes received a→b, b→a");
}
