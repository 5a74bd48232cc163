//! The async driver fires core deadlines that are already due without waiting for a
//! runtime timer (tokio's round up to a 1 ms tick). Shown with a runtime whose timers never
//! fire: gathering, the first checks, DTLS (its client finishes a flight on an immediate
//! timeout) and SCTP need no timer at all, so the shared connect scenario (both sides
//! connected, a channel open from each side) must still complete.

mod adapters_common;

use adapters_common::{peer::AsyncAdapter, scenario};
use rtcpeer_tokio::{AsyncTimer, AsyncUdpSocket, BoxFuture, Runtime, SocketConfig, TokioRuntime};
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

    fn system_time(&self) -> std::time::SystemTime {
        self.0.system_time()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_opens_with_timers_that_never_fire() {
    // The scenario's own step timeouts use the runtime's timers, which never fire here;
    // tokio's timeout bounds the whole.
    let adapter = AsyncAdapter(Arc::new(NoTimers(TokioRuntime::current())));
    tokio::time::timeout(Duration::from_secs(10), scenario::connect(&adapter))
        .await
        .expect("stalled: a due deadline waited for a timer that never fires");
}
