//! The measures on `rtcpeer-mio`: each side of a pair is an [`EventLoop`] on a thread of
//! its own, driving an `Endpoint`; the main thread signals through [`LoopHandle`] commands
//! and learns about events through notes the loops' callbacks send it.
//!
//! The sender pumps messages from its loop's callback (on `open` and `bufferedamountlow`,
//! keeping at most [`SEND_HIGH_WATER`] bytes queued, like the async adapters' `send`), and
//! the receiver checks every message in its callback.
//!
//! In the idle measure the pairs are spread over `k` offerer loops and `k` answerer loops
//! (`k * k >= pairs`), each loop with one socket and many connections: the mio adapter's
//! server model. Every pair uses its own (offerer loop, answerer loop) combination, since
//! an endpoint tells its connections apart by the peer's address and two connections on
//! one socket cannot both talk to one remote socket. The loops, their threads and sockets
//! count in the memory per peer, amortised over the connections of each loop.

use super::payload::Payloads;
use super::report::{BULK_MESSAGE, Figures, IdleMemory, SMALL_MESSAGE, Transfer};
use super::system::{UdpErrors, cpu_time, rss_bytes};
use super::{Error, Measure, Options};
use rtcpeer::endpoint::{ConnectionHandle, Endpoint};
use rtcpeer::peer_connection::{
    ChannelId, Event, IceGatheringState, PeerConnectionState, RtcConfiguration,
    RtcSessionDescription,
};
use rtcpeer::runtime::{SEND_HIGH_WATER, SEND_LOW_WATER};
use rtcpeer_mio::{EventLoop, LoopHandle, SocketConfig};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

/// Longest one step of a connection setup may take before the measure fails.
const STEP_LIMIT: Duration = Duration::from_secs(20);
/// Longest a transfer may take per MiB before the measure fails.
const TRANSFER_LIMIT_PER_MIB: Duration = Duration::from_secs(2);

/// Runs `measure` with the sizes of `options`.
pub fn measure(options: &Options, measure: Measure) -> Result<Figures, Error> {
    match measure {
        Measure::Setup => setup(options.runs).map(Figures::Setup),
        Measure::Throughput => {
            let mut transfers = Vec::new();
            for size in [BULK_MESSAGE, SMALL_MESSAGE] {
                transfers.push(throughput(
                    options.mib << 20,
                    size,
                    options.throughput_buffer_size(),
                )?);
            }
            Ok(Figures::Throughput(transfers))
        }
        Measure::Idle => idle(options.pairs).map(Figures::Idle),
    }
}

/// What a loop's callback or command tells the main thread.
#[derive(Debug)]
enum Note {
    /// A connection was added to the loop's endpoint.
    Added(ConnectionHandle),
    /// Gathering completed: the description to signal.
    Gathered(ConnectionHandle, RtcSessionDescription),
    /// A channel opened.
    Open(ConnectionHandle, ChannelId),
    /// The receiver checked every message, or found one wrong.
    Received(Result<(), String>),
    /// A command or a connection failed.
    Failed(String),
}

/// Sends messages on one channel while the send queue is below the high-water mark.
#[derive(Debug, Default)]
struct Pump {
    channel: Option<(ConnectionHandle, ChannelId)>,
    payloads: Option<Payloads>,
    next: u64,
    count: u64,
}

impl Pump {
    fn run(&mut self, endpoint: &mut Endpoint) -> Result<(), String> {
        let (Some((h, id)), Some(payloads)) = (self.channel, &self.payloads) else {
            return Ok(());
        };
        let pc = endpoint.peer_connection(h).ok_or("sender gone")?;
        let mut channel = pc.data_channel(id).map_err(|e| e.to_string())?;
        while self.next < self.count && channel.buffered_amount() <= SEND_HIGH_WATER {
            channel
                .send_binary(payloads.message(self.next))
                .map_err(|e| e.to_string())?;
            self.next += 1;
        }
        Ok(())
    }
}

/// Checks the messages of one transfer as they arrive.
#[derive(Debug)]
struct Check {
    payloads: Payloads,
    next: u64,
    count: u64,
}

impl Check {
    /// `Some` once the transfer is complete or wrong.
    fn message(&mut self, data: &[u8]) -> Option<Result<(), String>> {
        if let Err(e) = self.payloads.check(self.next, data) {
            return Some(Err(e));
        }
        self.next += 1;
        (self.next == self.count).then_some(Ok(()))
    }
}

/// The state the callback of one loop shares with the main thread's commands.
#[derive(Debug, Default)]
struct Transfers {
    pump: Pump,
    check: Option<Check>,
}

fn lock(t: &Mutex<Transfers>) -> std::sync::MutexGuard<'_, Transfers> {
    t.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A thread that runs one event loop after another: a new side then costs a socket and a
/// loop, not a thread (the setup measure times connections; an application keeps its loop
/// thread).
struct Runner {
    jobs: mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl Runner {
    fn new() -> Result<Self, Error> {
        let (jobs, queue) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("mio-loop".to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job();
                }
            })?;
        Ok(Self { jobs })
    }
}

/// One event loop on its own thread (a fresh one, or a [`Runner`]'s).
struct Side {
    handle: LoopHandle,
    done: Option<mpsc::Receiver<std::io::Result<()>>>,
    notes: mpsc::Receiver<Note>,
    notes_tx: mpsc::Sender<Note>,
    /// Notes received while waiting for another one.
    backlog: Vec<Note>,
    transfers: Arc<Mutex<Transfers>>,
}

impl Side {
    /// Binds the loop's socket on 127.0.0.1 (asking for `buffer_size` bytes of kernel
    /// buffers) and runs the loop on a new thread.
    fn start(buffer_size: usize) -> Result<Self, Error> {
        Self::start_with(buffer_size, |job| {
            std::thread::spawn(job);
            Ok(())
        })
    }

    /// Binds the loop's socket on 127.0.0.1 and runs the loop on `runner`'s thread.
    fn start_on(runner: &Runner) -> Result<Self, Error> {
        Self::start_with(SocketConfig::DEFAULT_BUFFER_SIZE, |job| {
            runner
                .jobs
                .send(job)
                .map_err(|_| "the loop runner thread ended".into())
        })
    }

    fn start_with(
        buffer_size: usize,
        launch: impl FnOnce(Box<dyn FnOnce() + Send>) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let (notes_tx, notes) = mpsc::channel();
        let transfers = Arc::new(Mutex::new(Transfers::default()));
        let tx = notes_tx.clone();
        let shared = transfers.clone();
        let sockets = SocketConfig {
            buffer_size,
            ..SocketConfig::loopback()
        };
        let event_loop = EventLoop::new(&sockets, move |ep, h, event| {
            on_event(ep, h, event, &tx, &shared);
        })?;
        let handle = event_loop.handle();
        let (finished, done) = mpsc::channel();
        launch(Box::new(move || {
            let _ = finished.send(event_loop.run());
        }))?;
        Ok(Self {
            handle,
            done: Some(done),
            notes,
            notes_tx,
            backlog: Vec::new(),
            transfers,
        })
    }

    /// Runs `command` in the loop; its error becomes a `Failed` note.
    fn execute(
        &self,
        command: impl FnOnce(&mut Endpoint, &mpsc::Sender<Note>) -> Result<(), Error> + Send + 'static,
    ) -> Result<(), Error> {
        let tx = self.notes_tx.clone();
        self.handle.execute(move |ep| {
            if let Err(e) = command(ep, &tx) {
                let _ = tx.send(Note::Failed(e.to_string()));
            }
        })?;
        Ok(())
    }

    /// Waits for the first note `pick` accepts, keeping the others for later waits.
    fn wait<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut pick: impl FnMut(&Note) -> Option<T>,
    ) -> Result<T, Error> {
        if let Some(i) = self.backlog.iter().position(|n| pick(n).is_some()) {
            let note = self.backlog.remove(i);
            return Ok(pick(&note).expect("accepted just above"));
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let note = self
                .notes
                .recv_timeout(left)
                .map_err(|_| format!("{what}: nothing within {limit:?}"))?;
            if let Note::Failed(e) = &note {
                return Err(format!("{what}: {e}").into());
            }
            match pick(&note) {
                Some(value) => return Ok(value),
                None => self.backlog.push(note),
            }
        }
    }

    /// Closes every connection of the loop and waits for its thread.
    fn stop(mut self) -> Result<(), Error> {
        self.handle.close()?;
        if let Some(done) = self.done.take() {
            done.recv().map_err(|_| "event loop thread panicked")??;
        }
        Ok(())
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        // On an error path: end the loop so the process can exit.
        let _ = self.handle.close();
    }
}

fn on_event(
    ep: &mut Endpoint,
    h: ConnectionHandle,
    event: Event,
    notes: &mpsc::Sender<Note>,
    transfers: &Mutex<Transfers>,
) {
    let note = match event {
        Event::IceGatheringStateChange(IceGatheringState::Complete) => ep
            .peer_connection(h)
            .and_then(|pc| pc.local_description())
            .map(|desc| Note::Gathered(h, desc)),
        Event::ChannelOpen(id) => Some(Note::Open(h, id)),
        Event::ChannelBufferedAmountLow(_) => lock(transfers).pump.run(ep).err().map(Note::Failed),
        Event::ChannelMessage { data, .. } => {
            let mut t = lock(transfers);
            let result = match t.check.as_mut() {
                Some(check) => check.message(&data),
                None => Some(Err("a message arrived outside a transfer".to_owned())),
            };
            result.map(|r| {
                t.check = None;
                Note::Received(r)
            })
        }
        Event::ConnectionStateChange(PeerConnectionState::Failed) => {
            Some(Note::Failed(format!("connection {h:?} failed")))
        }
        _ => None,
    };
    if let Some(note) = note {
        // The main thread may have given up (an error path); nothing to tell then.
        let _ = notes.send(note);
    }
}

/// Adds one connection to each side, signals offer and answer (non-trickle), and waits
/// until the channel is open on both; returns the offerer's connection and channel.
fn connect(a: &mut Side, b: &mut Side) -> Result<(ConnectionHandle, ChannelId), Error> {
    a.execute(|ep, tx| {
        let h = ep.add_peer_connection(RtcConfiguration::default(), Instant::now())?;
        let pc = ep.peer_connection(h).ok_or("just added")?;
        pc.create_data_channel("bench", Default::default())?;
        let offer = pc.create_offer()?;
        pc.set_local_description(offer)?;
        let _ = tx.send(Note::Added(h));
        Ok(())
    })?;
    let ha = a.wait(STEP_LIMIT, "offerer added", added)?;
    let offer = a.wait(STEP_LIMIT, "offer gathered", |n| gathered(n, ha))?;
    b.execute(move |ep, tx| {
        let h = ep.add_peer_connection(RtcConfiguration::default(), Instant::now())?;
        let pc = ep.peer_connection(h).ok_or("just added")?;
        pc.set_remote_description(offer)?;
        let answer = pc.create_answer()?;
        pc.set_local_description(answer)?;
        let _ = tx.send(Note::Added(h));
        Ok(())
    })?;
    let hb = b.wait(STEP_LIMIT, "answerer added", added)?;
    let answer = b.wait(STEP_LIMIT, "answer gathered", |n| gathered(n, hb))?;
    a.execute(move |ep, _| {
        let pc = ep.peer_connection(ha).ok_or("offerer gone")?;
        Ok(pc.set_remote_description(answer)?)
    })?;
    let channel = a.wait(STEP_LIMIT, "offerer's channel open", |n| opened(n, ha))?;
    b.wait(STEP_LIMIT, "answerer's channel open", |n| opened(n, hb))?;
    Ok((ha, channel))
}

fn added(note: &Note) -> Option<ConnectionHandle> {
    match note {
        Note::Added(h) => Some(*h),
        _ => None,
    }
}

fn gathered(note: &Note, want: ConnectionHandle) -> Option<RtcSessionDescription> {
    match note {
        Note::Gathered(h, desc) if *h == want => Some(desc.clone()),
        _ => None,
    }
}

fn opened(note: &Note, want: ConnectionHandle) -> Option<ChannelId> {
    match note {
        Note::Open(h, id) if *h == want => Some(*id),
        _ => None,
    }
}

fn setup(runs: usize) -> Result<Vec<Duration>, Error> {
    let mut samples = Vec::with_capacity(runs);
    let (runner_a, runner_b) = (Runner::new()?, Runner::new()?);
    for _ in 0..runs {
        let started = Instant::now();
        let mut a = Side::start_on(&runner_a)?;
        let mut b = Side::start_on(&runner_b)?;
        connect(&mut a, &mut b)?;
        samples.push(started.elapsed());
        a.stop()?;
        b.stop()?;
    }
    Ok(samples)
}

fn throughput(total: u64, size: usize, buffer_size: usize) -> Result<Transfer, Error> {
    let mut a = Side::start(buffer_size)?;
    let mut b = Side::start(buffer_size)?;
    let (h, channel) = connect(&mut a, &mut b)?;
    let payloads = Payloads::new(size);
    let messages = total.div_ceil(payloads.size() as u64);
    lock(&b.transfers).check = Some(Check {
        payloads: payloads.clone(),
        next: 0,
        count: messages,
    });
    let cpu_before = cpu_time();
    let udp_before = UdpErrors::read();
    let started = Instant::now();
    let transfers = a.transfers.clone();
    a.execute(move |ep, _| {
        let mut t = lock(&transfers);
        t.pump = Pump {
            channel: Some((h, channel)),
            payloads: Some(payloads),
            next: 0,
            count: messages,
        };
        let pc = ep.peer_connection(h).ok_or("sender gone")?;
        pc.data_channel(channel)?
            .set_buffered_amount_low_threshold(SEND_LOW_WATER);
        Ok(t.pump.run(ep)?)
    })?;
    let limit = TRANSFER_LIMIT_PER_MIB * (total >> 20).max(1) as u32;
    let received = b.wait(limit, "transfer", |n| match n {
        Note::Received(r) => Some(r.clone()),
        _ => None,
    })?;
    received?;
    let elapsed = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let udp = UdpErrors::read().zip(udp_before).map(|(a, b)| a.since(b));
    a.stop()?;
    b.stop()?;
    Ok(Transfer {
        message_bytes: size.max(super::payload::MIN_MESSAGE),
        messages,
        elapsed,
        cpu,
        udp,
    })
}

fn idle(pairs: usize) -> Result<IdleMemory, Error> {
    let before = rss_bytes();
    // k offerer loops and k answerer loops give k * k distinct socket pairs, one per pair.
    let k = (1..)
        .find(|k| k * k >= pairs)
        .expect("some k has k * k >= pairs");
    let mut offerers = (0..k)
        .map(|_| Side::start(SocketConfig::DEFAULT_BUFFER_SIZE))
        .collect::<Result<Vec<_>, _>>()?;
    let mut answerers = (0..k)
        .map(|_| Side::start(SocketConfig::DEFAULT_BUFFER_SIZE))
        .collect::<Result<Vec<_>, _>>()?;
    for p in 0..pairs {
        connect(&mut offerers[p % k], &mut answerers[p / k])?;
    }
    std::thread::sleep(super::async_adapter::IDLE_SETTLE);
    let after = rss_bytes();
    for side in offerers.into_iter().chain(answerers) {
        side.stop()?;
    }
    Ok(IdleMemory {
        pairs,
        before,
        after,
    })
}
