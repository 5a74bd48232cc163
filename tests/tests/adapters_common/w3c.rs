//! The W3C `RTCDataChannel` checklist and the "send everything, then read the echo"
//! program (issue 12), written once against the [`Adapter`]/[`Peer`]/[`Channel`] traits so
//! that tokio, smol and mio all run the same body.
//!
//! Concurrent steps are joined futures in the one task that runs the body (the mio harness
//! has no spawner).

use super::peer::{Adapter, Channel, Peer};
use super::scenario::within;
use futures_lite::future::zip;
use rtcpeer::Error;
use rtcpeer::peer_connection::{ChannelId, ChannelState, PeerConnectionError};
use rtcpeer::runtime::{ChannelEvent, Message, RuntimeError, SEND_HIGH_WATER};

/// Two connected peers: `a` created channel `ca` ("checklist") before connecting, `b`
/// accepted it as `cb`; both are open. Checks the `connecting` state on the way.
async fn connected_pair<A: Adapter>(
    adapter: &A,
) -> (
    A::Peer,
    A::Peer,
    <A::Peer as Peer>::Channel,
    <A::Peer as Peer>::Channel,
) {
    let (a, b) = (adapter.new_peer(), adapter.new_peer());
    let ca = a.create_data_channel("checklist").await.expect("channel");
    assert_eq!(ca.ready_state().await, ChannelState::Connecting);
    let refused = ca.try_send("too early".into()).await;
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
    let cb = b
        .remote_channel("checklist")
        .await
        .expect("the peer's channel");
    ca.wait_open().await.expect("open at a");
    cb.wait_open().await.expect("open at b");
    (a, b, ca, cb)
}

/// Every event of `channel` until its end (`None`).
async fn events_until_end<C: Channel>(channel: &C) -> Vec<ChannelEvent> {
    let mut events = Vec::new();
    while let Some(e) = channel.next_event().await {
        events.push(e);
    }
    events
}

/// The checklist: readyState transitions; open, bufferedamountlow, close and (absent)
/// error events; bufferedAmount accounting; the high water mark of `try_send`; `close()`
/// delivers what was queued; no wait on a made-up id; closing the connection closes its
/// channels.
pub async fn data_channel_checklist<A: Adapter>(adapter: &A) {
    let (a, b, ca, cb) = within(adapter, 60, "connect", connected_pair(adapter)).await;
    // readyState and the open event.
    assert_eq!(ca.ready_state().await, ChannelState::Open);
    assert_eq!(ca.next_event().await, Some(ChannelEvent::Open));
    assert_eq!(cb.next_event().await, Some(ChannelEvent::Open));
    assert_eq!(cb.label().await.as_deref(), Some("checklist"));
    buffered_amount_and_low_event(adapter, &ca).await;
    let chunk = vec![7u8; 64 * 1024];
    // The high water mark refuses try_send, never send.
    ca.set_high_water_mark(0).await;
    for _ in 0..16 {
        ca.send(chunk.clone().into())
            .await
            .expect("send ignores the high water mark");
    }
    let refused = ca.try_send(chunk.clone().into()).await;
    assert!(
        matches!(refused, Err(Error::Runtime(RuntimeError::WouldBlock))),
        "{refused:?}"
    );
    ca.set_high_water_mark(SEND_HIGH_WATER).await;
    close_after_queued_data(adapter, &ca, &cb, 32 * 2 + 16).await;
    // No wait on a made-up channel id.
    let ghost = a.data_channel(ChannelId(999));
    let result = within(adapter, 10, "wait_open on a made-up id", ghost.wait_open()).await;
    assert!(
        matches!(
            result,
            Err(Error::PeerConnection(PeerConnectionError::NoSuchChannel(_)))
        ),
        "{result:?}"
    );
    assert!(ghost.send_text("x").await.is_err());
    // Closing the connection ends every channel with `close`, and no `error`.
    let other = a.create_data_channel("second").await.expect("channel");
    a.close().await;
    assert_eq!(other.ready_state().await, ChannelState::Closed);
    let other_events = within(adapter, 10, "events of second", events_until_end(&other)).await;
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
    assert!(other.send("after".into()).await.is_err());
    b.close().await;
}

/// Queues 32 chunks of 64 KiB on `ca` with a 16 KiB low threshold: bufferedAmount counts
/// them and `bufferedamountlow` comes once the queue has drained below the threshold.
async fn buffered_amount_and_low_event<A: Adapter>(adapter: &A, ca: &<A::Peer as Peer>::Channel) {
    assert_eq!(ca.buffered_amount().await, 0);
    ca.set_buffered_amount_low_threshold(16 * 1024).await;
    assert_eq!(ca.buffered_amount_low_threshold().await, 16 * 1024);
    let chunk = vec![7u8; 64 * 1024];
    for _ in 0..32 {
        ca.send(chunk.clone().into()).await.expect("send queues");
    }
    let buffered = ca.buffered_amount().await;
    assert!(buffered > 16 * 1024, "queued bytes count: {buffered}");
    // The event fires at every fall below the threshold (also between the sends above, as
    // the loop sends concurrently); the last one comes once the queue has drained.
    within(
        adapter,
        60,
        "bufferedamountlow after the last send",
        async {
            loop {
                let event = ca.next_event().await;
                assert_eq!(event, Some(ChannelEvent::BufferedAmountLow));
                if ca.buffered_amount().await <= 16 * 1024 {
                    break;
                }
            }
        },
    )
    .await;
}

/// Queues 32 more chunks, closes `ca` at once and checks that `cb` receives all
/// `chunks_sent` chunks of 64 KiB before its end, and that both sides reach `closed`.
async fn close_after_queued_data<A: Adapter>(
    adapter: &A,
    ca: &<A::Peer as Peer>::Channel,
    cb: &<A::Peer as Peer>::Channel,
    chunks_sent: usize,
) {
    let chunk = vec![7u8; 64 * 1024];
    for _ in 0..32 {
        ca.send(chunk.clone().into()).await.expect("send queues");
    }
    ca.close().await.expect("close");
    assert_eq!(ca.ready_state().await, ChannelState::Closing);
    assert!(
        ca.send("late".into()).await.is_err(),
        "no send while closing"
    );
    let received = within(adapter, 60, "receive all", async {
        let mut total = 0;
        while let Some(m) = cb.recv().await {
            total += m.len();
        }
        total
    })
    .await;
    assert_eq!(
        received,
        chunks_sent * chunk.len(),
        "close() delivered what was queued"
    );
    within(adapter, 60, "closed", ca.wait_closed())
        .await
        .expect("closed");
    assert_eq!(ca.ready_state().await, ChannelState::Closed);
    let a_events = within(adapter, 10, "events of a", events_until_end(ca)).await;
    assert_eq!(a_events.last(), Some(&ChannelEvent::Close), "{a_events:?}");
}

/// One task queues 16 MiB with `send`, then reads the echo of all of it, while the peer
/// echoes every message back with back-pressured sends.
pub async fn send_everything_then_read_the_echo<A: Adapter>(adapter: &A) {
    let (a, b, ca, cb) = within(adapter, 60, "connect", connected_pair(adapter)).await;
    let total = 16 * 1024 * 1024;
    let echoer = async {
        let mut echoed = 0;
        while echoed < total {
            match cb.recv().await {
                Some(Message::Binary(data)) => {
                    echoed += data.len();
                    cb.send_binary(data).await.expect("echo");
                }
                other => panic!("the echoer got {other:?}"),
            }
        }
    };
    let program = async {
        let chunk = vec![1u8; 64 * 1024];
        for _ in 0..total / chunk.len() {
            ca.send(chunk.clone().into()).await.expect("queued");
        }
        let mut got = 0;
        while got < total {
            got += ca.recv().await.expect("echo").len();
        }
        got
    };
    let ((), echoed) = within(adapter, 60, "echo of 16 MiB", zip(echoer, program)).await;
    assert_eq!(echoed, total);
    a.close().await;
    b.close().await;
}
