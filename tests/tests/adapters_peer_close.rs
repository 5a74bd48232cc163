//! A peer's close reaches the other side's async handle at once, on tokio and smol: its
//! event stream reports `closed` within a second (was: ICE consent expiry, about 30 s) and
//! then ends, because the driver task ends and frees its sockets.

use rtcpeer::runtime::api::{
    Event, PeerConnection, PeerConnectionState, RtcConfiguration, Runtime, SocketConfig,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn peer(runtime: &Arc<dyn Runtime>) -> PeerConnection {
    PeerConnection::new(
        runtime.clone(),
        RtcConfiguration::default(),
        &SocketConfig::loopback(),
    )
    .expect("peer on 127.0.0.1")
}

async fn scenario(runtime: Arc<dyn Runtime>) {
    let (a, b) = (peer(&runtime), peer(&runtime));
    let channel = a
        .create_data_channel("c", Default::default())
        .await
        .expect("channel");
    let offer = a.create_offer().await.expect("offer");
    a.set_local_description(offer).await.expect("sld");
    let offer = a.wait_gathering_complete().await.expect("gathered");
    b.set_remote_description(offer).await.expect("srd");
    let answer = b.create_answer().await.expect("answer");
    b.set_local_description(answer).await.expect("sld");
    let answer = b.wait_gathering_complete().await.expect("gathered");
    a.set_remote_description(answer).await.expect("srd");
    channel.wait_open().await.expect("open");
    b.wait_connected().await.expect("b connected");
    let mut events = b.events();
    let closed_at = Instant::now();
    a.close().await;
    let mut saw_closed = false;
    while let Some(event) = events.next().await {
        if event == Event::ConnectionStateChange(PeerConnectionState::Closed) {
            saw_closed = true;
        }
    }
    let took = closed_at.elapsed();
    assert!(saw_closed, "no closed state before the stream ended");
    assert!(
        took < Duration::from_secs(1),
        "b saw the close after {took:?}"
    );
    assert_eq!(b.connection_state(), PeerConnectionState::Closed);
    assert!(b.stats().closed_by_peer.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_handle_sees_the_peers_close_at_once_and_its_driver_ends() {
    let runtime = rtcpeer_tokio::TokioRuntime::current().into_dyn();
    tokio::time::timeout(Duration::from_secs(20), scenario(runtime))
        .await
        .expect("scenario finishes");
}

#[test]
fn smol_handle_sees_the_peers_close_at_once_and_its_driver_ends() {
    let runtime = rtcpeer_smol::SmolRuntime::current().into_dyn();
    let finished = smol::block_on(smol::future::or(
        async {
            scenario(runtime).await;
            true
        },
        async {
            smol::Timer::after(Duration::from_secs(20)).await;
            false
        },
    ));
    assert!(finished, "scenario did not finish in 20 s");
}
