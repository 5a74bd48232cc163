//! The async driver fires core deadlines that are already due without waiting for a
//! runtime timer (tokio's round up to a 1 ms tick). Shown with a runtime whose timers never
//! fire: gathering, the first checks, DTLS (its client finishes a flight on an immediate
//! timeout) and SCTP need no timer at all, so the channel must still open on both sides.

use rtcpeer_tokio::{
    AsyncTimer, AsyncUdpSocket, BoxFuture, Event, PeerConnection, RtcConfiguration, Runtime,
    SocketConfig, TokioRuntime,
};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Tokio for everything but timers, which never fire.
#[derive(Debug)]
struct NoTimers(TokioRuntime);

#[derive(Debug)]
struct NeverTimer;

impl AsyncTimer for NeverTimer {
    fn reset(self: Pin<&mut Self>, _deadline: Instant) {}

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Runtime for NoTimers {
    fn now(&self) -> Instant {
        self.0.now()
    }

    fn new_timer(&self, _deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(NeverTimer)
    }

    fn spawn(&self, future: BoxFuture<()>) {
        self.0.spawn(future);
    }

    fn bind(&self, config: &SocketConfig) -> io::Result<Vec<Arc<dyn AsyncUdpSocket>>> {
        self.0.bind(config)
    }

    fn resolve(&self, host: String, port: u16) -> BoxFuture<io::Result<Vec<SocketAddr>>> {
        self.0.resolve(host, port)
    }

    fn seed(&self) -> [u8; 32] {
        self.0.seed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_opens_with_timers_that_never_fire() {
    let rt: Arc<dyn Runtime> = Arc::new(NoTimers(TokioRuntime::current()));
    let connect = async {
        let sockets = SocketConfig::loopback();
        let config = RtcConfiguration::default;
        let offerer = PeerConnection::new(rt.clone(), config(), &sockets).expect("offerer");
        let answerer = PeerConnection::new(rt.clone(), config(), &sockets).expect("answerer");
        let mut answerer_events = answerer.events();
        let sending = offerer
            .create_data_channel("due-now", Default::default())
            .await
            .expect("channel");
        let offer = offerer.create_offer().await.expect("offer");
        offerer.set_local_description(offer).await.expect("sld");
        let offer = offerer.wait_gathering_complete().await.expect("gathered");
        answerer.set_remote_description(offer).await.expect("srd");
        let answer = answerer.create_answer().await.expect("answer");
        answerer.set_local_description(answer).await.expect("sld");
        let answer = answerer.wait_gathering_complete().await.expect("gathered");
        offerer.set_remote_description(answer).await.expect("srd");
        let id = loop {
            match answerer_events.next().await.expect("events end") {
                Event::DataChannel(id) => break id,
                _ => continue,
            }
        };
        sending.wait_open().await.expect("open at the offerer");
        answerer
            .data_channel(id)
            .wait_open()
            .await
            .expect("open at the answerer");
    };
    tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .expect("stalled: a due deadline waited for a timer that never fires");
}
