//! Scenarios only the async adapters run (tokio, smol): they use `AsyncPeerConnection`
//! features beyond the shared [`Peer`](super::peer::Peer) trait (dropping handles,
//! trickled candidates through the event stream), on the shared [`connect`].

use super::peer::AsyncAdapter;
use super::scenario::{Connected, connect, within};
use super::sleep;
use rtcpeer::peer_connection::{Event, RtcConfiguration};
use rtcpeer::runtime::{AsyncPeerConnection, DataChannel, Message, Runtime, SocketConfig};
use std::sync::Arc;
use std::time::Duration;

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
