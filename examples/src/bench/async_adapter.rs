//! The measures on the async API (`AsyncPeerConnection` and `DataChannel` handles), written
//! once for every async adapter: tokio and smol differ only in the [`Exec`] that runs them.

use super::payload::Payloads;
use super::report::{BULK_MESSAGE, Figures, IdleMemory, SMALL_MESSAGE, Transfer};
use super::system::{UdpErrors, cpu_time, rss_bytes};
use super::{Error, Measure, Options};
use rtcpeer_tokio::{
    BoxFuture, DataChannel, Event, Message, PeerConnection, RtcConfiguration, Runtime, SocketConfig,
};
use std::future::{Future, poll_fn};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Longest a connection may take to set up before the measure fails.
const SETUP_LIMIT: Duration = Duration::from_secs(20);
/// Longest a transfer may take per MiB before the measure fails.
const TRANSFER_LIMIT_PER_MIB: Duration = Duration::from_secs(2);
/// How long the idle pairs sit before the second RSS reading.
pub const IDLE_SETTLE: Duration = Duration::from_secs(1);

/// What the measures need from an executor beyond the adapter's [`Runtime`].
pub trait Exec {
    /// The adapter's runtime, for `AsyncPeerConnection::new`.
    fn runtime(&self) -> Arc<dyn Runtime>;
    /// Runs `future` to completion on this thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// Runs `future` as a task of its own; the returned future yields its output.
    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<Result<T, Error>>;
}

/// A multi-thread tokio runtime with default settings (one worker per core).
#[derive(Debug)]
pub struct TokioExec(tokio::runtime::Runtime);

impl TokioExec {
    /// Starts the runtime.
    ///
    /// # Panics
    /// If the OS refuses the runtime's threads or its I/O driver.
    pub fn new() -> Self {
        Self(tokio::runtime::Runtime::new().expect("start a tokio runtime"))
    }
}

impl Default for TokioExec {
    fn default() -> Self {
        Self::new()
    }
}

impl Exec for TokioExec {
    fn runtime(&self) -> Arc<dyn Runtime> {
        rtcpeer_tokio::TokioRuntime::from_handle(self.0.handle().clone()).into_dyn()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<Result<T, Error>> {
        let task = self.0.spawn(future);
        Box::pin(async move { task.await.map_err(Error::from) })
    }
}

/// A smol executor, run the way smol's documentation runs one: the caller drives it with
/// `smol::block_on(executor.run(future))`, so the drivers run on the caller's thread between
/// its awaits (no thread hop per datagram), and `helpers` more threads (`--smol-helpers`,
/// default none) run it too.
#[derive(Debug, Clone)]
pub struct SmolExec {
    executor: Arc<smol::Executor<'static>>,
}

impl SmolExec {
    /// Starts `helpers` threads that run the executor for the rest of the program.
    ///
    /// # Panics
    /// If the OS refuses a thread.
    pub fn new(helpers: usize) -> Self {
        Self {
            executor: crate::smol_exec::executor_with_threads(helpers, "smol-exec"),
        }
    }
}

impl Exec for SmolExec {
    fn runtime(&self) -> Arc<dyn Runtime> {
        rtcpeer_smol::SmolRuntime::with_executor(self.executor.clone()).into_dyn()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(self.executor.run(future))
    }

    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<Result<T, Error>> {
        let task = self.executor.spawn(future);
        Box::pin(async move { Ok(task.await) })
    }
}

/// Runs `measure` with the sizes of `options` on `exec`.
pub fn measure(exec: &impl Exec, options: &Options, measure: Measure) -> Result<Figures, Error> {
    let rt = exec.runtime();
    exec.block_on(async {
        match measure {
            Measure::Setup => setup(&rt, options.runs).await.map(Figures::Setup),
            Measure::Throughput => {
                let mut transfers = Vec::new();
                for size in [BULK_MESSAGE, SMALL_MESSAGE] {
                    let buffer = options.throughput_buffer_size();
                    transfers.push(throughput(exec, &rt, options.mib << 20, size, buffer).await?);
                }
                Ok(Figures::Throughput(transfers))
            }
            Measure::Idle => idle(&rt, options.pairs).await.map(Figures::Idle),
        }
    })
}

/// Two connected peers with one open channel, seen from both ends.
struct Pair {
    offerer: PeerConnection,
    answerer: PeerConnection,
    sending: DataChannel,
    receiving: DataChannel,
}

impl Pair {
    /// Binds both peers' sockets, makes their certificates, signals offer and answer
    /// (non-trickle) and waits until the channel is open on both sides.
    async fn connect(rt: &Arc<dyn Runtime>, buffer_size: usize) -> Result<Self, Error> {
        let sockets = SocketConfig {
            buffer_size,
            ..SocketConfig::loopback()
        };
        let offerer = PeerConnection::new(rt.clone(), RtcConfiguration::default(), &sockets)?;
        let answerer = PeerConnection::new(rt.clone(), RtcConfiguration::default(), &sockets)?;
        let mut answerer_events = answerer.events();
        let sending = offerer
            .create_data_channel("bench", Default::default())
            .await?;
        let offer = offerer.create_offer().await?;
        offerer.set_local_description(offer).await?;
        let offer = offerer.wait_gathering_complete().await?;
        answerer.set_remote_description(offer).await?;
        let answer = answerer.create_answer().await?;
        answerer.set_local_description(answer).await?;
        let answer = answerer.wait_gathering_complete().await?;
        offerer.set_remote_description(answer).await?;
        let id = loop {
            match answerer_events.next().await {
                Some(Event::DataChannel(id)) => break id,
                Some(_) => {}
                None => return Err("the answerer ended before the channel arrived".into()),
            }
        };
        let receiving = answerer.data_channel(id);
        sending.wait_open().await?;
        receiving.wait_open().await?;
        Ok(Self {
            offerer,
            answerer,
            sending,
            receiving,
        })
    }

    async fn close(self) {
        self.offerer.close().await;
        self.answerer.close().await;
    }
}

async fn setup(rt: &Arc<dyn Runtime>, runs: usize) -> Result<Vec<Duration>, Error> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let connect = Pair::connect(rt, SocketConfig::DEFAULT_BUFFER_SIZE);
        let pair = within(rt, SETUP_LIMIT, "connection setup", connect).await??;
        samples.push(started.elapsed());
        within(rt, SETUP_LIMIT, "closing", pair.close()).await?;
    }
    Ok(samples)
}

async fn throughput(
    exec: &impl Exec,
    rt: &Arc<dyn Runtime>,
    total: u64,
    size: usize,
    buffer_size: usize,
) -> Result<Transfer, Error> {
    let connect = Pair::connect(rt, buffer_size);
    let pair = within(rt, SETUP_LIMIT, "connection setup", connect).await??;
    let payloads = Payloads::new(size);
    let messages = total.div_ceil(payloads.size() as u64);
    let limit = TRANSFER_LIMIT_PER_MIB * (total >> 20).max(1) as u32;
    let receiver = exec.spawn(receive_all(
        pair.receiving.clone(),
        payloads.clone(),
        messages,
    ));
    let cpu_before = cpu_time();
    let udp_before = UdpErrors::read();
    let started = Instant::now();
    let transfer = async {
        for i in 0..messages {
            pair.sending.send_binary(payloads.message(i)).await?;
        }
        receiver.await?
    };
    within(rt, limit, "transfer", transfer).await??;
    let elapsed = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let udp = UdpErrors::read().zip(udp_before).map(|(a, b)| a.since(b));
    within(rt, SETUP_LIMIT, "closing", pair.close()).await?;
    Ok(Transfer {
        message_bytes: payloads.size(),
        messages,
        elapsed,
        cpu,
        udp,
    })
}

/// Receives `count` messages and checks each one's order and content.
async fn receive_all(channel: DataChannel, payloads: Payloads, count: u64) -> Result<(), Error> {
    for i in 0..count {
        match channel.recv().await {
            Some(Message::Binary(data)) => payloads.check(i, &data)?,
            Some(Message::Text(_)) => return Err(format!("message {i} arrived as text").into()),
            None => return Err(format!("the channel ended after {i} messages").into()),
        }
    }
    Ok(())
}

async fn idle(rt: &Arc<dyn Runtime>, pairs: usize) -> Result<IdleMemory, Error> {
    let before = rss_bytes();
    let mut connected = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let connect = Pair::connect(rt, SocketConfig::DEFAULT_BUFFER_SIZE);
        connected.push(within(rt, SETUP_LIMIT, "connection setup", connect).await??);
    }
    sleep(rt, IDLE_SETTLE).await;
    let after = rss_bytes();
    for pair in connected {
        within(rt, SETUP_LIMIT, "closing", pair.close()).await?;
    }
    Ok(IdleMemory {
        pairs,
        before,
        after,
    })
}

/// `future`'s output, or an error naming `what` once `limit` has passed (timed with the
/// adapter's own timer, so this works on any runtime).
async fn within<T>(
    rt: &Arc<dyn Runtime>,
    limit: Duration,
    what: &str,
    future: impl Future<Output = T>,
) -> Result<T, Error> {
    let mut timer = rt.new_timer(rt.now() + limit);
    let mut future = std::pin::pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(format!("{what} took longer than {limit:?}").into()));
        }
        Poll::Pending
    })
    .await
}

async fn sleep(rt: &Arc<dyn Runtime>, duration: Duration) {
    let mut timer = rt.new_timer(rt.now() + duration);
    poll_fn(|cx| timer.as_mut().poll(cx)).await;
}
