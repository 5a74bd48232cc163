//! Bandwidth-adaptation scenarios in the simulator: rtcpeer video senders whose encoder
//! follows the send-side estimate (`Event::BandwidthEstimate`), through a bottleneck link
//! with a drop-tail queue, measured as the acceptance table asks: how fast the
//! estimate reaches the capacity, the queuing delay and loss after that, how a capacity
//! drop is followed, how two flows share a link, and whether a bulk data-channel transfer
//! beside a call starves the video. A scenario can also run both peers without
//! transport-wide feedback (REMB only, as older stacks and aiortc speak): then the receiver
//! estimates and the sender's estimate is the REMBs it hears.
//!
//! Everything runs on virtual time with fixed seeds, so a scenario gives the same figures
//! on every run and machine. The `bwe_table` program prints them; the tests assert them.

use rtcpeer::Rng;
use rtcpeer::Transmit;
use rtcpeer::media::{RtpWrite, TrackInfo, TransceiverId, codec};
use rtcpeer::peer_connection::{
    ChannelId, DataChannelInit, Event, PeerConnection, PeerConnectionState, RtcConfiguration,
    SimPeer,
};
use rtcpeer::sdp::MediaKind;
use rtcpeer::sim::{Direction, LinkConfig, NetworkId, Node, NodeId, Sim};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Frames per second of the simulated encoder.
const FPS: u32 = 30;
/// Largest RTP payload the simulated packetizer makes.
const MAX_PAYLOAD: usize = 1100;
/// Payload type of the video (VP8 in the default codec list).
const VP8: u8 = 96;

/// A receiving peer that notes when each RTP packet arrived.
struct TimedPeer {
    peer: SimPeer,
    /// (arrival, write time and sequence number written in the payload, packet bytes)
    arrivals: Vec<(Instant, u64, u16, usize)>,
    /// Data-channel bytes received.
    data_bytes: u64,
}

impl TimedPeer {
    fn note(&mut self, now: Instant) {
        for e in &self.peer.events {
            if let Event::ChannelMessage { data, .. } = e {
                self.data_bytes += data.len() as u64;
            }
            if let Event::Rtp(r) = e {
                let p = r.payload();
                if let (Some(stamp), Some(seq)) = (p.get(..8), p.get(8..10)) {
                    let sent = u64::from_be_bytes(stamp.try_into().expect("8 bytes"));
                    let seq = u16::from_be_bytes(seq.try_into().expect("2 bytes"));
                    self.arrivals.push((now, sent, seq, r.packet.len()));
                }
            }
        }
        self.peer
            .events
            .retain(|e| !matches!(e, Event::Rtp(_) | Event::ChannelMessage { .. }));
    }
}

impl Node for TimedPeer {
    fn handle_receive(&mut self, now: Instant, s: SocketAddr, d: SocketAddr, payload: &[u8]) {
        self.peer.handle_receive(now, s, d, payload);
        self.note(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.peer.handle_timeout(now);
        self.note(now);
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.peer.poll_transmit()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.peer.poll_timeout()
    }
}

/// One call: a sender behind the bottleneck, a receiver beyond it.
struct Flow {
    sender: NodeId,
    receiver: NodeId,
    video: TransceiverId,
    channel: Option<ChannelId>,
    /// The encoder's target: the last estimate announced.
    target_bps: u64,
    /// (time since start, estimate) at every announcement.
    estimates: Vec<(Duration, u64)>,
    next_seq: u16,
    frame: u32,
    /// Bytes the application handed to the data channel.
    data_sent: u64,
    /// Packets written: (sequence number, write time since start).
    written: Vec<(u16, Duration)>,
}

/// What a flow achieved.
#[derive(Debug, Clone, Default)]
pub struct FlowFigures {
    /// When the estimate first reached 85 % of the capacity, from the start.
    pub converged_after: Option<Duration>,
    /// The estimate at the end, bits per second.
    pub final_estimate: u64,
    /// Video received per second over the measured window, bits per second.
    pub video_rate: f64,
    /// Data-channel bytes delivered per second over the run, bits per second.
    pub data_rate: f64,
    /// 95th percentile of the one-way delay beyond the propagation delay, from writing to
    /// arrival (pacer and network queues), over the measured window.
    pub queue_delay_p95: Duration,
    /// Fraction of video packets written in the measured window that never arrived.
    pub loss: f64,
    /// Feedback messages the sender heard: transport-cc, and RFC 8888.
    pub transport_cc_received: u64,
    pub ccfb_received: u64,
}

/// The bottleneck: capacity over time, round trip and queue.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    /// (from this time since the start, capacity in bits per second)
    pub capacity: Vec<(Duration, u64)>,
    pub rtt: Duration,
    /// Depth of the drop-tail queue, in time at the first capacity.
    pub queue: Duration,
}

impl Bottleneck {
    pub fn fixed(bps: u64) -> Self {
        Self {
            capacity: vec![(Duration::ZERO, bps)],
            rtt: Duration::from_millis(50),
            queue: Duration::from_millis(100),
        }
    }

    fn at(&self, t: Duration) -> u64 {
        self.capacity
            .iter()
            .take_while(|(from, _)| *from <= t)
            .last()
            .map_or(self.capacity[0].1, |(_, c)| *c)
    }

    fn link(&self, bps: u64) -> LinkConfig {
        let queue_bytes = (bps as f64 * self.queue.as_secs_f64() / 8.0) as usize;
        LinkConfig::new()
            .latency(self.rtt / 2)
            .bandwidth(bps, queue_bytes.max(3000))
    }
}

/// The congestion feedback the receivers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Feedback {
    /// Transport-wide feedback (the default negotiation).
    #[default]
    TransportCc,
    /// RFC 8888 feedback only: the senders offer `ack ccfb` and no transport-cc extension.
    Ccfb,
    /// REMB only: the senders offer no transport-cc extension, so the receiver's own
    /// estimate, sent as REMB, drives the sender.
    Remb,
}

/// A scenario: flows through one bottleneck for a while.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub bottleneck: Bottleneck,
    pub flows: usize,
    pub feedback: Feedback,
    /// Each flow also pushes a bulk data-channel transfer beside its video.
    pub bulk_data: bool,
    pub duration: Duration,
    /// Figures are taken from this time on (after convergence).
    pub measure_from: Duration,
    pub seed: u64,
}

impl Scenario {
    /// `flows` calls through `bottleneck` for `secs` seconds (each with a bulk data
    /// channel beside its video when `bulk_data`), measured from 5 s on, seed 1.
    pub fn new(bottleneck: Bottleneck, flows: usize, bulk_data: bool, secs: u64) -> Self {
        Self {
            bottleneck,
            flows,
            feedback: Feedback::TransportCc,
            bulk_data,
            duration: Duration::from_secs(secs),
            measure_from: Duration::from_secs(5),
            seed: 1,
        }
    }

    /// The same scenario with RFC 8888 feedback instead of transport-cc.
    pub fn with_ccfb(self) -> Self {
        Self {
            feedback: Feedback::Ccfb,
            ..self
        }
    }

    /// The same scenario with REMB instead of transport-cc.
    pub fn with_remb(self) -> Self {
        Self {
            feedback: Feedback::Remb,
            ..self
        }
    }
}

/// The scenario's outcome: per flow figures, and the estimate's trace of flow 0.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub flows: Vec<FlowFigures>,
    pub estimates: Vec<(Duration, u64)>,
}

impl Outcome {
    /// After `at`, how long until flow 0's estimate was at most `bound`.
    pub fn followed_after(&self, at: Duration, bound: u64) -> Option<Duration> {
        self.estimates
            .iter()
            .find(|(t, e)| *t >= at && *e <= bound)
            .map(|(t, _)| *t - at)
    }
}

struct World {
    sim: Sim,
    start: Instant,
    flows: Vec<Flow>,
    network: NetworkId,
}

fn peer(seed: u64, addr: SocketAddr, now: Instant, feedback: Feedback) -> SimPeer {
    let mut config = RtcConfiguration::with_seed(seed);
    match feedback {
        Feedback::TransportCc => {}
        Feedback::Ccfb => {
            config.codecs = config
                .codecs
                .with_ccfb()
                .without_extension(codec::uri::TRANSPORT_CC);
        }
        Feedback::Remb => {
            config.codecs = config.codecs.without_extension(codec::uri::TRANSPORT_CC);
        }
    }
    let mut pc = PeerConnection::new(config, now).expect("config");
    pc.add_local_socket(now, addr).expect("socket");
    SimPeer::new(pc)
}

impl World {
    fn new(s: &Scenario) -> Self {
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let mut sim = Sim::new(start, Rng::from_u64(s.seed));
        let internet = sim.internet();
        let office = sim.add_routed_network(internet).expect("network");
        let first = s.bottleneck.capacity[0].1;
        sim.set_uplink(office, Direction::Up, s.bottleneck.link(first))
            .expect("uplink");
        sim.set_uplink(
            office,
            Direction::Down,
            LinkConfig::new().latency(s.bottleneck.rtt / 2),
        )
        .expect("downlink");
        let mut world = Self {
            sim,
            start,
            flows: Vec::new(),
            network: office,
        };
        for i in 0..s.flows {
            world.add_flow(i, s, internet);
        }
        world
    }

    fn add_flow(&mut self, i: usize, s: &Scenario, internet: NetworkId) {
        let a_addr = SocketAddr::from(([10, 1, 0, 1 + i as u8], 5000));
        let b_addr = SocketAddr::from(([192, 0, 2, 1 + i as u8], 5000));
        let seed = s.seed * 100 + i as u64 * 2;
        // The sender offers; the receiver answers with what the offer allows.
        let mut a = peer(seed + 1, a_addr, self.start, s.feedback);
        let b = peer(seed + 2, b_addr, self.start, Feedback::TransportCc);
        let video =
            a.pc.add_track(TrackInfo::new(MediaKind::Video, "cam", "s"))
                .expect("track");
        let channel = s.bulk_data.then(|| {
            a.pc.create_data_channel("bulk", DataChannelInit::default())
                .expect("channel")
        });
        a.drain();
        let sender = self.sim.add_node(self.network, a_addr.ip(), a).expect("a");
        let receiver = self
            .sim
            .add_node(
                internet,
                b_addr.ip(),
                TimedPeer {
                    peer: b,
                    arrivals: Vec::new(),
                    data_bytes: 0,
                },
            )
            .expect("b");
        self.flows.push(Flow {
            sender,
            receiver,
            video,
            channel,
            target_bps: 300_000,
            estimates: Vec::new(),
            next_seq: 0,
            frame: 0,
            data_sent: 0,
            written: Vec::new(),
        });
        self.connect(self.flows.len() - 1);
    }

    fn a(&mut self, f: usize) -> &mut SimPeer {
        let id = self.flows[f].sender;
        self.sim.node_mut::<SimPeer>(id)
    }

    fn b(&mut self, f: usize) -> &mut SimPeer {
        let id = self.flows[f].receiver;
        &mut self.sim.node_mut::<TimedPeer>(id).peer
    }

    fn connect(&mut self, f: usize) {
        let offer = {
            let pc = &mut self.a(f).pc;
            let o = pc.create_offer().expect("offer");
            pc.set_local_description(o.clone()).expect("sld");
            o
        };
        let answer = {
            let pc = &mut self.b(f).pc;
            pc.set_remote_description(offer).expect("srd");
            let a = pc.create_answer().expect("answer");
            pc.set_local_description(a.clone()).expect("sld");
            a
        };
        self.a(f).pc.set_remote_description(answer).expect("srd");
        for _ in 0..1000 {
            self.a(f).drain();
            self.b(f).drain();
            let (sa, sb) = (self.flows[f].sender, self.flows[f].receiver);
            self.sim.poke(sa).expect("poke");
            self.sim.poke(sb).expect("poke");
            let until = self.sim.now() + Duration::from_millis(10);
            self.sim.run_until(until, 10_000_000).expect("sim");
            self.trickle(f);
            let up = |p: &PeerConnection| p.connection_state() == PeerConnectionState::Connected;
            let open = self.flows[f].channel.is_none()
                || self
                    .a(f)
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::ChannelOpen(_)));
            if up(&self.a(f).pc) && up(&self.b(f).pc) && open {
                self.a(f).events.clear();
                return;
            }
        }
        panic!("flow {f} did not connect");
    }

    /// Forwards candidates between the two sides of flow `f`.
    fn trickle(&mut self, f: usize) {
        for from_a in [true, false] {
            let events: Vec<Event> = if from_a {
                std::mem::take(&mut self.a(f).events)
            } else {
                std::mem::take(&mut self.b(f).events)
            };
            let mut rest = Vec::new();
            for e in events {
                match e {
                    Event::IceCandidate(c) => {
                        let to = if from_a { self.b(f) } else { self.a(f) };
                        to.pc.add_ice_candidate(c).expect("candidate");
                        to.drain();
                    }
                    other => rest.push(other),
                }
            }
            if from_a {
                self.a(f).events = rest;
            } else {
                self.b(f).events = rest;
            }
        }
    }

    fn elapsed(&self) -> Duration {
        self.sim.now().duration_since(self.start)
    }

    /// Takes flow `f`'s estimate announcements.
    fn hear_estimates(&mut self, f: usize, since: Duration) {
        let t = self.elapsed().saturating_sub(since);
        let events = std::mem::take(&mut self.a(f).events);
        for e in events {
            if let Event::BandwidthEstimate(bps) = e {
                self.flows[f].target_bps = bps;
                self.flows[f].estimates.push((t, bps));
            }
        }
    }

    /// Writes one frame of flow `f` at the encoder's target (less what the data channel
    /// takes, when it is busy), split into RTP packets that carry their write time.
    fn write_frame(&mut self, f: usize, since: Duration) {
        let t = self.elapsed().saturating_sub(since);
        let flow = &self.flows[f];
        let frame_bytes = (flow.target_bps / 8 / u64::from(FPS)).max(200) as usize;
        let stamp = (t.as_nanos() as u64).to_be_bytes();
        let (video, mut seq, frame) = (flow.video, flow.next_seq, flow.frame);
        let packets = frame_bytes.div_ceil(MAX_PAYLOAD);
        let mut written = Vec::with_capacity(packets);
        let pc = &mut self.a(f).pc;
        for i in 0..packets {
            let len = (frame_bytes - i * MAX_PAYLOAD).clamp(10, MAX_PAYLOAD);
            let mut payload = vec![0u8; len];
            payload[..8].copy_from_slice(&stamp);
            payload[8..10].copy_from_slice(&seq.to_be_bytes());
            let ts = frame.wrapping_mul(90_000 / FPS);
            let w = RtpWrite::new(VP8, seq, ts, i + 1 == packets, &payload);
            pc.transceiver(video)
                .expect("video")
                .write_rtp(w)
                .expect("write_rtp");
            written.push((seq, t));
            seq = seq.wrapping_add(1);
        }
        self.a(f).drain();
        let flow = &mut self.flows[f];
        flow.next_seq = seq;
        flow.frame += 1;
        flow.written.extend(written);
    }

    /// Keeps flow `f`'s data channel busy: at least 256 KiB queued.
    fn feed_data(&mut self, f: usize) {
        let Some(id) = self.flows[f].channel else {
            return;
        };
        let mut sent = 0;
        {
            let pc = &mut self.a(f).pc;
            let mut ch = pc.data_channel(id).expect("channel");
            while ch.buffered_amount() < 256 * 1024 {
                ch.send_binary(vec![7u8; 16 * 1024]).expect("send");
                sent += 16 * 1024;
            }
        }
        self.flows[f].data_sent += sent;
        self.a(f).drain();
    }
}

/// Runs `s` and measures it.
pub fn run(s: &Scenario) -> Outcome {
    let mut w = World::new(s);
    let since = w.elapsed();
    let frame = Duration::from_secs(1) / FPS;
    let mut next_frame = w.sim.now();
    let mut capacity = s.bottleneck.capacity[0].1;
    let end = w.sim.now() + s.duration;
    while w.sim.now() < end {
        let t = w.elapsed() - since;
        let now_capacity = s.bottleneck.at(t);
        if now_capacity != capacity {
            capacity = now_capacity;
            w.sim
                .set_uplink(w.network, Direction::Up, s.bottleneck.link(capacity))
                .expect("uplink");
        }
        for f in 0..w.flows.len() {
            w.hear_estimates(f, since);
            w.write_frame(f, since);
            w.feed_data(f);
            let id = w.flows[f].sender;
            w.sim.poke(id).expect("poke");
        }
        next_frame += frame;
        w.sim.run_until(next_frame, 100_000_000).expect("sim");
    }
    measure(&mut w, s, since)
}

fn measure(w: &mut World, s: &Scenario, since: Duration) -> Outcome {
    let mut flows = Vec::new();
    let window = s.duration.saturating_sub(s.measure_from).as_secs_f64();
    let base = s.bottleneck.rtt / 2;
    for f in 0..w.flows.len() {
        let id = w.flows[f].receiver;
        let node = w.sim.node::<TimedPeer>(id);
        let received_data = node.data_bytes;
        let from_ns = s.measure_from.as_nanos() as u64;
        let mut delays: Vec<Duration> = Vec::new();
        let mut bytes = 0usize;
        let mut seen = HashSet::new();
        for &(at, sent, seq, len) in &node.arrivals {
            if sent < from_ns {
                continue;
            }
            let arrived = at.duration_since(w.start).saturating_sub(since);
            let one_way = arrived.saturating_sub(Duration::from_nanos(sent));
            delays.push(one_way.saturating_sub(base));
            bytes += len;
            seen.insert(seq);
        }
        delays.sort();
        let p95 = delays
            .get(delays.len() * 95 / 100)
            .copied()
            .unwrap_or_default();
        let sender_stats = w.a(f).pc.stats().media;
        let flow = &w.flows[f];
        // Packets written in the window that had time to arrive (a second before the end).
        let cutoff = s.duration.saturating_sub(Duration::from_secs(1));
        let expected: Vec<u16> = flow
            .written
            .iter()
            .filter(|(_, t)| *t >= s.measure_from && *t < cutoff)
            .map(|(seq, _)| *seq)
            .collect();
        let lost = expected.iter().filter(|seq| !seen.contains(seq)).count();
        let capacity0 = s.bottleneck.capacity[0].1;
        flows.push(FlowFigures {
            converged_after: flow
                .estimates
                .iter()
                .find(|(_, e)| *e as f64 >= 0.85 * capacity0 as f64)
                .map(|(t, _)| *t),
            final_estimate: flow.target_bps,
            video_rate: bytes as f64 * 8.0 / window,
            data_rate: received_data as f64 * 8.0 / s.duration.as_secs_f64(),
            queue_delay_p95: p95,
            loss: if expected.is_empty() {
                0.0
            } else {
                lost as f64 / expected.len() as f64
            },
            transport_cc_received: sender_stats.transport_feedback_received,
            ccfb_received: sender_stats.ccfb_received,
        });
    }
    Outcome {
        flows,
        estimates: w.flows[0].estimates.clone(),
    }
}
