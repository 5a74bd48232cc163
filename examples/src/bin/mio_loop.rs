//! `mio_loop`: the `loopback` exchange (two peers in one process over real UDP on
//! 127.0.0.1, a channel, `--mib` MiB in `--chunk`-byte binary messages checked for order
//! and content, setup time and throughput) driven by a hand-written mio loop.
//!
//! No runtime and no adapter loop: this program owns a `mio::Poll`, the peers'
//! `MioUdpSocket`s and two sans-IO `PeerConnection`s, and calls `handle_input`,
//! `handle_timeout` and `poll_output` itself. Read it top to bottom as the worked example
//! of driving the core from your own loop. The contract it follows:
//!
//! 1. After every input (a datagram, a timeout) and every command (JSEP call, send), drain
//!    `poll_output` until it returns `Timeout(at)`: send each `Transmit` from the socket
//!    whose address is its `source`, act on each `Event` (which may issue more commands,
//!    so drain again), and remember `at`.
//! 2. Then sleep in `Poll::poll` until the earliest `at` or a socket event: readable, or
//!    writable again when datagrams wait for buffer space.
//! 3. Feed what woke you: every queued datagram (mio is edge-triggered: read until the
//!    socket is empty) and, for a peer whose `at` has passed, `handle_timeout`. Go to 1.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin mio_loop -- --mib 64 --chunk 16384
//! ```

use rtcpeer::Transmit;
use rtcpeer::peer_connection::{
    ChannelId, Event, IceGatheringState, Input, Output, PeerConnection, PeerConnectionState,
    RtcConfiguration,
};
use rtcpeer_examples::args::Args;
use rtcpeer_examples::transfer::{payload, progress};
use rtcpeer_mio::mio::{Events, Interest, Poll, Token};
use rtcpeer_mio::{MioUdpSocket, SocketConfig};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The sender keeps at most this many bytes queued on the channel (back-pressure) and
/// refills when `bufferedamountlow` reports the queue fell to `LOW_WATER`.
const HIGH_WATER: usize = 1024 * 1024;
const LOW_WATER: usize = 256 * 1024;
/// Give up when the receiver got nothing for this long (setup included).
const STALL_LIMIT: Duration = Duration::from_secs(30);
const A: usize = 0; // the offerer and sender
const B: usize = 1; // the answerer and receiver

/// One peer: the core connection, its sockets, and datagrams waiting for socket space.
struct Peer {
    pc: PeerConnection,
    sockets: Vec<MioUdpSocket>,
    outbox: VecDeque<Transmit>,
    /// The `Timeout` of the last drain: when the core next wants `handle_timeout`.
    deadline: Instant,
}

impl Peer {
    /// Binds the loopback sockets, registers them as tokens `index << 16 | socket` and
    /// tells the core about them (they are its host candidates).
    fn new(poll: &Poll, index: usize, now: Instant) -> Result<Self, Error> {
        // All of the core's randomness comes from this seed (a fixed one replays a run).
        let mut pc = PeerConnection::new(RtcConfiguration::with_seed(getrandom::u64()?), now)?;
        let mut sockets = MioUdpSocket::bind_all(&SocketConfig::loopback())?;
        for (i, socket) in sockets.iter_mut().enumerate() {
            let interest = Interest::READABLE | Interest::WRITABLE;
            poll.registry()
                .register(socket.source(), Token(index << 16 | i), interest)?;
            pc.add_local_socket(now, socket.local_addr())?;
        }
        let (outbox, deadline) = (VecDeque::new(), now);
        Ok(Self {
            pc,
            sockets,
            outbox,
            deadline,
        })
    }

    /// Step 1 of the contract: drains the core's output into the outbox and `events`.
    fn drain(&mut self, events: &mut Vec<Event>) {
        loop {
            match self.pc.poll_output() {
                Output::Transmit(t) => self.outbox.push_back(t),
                Output::Event(event) => events.push(event),
                Output::Timeout(at) => return self.deadline = at,
            }
        }
    }

    /// Sends queued datagrams in batches of equal source until a socket's buffer is full
    /// (the rest goes out after its next writable event, when this is called again).
    fn flush(&mut self) -> std::io::Result<()> {
        while let Some(source) = self.outbox.front().map(|t| t.source) {
            let run = self
                .outbox
                .iter()
                .take_while(|t| t.source == source)
                .count();
            let Some(socket) = self.sockets.iter().find(|s| s.local_addr() == source) else {
                self.outbox.pop_front(); // no such socket: the core never asks for this
                continue;
            };
            let sent = socket.send_all(&self.outbox.make_contiguous()[..run])?;
            self.outbox.drain(..sent);
            if sent < run {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Step 3: hands every datagram queued on socket `i` (our own token) to the core.
    fn receive(&mut self, i: usize, now: Instant) -> std::io::Result<()> {
        while let Some(batch) = self.sockets[i].recv()? {
            for d in batch.datagrams() {
                let (source, destination, payload) = (d.source, d.destination, d.payload);
                self.pc.handle_input(
                    now,
                    Input::Receive {
                        source,
                        destination,
                        payload,
                    },
                );
            }
        }
        Ok(())
    }
}

/// The application: signalling between the peers, the sender's pump, the receiver's checks.
struct App {
    chunk: usize,
    count: u64,
    sent: u64,
    received: u64,
    channel: Option<ChannelId>,
    started: Instant,
    sending_since: Option<Instant>,
    last_message: Instant,
}

impl App {
    fn on_event(&mut self, side: usize, event: Event, peers: &mut [Peer; 2]) -> Result<(), Error> {
        match (side, event) {
            // Non-trickle signalling: each description travels once gathering is complete,
            // with all of its candidates in it.
            (A, Event::IceGatheringStateChange(IceGatheringState::Complete)) => {
                let offer = peers[A].pc.local_description().ok_or("offer is set")?;
                let b = &mut peers[B].pc;
                b.set_remote_description(offer)?;
                let answer = b.create_answer()?;
                b.set_local_description(answer)?;
            }
            (B, Event::IceGatheringStateChange(IceGatheringState::Complete)) => {
                let answer = peers[B].pc.local_description().ok_or("answer is set")?;
                peers[A].pc.set_remote_description(answer)?;
            }
            (_, Event::ConnectionStateChange(PeerConnectionState::Failed)) => {
                return Err("the connection failed".into());
            }
            (A, Event::ChannelOpen(id)) => {
                let setup = self.started.elapsed().as_secs_f64() * 1e3;
                println!(
                    "setup: {setup:.1} ms (sockets, certificates, ICE, DTLS, SCTP, channel open)"
                );
                self.channel = Some(id);
                self.sending_since = Some(Instant::now());
                self.pump(&mut peers[A].pc)?;
            }
            (A, Event::ChannelBufferedAmountLow(_)) => self.pump(&mut peers[A].pc)?,
            (B, Event::ChannelMessage { data, binary, .. }) => {
                if !binary || data != payload(self.received, self.chunk) {
                    return Err(format!("message {} is wrong", self.received).into());
                }
                self.received += 1;
                self.last_message = Instant::now();
            }
            _ => {}
        }
        Ok(())
    }

    /// Sends messages while the channel's queue is under the high water mark.
    fn pump(&mut self, pc: &mut PeerConnection) -> Result<(), Error> {
        let Some(id) = self.channel else {
            return Ok(());
        };
        let mut channel = pc.data_channel(id)?;
        while self.sent < self.count && channel.buffered_amount() < HIGH_WATER {
            channel.send_binary(payload(self.sent, self.chunk))?;
            self.sent += 1;
        }
        let since = self.sending_since.unwrap_or(self.started);
        progress(
            self.sent * self.chunk as u64,
            self.count * self.chunk as u64,
            since,
        );
        Ok(())
    }

    fn done(&self) -> bool {
        self.channel.is_some() && self.received == self.count
    }
}

/// Step 1 for both peers: drain, react to events, and drain again until no event is left
/// (an event's reaction is a command, whose output must be drained too).
fn settle(peers: &mut [Peer; 2], app: &mut App) -> Result<(), Error> {
    loop {
        let mut quiet = true;
        for side in [A, B] {
            let mut events = Vec::new();
            peers[side].drain(&mut events);
            for event in events {
                quiet = false;
                app.on_event(side, event, peers)?;
            }
        }
        if quiet {
            return Ok(());
        }
    }
}

fn run(total: u64, chunk: usize) -> Result<(), Error> {
    let started = Instant::now();
    let mut poll = Poll::new()?;
    let mut peers = [Peer::new(&poll, A, started)?, Peer::new(&poll, B, started)?];
    let mut app = App {
        chunk,
        count: total.div_ceil(chunk as u64),
        sent: 0,
        received: 0,
        channel: None,
        started,
        sending_since: None,
        last_message: started,
    };
    // Commands before the loop: A's channel and offer. Gathering starts now; its
    // completion event carries the offer to B (see `App::on_event`).
    let a = &mut peers[A].pc;
    let id = a.create_data_channel("loopback", Default::default())?;
    a.data_channel(id)?
        .set_buffered_amount_low_threshold(LOW_WATER);
    let offer = a.create_offer()?;
    a.set_local_description(offer)?;

    let mut events = Events::with_capacity(64);
    loop {
        settle(&mut peers, &mut app)?;
        for peer in &mut peers {
            peer.flush()?;
        }
        if app.done() {
            break;
        }
        if app.last_message.elapsed() > STALL_LIMIT {
            return Err(format!("stalled: nothing received for {STALL_LIMIT:?}").into());
        }
        // Step 2: sleep until the earliest deadline or a socket event.
        let deadline = peers[A].deadline.min(peers[B].deadline);
        let wait = deadline.saturating_duration_since(Instant::now());
        match poll.poll(&mut events, Some(wait)) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => other?,
        }
        // Step 3: feed the datagrams, then the timeouts that are due.
        let now = Instant::now();
        for event in events.iter().filter(|e| e.is_readable()) {
            let Token(token) = event.token();
            if let Some(peer) = peers.get_mut(token >> 16) {
                peer.receive(token & 0xffff, now)?;
            }
        }
        for peer in peers.iter_mut().filter(|p| p.deadline <= now) {
            peer.pc.handle_timeout(now);
        }
    }

    let seconds = app.sending_since.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let bytes = app.count * chunk as u64;
    eprintln!();
    println!(
        "throughput: {:.1} MB/s ({} messages of {} B, {:.2} s), order and content checked",
        bytes as f64 / 1e6 / seconds.max(1e-9),
        app.count,
        chunk,
        seconds
    );
    // Close both and send the closing datagrams (best effort: UDP, no reply awaited).
    for peer in &mut peers {
        peer.pc.close();
        peer.drain(&mut Vec::new());
        peer.flush()?;
    }
    Ok(())
}

/// `--mib N --chunk BYTES`, checked.
fn options() -> Result<(u64, usize), String> {
    let args = Args::parse(std::env::args().skip(1), &[])?;
    let unknown = args.unknown(&["mib", "chunk"]);
    if !unknown.is_empty() {
        return Err(format!("unknown option(s): --{}", unknown.join(", --")));
    }
    let chunk = args.get("chunk", 16384usize)?;
    if !(8..=256 * 1024).contains(&chunk) {
        return Err("--chunk must be within 8..=262144".into());
    }
    Ok((args.get("mib", 16u64)?, chunk))
}

const USAGE: &str = "usage: mio_loop [--mib N (16)] [--chunk BYTES (16384, 8..=262144)]";

fn main() {
    rtcpeer_examples::args::exit_if_help(USAGE);
    rtcpeer_examples::logging::init();
    let (mib, chunk) = options().unwrap_or_else(|e| {
        eprintln!("mio_loop: {e}\n{USAGE}");
        std::process::exit(2);
    });
    if let Err(e) = run(mib << 20, chunk) {
        eprintln!("\nmio_loop: {e}");
        std::process::exit(1);
    }
}
